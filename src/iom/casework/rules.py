"""The case plan's sequencing rules (data): warnings, in words, when actions are out of order."""

from __future__ import annotations

from pydantic import Field

from iom.rules import RuleFile, RuleRow, load_rules


class SequencingRule(RuleRow):
    first: str
    then: str
    words: str


class Sequencing(RuleFile):
    rule: list[SequencingRule] = Field(default_factory=list)


def sequencing() -> Sequencing:
    return load_rules(Sequencing, "casework", "sequencing-v1.toml")
