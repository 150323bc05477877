"""`iom synth --national --scale 0.1` (about 1.3 million people, 10 million crimes): time,
the child's peak memory (the acceptance line: under 4 GB), rows and Parquet size.

The command runs in a subprocess of its own so its peak resident memory is read alone
(``RUSAGE_CHILDREN``: this benchmark starts no other child). IOM_BENCH_NATIONAL_SCALE
changes the scale (1.0 is the full national set: about 13 million people)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCALE = float(os.environ.get("IOM_BENCH_NATIONAL_SCALE", "0.1"))
TARGET_GB = 4.0


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="iom-national-") as tmp:
        out = Path(tmp) / "national"
        command = [sys.executable, "-m", "iom.cli", "synth", "--national", "--out", str(out),
                   "--scale", str(SCALE), "--seed", "1"]
        before = time.perf_counter()
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(command, capture_output=True, text=True, cwd=tmp)
        seconds = time.perf_counter() - before
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode:
            print(done.stdout + done.stderr, file=sys.stderr)
            raise SystemExit(f"iom synth --national failed ({done.returncode})")
        peak_gb = usage.ru_maxrss / 1024 / 1024  # Linux: kilobytes
        cpu = (usage.ru_utime - cpu_before.ru_utime) + (usage.ru_stime - cpu_before.ru_stime)
        manifest = json.loads((out / "manifest.json").read_text())
        files = [out / f for f in manifest["files"]]
        size_mb = sum(f.stat().st_size for f in files) / 1e6
        rows = manifest["rows"]
        print(f"   iom synth --national --scale {SCALE:g}: {seconds:7.1f} s wall, {cpu:7.1f} s CPU", flush=True)
        print(f"   peak memory (child max RSS) {peak_gb:5.2f} GB "
              f"({'under' if peak_gb < TARGET_GB else 'OVER'} the {TARGET_GB:g} GB target)", flush=True)
        print(f"   rows: {rows['people']:,} people, {rows['crimes']:,} crimes, "
              f"{rows['cohort_memberships']:,} cohort memberships, {rows['management_history']:,} management rows",
              flush=True)
        print(f"   Parquet: {len(files):,} files, {size_mb:,.1f} MB "
              f"({size_mb * 1e6 / max(rows['crimes'], 1):.1f} bytes per crime, all tables)", flush=True)


if __name__ == "__main__":
    main()
