"""Programmes the register can define, evaluated like any table.

A "programme" is a treatment the register records, against a comparison group it also
records:

* ``course-<code>`` (``course-arv``, ``course-cara``, ``course-arda``): a course's groups from
  its referrals, recorded controls or trial log (``iom.courses.service.evaluation_cases``),
  checked cell by cell against the seed paper's table for it (``evaluate_course``).

* ``oocd-vs-charge`` (and ``community-resolution-vs-charge``, ``conditional-caution-vs-charge``):
  people whose first low-gravity offence (gravity 1-2) disposed of in the intake year got an
  out-of-court disposal, against those charged. Index date: the outcome date.
* ``iom-<classification>`` (e.g. ``iom-ppo``, ``iom-burglary``): people adopted into that IOM
  classification in the intake year, against offenders never in the IOM cohort who committed
  a crime in the same year. Index date: adoption, or for the comparison group the first crime.

The intake year is the 12 months ending ``follow_up`` months before ``as_of``, so every
person is followed for the full period. Outcome: any recorded crime (as suspect or offender)
committed within the follow-up; time: days to the first one, censored at the follow-up end.
Covariates for the Cox model and the propensity match: age, sex, log(1 + offences in the 24
months before the index date) — the log keeps a few very prolific people from dominating —
and the gravity of the index offence where there is one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Engine

from iom.analytics.source import as_warehouse, connect, latest_date, latest_in_database
from iom.errors import UserError
from iom.evaluation.seed_tables import SeedTableReproduction
from iom.evaluation.service import Evaluation, evaluate_frame
from iom.warehouse import programmes as groups

#: Why each kind's groups differ before any treatment: the reconciliation's words when the
#: unmatched comparison and the matched one (or the Cox model) point different ways.
SELECTION = {
    "iom": ("people are adopted at a peak of their offending and chosen for it, so they differ from other "
            "offenders in prior offending before IOM does anything (selection at a peak, confounding), and part of "
            "any fall after adoption would have come anyway as their offending returns towards its usual level "
            "(regression to the mean)"),
    "oocd": ("out-of-court disposals go to people with less offending behind them and lesser offences, so they "
             "differ from those charged before the disposal does anything (confounding by prior offending and "
             "gravity)"),
}
#: The covariates in words, for the headline and the reconciliation.
COVARIATE_WORDS = {"age": "age", "male": "sex", "log_prior_offences": "offences in the 24 months before",
                   "gravity": "the offence's gravity"}

CLASSIFICATIONS = ("BURGLARY", "ROBBERY", "VEHICLE", "MSV", "OCG", "USG", "PPO", "DYO", "HCCU", "MAPPA")


@dataclass(frozen=True)
class Programme:
    name: str
    description: str
    kind: str  # "oocd" or "iom"
    treated: tuple[str, ...]  # outcomes (oocd) or classification (iom)


class ProgrammeEvaluation(Evaluation):
    """An evaluation of a programme the register defines, with its intake year."""

    lead = ("programme", "description", "follow_up_months", "intake")
    programme: str
    description: str
    follow_up_months: int
    intake: list[str]  # first and last day of the intake year, ISO dates

    def summary(self) -> str:
        return (f"{self.programme} ({self.description}), intake {self.intake[0]} to {self.intake[1]}, "
                f"{self.follow_up_months}-month follow-up: {super().summary()}")


PROGRAMMES: dict[str, Programme] = {
    "oocd-vs-charge": Programme(
        "oocd-vs-charge", "out-of-court disposal (any) against charge, first gravity 1-2 offence", "oocd",
        ("caution", "conditional_caution", "community_resolution"),
    ),
    "community-resolution-vs-charge": Programme(
        "community-resolution-vs-charge", "community resolution against charge, first gravity 1-2 offence", "oocd",
        ("community_resolution",),
    ),
    "conditional-caution-vs-charge": Programme(
        "conditional-caution-vs-charge", "conditional caution against charge, first gravity 1-2 offence", "oocd",
        ("conditional_caution",),
    ),
    **{
        f"iom-{c.lower()}": Programme(
            f"iom-{c.lower()}", f"adopted into the IOM {c} classification against non-IOM offenders", "iom", (c,)
        )
        for c in CLASSIFICATIONS
    },
}


def _programme(name: str) -> Programme:
    try:
        return PROGRAMMES[name]
    except KeyError:
        known = [*PROGRAMMES, *course_programmes()]
        raise UserError(f"unknown programme {name!r}: choose from {', '.join(known)}") from None


def programme_table(con, *, name: str, follow_up_months: int = 12, as_of: dt.date | None = None) -> pd.DataFrame:
    """One row per person: group, index_date, reoffended, days, age, male, prior_offences, gravity."""
    p = _programme(name)
    if follow_up_months < 1:
        raise UserError("--follow-up must be at least 1 month")
    as_of = as_of or latest_date(con)
    intake_end = (pd.Timestamp(as_of) - pd.DateOffset(months=follow_up_months)).date()
    intake_start = (pd.Timestamp(intake_end) - pd.DateOffset(months=12)).date()
    wh = as_warehouse(con)
    if p.kind == "oocd":
        index = groups.index_oocd(wh, treated=p.treated, start=intake_start, end=intake_end)
        labels = {"treated": p.name.split("-vs-")[0], "charge": "charge"}
        control = "charge"
    else:
        index = groups.index_iom(wh, classification=p.treated[0], start=intake_start, end=intake_end)
        labels = {"treated": f"adopted {p.treated[0]}", "not adopted": "not adopted"}
        control = "not adopted"
    frame = groups.programme_groups(wh, index=index, follow_up_months=follow_up_months)
    frame["group"] = frame.pop("grp").map(labels)
    frame["index_date"] = pd.to_datetime(frame["index_date"]).dt.date
    frame.attrs.update(
        control=labels[control], intake_start=intake_start, intake_end=intake_end, as_of=as_of,
        covariates=["age", "male", "log_prior_offences"] + (["gravity"] if p.kind == "oocd" else []),
    )
    return frame


def evaluate_programme(
    engine: Engine | None = None, *, name: str, follow_up_months: int = 12, as_of: dt.date | None = None, con=None
) -> ProgrammeEvaluation | CourseProgrammeEvaluation:
    if name in course_programmes():
        if engine is None:
            raise UserError("a course programme reads the register: give the engine")
        return evaluate_course(engine, name=name, follow_up_months=follow_up_months, as_of=as_of)
    if con is None:
        # Everything a programme reads lies within intake year + follow-up + 24-month look-back
        # (plus a year's margin for slow outcomes) of the last day: read no further back.
        last = as_of or latest_in_database(engine)
        if last is None:
            raise UserError("the register holds no crimes: load or generate data first")
        since = (pd.Timestamp(last) - pd.DateOffset(months=follow_up_months + 48)).date()
        con = connect(engine=engine, crimes_since=since)
    return programme_evaluation(con, name=name, follow_up_months=follow_up_months, as_of=as_of)[1]


def programme_evaluation(
    con, *, name: str, follow_up_months: int = 12, as_of: dt.date | None = None
) -> tuple[pd.DataFrame, ProgrammeEvaluation]:
    """The per-person table and its evaluation (the report draws curves from the table)."""
    p = _programme(name)
    frame = programme_table(con, name=name, follow_up_months=follow_up_months, as_of=as_of)
    control = frame.attrs["control"]
    counts = frame["group"].value_counts()
    if counts.get(control, 0) == 0:
        raise UserError(f"programme {name!r}: the comparison group {control!r} has no members between "
                        f"{frame.attrs['intake_start']} and {frame.attrs['intake_end']}")
    if len(counts) < 2:
        raise UserError(f"programme {name!r}: no treated people between {frame.attrs['intake_start']} "
                        f"and {frame.attrs['intake_end']}")
    result = evaluate_frame(
        frame, group_col="group", control=control, event_col="reoffended", time_col="days",
        covariates=frame.attrs["covariates"], horizon=follow_up_months * 365.25 / 12,
        design="unmatched", selection=SELECTION[p.kind], covariate_words=COVARIATE_WORDS,
    )
    return frame, ProgrammeEvaluation(
        programme=name,
        description=p.description,
        follow_up_months=follow_up_months,
        intake=[str(frame.attrs["intake_start"]), str(frame.attrs["intake_end"])],
        **dict(result),
    )


# --- courses: groups from the register's referrals, controls and trial log ----------------------------

class CourseProgrammeEvaluation(SeedTableReproduction):
    """A course evaluated from the register: its groups built from referrals and offences, every
    rate with its interval, each group against the control, and where the seed paper published
    this course's table at this follow-up, every cell and stated reduction checked against it."""

    lead = ("programme", "course", "follow_up_months", "as_of", "groups")
    programme: str
    course: str
    follow_up_months: int
    as_of: str
    #: Group → people, as built from the register.
    groups: dict[str, int]
    compared_with: str | None

    def summary(self) -> str:
        sizes = ", ".join(f"{g} {n}" for g, n in self.groups.items())
        against = f"; against the paper's Table {self.compared_with}: {super().summary()}" if self.compared_with else ""
        return f"{self.programme} ({self.follow_up_months}-month follow-up to {self.as_of}): {sizes}{against}"


def course_programmes() -> dict[str, str]:
    """``course-<code>`` → course code, for every course the catalogue says how to evaluate."""
    from iom.courses.rules import catalogue

    return {f"course-{c.code}": c.code for c in catalogue().course if c.evaluation is not None}


#: The seed paper's tables by course and follow-up months (Table E: ARV at 24 months).
SEED_TABLE_AT = {("arv", 24): "E"}


def course_frame(session, *, code: str, follow_up_months: int, as_of: dt.date | None = None) -> pd.DataFrame:
    """One row per case: group, a 0/1 column per outcome, and days to the first further
    offence (censored at the follow-up's end)."""
    from iom.courses import service
    from iom.courses.rules import catalogue

    course = catalogue().get(code)
    as_of = as_of or latest_in_database(session.get_bind())
    if as_of is None:
        raise UserError("the register holds no crimes: load or generate data first")
    cases, control = service.evaluation_cases(session, course=course, follow_up_months=follow_up_months, as_of=as_of)
    found = service.outcomes_for(session, cases, months=follow_up_months)
    frame = pd.DataFrame({
        "person_id": [c.person_id for c in cases], "group": [c.group for c in cases],
        "index_date": [c.index_date for c in cases],
        **{name: [int(o[name]) for o, _ in found] for name in course.evaluation.outcomes},
        "days": [float(days) if days is not None else
                 float((service.follow_up_end(c.index_date, follow_up_months) - c.index_date).days)
                 for c, (_, days) in zip(cases, found, strict=True)],
    })
    frame.attrs.update(control=control, as_of=as_of, outcomes=list(course.evaluation.outcomes), course=course)
    return frame


def evaluate_course(engine: Engine, *, name: str, follow_up_months: int = 12,
                    as_of: dt.date | None = None) -> CourseProgrammeEvaluation:
    from sqlalchemy.orm import Session

    from iom.evaluation.seed_tables import TABLES, Group, SeedTable, reproduce_frame

    code = course_programmes()[name]
    with Session(engine) as session:
        frame = course_frame(session, code=code, follow_up_months=follow_up_months, as_of=as_of)
    course, control, outcomes = frame.attrs["course"], frame.attrs["control"], frame.attrs["outcomes"]
    sizes = {g: int(n) for g, n in frame["group"].value_counts().items()}
    if not sizes.get(control) or len(sizes) < 2:
        raise UserError(f"programme {name!r}: {control} {sizes.get(control, 0)}, referred and ended "
                        f"{sum(n for g, n in sizes.items() if g != control)}, with {follow_up_months} months' "
                        f"follow-up complete by {frame.attrs['as_of']}: nothing to compare")
    seed_name = SEED_TABLE_AT.get((code, follow_up_months),
                                  course.evaluation.seed_table if follow_up_months == 12 else None)
    seed = TABLES.get(seed_name) if seed_name else None
    if seed is None:  # no published table to check against: the register's groups alone
        seed = SeedTable(name="", title=course.name, source=course.source, control=control, groups=(
            Group(control, 0, {}), Group("completed", 0, {}), Group("breached", 0, {})))
    groups = list(seed.groups)
    if not any(g.members for g in groups):
        groups.append(Group("all suitable", 0, {}, ("completed", "breached")))
    table = SeedTable(seed.name, seed.title, seed.source, seed.control, tuple(groups), seed.stated, seed.notes)
    frame = frame[frame["group"].isin({g.name for g in groups if not g.members})]
    # Completers and breachers chose themselves by finishing or not: against any control they
    # are unmatched. Everyone referred from a trial's treatment arm is the randomised contrast.
    randomised = course.evaluation.control == "randomised"
    result = reproduce_frame(table, frame, horizon=follow_up_months * 365.25 / 12, outcomes=outcomes,
                             design="unmatched", union_design="randomised" if randomised else "unmatched")
    for union in (g for g in groups if g.members):
        sizes[union.name] = int(frame["group"].isin(union.members).sum())
    order = [control, "completed", "breached", *(g.name for g in groups if g.members)]
    sizes = {g: sizes[g] for g in order if g in sizes}
    return CourseProgrammeEvaluation(
        **dict(result), programme=name, course=code, follow_up_months=follow_up_months,
        as_of=str(frame.attrs.get("as_of") or as_of), groups=sizes, compared_with=seed_name if seed.name else None)
