"""The provider directory and its eligibility rules, read from ``data/providers-v1.toml``.

A rule is one small declarative condition with the words shown when a referral breaks it;
``Provider.broken`` says which rules a person's facts break. The facts (age, sex, home NPU,
current markers, the latest needs assessment) are gathered elsewhere (``service.person_facts``,
the synthetic step), so the rules stay pure and are checked the same way everywhere."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field, model_validator

from iom.casework.pathways import pathways
from iom.dates import age_on
from iom.errors import FieldError
from iom.reference import read_reference
from iom.rules import RuleFile, RuleRow, load_rules

#: Need levels in order of severity (``iom.casework.models.NEED_LEVELS``).
LEVEL_ORDER = {"none": 0, "standard": 1, "severe": 2}
CONDITIONS = ("min_age", "max_age_under", "sexes", "home_npus", "requires_markers", "min_needs")


@dataclass(frozen=True)
class PersonFacts:
    """What the rules look at, for one person on one day."""

    age: int
    sex: str
    home_npu: str | None
    #: Vulnerability markers current on the day.
    markers: frozenset[str] = frozenset()
    #: The latest needs assessment's ratings on or before the day ({pathway: level}); None
    #: when there is none.
    needs: dict[str, str] | None = field(default=None, hash=False)


def facts_on(*, born: dt.date, sex: str, home_npu: str | None, markers, assessments, on: dt.date) -> PersonFacts:
    """A person's facts on ``on`` from their rows: ``markers`` as (code, started_on, ended_on
    or None), ``assessments`` as (assessed_on, id, {pathway: level}). A marker is current from
    its start until the day it ends; the latest assessment is the newest on or before ``on``."""
    current = frozenset(code for code, start, end in markers if start <= on and (end is None or end > on))
    done = [a for a in assessments if a[0] <= on]
    needs = max(done, key=lambda a: (a[0], a[1]))[2] if done else None
    return PersonFacts(age=age_on(born, on), sex=sex, home_npu=home_npu, markers=current, needs=needs)


class Ineligible(FieldError):
    """A referral the provider's rules refuse: every broken rule's words, each in ``reasons``."""

    def __init__(self, provider: Provider, reasons: list[str]) -> None:
        super().__init__(f"{provider.name} cannot take this referral: {'; '.join(reasons)}", field="provider")
        self.reasons = reasons


class MinNeeds(RuleRow):
    pathways: list[str] = Field(min_length=1)
    level: Literal["standard", "severe"] = "standard"
    count: int = Field(ge=1)

    @model_validator(mode="after")
    def _reachable(self) -> MinNeeds:
        if self.count > len(self.pathways):
            raise ValueError(f"count {self.count} is more than the {len(self.pathways)} pathways listed")
        return self

    def met_by(self, needs: dict[str, str] | None) -> bool:
        if not needs:
            return False
        floor = LEVEL_ORDER[self.level]
        return sum(LEVEL_ORDER.get(needs.get(p, "none"), 0) >= floor for p in self.pathways) >= self.count


class Rule(RuleRow):
    """Exactly one condition, and the sentence a refusal shows."""

    words: str = Field(min_length=5, max_length=300)
    min_age: int | None = Field(None, ge=0, le=120)
    max_age_under: int | None = Field(None, ge=1, le=120)
    sexes: list[Literal["M", "F", "U"]] | None = Field(None, min_length=1)
    home_npus: list[str] | None = Field(None, min_length=1)
    requires_markers: list[str] | None = Field(None, min_length=1)
    min_needs: MinNeeds | None = None

    @model_validator(mode="after")
    def _one_condition(self) -> Rule:
        given = [name for name in CONDITIONS if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"a rule holds exactly one condition of {', '.join(CONDITIONS)}; this one has "
                             f"{', '.join(given) or 'none'} (words: {self.words!r})")
        return self

    @property
    def kind(self) -> str:
        return next(name for name in CONDITIONS if getattr(self, name) is not None)

    def holds(self, facts: PersonFacts) -> bool:
        if self.min_age is not None:
            return facts.age >= self.min_age
        if self.max_age_under is not None:
            return facts.age < self.max_age_under
        if self.sexes is not None:
            return facts.sex in self.sexes
        if self.home_npus is not None:
            return facts.home_npu in self.home_npus
        if self.requires_markers is not None:
            return set(self.requires_markers) <= facts.markers
        assert self.min_needs is not None
        return self.min_needs.met_by(facts.needs)


class Provider(RuleRow):
    code: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=40)
    name: str = Field(min_length=2, max_length=120)
    pathways: list[str] = Field(min_length=1)
    areas: str
    description: str = ""
    source: str
    rules: list[Rule] = []
    #: The domain whose own criteria come first and which alone makes these referrals (e.g.
    #: ``domestic_abuse`` for DRIVE and CARA); None for an ordinary provider.
    through: str | None = None

    def broken(self, facts: PersonFacts) -> list[str]:
        """The words of every rule these facts break (none: eligible)."""
        return [rule.words for rule in self.rules if not rule.holds(facts)]

    def serves(self, pathway: str) -> bool:
        return pathway in self.pathways


class Directory(RuleFile):
    provider: list[Provider] = Field(min_length=1)

    @model_validator(mode="after")
    def _known_codes(self) -> Directory:
        codes = [p.code for p in self.provider]
        if len(set(codes)) != len(codes):
            raise ValueError("provider codes must be unique")
        known_pathways = {p.code for p in pathways().pathway}
        known_markers = {row["code"] for row in read_reference("register", "vulnerability_markers")}
        known_npus = {row["code"] for row in read_reference("register", "units") if row["kind"] == "npu"}
        for p in self.provider:
            unknown = [x for x in p.pathways if x not in known_pathways]
            for rule in p.rules:
                unknown += [x for x in (rule.min_needs.pathways if rule.min_needs else []) if x not in known_pathways]
                if rule.requires_markers and not set(rule.requires_markers) <= known_markers:
                    raise ValueError(f"{p.code}: unknown marker in {rule.requires_markers} (known: {sorted(known_markers)})")
                if rule.home_npus and not set(rule.home_npus) <= known_npus:
                    raise ValueError(f"{p.code}: unknown NPU in {rule.home_npus} (known: {sorted(known_npus)})")
            if unknown:
                raise ValueError(f"{p.code}: unknown pathway {unknown[0]!r} (known: {sorted(known_pathways)})")
        return self

    def get(self, code: str, *, field: str = "provider") -> Provider:
        """The provider ``code`` names, or a refusal listing the known ones."""
        for p in self.provider:
            if p.code == code:
                return p
        raise FieldError(f"no provider {code!r} in the directory: choose one of {', '.join(p.code for p in self.provider)}",
                         field=field)

    def names(self) -> dict[str, str]:
        return {p.code: p.name for p in self.provider}


def directory() -> Directory:
    return load_rules(Directory, "referrals", "providers-v1.toml")
