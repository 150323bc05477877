"""What readers see of MAPPA: the due list, a person's MAPPA part (the record's tab), its
timeline events and the attention item. Everything MAPPA is for readers who may see restricted
fields (the MAPPA / sex-offender specialist, and the console); others get nothing but a
"restricted entry" line on the timeline."""

from __future__ import annotations

from iom.casefile.access import Access, RecordContext
from iom.casefile.schemas import AttentionItem, TimelineEvent
from iom.mappa import service
from iom.mappa.schemas import DueList, MappaPart

#: The permission every MAPPA read and write needs (``iom.security.roles``).
SPECIALIST = "read_restricted"
HIDDEN_TEXT = "Restricted entry (for specialists only)"


def require_specialist(access: Access, doing: str) -> None:
    access.require(SPECIALIST, f"only a MAPPA / sex-offender specialist can {doing}")


def due(access: Access, *, lomu: str | None = None, level: int | None = None) -> DueList:
    """The due and overdue list in the reader's scope on the access's date, audited as a search."""
    require_specialist(access, "see the MAPPA panels due")
    found = access.kept_view("mappa due", lomu, level, build=lambda: service.due_list(
        access.session, access.user, as_of=access.as_of, lomu=lomu, level=level))
    access.log("search", "mappa_due", filters={k: v for k, v in {"lomu": lomu, "level": level}.items() if v},
               people=[row.person_id for row in found.rows])
    return found


def lomu_codes(access: Access) -> list[str]:
    """The LOMUs the due list can be filtered by."""
    return service.lomu_codes(access.session)


def person_mappa(access: Access, person_id: int) -> MappaPart:
    """One person's MAPPA history, panels and next panel: a read of their record, audited."""
    require_specialist(access, "read a MAPPA record")
    who = access.read_subject(person_id, resource="mappa")
    return service.part(access.session, who.id, access.as_of)


def for_record(ctx: RecordContext) -> MappaPart | None:
    """The record's ``mappa`` part (the MAPPA tab): None, so no tab, for anyone who may not see
    restricted fields, whether or not this person's fields are restricted today."""
    if ctx.restricted_hidden or not ctx.user.can(SPECIALIST):
        return None
    return service.part(ctx.session, ctx.person_id, ctx.as_of)


def _record_text(row) -> str:
    if row.ended_on is not None and row.ended_on == row.effective_from:
        return f"MAPPA management ended: {row.reason}" if row.reason else "MAPPA management ended"
    parts = [f"chair {row.chairing_agency}" if row.chairing_agency else None,
             f"ViSOR {row.visor_id}" if row.visor_id else None,
             f"partner {row.partnering_officer}" if row.partnering_officer else None]
    detail = "; ".join(p for p in parts if p)
    return (f"MAPPA category {row.category}, level {row.level}" + (f" ({detail})" if detail else "")
            + (f": {row.reason}" if row.reason else ""))


def timeline(ctx: RecordContext) -> list[TimelineEvent]:
    """MAPPA records, their ends and panels on the timeline (kept with the record: the MAPPA
    tables bump the register version). Non-specialists see that an entry exists, not what."""
    shown = ctx.user.can(SPECIALIST) and not ctx.restricted_hidden
    events = []
    for row in service.history(ctx.session, ctx.person_id, ctx.as_of):
        events.append(TimelineEvent(on=row.effective_from, kind="mappa", text=_record_text(row)))
        if row.ended_on is not None and row.ended_on != row.effective_from and row.ended_on <= ctx.as_of:
            events.append(TimelineEvent(on=row.ended_on, kind="mappa", text="MAPPA management ended"))
    for panel in service.panels(ctx.session, ctx.person_id, ctx.as_of):
        text = f"MAPPA level {panel.level} panel" + (f" (chair {panel.chair})" if panel.chair else "")
        events.append(TimelineEvent(on=panel.held_on, kind="mappa", text=text + (f": {panel.outcome}" if panel.outcome else "")))
    if not shown:
        events = [TimelineEvent(on=e.on, kind="restricted", text=HIDDEN_TEXT) for e in events]
    return events


def attention(access: Access) -> list[AttentionItem]:
    """For specialists: how many MAPPA panels in their scope are overdue, and due soon."""
    if not access.user.can(SPECIALIST):
        return []
    found = access.kept_view("mappa due", None, None, build=lambda: service.due_list(
        access.session, access.user, as_of=access.as_of))
    return [
        AttentionItem(key="mappa_overdue", label="MAPPA panels overdue", count=found.overdue, href="/mappa/due",
                      severity="overdue" if found.overdue else "info"),
        AttentionItem(key="mappa_due", label=f"MAPPA panels due in the next {found.due_soon_days} days",
                      count=found.due, href="/mappa/due"),
    ]
