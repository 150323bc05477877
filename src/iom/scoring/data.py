"""Read the operational tables once, as whole columns, for vectorised scoring.

Dates come back as day numbers (days since 1970-01-01) computed by the database itself, so
no per-row date parsing happens in Python; the crime table is handed to the warehouse as Arrow."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from iom.cohorts.service import current_member_ids
from iom.register.models import PROVEN_OUTCOMES
from iom.errors import UserError
from iom.scoring.config import ScoringConfig

__all__ = ["CRIME_DTYPE", "EPOCH", "NEVER", "Register", "day_number", "from_day", "latest_crime_date", "load_register",
           "member_ids"]

EPOCH = dt.date(1970, 1, 1)
NEVER = 2**31 - 1  # day number standing for "no date yet"


def day_number(day: dt.date) -> int:
    return (day - EPOCH).days


def from_day(n: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(n))


def _days(session: Session, column: str) -> str:
    if session.get_bind().dialect.name == "postgresql":
        return f"CAST({column} - DATE '1970-01-01' AS BIGINT)"
    return f"CAST(julianday({column}) - 2440587.5 AS INTEGER)"


def _quoted(values) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values) or "''"


def _fetch(session: Session, sql: str) -> list[tuple]:
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(sql)
        return cursor.fetchall()
    finally:
        cursor.close()


CRIME_DTYPE = np.dtype([
    ("id", "i8"), ("person_id", "i8"), ("committed", "i4"), ("recorded", "i4"), ("offender", "i1"),
    ("gravity", "i1"), ("harm_days", "i4"), ("is_crime", "i1"), ("domestic_abuse", "i1"),
    ("victim_person_id", "i8"), ("proven", "i1"), ("outcome_on", "i4"), ("ogrs3_category", "i1"),
    ("excluded", "i1"),
])


@dataclass
class Register:
    """The columns scoring needs, as numpy/pandas (one read of each table)."""

    crimes: np.ndarray  # structured, CRIME_DTYPE
    people: pd.DataFrame  # id, dob (day), sex, ethnicity, home_npu
    markers: pd.DataFrame  # person_id, marker, started (day), ended (day or NEVER)

    def crimes_arrow(self, mask: np.ndarray | None = None) -> pa.Table:
        """The relation ``c`` the matrix SQL reads."""
        c = self.crimes if mask is None else self.crimes[mask]
        victim = c["victim_person_id"]
        return pa.table({
            "id": c["id"],
            "person_id": c["person_id"],
            "committed_on": pa.array(c["committed"].astype("datetime64[D]"), pa.date32()),
            "recorded_on": pa.array(c["recorded"].astype("datetime64[D]"), pa.date32()),
            "offender": c["offender"],
            "gravity": c["gravity"],
            "harm_days": c["harm_days"],
            "is_crime": c["is_crime"].astype(bool),
            "domestic_abuse": c["domestic_abuse"].astype(bool),
            "victim_person_id": pa.array(victim, mask=victim < 0),
            "excluded": c["excluded"],
        })


def _flag(session: Session, expr: str, value: int) -> str:
    if session.get_bind().dialect.name == "postgresql":
        return f"(CASE WHEN {expr} THEN {value} ELSE 0 END)"
    return f"(({expr}) * {value})"


_DAY_BITS = 17  # day numbers below 2**17 reach the year 2328


def load_register(session: Session, config: ScoringConfig, *, person_ids=None) -> Register:
    """Read crimes, people and vulnerability markers as whole columns.

    Each crime comes back as three integers (dates, offence attributes and flags packed by
    the database and unpacked in numpy), which keeps a 1.5M-row read to seconds.
    ``person_ids`` limits the read to a few people (explanations): their crimes and the
    crimes against them."""
    f = lambda expr, v: _flag(session, expr, v)  # noqa: E731
    where_c = where_p = where_m = ""
    if person_ids is not None:
        ids = ", ".join(str(int(i)) for i in person_ids) or "NULL"
        where_c = f"WHERE c.person_id IN ({ids}) OR c.victim_person_id IN ({ids})"
        where_p = f"WHERE id IN ({ids})"
        where_m = f"AND person_id IN ({ids})"
    never = 2**_DAY_BITS - 1
    d = lambda col: _days(session, "c." + col)  # noqa: E731
    top = _fetch(session, "SELECT max(id) FROM crimes")[0][0] or 0
    top_person = _fetch(session, "SELECT max(id) FROM people")[0][0] or 0
    if max(top, top_person) >= 2**31:
        raise UserError("crime and person ids must stay below 2**31 for the packed scoring read")
    rows = _fetch(session, f"""
        SELECT CAST(c.id AS BIGINT) * {2**31} + c.person_id,
               ({d('committed_on')} * {2**_DAY_BITS} + {d('recorded_on')}) * {2**_DAY_BITS}
                 + COALESCE({d('outcome_on')}, {never}),
               CAST(COALESCE(c.victim_person_id, -1) + 1 AS BIGINT) * {2**30}
                 + ((o.harm_days * 32 + o.ogrs3_category) * 8 + o.gravity) * 64
                 + {f("c.involvement = 'offender'", 32)} + {f('c.domestic_abuse OR o.domestic_abuse', 16)}
                 + {f('o.is_crime', 8)} + {f(f"c.outcome IN ({_quoted(PROVEN_OUTCOMES)})", 4)}
                 + {f(f"c.outcome IN ({_quoted(config.matrix.exclude_outcomes)})", 2)}
        FROM crimes c JOIN offences o ON o.code = c.offence_code {where_c} ORDER BY c.id
    """)
    raw = np.array(rows, dtype=np.int64).reshape(-1, 3)
    crimes = np.zeros(len(raw), dtype=CRIME_DTYPE)
    ids, dates, packed = raw[:, 0], raw[:, 1], raw[:, 2]
    crimes["id"], crimes["person_id"] = ids >> 31, ids & (2**31 - 1)
    crimes["victim_person_id"] = (packed >> 30) - 1
    packed = packed & (2**30 - 1)
    mask = 2**_DAY_BITS - 1
    crimes["committed"] = dates >> (2 * _DAY_BITS)
    crimes["recorded"] = (dates >> _DAY_BITS) & mask
    outcome_on = dates & mask
    crimes["outcome_on"] = np.where(outcome_on == never, NEVER, outcome_on)
    crimes["harm_days"] = packed >> 14
    crimes["ogrs3_category"] = (packed >> 9) & 31
    crimes["gravity"] = (packed >> 6) & 7
    crimes["offender"] = (packed >> 5) & 1
    crimes["domestic_abuse"] = (packed >> 4) & 1
    crimes["is_crime"] = (packed >> 3) & 1
    crimes["proven"] = (packed >> 2) & 1
    crimes["excluded"] = (packed >> 1) & 1
    d = lambda col: _days(session, col)  # noqa: E731
    people = pd.DataFrame.from_records(
        _fetch(session, f"SELECT id, {d('date_of_birth')}, sex, ethnicity, home_npu FROM people {where_p}"),
        columns=["id", "dob", "sex", "ethnicity", "home_npu"],
    )
    people = people.astype({"id": "int64", "dob": "int64"}).sort_values("id").reset_index(drop=True)
    markers = pd.DataFrame.from_records(
        _fetch(session, f"""SELECT person_id, marker, {d('started_on')}, COALESCE({d('ended_on')}, {NEVER})
                            FROM vulnerability_markers WHERE TRUE {where_m}"""),
        columns=["person_id", "marker", "started", "ended"],
    )
    return Register(crimes=crimes, people=people, markers=markers)


def member_ids(session: Session, as_of: dt.date) -> set[int]:
    """Current IOM cohort members on ``as_of``."""
    return set(session.scalars(current_member_ids(as_of)).all())


def latest_crime_date(session: Session) -> dt.date | None:
    from sqlalchemy import func

    from iom.register.models import Crime

    value = session.scalar(select(func.max(Crime.committed_on)))
    return value
