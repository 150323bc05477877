"""Reproducible block randomisation of referrals, with an append-only allocation log.

The log is a JSON-lines file: one line per allocation, never rewritten. Re-running with
the same seed and referrals gives the same arms; a referral already in the log is refused,
so nobody can be re-randomised into the arm someone prefers."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from iom.errors import UserError
from iom.randomisation import block_allocations, entry_hash

__all__ = ["block_allocations", "randomise", "read_log", "verify_log"]


def read_log(path: Path) -> list[dict]:
    if not path.exists():
        return []
    entries = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise UserError(f"{path}: not a randomisation log (not UTF-8 text)") from None
    for number, line in enumerate(lines, start=1):
        if line.strip():
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError:
                raise UserError(f"{path} line {number}: not a randomisation log entry (one JSON object a line)") from None
    return entries


def randomise(
    referral_ids: list[str], *, log_path: Path, seed: int, trial: str, arms: tuple[str, ...] = ("control", "treatment"),
    today: dt.date | None = None,
) -> list[dict]:
    """Allocate new referrals and append them to the log. The sequence continues from the
    trial's existing entries, so the whole log replays from the seed."""
    log = read_log(log_path)
    previous = [e for e in log if e["trial"] == trial]
    if previous and previous[0]["seed"] != seed:
        raise UserError(f"trial {trial!r} was started with seed {previous[0]['seed']}, not {seed}")
    seen = {e["referral_id"] for e in previous}
    clash = sorted(seen.intersection(referral_ids))
    if clash:
        raise UserError(f"already randomised in trial {trial!r}: {', '.join(clash[:5])}")
    everyone = [e["referral_id"] for e in previous] + list(referral_ids)
    allocations = block_allocations(everyone, seed=seed, arms=arms)[len(previous):]
    day = (today or dt.date.today()).isoformat()
    prev_hash = previous[-1]["hash"] if previous else ""
    with log_path.open("a", encoding="utf-8") as fh:
        for a in allocations:
            entry = {"trial": trial, "seed": seed, "arms": list(arms), **a, "allocated_on": day}
            entry["hash"] = entry_hash(prev_hash, entry)
            prev_hash = entry["hash"]
            fh.write(json.dumps(entry, sort_keys=True) + "\n")
            a.update(entry)
    return allocations


def verify_log(log_path: Path, trial: str) -> bool:
    """True if the trial's entries replay from their seed and their hash chain is unbroken."""
    entries = [e for e in read_log(log_path) if e["trial"] == trial]
    if not entries:
        return True
    replay = block_allocations([e["referral_id"] for e in entries], seed=entries[0]["seed"], arms=tuple(entries[0]["arms"]))
    prev = ""
    for e, r in zip(entries, replay):
        if e["arm"] != r["arm"]:
            return False
        body = {k: v for k, v in e.items() if k != "hash"}
        if entry_hash(prev, body) != e["hash"]:
            return False
        prev = e["hash"]
    return True
