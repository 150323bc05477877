"""MAPPA changes state here, and only here: a new record (category, level, chair, ViSOR,
partner), a panel held, the end of MAPPA management. Each is for specialists, scoped and checked
before its audit row, so a refusal is never logged as done. Pages, the API and the commands all
call these."""

from __future__ import annotations

import datetime as dt

from iom.casefile.access import Access
from iom.mappa import service
from iom.mappa.schemas import MappaRecordOut, PanelOut
from iom.mappa.views import require_specialist


def record_mappa(access: Access, *, person_id: int, category: int, level: int, reason: str,
                 chairing_agency: str | None = None, visor_id: str | None = None, partnering_officer: str | None = None,
                 effective_from: dt.date | None = None, based_on: int | None = None) -> MappaRecordOut:
    """A new row of the person's MAPPA history, in force from ``effective_from`` (default: the
    access's date)."""
    require_specialist(access, "record a MAPPA category or level")
    checked: dict = {}

    def check() -> None:
        checked.update(service.check_record(
            access.session, person_id=person_id, as_of=access.as_of, category=category, level=level, reason=reason,
            chairing_agency=chairing_agency, visor_id=visor_id, partnering_officer=partnering_officer,
            effective_from=effective_from, based_on=based_on))

    return access.write(person_id, resource="mappa_record", check=check, category=category, level=level,
                        effective_from=(effective_from or access.as_of).isoformat(),
                        apply=lambda person: service.add_record(access.session, person_id=person.id, values=checked,
                                                                by=access.user.username))


def record_panel(access: Access, *, person_id: int, held_on: dt.date, chair: str | None = None,
                 outcome: str | None = None) -> PanelOut:
    """A panel held for a level-2 or level-3 case, at the level in force that day."""
    require_specialist(access, "record a MAPPA panel")
    checked: dict = {}

    def check() -> None:
        checked.update(service.check_panel(access.session, person_id=person_id, as_of=access.as_of, held_on=held_on,
                                           chair=chair, outcome=outcome))

    return access.write(person_id, resource="mappa_panel", check=check, held_on=held_on.isoformat(),
                        apply=lambda person: service.add_panel(access.session, person_id=person.id, values=checked,
                                                               by=access.user.username))


def end_mappa(access: Access, *, person_id: int, ended_on: dt.date, reason: str) -> MappaRecordOut:
    """MAPPA management ends on ``ended_on``: from that day the person's fields are no longer
    restricted by MAPPA (sex-offender management may still restrict them)."""
    require_specialist(access, "end MAPPA management")
    checked: dict = {}

    def check() -> None:
        checked.update(service.check_end(access.session, person_id=person_id, as_of=access.as_of, ended_on=ended_on,
                                         reason=reason))

    return access.write(person_id, resource="mappa_record", check=check, ended_on=ended_on.isoformat(),
                        apply=lambda person: service.add_record(access.session, person_id=person.id, values=checked,
                                                                by=access.user.username))
