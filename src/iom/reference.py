"""Reference data shipped as CSV inside the package (``<domain>/data/*.csv``)."""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources


@cache
def read_reference(domain: str, name: str) -> tuple[dict[str, str], ...]:
    """Rows of ``iom/<domain>/data/<name>.csv`` as dicts of strings (cached, read-only)."""
    with resources.files(f"iom.{domain}").joinpath("data", f"{name}.csv").open(encoding="utf-8") as fh:
        return tuple(csv.DictReader(fh))


def as_bool(text: str) -> bool:
    return text.strip().lower() in ("true", "1", "yes", "y")


def as_int_or_none(text: str) -> int | None:
    return int(text) if text.strip() else None
