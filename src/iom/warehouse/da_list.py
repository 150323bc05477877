"""The monthly domestic-abuse list's sections and RFGV scores, as Ibis expressions.

One relation ``i`` (an incident per row: a DA incident, or a non-DA stalking and harassment
offence) with columns ``crime_id, person_id, victim_id, on, gravity, offence, domestic_abuse``,
already cut to the list's window and the perpetrators old enough (``iom.domestic_abuse.monthly``
reads it from the register). Out comes one row per person and side: the tallies the list
shows, the RFGV parts as points (the words are the list's) and the sections each is in. The same expressions run on
DuckDB over an Arrow table (``sections_arrow``: what the list and a record's tab use) and on
any Ibis backend (``sections``)."""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd
import pyarrow as pa

from iom.warehouse.source import compiled_sql, query_arrow, rows_table

INCIDENTS = ibis.schema({
    "crime_id": "int64", "person_id": "int64", "victim_id": "int64", "on": "date", "gravity": "int64",
    "offence": "string", "domestic_abuse": "boolean",
})


def _tallied(i: ibis.Table) -> ibis.Table:
    """Each incident under every person it is tallied for: ``kind`` "da" (the perpetrator of a
    DA incident), "victim" (its victim) or "stalking" (the perpetrator of a non-DA offence), with
    the other party (``other``: none when the victim is unrecorded)."""
    keep = ["crime_id", "on", "gravity", "offence"]
    da = i.filter(i.domestic_abuse)
    victims = da.filter(da.victim_id.notnull())
    stalking = i.filter(~i.domestic_abuse)
    return (da.select(*keep, kind=ibis.literal("da"), subject=da.person_id, other=da.victim_id)
            .union(victims.select(*keep, kind=ibis.literal("victim"), subject=victims.victim_id,
                                  other=victims.person_id))
            .union(stalking.select(*keep, kind=ibis.literal("stalking"), subject=stalking.person_id,
                                   other=stalking.victim_id)))


def sections(i: ibis.Table, rules, end: dt.date) -> ibis.Table:
    """Per person and side they are tallied on: incidents, other parties (count and ids), first
    and latest incident, the gravest (by gravity, then latest, then crime), the RFGV parts and
    score at the window's ``end``, and a flag per section (``serial``, ``repeat``,
    ``repeat_victims``, ``stalking``) saying whether they are in it. ``rules``:
    ``iom.domestic_abuse.rules.MonthlyListRules``."""
    s, w = rules.sections, rules.rfgv
    t = _tallied(i)
    key = ["kind", "subject"]
    per = t.group_by(key).aggregate(
        incidents=t.count(), others=t.other.nunique(), other_ids=t.other.collect(distinct=True),
        first_on=t.on.min(), latest_on=t.on.max(),
    )
    rank = ibis.row_number().over(group_by=key, order_by=[ibis.desc(t.gravity), ibis.desc(t.on), ibis.desc(t.crime_id)])
    gravest = t.mutate(rank=rank)
    gravest = gravest.filter(gravest.rank == 0).select(*key, gravest_gravity=gravest.gravity,
                                                        gravest_offence=gravest.offence)
    pairs = t.filter((t.kind == "da") & t.other.notnull()).group_by(["subject", "other"]).aggregate(n=ibis._.count())
    repeaters = pairs.filter(pairs.n >= s.repeat.min_incidents_same_victim).select("subject").distinct()
    repeaters = repeaters.mutate(repeater=ibis.literal(True))
    j = (per.join(gravest, key).left_join(repeaters, per.subject == repeaters.subject)
         .select(*[per[c] for c in per.columns], "gravest_gravity", "gravest_offence", "repeater"))
    days = ibis.literal(end, type="date").delta(j.latest_on, unit="day")
    recency = ibis.cases(*((days <= b.within_days, b.points) for b in w.recency), else_=0)
    frequency = ibis.least(j.incidents * w.points_per_incident, w.max_frequency_points)
    gravity = j.gravest_gravity.cases(*sorted(w.gravity_points.items()), else_=0)
    victims = ibis.least(j.others * w.points_per_victim, w.max_victim_points)
    scored = j.mutate(recency_days=days, recency_points=recency, frequency_points=frequency, gravity_points=gravity,
                      victim_points=victims, score=recency + frequency + gravity + victims)
    return scored.select(
        person_id=scored.subject, incidents=scored.incidents, others=scored.others,
        other_ids=scored.other_ids.sort().fill_null(ibis.literal([], type="array<int64>")),
        first_on=scored.first_on, latest_on=scored.latest_on, gravest_gravity=scored.gravest_gravity,
        gravest_offence=scored.gravest_offence, recency_days=scored.recency_days,
        recency_points=scored.recency_points, frequency_points=scored.frequency_points,
        gravity_points=scored.gravity_points, victim_points=scored.victim_points, score=scored.score,
        serial=(scored.kind == "da") & (scored.others >= s.serial.min_victims),
        repeat=(scored.kind == "da") & scored.repeater.fill_null(False),
        repeat_victims=(scored.kind == "victim") & (scored.incidents >= s.repeat_victims.min_incidents),
        stalking=(scored.kind == "stalking") & (scored.incidents >= s.stalking.min_incidents),
    ).order_by(["person_id", "serial", "repeat_victims", "stalking"])


def incidents_table(rows) -> pa.Table:
    """The relation ``i`` from rows of (crime_id, person_id, victim_id, on, gravity, offence,
    domestic_abuse)."""
    return rows_table(INCIDENTS, rows)


def sections_arrow(rules, end: dt.date, incidents: pa.Table) -> pd.DataFrame:
    """``sections`` on DuckDB over an Arrow table of incidents (a cursor per call: safe in the
    web's threads), with dates as dates."""
    sql = compiled_sql(("da list", rules.model_dump_json(), end),
                       lambda: sections(ibis.table(INCIDENTS, name="i"), rules, end))
    frame = query_arrow(sql, i=incidents)
    for col in ("first_on", "latest_on"):
        frame[col] = frame[col].dt.date
    frame["other_ids"] = [[int(o) for o in ids] for ids in frame["other_ids"]]
    return frame
