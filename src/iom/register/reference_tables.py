"""The register's shipped reference tables, in load order: cost_of_crime before the
offences that refer to it."""

from __future__ import annotations

from iom.edge import parse_bool
from iom.reference import ReferenceTable, as_int_or_none, as_text_or_none
from iom.register.models import CostOfCrime, Offence, Unit

REFERENCE_TABLES: list[ReferenceTable] = [
    ReferenceTable(
        "register",
        "units",
        Unit,
        convert={"parent_code": as_text_or_none, "officers": as_int_or_none, "caseload_per_officer": as_int_or_none},
        parent="parent_code",
    ),
    ReferenceTable("register", "cost_of_crime", CostOfCrime, convert={"cost_pence": int, "checked": parse_bool}),
    ReferenceTable(
        "register",
        "offences",
        Offence,
        convert={
            "gravity": int,
            "harm_days": int,
            "ogrs3_category": int,
            "is_crime": parse_bool,
            "domestic_abuse": parse_bool,
            "hate": parse_bool,
            "cohort_classification": as_text_or_none,
        },
    ),
]
