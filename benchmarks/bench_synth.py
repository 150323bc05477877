"""Synthetic-force generation at the default scale: wall time and peak memory.

Runs `iom init` and `iom synth --seed 1` in a child process on a temporary SQLite file
(or IOM_BENCH_DATABASE_URL), so the peak resident memory is that run's alone."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("IOM_BENCH_DATABASE_URL", f"sqlite:///{Path(tmp) / 'bench.db'}")
        iom = [sys.executable, "-m", "iom.cli", "--db", url]
        subprocess.run(iom + ["init"], check=True, capture_output=True)
        started = time.perf_counter()
        run = subprocess.run(iom + ["synth", "--seed", "1", "--replace"], capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        if run.returncode:
            print(run.stderr)
            raise SystemExit("synth failed")
        peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"   synthetic force, default scale (200,000 offenders, seed 1) on {url.split(':')[0]}:")
        print(f"   generation + write: {elapsed:.1f} s (target < 60 s); peak memory {peak_mib:,.0f} MiB")
        print("   " + " ".join(run.stdout.split()))


if __name__ == "__main__":
    main()
