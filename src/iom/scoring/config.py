"""Scoring configuration: weights, bands and look-backs live in versioned TOML, not code."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from iom.config import Settings
from iom.errors import UserError

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_VERSION = "scoring-v1"


class RecencyBand(BaseModel):
    months: int = Field(gt=0)
    multiplier: int = Field(ge=0)


class FrequencyBand(BaseModel):
    at_least: int = Field(gt=0)
    points: int = Field(ge=0)


class Victims(BaseModel):
    points_per_victim: int = Field(ge=0)


class Matrix(BaseModel):
    lookback_months: int = Field(gt=0)
    involvements: list[Literal["suspect", "offender"]] = Field(min_length=1)
    exclude_outcomes: list[str] = []
    gravity_points: dict[int, int]
    recency: list[RecencyBand]
    frequency: list[FrequencyBand]
    victims: Victims

    @field_validator("recency")
    @classmethod
    def _recency_sorted(cls, bands: list[RecencyBand]) -> list[RecencyBand]:
        return sorted(bands, key=lambda b: b.months)

    @field_validator("frequency")
    @classmethod
    def _frequency_sorted(cls, bands: list[FrequencyBand]) -> list[FrequencyBand]:
        return sorted(bands, key=lambda b: b.at_least)

    @field_validator("gravity_points")
    @classmethod
    def _all_gravities(cls, points: dict[int, int]) -> dict[int, int]:
        if sorted(points) != [1, 2, 3, 4]:
            raise ValueError("gravity_points needs exactly the gravities 1, 2, 3 and 4")
        return points


class Harm(BaseModel):
    days_for_full_points: int = Field(gt=0)


class Vulnerability(BaseModel):
    lookback_months: int = Field(gt=0)
    under_25_points: int = Field(ge=0)
    victimisation_points_per_crime: int = Field(ge=0)
    victimisation_max_points: int = Field(ge=0)
    max_points: int = Field(gt=0)
    markers: dict[str, int]


class Selection(BaseModel):
    harm_weight: float = Field(ge=0)
    risk_weight: float = Field(ge=0)
    vulnerability_weight: float = Field(ge=0)
    exit_after_months: int = Field(gt=0)


class ModelSettings(BaseModel):
    follow_up_months: int = 12
    waiting_months: int = 6


class Fairness(BaseModel):
    ratio_threshold: float = Field(default=0.8, gt=0, le=1)
    min_group_size: int = Field(default=30, ge=1)
    calibration_tolerance: float = Field(default=0.05, gt=0)


class ScoringConfig(BaseModel):
    version: str = Field(min_length=1, max_length=40)
    description: str = ""
    matrix: Matrix
    harm: Harm
    vulnerability: Vulnerability
    selection: Selection
    model: ModelSettings = ModelSettings()
    fairness: Fairness = Fairness()


def parse_config(text: str, *, source: str = "config") -> ScoringConfig:
    try:
        return ScoringConfig.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{source} is not valid TOML: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise UserError(f"{source} is not a valid scoring config: {problems}") from None


def load_config(name_or_path: str | Path | None = None) -> ScoringConfig:
    """A shipped version by name (e.g. "scoring-v1"), or a TOML file path; default the latest."""
    if isinstance(name_or_path, ScoringConfig):
        return name_or_path
    if name_or_path is None:
        return _shipped(DEFAULT_VERSION)
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.exists():
        return parse_config(path.read_text(), source=str(path))
    if (DATA_DIR / f"{name_or_path}.toml").exists():
        return _shipped(str(name_or_path))
    known = ", ".join(p.stem for p in sorted(DATA_DIR.glob("scoring-*.toml")))
    raise UserError(f"no scoring config {str(name_or_path)!r}: give a .toml file or one of {known}")


@lru_cache
def _shipped(name: str) -> ScoringConfig:
    return parse_config((DATA_DIR / f"{name}.toml").read_text(), source=f"{name}.toml")


class OverridePolicy(BaseModel):
    """What an override must meet (``data/override-policy-v1.toml``)."""

    model_config = ConfigDict(extra="forbid")

    version: str
    source: str
    need_approval: bool = True
    reason_min_chars: int = Field(ge=1)
    max_months_ahead: int = Field(ge=1)


DEFAULT_OVERRIDE_POLICY = DATA_DIR / "override-policy-v1.toml"


@lru_cache
def override_policy(path: str | None = None) -> OverridePolicy:
    """The policy in ``path``, else the setting ``IOM_OVERRIDE_POLICY``, else the shipped default."""
    chosen = Path(path or Settings().override_policy or DEFAULT_OVERRIDE_POLICY)
    try:
        return OverridePolicy.model_validate(tomllib.loads(chosen.read_text()))
    except OSError as exc:
        raise UserError(f"cannot read the override policy {chosen}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise UserError(f"{chosen} is not a valid override policy: {exc}") from None
