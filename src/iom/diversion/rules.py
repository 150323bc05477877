"""The diversion rule files: out-of-court disposal policies (tiers, eligibility, breach, pilots,
the gravity matrix) and the scrutiny panel's categories and verdicts, validated on reading."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from iom.errors import FieldError
from iom.rules import RuleFile, RuleRow, load_rules

DOMAIN = "diversion"
MODES = ("summary", "either way", "indictable")
FLAGS = ("domestic_abuse", "hate")
CONDITION_KINDS = ("rehabilitative", "reparative", "punitive", "restrictive", "attendance")


class Factor(RuleRow):
    code: str = Field(pattern=r"^[a-z_]+$")
    label: str
    step: Literal[-1, 1]


class Gravity(RuleRow):
    points_to: dict[int, list[str]]
    factors: list[Factor] = Field(min_length=1)

    @model_validator(mode="after")
    def _complete(self) -> Gravity:
        if sorted(self.points_to) != [1, 2, 3, 4]:
            raise ValueError("gravity.points_to needs each gravity 1, 2, 3 and 4")
        return self

    def factor(self, code: str) -> Factor:
        for f in self.factors:
            if f.code == code:
                return f
        raise FieldError(f"no gravity factor {code!r}: choose from {', '.join(f.code for f in self.factors)}",
                         field="oocd-factors")


class Tier(RuleRow):
    code: str = Field(pattern=r"^[a-z_]+$")
    name: str
    modes_of_trial: list[Literal["summary", "either way", "indictable"]]
    modes_inspector: list[Literal["summary", "either way", "indictable"]] = []
    prior_limit: int | None = Field(None, ge=1)
    prior_years: int | None = Field(None, ge=1)
    requires_intervention: bool = False
    refuse_if_custody_expected: bool = False
    excluded_flags: list[Literal["domestic_abuse", "hate"]] = []
    breach: Literal["none", "prosecuted", "penalty"]
    conditions_allowed: bool = True

    @model_validator(mode="after")
    def _prior(self) -> Tier:
        if (self.prior_limit is None) != (self.prior_years is None):
            raise ValueError(f"{self.code}: prior_limit and prior_years go together")
        return self


class Policy(RuleRow):
    code: str
    name: str
    source: str
    indictable_only: Literal["refused", "dpp_consent"]
    tier: list[Tier] = Field(min_length=1)

    def get(self, code: str) -> Tier:
        for t in self.tier:
            if t.code == code:
                return t
        raise FieldError(f"the {self.name} has no tier {code!r}: choose one of {', '.join(t.code for t in self.tier)}",
                         field="oocd-tier")


class Pilot(RuleRow):
    code: str
    name: str
    lifts: Literal["domestic_abuse", "hate"]
    tiers: list[str]
    starts_on: dt.date
    enabled: bool
    source: str

    def lifts_on(self, flag: str, tier: str, day: dt.date) -> bool:
        return self.enabled and self.lifts == flag and tier in self.tiers and day >= self.starts_on


class Policies(RuleFile):
    default_policy: str
    youth_under: int = Field(ge=10, le=21)
    youth_provider: str
    default_condition_days: int = Field(ge=1)
    gravity: Gravity
    policy: list[Policy] = Field(min_length=1)
    pilot: list[Pilot] = []

    @model_validator(mode="after")
    def _known(self) -> Policies:
        codes = [p.code for p in self.policy]
        if self.default_policy not in codes:
            raise ValueError(f"default_policy {self.default_policy!r} is not one of {codes}")
        tiers = {t.code for p in self.policy for t in p.tier} | {"charge"}
        for g, points in self.gravity.points_to.items():
            unknown = set(points) - tiers
            if unknown:
                raise ValueError(f"gravity {g} points to unknown tiers {sorted(unknown)}")
        return self

    def get(self, code: str | None) -> Policy:
        wanted = code or self.default_policy
        for p in self.policy:
            if p.code == wanted:
                return p
        raise FieldError(f"no policy {wanted!r}: choose one of {', '.join(p.code for p in self.policy)}",
                         field="oocd-policy")


def policies() -> Policies:
    return load_rules(Policies, DOMAIN, "policies-v1.toml")


# --- the scrutiny panel ----------------------------------------------------------------------------

class Verdict(RuleRow):
    code: str
    label: str
    counts_as_appropriate: bool


class Category(RuleRow):
    code: str = Field(pattern=r"^[a-z_]+$")
    name: str
    flags: list[Literal["domestic_abuse", "hate"]] = []
    offence_groups: list[str] = []
    subgroups: list[str] = []

    @model_validator(mode="after")
    def _something(self) -> Category:
        if not (self.flags or self.offence_groups or self.subgroups):
            raise ValueError(f"category {self.code} needs flags, offence_groups or subgroups")
        return self


class ScrutinyRules(RuleFile):
    window_months: int = Field(ge=1, le=24)
    verdicts: list[Verdict] = Field(min_length=2)
    category: list[Category] = Field(min_length=1)

    def get(self, code: str) -> Category:
        for c in self.category:
            if c.code == code:
                return c
        raise FieldError(f"no scrutiny category {code!r}: choose one of {', '.join(c.code for c in self.category)}",
                         field="scrutiny-category")

    def verdict(self, code: str) -> Verdict:
        for v in self.verdicts:
            if v.code == code:
                return v
        raise FieldError(f"the verdict is one of {', '.join(v.code for v in self.verdicts)}, not {code!r}",
                         field="scrutiny-verdict")


def scrutiny_rules() -> ScrutinyRules:
    return load_rules(ScrutinyRules, DOMAIN, "scrutiny-v1.toml")
