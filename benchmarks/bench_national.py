"""The warehouse on the national slice (issue 16): RFG + harm scoring against a bare
``GROUP BY person`` over the same Parquet, on DuckDB and on Spark (local[2]), and the ID-IOM
measures by force on both engines.

The slice is ``iom synth --national --scale 0.1`` (about 1.4 million people and 10 million
crimes, partitioned by force and year). IOM_BENCH_NATIONAL names an existing one to use as
it is; otherwise it is generated once per `make bench` into IOM_BENCH_CACHE (its generation is
not part of these figures). Each ratio is the median of three interleaved runs, both sides
returning their per-person rows to the caller as Arrow."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

#: About 1.4 million people and 10 million crimes (1.0 is the whole of England and Wales).
NATIONAL_SCALE = 0.1
RUNS = 3


def national_slice(tmp: Path) -> Path:
    given = os.environ.get("IOM_BENCH_NATIONAL")
    if given:
        return Path(given)
    cache = Path(os.environ.get("IOM_BENCH_CACHE") or tmp)
    out = cache / f"national-{NATIONAL_SCALE}"
    if not (out / "manifest.json").exists():
        from iom.synth.national import write_national

        started = time.perf_counter()
        write_national(out, scale=NATIONAL_SCALE, seed=1, replace=True)
        print(f"   (generated the national slice at scale {NATIONAL_SCALE} in {time.perf_counter() - started:.0f} s; "
              "not part of the figures)", flush=True)
    return out


def ratio(label: str, floor, work) -> None:
    floor()  # warm the file cache and the engine
    floors, works = [], []
    for _ in range(RUNS):  # interleaved, so both see the same machine load
        started = time.perf_counter()
        floor_rows = floor()
        floors.append(time.perf_counter() - started)
        started = time.perf_counter()
        rows = work()
        works.append(time.perf_counter() - started)
    f, w = statistics.median(floors), statistics.median(works)
    print(f"   {label}: bare GROUP BY person {f:.2f} s ({floor_rows:,} people), RFG + harm scoring {w:.2f} s "
          f"({rows:,} people scored): ratio {w / f:.2f}x (target <= 2x)", flush=True)


def by_force(label: str, wh, start) -> object:
    from iom.warehouse import measures

    started = time.perf_counter()
    frame = measures.reoffending_measures(wh, by="force", start=start)
    print(f"   measures by force on {label}: {time.perf_counter() - started:.2f} s, {len(frame)} forces, "
          f"{frame['offenders'].sum():,} cohort members on {start}", flush=True)
    return frame


def main() -> None:
    import duckdb
    import ibis

    from iom.scoring.config import load_config
    from iom.warehouse import matrix, measures, spark
    from iom.warehouse.core import open_warehouse
    from iom.warehouse.source import parquet_source

    with tempfile.TemporaryDirectory() as tmp:
        root = national_slice(Path(tmp))
        config = load_config()
        files = list((root / "crimes").rglob("*.parquet"))
        size = sum(p.stat().st_size for p in files) / 2**20
        duck = open_warehouse(engine="duckdb", parquet_dir=root)
        as_of = duck.latest
        crimes = duck.crimes_count()
        print(f"   national slice {root.name}: {crimes:,} crimes in {len(files)} files ({size:,.0f} MiB), "
              f"as of {as_of}", flush=True)

        # DuckDB: the floor reads the same files with DuckDB's own reader, in a connection of its own.
        bare = duckdb.connect()
        floor_sql = f"SELECT person_id, count(*) AS n FROM {parquet_source(root, 'crimes')} GROUP BY person_id"
        scores = matrix.person_scores(matrix.register_crimes(duck, config), config, as_of)
        ratio("DuckDB", lambda: bare.sql(floor_sql).to_arrow_table().num_rows,
              lambda: duck.backend.to_pyarrow(scores).num_rows)

        # Spark: the floor is a bare groupBy over the same files; the scoring is the same Ibis
        # expression compiled for Spark.
        started = time.perf_counter()
        spark_wh = open_warehouse(engine="spark", parquet_dir=root)
        print(f"   Spark (local[2]) started and the slice's views made in {time.perf_counter() - started:.1f} s",
              flush=True)
        session = spark.session()  # the one the warehouse opened
        path = str((root / "crimes").resolve())
        spark_scores = matrix.person_scores(matrix.register_crimes(spark_wh, config), config, as_of)
        spark_sql = ibis.to_sql(spark_scores, dialect="pyspark")
        bare_crimes = session.read.option("basePath", path).parquet(path)  # files listed once, as the views were
        ratio("Spark", lambda: bare_crimes.groupBy("person_id").count().toArrow().num_rows,
              lambda: session.sql(spark_sql).toArrow().num_rows)

        start = measures.default_start(duck)
        on_duck = by_force("DuckDB", duck, start)
        on_spark = by_force("Spark", spark_wh, start)
        same = on_duck.drop(columns="index_date").equals(on_spark.drop(columns="index_date"))
        print(f"   the two engines' measures by force are {'identical' if same else 'DIFFERENT'}")
        top = on_duck.sort_values("offenders", ascending=False).head(5)
        for r in top.itertuples():
            print(f"     {r.group}: {r.offenders:,} members, recorded {r.recorded_rate:.1%}, proven {r.proven_rate:.1%}")


if __name__ == "__main__":
    main()
