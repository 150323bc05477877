"""CSV import: validation at the edge, all-or-nothing, idempotent by source_id, streaming."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
import shutil
import tracemalloc
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from iom.cli import app
from iom.cohorts.models import CohortMembership, ManagementRecord, RiskLevelRecord
from iom.errors import UserError
from iom.register.importer import KINDS, MAX_ERRORS, CrimeRow, ImportFailed, classify_files, import_files
from iom.register.models import Crime, Person, VulnerabilityMarker

DATA = Path(__file__).parent / "data"
TODAY = dt.date(2019, 3, 31)
TABLES = ["people", "crimes", "vulnerability_markers", "cohort_memberships", "risk_level_history", "management_history"]
ALL_FILES = {kind: DATA / f"{kind}.csv" for kind in KINDS}


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _snapshot(engine: Engine) -> dict[str, tuple[int, str]]:
    """Row count and a checksum of every row of each register table."""
    out = {}
    with engine.connect() as conn:
        for table in TABLES:
            rows = conn.execute(text(f"SELECT * FROM {table} ORDER BY id")).all()
            out[table] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return out


def _count(engine: Engine, model) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(model))


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


CRIME_HEADER = [
    "source_id",
    "person_source_id",
    "involvement",
    "committed_on",
    "recorded_on",
    "offence_code",
    "npu_code",
    "outcome",
    "outcome_on",
    "victim_source_id",
]


def _crime(source_id: str, **changes: str) -> list[str]:
    row = dict(
        source_id=source_id,
        person_source_id="NICHE-0001",
        involvement="offender",
        committed_on="2018-01-10",
        recorded_on="2018-01-11",
        offence_code="008/06",
        npu_code="BE",
        outcome="charge",
        outcome_on="2018-02-01",
        victim_source_id="",
    )
    row.update(changes)
    return [row[c] for c in CRIME_HEADER]


@pytest.fixture
def loaded(fresh_engine: Engine) -> Engine:
    """A database holding the good fixture files."""
    import_files(fresh_engine, ALL_FILES, today=TODAY)
    return fresh_engine


class TestAllOrNothing:
    def test_cli_bad_crime_row_exits_2_names_row_and_column_and_changes_nothing(self, loaded: Engine) -> None:
        before = _snapshot(loaded)
        result = CliRunner().invoke(app, ["--db", _url(loaded), "import", str(DATA / "crimes_bad_row.csv")])
        assert result.exit_code == 2, result.output
        assert "crimes_bad_row.csv line 3, column recorded_on" in result.output
        assert "before it was committed" in result.output
        assert "Traceback" not in result.output
        assert _snapshot(loaded) == before

    def test_good_rows_of_other_files_are_not_written_either(self, fresh_engine: Engine) -> None:
        files = {"people": DATA / "people.csv", "crimes": DATA / "crimes_bad_row.csv"}
        with pytest.raises(ImportFailed) as info:
            import_files(fresh_engine, files, today=TODAY)
        assert [(e.line, e.column) for e in info.value.errors] == [(3, "recorded_on")]
        assert _count(fresh_engine, Person) == 0
        assert _count(fresh_engine, Crime) == 0

    def test_bad_row_after_many_good_chunks_writes_nothing(self, loaded: Engine, tmp_path: Path) -> None:
        rows = [_crime(f"X{i:05d}") for i in range(2_500)] + [_crime("X-BAD", offence_code="999/99")]
        path = _write(tmp_path / "crimes.csv", CRIME_HEADER, rows)
        before = _snapshot(loaded)
        with pytest.raises(ImportFailed) as info:
            import_files(loaded, {"crimes": path}, today=TODAY, batch_size=500)
        assert [(e.line, e.column) for e in info.value.errors] == [(2_502, "offence_code")]
        assert _snapshot(loaded) == before


class TestRowErrors:
    def test_every_problem_is_reported_with_line_and_column(self, loaded: Engine, tmp_path: Path) -> None:
        rows = [
            _crime("E1", offence_code="999/99"),
            _crime("E2", npu_code="ZZ"),
            _crime("E3", committed_on="2019-04-02", recorded_on="2019-04-02", outcome_on=""),
            _crime("E4", person_source_id="NOBODY"),
            _crime("E5", committed_on="10/01/2018"),
            _crime("E6", involvement="witness"),
            _crime("E7", outcome=""),
            _crime("E8", victim_source_id="NICHE-0001"),
            _crime("E9", outcome_on="2017-12-31"),
            _crime("E10", committed_on="2018-02-30"),
            _crime("E1"),
        ]
        path = _write(tmp_path / "crimes.csv", CRIME_HEADER, rows)
        with pytest.raises(ImportFailed) as info:
            import_files(loaded, {"crimes": path}, today=TODAY)
        found = {(e.line, e.column): e.reason for e in info.value.errors}
        assert found.keys() == {
            (2, "offence_code"),
            (3, "npu_code"),
            (4, "committed_on"),
            (4, "recorded_on"),
            (5, "person_source_id"),
            (6, "committed_on"),
            (7, "involvement"),
            (8, "outcome"),
            (9, "victim_source_id"),
            (10, "outcome_on"),
            (11, "committed_on"),
            (12, "source_id"),
        }
        assert "unknown offence code '999/99'" in found[(2, "offence_code")]
        assert "in the future" in found[(4, "committed_on")]
        assert "no person with source_id 'NOBODY'" in found[(5, "person_source_id")]
        assert "YYYY-MM-DD" in found[(6, "committed_on")]
        assert "required" in found[(8, "outcome")]
        assert "not a real date" in found[(11, "committed_on")]
        assert "also on line 2" in found[(12, "source_id")]
        assert all(e.file == "crimes.csv" for e in info.value.errors)

    def test_errors_are_capped(self, loaded: Engine, tmp_path: Path) -> None:
        rows = [_crime(f"B{i}", npu_code="ZZ") for i in range(MAX_ERRORS + 50)]
        path = _write(tmp_path / "crimes.csv", CRIME_HEADER, rows)
        with pytest.raises(ImportFailed) as info:
            import_files(loaded, {"crimes": path}, today=TODAY, batch_size=40)
        assert len(info.value.errors) == MAX_ERRORS
        assert info.value.capped
        assert f"stopped after the first {MAX_ERRORS}" in str(info.value)

    def test_wrong_number_of_fields(self, loaded: Engine, tmp_path: Path) -> None:
        path = tmp_path / "crimes.csv"
        path.write_text(",".join(CRIME_HEADER) + "\n" + ",".join(_crime("Z1")[:-2]) + "\n")
        with pytest.raises(ImportFailed, match=r"line 2: expected 10 fields, found 8"):
            import_files(loaded, {"crimes": path}, today=TODAY)

    def test_too_long_values_are_rejected_before_the_database_sees_them(self, fresh_engine: Engine, tmp_path: Path) -> None:
        header = ["source_id", "given_name", "family_name", "date_of_birth", "sex", "ethnicity"]
        path = _write(tmp_path / "people.csv", header, [["X" * 65, "Al", "N" * 81, "1990-01-01", " M ", "W_BRI"]])
        with pytest.raises(ImportFailed) as info:
            import_files(fresh_engine, {"people": path}, today=TODAY)
        assert {(e.line, e.column) for e in info.value.errors} == {(2, "source_id"), (2, "family_name")}
        assert "longer than the 64 characters allowed" in str(info.value)

    def test_people_reference_codes_are_checked(self, fresh_engine: Engine, tmp_path: Path) -> None:
        header = ["source_id", "given_name", "family_name", "date_of_birth", "sex", "ethnicity", "home_npu"]
        path = _write(
            tmp_path / "people.csv",
            header,
            [["A", "Al", "Ng", "1990-01-01", "X", "W_BRI", "BE"], ["B", "Bo", "Li", "1990-01-01", "M", "MARTIAN", "QQ"]],
        )
        with pytest.raises(ImportFailed) as info:
            import_files(fresh_engine, {"people": path}, today=TODAY)
        assert {(e.line, e.column) for e in info.value.errors} == {(2, "sex"), (3, "ethnicity"), (3, "home_npu")}


class TestFiles:
    def test_missing_file(self, fresh_engine: Engine, tmp_path: Path) -> None:
        with pytest.raises(UserError, match="file not found"):
            import_files(fresh_engine, {"crimes": tmp_path / "nope.csv"})

    def test_empty_file(self, fresh_engine: Engine, tmp_path: Path) -> None:
        (tmp_path / "e.csv").write_text("")
        with pytest.raises(UserError, match="empty"):
            import_files(fresh_engine, {"people": tmp_path / "e.csv"})

    def test_header_without_rows(self, fresh_engine: Engine, tmp_path: Path) -> None:
        path = _write(tmp_path / "crimes.csv", CRIME_HEADER, [])
        with pytest.raises(ImportFailed, match="header but no rows"):
            import_files(fresh_engine, {"crimes": path})

    def test_missing_and_unknown_columns(self, fresh_engine: Engine, tmp_path: Path) -> None:
        header = [c for c in CRIME_HEADER if c != "npu_code"] + ["colour"]
        path = _write(tmp_path / "crimes.csv", header, [])
        with pytest.raises(UserError, match=r"missing required column\(s\) npu_code; unknown column\(s\) colour"):
            import_files(fresh_engine, {"crimes": path})

    def test_not_utf8(self, fresh_engine: Engine, tmp_path: Path) -> None:
        path = tmp_path / "people.csv"
        path.write_bytes((DATA / "people.csv").read_bytes().replace(b"Alex", "Zoë".encode("latin-1")))
        with pytest.raises(UserError, match="not UTF-8"):
            import_files(fresh_engine, {"people": path}, today=TODAY)
        assert _count(fresh_engine, Person) == 0

    def test_byte_order_mark_and_padded_cells_are_accepted(self, fresh_engine: Engine, tmp_path: Path) -> None:
        path = tmp_path / "people.csv"
        body = (DATA / "people.csv").read_text().replace("NICHE-0001,Alex", " NICHE-0001 , Alex ")
        path.write_bytes(b"\xef\xbb\xbf" + body.encode())
        import_files(fresh_engine, {"people": path}, today=TODAY)
        with fresh_engine.connect() as conn:
            assert conn.scalar(select(Person.given_name).where(Person.source_id == "NICHE-0001")) == "Alex"

    def test_positional_files_are_recognised_by_header(self, tmp_path: Path) -> None:
        assert classify_files([DATA / "crimes.csv", DATA / "people.csv", DATA / "risk.csv"]) == {
            "crimes": DATA / "crimes.csv",
            "people": DATA / "people.csv",
            "risk": DATA / "risk.csv",
        }
        odd = _write(tmp_path / "odd.csv", ["a", "b"], [["1", "2"]])
        with pytest.raises(UserError, match="cannot tell what this file holds"):
            classify_files([odd])

    def test_cli_missing_file_is_a_plain_error(self, fresh_engine: Engine) -> None:
        result = CliRunner().invoke(app, ["--db", _url(fresh_engine), "import", "--people", "/no/such/people.csv"])
        assert result.exit_code == 2
        assert "file not found" in result.output
        assert "Traceback" not in result.output


class TestIdempotent:
    def test_reimport_updates_and_never_duplicates(self, fresh_engine: Engine, tmp_path: Path) -> None:
        first = import_files(fresh_engine, ALL_FILES, today=TODAY)
        assert {f.kind: f.inserted for f in first.files} == {
            "people": 4, "markers": 2, "cohorts": 2, "risk": 3, "management": 2, "crimes": 4,
        }
        counts = {t: n for t, (n, _) in _snapshot(fresh_engine).items()}
        with fresh_engine.connect() as conn:
            pseudo = dict(conn.execute(select(Person.source_id, Person.pseudo_id)).all())
        assert all(p.startswith("P") and len(p) == 12 for p in pseudo.values())
        assert len(set(pseudo.values())) == 4

        # Change one field in people, crimes, memberships and markers and import again.
        changed = tmp_path / "changed"
        changed.mkdir()
        for kind, path in ALL_FILES.items():
            shutil.copy(path, changed / path.name)
        edits = {
            "people.csv": ("Alex,Turner", "Alex,Turner-Smith"),
            "crimes.csv": ("CR-0004,NICHE-0003,suspect,2019-01-05,2019-01-07,008/H6,SW,pending,",
                           "CR-0004,NICHE-0003,suspect,2019-01-05,2019-01-07,008/H6,SW,charge,2019-02-01"),
            "cohorts.csv": ("Two violent offences in 12 months,,", "Two violent offences in 12 months,2019-03-01,Moved away"),
            "markers.csv": ("2016-03-01,,GP referral", "2016-03-01,2019-01-31,GP referral"),
        }
        for name, (old, new) in edits.items():
            body = (changed / name).read_text()
            assert old in body
            (changed / name).write_text(body.replace(old, new))
        again = import_files(fresh_engine, {k: changed / p.name for k, p in ALL_FILES.items()}, today=TODAY)
        assert all(f.inserted == 0 for f in again.files)
        assert {f.kind: f.unchanged for f in again.files}["risk"] == 3
        assert {t: n for t, (n, _) in _snapshot(fresh_engine).items()} == counts

        with fresh_engine.connect() as conn:
            assert dict(conn.execute(select(Person.source_id, Person.pseudo_id)).all()) == pseudo
            assert conn.scalar(select(Person.family_name).where(Person.source_id == "NICHE-0001")) == "Turner-Smith"
            outcome = conn.execute(select(Crime.outcome, Crime.outcome_on).where(Crime.source_id == "CR-0004")).one()
            assert tuple(outcome) == ("charge", dt.date(2019, 2, 1))
            exited = conn.scalar(select(CohortMembership.exited_on).where(CohortMembership.source_id == "M-0001"))
            assert exited == dt.date(2019, 3, 1)
            ended = conn.scalar(select(VulnerabilityMarker.ended_on).where(VulnerabilityMarker.marker == "MENTAL_HEALTH"))
            assert ended == dt.date(2019, 1, 31)

    def test_references_and_catalogue_flags_are_resolved(self, loaded: Engine) -> None:
        with loaded.connect() as conn:
            ids = dict(conn.execute(select(Person.source_id, Person.id)).all())
            crimes = {c.source_id: c for c in conn.execute(select(Crime)).all()}
            mgmt = conn.execute(select(ManagementRecord.lomu_code).where(ManagementRecord.person_id == ids["NICHE-0002"])).scalar()
        assert crimes["CR-0002"].person_id == ids["NICHE-0001"]
        assert crimes["CR-0002"].victim_person_id == ids["NICHE-0002"]
        assert crimes["CR-0002"].domestic_abuse is True  # blank: taken from 105/DA in the catalogue
        assert crimes["CR-0004"].hate is True  # blank: 008/H6 is a hate offence
        assert crimes["CR-0003"].domestic_abuse is False
        assert crimes["CR-0001"].alcohol_related is True
        assert mgmt == "LWS"

    def test_append_only_history_rejects_a_rewrite(self, loaded: Engine, tmp_path: Path) -> None:
        path = _write(
            tmp_path / "risk.csv",
            ["person_source_id", "level", "effective_from"],
            [["NICHE-0001", "Low", "2018-07-01"], ["NICHE-0001", "Low", "2019-03-01"]],
        )
        before = _snapshot(loaded)
        with pytest.raises(ImportFailed, match="append-only") as info:
            import_files(loaded, {"risk": path}, today=TODAY)
        assert [e.line for e in info.value.errors] == [2]
        assert _snapshot(loaded) == before
        assert _count(loaded, RiskLevelRecord) == 3

    def test_a_changed_reason_on_a_held_history_row_is_a_rewrite_too(self, loaded: Engine, tmp_path: Path) -> None:
        with loaded.connect() as conn:
            pid, level, on, reason, by = conn.execute(
                select(Person.source_id, RiskLevelRecord.level, RiskLevelRecord.effective_from, RiskLevelRecord.reason,
                       RiskLevelRecord.recorded_by)
                .join(Person, Person.id == RiskLevelRecord.person_id).limit(1)
            ).one()
        header = ["person_source_id", "level", "effective_from", "reason", "recorded_by"]
        same = _write(tmp_path / "same.csv", header, [[pid, level, on.isoformat(), reason or "", by or ""]])
        assert import_files(loaded, {"risk": same}, today=TODAY)  # the row as held: unchanged, fine
        path = _write(tmp_path / "risk.csv", header, [[pid, level, on.isoformat(), f"{reason or ''} (edited)", by or ""]])
        with pytest.raises(ImportFailed, match="append-only"):
            import_files(loaded, {"risk": path}, today=TODAY)

    def test_control_characters_are_refused_with_their_line_and_column(self, loaded: Engine, tmp_path: Path) -> None:
        with open(DATA / "people.csv", newline="", encoding="utf-8") as handle:
            header, first = list(csv.reader(handle))[:2]
        row = dict(zip(header, first))
        row["given_name"] = "Ann\x00e"
        path = _write(tmp_path / "people.csv", header, [[row[h] for h in header]])
        before = _snapshot(loaded)
        with pytest.raises(ImportFailed, match="control character") as info:
            import_files(loaded, {"people": path}, today=TODAY)
        assert [(e.line, e.column) for e in info.value.errors] == [(2, "given_name")]
        assert _snapshot(loaded) == before


def test_cli_check_reports_what_would_happen_and_writes_nothing(fresh_engine: Engine) -> None:
    args = ["--db", _url(fresh_engine), "import", "--check", str(DATA / "people.csv"), str(DATA / "crimes.csv")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "checked (nothing written) 8 rows from 2 file(s)" in result.output
    assert _count(fresh_engine, Person) == 0
    assert _count(fresh_engine, Crime) == 0


def test_cli_import_reports_counts(fresh_engine: Engine) -> None:
    args = ["--db", _url(fresh_engine), "import", str(DATA / "people.csv"), "--crimes", str(DATA / "crimes.csv")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "imported 8 rows from 2 file(s)" in result.output
    assert _count(fresh_engine, Crime) == 4


def _traced_peak(action) -> tuple[object, int]:
    tracemalloc.start()
    try:
        result = action()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_large_crimes_file_streams_in_bounded_memory(fresh_engine: Engine, tmp_path: Path) -> None:
    """40,000 crimes (1M in benchmarks/bench_import.py): the peak of traced memory stays a
    small fraction of what holding the file's rows would take."""
    n_people, n_crimes, batch = 500, 40_000, 1_000
    people = _write(
        tmp_path / "people.csv",
        ["source_id", "given_name", "family_name", "date_of_birth", "sex", "ethnicity"],
        [[f"P{i}", "Given", "Family", "1980-01-01", "M", "W_BRI"] for i in range(n_people)],
    )
    import_files(fresh_engine, {"people": people}, today=TODAY)
    path = tmp_path / "crimes.csv"
    offences = ["008/06", "105/DA", "034/01", "008/H6"]
    npus = ["BE", "WS", "SW", "CV"]
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(CRIME_HEADER)
        start = dt.date(2009, 4, 1)
        for i in range(n_crimes):
            day = start + dt.timedelta(days=i % 3_600)
            writer.writerow(
                [f"C{i:07d}", f"P{i % n_people}", "offender", day, day, offences[i % 4], npus[i % 4], "charge", day, ""]
            )

    # What holding every row would cost: measure one batch of parsed rows and scale it up.
    def parse_one_batch() -> list:
        with path.open(newline="") as fh:
            reader = csv.DictReader(fh)
            return [CrimeRow.model_validate({k: v for k, v in row.items() if v}) for _, row in zip(range(batch), reader)]

    held, per_batch = _traced_peak(parse_one_batch)
    assert len(held) == batch
    del held
    holding_all = per_batch * (n_crimes // batch)

    result, peak = _traced_peak(lambda: import_files(fresh_engine, {"crimes": path}, today=TODAY, batch_size=batch))
    assert result.files[0].inserted == n_crimes
    assert _count(fresh_engine, Crime) == n_crimes
    assert peak < holding_all / 4, f"peak {peak / 1e6:.1f} MB vs {holding_all / 1e6:.1f} MB to hold every row"


#: DuckDB queries that turn an `iom export` back into import CSVs (internal ids -> source ids).
ROUND_TRIP = {
    "people": "SELECT source_id, given_name, family_name, date_of_birth, sex, ethnicity, home_npu, language,"
    " interpreter_needed FROM '{d}/people.parquet' ORDER BY source_id",
    "markers": "SELECT p.source_id AS person_source_id, marker, started_on, ended_on, m.source"
    " FROM '{d}/vulnerability_markers.parquet' m JOIN '{d}/people.parquet' p ON p.id = m.person_id"
    " ORDER BY ALL",
    "cohorts": "SELECT m.source_id, p.source_id AS person_source_id, classification_code, adopted_on,"
    " adoption_reason, exited_on, exit_reason FROM '{d}/cohort_memberships.parquet' m"
    " JOIN '{d}/people.parquet' p ON p.id = m.person_id ORDER BY m.source_id",
    "risk": "SELECT p.source_id AS person_source_id, level, effective_from, reason, recorded_by"
    " FROM '{d}/risk_level_history.parquet' r JOIN '{d}/people.parquet' p ON p.id = r.person_id ORDER BY ALL",
    "management": "SELECT p.source_id AS person_source_id, effective_from, offender_type, lead_agency, lomu_code,"
    " officer, reason FROM '{d}/management_history.parquet' r JOIN '{d}/people.parquet' p ON p.id = r.person_id"
    " ORDER BY ALL",
    "crimes": "SELECT c.source_id, p.source_id AS person_source_id, involvement, committed_on, recorded_on,"
    " offence_code, npu_code, outcome, outcome_on, domestic_abuse, alcohol_related, hate,"
    " v.source_id AS victim_source_id FROM '{d}/crimes.parquet' c JOIN '{d}/people.parquet' p ON p.id = c.person_id"
    " LEFT JOIN '{d}/people.parquet' v ON v.id = c.victim_person_id ORDER BY c.source_id",
}


def _export_as_csv(engine: Engine, folder: Path) -> dict[str, Path]:
    import duckdb

    from iom.register.export import export_database

    export_database(engine, folder / "parquet")
    files = {}
    with duckdb.connect() as con:
        for kind, query in ROUND_TRIP.items():
            files[kind] = folder / f"{kind}.csv"
            con.execute(f"COPY ({query.format(d=folder / 'parquet')}) TO '{files[kind]}' (HEADER)")
    return files


def test_synthetic_force_round_trips_through_export_and_import(fresh_engine: Engine, scratch_db, tmp_path: Path) -> None:
    """A synthetic force, exported and turned back into CSV, imports into an empty database
    and exports again to the very same CSV: the importer accepts what the platform holds."""
    from iom.register.service import init_database
    from iom.synth.service import generate_force

    generate_force(fresh_engine, seed=3, people=1_000)
    first = _export_as_csv(fresh_engine, tmp_path / "first")
    target = type(scratch_db)(tmp_path)
    try:
        engine = target.engine()
        init_database(engine)
        result = import_files(engine, first)
        assert {f.kind: f.inserted + f.unchanged for f in result.files} == {
            kind: sum(1 for _ in path.open()) - 1 for kind, path in first.items()
        }
        second = _export_as_csv(engine, tmp_path / "second")
        for kind in ROUND_TRIP:
            assert second[kind].read_text() == first[kind].read_text(), kind
    finally:
        target.drop()


def test_a_malformed_header_is_a_plain_error(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text('"' + "x" * 200_000 + "\n", encoding="utf-8")
    with pytest.raises(UserError, match="malformed CSV header"):
        classify_files([path])


@pytest.mark.skipif(not os.environ.get("IOM_DATABASE_URL", "").startswith("postgresql"), reason="PostgreSQL only")
def test_an_import_leaves_postgresql_with_statistics_for_the_planner(fresh_engine: Engine) -> None:
    """``ANALYZE`` after the load (``iom.db.refresh_statistics``), so record reads use the
    indexes at once: ``last_analyze`` is set by an explicit ANALYZE only, never by autovacuum."""
    analysed = text("SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema() "
                    "AND last_analyze IS NOT NULL")
    with fresh_engine.connect() as connection:
        assert "crimes" not in set(connection.scalars(analysed))
    import_files(fresh_engine, ALL_FILES, today=TODAY)
    with fresh_engine.connect() as connection:
        assert {"people", "crimes", "cohort_memberships"} <= set(connection.scalars(analysed))
        assert connection.scalar(text("SELECT count(*) FROM pg_stats WHERE schemaname = current_schema() "
                                      "AND tablename = 'crimes'")) > 0
