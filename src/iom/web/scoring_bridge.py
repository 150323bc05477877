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
        for part in data.get("parts", []):
            if part.get("factor") == "crime":
                part["label"] = "restricted offence"
    return [data]


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


def create_override(session: Session, *, person_id: int, include: bool, reason: str, until: dt.date, user: Principal) -> dict:
    row = service.create_override(session, person_id=person_id, include=include, reason=reason, until=until, user=user.username)
    return plain(_row(row))


def approve_override(session: Session, *, override_id: int, approver: Principal) -> dict:
    row = service.approve_override(session, override_id=override_id, approver=approver.username)
    return plain(_row(row))


def override_person(session: Session, override_id: int) -> int | None:
    """Whose override this is (for the scope check before approving)."""
    row = session.get(Override, override_id)
    return None if row is None else row.person_id
