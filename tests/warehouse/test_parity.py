"""Every measure of the warehouse on the same small synthetic force, on DuckDB and on Spark
(local[2]): counts exactly equal, rates within 1e-12 (issue 16's parity).

DuckDB reads the force's ``iom export`` files as they are (flat); Spark reads the same tables
laid out as the national data set is (hive-partitioned by force and year), so one run checks
both engines and both layouts. One Spark session serves the whole test session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from iom.evaluation.programmes import programme_table
from iom.register.export import export_database
from iom.register.service import init_database
from iom.scoring.config import load_config
from iom.synth.service import generate_force
from iom.warehouse import matrix, measures
from iom.warehouse.core import open_warehouse
from iom.warehouse.source import TABLES
from tests.conftest import ScratchDatabase

#: A force small enough for Spark to answer each measure in a second or two.
PEOPLE = 2_000
FORCE = "WMP"


@pytest.fixture(scope="session")
def spark_session():
    from iom.warehouse import spark

    return spark.session(master="local[2]")


@pytest.fixture(scope="module")
def small_force(tmp_path_factory):
    """A small synthetic force of its own (the shared one is ten times the size)."""
    db = ScratchDatabase(tmp_path_factory.mktemp("small-force"))
    engine = db.engine()
    init_database(engine)
    generate_force(engine, seed=3, people=PEOPLE)
    yield engine
    db.drop()


@pytest.fixture(scope="module")
def flat(tmp_path_factory, small_force) -> Path:
    """The force written by ``iom export`` (flat: one file per table)."""
    out = tmp_path_factory.mktemp("export") / "export"
    export_database(small_force, out)
    return out


def partitioned(flat: Path, out: Path) -> Path:
    """The same tables as the national data set lays them out: crimes by force and year,
    people, memberships and management by force, each with a ``force_code``."""
    for name in TABLES:
        table = pq.read_table(flat / f"{name}.parquet")
        if name in ("units", "offences", "cost_of_crime"):
            pq.write_table(table, out / f"{name}.parquet")
            continue
        table = table.append_column("force_code", pa.array([FORCE] * table.num_rows, pa.string()))
        table = table.append_column("force", pa.array([FORCE] * table.num_rows, pa.string()))
        keys = ["force"]
        if name == "crimes":
            table = table.append_column("year", pc.year(table["committed_on"]))
            keys.append("year")
        ds.write_dataset(table, out / name, format="parquet", partitioning=keys, partitioning_flavor="hive",
                         basename_template="part-{i}.parquet")
    return out


@pytest.fixture(scope="module")
def engines(flat, tmp_path_factory, spark_session):
    hive = partitioned(flat, tmp_path_factory.mktemp("national"))
    assert any((hive / "crimes" / f"force={FORCE}").glob("year=*/part-*.parquet"))
    return open_warehouse(engine="duckdb", parquet_dir=flat), open_warehouse(engine="spark", parquet_dir=hive)


def same(duck: pd.DataFrame, spark: pd.DataFrame, *, what: str) -> None:
    """Equal shape and columns; whole numbers, text and dates exactly, rates to 1e-12."""
    assert list(duck.columns) == list(spark.columns), what
    assert len(duck) == len(spark), what
    assert len(duck) > 0, f"{what}: nothing to compare"
    for col in duck.columns:
        a, b = duck[col].reset_index(drop=True), spark[col].reset_index(drop=True)
        if pd.api.types.is_float_dtype(a) or pd.api.types.is_float_dtype(b):
            x, y = a.to_numpy(float), b.to_numpy(float)
            assert np.array_equal(np.isnan(x), np.isnan(y)), f"{what}.{col}: missing values differ"
            ok = ~np.isnan(x)
            assert np.allclose(x[ok], y[ok], rtol=1e-12, atol=0), f"{what}.{col}"
        else:
            assert a.astype(object).where(a.notna(), None).tolist() == b.astype(object).where(b.notna(), None).tolist(), \
                f"{what}.{col}"


def test_both_engines_see_the_same_register(engines):
    duck, spark = engines
    assert duck.latest == spark.latest
    assert duck.crimes_count() == spark.crimes_count() > 0


def test_reoffending_measures_by_every_grouping(engines):
    duck, spark = engines
    start = measures.default_start(duck)
    on_duck, on_spark = measures.all_measures(duck, start=start), measures.all_measures(spark, start=start)
    for by in measures.GROUPINGS:
        same(on_duck[by], on_spark[by], what=by)
        # the one stacked query gives what each grouping's own query gives
        same(on_duck[by], measures.reoffending_measures(duck, by=by, start=start), what=f"{by} alone")
    assert on_duck["force"]["group"].tolist() == [FORCE]
    assert on_duck["npu"]["recorded_reoffenders"].sum() > 0


def test_before_during_after(engines):
    duck, spark = engines
    as_of = duck.latest
    on_duck, on_spark = measures.person_windows(duck, as_of=as_of), measures.person_windows(spark, as_of=as_of)
    same(on_duck, on_spark, what="windows")
    assert set(on_duck["win"]) == {"before", "during", "after"}
    same(measures.before_during_after(duck, resamples=100),
         measures.windows_table(on_spark, as_of=as_of, resamples=100), what="before_during_after")


@pytest.mark.parametrize("name", ["oocd-vs-charge", "iom-ppo"])
def test_programme_groups(engines, name):
    duck, spark = engines
    as_of = duck.latest
    on_duck = programme_table(duck, name=name, as_of=as_of)
    same(on_duck, programme_table(spark, name=name, as_of=as_of), what=name)
    assert on_duck["group"].nunique() == 2 and on_duck["reoffended"].sum() > 0


def test_rfg_and_harm_matrix(engines):
    duck, spark = engines
    config = load_config()
    on_duck = matrix.warehouse_scores(duck, config, duck.latest)
    same(on_duck, matrix.warehouse_scores(spark, config, spark.latest), what="scores")
    assert (on_duck["rfg"] > 0).any() and (on_duck["victims"] > 0).any()


def test_the_monthly_da_list(engines, small_force):
    """The DA list's tallies, sections and RFGV points: what the list reads (DuckDB over Arrow)
    and the same expression on Spark, over the force's incidents in a two-year window."""
    import ibis
    from sqlalchemy.orm import Session

    from iom.domestic_abuse import monthly
    from iom.domestic_abuse.rules import monthly_list_rules
    from iom.warehouse import da_list

    _, spark = engines
    rules = monthly_list_rules().model_copy(update={"window_months": 24})
    start, end = monthly.window(spark.latest.replace(day=1), rules)
    with Session(small_force) as session:
        incidents = monthly.incidents(session, start=start, end=end, rules=rules)
    on_duck = da_list.sections_arrow(rules, end, incidents)
    on_spark = spark.execute(da_list.sections(ibis.memtable(incidents), rules, end))
    for frame in (on_duck, on_spark):
        frame["other_ids"] = [tuple(int(o) for o in ids) for ids in frame["other_ids"]]
        for col in ("first_on", "latest_on"):
            frame[col] = pd.to_datetime(frame[col]).dt.date
    same(on_duck, on_spark, what="da list")
    assert on_duck["serial"].any() and on_duck["repeat_victims"].any() and on_duck["score"].gt(0).all()


def test_the_courses_follow_up_outcomes(engines, small_force):
    """Each course case's follow-up outcomes, as the evaluation and the synthetic force count them
    (DuckDB over Arrow) and on Spark, for every person with a crime in the force's second year."""
    import ibis
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from iom.courses import service
    from iom.register.models import Crime
    from iom.warehouse import follow_up
    from iom.warehouse.source import rows_table

    _, spark = engines
    with Session(small_force) as session:
        first = session.scalar(select(Crime.committed_on).order_by(Crime.committed_on).limit(1))
        index = first.replace(year=first.year + 1)
        people = sorted(set(session.scalars(select(Crime.person_id).where(Crime.committed_on <= index))))
        cases = [(n, pid, index, service.follow_up_end(index, 12)) for n, pid in enumerate(people)]
        records = service.records_of(session, people, since=index)
    on_duck = follow_up.outcomes_of(cases, records)
    on_spark = spark.execute(follow_up.outcomes(ibis.memtable(rows_table(follow_up.CASES, cases)),
                                                ibis.memtable(rows_table(follow_up.RECORDS, records))))
    same(on_duck, on_spark, what="follow-up")
    assert len(on_duck) == len(cases) and 0 < on_duck["reoffend"].sum() < len(cases)
    assert on_duck["days"].notna().sum() == on_duck["reoffend"].sum()


def test_the_partitioned_layout_reads_as_the_flat_one(engines, flat, tmp_path):
    duck, _ = engines
    hive = open_warehouse(engine="duckdb", parquet_dir=partitioned(flat, tmp_path))
    start = measures.default_start(duck)
    same(measures.reoffending_measures(duck, by="npu", start=start),
         measures.reoffending_measures(hive, by="npu", start=start), what="flat against partitioned")
    assert hive.latest == duck.latest


def test_an_unknown_engine_is_refused_in_words(flat):
    from iom.errors import UserError

    with pytest.raises(UserError, match="unknown engine 'dask'"):
        open_warehouse(engine="dask", parquet_dir=flat)


def test_the_database_reads_as_its_export_on_both_engines(engines, small_force):
    """``iom measures`` reads the database (only the cohort's people and crimes), through the
    same expressions: DuckDB, and Spark handed the tables as Arrow, agree with the export."""
    duck, _ = engines
    start = measures.default_start(duck)
    expected = measures.reoffending_measures(duck, by="lomu", start=start)
    for engine in ("duckdb", "spark"):
        wh = open_warehouse(engine=engine, database=small_force, scope="cohort")
        assert wh.latest == duck.latest, engine
        same(expected, measures.reoffending_measures(wh, by="lomu", start=start), what=f"database on {engine}")


def test_iom_measures_and_adoption_on_either_engine(engines, flat):
    """``--engine`` picks the engine, with the same answer (the Spark session is the one above)."""
    import json

    from typer.testing import CliRunner

    from iom.cli import app

    for command in (["measures", "--by", "npu"], ["adoption"]):
        printed = {}
        for engine in ("duckdb", "spark"):
            out = CliRunner().invoke(app, [*command, "--parquet", str(flat), "--engine", engine, "--json"])
            assert out.exit_code == 0, out.output
            printed[engine] = json.loads(out.stdout)
        assert printed["duckdb"] == printed["spark"] and printed["duckdb"], command
    out = CliRunner().invoke(app, ["measures", "--parquet", str(flat), "--engine", "dask"])
    assert out.exit_code != 0 and "unknown engine 'dask'" in str(out.exception)
