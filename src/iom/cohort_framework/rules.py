"""The cohort framework's rules as data: eligibility per classification, de-selection and
workload (``data/*.toml``, each naming its source)."""

from __future__ import annotations

from pydantic import Field, model_validator

from iom.cohorts.models import OFFENDER_TYPES, RISK_LEVELS
from iom.rules import RuleFile, RuleRow, load_rules


class EligibilityRule(RuleRow):
    classification: str
    name: str
    source: str
    min_age: int | None = Field(default=None, ge=0, le=120)
    max_age: int | None = Field(default=None, ge=0, le=120)
    offence_classifications: list[str] = []
    offence_groups: list[str] = []
    min_offences: int = Field(default=1, ge=1, le=1000)
    within_months: int | None = Field(default=None, ge=1, le=240)
    risk_levels: list[str] | None = None
    mappa_levels: list[int] | None = None
    markers: list[str] = []
    nominated: bool = False

    @model_validator(mode="after")
    def _sound(self) -> EligibilityRule:
        if self.risk_levels and set(self.risk_levels) - set(RISK_LEVELS):
            raise ValueError(f"rule {self.name!r} names unknown risk levels")
        if self.mappa_levels and set(self.mappa_levels) - {1, 2, 3}:
            raise ValueError(f"rule {self.name!r}: MAPPA levels are 1, 2 or 3")
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            raise ValueError(f"rule {self.name!r}: min_age is above max_age")
        if self.nominated and (self.offence_classifications or self.offence_groups or self.markers
                               or self.mappa_levels or self.risk_levels or self.within_months):
            raise ValueError(f"rule {self.name!r}: a nominated rule has no other conditions")
        needs_window = bool(self.offence_classifications or self.offence_groups) or self.min_offences > 1
        if needs_window and self.within_months is None:
            raise ValueError(f"rule {self.name!r}: offence conditions need within_months")
        return self

    @property
    def counts_offences(self) -> bool:
        return self.within_months is not None


class EligibilityRules(RuleFile):
    rule: list[EligibilityRule] = Field(min_length=1)

    def for_classification(self, code: str) -> list[EligibilityRule]:
        return [r for r in self.rule if r.classification == code]

    @property
    def classifications(self) -> list[str]:
        """In the file's order of preference, each once."""
        return list(dict.fromkeys(r.classification for r in self.rule))


class DeselectionRules(RuleFile):
    no_offence_months: int = Field(ge=1, le=240)
    lowered_reviews: int = Field(ge=1, le=20)
    custody_months: int = Field(ge=1, le=240)
    youth_until: int = Field(ge=10, le=25)


class WorkloadRules(RuleFile):
    points: dict[str, dict[str, int]]
    unassessed_level: str
    capacity_points: int = Field(ge=1, le=100_000)

    @model_validator(mode="after")
    def _every_cell(self) -> WorkloadRules:
        if sorted(self.points) != sorted(OFFENDER_TYPES):
            raise ValueError(f"points needs a table for each offender type: {', '.join(OFFENDER_TYPES)}")
        for kind, levels in self.points.items():
            if sorted(levels) != sorted(RISK_LEVELS) or min(levels.values()) < 1:
                raise ValueError(f"points.{kind} needs a positive number for each of {', '.join(RISK_LEVELS)}")
        if self.unassessed_level not in RISK_LEVELS:
            raise ValueError(f"unassessed_level must be one of {', '.join(RISK_LEVELS)}")
        return self

    def case_points(self, offender_type: str | None, level: str | None) -> int:
        return self.points.get(offender_type or "Core", self.points["Core"])[level or self.unassessed_level]


def eligibility_rules() -> EligibilityRules:
    return load_rules(EligibilityRules, "cohort_framework", "eligibility-v1.toml")


def deselection_rules() -> DeselectionRules:
    return load_rules(DeselectionRules, "cohort_framework", "deselection-v1.toml")


def workload_rules() -> WorkloadRules:
    return load_rules(WorkloadRules, "cohort_framework", "workload-v1.toml")
