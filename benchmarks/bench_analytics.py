"""All reoffending measures by NPU (and every other grouping) and the HTML report on the
default synthetic force (seed 1, 200,000 people; shared with the other benchmarks, see
common.py).

Prints: the time to load the register into
DuckDB from SQLite and from a Parquet export, to compute every measure (five groupings, both
definitions) plus before/during/after by NPU — target under 5 s including the load — and
to write the report — target under 20 s."""

from __future__ import annotations

import tempfile
from pathlib import Path

from common import default_force, timed

from iom.analytics.service import all_measures, before_during_after
from iom.analytics.source import connect
from iom.db import make_engine
from iom.register.export import export_database
from iom.reports.paper import build_report

def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(default_force(Path(tmp)))
        con, load = timed("load the cohort's records from SQLite",
                           lambda: connect(engine=engine, scope="cohort"))
        crimes = con.execute("SELECT count(*) FROM crimes").fetchone()[0]
        print(f"   ({crimes:,} of the cohort's crimes)")
        _, full = timed("load the whole register, for comparison",
                         lambda: connect(engine=engine))

        def measures():
            out = all_measures(con)
            out["adoption"] = before_during_after(con)
            return out

        out, compute = timed("measures (5 groupings x 2) + before/during/after", measures)
        print(f"   measures by NPU from the database, load + compute: {load + compute:.2f} s (target < 5 s)")
        npu = out["npu"]
        print(f"   ({len(npu)} NPUs, {npu['offenders'].sum():,} cohort members at {npu['index_date'].iloc[0]})")

        export_database(engine, Path(tmp) / "export")
        pcon, pload = timed("load register into DuckDB from Parquet", lambda: connect(parquet_dir=Path(tmp) / "export"))
        _, pcompute = timed("all measures from Parquet", lambda: all_measures(pcon))
        print(f"   measures from Parquet, load + compute: {pload + pcompute:.2f} s")

        path, report = timed("report (load, measures, 3 programmes, charts)",
                              lambda: build_report(Path(tmp) / "report", engine=engine))
        print(f"   report: {report:.2f} s (target < 20 s), {path.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
