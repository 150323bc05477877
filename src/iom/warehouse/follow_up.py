"""The courses' follow-up outcomes, as Ibis expressions: for each case (a person and an index
date), which outcomes happened in (index, index + follow-up] and the days to the first further
offence. One definition for a course's evaluation and the synthetic force that is calibrated
to it.

Two relations: ``cases`` (``case_no, person_id, index_date, end_date``; the caller computes
``end_date`` by calendar months, ``iom.dates.months_after``) and ``records`` (a recorded crime
or incident per row: ``person_id, committed_on, is_crime, violent, alcohol_related,
domestic_abuse``)."""

from __future__ import annotations

import ibis
import pandas as pd
import pyarrow as pa

from iom.warehouse.source import compiled_sql, query_arrow, rows_table

CASES = ibis.schema({"case_no": "int64", "person_id": "int64", "index_date": "date", "end_date": "date"})
RECORDS = ibis.schema({
    "person_id": "int64", "committed_on": "date", "is_crime": "boolean", "violent": "boolean",
    "alcohol_related": "boolean", "domestic_abuse": "boolean",
})


def _outcomes(r):
    """Each outcome's test of one later record (the names courses' rules list)."""
    return {
        "reoffend": r.is_crime,
        "violent": r.is_crime & r.violent,
        "alcohol": r.is_crime & r.alcohol_related,
        "da_offence": r.is_crime & r.domestic_abuse,
        "da_incident": ~r.is_crime & r.domestic_abuse,
    }


OUTCOMES = tuple(_outcomes(ibis.table(RECORDS, name="r")))


def outcomes(cases: ibis.Table, records: ibis.Table) -> ibis.Table:
    """Per case (in ``case_no`` order): a boolean per outcome and ``days`` to the first further
    offence (null when there was none)."""
    later = records.join(cases, [records.person_id == cases.person_id, records.committed_on > cases.index_date,
                                 records.committed_on <= cases.end_date])
    later = later.select(cases.case_no, cases.index_date, *[records[c] for c in RECORDS if c != "person_id"])
    tests = _outcomes(later)
    per = later.group_by("case_no").aggregate(
        **{name: test.any() for name, test in tests.items()},
        first_offence=later.committed_on.min(where=later.is_crime),
    )
    j = cases.left_join(per, cases.case_no == per.case_no)
    return j.select(
        case_no=cases.case_no, **{name: j[name].fill_null(False) for name in tests},
        days=j.first_offence.delta(cases.index_date, unit="day"),
    ).order_by("case_no")


def outcomes_arrow(cases: pa.Table, records: pa.Table) -> pd.DataFrame:
    """``outcomes`` on DuckDB over Arrow tables (compiled once; a cursor per call)."""
    sql = compiled_sql(("follow-up outcomes",), lambda: outcomes(ibis.table(CASES, name="cases"),
                                                                 ibis.table(RECORDS, name="records")))
    return query_arrow(sql, cases=cases, records=records)



def outcomes_of(cases, records) -> pd.DataFrame:
    """``outcomes_arrow`` from rows: ``cases`` of (case_no, person_id, index_date, end_date),
    ``records`` in ``RECORDS``' column order."""
    return outcomes_arrow(rows_table(CASES, cases), rows_table(RECORDS, records))
