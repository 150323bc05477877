"""Words for the register's codes, the one place pages, explanations and commands take them."""

from __future__ import annotations

from functools import cache

from iom.reference import read_reference

#: What an outcome says of a crime, in words a reader outside the force understands.
OUTCOME_WORDS = {
    "charge": "charged",
    "caution": "cautioned",
    "conditional_caution": "conditional caution",
    "community_resolution": "community resolution",
    "nfa": "no further action",
    "pending": "outcome pending",
}


def crime_status(involvement: str, outcome: str) -> str:
    """``"suspect, no further action"``, ``"offender, charged"``: whether a crime that counts
    towards a score was only a suspicion, dropped or still open is always said."""
    return f"{involvement}, {OUTCOME_WORDS.get(outcome, outcome.replace('_', ' '))}"


@cache
def _names(domain: str, table: str) -> dict[str, str]:
    return {row["code"]: row["name"] for row in read_reference(domain, table)}


#: Which reference table names which kind of code.
CODE_TABLES = {"ethnicity": ("register", "ethnicities"), "classification": ("cohorts", "classifications")}


def code_name(code: str | None, kind: str) -> str:
    """A code as its name ("W_BRI" -> "English, Welsh, Scottish, Northern Irish or British"; "MSV"
    -> "Most Serious Violence"); the code itself when the table does not know it."""
    if not code:
        return "–"
    return _names(*CODE_TABLES[kind]).get(code, code)


def choices(kind: str) -> list[tuple[str, str]]:
    """(code, name) pairs for a choice list, in the reference table's order."""
    return list(_names(*CODE_TABLES[kind]).items())
