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
    title: str
    source: str  # the named function(s) that computed it
    images: list[tuple[str, str]] = field(default_factory=list)  # (alt text, data URI)
    tables: list[str] = field(default_factory=list)  # HTML
    paragraphs: list[str] = field(default_factory=list)
    error: str | None = None


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


def adoption_section(con, *, as_of: dt.date) -> Section:
    s = Section("Before, during and after adoption, by NPU",
                "iom.analytics.service.before_during_after, iom.analytics.service.cost_avoided_per_day")
    bda = analytics.before_during_after(con, as_of=as_of)
    avoided = analytics.cost_avoided_per_day(bda)
    s.paragraphs.append(
        "Six months before adoption, the time in the cohort, and three months after exit. The windows differ in "
        "length, so offences and cost are also given per offender-month. Cost of crime avoided per day across "
        f"the force (before minus during cost per offender-day, times current members): <b>{pounds(avoided)}</b>."
    )
    s.images.append(("offences per offender-month before, during and after adoption by NPU",
                     charts.to_data_uri(charts.before_during_after(bda[bda["npu"] != "all"], title="Offences per offender-month"))))
    shown = pd.DataFrame({"NPU": bda["npu"], "offenders": bda["offenders"]})
    for w in ("before", "during", "after"):
        shown[f"{w} £"] = bda[f"{w}_cost_pence"].map(pounds)
        shown[f"{w} offences"] = bda[f"{w}_offences"]
        shown[f"{w} per o-m"] = bda[f"{w}_offences_per_offender_month"].round(3)
    shown["£ avoided per day"] = bda["cost_avoided_pence_per_day"].map(pounds)
    s.tables.append(_table(shown))
    return s


def programme_section(con, *, name: str, as_of: dt.date, follow_up_months: int = 12) -> Section:
    s = Section(f"Programme: {name}", "iom.evaluation.programmes.evaluate_programme, iom.evaluation.survival.kaplan_meier")
    frame, result = programme_evaluation(con, name=name, follow_up_months=follow_up_months, as_of=as_of)
    s.paragraphs.append(f"{html.escape(result.description)}; intake {result.intake[0]} to {result.intake[1]}, "
                        f"{follow_up_months}-month follow-up.")
    s.tables.append(_table(pd.DataFrame({
        "group": [g.group for g in result.groups], "n": [g.n for g in result.groups],
        "reoffended": [g.events for g in result.groups],
        "rate (95%)": [f"{percent(g.rate)} ({percent(g.lower)}–{percent(g.upper)})" for g in result.groups],
    })))
    comps = []
    for c in result.comparisons:
        comps.append(_interval(c, f"{c.group} (all)"))
        s.paragraphs.append(f"<b>{html.escape(c.verdict)}</b>: {html.escape(c.statement)}")
    for m in result.matched or []:
        if m.effect is not None:
            comps.append(_interval(m.effect, f"{m.group} (matched, {m.matched_pairs} pairs)"))
            s.paragraphs.append(f"Matched on {', '.join(b.covariate for b in m.balance)}: "
                                f"<b>{html.escape(m.effect.verdict)}</b>: {html.escape(m.effect.statement)}")
        s.tables.append(_table(m.balance_frame()[["covariate", "smd_before", "smd_after"]].round(3)))
    s.images.append(("difference in reoffending against control with 95% range",
                     charts.to_data_uri(charts.comparison_intervals(comps, title="Difference against control (Newcombe 95%)"))))
    curves = [kaplan_meier(g["days"], g["reoffended"], label=str(k)) for k, g in frame.groupby("group")]
    s.images.append(("Kaplan-Meier curves of time to first reoffence",
                     charts.to_data_uri(charts.survival_curves(curves, title="Time to first reoffence (Kaplan–Meier)"))))
    if result.survival is not None:
        sv = result.survival
        hr = next((h for h in sv.hazard_ratios if h.covariate.startswith("group=")), None)
        text = f"Log-rank {format_p(sv.logrank_p)}."
        if sv.cox_error:
            text += f" No Cox model: {html.escape(sv.cox_error)}."
        if hr:
            text += (f" Cox hazard ratio (adjusted for {', '.join(h.covariate for h in sv.hazard_ratios if h is not hr)}): "
                     f"{_ratio(hr.hazard_ratio)} ({_ratio(hr.lower)} to {_ratio(hr.upper)}).")
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
