"""Words for the register's codes, the one place pages, explanations and commands take them."""

from __future__ import annotations

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
