"""The MAPPA panel rules (data, not code): how often each level meets, who may chair, when a
case shows as due soon, and which categories must carry a ViSOR reference."""

from __future__ import annotations

from pydantic import Field, model_validator

from iom.errors import FieldError
from iom.rules import RuleFile, RuleRow, load_rules

#: Levels that have panels at all: level 1 is ordinary agency management.
PANEL_LEVELS = (2, 3)


class LevelRule(RuleRow):
    level: int = Field(ge=2, le=3)
    interval_days: int = Field(ge=1, le=366)
    source: str


class PanelRules(RuleFile):
    due_soon_days: int = Field(ge=0, le=90)
    chairing_agencies: list[str] = Field(min_length=1)
    visor_required_categories: list[int] = []
    level: list[LevelRule]

    @model_validator(mode="after")
    def _every_panel_level_once(self) -> PanelRules:
        levels = sorted(rule.level for rule in self.level)
        if levels != list(PANEL_LEVELS):
            raise ValueError(f"give one [[level]] for each of levels {', '.join(map(str, PANEL_LEVELS))}")
        if not set(self.visor_required_categories) <= {1, 2, 3, 4}:
            raise ValueError("visor_required_categories holds MAPPA categories (1 to 4)")
        return self

    def interval(self, level: int) -> int:
        """Days between panels at ``level`` (2 or 3)."""
        return next(rule.interval_days for rule in self.level if rule.level == level)

    def chairing_agency(self, name: str, *, field: str) -> str:
        """The allowed agency ``name`` names (whatever its case), or a refusal listing them."""
        for agency in self.chairing_agencies:
            if agency.lower() == name.strip().lower():
                return agency
        raise FieldError(f"no chairing agency {name.strip()!r}: choose one of {', '.join(self.chairing_agencies)}",
                         field=field)


def panel_rules() -> PanelRules:
    return load_rules(PanelRules, "mappa", "panels-v1.toml")
