"""The web's view of the scoring domain (``iom.scoring.service``), as plain JSON-able data.
Pages never start a scoring run: they show stored scores only, and say plainly when none are
stored for the reference date."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from iom.errors import UserError
from iom.scoring import service
from iom.scoring.models import Override
from iom.security.roles import Principal


def plain(value: Any) -> Any:
    """Scoring results as JSON-able plain data, whatever their shape."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def stored_run(session: Session, as_of: dt.date):
    """The stored score run for ``as_of``, or None (never computes one)."""
    try:
        return service.get_run(session, as_of=as_of, create=False)
    except UserError:
        return None


def explain(session: Session, *, person_id: int, as_of: dt.date, hide_crimes: bool = False) -> list[dict]:
    """The person's stored scores with their explanation, or [] when none are stored."""
    if stored_run(session, as_of) is None:
        return []
    try:
        data = plain(service.explain(session, person_id=person_id, as_of=as_of))
    except UserError:
        return []
    if hide_crimes:
        _hide_crimes(data.get("parts", []))
    return [data]


def _hide_crimes(parts: list[dict]) -> None:
    """What a non-specialist sees of a restricted person's offences in an explanation."""
    for part in parts:
        if part.get("factor") == "crime":
            part["label"] = "restricted offence"


#: Override fields that are free text or name officers: not for pseudonymised readers.
_OVERRIDE_WORDS = ("reason", "created_by", "approved_by", "revoked_by")


WITHHELD = "withheld"


def _pseudonymise_override(override: dict) -> dict:
    return {**override, **{k: WITHHELD for k in _OVERRIDE_WORDS if override.get(k) is not None}}


def redact_selection(rows: list[dict], overrides: list[dict], *, restricted: set[int], user: Principal) -> None:
    """Apply the person page's rules to a selection, in place: restricted offences hidden from
    non-specialists; override reasons and officers' names hidden from pseudonymised readers."""
    if not user.can("read_restricted"):
        for row in rows:
            if row["person_id"] in restricted:
                _hide_crimes(row.get("explanation", []))
    if user.pseudonymised:
        for row in rows:
            if row.get("override"):
                ov = row["override"] = _pseudonymise_override(row["override"])
                row["reason"] = f"{'included' if ov['include'] else 'excluded'} by override #{ov['id']}"
        overrides[:] = [_pseudonymise_override(o) for o in overrides]


def selection(session: Session, *, npu_code: str, as_of: dt.date) -> list[dict] | None:
    """Ranked selection for an NPU from stored scores; None when no scores are stored."""
    if stored_run(session, as_of) is None:
        return None
    return plain(service.select_for_npu(session, npu_code=npu_code, as_of=as_of))


def overrides(session: Session, *, npu_code: str) -> list[dict]:
    return [plain(_row(o)) for o in service.list_overrides(session, npu_code=npu_code)]


def _row(override) -> dict:
    fields = ("id", "person_id", "include", "reason", "created_by", "created_at", "valid_from", "until",
              "approved_by", "approved_at", "revoked_by", "revoked_at")
    return {f: getattr(override, f, None) for f in fields}


def check_override(*, include: bool, reason: str, until: dt.date, as_of: dt.date) -> None:
    service.check_override(include=include, reason=reason, until=until, valid_from=as_of)


def create_override(session: Session, *, person_id: int, include: bool, reason: str, until: dt.date, user: Principal,
                    as_of: dt.date) -> dict:
    """Starting on the app's reference date, the date its selection pages are for."""
    row = service.create_override(session, person_id=person_id, include=include, reason=reason, until=until,
                                  user=user.username, valid_from=as_of)
    return plain(_row(row))


def approve_override(session: Session, *, override_id: int, approver: Principal) -> dict:
    row = service.approve_override(session, override_id=override_id, approver=approver.username)
    return plain(_row(row))


def override_person(session: Session, override_id: int) -> int | None:
    """Whose override this is (for the scope check before approving)."""
    row = session.get(Override, override_id)
    return None if row is None else row.person_id
