"""Generate a synthetic force and write it to the database in one transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from iom.db import Base, session_scope
from iom.errors import UserError
from iom.plugins import contributions, resolve
from iom.register.models import Offence, Person, Unit
from iom.synth import params
from iom.synth.generator import ForceSpec, Generator
from iom.synth.writer import write_table

#: Generated tables in the order their references need.
TABLE_ORDER = [
    ("people", "people"),
    ("markers", "vulnerability_markers"),
    ("crimes", "crimes"),
    ("memberships", "cohort_memberships"),
    ("risk", "risk_level_history"),
    ("management", "management_history"),
]


@dataclass
class SynthResult:
    seed: int
    as_of: dt.date
    rows: dict[str, int]


class Progress:
    """What a long run reports: named steps, then rows written against a total."""

    def step(self, label: str) -> None: ...
    def start_writing(self, total: int) -> None: ...
    def advance(self, rows: int) -> None: ...


def read_catalogue(engine: Engine) -> tuple[list[str], dict[str, str], dict[str, dict]]:
    """What the generator needs of the reference data: NPUs, their LOMUs, the offences."""
    with session_scope(engine) as session:
        npus = session.execute(select(Unit.code, Unit.parent_code).where(Unit.kind == "npu").order_by(Unit.code)).all()
        offences = {
            o.code: {"gravity": o.gravity, "is_crime": o.is_crime, "domestic_abuse": o.domestic_abuse,
                     "hate": o.hate, "offence_group": o.offence_group}
            for o in session.scalars(select(Offence))
        }
    if not npus or not offences:
        raise UserError("the database has no reference data: run `iom init` first")
    return [c for c, _ in npus], dict(npus), offences


def _refuse_populated(engine: Engine) -> None:
    with session_scope(engine) as session:
        people = session.scalar(select(func.count()).select_from(Person)) or 0
    if people:
        raise UserError(f"the database already holds {people:,} people: use a new database, or --replace")


def generate_force(
    engine: Engine,
    *,
    seed: int,
    people: int = params.DEFAULT_PEOPLE,
    as_of: dt.date = params.REFERENCE_DATE,
    progress: Progress | None = None,
    replace: bool = False,
) -> SynthResult:
    """Generate the force for ``seed`` and write it; nothing is written if any step fails.

    ``replace`` drops every table first, but only once the force has been generated, so bad
    arguments or a failed generation leave the existing data as it was."""
    if people < 1_000:
        raise UserError("--people must be at least 1,000")
    progress = progress or Progress()
    if replace:
        from iom.register.service import init_database

        init_database(engine)  # harmless on a current database; readies a new one
    npus, npu_lomu, offences = read_catalogue(engine)
    if not replace:
        _refuse_populated(engine)
    generator = Generator(ForceSpec(seed=seed, people=people, as_of=as_of), npus, npu_lomu, offences,
                          progress=progress.step)
    force = generator.run()
    if replace:
        progress.step("dropping the old data")
        reset_database(engine)
    tables = {attr: getattr(force, attr) for attr, _ in TABLE_ORDER}
    total = sum(len(cols["id"]) for cols in tables.values())
    progress.step("writing")
    progress.start_writing(total)
    rows: dict[str, int] = {}
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Generated rows reference each other by construction; skipping SQLite's per-row
            # foreign-key look-ups saves a sixth of the write. PostgreSQL still checks them
            # (the test suite runs there too), so a generator bug cannot hide.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()  # the pragma only takes effect outside a transaction
        try:
            with connection.begin():
                for attr, table_name in TABLE_ORDER:
                    rows[table_name] = write_table(connection, table_name, tables[attr], advance=progress.advance)
                # Each domain's own synthetic records (``Domain.synth_steps``), in the same transaction.
                for target in contributions("synth_steps"):
                    progress.step(f"synthetic data: {target}")
                    rows.update(resolve(target)(connection, seed=seed, as_of=as_of) or {})
        finally:
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()
    return SynthResult(seed=seed, as_of=as_of, rows=rows)


def reset_database(engine: Engine) -> None:
    """Drop every table (the demo database is being regenerated) and migrate afresh."""
    from iom.models import metadata
    from iom.register.service import init_database

    with engine.begin() as connection:
        metadata.drop_all(connection)
        connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    init_database(engine)


__all__ = ["generate_force", "reset_database", "SynthResult", "Progress", "Base"]
