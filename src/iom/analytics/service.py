"""Reoffending measures (police-recorded and proven, side by side), frequency and cost of
crime by unit, cohort and classification, and before/during/after adoption.

Every function takes a DuckDB connection from ``iom.analytics.source.connect`` and returns a
pandas DataFrame; money is integer pence. Definitions (``shared/reference/domain.md``):

* **police-recorded**: any crime (as suspect or offender) committed in the follow-up after
  the index date and recorded by its end;
* **proven** (MoJ): committed in the follow-up and proven by a charge or caution
  (``PROVEN_OUTCOMES``) by the end of the follow-up plus the waiting period.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from iom.analytics.source import latest_date
from iom.dates import months_before
from iom.errors import UserError
from iom.register.models import PROVEN_OUTCOMES

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


def _months(n: int) -> str:
    return f"INTERVAL {int(n)} MONTH"


def _text(value: str) -> str:
    """A SQL string literal (the values are the code's own constants; quotes doubled anyway)."""
    return "'" + value.replace("'", "''") + "'"


def _date(d: dt.date) -> str:
    return f"DATE '{d.isoformat()}'"


def register_cohort(con: duckdb.DuckDBPyConnection, *, start: dt.date, by: str = "npu", name: str = "cohort") -> None:
    """People in the IOM cohort on ``start`` as a table (person_id, index_date, grp)."""
    if by not in GROUPINGS:
        raise UserError(f"unknown grouping {by!r}: choose from {', '.join(GROUPINGS)}")
    d = _date(start)
    active = f"adopted_on <= {d} AND (exited_on IS NULL OR exited_on >= {d})"
    if by == "classification":
        sql = f"SELECT DISTINCT person_id, {d} AS index_date, classification_code AS grp FROM cohort_memberships WHERE {active}"
    else:
        grp = {
            "force": "(SELECT min(code) FROM units WHERE kind = 'force')",
            "npu": "coalesce(p.home_npu, 'unknown')",
            "lomu": "coalesce(u.parent_code, 'unknown')",
            "offender_type": "coalesce(mh.offender_type, 'unknown')",
            "lead_agency": "coalesce(mh.lead_agency, 'unknown')",
            "supervision": "CASE " + " ".join(f"WHEN mh.lead_agency = {_text(a)} THEN {_text(kind)}"
                                              for a, kind in SUPERVISION.items()) + " ELSE 'unknown' END",
        }[by]
        sql = f"""
            SELECT m.person_id, {d} AS index_date, {grp} AS grp
            FROM (SELECT DISTINCT person_id FROM cohort_memberships WHERE {active}) m
            JOIN people p ON p.id = m.person_id
            LEFT JOIN units u ON u.code = p.home_npu
            LEFT JOIN (
                SELECT person_id, arg_max(offender_type, effective_from) AS offender_type,
                    arg_max(lead_agency, effective_from) AS lead_agency
                FROM management_history WHERE effective_from <= {d} GROUP BY person_id
            ) mh ON mh.person_id = m.person_id
        """
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")


def measures_for_cohort(
    con: duckdb.DuckDBPyConnection, *, cohort: str = "cohort", follow_up_months: int = 12, wait_months: int = 6
) -> pd.DataFrame:
    """Binary rate (Wilson 95%), frequency and cost per group of a cohort table with columns
    (person_id, index_date, grp), under both definitions."""
    proven = ", ".join(repr(o) for o in PROVEN_OUTCOMES)
    fu, wait = _months(follow_up_months), _months(follow_up_months + wait_months)
    frame = con.execute(
        f"""
        WITH c AS (SELECT grp, person_id, min(index_date) AS index_date FROM {cohort} GROUP BY grp, person_id),
        off AS (
            SELECT c.grp, c.person_id, cr.recorded_on, cr.outcome, cr.outcome_on, coc.cost_pence,
                   CAST(c.index_date + {fu} AS DATE) AS fu_end, CAST(c.index_date + {wait} AS DATE) AS wait_end
            FROM c
            JOIN crimes cr ON cr.person_id = c.person_id
                AND cr.committed_on > c.index_date AND cr.committed_on <= CAST(c.index_date + {fu} AS DATE)
            JOIN offences o ON o.code = cr.offence_code AND CAST(o.is_crime AS BOOLEAN)
            JOIN cost_of_crime coc ON coc.category = o.cost_category
        ),
        per AS (
            SELECT grp, person_id,
                count(*) FILTER (WHERE recorded_on <= fu_end) AS rec_n,
                coalesce(sum(cost_pence) FILTER (WHERE recorded_on <= fu_end), 0) AS rec_cost,
                count(*) FILTER (WHERE outcome IN ({proven}) AND outcome_on <= wait_end) AS pro_n,
                coalesce(sum(cost_pence) FILTER (WHERE outcome IN ({proven}) AND outcome_on <= wait_end), 0) AS pro_cost
            FROM off GROUP BY grp, person_id
        )
        SELECT c.grp AS "group", count(*) AS offenders,
            count(*) FILTER (WHERE per.rec_n > 0) AS recorded_reoffenders,
            CAST(coalesce(sum(per.rec_n), 0) AS BIGINT) AS recorded_offences,
            CAST(coalesce(sum(per.rec_cost), 0) AS BIGINT) AS recorded_cost_pence,
            count(*) FILTER (WHERE per.pro_n > 0) AS proven_reoffenders,
            CAST(coalesce(sum(per.pro_n), 0) AS BIGINT) AS proven_offences,
            CAST(coalesce(sum(per.pro_cost), 0) AS BIGINT) AS proven_cost_pence
        FROM c LEFT JOIN per ON per.grp = c.grp AND per.person_id = c.person_id
        GROUP BY c.grp ORDER BY c.grp
        """
    ).df()
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


def default_start(con: duckdb.DuckDBPyConnection, *, follow_up_months: int = 12, wait_months: int = 6) -> dt.date:
    """The latest index date whose follow-up and waiting period the data fully cover."""
    last = latest_date(con)
    return months_before(last, follow_up_months + wait_months)


def reoffending_measures(
    con: duckdb.DuckDBPyConnection,
    *,
    by: str = "npu",
    start: dt.date | None = None,
    follow_up_months: int = 12,
    wait_months: int = 6,
) -> pd.DataFrame:
    """Measures for the IOM cohort on ``start`` (default: latest fully-observed date), by group."""
    start = start or default_start(con, follow_up_months=follow_up_months, wait_months=wait_months)
    register_cohort(con, start=start, by=by)
    out = measures_for_cohort(con, follow_up_months=follow_up_months, wait_months=wait_months)
    out.insert(1, "index_date", start)
    return out


def all_measures(con: duckdb.DuckDBPyConnection, *, start: dt.date | None = None, follow_up_months: int = 12, wait_months: int = 6) -> dict[str, pd.DataFrame]:
    """Every grouping at once (what the report and the benchmark use)."""
    return {
        by: reoffending_measures(con, by=by, start=start, follow_up_months=follow_up_months, wait_months=wait_months)
        for by in GROUPINGS
    }


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


def person_windows(
    con: duckdb.DuckDBPyConnection, *, as_of: dt.date, before_months: int = 6, after_months: int = 3
) -> pd.DataFrame:
    """One row per person and window (before, during, after): npu, current, days, offences and
    cost_pence; what ``before_during_after`` adds up and its bootstrap resamples."""
    d = _date(as_of)
    return con.execute(
        f"""
        WITH spell AS (
            SELECT person_id, min(adopted_on) AS adopted_on,
                CASE WHEN bool_or(exited_on IS NULL) THEN NULL ELSE max(exited_on) END AS exited_on
            FROM cohort_memberships WHERE adopted_on <= {d} GROUP BY person_id
        ),
        s AS (
            SELECT sp.person_id, coalesce(p.home_npu, 'unknown') AS npu, sp.adopted_on, sp.exited_on,
                (sp.exited_on IS NULL OR sp.exited_on > {d}) AS current
            FROM spell sp JOIN people p ON p.id = sp.person_id
        ),
        w AS (
            SELECT person_id, 'before' AS win, CAST(adopted_on - {_months(before_months)} AS DATE) AS ws, adopted_on AS we FROM s
            UNION ALL
            SELECT person_id, 'during', adopted_on, CASE WHEN current THEN {d} ELSE exited_on END FROM s
            UNION ALL
            SELECT person_id, 'after', exited_on, least(CAST(exited_on + {_months(after_months)} AS DATE), {d})
            FROM s WHERE NOT current
        ),
        o AS (
            SELECT w.person_id, w.win, count(cr.id) AS offences, coalesce(sum(coc.cost_pence), 0) AS cost_pence
            FROM w
            JOIN crimes cr ON cr.person_id = w.person_id AND cr.committed_on >= w.ws AND cr.committed_on < w.we
            JOIN offences f ON f.code = cr.offence_code AND CAST(f.is_crime AS BOOLEAN)
            JOIN cost_of_crime coc ON coc.category = f.cost_category
            GROUP BY w.person_id, w.win
        )
        SELECT w.person_id, s.npu, s.current, w.win, greatest(date_diff('day', w.ws, w.we), 0) AS days,
            CAST(coalesce(o.offences, 0) AS BIGINT) AS offences, CAST(coalesce(o.cost_pence, 0) AS BIGINT) AS cost_pence
        FROM w JOIN s ON s.person_id = w.person_id
        LEFT JOIN o ON o.person_id = w.person_id AND o.win = w.win
        ORDER BY w.person_id, w.win
        """
    ).df()


def before_during_after(
    con: duckdb.DuckDBPyConnection,
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
    bound, not IOM's effect (``REGRESSION_TO_THE_MEAN``)."""
    as_of = as_of or latest_date(con)
    people = person_windows(con, as_of=as_of, before_months=before_months, after_months=after_months)
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
