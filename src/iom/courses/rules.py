"""The course catalogue (``data/courses-v1.toml``), validated on reading: a course's provider,
dates, funding, format, languages, group size, venues, eligibility and evaluation."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from iom.errors import FieldError
from iom.rules import RuleFile, RuleRow, load_rules

DOMAIN = "courses"
#: What a course evaluation can count in the follow-up (``iom.warehouse.follow_up`` says how).
OUTCOME_NAMES = ("reoffend", "violent", "alcohol", "da_offence", "da_incident")
ROUTES = ("oocd", "plan", "voluntary")


class Eligibility(RuleRow):
    offence_groups: list[str] = []
    alcohol_related: bool | None = None
    domestic_abuse: bool | None = None
    max_gravity: int | None = Field(None, ge=1, le=4)
    da_programme: str | None = None


class CourseEvaluation(RuleRow):
    control: Literal["recorded", "randomised"]
    trial: str | None = None
    ratio: list[int] = [1, 1]
    outcomes: list[Literal["reoffend", "violent", "alcohol", "da_offence", "da_incident"]] = Field(min_length=1)
    #: The seed paper's table for this course (``iom.evaluation.seed_tables``), compared cell by cell.
    seed_table: str | None = None

    @model_validator(mode="after")
    def _trial(self) -> CourseEvaluation:
        if (self.control == "randomised") != (self.trial is not None):
            raise ValueError("a randomised evaluation names its trial, and only it does")
        if len(self.ratio) != 2 or min(self.ratio) < 1:
            raise ValueError("ratio is two whole numbers of at least 1: control, then course")
        return self


class Published(RuleRow):
    referred: int = Field(ge=0)
    completion: str = Field(pattern=r"^\d+(\.\d+)?%$")
    table: str
    note: str | None = None


class Course(RuleRow):
    code: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    name: str
    provider: str
    pathway: str
    since: dt.date
    ended_on: dt.date | None = None
    funding: str
    funded_until: dt.date | None = None
    pay_to_attend: bool
    formats: list[str] = Field(min_length=1)
    languages: list[str] = Field(min_length=1)
    group_min: int = Field(ge=1)
    group_max: int = Field(ge=1)
    places_per_month: int = Field(ge=1)
    venues: list[str] = Field(min_length=1)
    description: str
    source: str
    eligibility: Eligibility
    evaluation: CourseEvaluation | None = None
    published: Published | None = None

    @model_validator(mode="after")
    def _sizes(self) -> Course:
        if self.group_min > self.group_max:
            raise ValueError(f"{self.code}: group_min is above group_max")
        if self.ended_on is not None and self.ended_on < self.since:
            raise ValueError(f"{self.code}: ended before it began")
        return self

    @property
    def group(self) -> bool:
        """Run as a group (more than one person at a time): an interpreter would disrupt it."""
        return self.group_max > 1

    def running_on(self, day: dt.date) -> bool:
        return self.since <= day and (self.ended_on is None or day <= self.ended_on)


class Catalogue(RuleFile):
    referral_routes: list[Literal["oocd", "plan", "voluntary"]]
    esol_provider: str
    places_window_months: int = Field(ge=1)
    course: list[Course] = Field(min_length=1)
    #: ISO 639-1 code → the language's name in English.
    languages: dict[str, str] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Catalogue:
        codes = [c.code for c in self.course]
        if len(set(codes)) != len(codes):
            raise ValueError("course codes must be unique")
        for c in self.course:
            unknown = [code for code in c.languages if code not in self.languages]
            if unknown:
                raise ValueError(f"{c.code}: language {unknown[0]!r} is not in [languages]")
        return self

    def language(self, code: str, *, field: str = "interpreter") -> str:
        """The language's name, or a refusal naming the codes known."""
        try:
            return self.languages[code.strip().lower()]
        except KeyError:
            raise FieldError(f"no language {code!r}: give an ISO 639-1 code ({', '.join(self.languages)})",
                             field=field) from None

    def get(self, code: str, *, field: str = "course") -> Course:
        for c in self.course:
            if c.code == code:
                return c
        raise FieldError(f"no course {code!r}: choose from {', '.join(c.code for c in self.course)}", field=field)

    def by_provider(self, provider: str) -> list[Course]:
        return [c for c in self.course if c.provider == provider]


def catalogue() -> Catalogue:
    return load_rules(Catalogue, DOMAIN, "courses-v1.toml")
