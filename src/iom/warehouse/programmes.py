"""The groups a programme evaluation compares, as Ibis expressions: who was treated and who is
the comparison, each person's index date, and what happened after it (reoffended within the
follow-up, days to the first further crime) with the covariates the models adjust for.

``iom.evaluation.programmes`` says what each programme is (``PROGRAMMES``) and evaluates the
table this returns; the definitions are in its docstring."""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd

from iom.warehouse.core import as_warehouse
from iom.warehouse.measures import months

#: Columns of the per-person table, in order.
COLUMNS = ("person_id", "grp", "index_date", "reoffended", "days", "age", "male", "prior_offences",
           "log_prior_offences", "gravity")


def _first(table: ibis.Table, *, by: str, order: list) -> ibis.Table:
    """Each ``by``'s first row in ``order`` (ties broken by the later keys, so every engine
    picks the same row)."""
    ranked = table.mutate(_rank=ibis.row_number().over(group_by=by, order_by=order))
    return ranked.filter(ranked._rank == 0).drop("_rank")


def index_oocd(wh, *, treated: tuple[str, ...], start: dt.date, end: dt.date) -> ibis.Table:
    """People whose first gravity 1-2 offence disposed of in (start, end] was an out-of-court
    disposal in ``treated`` or a charge: (person_id, index_date, grp, gravity)."""
    cr, o = wh.table("crimes"), wh.table("offences")
    j = cr.join(o, cr.offence_code == o.code)
    j = j.filter((o.gravity <= 2) & cr.outcome.isin([*treated, "charge"]) & (cr.outcome_on > start)
                 & (cr.outcome_on <= end))
    rows = j.select(person_id=cr.person_id, index_date=cr.outcome_on, id=cr.id,
                    grp=ibis.ifelse(cr.outcome.isin(list(treated)), "treated", "charge"),
                    gravity=o.gravity.cast("int64"))
    return _first(rows, by="person_id", order=["index_date", "id"]).drop("id")


def index_iom(wh, *, classification: str, start: dt.date, end: dt.date) -> ibis.Table:
    """People adopted into ``classification`` in (start, end], and offenders never in the IOM
    cohort with a crime then (index: their first): (person_id, index_date, grp, gravity)."""
    cm, cr = wh.table("cohort_memberships"), wh.table("crimes")
    a = cm.filter((cm.classification_code == classification) & (cm.adopted_on > start) & (cm.adopted_on <= end))
    adopted = a.group_by("person_id").aggregate(index_date=a.adopted_on.min())
    recent = cr.filter((cr.committed_on > start) & (cr.committed_on <= end))
    recent = recent.anti_join(cm.select("person_id").distinct(), "person_id")
    others = recent.group_by("person_id").aggregate(index_date=recent.committed_on.min())
    none = ibis.null("int64")
    return (adopted.mutate(grp=ibis.literal("treated"), gravity=none)
            .union(others.mutate(grp=ibis.literal("not adopted"), gravity=none)))


def programme_groups(con, *, index: ibis.Table, follow_up_months: int) -> pd.DataFrame:
    """One row per indexed person (``COLUMNS``), ordered by person."""
    wh = as_warehouse(con)
    idx = index
    cr, o = wh.table("crimes"), wh.table("offences")
    crime = cr.join(o.filter(o.is_crime), cr.offence_code == o.code).select(cr.person_id, cr.committed_on)
    look_back = (idx.index_date - months(24)).cast("date")
    fu_end = (idx.index_date + months(follow_up_months)).cast("date")
    pj = idx.join(crime, [idx.person_id == crime.person_id, crime.committed_on < idx.index_date,
                          crime.committed_on >= look_back])
    prior = pj.group_by(idx.person_id).aggregate(n=crime.committed_on.count())
    nj = idx.join(crime, [idx.person_id == crime.person_id, crime.committed_on > idx.index_date,
                          crime.committed_on <= fu_end])
    nxt = nj.group_by(idx.person_id).aggregate(first_after=crime.committed_on.min())
    people = wh.table("people")
    j = (idx.join(people, idx.person_id == people.id)
         .left_join(prior, idx.person_id == prior.person_id)
         .left_join(nxt, idx.person_id == nxt.person_id))
    n = prior.n.fill_null(0)
    out = j.select(
        person_id=idx.person_id, grp=idx.grp, index_date=idx.index_date,
        reoffended=nxt.first_after.notnull().cast("int32"),
        days=ibis.coalesce(nxt.first_after.delta(idx.index_date, unit="day"),
                           fu_end.delta(idx.index_date, unit="day")),
        # Years between the calendar years, as DuckDB's date_diff('year') counts them.
        age=idx.index_date.year() - people.date_of_birth.year(),
        male=(people.sex == "M").cast("int32"),
        prior_offences=n.cast("int64"),
        log_prior_offences=(n + 1).cast("float64").ln(),
        gravity=idx.gravity,
    ).order_by("person_id")
    frame = wh.execute(out)
    for col in ("person_id", "days", "age", "prior_offences"):
        frame[col] = frame[col].astype("int64")
    for col in ("reoffended", "male"):
        frame[col] = frame[col].astype("int32")
    if frame["gravity"].isna().all():  # the IOM programmes have no index offence
        frame["gravity"] = frame["gravity"].astype("Int32")
    return frame[list(COLUMNS)]
