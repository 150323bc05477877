"""What the benchmarks share: a timer that prints, and one default synthetic force per run.

Generating the default force takes half a minute; `run.py` sets IOM_BENCH_CACHE to a
directory that lives for one `make bench`, so the force is generated once and each
benchmark works on its own copy (they write to it: scores, users, audit rows)."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def timed(label: str, action, *, memory: bool = False):
    """Run ``action``, print how long it took (and the growth of peak memory), return
    ``(its result, seconds)``."""
    before = peak_rss_mb()
    started = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - started
    line = f"   {label:<48} {seconds:7.2f} s"
    if memory:
        line += f"   peak RSS +{peak_rss_mb() - before:6.1f} MB (now {peak_rss_mb():.0f} MB)"
    print(line, flush=True)
    return result, seconds


def default_force(tmp: Path) -> str:
    """A SQLite URL of the default synthetic force (seed 1) that the caller may write to.

    IOM_BENCH_FORCE_DB names an existing force to use as it is."""
    given = os.environ.get("IOM_BENCH_FORCE_DB")
    if given:
        return given
    cache = Path(os.environ.get("IOM_BENCH_CACHE") or tmp)
    master = cache / "force-seed1.db"
    if not master.exists():
        building = cache / "force-seed1.building.db"
        building.unlink(missing_ok=True)
        iom = [sys.executable, "-m", "iom.cli", "--db", f"sqlite:///{building}"]
        started = time.perf_counter()
        subprocess.run(iom + ["init"], check=True, capture_output=True)
        subprocess.run(iom + ["synth", "--seed", "1"], check=True, capture_output=True)
        building.rename(master)  # the processes have exited, so the WAL is checkpointed
        print(f"   (generated the default synthetic force in {time.perf_counter() - started:.0f} s; "
              "not part of the figures)", flush=True)
    if master.parent == tmp:
        return f"sqlite:///{master}"
    copy = tmp / "force.db"
    shutil.copyfile(master, copy)
    return f"sqlite:///{copy}"
