"""Charts for the board report, each a named function of a computed table, rendered to SVG
by vl-convert (no browser, no network) and embedded as data URIs: sharp in print and in the PDF."""

from __future__ import annotations

import base64

import altair as alt
import pandas as pd
import vl_convert as vlc

WIDTH = 560


def to_data_uri(chart: alt.TopLevelMixin) -> str:
    svg = vlc.vegalite_to_svg(chart.to_dict())
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def rates_with_intervals(measures: pd.DataFrame, *, title: str) -> alt.LayerChart:
    """Binary reoffending rate per group under both definitions, with Wilson 95% bars."""
    rows = []
    for d, label in (("recorded", "police-recorded"), ("proven", "proven")):
        for r in measures.itertuples():
            rows.append({"group": str(r.group), "definition": label, "rate": getattr(r, f"{d}_rate"),
                         "lower": getattr(r, f"{d}_lower"), "upper": getattr(r, f"{d}_upper")})
    data = pd.DataFrame(rows)
    base = alt.Chart(data).encode(
        y=alt.Y("group:N", title=None),
        yOffset="definition:N",
        color=alt.Color("definition:N", title="definition"),
    )
    points = base.mark_point(filled=True, size=60).encode(x=alt.X("rate:Q", title="reoffending rate", axis=alt.Axis(format="%")))
    bars = base.mark_rule().encode(x="lower:Q", x2="upper:Q")
    return (bars + points).properties(width=WIDTH, title=title)


def survival_curves(curves: list, *, title: str) -> alt.Chart:
    """Kaplan–Meier step curves (share not yet reoffended) per group."""
    rows = []
    for c in curves:
        rows += [{"group": c.group, "days": t, "survival": s} for t, s in zip(c.times, c.survival)]
    return (
        alt.Chart(pd.DataFrame(rows))
        .mark_line(interpolate="step-after")
        .encode(
            x=alt.X("days:Q", title="days since index date"),
            y=alt.Y("survival:Q", title="not yet reoffended", axis=alt.Axis(format="%"), scale=alt.Scale(zero=False)),
            color=alt.Color("group:N", title=None),
        )
        .properties(width=WIDTH, height=260, title=title)
    )


def before_during_after(bda: pd.DataFrame, *, title: str) -> alt.Chart:
    """Offences per offender-month before, during and after adoption, per NPU."""
    rows = []
    for r in bda.to_dict(orient="records"):
        for w in ("before", "during", "after"):
            rows.append({"npu": r["npu"], "window": w, "rate": r[f"{w}_offences_per_offender_month"]})
    data = pd.DataFrame(rows).dropna()
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("npu:N", title="NPU"),
            xOffset=alt.XOffset("window:N", sort=["before", "during", "after"]),
            y=alt.Y("rate:Q", title="offences per offender-month"),
            color=alt.Color("window:N", sort=["before", "during", "after"], title=None),
        )
        .properties(width=WIDTH, height=260, title=title)
    )


def comparison_intervals(comparisons: list[dict], *, title: str) -> alt.LayerChart:
    """Difference in reoffending against control (points) with the Newcombe 95% range."""
    data = pd.DataFrame(
        [{"label": c["label"], "difference": c["difference"], "lower": c["difference_lower"], "upper": c["difference_upper"]}
         for c in comparisons]
    )
    base = alt.Chart(data).encode(y=alt.Y("label:N", title=None))
    zero = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(strokeDash=[4, 4], color="grey").encode(x="x:Q")
    return (
        zero
        + base.mark_rule().encode(x=alt.X("lower:Q", title="fewer reoffending than control (points)", axis=alt.Axis(format="%")), x2="upper:Q")
        + base.mark_point(filled=True, size=60).encode(x="difference:Q")
    ).properties(width=WIDTH, title=title)
