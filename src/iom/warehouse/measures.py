"""The ID-IOM measures as Ibis expressions: reoffending (police-recorded and proven, side by
side), frequency and cost of crime by unit, cohort and classification, and before/during/after
adoption. Each runs on whichever engine the warehouse is on.

Every function takes a ``Warehouse`` (or a DuckDB connection from ``source.connect``) and
returns a pandas DataFrame; money is integer pence. Definitions (``shared/reference/domain.md``):

* **police-recorded**: any crime (as suspect or offender) committed in the follow-up after
  the index date and recorded by its end;
* **proven** (MoJ): committed in the follow-up and proven by a charge or caution
  (``PROVEN_OUTCOMES``) by the end of the follow-up plus the waiting period.
"""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from iom.dates import months_before
from iom.errors import UserError
from iom.register.models import PROVEN_OUTCOMES
from iom.warehouse.core import Warehouse, as_warehouse, latest_date

GROUPINGS = ("force", "npu", "lomu", "classification", "offender_type", "lead_agency", "supervision")
#: ``--by supervision``: a member is under statutory supervision when a statutory agency leads
#: their management (probation, national or CRC, or the Youth Offending Team), and managed on a
#: voluntary, non-statutory basis when the police lead (seed paper 002 §9; §35: IOM itself is
#: non-statutory, unlike the YOT). Keys: every lead agency ``cohorts.models.LEAD_AGENCIES`` allows.
SUPERVISION = {
    "National Probation Service": "statutory",
    "Probation provider (CRC)": "statutory",
    "Youth Offending Team": "statutory",
    "Police": "non-statutory",
}
DEFINITIONS = ("recorded", "proven")
#: Days in an average calendar month: rates per offender-month compare unequal windows.
DAYS_PER_MONTH = 365.25 / 12


def months(n: int):
    return ibis.interval(months=int(n))


def counted_crimes(wh: Warehouse) -> ibis.Table:
    """Crimes whose offence is a notifiable crime, with its cost: what every measure counts."""
    cr, o, coc = wh.table("crimes"), wh.table("offences"), wh.table("cost_of_crime")
    o = o.filter(o.is_crime)
    joined = cr.join(o, cr.offence_code == o.code).join(coc, o.cost_category == coc.category)
    return joined.select(cr.id, cr.person_id, cr.committed_on, cr.recorded_on, cr.outcome, cr.outcome_on,
                         coc.cost_pence)


def _force_code(wh: Warehouse, people: ibis.Table):
    """A person's force: their own ``force_code`` in the national data set, else the one force
    a force's register holds."""
    if "force_code" in people.columns:
        return people.force_code.fill_null("unknown")
    units = wh.table("units")
    code = wh.scalar(units.filter(units.kind == "force").code.min())
    return ibis.literal(None if pd.isna(code) else str(code), type="string")


def cohort(wh: Warehouse, *, start: dt.date, by: str = "npu") -> ibis.Table:
    """People in the IOM cohort on ``start`` (person_id, index_date, grp)."""
    if by not in GROUPINGS:
        raise UserError(f"unknown grouping {by!r}: choose from {', '.join(GROUPINGS)}")
    cm = wh.table("cohort_memberships")
    d = ibis.literal(start, type="date")
    active = cm.filter((cm.adopted_on <= d) & (cm.exited_on.isnull() | (cm.exited_on >= d)))
    if by == "classification":
        return active.select(person_id=active.person_id, index_date=d, grp=active.classification_code).distinct()
    members = active.select("person_id").distinct()
    people, units, mh = wh.table("people"), wh.table("units"), wh.table("management_history")
    mh = mh.filter(mh.effective_from <= d)
    latest = mh.group_by("person_id").aggregate(offender_type=mh.offender_type.argmax(mh.effective_from),
                                                lead_agency=mh.lead_agency.argmax(mh.effective_from))
    j = (members.join(people, members.person_id == people.id)
         .left_join(units, people.home_npu == units.code)
         .left_join(latest, members.person_id == latest.person_id))
    if by == "force":
        grp = _force_code(wh, people)
    elif by == "npu":
        grp = people.home_npu.fill_null("unknown")
    elif by == "lomu":
        grp = units.parent_code.fill_null("unknown")
    elif by in ("offender_type", "lead_agency"):
        grp = latest[by].fill_null("unknown")
    else:
        grp = latest.lead_agency.cases(*SUPERVISION.items(), else_="unknown")
    return j.select(person_id=members.person_id, index_date=d, grp=grp)


def measures_for_cohort(
    con, *, cohort: ibis.Table, follow_up_months: int = 12, wait_months: int = 6
) -> pd.DataFrame:
    """Binary rate (Wilson 95%), frequency and cost per group of a cohort (person_id,
    index_date, grp), under both definitions."""
    wh = as_warehouse(con)
    c = cohort.group_by(["grp", "person_id"]).aggregate(index_date=cohort.index_date.min())
    cr = counted_crimes(wh)
    fu_end = (c.index_date + months(follow_up_months)).cast("date")
    wait_end = (c.index_date + months(follow_up_months + wait_months)).cast("date")
    off = c.join(cr, [c.person_id == cr.person_id, cr.committed_on > c.index_date, cr.committed_on <= fu_end])
    off = off.select(c.grp, c.person_id, cr.recorded_on, cr.outcome, cr.outcome_on, cr.cost_pence,
                     fu_end=fu_end, wait_end=wait_end)
    rec = off.recorded_on <= off.fu_end
    pro = off.outcome.isin(list(PROVEN_OUTCOMES)) & (off.outcome_on <= off.wait_end)
    per = off.group_by(["grp", "person_id"]).aggregate(
        rec_n=ibis.ifelse(rec, 1, 0).sum(), rec_cost=ibis.ifelse(rec, off.cost_pence, 0).sum(),
        pro_n=ibis.ifelse(pro, 1, 0).sum(), pro_cost=ibis.ifelse(pro, off.cost_pence, 0).sum(),
    )
    j = c.left_join(per, [c.grp == per.grp, c.person_id == per.person_id])
    out = j.group_by(group=c.grp).aggregate(
        offenders=c.person_id.count(),
        recorded_reoffenders=ibis.ifelse(per.rec_n > 0, 1, 0).sum(),
        recorded_offences=per.rec_n.sum().fill_null(0).cast("int64"),
        recorded_cost_pence=per.rec_cost.sum().fill_null(0).cast("int64"),
        proven_reoffenders=ibis.ifelse(per.pro_n > 0, 1, 0).sum(),
        proven_offences=per.pro_n.sum().fill_null(0).cast("int64"),
        proven_cost_pence=per.pro_cost.sum().fill_null(0).cast("int64"),
    ).order_by("group")
    frame = wh.execute(out)
    for col in frame.columns[1:]:
        frame[col] = frame[col].fillna(0).astype("int64")
    frame["group"] = frame["group"].astype(object)
    return _add_rates(frame)


def _add_rates(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    n = frame["offenders"].to_numpy()
    for d in DEFINITIONS:
        k = frame[f"{d}_reoffenders"].to_numpy()
        off = frame[f"{d}_offences"].to_numpy()
        lo, hi = proportion_confint(k, np.maximum(n, 1), method="wilson")
        frame[f"{d}_rate"] = np.where(n > 0, k / np.maximum(n, 1), np.nan)
        frame[f"{d}_lower"], frame[f"{d}_upper"] = lo, hi
        frame[f"{d}_per_offender"] = np.where(n > 0, off / np.maximum(n, 1), np.nan)
        frame[f"{d}_per_reoffender"] = np.where(k > 0, off / np.maximum(k, 1), np.nan)
        frame[f"{d}_cost_pence"] = frame[f"{d}_cost_pence"].astype("int64")
    order = ["group", "offenders"] + [
        f"{d}_{m}" for d in DEFINITIONS
        for m in ("reoffenders", "rate", "lower", "upper", "offences", "per_offender", "per_reoffender", "cost_pence")
    ]
    return frame[order]


def default_start(con, *, follow_up_months: int = 12, wait_months: int = 6) -> dt.date:
    """The latest index date whose follow-up and waiting period the data fully cover."""
    return months_before(latest_date(con), follow_up_months + wait_months)


def reoffending_measures(
    con, *, by: str = "npu", start: dt.date | None = None, follow_up_months: int = 12, wait_months: int = 6
) -> pd.DataFrame:
    """Measures for the IOM cohort on ``start`` (default: latest fully-observed date), by group."""
    wh = as_warehouse(con)
    start = start or default_start(wh, follow_up_months=follow_up_months, wait_months=wait_months)
    out = measures_for_cohort(wh, cohort=cohort(wh, start=start, by=by), follow_up_months=follow_up_months,
                              wait_months=wait_months)
    out.insert(1, "index_date", start)
    return out


def all_measures(con, *, start: dt.date | None = None, follow_up_months: int = 12,
                 wait_months: int = 6) -> dict[str, pd.DataFrame]:
    """Every grouping at once (what the report and the benchmark use), in one query: the
    cohorts of every grouping stacked with the grouping's name before each group, so the crimes
    are read once rather than once per grouping (on Spark, each query costs seconds)."""
    wh = as_warehouse(con)
    start = start or default_start(wh, follow_up_months=follow_up_months, wait_months=wait_months)
    stacked = None
    for by in GROUPINGS:
        c = cohort(wh, start=start, by=by)
        c = c.mutate(grp=ibis.literal(by + _SEP) + c.grp.fill_null(""))
        stacked = c if stacked is None else stacked.union(c)
    frame = measures_for_cohort(wh, cohort=stacked, follow_up_months=follow_up_months, wait_months=wait_months)
    by_name = frame["group"].str.split(_SEP, n=1, expand=True)
    out = {}
    for by in GROUPINGS:
        part = frame[by_name[0] == by].reset_index(drop=True)
        part["group"] = [g or None for g in by_name.loc[by_name[0] == by, 1]]
        part.insert(1, "index_date", start)
        out[by] = part
    return out


#: Between a grouping's name and its group in ``all_measures``' one query (in no unit's code).
_SEP = "\x1f"


#: The cost avoided per day's 95% interval: offenders resampled with replacement this many
#: times (percentile bootstrap, scipy.stats.bootstrap), from this seed, so a report repeats.
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20150
#: Why "before minus during" overstates what IOM saves: said beside every cost avoided.
REGRESSION_TO_THE_MEAN = (
    "People are adopted at a peak of their offending, so their offending would fall afterwards even without IOM "
    "(regression to the mean): before minus during is an upper bound on what IOM saved, not a measure of it. "
    "The interval covers sampling error among these offenders only, not that bias."
)
WINDOWS = ("after", "before", "during")


def windows(wh: Warehouse, *, as_of: dt.date, before_months: int = 6, after_months: int = 3) -> ibis.Table:
    """One row per person and window: person_id, npu, current, win, ws, we ([ws, we) half open)."""
    cm, people = wh.table("cohort_memberships"), wh.table("people")
    d = ibis.literal(as_of, type="date")
    cm = cm.filter(cm.adopted_on <= d)
    spell = cm.group_by("person_id").aggregate(
        adopted_on=cm.adopted_on.min(),
        exited_on=ibis.ifelse(cm.exited_on.isnull().any(), ibis.null("date"), cm.exited_on.max()),
    )
    s = spell.join(people, spell.person_id == people.id).select(
        spell.person_id, npu=people.home_npu.fill_null("unknown"), adopted_on=spell.adopted_on,
        exited_on=spell.exited_on, current=spell.exited_on.isnull() | (spell.exited_on > d),
    )
    before = s.select("person_id", "npu", "current", win=ibis.literal("before"),
                      ws=(s.adopted_on - months(before_months)).cast("date"), we=s.adopted_on)
    during = s.select("person_id", "npu", "current", win=ibis.literal("during"), ws=s.adopted_on,
                      we=ibis.ifelse(s.current, d, s.exited_on))
    gone = s.filter(~s.current)
    after = gone.select("person_id", "npu", "current", win=ibis.literal("after"), ws=gone.exited_on,
                        we=ibis.least((gone.exited_on + months(after_months)).cast("date"), d))
    return before.union(during).union(after)


def person_windows(con, *, as_of: dt.date, before_months: int = 6, after_months: int = 3) -> pd.DataFrame:
    """One row per person and window (before, during, after): npu, current, days, offences and
    cost_pence; what ``before_during_after`` adds up and its bootstrap resamples."""
    wh = as_warehouse(con)
    w = windows(wh, as_of=as_of, before_months=before_months, after_months=after_months)
    cr = counted_crimes(wh)
    hit = w.join(cr, [w.person_id == cr.person_id, cr.committed_on >= w.ws, cr.committed_on < w.we])
    o = hit.group_by([w.person_id, w.win]).aggregate(offences=cr.id.count(), cost_pence=cr.cost_pence.sum())
    j = w.left_join(o, [w.person_id == o.person_id, w.win == o.win])
    out = j.select(
        person_id=w.person_id, npu=w.npu, current=w.current, win=w.win,
        days=ibis.greatest(w.we.delta(w.ws, unit="day"), 0),
        offences=o.offences.fill_null(0).cast("int64"), cost_pence=o.cost_pence.fill_null(0).cast("int64"),
    ).order_by(["person_id", "win"])
    frame = wh.execute(out)
    for col in ("person_id", "days", "offences", "cost_pence"):
        frame[col] = frame[col].astype("int64")
    frame["current"] = frame["current"].astype(bool)
    return frame


def before_during_after(
    con,
    *,
    as_of: dt.date | None = None,
    before_months: int = 6,
    after_months: int = 3,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> pd.DataFrame:
    """The seed's NPU table (6 months before adoption, during, 3 months after), with rates per
    offender-month so windows of different lengths compare, and the cost avoided per day with
    its bootstrap 95% interval (``cost_avoided_pence_per_day_lower``/``_upper``; none when
    ``resamples`` is 0).

    A person's IOM spell runs from their first adoption to their last exit (open while any
    membership is open); windows are half-open [start, end) and end at ``as_of``. Cost avoided
    per day = (before − during cost per offender-day) × members current on ``as_of``: an upper
    bound, not IOM's effect (``REGRESSION_TO_THE_MEAN``). The per-person windows come from the
    engine; the sums per NPU and the bootstrap run on them in pandas and scipy."""
    wh = as_warehouse(con)
    as_of = as_of or latest_date(wh)
    people = person_windows(wh, as_of=as_of, before_months=before_months, after_months=after_months)
    return windows_table(people, as_of=as_of, resamples=resamples, seed=seed)


def windows_table(people: pd.DataFrame, *, as_of: dt.date, resamples: int = BOOTSTRAP_RESAMPLES,
                  seed: int = BOOTSTRAP_SEED) -> pd.DataFrame:
    """``before_during_after`` from ``person_windows``' rows (computed once, summed here)."""
    if people.empty:
        raise UserError(f"no IOM cohort memberships on or before {as_of}")
    frame = people.groupby(["npu", "win"]).agg(people=("person_id", "size"), days=("days", "sum"),
                                               offences=("offences", "sum"), cost_pence=("cost_pence", "sum"))
    wide = frame.unstack("win").fillna(0)
    wide.columns = [f"{win}_{m}" for m, win in wide.columns]
    current = people[people["win"] == "during"].groupby("npu")["current"].sum()
    offenders = frame.xs("during", level="win")["people"]
    out = pd.DataFrame(index=sorted(people["npu"].unique()))
    out["offenders"] = offenders.reindex(out.index).fillna(0).astype(int)
    out["current_members"] = current.reindex(out.index).fillna(0).astype(int)
    _bda_rates(out, wide)
    total = _bda_total(out, wide)
    out = pd.concat([out, total])
    out.index.name = "npu"
    lower, upper = {}, {}
    if resamples:
        for npu in out.index:
            rows = people if npu == "all" else people[people["npu"] == npu]
            lower[npu], upper[npu] = _avoided_interval(rows, current=int(out.loc[npu, "current_members"]),
                                                       resamples=resamples, seed=seed)
    out["cost_avoided_pence_per_day_lower"] = pd.array([lower.get(n) for n in out.index], dtype="Int64")
    out["cost_avoided_pence_per_day_upper"] = pd.array([upper.get(n) for n in out.index], dtype="Int64")
    return out.reset_index()


def _avoided_interval(rows: pd.DataFrame, *, current: int, resamples: int, seed: int) -> tuple[int | None, int | None]:
    """Percentile bootstrap over offenders (each keeps their own before and during windows); the
    number of current members is what it is on the day, so it is not resampled."""
    from scipy.stats import bootstrap

    wide = rows.pivot(index="person_id", columns="win", values=["days", "cost_pence"]).fillna(0)
    if len(wide) < 2 or "before" not in wide["days"] or "during" not in wide["days"]:
        return None, None
    data = (wide["cost_pence"]["before"].to_numpy(float), wide["days"]["before"].to_numpy(float),
            wide["cost_pence"]["during"].to_numpy(float), wide["days"]["during"].to_numpy(float))

    def avoided(bc, bd, dc, dd, axis=-1):
        with np.errstate(divide="ignore", invalid="ignore"):
            return (bc.sum(axis) / bd.sum(axis) - dc.sum(axis) / dd.sum(axis)) * current

    found = bootstrap(data, avoided, paired=True, vectorized=True, n_resamples=resamples, batch=200,
                      method="percentile", confidence_level=0.95, random_state=np.random.default_rng(seed))
    lo, hi = found.confidence_interval
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return None, None
    return int(round(lo)), int(round(hi))


def _bda_rates(out: pd.DataFrame, wide: pd.DataFrame) -> None:
    def col(name: str) -> pd.Series:
        series = wide[name] if name in wide else pd.Series(0, index=wide.index)
        return series.reindex(out.index).fillna(0)

    for win in ("before", "during", "after"):
        months = col(f"{win}_days") / DAYS_PER_MONTH
        out[f"{win}_offences"] = col(f"{win}_offences").astype(int)
        out[f"{win}_cost_pence"] = col(f"{win}_cost_pence").astype("int64")
        out[f"{win}_offender_months"] = months.round(1)
        safe = months.where(months > 0)
        out[f"{win}_offences_per_offender_month"] = out[f"{win}_offences"] / safe
        out[f"{win}_cost_pence_per_offender_month"] = out[f"{win}_cost_pence"] / safe
    per_day_before = out["before_cost_pence_per_offender_month"] / DAYS_PER_MONTH
    per_day_during = out["during_cost_pence_per_offender_month"] / DAYS_PER_MONTH
    out["cost_avoided_pence_per_day"] = ((per_day_before - per_day_during) * out["current_members"]).round().astype("Int64")


def _bda_total(out: pd.DataFrame, wide: pd.DataFrame) -> pd.DataFrame:
    total = pd.DataFrame(index=["all"])
    total["offenders"] = out["offenders"].sum()
    total["current_members"] = out["current_members"].sum()
    sums = wide.sum().to_frame().T
    sums.index = ["all"]
    _bda_rates(total, sums)
    return total


def cost_avoided_per_day(bda: pd.DataFrame) -> int:
    """The force's cost of crime avoided per day, in pence (the seed's "£75,000 per day")."""
    return int(bda.loc[bda["npu"] == "all", "cost_avoided_pence_per_day"].iloc[0])


def cost_avoided_interval(bda: pd.DataFrame) -> tuple[int | None, int | None]:
    """The force's cost avoided per day's bootstrap 95% interval, in pence (None when not
    computed or when too few offenders to resample)."""
    row = bda.loc[bda["npu"] == "all"].iloc[0]
    lo, hi = row["cost_avoided_pence_per_day_lower"], row["cost_avoided_pence_per_day_upper"]
    return (None if pd.isna(lo) else int(lo)), (None if pd.isna(hi) else int(hi))
