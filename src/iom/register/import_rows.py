"""What a row of each import file must hold (Pydantic models at the edge), and what an import
reports (per-row errors, per-file and overall results). Used by ``iom.register.importer``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
)

from iom.cohorts.models import (
    LEAD_AGENCIES,
    OFFENDER_TYPES,
    RISK_LEVELS,
)
from iom.edge import clean_text, parse_bool, parse_date
from iom.errors import UserError
from iom.register.models import (
    INVOLVEMENTS,
    OUTCOMES,
    SEXES,
)

#: Problems collected before the import gives up and reports.
MAX_ERRORS = 100
#: Keys per ``IN (...)`` look-up (SQLite allows 32,766 bound parameters).
LOOKUP_BATCH = 5_000
#: Earliest plausible date of birth or event.
EARLIEST = dt.date(1900, 1, 1)

# --------------------------------------------------------------------------------------
# Field types: strict, with messages a data manager can act on.


def _text_only(parse: Callable[[str], Any]) -> Callable[[Any], Any]:
    """Apply an ``iom.edge`` parser to text from the file; values already typed pass."""
    return lambda value: parse(value) if isinstance(value, str) else value


_date, _flag, _strip = _text_only(parse_date), _text_only(parse_bool), _text_only(clean_text)


Date = Annotated[dt.date, BeforeValidator(_date)]
Flag = Annotated[bool, BeforeValidator(_flag)]
#: Lengths follow the columns they land in, so the database never has to refuse a value.
Text = Annotated[str, BeforeValidator(_strip), StringConstraints(max_length=4000)]
Key = Annotated[str, BeforeValidator(_strip), StringConstraints(max_length=64)]
Code = Annotated[str, BeforeValidator(_strip), StringConstraints(max_length=16)]
Name = Annotated[str, BeforeValidator(_strip), StringConstraints(max_length=80)]


class ImportRow(BaseModel):
    """Every text field carries its own length limit (no model-wide one, which Pydantic
    checks first and so would quote the wrong limit); ``iom.csv_input`` bounds the rest."""

    model_config = ConfigDict(extra="forbid")


def _lit(values: tuple[str, ...]) -> Any:
    return Literal[values]  # type: ignore[valid-type]


class PersonRow(ImportRow):
    source_id: Key
    given_name: Name
    family_name: Name
    date_of_birth: Date
    sex: _lit(SEXES)
    ethnicity: Code
    home_npu: Code | None = None
    language: Annotated[str, BeforeValidator(_strip), StringConstraints(max_length=40)] = "English"
    interpreter_needed: Flag = False


class CrimeRow(ImportRow):
    source_id: Key
    person_source_id: Key
    involvement: _lit(INVOLVEMENTS)
    committed_on: Date
    recorded_on: Date
    offence_code: Code
    npu_code: Code
    outcome: _lit(OUTCOMES)
    outcome_on: Date | None = None
    #: Blank means "as the offence catalogue says".
    domestic_abuse: Flag | None = None
    alcohol_related: Flag = False
    #: Blank means "as the offence catalogue says".
    hate: Flag | None = None
    victim_source_id: Key | None = None


class MarkerRow(ImportRow):
    person_source_id: Key
    marker: Annotated[str, BeforeValidator(_strip), StringConstraints(max_length=24)]
    started_on: Date
    ended_on: Date | None = None
    source: Name | None = None


class MembershipRow(ImportRow):
    source_id: Key
    person_source_id: Key
    classification_code: Code
    adopted_on: Date
    adoption_reason: Text | None = None
    exited_on: Date | None = None
    exit_reason: Text | None = None


class RiskRow(ImportRow):
    person_source_id: Key
    level: _lit(RISK_LEVELS)
    effective_from: Date
    reason: Text | None = None
    recorded_by: Name | None = None


class ManagementRow(ImportRow):
    person_source_id: Key
    effective_from: Date
    offender_type: _lit(OFFENDER_TYPES)
    lead_agency: _lit(LEAD_AGENCIES)
    lomu_code: Code
    officer: Name | None = None
    reason: Text | None = None


# --------------------------------------------------------------------------------------
# Results and errors


@dataclass(frozen=True)
class RowError:
    file: str
    line: int | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file} line {self.line}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.reason}"


class ImportFailed(UserError):
    """Rows were rejected; nothing was written. ``errors`` holds each problem."""

    def __init__(self, errors: Sequence[RowError], *, capped: bool) -> None:
        self.errors = list(errors)
        self.capped = capped
        head = f"import rejected, nothing was written: {len(errors)} problem(s)"
        if capped:
            head += f" (stopped after the first {MAX_ERRORS})"
        super().__init__("\n".join([head, *(f"  {e}" for e in errors)]))


@dataclass
class FileResult:
    kind: str
    path: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportResult:
    files: list[FileResult] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)


#: ``progress(kind, bytes_done, bytes_total)`` is called as a file is read.
Progress = Callable[[str, int, int], None]


