"""MAPPA records and panels: read, checked, written. Never commits.

A person's MAPPA history is append-only: a change of category, level, chairing agency, ViSOR
reference or partnering officer is a new row, and the end of MAPPA management is a closing
row (``ended_on`` set, dated the day it ended) or, for a record that ended with its cohort
membership, ``ended_on`` on the record itself."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from iom.cohorts.models import ManagementRecord
from iom.errors import Conflict, FieldError, UserError
from iom.mappa.models import MappaPanel, MappaRecord
from iom.mappa.panels import PANEL_LEVELS, PanelRules, panel_rules
from iom.mappa.schemas import (MAX_REASON, DueList, DueRow, LevelCounts, MappaPart, MappaRecordOut, NextPanel,
                               PanelOut)
from iom.register.models import Person, Unit
from iom.security import scope
from iom.security.roles import Principal

#: A ViSOR reference as the force writes it: letters, digits, "/" and "-".
VISOR_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/-]{3,23}$")


def current_records(as_of: dt.date):
    """Per person, the MAPPA record in force on ``as_of`` (the newest, unless it has ended)."""
    newest = scope.latest(MappaRecord, as_of, MappaRecord.id.label("record_id")).subquery()
    return (select(MappaRecord).join(newest, newest.c.record_id == MappaRecord.id)
            .where(or_(MappaRecord.ended_on.is_(None), MappaRecord.ended_on > as_of)))


def restricted_people(session: Session, person_ids: list[int], as_of: dt.date) -> set[int]:
    """``Domain.restricted_people``: those with a current MAPPA record."""
    current = current_records(as_of).subquery()
    return set(session.scalars(select(current.c.person_id).where(current.c.person_id.in_(person_ids))))


# --- one person's history ---------------------------------------------------------------------

def _in_force(record: MappaRecord | None, on: dt.date) -> MappaRecord | None:
    return record if record is not None and (record.ended_on is None or record.ended_on > on) else None


def record_on(session: Session, person_id: int, on: dt.date) -> MappaRecord | None:
    """The person's MAPPA record in force on ``on``, or None (never recorded, or ended)."""
    return _in_force(scope.latest_for(session, MappaRecord, person_id, on), on)


def newest_record(session: Session, person_id: int) -> MappaRecord | None:
    """The newest row of the person's history, whatever its date: a new row may not predate it."""
    return session.scalar(select(MappaRecord).where(MappaRecord.person_id == person_id)
                          .order_by(MappaRecord.effective_from.desc(), MappaRecord.id.desc()).limit(1))


def history(session: Session, person_id: int, as_of: dt.date) -> list[MappaRecord]:
    """Every record that had started by ``as_of``, oldest first."""
    return list(session.scalars(select(MappaRecord).where(MappaRecord.person_id == person_id,
                                                          MappaRecord.effective_from <= as_of)
                                .order_by(MappaRecord.effective_from, MappaRecord.id)))


def panels(session: Session, person_id: int, as_of: dt.date) -> list[MappaPanel]:
    """Panels held on or before ``as_of``, newest first."""
    return list(session.scalars(select(MappaPanel).where(MappaPanel.person_id == person_id, MappaPanel.held_on <= as_of)
                                .order_by(MappaPanel.held_on.desc(), MappaPanel.id.desc())))


def level_since(records: list[MappaRecord]) -> dt.date:
    """When the level of the last of ``records`` (oldest first, the last in force) began: the
    start of the unbroken run of rows at that level (a row that ended breaks the run)."""
    current = records[-1]
    since = current.effective_from
    for earlier in reversed(records[:-1]):
        if earlier.ended_on is not None or earlier.level != current.level:
            break
        since = earlier.effective_from
    return since


def next_panel(*, level: int, since: dt.date, last_panel: dt.date | None, as_of: dt.date,
               rules: PanelRules) -> NextPanel:
    """A level-2 or level-3 case's next panel: the interval after the last panel held (at any
    level), or, if none was ever held, due the day the current level began."""
    interval = rules.interval(level)
    due_on = last_panel + dt.timedelta(days=interval) if last_panel is not None else since
    if due_on < as_of:
        state = "overdue"
    elif due_on <= as_of + dt.timedelta(days=rules.due_soon_days):
        state = "due soon"
    else:
        state = "scheduled"
    return NextPanel(level=level, interval_days=interval, level_since=since, last_panel=last_panel, due_on=due_on,
                     state=state, days_overdue=max(0, (as_of - due_on).days))


def part(session: Session, person_id: int, as_of: dt.date) -> MappaPart:
    """The person's MAPPA part as of ``as_of``: what the MAPPA tab and ``iom mappa show`` show."""
    rules = panel_rules()
    rows = history(session, person_id, as_of)
    current = _in_force(rows[-1], as_of) if rows else None
    held = panels(session, person_id, as_of)
    upcoming = None
    if current is not None and current.level in PANEL_LEVELS:
        upcoming = next_panel(level=current.level, since=level_since(rows), last_panel=held[0].held_on if held else None,
                              as_of=as_of, rules=rules)
    return MappaPart(as_of=as_of, current=MappaRecordOut.model_validate(current) if current else None,
                     history=[MappaRecordOut.model_validate(r) for r in reversed(rows)],
                     panels=[PanelOut.model_validate(p) for p in held], next_panel=upcoming,
                     chairing_agencies=rules.chairing_agencies)


# --- the due list -----------------------------------------------------------------------------

def lomu_codes(session: Session) -> list[str]:
    return list(session.scalars(select(Unit.code).where(Unit.kind == "lomu").order_by(Unit.code)))


def _check_filters(session: Session, lomu: str | None, level: int | None) -> str | None:
    if level is not None and level not in PANEL_LEVELS:
        raise UserError(f"level must be one of {', '.join(map(str, PANEL_LEVELS))}: level 1 cases have no panels")
    if lomu is None or not lomu.strip():
        return None
    code = lomu.strip().upper()
    known = lomu_codes(session)
    if code not in known:
        raise UserError(f"no LOMU {lomu.strip()!r}: choose one of {', '.join(known)}")
    return code


@dataclass(frozen=True)
class _Case:
    person_id: int
    pseudo_id: str
    given_name: str
    family_name: str
    category: int
    level: int
    chairing_agency: str | None
    partnering_officer: str | None
    lomu_code: str | None


def _current_cases(session: Session, user: Principal, *, as_of: dt.date, lomu: str | None,
                   level: int | None) -> list[_Case]:
    """Current level-2 and level-3 cases in the user's scope, with the LOMU that manages them
    (their current management record's, else their home NPU's)."""
    current = current_records(as_of).where(MappaRecord.level.in_(PANEL_LEVELS)).subquery()
    managed = scope.latest(ManagementRecord, as_of, ManagementRecord.lomu_code).subquery()
    home = aliased(Unit)
    query = (
        select(Person.id, Person.pseudo_id, Person.given_name, Person.family_name, current.c.category, current.c.level,
               current.c.chairing_agency, current.c.partnering_officer,
               func.coalesce(managed.c.lomu_code, home.parent_code).label("lomu_code"))
        .join(current, current.c.person_id == Person.id)
        .outerjoin(managed, managed.c.person_id == Person.id)
        .outerjoin(home, (home.code == Person.home_npu) & (home.kind == "npu"))
        .where(scope.in_scope(user, as_of, managed=managed))
    )
    if level is not None:
        query = query.where(current.c.level == level)
    if lomu is not None:
        query = query.where(or_(managed.c.lomu_code == lomu, home.parent_code == lomu))
    return [_Case(*row) for row in session.execute(query)]


def due_list(session: Session, user: Principal, *, as_of: dt.date, lomu: str | None = None,
             level: int | None = None) -> DueList:
    """Every current level-2 or level-3 case in scope whose panel is overdue on ``as_of`` or due
    within the rules' notice, most overdue first (filtered by LOMU and level)."""
    rules = panel_rules()
    lomu = _check_filters(session, lomu, level)
    cases = _current_cases(session, user, as_of=as_of, lomu=lomu, level=level)
    ids = [c.person_id for c in cases]
    records: dict[int, list[MappaRecord]] = defaultdict(list)
    last_held: dict[int, dt.date] = {}
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        for row in session.scalars(select(MappaRecord).where(MappaRecord.person_id.in_(chunk),
                                                             MappaRecord.effective_from <= as_of)
                                   .order_by(MappaRecord.person_id, MappaRecord.effective_from, MappaRecord.id)):
            records[row.person_id].append(row)
        last_held.update(session.execute(
            select(MappaPanel.person_id, func.max(MappaPanel.held_on))
            .where(MappaPanel.person_id.in_(chunk), MappaPanel.held_on <= as_of).group_by(MappaPanel.person_id)).all())
    rows = []
    counts = {lvl: LevelCounts() for lvl in ((level,) if level else PANEL_LEVELS)}
    for case in cases:
        upcoming = next_panel(level=case.level, since=level_since(records[case.person_id]),
                              last_panel=last_held.get(case.person_id), as_of=as_of, rules=rules)
        if upcoming.state == "scheduled":
            continue
        if upcoming.state == "overdue":
            counts[case.level].overdue += 1
        else:
            counts[case.level].due += 1
        rows.append(DueRow(person_id=case.person_id, pseudo_id=case.pseudo_id,
                           name=None if user.pseudonymised else f"{case.given_name} {case.family_name}",
                           category=case.category, level=case.level, lomu_code=case.lomu_code,
                           chairing_agency=case.chairing_agency, partnering_officer=case.partnering_officer,
                           level_since=upcoming.level_since, last_panel=upcoming.last_panel, due_on=upcoming.due_on,
                           state=upcoming.state, days_overdue=upcoming.days_overdue))
    rows.sort(key=lambda r: (r.due_on, r.pseudo_id))
    return DueList(as_of=as_of, rules_version=rules.version, due_soon_days=rules.due_soon_days,
                   interval_days={lvl: rules.interval(lvl) for lvl in PANEL_LEVELS}, lomu=lomu, level=level,
                   due=sum(c.due for c in counts.values()), overdue=sum(c.overdue for c in counts.values()),
                   by_level=counts, rows=rows)


# --- checks and writes --------------------------------------------------------------------------

def _not_after(on: dt.date, as_of: dt.date, what: str, field: str) -> None:
    if on > as_of:
        raise FieldError(f"{what} cannot be dated after {as_of} (the date the service works to): {on} is in the "
                         "future", field=field)


def _not_before_newest(session: Session, person_id: int, on: dt.date, field: str) -> MappaRecord | None:
    newest = newest_record(session, person_id)
    if newest is not None and on < newest.effective_from:
        raise FieldError(f"the MAPPA history is kept in order: the newest record starts on {newest.effective_from}, "
                         f"so a new one cannot start on {on}", field=field)
    return newest


def _reason(reason: str | None, field: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise FieldError("say why (the reason is kept with the record)", field=field)
    if len(text) > MAX_REASON:
        raise FieldError(f"a reason is at most {MAX_REASON:,} characters", field=field)
    return text


def _officer_of(session: Session, person_id: int, on: dt.date) -> str | None:
    """The officer the person's management record names on ``on`` (their offender manager)."""
    managed = scope.latest_for(session, ManagementRecord, person_id, on)
    return managed.officer if managed is not None else None


def check_record(session: Session, *, person_id: int, as_of: dt.date, category: int, level: int, reason: str,
                 chairing_agency: str | None = None, visor_id: str | None = None,
                 partnering_officer: str | None = None, effective_from: dt.date | None = None,
                 based_on: int | None = None) -> dict:
    """The new record's values, checked: a chair only (and always) at level 2 or 3, from the
    rules' list; a ViSOR reference where the rules require one; the chair, ViSOR reference and
    partner carried over from the record in force when not given (the partner, for a first
    record, is the person's offender manager then, or now); dated on or after the newest record, never
    after ``as_of``; and something must change."""
    rules = panel_rules()
    if category not in (1, 2, 3, 4):
        raise FieldError("the MAPPA category is 1, 2, 3 or 4", field="record-category")
    if level not in (1, 2, 3):
        raise FieldError("the MAPPA level is 1, 2 or 3", field="record-level")
    start = effective_from or as_of
    _not_after(start, as_of, "a MAPPA record", "record-category")
    newest = _not_before_newest(session, person_id, start, "record-category")
    seen = based_on or None
    if based_on is not None and seen != (newest.id if newest else None):
        now = MappaRecordOut.model_validate(newest).model_dump(mode="json") if newest else None
        raise Conflict("this MAPPA record was changed since you opened it"
                       + (f" (by {newest.recorded_by})" if newest else "") + ": check the record now in force, then "
                       "make your change again", current=now)
    previous = record_on(session, person_id, start)
    text = _reason(reason, "record-reason")
    chair = (chairing_agency or "").strip() or None
    if level in PANEL_LEVELS:
        if chair is not None:
            chair = rules.chairing_agency(chair, field="record-chair")
        elif previous is not None and previous.chairing_agency is not None:
            chair = previous.chairing_agency
        else:
            raise FieldError(f"a level {level} case needs a chairing agency: one of {', '.join(rules.chairing_agencies)}",
                             field="record-chair")
    elif chair is not None:
        raise FieldError("level 1 is ordinary agency management, with no panel to chair: leave the chairing agency "
                         "empty", field="record-chair")
    visor = (visor_id or "").strip() or (previous.visor_id if previous else None)
    if visor is not None and not VISOR_PATTERN.match(visor):
        raise FieldError(f"a ViSOR reference is 4 to 24 letters, digits, '/' or '-', not {visor!r}", field="record-visor")
    if visor is None and category in rules.visor_required_categories:
        raise FieldError(f"a category {category} case is held on ViSOR: give its ViSOR reference", field="record-visor")
    partner = ((partnering_officer or "").strip() or (previous.partnering_officer if previous else None)
               or _officer_of(session, person_id, start) or _officer_of(session, person_id, as_of))
    values = {"category": category, "level": level, "chairing_agency": chair, "visor_id": visor,
              "partnering_officer": partner}
    if previous is not None and all(getattr(previous, k) == v for k, v in values.items()):
        raise FieldError(f"nothing to record: category {category}, level {level}, its chair, ViSOR reference and "
                         "partner are already in force", field="record-level")
    return {**values, "effective_from": start, "reason": text}


def add_record(session: Session, *, person_id: int, values: dict, by: str) -> MappaRecordOut:
    row = MappaRecord(person_id=person_id, recorded_by=by, recorded_at=dt.datetime.now(dt.UTC), **values)
    session.add(row)
    session.flush()
    return MappaRecordOut.model_validate(row)


def check_panel(session: Session, *, person_id: int, as_of: dt.date, held_on: dt.date, chair: str | None = None,
                outcome: str | None = None) -> dict:
    """A panel's values: held on or before ``as_of``, for a case at level 2 or 3 on that day
    (the panel takes that level), one a day; the chair defaults to the chairing agency."""
    _not_after(held_on, as_of, "a panel", "panel-held-on")
    record = record_on(session, person_id, held_on)
    if record is None:
        raise FieldError(f"no MAPPA record was in force on {held_on}: record the category and level first",
                         field="panel-held-on")
    if record.level not in PANEL_LEVELS:
        raise FieldError(f"MAPPA panels are held only for level 2 or level 3 cases: this case was at level "
                         f"{record.level} (ordinary agency management) on {held_on}", field="panel-held-on")
    same_day = session.scalar(select(func.count()).select_from(MappaPanel)
                              .where(MappaPanel.person_id == person_id, MappaPanel.held_on == held_on))
    if same_day:
        raise FieldError(f"a panel held on {held_on} is already recorded for this person", field="panel-held-on")
    words = (outcome or "").strip() or None
    if words is not None and len(words) > MAX_REASON:
        raise FieldError(f"an outcome is at most {MAX_REASON:,} characters", field="panel-outcome")
    chaired = (chair or "").strip() or record.chairing_agency
    if chaired is not None and len(chaired) > 80:
        raise FieldError("the chair is at most 80 characters", field="panel-chair")
    return {"held_on": held_on, "level": record.level, "chair": chaired, "outcome": words}


def add_panel(session: Session, *, person_id: int, values: dict, by: str) -> PanelOut:
    row = MappaPanel(person_id=person_id, recorded_by=by, recorded_at=dt.datetime.now(dt.UTC), **values)
    session.add(row)
    session.flush()
    return PanelOut.model_validate(row)


def check_end(session: Session, *, person_id: int, as_of: dt.date, ended_on: dt.date, reason: str) -> dict:
    """The closing row's values: the record in force on ``ended_on``, ended that day."""
    _not_after(ended_on, as_of, "the end of MAPPA management", "end-on")
    _not_before_newest(session, person_id, ended_on, "end-on")
    record = record_on(session, person_id, ended_on)
    if record is None:
        raise FieldError(f"no MAPPA record is in force on {ended_on}: there is nothing to end", field="end-on")
    text = _reason(reason, "end-reason")
    return {"category": record.category, "level": record.level, "chairing_agency": record.chairing_agency,
            "visor_id": record.visor_id, "partnering_officer": record.partnering_officer,
            "effective_from": ended_on, "ended_on": ended_on, "reason": text}
