"""The domestic-abuse rule files (``data/*.toml``): the monthly list and its RFGV weights, MARAC
criteria, the DASH checklist, the SARA v3 and SAM structures, and the perpetrator programmes.
Each is validated on reading, so a force's edited copy that would mislead is refused in words."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from iom.errors import FieldError
from iom.rules import RuleFile, RuleRow, load_rules

DOMAIN = "domestic_abuse"


class Choice(RuleRow):
    code: str = Field(min_length=1, max_length=40)
    label: str = Field(min_length=1, max_length=120)


def _unique(items, what: str) -> None:
    codes = [i.code for i in items]
    if len(set(codes)) != len(codes):
        raise ValueError(f"{what} codes must be unique")


def pick(choices: list[Choice], code: str | None, *, what: str, field: str) -> str:
    """``code`` if it is one of ``choices``, else a refusal naming them."""
    known = [c.code for c in choices]
    if code not in known:
        raise FieldError(f"{what} must be one of {', '.join(known)}" + (f", not {code!r}" if code else ""), field=field)
    return code


# --- the monthly list ---------------------------------------------------------------------------

class Section(RuleRow):
    label: str
    description: str
    min_victims: int | None = Field(None, ge=2)
    min_incidents_same_victim: int | None = Field(None, ge=2)
    min_incidents: int | None = Field(None, ge=1)
    subgroups: list[str] | None = None


class Sections(RuleRow):
    serial: Section
    repeat: Section
    repeat_victims: Section
    stalking: Section

    @model_validator(mode="after")
    def _thresholds(self) -> Sections:
        if self.serial.min_victims is None:
            raise ValueError("sections.serial needs min_victims")
        if self.repeat.min_incidents_same_victim is None:
            raise ValueError("sections.repeat needs min_incidents_same_victim")
        if self.repeat_victims.min_incidents is None or self.stalking.min_incidents is None:
            raise ValueError("sections.repeat_victims and sections.stalking need min_incidents")
        if not self.stalking.subgroups:
            raise ValueError("sections.stalking needs the offence subgroups that count")
        return self


class RecencyBand(RuleRow):
    within_days: int = Field(ge=0)
    points: int = Field(ge=0)


class Rfgv(RuleRow):
    recency: list[RecencyBand] = Field(min_length=1)
    points_per_incident: int = Field(ge=0)
    max_frequency_points: int = Field(ge=0)
    gravity_points: dict[int, int]
    points_per_victim: int = Field(ge=0)
    max_victim_points: int = Field(ge=0)

    @model_validator(mode="after")
    def _complete(self) -> Rfgv:
        if sorted(self.gravity_points) != [1, 2, 3, 4]:
            raise ValueError("gravity_points needs points for each gravity 1, 2, 3 and 4")
        days = [b.within_days for b in self.recency]
        if days != sorted(days):
            raise ValueError("recency bands are listed nearest first (within_days rising)")
        return self


class MonthlyListRules(RuleFile):
    window_months: int = Field(ge=1, le=24)
    date_field: Literal["recorded_on", "committed_on"] = "recorded_on"
    min_age: int = Field(ge=10, le=25)
    marac_lookback_months: int = Field(ge=1, le=60)
    sections: Sections
    rfgv: Rfgv


def monthly_list_rules() -> MonthlyListRules:
    return load_rules(MonthlyListRules, DOMAIN, "monthly-list-v1.toml")


# --- MARAC ----------------------------------------------------------------------------------------

class MaracRules(RuleFile):
    dash_high_yes: int = Field(ge=1, le=24)
    dash_valid_days: int = Field(ge=1)
    escalation_incidents: int = Field(ge=2)
    escalation_months: int = Field(ge=1)
    repeat_months: int = Field(ge=1)
    referring_agencies: list[str] = Field(min_length=1)

    def criteria_words(self) -> dict[str, str]:
        """Each criterion's code and the words a referral and the page show."""
        return {
            "dash_high": f"{self.dash_high_yes} or more 'yes' answers on a DASH in the {self.dash_valid_days} days before",
            "professional_judgement": "professional judgement (reason recorded)",
            "escalation": f"escalation: {self.escalation_incidents} or more domestic-abuse incidents against the victim "
                          f"in {self.escalation_months} months",
            "repeat": f"repeat: a further incident within {self.repeat_months} months of the victim's last MARAC "
                      "referral",
        }

    def agency(self, name: str | None) -> str:
        text = (name or "").strip()
        for known in self.referring_agencies:
            if known.lower() == text.lower():
                return known
        raise FieldError(f"the referring agency must be one of {', '.join(self.referring_agencies)}"
                         + (f", not {text!r}" if text else ""), field="marac-agency")


def marac_rules() -> MaracRules:
    return load_rules(MaracRules, DOMAIN, "marac-v1.toml")


# --- DASH -----------------------------------------------------------------------------------------

class Band(Choice):
    min_yes: int = Field(ge=0, le=24)


class DashRules(RuleFile):
    bands: list[Band] = Field(min_length=2)
    relationships: list[Choice] = Field(min_length=1)
    questions: list[Choice] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> DashRules:
        _unique(self.questions, "question")
        _unique(self.bands, "band")
        floors = [b.min_yes for b in self.bands]
        if floors != sorted(floors, reverse=True) or floors[-1] != 0:
            raise ValueError("bands are listed highest first, and the last starts at min_yes = 0")
        return self

    def band_for(self, yes: int) -> str:
        return next(b.code for b in self.bands if yes >= b.min_yes)

    def rank(self, band: str) -> int:
        """0 for the lowest band, rising."""
        codes = [b.code for b in reversed(self.bands)]
        return codes.index(band)

    def label(self, band: str) -> str:
        return next((b.label for b in self.bands if b.code == band), band)


def dash_rules() -> DashRules:
    return load_rules(DashRules, DOMAIN, "dash-v1.toml")


# --- SARA v3 and SAM --------------------------------------------------------------------------------

class Factor(RuleRow):
    code: str = Field(min_length=1, max_length=12)
    group: str
    label: str | None = None

    @property
    def shown(self) -> str:
        return f"{self.code} {self.label}" if self.label else f"{self.code} ({self.group})"


class Judgement(Choice):
    options: list[Choice] = Field(min_length=2)


class Instrument(RuleFile):
    code: str
    name: str
    presence: list[Choice] = Field(min_length=2)
    relevance: list[Choice] = Field(min_length=2)
    plan: list[Choice] = Field(min_length=1)
    judgements: list[Judgement] = Field(min_length=1)
    factors: list[Factor] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_codes(self) -> Instrument:
        _unique(self.factors, "factor")
        _unique(self.judgements, "judgement")
        _unique(self.plan, "plan heading")
        return self


#: Instrument code -> its rule file.
INSTRUMENT_FILES = {"sara-v3": "sara-v3.toml", "sam": "sam-v1.toml"}


def instrument(code: str, *, field: str = "instrument") -> Instrument:
    """The SARA v3 or SAM structure in force, or a refusal naming the instruments."""
    if code not in INSTRUMENT_FILES:
        raise FieldError(f"the instrument must be one of {', '.join(INSTRUMENT_FILES)}, not {code!r}", field=field)
    return load_rules(Instrument, DOMAIN, INSTRUMENT_FILES[code])


# --- perpetrator programmes -----------------------------------------------------------------------------

class Programme(RuleRow):
    code: str = Field(pattern=r"^[a-z0-9-]+$")
    name: str
    provider: str
    pathway: str
    referral_source: Literal["plan", "oocd", "voluntary", "marac", "other"]
    risk_bands: list[str] = Field(min_length=1)
    relationships: list[str] | None = None
    description: str = ""


class ProgrammeRules(RuleFile):
    risk_lookback_months: int = Field(ge=1)
    marac_counts_as_high: bool = True
    programme: list[Programme] = Field(min_length=1)

    def get(self, code: str) -> Programme:
        for p in self.programme:
            if p.code == code.strip().lower():
                return p
        raise FieldError(f"no programme {code!r}: choose one of {', '.join(p.code for p in self.programme)}",
                         field="programme")


def programme_rules() -> ProgrammeRules:
    return load_rules(ProgrammeRules, DOMAIN, "programmes-v1.toml")
