"""The board report's sections: each a ``Section`` built from computed results, every figure
computed by the function named beside it. ``iom.reports.paper`` assembles and renders them."""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy.engine import Engine

from iom.analytics import service as analytics
from iom.errors import UserError
from iom.evaluation import seed_tables
from iom.evaluation.binary import format_p
from iom.evaluation.programmes import programme_evaluation
from iom.evaluation.survival import kaplan_meier
from iom.formatting import percent, pounds
from iom.reports import charts

#: Programmes evaluated in the report (see ``iom evaluate --list-programmes``).
REPORT_PROGRAMMES = ("oocd-vs-charge", "iom-ppo", "iom-burglary")


@dataclass
class Section:
    """One section of the board paper. ``headline``: the section's one finding in a sentence of
    plain text (no HTML), for the executive summary; None when the section has none. Paragraphs
    are HTML: a ``<b>`` verdict only ever comes from a randomised or matched comparison."""

    title: str
    source: str  # the named function(s) that computed it
    images: list[tuple[str, str]] = field(default_factory=list)  # (alt text, data URI)
    tables: list[str] = field(default_factory=list)  # HTML
    paragraphs: list[str] = field(default_factory=list)
    error: str | None = None
    headline: str | None = None


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, border=0, classes="data", escape=True, na_rep="–")


def measures_section(con, *, by: str, title: str, chart: bool) -> Section:
    s = Section(title, "iom.analytics.service.reoffending_measures")
    m = analytics.reoffending_measures(con, by=by)
    s.paragraphs.append(
        f"IOM cohort on {m['index_date'].iloc[0]}, followed for 12 months. Police-recorded: any crime "
        "recorded in the follow-up. Proven: proven by charge or caution within a further 6 months."
    )
    if chart:
        s.images.append((f"reoffending rate by {by} with 95% intervals",
                         charts.to_data_uri(charts.rates_with_intervals(m, title=f"Reoffending by {by} (95% Wilson intervals)"))))
    shown = pd.DataFrame({
        by: m["group"], "offenders": m["offenders"],
        "recorded rate (95%)": [f"{percent(r)} ({percent(lo)}–{percent(hi)})" for r, lo, hi in zip(m.recorded_rate, m.recorded_lower, m.recorded_upper)],
        "per offender": m["recorded_per_offender"].round(2), "per reoffender": m["recorded_per_reoffender"].round(2),
        "recorded cost": m["recorded_cost_pence"].map(pounds),
        "proven rate (95%)": [f"{percent(r)} ({percent(lo)}–{percent(hi)})" for r, lo, hi in zip(m.proven_rate, m.proven_lower, m.proven_upper)],
        "proven per offender": m["proven_per_offender"].round(2), "proven cost": m["proven_cost_pence"].map(pounds),
    })
    s.tables.append(_table(shown))
    return s


#: The seed paper's NPU table (000 §25): offenders, then cost (£) and offences before, during
#: and after adoption (``shared/reference/seed-figures.md``), shown beside the register's.
PUBLISHED_NPU = {
    "WS": (910, 20_091_559, 3947, 23_997_882, 6846, 1_707_061, 332),
    "WV": (1106, 24_850_465, 4210, 27_316_849, 6934, 1_479_626, 253),
    "SW": (801, 12_132_059, 2702, 31_287_899, 7342, 872_661, 159),
    "DY": (613, 9_907_910, 2134, 19_236_078, 5519, 487_317, 144),
    "SH": (363, 5_398_722, 1122, 7_305_034, 1850, 417_051, 90),
    "CV": (364, 3_696_258, 1027, 15_249_277, 3912, 24_264, 14),
    "BE": (850, 13_674_025, 2893, 28_882_247, 7075, 773_600, 230),
    "BW": (338, 3_804_158, 955, 9_282_859, 2607, 66_199, 30),
    "BN": (146, 1_423_112, 363, 3_093_663, 957, 148_924, 33),
    "BS": (219, 2_273_993, 634, 3_154_256, 979, 507_952, 154),
}
#: The 2015 paper's figure (002 §28), in pence: "saving £75,000 per day".
PUBLISHED_AVOIDED_PENCE = 75_000_00


def adoption_section(con, *, as_of: dt.date) -> Section:
    s = Section("Before, during and after adoption, by NPU",
                "iom.analytics.service.before_during_after, iom.analytics.service.cost_avoided_per_day")
    bda = analytics.before_during_after(con, as_of=as_of)
    avoided = analytics.cost_avoided_per_day(bda)
    lower, upper = analytics.cost_avoided_interval(bda)
    interval = (f"95% range {pounds(lower)} to {pounds(upper)}" if lower is not None
                else "too few offenders for an interval")
    s.paragraphs.append(
        "Six months before adoption, the time in the cohort, and three months after exit. The windows differ in "
        "length, so offences and cost are also given per offender-month. Cost of crime avoided per day across "
        f"the force (before minus during cost per offender-day, times current members): <b>{pounds(avoided)}</b> "
        f"({interval}; a bootstrap over offenders, {analytics.BOOTSTRAP_RESAMPLES:,} resamples)."
    )
    s.paragraphs.append(html.escape(analytics.REGRESSION_TO_THE_MEAN))
    s.headline = (f"Cost of crime avoided per day: {pounds(avoided)} ({interval}), an upper bound: people are "
                  "adopted at a peak of their offending (regression to the mean).")
    s.paragraphs.append(html.escape(_against_published(bda, avoided)))
    s.images.append(("offences per offender-month before, during and after adoption by NPU",
                     charts.to_data_uri(charts.before_during_after(bda[bda["npu"] != "all"], title="Offences per offender-month"))))
    shown = pd.DataFrame({"NPU": bda["npu"], "offenders": bda["offenders"]})
    for w in ("before", "during", "after"):
        shown[f"{w} £"] = bda[f"{w}_cost_pence"].map(pounds)
        shown[f"{w} offences"] = bda[f"{w}_offences"]
        shown[f"{w} per o-m"] = bda[f"{w}_offences_per_offender_month"].round(3)
    shown["£ avoided per day"] = bda["cost_avoided_pence_per_day"].map(pounds)
    shown["95% range"] = [f"{pounds(lo)} to {pounds(hi)}" if not pd.isna(lo) else "–"
                          for lo, hi in zip(bda["cost_avoided_pence_per_day_lower"],
                                            bda["cost_avoided_pence_per_day_upper"], strict=True)]
    s.tables.append(_table(shown))
    limitation, side_by_side = _npu_against_published(bda)
    s.paragraphs.append(html.escape(limitation))
    s.tables.append(_table(side_by_side))
    return s


def _per_day(cost_pence, days) -> float | None:
    return None if pd.isna(cost_pence) or not days else cost_pence / days


def _against_published(bda: pd.DataFrame, avoided: int) -> str:
    """Why this figure is not the 2015 paper's £75,000 a day, in the measured numbers."""
    total = bda.loc[bda["npu"] == "all"].iloc[0]
    before = _per_day(total["before_cost_pence_per_offender_month"], analytics.DAYS_PER_MONTH)
    during = _per_day(total["during_cost_pence_per_offender_month"], analytics.DAYS_PER_MONTH)
    current = int(total["current_members"])
    paper_people = sum(v[0] for v in PUBLISHED_NPU.values())
    paper_before = sum(v[1] for v in PUBLISHED_NPU.values()) * 100 / (paper_people * 6 * analytics.DAYS_PER_MONTH)
    if before is None or during is None or not current:
        return ("The 2015 paper's figure is £75,000 per day; this register has too little before or during "
                "adoption to set beside it.")
    gap = before - during
    needed_members = PUBLISHED_AVOIDED_PENCE / gap if gap > 0 else None
    needed_gap = PUBLISHED_AVOIDED_PENCE / current
    return (
        f"Why this is not the 2015 paper's £75,000 per day (002 §28): here the cohort cost {pounds(before)} per "
        f"offender-day before adoption and {pounds(during)} during, a gap of {pounds(gap)}, times {current:,} "
        "members current on the day. The 2015 figure came from another tool, year and cohort, and gives neither "
        "its cost per offender-day nor its number of members. On the synthetic force the current cohort is "
        "calibrated to the 2019 paper's 6,501 members (000 §18-19), and its cost before adoption compares with the "
        f"2019 NPU table's (000 §25: {pounds(paper_before)} per offender-day, published cost over "
        f"{paper_people:,} published offenders and six months, against {pounds(before)} here). Keeping the cohort "
        f"and this level of offending, £75,000 a day would need a gap of {pounds(needed_gap)} per member-day "
        f"rather than {pounds(gap)}"
        + (f"; keeping the gap, it would need about {needed_members:,.0f} current members" if needed_members else "")
        + ". Calibrating to it would undo one of the 2019 figures, so it is left to differ."
    )


def _npu_against_published(bda: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    """The register's NPU table beside the paper's, and what differs, in words."""
    rows = []
    for r in bda.itertuples():
        paper = PUBLISHED_NPU.get(r.npu)
        if r.npu == "all":
            paper = tuple(sum(v[i] for v in PUBLISHED_NPU.values()) for i in range(7))
        if paper is None:
            continue
        rows.append({"NPU": r.npu, "offenders (paper)": paper[0], "offenders (here)": r.offenders,
                     "before offences (paper)": paper[2], "before offences (here)": r.before_offences,
                     "during offences (paper)": paper[4], "during offences (here)": r.during_offences,
                     "after offences (paper)": paper[6], "after offences (here)": r.after_offences})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return "The paper's NPU table (000 §25) names none of this register's NPUs.", frame
    ratio = frame.set_index("NPU")
    worst = ratio.drop(index="all", errors="ignore")
    words = (
        "This table matches the paper's (000 §25) in shape only. It counts everyone ever adopted up to the day, "
        "over the whole history held"
    )
    if "all" in ratio.index:
        a = ratio.loc["all"]
        words += f" ({a['offenders (here)']:,} people against the paper's {a['offenders (paper)']:,})"
    if not worst.empty:
        far = (worst["offenders (here)"] / worst["offenders (paper)"]).idxmax()
        f = worst.loc[far]
        words += f"; {far}: {f['offenders (here)']:,} against {f['offenders (paper)']:,}"
    words += (
        ". On the synthetic force the current cohort is shared among NPUs in proportion to the paper's counts, "
        "but the paper does not say over what period its offenders were adopted or how long they stayed, so its "
        "counts cannot be matched without guessing both; calibrating each NPU's adoptions to them would change "
        "the cohort every other calibrated figure (reoffending by NPU and classification, the programme "
        "evaluations) rests on. Read the rates per offender-month, not the totals."
    )
    return words, frame


def programme_section(con, *, name: str, as_of: dt.date, follow_up_months: int = 12) -> Section:
    frame, result = programme_evaluation(con, name=name, follow_up_months=follow_up_months, as_of=as_of)
    s = comparison_section(f"Programme: {name}", frame, result,
                           source="iom.evaluation.programmes.evaluate_programme, iom.evaluation.survival.kaplan_meier")
    s.paragraphs.insert(0, f"{html.escape(result.description)}; intake {result.intake[0]} to {result.intake[1]}, "
                           f"{follow_up_months}-month follow-up.")
    if s.headline:
        s.headline = f"{name}: {s.headline}"
    return s


def comparison_section(title: str, frame: pd.DataFrame, result, *, source: str) -> Section:
    """Any evaluation through the evidence hierarchy: the headline from the strongest design in
    bold, an unmatched comparison described without a verdict, and the reconciliation where the
    designs disagree. ``frame`` has group, days and reoffended columns (for the curves)."""
    s = Section(title, source)
    s.tables.append(_table(pd.DataFrame({
        "group": [g.group for g in result.groups], "n": [g.n for g in result.groups],
        "reoffended": [g.events for g in result.groups],
        "rate (95%)": [f"{percent(g.rate)} ({percent(g.lower)}–{percent(g.upper)})" for g in result.groups],
    })))
    comps = []
    for c in result.comparisons:
        evidence = result.headline(c.group)
        comps.append(_interval(c, f"{c.group} ({c.design or 'all'})"))
        if evidence is not None:
            lead = next(r for r in evidence.readings if r.design == evidence.design)
            if evidence.design == "unmatched":
                s.paragraphs.append(f"Descriptive only ({html.escape(lead.label)}): {html.escape(c.statement)} "
                                    "No verdict can be given without a matched or randomised comparison.")
            else:
                s.paragraphs.append(f"<b>{html.escape(evidence.verdict)}</b> ({html.escape(evidence.design)} "
                                    f"comparison, {html.escape(lead.label)}): {html.escape(evidence.statement)}")
                if c.design == "unmatched":
                    s.paragraphs.append(f"Unmatched, descriptive (all {html.escape(c.group)} against all "
                                        f"{html.escape(result.control)}): {html.escape(c.statement)}")
            if evidence.reconciliation:
                s.paragraphs.append(html.escape(evidence.reconciliation))
            if s.headline is None:
                s.headline = f"{evidence.headline}: {evidence.statement}"
        elif c.design == "unmatched":
            s.paragraphs.append(f"Descriptive only: {html.escape(c.statement)}")
        else:
            s.paragraphs.append(f"<b>{html.escape(c.verdict)}</b>: {html.escape(c.statement)}")
    for m in result.matched or []:
        if m.effect is not None:
            comps.append(_interval(m.effect, f"{m.group} (matched, {m.matched_pairs} pairs)"))
        s.tables.append(_table(m.balance_frame()[["covariate", "smd_before", "smd_after"]].round(3)))
    s.images.append(("difference in reoffending against control with 95% range",
                     charts.to_data_uri(charts.comparison_intervals(comps, title="Difference against control (Newcombe 95%)"))))
    curves = [kaplan_meier(g["days"], g["reoffended"], label=str(k)) for k, g in frame.groupby("group")]
    s.images.append(("Kaplan-Meier curves of time to first reoffence",
                     charts.to_data_uri(charts.survival_curves(curves, title="Time to first reoffence (Kaplan–Meier)"))))
    if result.survival is not None:
        sv = result.survival
        hr = next((h for h in sv.hazard_ratios if h.covariate.startswith(f"{result.group_col}=")), None)
        text = f"Log-rank {format_p(sv.logrank_p)}."
        if sv.cox_error:
            text += f" No Cox model: {html.escape(sv.cox_error)}."
        if hr:
            adjusted = next((r.label for e in result.evidence or [] for r in e.readings if r.design == "adjusted"),
                            f"Cox model adjusted for {', '.join(h.covariate for h in sv.hazard_ratios if h is not hr)}")
            text += (f" {html.escape(adjusted)}: hazard ratio "
                     f"{_ratio(hr.hazard_ratio)} ({_ratio(hr.lower)} to {_ratio(hr.upper)}); read beside the "
                     "comparisons, never instead of them.")
            if hr.unstable:
                text += " The Cox model did not fit cleanly (separation or collinearity): do not rely on it."
        s.paragraphs.append(text)
    return s


def _interval(c, label: str) -> dict:
    """What the comparison chart draws for one comparison."""
    return {"label": label, "difference": c.difference, "difference_lower": c.difference_lower,
            "difference_upper": c.difference_upper}


def _ratio(x) -> str:
    return "–" if x is None else f"{x:.2f}"


def seed_section() -> Section:
    s = Section("The seed papers' course tables, recomputed", "iom.evaluation.seed_tables.reproduce")
    rows = []
    for name in ("B", "D", "E", "F", "G"):
        r = seed_tables.reproduce(name)
        ok = sum(c.reproduced for c in r.cells)
        rows.append({"table": name, "title": r.title, "percentages reproduced": f"{ok} of {len(r.cells)}",
                     "discrepancies": "; ".join(r.discrepancies) or "none"})
    s.tables.append(_table(pd.DataFrame(rows)))
    roi = seed_tables.reproduce("D").roi
    s.paragraphs.append(
        f"Table D's stated return on investment is {roi.stated_ratio}:1. Counting {html.escape(roi.assumptions)}, "
        f"the table gives {roi.ratio:.1f}:1 (95% range {roi.ratio_lower:.1f} to {roi.ratio_upper:.1f}); "
        "the paper does not say how it costed its figure."
    )
    return s


def courses_section(engine: Engine) -> Section:
    """Table C from the register, and each evaluated course's groups and rates against the paper."""
    from sqlalchemy.orm import Session

    from iom.courses import service as courses
    from iom.evaluation.programmes import course_programmes, evaluate_course

    s = Section("Courses: referrals, completion and evaluations",
                "iom.courses.service.completion; iom.evaluation.programmes.evaluate_course")
    with Session(engine) as session:
        found = courses.completion(session)
    s.tables.append(_table(pd.DataFrame([{
        "course": line.name, "referred": line.referred, "completed": line.completed, "breached": line.breached,
        "withdrawn": line.withdrawn, "open": line.open, "completion": line.rate_text,
        "95% interval": "–" if line.lower is None else f"{line.lower * 100:.0f}% to {line.upper * 100:.0f}%",
        "published": line.published or "–", "check": line.check or "–"} for line in found.lines])))
    for name in course_programmes():
        try:
            result = evaluate_course(engine, name=name, follow_up_months=12)
        except UserError as exc:
            s.paragraphs.append(html.escape(f"{name}: not available: {exc}"))
            continue
        rows = [{"outcome": outcome, "group": g.group, "n": g.n, "events": g.events, "rate": f"{g.rate * 100:.1f}%",
                 "95% interval": f"{g.lower * 100:.1f}% to {g.upper * 100:.1f}%"}
                for outcome, ev in result.evaluations.items() for g in ev.groups]
        s.paragraphs.append(html.escape(result.summary()))
        s.tables.append(_table(pd.DataFrame(rows)))
        for words in result.discrepancies:
            s.paragraphs.append(html.escape(f"Against the paper: {words}."))
    return s
