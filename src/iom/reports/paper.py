"""Assemble the board paper from its sections and render it from one template: a self-contained
HTML file (charts inline as SVG, no scripts, no network) and, with ``pdf``, the same pages as a
PDF through WeasyPrint (the marking on every page, page numbers, a table of contents)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import jinja2
import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine

from iom.analytics.source import Warehouse, as_warehouse, connect, latest_date, latest_in_database
from iom.errors import UserError
from iom.reports.service import (REPORT_PROGRAMMES, Section, adoption_section, courses_section, measures_section,
                                 programme_section, seed_section)

#: The Government Security Classifications marking printed on every page (``--marking``).
DEFAULT_MARKING = "OFFICIAL-SENSITIVE"
REPORTER = "board-paper"
PURPOSE = "board paper (aggregate figures)"

GLOSSARY = (
    ("IOM", "Integrated Offender Management: police, probation and partners managing the offenders who cause "
            "most harm in an area together."),
    ("LOMU / NPU", "Local Offender Management Unit, which manages the cohort for one or more Neighbourhood Policing "
                   "Units."),
    ("Cohort classification", "Why a person is managed: Fixed (neighbourhood crime), Flex (locally chosen) or Free "
                              "(local discretion) classifications such as burglary, MSV or PPO."),
    ("MAPPA", "Multi-Agency Public Protection Arrangements; levels 2 and 3 are managed at multi-agency panels."),
    ("MARAC, DASH", "Multi-Agency Risk Assessment Conference for high-risk domestic abuse victims; DASH is the risk "
                    "checklist that refers to it."),
    ("Out-of-court disposal", "A caution, conditional caution or community resolution instead of a prosecution."),
    ("RFG(V), harm", "Recency, frequency, gravity (and victims): the points that rank offenders; harm is the "
                     "sentencing-guideline days of their offences."),
    ("Police-recorded / proven reoffending", "Any crime recorded in the follow-up, against one proven by a charge "
                                             "or caution within a further six months."),
    ("95% interval", "The range the true figure probably lies in, given the numbers; a narrow one needs many "
                     "people (Wilson for a rate, Newcombe for a difference)."),
    ("Matched or randomised comparison", "A comparison with people like the treated ones (matched) or chosen by "
                                         "chance (randomised): the evidence a verdict rests on."),
    ("Unmatched comparison", "Against everyone else: descriptive only, because the groups differ before treatment."),
    ("Regression to the mean", "People adopted at a peak of offending would offend less afterwards anyway, so a "
                               "before-and-after fall overstates what management achieved."),
    ("Hazard ratio", "From a Cox model: below 1, the group reoffends more slowly than the comparison."),
)

_NUMERIC = re.compile(r"<td>((?:[−\-–]?£?[−\-]?\d[\d,]*(?:\.\d+)?%?(?: \([^<]*\))?)|–)</td>")


#: Column names a board member would not read as words.
HEADINGS = {"npu": "NPU", "n": "People", "smd_before": "Standardised difference before matching",
            "smd_after": "Standardised difference after matching", "fy": "Financial year"}
_HEADING = re.compile(r"<th>([^<]*)</th>")


def _heading(match: re.Match) -> str:
    text = match.group(1).strip()
    text = HEADINGS.get(text, text.replace("_", " "))
    return f"<th>{text[:1].upper()}{text[1:]}</th>"


def _numbers_right(table_html: str) -> str:
    """Numbers right, text left, headings as words: a cell holding a number (a count, a rate
    with its interval, money) gets the ``num`` class; pandas' inline header alignment goes."""
    table_html = table_html.replace(' style="text-align: right;"', "")
    table_html = _HEADING.sub(_heading, table_html)
    return _NUMERIC.sub(r'<td class="num">\1</td>', table_html)


def _safe(build, title: str) -> Section | None:
    try:
        return build()
    except UserError as exc:
        return Section(title, "", error=str(exc))


def _force_name(engine: Engine | None) -> str:
    if engine is None:
        return "the force"
    from sqlalchemy.orm import Session

    from iom.register.models import Unit

    with Session(engine) as session:
        return session.scalar(select(Unit.name).where(Unit.kind == "force").limit(1)) or "the force"


def _domain_sections(engine: Engine, as_of: dt.date) -> dict[str, Section | None]:
    """The operational domains' sections, read through one audited access."""
    from iom.casefile.commands import command_access
    from iom.reports import domains

    with command_access(engine, user=REPORTER, purpose=PURPOSE, as_of=as_of) as access:
        return {
            "cohort": _safe(lambda: domains.cohort_section(access.session, as_of), "The IOM cohort"),
            "framework": _safe(lambda: domains.framework_section(access), "Consistency across LOMUs"),
            "table_a": _safe(lambda: domains.table_a_section(access, as_of), "Diversion"),
            "scrutiny": _safe(lambda: domains.scrutiny_section(access), "Scrutiny"),
            "da": _safe(lambda: domains.domestic_abuse_section(access), "Domestic abuse"),
            "mappa": _safe(lambda: domains.mappa_section(access), "MAPPA panels due"),
        }


def _parts(sections: list[tuple[str, list[Section | None]]]) -> list[tuple[str, list[Section]]]:
    """Parts in the seed paper's order, each with the sections that have something to show."""
    return [(title, [s for s in found if s is not None]) for title, found in sections
            if any(s is not None for s in found)]


def recommendations(parts: list[tuple[str, list[Section]]]) -> list[str]:
    """What the board is asked to note: each part's headlines, and what could not be shown."""
    asks = []
    for title, found in parts:
        lines = [s.headline for s in found if getattr(s, "headline", None)]
        if lines:
            asks.append(f"{title}: " + " ".join(lines))
    missing = [s.title for _, found in parts for s in found if s.error]
    if missing:
        asks.append("What could not be computed from the register, and why, in: " + "; ".join(missing) + ".")
    return asks


def build_report(
    out_dir: Path | str, *, engine: Engine | None = None, con=None,
    as_of: dt.date | None = None, programmes: tuple[str, ...] = REPORT_PROGRAMMES, pdf: bool = False,
    marking: str = DEFAULT_MARKING,
) -> Path:
    """Write ``out_dir/report.html`` (and ``report.pdf`` with ``pdf``) and return the HTML's path.

    From a database, other people's crimes are read from five years before the last day only:
    the programmes' intake year, follow-up and 24-month look-back all fall inside that."""
    marking = " ".join(marking.split()).upper()
    if not marking or len(marking) > 60:
        raise UserError("the protective marking must be 1 to 60 characters, e.g. OFFICIAL-SENSITIVE")
    if con is None:
        last = as_of or latest_in_database(engine)
        if last is None:
            raise UserError("the register holds no crimes: load or generate data first")
        since = (pd.Timestamp(last) - pd.DateOffset(months=60)).date()
        con = connect(engine=engine, crimes_since=since)
    con: Warehouse = as_warehouse(con)  # a DuckDB connection or a warehouse on either engine
    as_of = as_of or latest_date(con)
    domain = _domain_sections(engine, as_of) if engine is not None else {}
    parts = _parts([
        ("The cohort", [domain.get("cohort"), _safe(lambda: measures_section(
            con, by="classification", title="Reoffending by cohort classification", chart=True),
            "Reoffending by cohort classification"), _safe(lambda: measures_section(
                con, by="offender_type", title="Reoffending by offender type", chart=False),
            "Reoffending by offender type")]),
        ("Performance by NPU", [
            _safe(lambda: measures_section(con, by="npu", title="Reoffending by NPU", chart=True), "Reoffending by NPU"),
            _safe(lambda: adoption_section(con, as_of=as_of), "Before, during and after adoption"),
            domain.get("framework")]),
        ("Diversion", [domain.get("table_a"), domain.get("scrutiny")]),
        ("Domestic abuse and public protection", [domain.get("da"), domain.get("mappa")]),
        ("Courses", [_safe(lambda: courses_section(engine), "Courses") if engine is not None else None]),
        ("Evaluations", [*[_safe(lambda p=p: programme_section(con, name=p, as_of=as_of), f"Programme: {p}")
                           for p in programmes], seed_section()]),
    ])
    for _, found in parts:
        for s in found:
            s.tables = [_numbers_right(t) for t in s.tables]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    context = dict(parts=parts, as_of=as_of, generated=dt.date.today(), marking=marking,
                   force=_force_name(engine), summary=[s.headline for _, found in parts for s in found
                                                        if getattr(s, "headline", None)],
                   asks=recommendations(parts), glossary=GLOSSARY)
    path = out / "report.html"
    path.write_text(_template().render(**context, for_pdf=False), encoding="utf-8")
    if pdf:
        write_pdf(_template().render(**context, for_pdf=True), out / "report.pdf")
    return path


def write_pdf(page_html: str, path: Path) -> Path:
    """The same template through WeasyPrint (pango draws the text; no network)."""
    try:
        from weasyprint import HTML
    except OSError as exc:  # pango missing
        raise UserError(f"cannot write a PDF: WeasyPrint needs pango ({exc}); install libpango-1.0-0, "
                        "or run scripts/system-deps") from None
    HTML(string=page_html, base_url=None).write_pdf(path)
    return path


def _template() -> jinja2.Template:
    env = jinja2.Environment(loader=jinja2.PackageLoader("iom.reports", "templates"), autoescape=False,
                             undefined=jinja2.StrictUndefined)
    return env.get_template("paper.html")
