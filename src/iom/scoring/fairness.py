"""Fairness of a selection by group: one audit for the register's selection (`iom fairness`,
the `/fairness` page) and for any file of scores (`iom fairness --file`, the page's upload).

Per group, from fairlearn's MetricFrame: selection rate, false positive and false negative rates
(selection as the prediction), positive predictive value and calibration by band of score, each
with a 95% Wilson interval (statsmodels). A gap between a group and the reference group (the
largest) is flagged only when it is material (a ratio below the four-fifths threshold, or a
calibration gap over the tolerance), both groups have at least the minimum size, and Newcombe's
95% interval for the difference excludes zero; a material gap the intervals do not support is
said to be within chance instead. So 0 of 30 selected against 1% of 5,000 is not a disparity:
0 of 30 is consistent with 1%."""

from __future__ import annotations

import datetime as dt
import math
from array import array
from functools import partial
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame, count, false_negative_rate, false_positive_rate, selection_rate
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sklearn.metrics import confusion_matrix, precision_score
from sqlalchemy.orm import Session
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from iom.csv_input import CsvReader
from iom.dates import months_after, months_before
from iom.errors import UserError
from iom.formatting import percent, probability
from iom.scoring.config import ScoringConfig, load_config
from iom.scoring.schemas import AttributeFairness, CalibrationCell, FairnessAudit, GroupFairness, IntervalRate

ATTRIBUTES = {"ethnicity": "ethnicity", "sex": "sex", "age_band": "age band"}
AGE_BANDS = [(0, "under 18"), (18, "18-24"), (25, "25-34"), (35, "35-49"), (50, "50 and over")]
CONFIDENCE = 0.95
#: Calibration is read in ten bands of score (deciles), or by value for a score with ten or
#: fewer values (COMPAS's decile scores).
BANDS = 10
#: Rows a file may hold: the audit keeps three numbers a row, so 2 million is tens of MB.
MAX_ROWS = 2_000_000

#: The rates compared between groups: what a flag calls them, and how each reads in words.
RATES = {
    "selection_rate": ("Selection", "{rate} of {who} were selected"),
    "false_positive_rate": ("False positives", "{rate} of {who} who did not reoffend were selected"),
    "false_negative_rate": ("False negatives", "{rate} of {who} who reoffended were not selected"),
    "positive_predictive_value": ("Predictive value", "{rate} of {who} selected went on to reoffend"),
}


def age_band(ages) -> np.ndarray:
    starts = np.array([a for a, _ in AGE_BANDS])
    names = np.array([n for _, n in AGE_BANDS])
    return names[np.searchsorted(starts, np.asarray(ages), side="right") - 1]


def _observed_rate(y_true, y_pred):
    return float(np.mean(y_true)) if len(y_true) else math.nan


def _events(y_true, y_pred):
    return int(np.sum(y_true))


def _mean_score(y_true, y_pred, score):
    s = np.asarray(score, dtype=float)
    return float(np.nanmean(s)) if np.isfinite(s).any() else math.nan


def _pct(x: float | None) -> str:
    """Whole percentages, with one decimal under 10% so 1% and 0% stay apart from 0.6%."""
    if x is None or x != x:
        return "n/a"
    x = 0.0 if abs(x) < 0.0005 else x  # an interval's end computed as 1e-17
    return percent(x, 1 if 0 < x < 0.1 else 0)


def rate_words(r: IntervalRate) -> str:
    """ "12% (95% 10% to 14%)", or "nobody to count"."""
    if r.value is None:
        return "nobody to count"
    return f"{_pct(r.value)} ({CONFIDENCE:.0%} {_pct(r.low)} to {_pct(r.high)})"


def rate_short(r: IntervalRate) -> str:
    """ "12% (10–14%)", for a table's cell."""
    return "–" if r.value is None else f"{_pct(r.value)} ({_pct(r.low)}–{_pct(r.high)})"


def interval_rate(events: int, n: int, value: float | None = None) -> IntervalRate:
    """``events`` of ``n`` with its Wilson interval (it keeps its coverage at 0% and 100%)."""
    if n == 0:
        return IntervalRate(events=0, n=0, value=None, low=None, high=None)
    low, high = proportion_confint(events, n, alpha=1 - CONFIDENCE, method="wilson")
    value = events / n if value is None or value != value else float(value)
    return IntervalRate(events=int(events), n=int(n), value=value, low=float(low), high=float(high))


def difference_interval(a: IntervalRate, b: IntervalRate) -> tuple[float, float]:
    """Newcombe's hybrid score interval for ``a`` minus ``b`` (built from the two Wilson intervals)."""
    low, high = confint_proportions_2indep(a.events, a.n, b.events, b.n, method="newcomb", compare="diff",
                                           alpha=1 - CONFIDENCE)
    return float(low), float(high)


def _points(low: float, high: float) -> str:
    return f"{low * 100:+.1f} to {high * 100:+.1f} points"


def score_bands(score: pd.Series, *, is_probability: bool) -> tuple[pd.Series, dict[int, str]]:
    """Each row's band of score (1 = lowest; NaN where no score) and each band's range in words."""
    finite = score[np.isfinite(score)]
    if finite.empty:
        return pd.Series(np.nan, index=score.index), {}
    show = probability if is_probability else (lambda v: f"{v:g}")
    values = np.unique(finite.to_numpy())
    if len(values) <= BANDS:
        band = score.map({v: i + 1 for i, v in enumerate(values)})
        return band, {i + 1: f"score {show(v)}" for i, v in enumerate(values)}
    band = pd.qcut(score, BANDS, labels=False, duplicates="drop") + 1
    ranges = finite.groupby(band[finite.index]).agg(["min", "max"])
    return band, {int(b): f"scores {show(r['min'])} to {show(r['max'])}" for b, r in ranges.iterrows()}


def _groups(frame: pd.DataFrame, column: str, min_size: int) -> list[GroupFairness]:
    y_true = frame["observed"].to_numpy(dtype=int)
    y_pred = frame["selected"].to_numpy(dtype=int)
    metrics = {
        "people": count, "selection_rate": selection_rate, "observed_rate": _observed_rate,
        "false_positive_rate": false_positive_rate, "false_negative_rate": false_negative_rate,
        "positive_predictive_value": partial(precision_score, zero_division=np.nan),
        "confusion": partial(confusion_matrix, labels=[0, 1]), "mean_score": _mean_score,
    }
    mf = MetricFrame(metrics=metrics, y_true=y_true, y_pred=y_pred,
                     sensitive_features=frame[column].astype(str).rename(column),
                     sample_params={"mean_score": {"score": frame["score"].to_numpy(dtype=float)}})
    out = []
    for group, m in mf.by_group.iterrows():
        (tn, fp), (fn, tp) = m["confusion"].tolist()
        people = int(m["people"])
        out.append(GroupFairness(
            group=str(group), people=people, judged=people >= min_size,
            selection_rate=interval_rate(tp + fp, people, m["selection_rate"]),
            observed_rate=interval_rate(tp + fn, people, m["observed_rate"]),
            false_positive_rate=interval_rate(fp, fp + tn, m["false_positive_rate"]),
            false_negative_rate=interval_rate(fn, fn + tp, m["false_negative_rate"]),
            positive_predictive_value=interval_rate(tp, tp + fp, m["positive_predictive_value"]),
            mean_score=None if m["mean_score"] != m["mean_score"] else float(m["mean_score"]),
        ))
    return out


def _calibration(frame: pd.DataFrame, column: str, bands: pd.Series, labels: dict[int, str]) -> list[CalibrationCell]:
    scored = bands.notna()
    if not scored.any():
        return []
    sub = frame[scored]
    mf = MetricFrame(metrics={"people": count, "reoffended": _events, "mean_score": _mean_score},
                     y_true=sub["observed"].to_numpy(dtype=int), y_pred=sub["selected"].to_numpy(dtype=int),
                     sensitive_features=pd.DataFrame({column: sub[column].astype(str), "band": bands[scored].astype(int)}),
                     sample_params={"mean_score": {"score": sub["score"].to_numpy(dtype=float)}})
    cells = []
    for (group, band), m in mf.by_group.iterrows():
        if not m["people"] == m["people"] or not m["people"]:
            continue  # nobody of this group in this band
        cells.append(CalibrationCell(band=int(band), scores=labels[int(band)], group=str(group), people=int(m["people"]),
                                     mean_score=float(m["mean_score"]),
                                     observed_rate=interval_rate(int(m["reoffended"]), int(m["people"]))))
    return cells


def _judge(title: str, groups: list[GroupFairness], cells: list[CalibrationCell], *, reference: str | None,
           f, is_probability: bool) -> AttributeFairness:
    """The flags (material, large enough and supported by the intervals) and the gaps said to be
    within chance, each group against the reference."""
    judged = [g for g in groups if g.judged]
    small = [g.group for g in groups if not g.judged]
    if reference is not None:
        ref = next(g for g in groups if g.group == reference)
        if not ref.judged:
            raise UserError(f"the reference group {reference!r} has {ref.people} people, under the minimum "
                            f"{f.min_group_size} to judge others against")
    else:
        ref = max(judged, key=lambda g: g.people, default=None)
    flags: list[str] = []
    within_chance: list[str] = []

    def weigh(text: str, a: IntervalRate, b: IntervalRate) -> None:
        low, high = difference_interval(a, b)
        if low > 0 or high < 0:
            flags.append(f"{text}; the {CONFIDENCE:.0%} interval for the difference, {_points(low, high)}, "
                         "does not include zero.")
        else:
            within_chance.append(f"{text}; not flagged: the difference could be chance "
                                 f"({CONFIDENCE:.0%} interval {_points(low, high)}).")

    for g in judged:
        obs = g.observed_rate
        if is_probability and g.mean_score is not None and abs(g.mean_score - obs.value) > f.calibration_tolerance:
            way = "over" if g.mean_score > obs.value else "under"
            text = (f"Calibration: for {title} {g.group} the model {way}-predicts reoffending "
                    f"({_pct(g.mean_score)} predicted on average, {rate_words(obs)} observed)")
            if not obs.low <= g.mean_score <= obs.high:
                flags.append(f"{text}; the prediction lies outside the observed rate's interval.")
            else:
                within_chance.append(f"{text}; not flagged: the prediction lies within the observed rate's interval.")
        if ref is None or g is ref:
            continue
        for field, (label, words) in RATES.items():
            a, b = getattr(g, field), getattr(ref, field)
            if a.value is None or b.value is None:
                continue
            high, low = max(a.value, b.value), min(a.value, b.value)
            if high == 0 or low / high >= f.ratio_threshold:
                continue
            weigh(f"{label}: {words.format(rate=rate_words(a), who=f'{title} {g.group}')}, against "
                  f"{rate_words(b)} of {ref.group} (ratio {low / high:.2f}, below {f.ratio_threshold:g})", a, b)
    if ref is not None:
        by_band = {(c.group, c.band): c for c in cells}
        for c in cells:
            r = by_band.get((ref.group, c.band))
            if (c.group == ref.group or r is None or c.group in small
                    or min(c.people, r.people) < f.min_group_size):
                continue
            if abs(c.observed_rate.value - r.observed_rate.value) > f.calibration_tolerance:
                weigh(f"Calibration at {c.scores}: {rate_words(c.observed_rate)} of {title} {c.group} reoffended, "
                      f"against {rate_words(r.observed_rate)} of {ref.group}: the same score does not mean the "
                      "same risk", c.observed_rate, r.observed_rate)
    return AttributeFairness(title=title, reference=None if ref is None else ref.group, groups=groups,
                             calibration=cells, too_small=small, flags=flags, unsupported=within_chance)


def audit(frame: pd.DataFrame, *, config: ScoringConfig | None = None, attributes: dict[str, str] | None = None,
          reference: str | None = None) -> FairnessAudit:
    """Audit ``frame``: one row a person with ``selected`` 0/1, ``observed`` 0/1, ``score`` (NaN
    where none) and a column for each of ``attributes`` ({column: title}, default ethnicity,
    sex and age band)."""
    config = config or load_config()
    f = config.fairness
    attributes = attributes or ATTRIBUTES
    score = pd.to_numeric(frame["score"], errors="coerce").astype(float)
    finite = score[np.isfinite(score)]
    is_probability = bool(len(finite)) and bool(((finite >= 0) & (finite <= 1)).all())
    bands, labels = score_bands(score, is_probability=is_probability)
    result = FairnessAudit(people=int(len(frame)), selected=int(frame["selected"].sum()),
                           ratio_threshold=f.ratio_threshold, min_group_size=f.min_group_size,
                           calibration_tolerance=f.calibration_tolerance, confidence=CONFIDENCE,
                           attributes={}, flags=[], score_is_probability=is_probability)
    grouped = {column: _groups(frame, column, f.min_group_size) for column in attributes}
    if reference is not None and not any(g.group == reference for gs in grouped.values() for g in gs):
        raise UserError(f"no group {reference!r} to compare with (groups: "
                        f"{', '.join(g.group for gs in grouped.values() for g in gs)})")
    for column, title in attributes.items():
        groups = grouped[column]
        cells = _calibration(frame, column, bands, labels)
        mine = reference if any(g.group == reference for g in groups) else None
        attr = _judge(title, groups, cells, reference=mine, f=f, is_probability=is_probability)
        result.attributes[column] = attr
        result.flags.extend(attr.flags)
    return result


# --- a file of scores ------------------------------------------------------------------------

def _column(header: list[str], name: str, source: str) -> int:
    where = [i for i, h in enumerate(header) if h == name]
    if not where:
        raise UserError(f"{source} has no column {name!r} (its columns: {', '.join(header)})")
    if len(where) > 1:
        raise UserError(f"{source} names the column {name!r} {len(where)} times (columns "
                        f"{', '.join(str(i + 1) for i in where)}): rename all but one")
    return where[0]


def read_scores(binary: BinaryIO, *, source: str, group_cols: list[str], score_col: str, outcome_col: str,
                threshold: float, max_rows: int = MAX_ROWS) -> pd.DataFrame:
    """The file's rows as the audit's frame (``selected`` = score at or above ``threshold``),
    read within the CSV reader's limits; every refusal names the file, the line and the fault."""
    reader = CsvReader(binary, source)
    rows = iter(reader)
    header = next(rows, None)
    if header is None:
        raise UserError(f"{source} is empty: it needs a header row naming the columns, then a row per person")
    header = [h.strip() for h in header]
    at = {c: _column(header, c, source) for c in dict.fromkeys([*group_cols, score_col, outcome_col])}
    codes: dict[str, dict[str, int]] = {c: {} for c in group_cols}
    groups = {c: array("i") for c in group_cols}
    scores, outcomes = array("d"), array("b")
    for row in rows:
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        line = reader.line
        if len(row) != len(header):
            raise UserError(f"{source} line {line}: {len(row)} fields where the header has {len(header)}")
        if len(scores) >= max_rows:
            raise UserError(f"{source} has more than {max_rows:,} rows, the most the audit reads: audit a sample "
                            "or split the file")
        raw = row[at[score_col]].strip()
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise UserError(f"{source} line {line}: the score column {score_col!r} holds {raw!r}, not a number"
                            if raw else f"{source} line {line}: the score column {score_col!r} is empty")
        outcome = row[at[outcome_col]].strip()
        if outcome not in ("0", "1"):
            raise UserError(f"{source} line {line}: the outcome column {outcome_col!r} holds {outcome!r}; "
                            "it must be 0 (did not reoffend) or 1 (reoffended)")
        scores.append(value)
        outcomes.append(int(outcome))
        for c in group_cols:
            name = row[at[c]].strip() or "(blank)"
            groups[c].append(codes[c].setdefault(name, len(codes[c])))
    if not scores:
        raise UserError(f"{source} has a header but no rows to audit")
    score = np.frombuffer(scores, dtype=float)
    frame = pd.DataFrame({"score": score, "selected": (score >= threshold).astype(int),
                          "observed": np.frombuffer(outcomes, dtype=np.int8).astype(int)})
    for c in group_cols:
        frame[c] = pd.Categorical.from_codes(np.frombuffer(groups[c], dtype=np.int32), categories=list(codes[c]))
    return frame


def file_audit(binary: BinaryIO, *, source: str, group_cols: list[str], score_col: str, outcome_col: str,
               threshold: float, reference: str | None = None, config=None) -> FairnessAudit:
    """The audit of a file of scores and outcomes (an upload, or ``Path.open("rb")``)."""
    if not group_cols:
        raise UserError("name the group column (--group-col COL)")
    if not math.isfinite(threshold):
        raise UserError("the threshold must be a number")
    config = config if isinstance(config, ScoringConfig) else load_config(config)
    frame = read_scores(binary, source=source, group_cols=group_cols, score_col=score_col, outcome_col=outcome_col,
                        threshold=threshold)
    report = audit(frame, config=config, attributes={c: c for c in group_cols}, reference=reference)
    return report.model_copy(update={"source": source, "threshold": threshold, "config_version": config.version})


def path_audit(path: Path, **options) -> FairnessAudit:
    """``file_audit`` of a file on disk (a missing file is said in words by the command)."""
    with Path(path).open("rb") as binary:
        return file_audit(binary, source=Path(path).name, **options)


# --- the register's selection ---------------------------------------------------------------

def audit_frame(session: Session, *, as_of: dt.date, config: ScoringConfig) -> pd.DataFrame:
    """Everyone scored on ``as_of`` with their selection, predicted risk (the score) and observed outcome."""
    from iom.register.models import Unit
    from iom.scoring import model as model_mod
    from iom.scoring import service
    from iom.scoring.data import load_register
    from iom.scoring.people import age_years
    from sqlalchemy import select

    latest = service.reference_date_or_none(session)
    needed = months_after(as_of, config.model.follow_up_months + config.model.waiting_months)
    if latest is None or needed > latest:
        raise UserError(
            f"the follow-up after {as_of} is incomplete (it needs data up to {needed}, the register ends "
            f"{latest}): audit an earlier date so observed reoffending is known"
        )
    run = service.get_run(session, as_of=as_of, config=config)
    scores = service.stored_scores(session, run)
    selected: set[int] = set()
    npus = session.scalars(select(Unit.code).where(Unit.kind == "npu", Unit.officers.is_not(None))).all()
    for code in npus:
        rows = service.selection_rows(session, npu_code=code, as_of=as_of, config=config, explain=False)
        selected.update(r["person_id"] for r in rows if r["decision"] != "exit")
    reg = load_register(session, config)
    people = reg.people.set_index("id").reindex(scores.index)
    frame = pd.DataFrame(index=scores.index)
    frame["selected"] = frame.index.isin(list(selected)).astype(int)
    frame["observed"] = model_mod.labels(reg.crimes, as_of, frame.index.to_numpy(), config)
    frame["score"] = pd.to_numeric(scores["risk"], errors="coerce").astype(float)
    frame["ethnicity"] = people["ethnicity"].fillna("unknown").to_numpy()
    frame["sex"] = people["sex"].fillna("U").to_numpy()
    frame["age_band"] = age_band(age_years(people["dob"].fillna(0).to_numpy(), as_of))
    return frame


def default_audit_date(session: Session, config: ScoringConfig) -> dt.date:
    """The latest date whose follow-up is complete, so observed reoffending is known."""
    from iom.scoring import service

    latest = service.reference_date_or_none(session)
    if latest is None:
        raise UserError("the register holds no crimes: load or generate data first")
    return months_before(latest, config.model.follow_up_months + config.model.waiting_months)


def fairness_audit(session: Session, *, as_of: dt.date | None = None, config=None) -> FairnessAudit:
    """The audit for ``as_of`` (default: ``default_audit_date``)."""
    config = config if isinstance(config, ScoringConfig) else load_config(config)
    as_of = as_of or default_audit_date(session, config)
    frame = audit_frame(session, as_of=as_of, config=config)
    if frame.empty:
        raise UserError(f"nobody to audit on {as_of}: no one had a counted crime before it (choose a date the register covers)")
    return audit(frame, config=config).model_copy(update={"as_of": as_of, "config_version": config.version})


def render_html(report: FairnessAudit) -> str:
    """A page of its own (``--html``), from the same results partial as the web page."""
    env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                      autoescape=select_autoescape(["html"]))
    return env.get_template("fairness.html").render(report=report, **template_helpers())


def template_helpers() -> dict:
    """What the results partial calls, for the web page and the written page alike."""
    return {"pct": _pct, "rate_words": rate_words, "probability": probability}
