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


def probability(p, *, missing: str = MISSING) -> str:
    """A probability for a reader: whole percent, with the edges said as "under 1%" and "over
    99%" (a model is never certain, and "100%" would say it is)."""
    if _missing(p):
        return missing
    if p < 0.01:
        return "under 1%"
    if p > 0.99:
        return "over 99%"
    return f"{p * 100:.0f}%"


def long_date(day, *, missing: str = MISSING) -> str:
    """A date as GOV.UK writes it: "31 March 2019"."""
    if day is None:
        return missing
    return f"{day.day} {day:%B %Y}"


#: A cell starting with one of these is run as a formula by spreadsheet programs.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A value as a CSV cell a spreadsheet shows as text and never runs as a formula (a leading
    apostrophe), for files people open in Excel: the meeting's list, a published report."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
