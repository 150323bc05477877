"""Shapes handed to the CLI and the web pages."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict

ScoreName = Literal["rfg", "harm", "vulnerability", "composite"]


class ExplanationPart(BaseModel):
    """One term of a score: the parts of each score add up to it exactly."""

    score: ScoreName
    label: str
    points: int
    crime_ids: list[int] = []
    factor: str | None = None


class ScoreRunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    as_of: dt.date
    config_version: str
    model_id: int | None
    scored_at: dt.datetime
    people: int


class OverrideOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    person_id: int
    include: bool
    reason: str
    created_by: str
    created_at: dt.datetime
    valid_from: dt.date
    until: dt.date
    approved_by: str | None = None
    approved_at: dt.datetime | None = None
    revoked_by: str | None = None
    revoked_at: dt.datetime | None = None
    rejected_by: str | None = None
    rejected_at: dt.datetime | None = None
    decision_reason: str | None = None
    state: Literal["pending", "approved", "rejected", "revoked"] = "pending"


class Explanation(BaseModel):
    person_id: int
    pseudo_id: str
    as_of: dt.date
    config_version: str
    rfg: int
    harm_days: int
    harm_points: int
    risk: float | None
    risk_source: str
    risk_points: int
    ogrs3_1y: float | None
    ogrs3_2y: float | None
    vulnerability: int
    composite: int
    parts: list[ExplanationPart]

    def parts_for(self, score: ScoreName) -> list[ExplanationPart]:
        return [p for p in self.parts if p.score == score]


class SelectionRow(BaseModel):
    person_id: int
    pseudo_id: str
    rank: int
    composite: int
    rfg: int
    harm: int
    risk: float | None
    vulnerability: int
    decision: Literal["adopt", "keep", "exit"]
    reason: str
    #: For an adoption: the classification proposed and the rule that made the person eligible.
    classification: str | None = None
    eligibility: str | None = None
    override: OverrideOut | None = None
    explanation: list[ExplanationPart]


# --- validation and fairness reports ---------------------------------------------------------
# Typed so the web API can declare them as response models; ``model_dump(mode="json")`` gives
# the JSON the CLI prints. Money and percentages go through iom.formatting.

from iom.formatting import percent  # noqa: E402  (kept with the models that use it)


class CalibrationDecile(BaseModel):
    decile: int
    people: int
    mean_predicted: float
    observed: float


class ModelValidation(BaseModel):
    """One model's discrimination and calibration on the held-out people."""

    auc: float
    brier: float
    mean_predicted: float
    calibration: list[CalibrationDecile]


class ModelReport(BaseModel):
    """The force model beside OGRS3 on the same held-out people, after the cut-off."""

    cutoff: dt.date
    follow_up_ends: dt.date
    held_out_people: int
    observed_rate: float
    trained_on: int
    models: dict[str, ModelValidation]

    def summary(self) -> str:
        models = "; ".join(f"{name} AUC {m.auc:.3f}, Brier {m.brier:.4f}" for name, m in self.models.items())
        return (f"Validation at cut-off {self.cutoff} on {self.held_out_people:,} held-out people (follow-up to "
                f"{self.follow_up_ends}, observed rate {percent(self.observed_rate)}): {models}.")


class GroupFairness(BaseModel):
    """One group's rates; None where the group has nobody to measure (e.g. no non-reoffenders)."""

    group: str
    people: int
    selection_rate: float | None
    observed_rate: float | None
    mean_predicted: float | None
    false_positive_rate: float | None
    false_negative_rate: float | None


class AttributeFairness(BaseModel):
    title: str
    groups: list[GroupFairness]
    too_small: list[str]  # shown but not judged
    flags: list[str]


class FairnessAudit(BaseModel):
    """The selection audited by ethnicity, sex and age band; ``flags`` say each disparity in words."""

    people: int
    selected: int
    ratio_threshold: float
    min_group_size: int
    calibration_tolerance: float
    attributes: dict[str, AttributeFairness]
    flags: list[str]
    as_of: dt.date | None = None  # set when audited from the register
    config_version: str | None = None

    def summary(self) -> str:
        when = f" as of {self.as_of}" if self.as_of else ""
        head = f"Fairness audit{when}: {self.people:,} scored, {self.selected:,} selected"
        if not self.flags:
            return f"{head}; no disparity beyond the thresholds."
        n = len(self.flags)
        more = f" (and {n - 1} more)" if n > 1 else ""
        return f"{head}; {n} disparit{'y' if n == 1 else 'ies'} beyond the thresholds. {self.flags[0]}{more}"
