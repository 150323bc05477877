"""Open the register tables the measures need: a DuckDB connection (``connect``, ``from_frames``)
or a warehouse on either engine (``open_warehouse``). The reading itself lives in
``iom.warehouse.source`` and ``iom.warehouse.core``; these are the names callers use."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.engine import Engine

from iom.warehouse.core import ENGINES, Warehouse, as_warehouse, latest_date, open_warehouse
from iom.warehouse.source import SCOPES, TABLES, connect, from_frames

__all__ = ["ENGINES", "SCOPES", "TABLES", "Warehouse", "as_warehouse", "connect", "from_frames", "latest_date",
           "latest_in_database", "open_warehouse"]


def latest_in_database(engine: Engine) -> dt.date | None:
    """The register's reference date asked of the database directly; None with no crimes."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from iom.register.models import Crime
    from iom.register.service import reference_date

    with Session(engine) as session:
        if session.scalar(select(func.count()).select_from(Crime)) == 0:
            return None
        return reference_date(session)
