"""Parquet export: every table, typed columns, stable order, identical bytes for identical
data, manifest digests, and no half-written output when something fails."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from iom.cli import app
from iom.errors import UserError
from iom.register import export as exporter
from iom.register.export import export_database, exported_tables, read_manifest
from iom.register.importer import KINDS, import_files

DATA = Path(__file__).parent / "data"
TODAY = dt.date(2019, 3, 31)


@pytest.fixture
def loaded(fresh_engine: Engine) -> Engine:
    import_files(fresh_engine, {kind: DATA / f"{kind}.csv" for kind in KINDS}, today=TODAY)
    return fresh_engine


def _digests(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def test_every_table_is_exported_with_manifest(loaded: Engine, tmp_path: Path) -> None:
    out = tmp_path / "export"
    written = export_database(loaded, out)
    names = exported_tables()
    assert [w.table for w in written] == names
    assert sorted(p.name for p in out.iterdir()) == sorted([f"{n}.parquet" for n in names] + ["manifest.json"])
    manifest = read_manifest(out)
    assert manifest == written
    with loaded.connect() as conn:
        for entry in manifest:
            held = conn.scalar(text(f'SELECT count(*) FROM "{entry.table}"'))
            assert entry.rows == held == pq.ParquetFile(out / entry.file).metadata.num_rows
            assert entry.sha256 == hashlib.sha256((out / entry.file).read_bytes()).hexdigest()


def test_columns_are_typed_and_rows_follow_the_primary_key(loaded: Engine, tmp_path: Path) -> None:
    out = tmp_path / "export"
    export_database(loaded, out)
    crimes = pq.read_table(out / "crimes.parquet")
    schema = crimes.schema
    assert schema.field("id").type == pa.int64()
    assert schema.field("committed_on").type == pa.date32()
    assert schema.field("outcome_on").type == pa.date32()
    assert schema.field("domestic_abuse").type == pa.bool_()
    assert schema.field("source_id").type == pa.string()
    assert not schema.field("id").nullable
    with loaded.connect() as conn:
        rows = conn.execute(text("SELECT * FROM crimes ORDER BY id")).mappings().all()
    exported = crimes.to_pylist()
    assert [r["id"] for r in exported] == sorted(r["id"] for r in exported)
    assert len(exported) == len(rows) == 4
    by_id = {r["id"]: r for r in exported}
    for row in rows:
        got = by_id[row["id"]]
        assert got["source_id"] == row["source_id"]
        assert got["committed_on"] == (row["committed_on"] if isinstance(row["committed_on"], dt.date) else dt.date.fromisoformat(row["committed_on"]))
        assert got["domestic_abuse"] is bool(row["domestic_abuse"])
    people = pq.read_table(out / "people.parquet")
    assert people.schema.field("date_of_birth").type == pa.date32()
    assert people.schema.field("interpreter_needed").type == pa.bool_()
    units = pq.read_table(out / "units.parquet").to_pylist()
    assert [u["code"] for u in units] == sorted(u["code"] for u in units)


def test_small_batches_and_row_groups_give_the_same_rows(loaded: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    export_database(loaded, tmp_path / "big")
    monkeypatch.setattr(exporter, "ROW_GROUP", 7)
    export_database(loaded, tmp_path / "small", batch_size=3)
    for name in exported_tables():
        big = pq.read_table(tmp_path / "big" / f"{name}.parquet")
        small = pq.read_table(tmp_path / "small" / f"{name}.parquet")
        assert big.equals(small), name
    units = pq.ParquetFile(tmp_path / "small" / "units.parquet").metadata
    assert [units.row_group(i).num_rows for i in range(units.num_row_groups)] == [7, 7, 4]


def test_same_data_gives_identical_bytes(loaded: Engine, tmp_path: Path) -> None:
    export_database(loaded, tmp_path / "a")
    export_database(loaded, tmp_path / "b")
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
    # ... and one changed value changes that table's digest, and only that one.
    with loaded.begin() as conn:
        conn.execute(text("UPDATE crimes SET outcome = 'nfa' WHERE source_id = 'CR-0004'"))
    export_database(loaded, tmp_path / "c")
    a, c = _digests(tmp_path / "a"), _digests(tmp_path / "c")
    assert {n for n in a if a[n] != c[n]} == {"crimes.parquet", "manifest.json"}


def test_refuses_a_non_empty_directory_unless_overwriting(loaded: Engine, tmp_path: Path) -> None:
    out = tmp_path / "exports" / "export"
    export_database(loaded, out)  # an earlier export, with a note left in it
    (out / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="already holds files"):
        export_database(loaded, out)
    assert (out / "notes.txt").read_text() == "mine"
    export_database(loaded, out, overwrite=True)
    assert not (out / "notes.txt").exists()
    assert (out / "manifest.json").exists()
    assert sorted(p.name for p in out.parent.iterdir()) == ["export"]  # no staging or old copy left


def test_failure_leaves_no_half_written_output(loaded: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "exports" / "export"
    export_database(loaded, out)
    before = _digests(out)
    real = exporter._export_table
    calls = []

    def failing(engine, table, path, batch):
        calls.append(table.name)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real(engine, table, path, batch)

    monkeypatch.setattr(exporter, "_export_table", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        export_database(loaded, out, overwrite=True)
    assert _digests(out) == before  # the previous export is untouched
    calls.clear()
    with pytest.raises(RuntimeError):
        export_database(loaded, out.parent / "fresh")
    assert sorted(p.name for p in out.parent.iterdir()) == ["export"]


def test_cli_export(loaded: Engine, tmp_path: Path) -> None:
    url = loaded.url.render_as_string(hide_password=False)
    out = tmp_path / "export"
    result = CliRunner().invoke(app, ["--db", url, "export", str(out)])
    assert result.exit_code == 0, result.output
    assert f"exported {len(exported_tables())} tables" in result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert [t["table"] for t in manifest["tables"]] == exported_tables()
    again = CliRunner().invoke(app, ["--db", url, "export", str(out)])
    assert again.exit_code == 2
    assert "already holds files" in again.output


def test_synthetic_force_digests_follow_the_seed(scratch_db_factory) -> None:
    """Same seed twice: identical digests; another seed: different."""
    from iom.register.service import init_database
    from iom.synth.service import generate_force

    digests = []
    for seed in (7, 7, 8):
        engine = scratch_db_factory().engine()
        init_database(engine)
        generate_force(engine, seed=seed, people=2_000)
        out = scratch_db_factory.tmp / f"export-{len(digests)}"
        written = export_database(engine, out)
        assert min(w.rows for w in written if w.table in ("people", "crimes", "cohort_memberships")) > 1_000
        digests.append({w.table: w.sha256 for w in written})
        digests[-1]["manifest"] = hashlib.sha256((out / "manifest.json").read_bytes()).hexdigest()
    assert digests[0] == digests[1]
    assert digests[0]["manifest"] != digests[2]["manifest"]
    assert digests[0]["people"] != digests[2]["people"]
    assert digests[0]["crimes"] != digests[2]["crimes"]


@pytest.fixture
def scratch_db_factory(scratch_db, tmp_path: Path):
    """Several scratch databases in one test: ``scratch_db`` first, then more of its kind."""
    made = []

    def make():
        db = scratch_db if not made else type(scratch_db)(tmp_path)
        made.append(db)
        return db

    make.tmp = tmp_path
    yield make
    for db in made[1:]:
        db.drop()


def test_overwrite_replaces_only_an_earlier_export(loaded: Engine, tmp_path: Path) -> None:
    mine = tmp_path / "documents"
    mine.mkdir()
    (mine / "keep.txt").write_text("mine")
    with pytest.raises(UserError, match="only replaces an earlier export"):
        export_database(loaded, mine, overwrite=True)
    assert (mine / "keep.txt").read_text() == "mine"


def test_the_current_directory_and_a_linked_directory_are_exported_into(loaded: Engine, tmp_path: Path, monkeypatch) -> None:
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    export_database(loaded, ".")
    assert (here / "manifest.json").is_file()
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    export_database(loaded, link)
    assert link.is_symlink() and (real / "manifest.json").is_file()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging or old copy left


def test_an_unusable_target_is_a_plain_error(loaded: Engine, tmp_path: Path) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    with pytest.raises(UserError, match="cannot write an export"):
        export_database(loaded, blocker / "sub")


def test_password_hashes_never_leave_the_database(loaded: Engine, tmp_path: Path) -> None:
    export_database(loaded, tmp_path / "out")
    assert not (tmp_path / "out" / "users.parquet").exists()
