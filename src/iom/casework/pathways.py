"""The pathways a needs assessment rates and a plan action or referral serves (data, not code)."""

from __future__ import annotations

from pydantic import Field, model_validator

from iom.errors import FieldError
from iom.rules import RuleFile, RuleRow, load_rules


class Pathway(RuleRow):
    code: str = Field(pattern=r"^[a-z_]{2,24}$")
    name: str
    #: Only for people of this recorded sex (e.g. "F"); None: everyone.
    only_for: str | None = None

    def applies_to(self, sex: str) -> bool:
        return self.only_for is None or self.only_for == sex


class Pathways(RuleFile):
    pathway: list[Pathway] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Pathways:
        codes = [p.code for p in self.pathway]
        if len(set(codes)) != len(codes):
            raise ValueError("pathway codes must be unique")
        return self

    def get(self, code: str, *, field: str = "pathway") -> Pathway:
        """The pathway ``code`` names, or a refusal listing the known ones."""
        for p in self.pathway:
            if p.code == code:
                return p
        raise FieldError(f"no pathway {code!r}: choose one of {', '.join(p.code for p in self.pathway)}", field=field)

    def for_sex(self, sex: str) -> list[Pathway]:
        return [p for p in self.pathway if p.applies_to(sex)]


def pathways() -> Pathways:
    return load_rules(Pathways, "casework", "pathways-v1.toml")
