"""Calendar arithmetic and the rule for the data's reference date, in one place.

"Months" are calendar months (``dateutil.relativedelta``): 31 March less one month is
28 or 29 February, never 3 March."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator

from dateutil.relativedelta import relativedelta

from iom.errors import FieldError


def months_before(day: dt.date, months: int) -> dt.date:
    return day - relativedelta(months=months)


def months_after(day: dt.date, months: int) -> dt.date:
    return day + relativedelta(months=months)


def age_on(born: dt.date, on: dt.date) -> int:
    """Whole years between a date of birth and ``on`` (a birthday counts on the day; someone
    born on 29 February turns a year older on 1 March in other years). Plain arithmetic: it
    runs for every candidate of a synthetic step."""
    if on < born:
        return -age_on(on, born)
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


MONTH = re.compile(r"^(\d{4})-(\d{2})$")
#: Months a list or a panel can be for: nothing the register holds lies outside these years.
FIRST_YEAR, LAST_YEAR = 1900, 2999


def parse_month(text: str | None, *, as_of: dt.date, field: str = "month") -> dt.date:
    """The first day of the month ``YYYY-MM`` names (default: the month of ``as_of``)."""
    if text is None or not text.strip():
        return as_of.replace(day=1)
    found = MONTH.match(text.strip())
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise FieldError(f"the month is written YYYY-MM, like 2019-03, not {text.strip()!r}", field=field)
    if not FIRST_YEAR <= int(found.group(1)) <= LAST_YEAR:
        raise FieldError(f"the month's year is between {FIRST_YEAR} and {LAST_YEAR}, not {found.group(1)}", field=field)
    return dt.date(int(found.group(1)), int(found.group(2)), 1)


def month_starts(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    """The first day of every calendar month from ``first``'s to ``last``'s, inclusive."""
    month = first.replace(day=1)
    while month <= last:
        yield month
        month = months_after(month, 1)


def reference_date_from(latest: Iterable[dt.date | None], *, today: dt.date | None = None) -> dt.date:
    """The date the data runs to: the latest of the register's event dates (crimes committed,
    cohort adoptions, risk decisions: ``REFERENCE_EVENTS``), capped at today; today for an
    empty register. Every command, the web and the analytics use this rule (through
    ``iom.register.service.reference_date`` or ``iom.analytics.source.latest_date``)."""
    today = today or dt.date.today()
    known = [d for d in latest if d is not None]
    return min(max(known), today) if known else today


#: (table, date column) pairs whose latest value sets the reference date.
REFERENCE_EVENTS = (("crimes", "committed_on"), ("cohort_memberships", "adopted_on"), ("risk_level_history", "effective_from"))
