"""Reference data: one declarative loader, parents first, idempotent on both backends."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from iom.cohorts.models import Classification
from iom.cohorts.reference_tables import REFERENCE_TABLES as COHORT_TABLES
from iom.db import session_scope
from iom.reference import ReferenceTable, load_reference_tables
from iom.register.reference_tables import REFERENCE_TABLES
from iom.register.service import init_database, load_reference_data, register_version

TABLES = ["units", "cost_of_crime", "offences", "cohort_classifications"]


def _snapshot(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {t: hashlib.sha256(repr(conn.execute(text(f"SELECT * FROM {t} ORDER BY 1")).all()).encode()).hexdigest() for t in TABLES}


def test_init_twice_leaves_the_same_rows_and_version(fresh_engine: Engine) -> None:
    before = _snapshot(fresh_engine)
    with session_scope(fresh_engine) as session:
        version = register_version(session)
    assert init_database(fresh_engine) == {"units": 18, "cost_of_crime": 15, "offences": 95, "classifications": 10}
    assert _snapshot(fresh_engine) == before
    with session_scope(fresh_engine) as session:
        # Nothing changed, so nothing was written: views kept on the version stay current.
        assert register_version(session) == version


def test_a_changed_row_is_put_back(fresh_engine: Engine) -> None:
    before = _snapshot(fresh_engine)
    with fresh_engine.begin() as conn:
        conn.execute(text("UPDATE units SET name = 'Renamed', officers = NULL WHERE code = 'BN'"))
        conn.execute(text("UPDATE offences SET hate = NOT hate, gravity = 1 WHERE code = '001/00'"))
    with session_scope(fresh_engine) as session:
        load_reference_data(session)
    assert _snapshot(fresh_engine) == before


def test_units_are_written_parents_first() -> None:
    units = next(t for t in REFERENCE_TABLES if t.name == "units").rows()
    seen: set[str] = set()
    for row in units:
        assert row["parent_code"] is None or row["parent_code"] in seen, row
        seen.add(row["code"])
    assert len(seen) == 18


def test_each_domain_contributes_its_tables() -> None:
    assert [t.name for t in REFERENCE_TABLES] == ["units", "cost_of_crime", "offences"]
    assert [t.name for t in COHORT_TABLES] == ["classifications"]
    row = COHORT_TABLES[0].rows()[0]
    assert "published_count" in row and isinstance(row["published_count"], int)


def test_a_column_the_model_lacks_is_refused() -> None:
    wrong = ReferenceTable("cohorts", "classifications", Classification)  # without the rename
    with pytest.raises(ValueError, match="not columns of cohort_classifications: published_count_2019_03"):
        wrong.rows()
    typo = ReferenceTable("cohorts", "classifications", Classification, renamed={"published_count_2019_03": "published_count"},
                          convert={"published_cnt": int})
    with pytest.raises(ValueError, match="published_cnt"):
        typo.rows()


def test_loading_a_list_returns_rows_per_table(db_session) -> None:
    assert load_reference_tables(db_session, COHORT_TABLES) == {"classifications": 10}
    assert load_reference_tables(db_session, []) == {}
