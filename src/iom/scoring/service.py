"""Scoring and selection: the functions the commands, pages and other domains call.

Scores are computed over whole tables (``compute``), stored per as-of date and config version
(``runs``), explained on demand from the same expressions (``explain``), ranked within each
NPU's capacity (``selection``), with professional overrides (``overrides``; their state
changes run through ``flows``) and a force model trained only when asked (``training``)."""

from iom.scoring.compute import composite_parts, compute_scores, crime_parts_frame, matrix_scores
from iom.scoring.explain import explain, explanation_parts
from iom.scoring.overrides import (
    active_overrides,
    approve_override,
    check_decision,
    check_new_override,
    check_override,
    check_reason,
    check_rejection,
    check_revocation,
    create_override,
    get_override,
    list_overrides,
    reject_override,
    revoke_override,
)
from iom.scoring.runs import awaits_scoring, find_run, get_run, score_all, stored_run, stored_scores
from iom.scoring.selection import npu_capacity, npu_codes_with_capacity, select_for_npu, selection_page, selection_rows
from iom.scoring.training import ALGORITHM, NoModel, reference_date_or_none, model_for, model_report, store_model, train_model

__all__ = [
    "ALGORITHM", "NoModel", "active_overrides", "approve_override", "awaits_scoring", "check_decision",
    "check_new_override", "check_override", "check_reason", "check_rejection", "check_revocation",
    "reject_override", "composite_parts", "compute_scores", "create_override", "crime_parts_frame", "explain",
    "explanation_parts", "find_run", "get_override", "get_run", "reference_date_or_none", "list_overrides", "matrix_scores",
    "model_for", "model_report", "npu_capacity", "npu_codes_with_capacity", "revoke_override", "score_all",
    "select_for_npu", "selection_page", "selection_rows", "store_model", "stored_run", "stored_scores", "train_model",
]
