"""`make bench`: runs every ``benchmarks/bench_*.py`` module's ``main()`` in turn.

Benchmarks print the figures they measure (times, peak memory, ratios within one run);
they never assert a speed. ``python benchmarks/run.py NAME`` runs just ``bench_NAME``.
Each benchmark runs in a process of its own, so one's memory never shows in another's."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent


def run_one(path: Path) -> None:
    sys.path.insert(0, str(HERE))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main()


def main(argv: list[str]) -> int:
    if argv[:1] == ["--in-process"]:
        run_one(Path(argv[1]))
        return 0
    wanted = set(argv)
    modules = sorted(HERE.glob("bench_*.py"))
    if wanted:
        modules = [m for m in modules if m.stem.removeprefix("bench_") in wanted]
    if not modules:
        print("no benchmarks matched", file=sys.stderr)
        return 1
    failed = []
    with tempfile.TemporaryDirectory(prefix="iom-bench-") as cache:
        env = {**os.environ, "IOM_BENCH_CACHE": cache}  # one default force for the whole run
        for path in modules:
            print(f"== {path.stem}", flush=True)
            started = time.perf_counter()
            if subprocess.run([sys.executable, __file__, "--in-process", str(path)], env=env).returncode:
                failed.append(path.stem)
            print(f"   ({path.stem} took {time.perf_counter() - started:.1f} s)", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
