"""Casework read for pages and API through the audited access: what a reader sees."""

from __future__ import annotations

from iom.casefile.access import Access, RecordContext
from iom.casefile.schemas import AttentionItem
from iom.casework import schemas, service


def casework(access: Access, *, person_id: int) -> schemas.Casework:
    """Needs, plan and reviews of one person: a read of their record, audited."""
    person = access.read_subject(person_id, resource="casework")
    return service.for_record(RecordContext(access.session, access.user, person.id, access.as_of, False))


def overdue(access: Access, *, lomu: str | None = None) -> list[schemas.OverdueAction]:
    """Overdue actions in the reader's scope; the people listed are in the audit row."""
    access.require("read_people", "this role has no caseload")
    found = service.overdue_actions(session=access.session, user=access.user, as_of=access.as_of, lomu=lomu)
    access.log("search", "plan_action", filters={"overdue": True, "lomu": lomu},
               people=sorted({o.action.person_id for o in found}))
    return found


def attention(access: Access) -> list[AttentionItem]:
    """``Domain.attention``: how many plan actions in scope are past due."""
    if not access.user.can("read_people"):
        return []
    count = service.count_overdue(session=access.session, user=access.user, as_of=access.as_of)
    return [AttentionItem(key="actions_overdue", label="Plan actions overdue", count=count, href="/casework/overdue",
                          severity="overdue")] if count else []
