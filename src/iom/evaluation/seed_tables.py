"""The seed papers' course tables (B, D–G) rebuilt as one row per person, run through the
engine, and checked against every published percentage and stated reduction.

Counts are the published sample sizes times the published percentages, as transcribed in
``shared/reference/seed-figures.md`` (board paper 000, §41-65). Each outcome column is
independent: the first k people of a group carry it. Table F publishes only the mean days
to a subsequent offence, so its times are spread evenly around that mean (constructed, not
published); people who did not reoffend are censored at 365 days."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from iom.evaluation.binary import GroupComparison, compare, wilson
from iom.evaluation.results import Result
from iom.evaluation.roi import ReturnOnInvestment
from iom.evaluation.service import Evaluation, evaluate_frame
from iom.evaluation.survival import SurvivalResult
from iom.formatting import percent, pounds


@dataclass(frozen=True)
class Cell:
    events: int
    published: str  # as printed, e.g. "23.8%" or "33%"


@dataclass(frozen=True)
class Group:
    name: str
    n: int
    outcomes: dict[str, Cell]
    members: tuple[str, ...] = ()  # a union of other groups (e.g. "all suitable")
    mean_days: float | None = None


@dataclass(frozen=True)
class StatedReduction:
    """A reduction the paper states in words, and what it compares."""

    text: str
    outcome: str
    group: str
    control: str
    stated: float  # percent


@dataclass(frozen=True)
class SeedTable:
    name: str
    title: str
    source: str
    control: str
    groups: tuple[Group, ...]
    stated: tuple[StatedReduction, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


def _g(name, n, members=(), mean_days=None, **cells):
    return Group(name, n, {k: Cell(*v) for k, v in cells.items()}, tuple(members), mean_days)


TABLES: dict[str, SeedTable] = {
    "D": SeedTable(
        "D", "Alcohol Related Violence course, 12 months after referral", "paper 000 §49-51", "control",
        (
            _g("control", 318, reoffend=(124, "39.0%"), violent=(108, "34.0%"), alcohol=(40, "12.6%")),
            _g("completed", 164, reoffend=(15, "9.1%"), violent=(10, "6.1%"), alcohol=(3, "1.8%")),
            _g("breached", 87, reoffend=(40, "46.0%"), violent=(36, "41.4%"), alcohol=(9, "10.3%")),
            _g("all suitable", 251, ("completed", "breached"), reoffend=(55, "21.9%"), violent=(46, "18.3%"), alcohol=(12, "4.8%")),
        ),
        (
            StatedReduction("completers 77% less reoffending than control", "reoffend", "completed", "control", 77),
            StatedReduction("completers and breach together a net reduction of 46%", "reoffend", "all suitable", "control", 46),
        ),
    ),
    "E": SeedTable(
        "E", "Alcohol Related Violence course, 24 months after referral", "paper 000 §52-54", "control",
        (
            _g("control", 315, reoffend=(154, "49%"), violent=(139, "44%"), alcohol=(47, "15%")),
            _g("completed", 48, reoffend=(10, "21%"), violent=(7, "15%"), alcohol=(7, "15%")),
            _g("breached", 23, reoffend=(11, "48%"), violent=(11, "48%"), alcohol=(6, "26.0%")),
            _g("all suitable", 71, ("completed", "breached"), reoffend=(21, "30%"), violent=(18, "25%"), alcohol=(13, "18%")),
        ),
        (
            StatedReduction("57% reduction for completers", "reoffend", "completed", "control", 57),
            StatedReduction("complete and breach together 41% less likely", "reoffend", "all suitable", "control", 41),
        ),
    ),
    "F": SeedTable(
        "F", "CARA domestic-abuse course, randomised trial, 12 months", "paper 000 §57-60", "suitable control",
        (
            _g("suitable control", 49, mean_days=102, reoffend=(10, "20%"), da_offence=(1, "2%"), da_incident=(14, "29%")),
            _g("completed", 54, mean_days=257, reoffend=(1, "2%"), da_offence=(0, "0%"), da_incident=(10, "19%")),
            _g("breached", 16, mean_days=93, reoffend=(7, "44%"), da_offence=(5, "31%"), da_incident=(4, "25%")),
        ),
        (),
        ("the average-days row's column order is reconstructed from a garbled extraction",),
    ),
    "G": SeedTable(
        "G", "Alcohol Related DA course, 12 months", "paper 000 §62-65", "control",
        (
            _g("control", 134, reoffend=(40, "29.9%"), da_offence=(12, "9.0%"), da_incident=(16, "11.9%")),
            _g("completed", 20, reoffend=(2, "10.0%"), da_offence=(0, "0.0%"), da_incident=(2, "10.0%")),
            _g("breached", 35, reoffend=(3, "8.6%"), da_offence=(1, "2.9%"), da_incident=(13, "37.1%")),
        ),
        (
            StatedReduction("a reduction of 70% (reoffending, completers)", "reoffend", "completed", "control", 70),
            StatedReduction("a reduction of 66% (DA offences, completers)", "da_offence", "completed", "control", 66),
        ),
    ),
}

#: Table B compares intervention recipients with their whole category (which includes them).
TABLE_B = {
    # category: (sample, reoffended, published %, received intervention, of whom reoffended, published %)
    "violence": (80, 19, "23.8%", 28, 3, "11%"),
    "alcohol related": (18, 6, "33%", 10, 2, "20%"),
    "acquisitive": (71, 42, "59%", 26, 13, "50%"),
    "drug related": (13, 7, "53%", 6, 4, "67%"),
}
TABLE_B_STATED = {"alcohol related": 40, "violence": 54}


def _leaf_groups(table: SeedTable) -> list[Group]:
    return [g for g in table.groups if not g.members]


def records(name: str) -> pd.DataFrame:
    """One row per person: group, a 0/1 column per outcome, and days (Table F)."""
    if name == "B":
        rows = []
        for cat, (n, k, _, n_int, k_int, _) in TABLE_B.items():
            # k_int of the n_int recipients reoffended; the rest of the k are non-recipients.
            rows += [(cat, "intervention", 1)] * k_int + [(cat, "intervention", 0)] * (n_int - k_int)
            rows += [(cat, "no intervention", 1)] * (k - k_int) + [(cat, "no intervention", 0)] * (n - n_int - (k - k_int))
        return pd.DataFrame(rows, columns=["category", "group", "reoffend"])
    table = TABLES[name]
    parts = []
    for g in _leaf_groups(table):
        part = pd.DataFrame({"group": [g.name] * g.n})
        for outcome, cell in g.outcomes.items():
            part[outcome] = (np.arange(g.n) < cell.events).astype(int)
        if g.mean_days is not None:
            k = g.outcomes["reoffend"].events
            spread = np.linspace(-0.5, 0.5, k) * g.mean_days if k > 1 else np.zeros(k)
            days = np.full(g.n, 365.0)
            days[:k] = np.round(g.mean_days + spread, 1)
            part["days"] = days
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


class CellCheck(Result):
    """One published percentage against the rate recomputed from the records."""

    group: str
    outcome: str
    n: int
    events: int
    published: str
    computed: str
    reproduced: bool
    rate: float
    lower: float
    upper: float

    def summary(self) -> str:
        verdict = "reproduced" if self.reproduced else "not reproduced"
        return f"{self.group} {self.outcome}: published {self.published}, {self.events}/{self.n} gives {self.computed} ({verdict})"


class StatedCheck(Result):
    """A reduction the paper states in words, against the one the counts give (percent)."""

    optional = ("interval",)
    text: str
    stated: int | float
    computed: float
    from_published_percentages: float
    agrees: bool
    interval: list[float | None] | None = None  # of the relative reduction, as a fraction

    def summary(self) -> str:
        return (f"stated {self.stated:g}% ({self.text}): the counts give {self.computed:g}% "
                f"({'agrees' if self.agrees else 'does not agree'})")


class SeedReturnOnInvestment(ReturnOnInvestment):
    """Table D's return recomputed under stated assumptions, beside the paper's ratio."""

    stated_ratio: int | float
    unit_cost_pence: int
    assumptions: str

    def summary(self) -> str:
        return f"stated {self.stated_ratio:g}:1; under these assumptions {super().summary()}"


class SeedTableReproduction(Result):
    """Tables D–G: every cell, each group against the control per outcome, the stated
    reductions checked, and survival where the table gives times (F)."""

    optional = ("roi",)
    table: str
    title: str
    source: str
    cells: list[CellCheck]
    evaluations: dict[str, Evaluation]
    survival: SurvivalResult | None
    stated: list[StatedCheck]
    discrepancies: list[str]
    notes: list[str]
    roi: SeedReturnOnInvestment | None = None  # Table D only

    def summary(self) -> str:
        return _summary(self)


class TableBComparison(Result):
    """Table B per category: the paper's comparison and the fair one."""

    category: str
    paper_relative_reduction: float | None
    fair: GroupComparison

    def summary(self) -> str:
        return (f"{self.category}: the paper's reduction {percent(self.paper_relative_reduction)}; "
                f"fair comparison {self.fair.summary()}")


class TableBReproduction(Result):
    """Table B: recipients against their whole category (the paper) and against non-recipients."""

    table: str
    title: str
    source: str
    cells: list[CellCheck]
    comparisons: list[TableBComparison]
    stated: list[StatedCheck]
    discrepancies: list[str]

    def summary(self) -> str:
        return _summary(self)


def _summary(r: SeedTableReproduction | TableBReproduction) -> str:
    ok = sum(c.reproduced for c in r.cells)
    stated = (f"{sum(s.agrees for s in r.stated)} of {len(r.stated)} stated reductions agree" if r.stated
              else "no reductions stated")
    n = len(r.discrepancies)
    return (f"Table {r.table} ({r.title}): {ok} of {len(r.cells)} published percentages reproduced, {stated}; "
            f"{n or 'no'} discrepanc{'y' if n == 1 else 'ies'}.")


def _pct(published: str) -> float:
    return float(published.rstrip("%"))


def _fmt(rate: float, published: str) -> str:
    """The rate to as many decimals as the paper printed."""
    return percent(rate, len(published.rstrip("%").partition(".")[2]))


def reproduce(name: str) -> SeedTableReproduction | TableBReproduction:
    """Every published percentage recomputed from the records, with its interval; each group
    against the control; each stated reduction against what the table gives."""
    if name == "B":
        return _reproduce_b()
    return reproduce_frame(TABLES[name], records(name))


def reproduce_frame(table: SeedTable, frame: pd.DataFrame, *, horizon: float = 365,
                    outcomes: list[str] | None = None, design: str | None = None,
                    union_design: str | None = None) -> SeedTableReproduction:
    """``reproduce`` on any one-row-per-person frame with the table's groups and outcomes: the
    paper's rebuilt records, or a course's cases read from the register.

    ``design`` (of the table's own groups) and ``union_design`` (of unions such as "all
    suitable") put the comparisons through the evidence hierarchy; None, for the paper's own
    tables, keeps the statistical verdicts the tests check against what the paper said."""
    name = table.name
    cells = []
    discrepancies = []
    for g in table.groups:
        sub = frame[frame["group"].isin(g.members or (g.name,))]
        if sub.empty:
            if g.outcomes:
                discrepancies.append(f"{g.name}: no people in these records, so none of its cells can be checked")
            continue
        for outcome, cell in g.outcomes.items():
            r = wilson(int(sub[outcome].sum()), len(sub))
            cells.append(CellCheck(
                group=g.name, outcome=outcome, n=r.n, events=r.events, published=cell.published,
                computed=_fmt(r.rate, cell.published), reproduced=_fmt(r.rate, cell.published) == cell.published,
                rate=r.rate, lower=r.lower, upper=r.upper,
            ))
    # "all suitable" is a union of leaves: evaluate it as its own grouping against control.
    evaluations: dict[str, Evaluation] = {}
    outcomes = outcomes or list(table.groups[0].outcomes)
    for outcome in outcomes:
        evaluations[outcome] = evaluate_frame(frame, group_col="group", control=table.control, event_col=outcome,
                                              design=design)
        for union in (g for g in table.groups if g.members and frame["group"].isin(g.members).any()):
            merged = frame.assign(group=frame["group"].where(~frame["group"].isin(union.members), union.name))
            extra = evaluate_frame(merged, group_col="group", control=table.control, event_col=outcome,
                                   design=union_design if design is not None else None)
            evaluations[outcome].comparisons += [c for c in extra.comparisons if c.group == union.name]
            if extra.evidence is not None:
                evaluations[outcome].evidence = [*(evaluations[outcome].evidence or []),
                                                 *(e for e in extra.evidence if e.group == union.name)]
    survival = None
    if "days" in frame:
        survival = evaluate_frame(
            frame, group_col="group", control=table.control, event_col="reoffend", time_col="days", horizon=horizon,
            design=None,
        ).survival
    stated = []
    present = set(frame["group"]) | {g.name for g in table.groups if g.members and frame["group"].isin(g.members).any()}
    for s in table.stated:
        comp = next((c for c in evaluations[s.outcome].comparisons if c.group == s.group), None) \
            if s.group in present else None
        if comp is None or comp.relative_reduction is None:
            discrepancies.append(f"stated {s.stated:g}% ({s.text}): these records cannot give it "
                                 f"({'no ' + s.group if comp is None else 'no events in the control group'})")
            continue
        computed = comp.relative_reduction * 100
        by_name = {g.name: g for g in table.groups}
        pub_g = _pct(by_name[s.group].outcomes[s.outcome].published)
        pub_c = _pct(by_name[s.control].outcomes[s.outcome].published)
        from_published = (pub_c - pub_g) / pub_c * 100
        agrees = s.stated in (round(computed), round(from_published))
        stated.append(StatedCheck(text=s.text, stated=s.stated, computed=round(computed, 1),
                                  from_published_percentages=round(from_published, 1), agrees=agrees,
                                  interval=[comp.relative_reduction_lower, comp.relative_reduction_upper]))
        if not agrees:
            discrepancies.append(
                f"stated {s.stated:g}% ({s.text}); the counts give {computed:.1f}% "
                f"({from_published:.1f}% from the rounded published percentages)"
            )
    for g in table.groups:
        n = int(frame["group"].isin(g.members or (g.name,)).sum())
        if g.n and n != g.n:
            discrepancies.append(f"{g.name}: the paper has {g.n} people, these records {n}")
    for c in cells:
        if not c.reproduced:
            whole = any(_fmt(k / c.n, c.published) == c.published for k in range(c.n + 1)) if c.n else False
            discrepancies.append(
                f"{c.group} {c.outcome}: published {c.published}, but {c.events}/{c.n} is "
                f"{percent(c.rate, 2)}" + ("" if whole else f" and no whole count of {c.n} gives {c.published}")
            )
    if name == "G" and len(stated) == 2 and len(table.stated) == 2:
        by = {s.text: s for s in stated}
        reoff, da = by[table.stated[0].text], by[table.stated[1].text]
        if abs(da.stated - reoff.computed) < 1 and reoff.stated != round(reoff.computed):
            discrepancies.append(
                f"the two stated reductions look swapped or misplaced: the {da.stated:g}% given for DA offences "
                f"matches the reoffending reduction ({reoff.computed:.1f}%), while DA offences fell "
                f"{da.computed:.0f}%"
            )
    return SeedTableReproduction(
        table=name, title=table.title, source=table.source, cells=cells, evaluations=evaluations,
        survival=survival, stated=stated, discrepancies=discrepancies, notes=list(table.notes),
        roi=table_d_return_on_investment(evaluations["violent"])
        if name == "D" and "all suitable" in present else None,
    )


#: Seed paper "Other figures": the Alcohol Related Violence course budget (two years).
ARV_BUDGET_PENCE = 5_000_000


def table_d_return_on_investment(violent: Evaluation) -> SeedReturnOnInvestment:
    """The paper states a 16:1 return for the force alone but not how it was costed. As a
    check: further violent offences avoided among all suitable referrals (one offence per
    person avoided), valued at the Home Office unit cost of violence with injury, against the
    course's £50k budget."""
    from iom.evaluation.roi import roi_from_rates
    from iom.reference import read_reference

    unit = next(int(r["cost_pence"]) for r in read_reference("register", "cost_of_crime") if r["category"] == "violence_with_injury")
    comp = violent.comparison("all suitable")
    roi = roi_from_rates(comp.difference, comp.difference_lower, comp.difference_upper,
                         n_group=comp.group_rate.n, cost_per_reoffender_pence=unit,
                         programme_cost_pence=ARV_BUDGET_PENCE)
    return SeedReturnOnInvestment(
        **dict(roi), stated_ratio=16, unit_cost_pence=unit,
        assumptions="violent reoffenders avoided among all 251 suitable referrals, one offence each, "
                    f"at the violence-with-injury unit cost, against the {pounds(ARV_BUDGET_PENCE)} course budget",
    )


def _reproduce_b() -> TableBReproduction:
    cells, comparisons, stated, discrepancies = [], [], [], []
    frame = records("B")
    for cat, (n, k, pub, n_int, k_int, pub_int) in TABLE_B.items():
        sub = frame[frame["category"] == cat]
        for label, rows, published in (("all", sub, pub), ("intervention", sub[sub["group"] == "intervention"], pub_int)):
            r = wilson(int(rows["reoffend"].sum()), len(rows))
            computed = _fmt(r.rate, published)
            cells.append(CellCheck(group=f"{cat}: {label}", outcome="reoffend", n=r.n, events=r.events,
                                   published=published, computed=computed, reproduced=computed == published,
                                   rate=r.rate, lower=r.lower, upper=r.upper))
            if computed != published:
                discrepancies.append(
                    f"{cat} {label}: published {published}, but {r.events}/{r.n} is {percent(r.rate)} (no whole count gives {published})"
                )
        # The paper's comparison (recipients against everyone, who include them) and the fair one.
        paper = compare(k_int, n_int, k, n)
        fair = evaluate_frame(sub, group_col="group", control="no intervention", event_col="reoffend",
                              design=None).comparisons[0]
        comparisons.append(TableBComparison(category=cat, paper_relative_reduction=paper.relative_reduction, fair=fair))
        if cat in TABLE_B_STATED:
            computed = paper.relative_reduction * 100
            from_published = (_pct(pub) - _pct(pub_int)) / _pct(pub) * 100
            agrees = TABLE_B_STATED[cat] in (round(computed), round(from_published))
            stated.append(StatedCheck(text=f"{cat} reduction {TABLE_B_STATED[cat]}%", stated=TABLE_B_STATED[cat],
                                      computed=round(computed, 1), from_published_percentages=round(from_published, 1),
                                      agrees=agrees))
            if not agrees:
                discrepancies.append(f"stated {TABLE_B_STATED[cat]}% for {cat}; the table gives {computed:.1f}%")
    discrepancies.append(
        "the paper compares recipients with their whole category, which includes the recipients; "
        "the fair comparison is recipients against non-recipients (given under 'comparisons')"
    )
    return TableBReproduction(table="B", title="Reoffending of 200 PIPT referrals from July 2017", source="paper 000 §41-42",
                              cells=cells, comparisons=comparisons, stated=stated, discrepancies=discrepancies)
