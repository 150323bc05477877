"""Whole-number shares that add up exactly (the largest-remainder method): quotas in the
synthetic force, and a dip sample stratified by month."""

from __future__ import annotations

import numpy as np


def largest_remainder(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Share ``total`` out in proportion to ``weights``, in whole units that add up exactly."""
    keys = list(weights)
    raw = np.array([weights[k] for k in keys], dtype=float)
    raw = raw / raw.sum() * total
    base = np.floor(raw).astype(int)
    order = np.argsort(-(raw - base), kind="stable")
    base[order[: total - base.sum()]] += 1
    return dict(zip(keys, base.tolist(), strict=True))
