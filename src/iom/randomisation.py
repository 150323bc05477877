"""Permuted-block randomisation and the hash that chains an allocation log, shared by the
file log of `iom randomise` and the course trials kept in the database (``iom.courses``).

The arms a sequence gives depend on the seed alone, never on the ids: so a trial replays
from its seed, and nobody can choose an id to land in the arm they prefer."""

from __future__ import annotations

import hashlib
import json

import numpy as np

from iom.errors import UserError


def block_allocations(
    referral_ids: list[str], *, seed: int, arms: tuple[str, ...] = ("control", "treatment"),
    block_sizes: tuple[int, ...] | None = None, ratio: tuple[int, ...] | None = None,
) -> list[dict]:
    """Permuted blocks of randomly chosen size, each holding the arms in ``ratio`` (equal by
    default; 2:3 puts two in the first arm for every three in the second)."""
    ratio = tuple(ratio or (1,) * len(arms))
    if len(ratio) != len(arms) or min(ratio) < 1:
        raise UserError(f"a ratio needs one whole number of at least 1 for each of the {len(arms)} arms")
    unit = sum(ratio)
    block_sizes = block_sizes or ((2 * unit, 3 * unit) if unit == len(arms) else (unit, 2 * unit))
    for size in block_sizes:
        if size % unit:
            raise UserError(f"block size {size} is not a multiple of the ratio's {unit} places")
    if len(set(referral_ids)) != len(referral_ids):
        raise UserError("referral ids must be unique")
    rng = np.random.default_rng(seed)
    out: list[dict] = []
    block = 0
    while len(out) < len(referral_ids):
        size = int(rng.choice(block_sizes))
        seq = [arm for arm, share in zip(arms, ratio, strict=True) for _ in range(share * (size // unit))]
        rng.shuffle(seq)
        block += 1
        for arm in seq:
            if len(out) == len(referral_ids):
                break
            out.append({"sequence": len(out) + 1, "referral_id": referral_ids[len(out)], "block": block,
                        "block_size": size, "arm": str(arm)})
    return out


def entry_hash(previous: str, entry: dict) -> str:
    """The link of one log entry: its content chained to the one before it."""
    return hashlib.sha256((previous + json.dumps(entry, sort_keys=True)).encode()).hexdigest()[:16]
