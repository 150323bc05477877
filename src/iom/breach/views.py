"""What readers see of breaches: the queue (audited as a search), the record's tab, timeline
events and the attention item."""

from __future__ import annotations

from iom.breach import schemas, service
from iom.casefile.access import Access, RecordContext
from iom.casefile.schemas import TimelineEvent


def queue(access: Access, *, lomu: str | None = None) -> schemas.Queue:
    access.require("read_people", "this role cannot see breaches")
    found = service.queue(session=access.session, user=access.user, as_of=access.as_of, lomu=lomu)
    access.log("search", "breach_queue", filters={"lomu": lomu} if lomu else {},
               people=sorted({r.breach.person_id for r in found.rows}))
    return found


def _part(session, person_id: int, as_of, user) -> schemas.BreachPart:
    """Analysts see no free text."""
    found = service.history(session=session, person_id=person_id, as_of=as_of)
    if user.pseudonymised:
        found = [b.model_copy(update={"details": None}) for b in found]
    return schemas.BreachPart(breaches=found)


def for_record(ctx: RecordContext) -> schemas.BreachPart:
    return _part(ctx.session, ctx.person_id, ctx.as_of, ctx.user)


def timeline(ctx: RecordContext) -> list[TimelineEvent]:
    """Breaches and their outcomes (never the free-text details)."""
    events = []
    for b in service.history(session=ctx.session, person_id=ctx.person_id, as_of=ctx.as_of):
        events.append(TimelineEvent(on=b.breached_on, kind="breach",
                                    text=f"Breach of {b.kind} ({b.order_name}): {b.nature}; action: {b.action}"))
        if b.outcome is not None and b.outcome_on <= ctx.as_of:
            until = f", expected release {b.custody_until:%d %B %Y}" if b.custody_until else ""
            events.append(TimelineEvent(on=b.outcome_on, kind="breach", text=f"Breach outcome: {b.outcome}{until}"))
    return events


def person_breaches(access: Access, person_id: int) -> schemas.BreachPart:
    """One person's breaches: a read of their record, audited."""
    who = access.read_subject(person_id, resource="breaches")
    return _part(access.session, who.id, access.as_of, access.user)


def breach(access: Access, *, person_id: int, breach_id: int) -> schemas.BreachOut:
    """One breach of a person's record (for the version an outcome is recorded against)."""
    return schemas.BreachOut.model_validate(service.get_breach(session=access.session, person_id=person_id,
                                                               breach_id=breach_id))
