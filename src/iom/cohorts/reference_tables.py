"""The cohorts domain's shipped reference tables."""

from __future__ import annotations

from iom.cohorts.models import Classification
from iom.reference import ReferenceTable, as_int_or_none

REFERENCE_TABLES: list[ReferenceTable] = [
    ReferenceTable(
        "cohorts",
        "classifications",
        Classification,
        # The published count is the March 2019 one; the CSV column says so.
        renamed={"published_count_2019_03": "published_count"},
        convert={"published_count": as_int_or_none},
    ),
]
