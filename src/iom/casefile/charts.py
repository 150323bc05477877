"""Dashboard charts: Altair specs rendered to SVG by vl-convert (no browser, no JavaScript).

Served as images so the page's CSP stays strict; each chart also has a data table on the page."""

from __future__ import annotations

import altair as alt
import pandas as pd
import vl_convert

from iom.casefile import schemas

RISK_COLOURS = {"High": "#b2182b", "Medium": "#ef8a62", "Low": "#67a9cf"}


def _svg(chart: alt.Chart) -> str:
    return vl_convert.vegalite_to_svg(chart.to_json())


def cohort_sizes(data: schemas.Dashboard) -> str:
    frame = pd.DataFrame({"classification": list(data.cohort_sizes), "members": list(data.cohort_sizes.values())})
    chart = alt.Chart(frame, title="Current cohort members by classification").mark_bar(color="#2b5c8a").encode(
        x=alt.X("members:Q", title="members"), y=alt.Y("classification:N", sort="-x", title=None)
    ).properties(width=360, height=220)
    return _svg(chart)


def risk_split(data: schemas.Dashboard) -> str:
    frame = pd.DataFrame({"risk": list(data.risk_split), "members": list(data.risk_split.values())})
    chart = alt.Chart(frame, title="Risk level of current members").mark_bar().encode(
        x=alt.X("risk:N", sort=list(RISK_COLOURS), title=None),
        y=alt.Y("members:Q"),
        color=alt.Color("risk:N", scale=alt.Scale(domain=list(RISK_COLOURS), range=list(RISK_COLOURS.values())), legend=None),
    ).properties(width=260, height=220)
    return _svg(chart)


def reoffending_trend(data: schemas.Dashboard) -> str:
    frame = pd.DataFrame(data.reoffending_trend, columns=["month", "crimes"])
    chart = alt.Chart(frame, title="Recorded crimes by current members, per month").mark_line(point=True, color="#2b5c8a").encode(
        x=alt.X("month:O", title=None), y=alt.Y("crimes:Q", title="crimes recorded")
    ).properties(width=560, height=220)
    return _svg(chart)


CHARTS = {"cohort-sizes": cohort_sizes, "risk-split": risk_split, "reoffending-trend": reoffending_trend}
