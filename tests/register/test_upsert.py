"""iom.db.upsert: the one insert-or-update, on SQLite and PostgreSQL (IOM_DATABASE_URL)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from iom.db import upsert
from iom.register.models import CostOfCrime, Person

PEOPLE = Person.__table__


def _person(source_id: str, pseudo_id: str, **changes) -> dict:
    row = {
        "source_id": source_id,
        "pseudo_id": pseudo_id,
        "given_name": "Ann",
        "family_name": "Example",
        "date_of_birth": dt.date(1990, 5, 17),
        "sex": "F",
        "ethnicity": "W_BRI",
        "home_npu": None,
        "language": "English",
        "interpreter_needed": False,
    }
    return row | changes


def _people(session: Session, prefix: str) -> dict[str, tuple]:
    rows = session.execute(
        select(PEOPLE.c.source_id, PEOPLE.c.pseudo_id, PEOPLE.c.family_name, PEOPLE.c.date_of_birth, PEOPLE.c.interpreter_needed)
        .where(PEOPLE.c.source_id.like(f"{prefix}%"))
    )
    return {r[0]: tuple(r[1:]) for r in rows}


def test_insert_then_update_in_place(db_session: Session) -> None:
    conn = db_session.connection()
    assert upsert(conn, PEOPLE, [_person("UP1", "PUP1"), _person("UP2", "PUP2")], ["source_id"], keep=["pseudo_id"]) == 2
    ids = dict(conn.execute(select(PEOPLE.c.source_id, PEOPLE.c.id).where(PEOPLE.c.source_id.like("UP%"))).all())
    assert _people(db_session, "UP") == {
        "UP1": ("PUP1", "Example", dt.date(1990, 5, 17), False),
        "UP2": ("PUP2", "Example", dt.date(1990, 5, 17), False),
    }

    changed = _person("UP1", "PNEW1", family_name="Changed", date_of_birth=dt.date(1991, 1, 2), interpreter_needed=True)
    assert upsert(conn, PEOPLE, [changed, _person("UP3", "PUP3")], ["source_id"], keep=["pseudo_id"]) == 2
    assert _people(db_session, "UP") == {
        # Updated in place: same id; pseudo_id kept as asked, every other column replaced.
        "UP1": ("PUP1", "Changed", dt.date(1991, 1, 2), True),
        "UP2": ("PUP2", "Example", dt.date(1990, 5, 17), False),
        "UP3": ("PUP3", "Example", dt.date(1990, 5, 17), False),
    }
    assert conn.scalar(select(PEOPLE.c.id).where(PEOPLE.c.source_id == "UP1")) == ids["UP1"]


def test_default_key_is_the_primary_key_and_batches_stream(db_session: Session) -> None:
    conn = db_session.connection()
    table = CostOfCrime.__table__
    rows = ({"category": f"test_{i}", "description": f"Test {i}", "cost_pence": i, "price_base": "2015/16", "checked": i % 2 == 0, "source": "test"} for i in range(7))
    assert upsert(conn, table, rows, batch=3) == 7  # a generator, in batches of 3, 3 and 1

    again = [{"category": f"test_{i}", "description": f"Test {i}", "cost_pence": 100 + i, "price_base": "2015/16", "checked": True, "source": "again"} for i in range(7)]
    assert upsert(conn, table, again, batch=2) == 7
    held = conn.execute(select(table.c.category, table.c.cost_pence, table.c.checked, table.c.source).where(table.c.category.like("test_%")).order_by(table.c.cost_pence)).all()
    assert [tuple(r) for r in held] == [(f"test_{i}", 100 + i, True, "again") for i in range(7)]


def test_nothing_to_write(db_session: Session) -> None:
    assert upsert(db_session.connection(), PEOPLE, [], ["source_id"]) == 0
