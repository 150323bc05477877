"""Money and percentages as people read them, in one place so every page and command agrees.

Money is held in pence as integers and shown in whole pounds; shares are fractions (0.25)
shown as percentages. A missing value (None or NaN) shows as a dash rather than "nan"."""

from __future__ import annotations

MISSING = "–"


def _missing(x) -> bool:
    if x is None:
        return True
    try:
        return bool(x != x)  # NaN (and NaT) is the one value unequal to itself
    except TypeError:  # pandas' NA will not be a truth value
        return True


def pounds(pence, *, missing: str = MISSING) -> str:
    """Pence as whole pounds with thousands separators: 123456 -> "£1,235", -5000 -> "−£50"."""
    if _missing(pence):
        return missing
    # A true minus sign before the pound sign: "£-50" reads as a typo.
    return f"{'−' if pence < 0 else ''}£{abs(pence) / 100:,.0f}"


def percent(share, places: int = 1, *, missing: str = MISSING) -> str:
    """A fraction as a percentage: 0.1234 -> "12.3%" (``places`` decimals)."""
    if _missing(share):
        return missing
    return f"{share * 100:.{places}f}%"
