"""The cohorts' rules as data: review intervals per risk level and the lead-agency rule."""

from __future__ import annotations

import datetime as dt

from pydantic import Field, model_validator

from iom.cohorts.models import LEAD_AGENCIES, RISK_LEVELS
from iom.rules import RuleFile, RuleRow, load_rules


class ReviewIntervals(RuleFile):
    days: dict[str, int]

    @model_validator(mode="after")
    def _every_level(self) -> ReviewIntervals:
        if sorted(self.days) != sorted(RISK_LEVELS) or min(self.days.values()) < 1:
            raise ValueError(f"days needs a positive interval for each of {', '.join(RISK_LEVELS)}")
        return self


def review_intervals() -> ReviewIntervals:
    return load_rules(ReviewIntervals, "cohorts", "review-intervals-v1.toml")


def next_review_due(level: str | None, since: dt.date | None) -> dt.date | None:
    """When a person reviewed (or assessed) at ``level`` on ``since`` is next due."""
    if level is None or since is None:
        return None
    days = review_intervals().days
    return since + dt.timedelta(days=days.get(level, max(days.values())))


class LeadAgencyRule(RuleRow):
    name: str
    age_under: int | None = None
    risk_levels: list[str] | None = None
    agencies: list[str] = Field(min_length=1)
    reason: str

    def matches(self, *, age: float, risk_level: str | None) -> bool:
        if self.age_under is not None and not age < self.age_under:
            return False
        return self.risk_levels is None or risk_level in self.risk_levels


class LeadAgencyRules(RuleFile):
    rule: list[LeadAgencyRule] = Field(min_length=1)

    @model_validator(mode="after")
    def _known_agencies(self) -> LeadAgencyRules:
        for r in self.rule:
            unknown = set(r.agencies) - set(LEAD_AGENCIES)
            if unknown:
                raise ValueError(f"rule {r.name!r} names unknown agencies: {', '.join(sorted(unknown))}")
            if r.risk_levels and set(r.risk_levels) - set(RISK_LEVELS):
                raise ValueError(f"rule {r.name!r} names unknown risk levels")
        if self.rule[-1].age_under is not None or self.rule[-1].risk_levels is not None:
            raise ValueError("the last rule must match everyone (no age_under, no risk_levels)")
        return self

    def applying(self, *, age: float, risk_level: str | None) -> LeadAgencyRule:
        """The first rule that matches a person of this age and risk level."""
        return next(r for r in self.rule if r.matches(age=age, risk_level=risk_level))


def lead_agency_rules() -> LeadAgencyRules:
    return load_rules(LeadAgencyRules, "cohorts", "lead-agency-v1.toml")
