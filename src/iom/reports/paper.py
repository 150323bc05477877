"""Assemble the board paper from its sections and render it: one self-contained HTML file
(charts inline, no scripts, no network)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import jinja2
import pandas as pd
from sqlalchemy.engine import Engine

from iom.analytics.source import connect, latest_date, latest_in_database
from iom.errors import UserError
from iom.reports.service import (REPORT_PROGRAMMES, Section, adoption_section, courses_section, measures_section,
                                 programme_section, seed_section)


def _safe(build, title: str) -> Section:
    try:
        return build()
    except UserError as exc:
        return Section(title, "", error=str(exc))


def build_report(
    out_dir: Path | str, *, engine: Engine | None = None, con: duckdb.DuckDBPyConnection | None = None,
    as_of: dt.date | None = None, programmes: tuple[str, ...] = REPORT_PROGRAMMES,
) -> Path:
    """Write ``out_dir/report.html`` and return its path.

    From a database, other people's crimes are read from five years before the last day only:
    the programmes' intake year, follow-up and 24-month look-back all fall inside that."""
    if con is None:
        last = as_of or latest_in_database(engine)
        if last is None:
            raise UserError("the register holds no crimes: load or generate data first")
        since = (pd.Timestamp(last) - pd.DateOffset(months=60)).date()
        con = connect(engine=engine, crimes_since=since)
    as_of = as_of or latest_date(con)
    sections = [
        _safe(lambda: measures_section(con, by="npu", title="Reoffending by NPU", chart=True), "Reoffending by NPU"),
        _safe(lambda: measures_section(con, by="classification", title="Reoffending by cohort classification", chart=True),
              "Reoffending by cohort classification"),
        _safe(lambda: measures_section(con, by="offender_type", title="Reoffending by offender type", chart=False),
              "Reoffending by offender type"),
        _safe(lambda: adoption_section(con, as_of=as_of), "Before, during and after adoption"),
        *[_safe(lambda p=p: programme_section(con, name=p, as_of=as_of), f"Programme: {p}") for p in programmes],
        seed_section(),
        *([_safe(lambda: courses_section(engine), "Courses")] if engine is not None else []),
    ]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "report.html"
    path.write_text(_TEMPLATE.render(sections=sections, as_of=as_of, generated=dt.date.today()), encoding="utf-8")
    return path


_TEMPLATE = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined).from_string(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>IOM reoffending and evaluation report, {{ as_of }}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
table.data { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1.5em; }
table.data th, table.data td { padding: 0.25em 0.6em; border-bottom: 1px solid #ddd; text-align: right; }
table.data th { background: #f3f3f3; }
.source { color: #666; font-size: 0.8em; }
.error { color: #a00; }
img { max-width: 100%; display: block; margin: 0.5em 0; }
</style></head>
<body>
<h1>IOM reoffending and evaluation report</h1>
<p>Data up to {{ as_of }}; generated {{ generated }}. Every figure below is computed from the register by the
function named under its heading. Intervals are 95%.</p>
{% for s in sections %}
<section>
<h2>{{ s.title | e }}</h2>
{% if s.source %}<p class="source">computed by {{ s.source | e }}</p>{% endif %}
{% if s.error %}<p class="error">Not available: {{ s.error | e }}</p>{% endif %}
{% for p in s.paragraphs %}<p>{{ p }}</p>{% endfor %}
{% for alt, uri in s.images %}<img alt="{{ alt | e }}" src="{{ uri }}">{% endfor %}
{% for t in s.tables %}{{ t }}{% endfor %}
</section>
{% endfor %}
</body></html>
"""
)
