"""`iom import` killed at random moments writes all of its files or nothing; run again it
completes with no duplicate and no lost row, and no person's pseudo id changes (issue 17)."""

from __future__ import annotations

import csv
import random
import time
from pathlib import Path

from sqlalchemy import text

from iom.register.importer import import_files
from tests.conftest import ON_POSTGRES
from tests.reliability import crash
from tests.reliability.crash import iom

KILLS = 4 if ON_POSTGRES else 10
#: PostgreSQL upserts a row at a time (each fires the register-version trigger): a smaller file.
PEOPLE, CRIMES = (800, 5_000) if ON_POSTGRES else (1_600, 16_000)
HALF = 2  # the database first holds 1/HALF of each file


def _write(path: Path, header: list[str], rows) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _files(folder: Path, people: int, crimes: int) -> list[str]:
    folder.mkdir()
    p = _write(folder / "people.csv", ["source_id", "given_name", "family_name", "date_of_birth", "sex", "ethnicity",
                                       "home_npu"],
               ([f"P-{i:05d}", "Alex", f"Turner{i}", "1990-04-12", "MF"[i % 2], "W_BRI", "BE"] for i in range(people)))
    c = _write(folder / "crimes.csv", ["source_id", "person_source_id", "involvement", "committed_on", "recorded_on",
                                       "offence_code", "npu_code", "outcome"],
               ([f"C-{i:06d}", f"P-{i * people // crimes:05d}", "offender", "2018-05-01", "2018-05-02", "008/06", "BE", "charge"]
                for i in range(crimes)))
    return [str(p), str(c)]


def _state(engine) -> tuple:
    """Rows and distinct keys of both tables, and every person's pseudo id."""
    with engine.connect() as connection:
        counts = tuple(connection.scalar(text(sql)) for sql in (
            "SELECT count(*) FROM people", "SELECT count(DISTINCT source_id) FROM people",
            "SELECT count(*) FROM crimes", "SELECT count(DISTINCT source_id) FROM crimes"))
        pseudo = dict(connection.execute(text("SELECT source_id, pseudo_id FROM people")).all())
    return counts, pseudo


def _back_to_the_first_half(engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM crimes WHERE source_id >= :c"), {"c": f"C-{CRIMES // HALF:06d}"})
        connection.execute(text("DELETE FROM people WHERE source_id >= :p"), {"p": f"P-{PEOPLE // HALF:05d}"})
    engine.dispose()


def test_a_killed_import_writes_everything_or_nothing_and_a_rerun_completes(scratch_db, tmp_path):
    url = scratch_db.url
    engine = scratch_db.engine()
    iom(url, "init")
    people, crimes = _files(tmp_path / "first", PEOPLE // HALF, CRIMES // HALF)
    import_files(engine, {"people": people, "crimes": crimes})
    first = _state(engine)
    whole = _files(tmp_path / "whole", PEOPLE, CRIMES)
    started = time.monotonic()
    iom(url, "import", *whole)
    whole_run = time.monotonic() - started
    done = _state(engine)
    assert first[0] == (PEOPLE // HALF,) * 2 + (CRIMES // HALF,) * 2 and done[0] == (PEOPLE,) * 2 + (CRIMES,) * 2
    _back_to_the_first_half(engine)
    assert _state(engine) == first

    started = time.monotonic()
    iom(url, "import", "--help")
    startup = time.monotonic() - started  # the kills are spread over the import's own work
    rng = random.Random(31)
    kills = attempts = 0
    while kills < KILLS:
        attempts += 1
        assert attempts <= 3 * KILLS, "the import kept finishing before the kill"
        kills += crash.killed_after(url, ["import", *whole], rng.uniform(startup, whole_run))
        after = _state(engine)
        engine.dispose()
        assert after[0] in (first[0], done[0]), f"after kill {kills}: part of an import written: {after[0]}"
        assert {k: after[1][k] for k in first[1]} == first[1]  # pseudo ids never change
        if after[0] == done[0]:
            _back_to_the_first_half(engine)

    iom(url, "import", *whole)  # the first half again too: updated in place, never duplicated
    final = _state(engine)
    assert final[0] == done[0]
    assert {k: final[1][k] for k in first[1]} == first[1]
