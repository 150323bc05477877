"""All reoffending measures by NPU (and every other grouping) and the HTML report on the
default synthetic force (seed 1, 200,000 people; IOM_BENCH_PEOPLE to change).

Prints: the time to generate the force (setup, not a target), to load the register into
DuckDB from SQLite and from a Parquet export, to compute every measure (five groupings, both
definitions) plus before/during/after by NPU — target under 5 s including the load — and
to write the report — target under 20 s."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from iom.analytics.service import all_measures, before_during_after
from iom.analytics.source import connect
from iom.db import make_engine
from iom.register.export import export_database
from iom.register.service import init_database
from iom.reports.service import build_report
from iom.synth.service import generate_force

PEOPLE = int(os.environ.get("IOM_BENCH_PEOPLE", "200000"))


def _timed(label: str, fn):
    started = time.perf_counter()
    value = fn()
    elapsed = time.perf_counter() - started
    print(f"   {label}: {elapsed:.2f} s", flush=True)
    return value, elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        init_database(engine)
        _timed(f"generate force ({PEOPLE:,} people, setup)", lambda: generate_force(engine, seed=1, people=PEOPLE))
        con, load = _timed("load cohort members' records into DuckDB from SQLite",
                           lambda: connect(engine=engine, scope="cohort"))
        crimes = con.execute("SELECT count(*) FROM crimes").fetchone()[0]
        print(f"   ({crimes:,} of the cohort's crimes)")
        _, full = _timed("load the whole register into DuckDB from SQLite (for comparison)",
                         lambda: connect(engine=engine))

        def measures():
            out = all_measures(con)
            out["adoption"] = before_during_after(con)
            return out

        out, compute = _timed("all measures (5 groupings x 2 definitions) + before/during/after", measures)
        print(f"   measures by NPU from the database, load + compute: {load + compute:.2f} s (target < 5 s)")
        npu = out["npu"]
        print(f"   ({len(npu)} NPUs, {npu['offenders'].sum():,} cohort members at {npu['index_date'].iloc[0]})")

        export_database(engine, Path(tmp) / "export")
        pcon, pload = _timed("load register into DuckDB from Parquet", lambda: connect(parquet_dir=Path(tmp) / "export"))
        _, pcompute = _timed("all measures from Parquet", lambda: all_measures(pcon))
        print(f"   measures from Parquet, load + compute: {pload + pcompute:.2f} s")

        path, report = _timed("report (load, measures, 3 programmes, charts)",
                              lambda: build_report(Path(tmp) / "report", engine=engine))
        print(f"   report: {report:.2f} s (target < 20 s), {path.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
