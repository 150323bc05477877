"""What every part of scoring shares."""

from __future__ import annotations

import datetime as dt

import numpy as np

from iom.scoring.config import ScoringConfig, load_config


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_config(config) -> ScoringConfig:
    """A loaded config from a config, a shipped version name, a path, or None (the default)."""
    return config if isinstance(config, ScoringConfig) else load_config(config)


def round_half_up(x) -> np.ndarray:
    """Half-up rounding to whole points (numpy rounds halves to even)."""
    return np.floor(np.asarray(x, dtype=float) + 0.5).astype(int)
