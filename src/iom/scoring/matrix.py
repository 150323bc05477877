"""The risk matrix (RFG/RFGV) and harm: written once, as Ibis expressions, in
``iom.warehouse.matrix``; here, harm's scaling to points, which the scores apply afterwards."""

from __future__ import annotations

from iom.scoring.config import ScoringConfig
from iom.warehouse.matrix import counted, person_scores, person_scores_sql

__all__ = ["counted", "harm_points", "person_scores", "person_scores_sql"]


def harm_points(harm_days, config: ScoringConfig):
    """Harm days scaled to 0-100 whole points (works on scalars and numpy arrays)."""
    import numpy as np

    full = config.harm.days_for_full_points
    return np.minimum(100, np.floor(np.asarray(harm_days, dtype=float) * 100 / full + 0.5)).astype(int)
