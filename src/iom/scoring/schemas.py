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


class IntervalRate(BaseModel):
    """A rate with its 95% Wilson score interval; ``value`` None where nobody is counted (no
    non-reoffenders for a false positive rate, nobody selected for a predictive value)."""

    events: int
    n: int
    value: float | None
    low: float | None
    high: float | None


class GroupFairness(BaseModel):
    """One group's rates, each with its interval; ``judged`` False when the group is under the
    minimum size (shown, not compared)."""

    group: str
    people: int
    judged: bool
    selection_rate: IntervalRate
    observed_rate: IntervalRate
    false_positive_rate: IntervalRate
    false_negative_rate: IntervalRate
    positive_predictive_value: IntervalRate
    mean_score: float | None  # the mean predicted probability when the score is one


class CalibrationCell(BaseModel):
    """One group in one band of score: who reoffended among people with about the same score."""

    band: int
    scores: str  # the band's range of scores, in words
    group: str
    people: int
    mean_score: float | None
    observed_rate: IntervalRate


class AttributeFairness(BaseModel):
    title: str
    reference: str | None  # the group the others are compared with (the largest judged)
    groups: list[GroupFairness]
    calibration: list[CalibrationCell]
    too_small: list[str]  # shown but not judged
    flags: list[str]  # disparities the intervals support
    unsupported: list[str]  # gaps beyond the ratio that the intervals do not support, said so


class FairnessAudit(BaseModel):
    """A selection audited by group; ``flags`` say each disparity in words. From the register
    (``as_of``) or from a file of scores (``source``, ``threshold``)."""

    people: int
    selected: int
    ratio_threshold: float
    min_group_size: int
    calibration_tolerance: float
    confidence: float
    attributes: dict[str, AttributeFairness]
    flags: list[str]
    as_of: dt.date | None = None  # set when audited from the register
    config_version: str | None = None
    source: str | None = None  # the file audited
    threshold: float | None = None  # a score at or above it counts as selected
    score_is_probability: bool = True

    def summary(self) -> str:
        when = f" as of {self.as_of}" if self.as_of else (f" of {self.source}" if self.source else "")
        head = f"Fairness audit{when}: {self.people:,} scored, {self.selected:,} selected"
        if not self.flags:
            return f"{head}; no disparity that the intervals support."
        n = len(self.flags)
        more = f" (and {n - 1} more)" if n > 1 else ""
        return f"{head}; {n} disparit{'y' if n == 1 else 'ies'} the intervals support. {self.flags[0]}{more}"
