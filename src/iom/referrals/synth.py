"""Synthetic referrals (``Domain.synth_steps``): SMI_REGISTER markers for a share of the people
with a MENTAL_HEALTH marker, then referrals for a share of the current cohort (and a few
others), each only to a provider whose rules the person met on the day it was made, walked
along the lifecycle to the reference date with its events, sessions, outcomes and revisions.

Deterministic by seed (one numpy Generator, people in id order, dates from the reference date,
timestamps from the event dates). Rates and delays: ``iom.synth.params`` (Referrals). Needs
assessments come from the casework step, which runs first; with none, pathways follow markers
and No Wrong Door (which needs rated needs) is never chosen."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import defaultdict
from typing import Any

import numpy as np
from sqlalchemy import func, or_, select
from sqlalchemy.engine import Connection

from iom.casework.models import NeedRating, NeedsAssessment, Revision
from iom.casework.pathways import pathways
from iom.casework.versioning import jsonable
from iom.cohorts.models import CohortMembership, ManagementRecord
from iom.referrals import lifecycle
from iom.referrals.models import Referral, ReferralEvent, ReferralOutcome, ReferralSession
from iom.referrals.providers import Provider, directory, facts_on
from iom.referrals.service import KIND, SNAPSHOT
from iom.register.models import Person, VulnerabilityMarker
from iom.synth import params as P

#: Without a needs assessment, the pathways a marker suggests.
MARKER_PATHWAYS = {
    "MENTAL_HEALTH": ("health",), "SMI_REGISTER": ("health",), "SUBSTANCE_MISUSE": ("drugs", "alcohol"),
    "CLASS_A": ("drugs",), "HOMELESSNESS": ("accommodation",), "CARE_LEAVER": ("accommodation", "ete"),
    "DA_VICTIM": ("abuse_sex_work", "children_families"), "EXPLOITATION": ("children_families",),
    "LEARNING_DISABILITY": ("ete",),
}
#: Fictional free text, by pathway: (reasons, desired outcomes).
TEXTS = {
    "accommodation": (("No settled address since release", "At risk of losing a tenancy"),
                      ("Has a settled address", "Keeps up rent payments", "Registered with the council's housing team")),
    "ete": (("Out of work and wants to find a job", "Asked for help with training"),
            ("Starts a training course", "Finds paid work", "Has a CV and applies for jobs")),
    "health": (("Mental health affecting engagement", "Not registered with a GP"),
               ("Registered with a GP", "Attends mental health appointments", "Has a plan for a crisis")),
    "drugs": (("Drug use linked to offending", "Asked for help to stop using"),
              ("Engages with treatment", "Reduces drug use", "Tests negative at review")),
    "alcohol": (("Alcohol linked to violent offending", "Drinking daily"),
                ("Engages with alcohol support", "Reduces drinking")),
    "finance": (("Debts with several lenders", "Benefits stopped"),
                ("Benefits claim sorted", "Has a debt repayment plan", "Opens a bank account")),
    "children_families": (("Family relationships under strain", "Contact with children at risk"),
                          ("Keeps contact with children safely", "Family support in place")),
    "attitudes": (("Minimises the harm of offending", "Says offending is normal among peers"),
                  ("Understands the effect on victims", "Completes the course work")),
    "abuse_sex_work": (("Long-term victim of abuse", "Involved in sex work"),
                       ("Safety plan in place", "Engages with specialist support")),
}
BEHAVIOUR = ("Engaged well throughout", "Quiet but took part", "Arrived late and apologised", "Left early",
             "Positive about next steps", "Disengaged for part of the session")
END_REASONS = ("Stopped attending", "Moved out of the area", "Recalled to custody", "Withdrew consent")
CANCEL_REASONS = ("The provider had no capacity", "The person declined the referral",
                  "Referred to a more suitable provider", "Moved out of the area")
GRADES = ("achieved", "partly", "not")


def step(connection: Connection, *, seed: int, as_of: dt.date) -> dict[str, int]:
    rng = np.random.default_rng([seed, 11])  # 11: this domain's stream (issue 11)
    draws = Draws(rng)
    rows: dict[str, int] = {}
    markers = _read_markers(connection)
    rows["vulnerability_markers (SMI_REGISTER)"] = _smi_markers(connection, draws, markers, as_of)
    people = {pid: (born, sex, npu) for pid, born, sex, npu in connection.execute(
        select(Person.id, Person.date_of_birth, Person.sex, Person.home_npu).order_by(Person.id))}
    chosen = _choose_people(connection, rng, list(people), as_of)
    assessments = _read_assessments(connection, set(chosen))
    officers = _officers(connection, as_of, set(chosen))
    writer = Writer(connection)
    providers, known = [p for p in directory().provider if p.through is None], pathways()
    for pid in sorted(chosen):
        born, sex, npu = people[pid]
        open_pathways = [p.code for p in known.for_sex(sex) if p.code in P.PATHWAY_WEIGHTS]
        _refer(writer, draws, pid, providers=providers, open_pathways=open_pathways, earliest=chosen[pid], born=born,
               sex=sex, npu=npu, markers=markers.get(pid, []), assessments=assessments.get(pid, []),
               officer=officers.get(pid) or "IOM offender manager", as_of=as_of)
    rows.update(writer.flush())
    return rows


# --- reading ------------------------------------------------------------------------------------

def _read_markers(connection: Connection) -> dict[int, list[tuple]]:
    found: dict[int, list[tuple]] = defaultdict(list)
    for pid, code, start, end in connection.execute(
            select(VulnerabilityMarker.person_id, VulnerabilityMarker.marker, VulnerabilityMarker.started_on,
                   VulnerabilityMarker.ended_on).order_by(VulnerabilityMarker.id)):
        found[pid].append((code, start, end))
    return found


def _read_assessments(connection: Connection, people: set[int]) -> dict[int, list[tuple]]:
    """(assessed_on, id, {pathway: level}) per person: empty if the casework step wrote none."""
    ratings: dict[int, dict[str, str]] = defaultdict(dict)
    for aid, pathway, level in connection.execute(select(NeedRating.assessment_id, NeedRating.pathway, NeedRating.level)):
        ratings[aid][pathway] = level
    found: dict[int, list[tuple]] = defaultdict(list)
    for aid, pid, on in connection.execute(select(NeedsAssessment.id, NeedsAssessment.person_id,
                                                  NeedsAssessment.assessed_on).order_by(NeedsAssessment.id)):
        if pid in people:
            found[pid].append((on, aid, ratings.get(aid, {})))
    return found


def _officers(connection: Connection, as_of: dt.date, people: set[int]) -> dict[int, str]:
    """Each person's managing officer on the date (the newest management record)."""
    found: dict[int, tuple] = {}
    for pid, start, rid, officer in connection.execute(
            select(ManagementRecord.person_id, ManagementRecord.effective_from, ManagementRecord.id,
                   ManagementRecord.officer).where(ManagementRecord.effective_from <= as_of)):
        if pid in people and officer and (pid not in found or (start, rid) > found[pid][:2]):
            found[pid] = (start, rid, officer)
    return {pid: value[2] for pid, value in found.items()}


def _choose_people(connection: Connection, rng: np.random.Generator, everyone: list[int],
                   as_of: dt.date) -> dict[int, dt.date]:
    """Who is referred, with the earliest day a referral may be made: current members (from
    their adoption, within the window) and a few others."""
    window_start = as_of - dt.timedelta(days=P.REFERRAL_WINDOW_DAYS)
    adopted: dict[int, dt.date] = {}
    for pid, on in connection.execute(
            select(CohortMembership.person_id, CohortMembership.adopted_on)
            .where(CohortMembership.adopted_on <= as_of,
                   or_(CohortMembership.exited_on.is_(None), CohortMembership.exited_on > as_of))
            .order_by(CohortMembership.person_id, CohortMembership.adopted_on)):
        adopted.setdefault(pid, on)
    members = sorted(adopted)
    others = np.array(sorted(set(everyone) - set(adopted)), dtype=np.int64)
    chosen = {pid: max(adopted[pid], window_start) for pid, pick in zip(members, rng.random(len(members)))
              if pick < P.REFERRED_MEMBER_SHARE}
    for pid in others[rng.random(others.size) < P.REFERRED_OTHER_SHARE]:
        chosen[int(pid)] = window_start
    return chosen


# --- the SMI register -----------------------------------------------------------------------

def _smi_markers(connection: Connection, draws: Draws, markers: dict[int, list[tuple]],
                 as_of: dt.date) -> int:
    """An SMI_REGISTER marker for a share of the people with a MENTAL_HEALTH marker, from
    within a year of its start and ending with it."""
    next_id = (connection.scalar(select(func.max(VulnerabilityMarker.id))) or 0) + 1
    new = []
    for pid in sorted(markers):
        if any(code == "SMI_REGISTER" for code, _, _ in markers[pid]):
            continue
        mh = next(((start, end) for code, start, end in markers[pid] if code == "MENTAL_HEALTH"), None)
        if mh is None:
            continue
        pick, delay = draws.u(), draws.between(0, 365)
        start = min(mh[0] + dt.timedelta(days=delay), as_of)
        if pick >= P.SMI_SHARE_OF_MENTAL_HEALTH or (mh[1] is not None and start >= mh[1]):
            continue
        new.append({"id": next_id + len(new), "person_id": pid, "marker": "SMI_REGISTER", "started_on": start,
                    "ended_on": mh[1], "source": "synthetic: GP's SMI register"})
    _insert(connection, VulnerabilityMarker.__table__, new)
    for row in new:
        markers[row["person_id"]].append((row["marker"], row["started_on"], row["ended_on"]))
    return len(new)


# --- referrals ------------------------------------------------------------------------------

class Draws:
    """Uniform draws from the numpy Generator, taken a block at a time: the step makes some
    hundred thousand small draws, and one call per block keeps it quick. Same seed, same draws."""

    BLOCK = 8192

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng, self.block, self.at = rng, [], 0

    def u(self) -> float:
        if self.at == len(self.block):
            self.block, self.at = self.rng.random(self.BLOCK).tolist(), 0
        self.at += 1
        return self.block[self.at - 1]

    def below(self, n: int) -> int:
        return min(int(self.u() * n), n - 1)

    def between(self, low: int, high: int) -> int:
        """An integer from ``low`` to ``high``, both included."""
        return low + self.below(high - low + 1)

    def days(self, bounds: tuple[int, int]) -> dt.timedelta:
        return dt.timedelta(days=self.between(*bounds))

    def choice(self, items):
        return items[self.below(len(items))]

    def weighted(self, weights: dict[str, float]) -> str:
        target, running = self.u() * sum(weights.values()), 0.0
        for name, weight in weights.items():
            running += weight
            if target < running:
                return name
        return name

    def poisson(self, mean: float) -> int:
        """Knuth's method: fine for the small means used here."""
        floor, k, product = math.exp(-mean), 0, self.u()
        while product > floor:
            k, product = k + 1, product * self.u()
        return k


def _refer(writer: Writer, draws: Draws, pid: int, *, providers: list[Provider], open_pathways: list[str],
           earliest: dt.date, born: dt.date, sex: str, npu: str | None, markers: list[tuple], assessments: list[tuple],
           officer: str, as_of: dt.date) -> None:
    """Up to a few referrals, each for a different pathway (``open_pathways`` is used up)."""
    wanted = 1 + min(draws.poisson(P.EXTRA_REFERRALS_MEAN), P.MAX_REFERRALS_PER_PERSON - 1)
    span = max((as_of - earliest).days, 1)
    for _ in range(wanted):
        created = earliest + dt.timedelta(days=draws.below(span))
        facts = facts_on(born=born, sex=sex, home_npu=npu, markers=markers, assessments=assessments, on=created)
        needed = ({p for p, level in facts.needs.items() if level in ("standard", "severe")} if facts.needs is not None
                  else {p for code in facts.markers for p in MARKER_PATHWAYS.get(code, ())})
        eligible: list[Provider] = []
        while open_pathways and not eligible:  # a pathway no provider here takes them for: draw another
            weights = {p: P.PATHWAY_WEIGHTS[p] * (P.NEEDED_PATHWAY_BOOST if p in needed else 1.0) for p in open_pathways}
            pathway = draws.weighted(weights)
            open_pathways.remove(pathway)
            eligible = [p for p in providers if p.serves(pathway) and not p.broken(facts)]
        if not eligible:
            return
        provider = draws.choice(eligible)
        reasons, outcomes = TEXTS[pathway]
        first = draws.below(len(outcomes))
        desired = [outcomes[first]] + ([outcomes[(first + 1) % len(outcomes)]] if draws.u() < 0.5 else [])
        writer.referral(draws, person_id=pid, provider_code=provider.code, provider_name=provider.name, pathway=pathway,
                        source=draws.weighted(P.REFERRAL_SOURCES), reason=draws.choice(reasons), desired=desired,
                        created=created, officer=officer, as_of=as_of)


class Writer:
    """Builds each referral's rows (walking the lifecycle table) and writes them all at the end,
    with ids after each table's current maximum."""

    TABLES = {"referrals": Referral, "referral_events": ReferralEvent, "referral_sessions": ReferralSession,
              "referral_outcomes": ReferralOutcome, "casework_revisions": Revision}

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.rows: dict[str, list[dict[str, Any]]] = {name: [] for name in self.TABLES}
        self.next_id = {name: (connection.scalar(select(func.max(model.id))) or 0) + 1
                        for name, model in self.TABLES.items()}

    def _add(self, table: str, row: dict[str, Any]) -> int:
        row["id"] = self.next_id[table]
        self.next_id[table] += 1
        self.rows[table].append(row)
        return row["id"]

    def referral(self, draws: Draws, *, person_id: int, provider_code: str, provider_name: str,
                 pathway: str, source: str, reason: str, desired: list[str], created: dt.date, officer: str,
                 as_of: dt.date, fate: str | None = None) -> tuple[int, dict[str, Any]]:
        """One referral and its history; ``fate`` (a final status) walks it there on the course
        timetable (``fated``) instead of drawing where it goes. Its id and final state."""
        state: dict[str, Any] = {
            "person_id": person_id, "provider_code": provider_code, "pathway": pathway, "source": source,
            "reason": reason, "desired_outcomes": desired, "status": "draft", "created_on": created,
            "created_by": officer, "sent_on": None, "accepted_on": None, "started_on": None, "ended_on": None,
            "end_reason": None}
        rid = self._add("referrals", state)
        # The revisions' snapshot (``service.snapshot``'s shape), kept as JSON-ready values.
        kept = jsonable({name: state[name] for name in SNAPSHOT})
        sessions: list[dict[str, Any]] = []
        graded: dict[str, str] = {}
        version = 0
        last = (created, officer)

        def change(action: str | None, on: dt.date, by: str, note: str | None = None) -> None:
            nonlocal version, last
            before = None if action is None else state["status"]
            if action is not None:
                state["status"] = kept["status"] = lifecycle.TABLE[(before, action)]
                if action in lifecycle.STAMPS:
                    state[lifecycle.STAMPS[action]] = on
                    kept[lifecycle.STAMPS[action]] = on.isoformat()
                kept["end_reason"] = state["end_reason"]
            version += 1
            last = (on, by)
            self._add("referral_events", {"referral_id": rid, "from_status": before, "to_status": state["status"],
                                          "on": on, "by": by, "reason": note})

        def cancel(on: dt.date) -> None:
            state["end_reason"] = draws.choice(CANCEL_REASONS)
            change("cancel", on, officer, state["end_reason"])

        change(None, created, officer)
        walk = self._walk if fate is None else self._fated(fate)
        walk(draws, state, change, cancel, sessions, graded, rid=rid, desired=desired, provider=provider_name,
             officer=officer, as_of=as_of)
        state.update(version=version, updated_by=last[1], updated_at=_noon(last[0]))
        # The version the history ends at is kept as a revision, so a later stale write on a
        # synthetic referral still finds it; the steps before it are its events.
        self._add("casework_revisions", {"record_kind": KIND, "record_id": rid, "version": version,
                                         "person_id": person_id, "written_by": last[1], "written_at": _noon(last[0]),
                                         "data": {**kept, "sessions": sessions, "outcomes": graded}})
        return rid, state

    def _walk(self, draws: Draws, state, change, cancel, sessions, graded, *, rid, desired, provider, officer, as_of) -> None:
        """From draft to wherever the referral stands on ``as_of``; every step is one the
        lifecycle table allows (``change`` looks it up, so an illegal step cannot be written)."""
        day = state["created_on"]
        fate = [draws.u() for _ in range(4)]
        if fate[0] < P.CANCELLED_AS_DRAFT:
            if (on := day + draws.days((1, 10))) <= as_of:
                cancel(on)
            return
        if fate[0] < P.CANCELLED_AS_DRAFT + P.LEFT_AS_DRAFT or (day := day + draws.days(P.SEND_DAYS)) > as_of:
            return
        change("send", day, officer)
        if fate[1] < P.DECLINED_WHEN_SENT:
            if (on := day + draws.days(P.ACCEPT_DAYS)) <= as_of:
                cancel(on)
            return
        if (day := day + draws.days(P.ACCEPT_DAYS)) > as_of:
            return
        change("accept", day, provider)
        if fate[2] < P.CANCELLED_WHEN_ACCEPTED:
            if (on := day + draws.days(P.START_DAYS)) <= as_of:
                cancel(on)
            return
        if (day := day + draws.days(P.START_DAYS)) > as_of:
            return
        change("start", day, provider)
        planned = draws.between(*P.SESSIONS_PLANNED)
        early = fate[3] < P.ENDED_EARLY
        held = draws.between(1, planned - 1) if early else planned
        for k in range(held):
            on = day if k == 0 else day + draws.days(P.SESSION_GAP_DAYS)
            if on > as_of:
                return
            day = on
            went = draws.weighted(P.ATTENDANCE)
            note = draws.choice(BEHAVIOUR) if went != "did not attend" and draws.u() < P.BEHAVIOUR_NOTE_SHARE else None
            sessions.append({"held_on": on.isoformat(), "attendance": went, "behaviour": note})
            self._add("referral_sessions", {"referral_id": rid, "held_on": on, "attendance": went, "behaviour": note,
                                            "recorded_by": provider})
            change("session", on, provider, f"session on {on.isoformat()}: {went}")
        if (day := day + draws.days(P.END_DAYS)) > as_of:
            return
        # A referral is completed only after a session attended (the service's own rule).
        if not any(s["attendance"] != "did not attend" for s in sessions):
            early = True
        grades = P.OUTCOMES_ENDED_EARLY if early else P.OUTCOMES_COMPLETED
        for d in desired:
            graded[d] = draws.weighted(dict(zip(GRADES, grades)))
            self._add("referral_outcomes", {"referral_id": rid, "desired_outcome": d, "achievement": graded[d],
                                            "notes": None})
        if early:
            state["end_reason"] = draws.choice(END_REASONS)
            change("end", day, provider, state["end_reason"])
        else:
            change("complete", day, provider)

    def _session(self, sessions, change, *, rid: int, on: dt.date, went: str, provider: str, note: str | None) -> None:
        sessions.append({"held_on": on.isoformat(), "attendance": went, "behaviour": note})
        self._add("referral_sessions", {"referral_id": rid, "held_on": on, "attendance": went, "behaviour": note,
                                        "recorded_by": provider})
        change("session", on, provider, f"session on {on.isoformat()}: {went}")

    def _grade(self, draws: Draws, graded, *, rid: int, desired: list[str], grades: tuple) -> None:
        for d in desired:
            graded[d] = draws.weighted(dict(zip(GRADES, grades)))
            self._add("referral_outcomes", {"referral_id": rid, "desired_outcome": d, "achievement": graded[d],
                                            "notes": None})

    def _fated(self, fate: str):
        """A course's walk to ``fate``: sent on the day, accepted, then withdrawn before it
        starts, or started with two sessions (completed) or one (ended early). Every step
        through the lifecycle table; the caller keeps the dates within the reference date."""
        def walk(draws: Draws, state, change, cancel, sessions, graded, *, rid, desired, provider, officer, as_of):
            day = state["created_on"]
            change("send", day, officer)
            day += draws.days(P.COURSE_ACCEPT_DAYS)
            change("accept", day, provider)
            if fate == "cancelled":
                cancel(day + draws.days(P.COURSE_ACCEPT_DAYS))
                return
            day += draws.days(P.COURSE_START_DAYS)
            change("start", day, provider)
            went = "attended" if fate == "completed" or draws.u() < 0.5 else "did not attend"
            self._session(sessions, change, rid=rid, on=day, went=went, provider=provider,
                          note=draws.choice(BEHAVIOUR) if went == "attended" else None)
            day += draws.days(P.COURSE_SESSION_GAP_DAYS)
            if fate == "completed":
                self._session(sessions, change, rid=rid, on=day, went=draws.weighted({"attended": 0.9, "late": 0.1}),
                              provider=provider, note=None)
                self._grade(draws, graded, rid=rid, desired=desired, grades=P.OUTCOMES_COMPLETED)
                change("complete", day, provider)
            else:
                self._grade(draws, graded, rid=rid, desired=desired, grades=P.OUTCOMES_ENDED_EARLY)
                state["end_reason"] = "Did not attend the second session" if went == "attended" else draws.choice(
                    END_REASONS)
                change("end", day, provider, state["end_reason"])
        return walk

    def flush(self) -> dict[str, int]:
        for name, model in self.TABLES.items():
            _insert(self.connection, model.__table__, self.rows[name])
        return {name: len(rows) for name, rows in self.rows.items()}


def _storer(sample: Any, postgres: bool):
    """How a column's values are kept, judged by one of them: JSON as text, dates as ISO text,
    timestamps in SQLAlchemy's SQLite format (ISO with the zone for PostgreSQL); None: as they are."""
    if isinstance(sample, dt.datetime):
        return dt.datetime.isoformat if postgres else (lambda value: value.strftime("%Y-%m-%d %H:%M:%S.%f"))
    if isinstance(sample, dt.date):
        return dt.date.isoformat
    if isinstance(sample, (dict, list)):
        return json.dumps
    return None


def _noon(day: dt.date) -> dt.datetime:
    """A timestamp from the event's date (never the clock), so a seed gives the same rows."""
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


def _insert(connection: Connection, table, rows: list[dict[str, Any]]) -> None:
    """Rows with explicit ids, straight to the driver (``iom.synth.writer``'s way: executemany
    on SQLite, COPY on PostgreSQL) with values as each stores them; on PostgreSQL the id
    sequence is then moved past them."""
    if not rows:
        return
    names = list(rows[0])
    postgres = connection.dialect.name == "postgresql"
    columns = []
    for name in names:
        sample = next((row[name] for row in rows if row[name] is not None), None)
        store = _storer(sample, postgres)
        columns.append([row[name] for row in rows] if store is None else
                       [None if row[name] is None else store(row[name]) for row in rows])
    values = list(zip(*columns))
    raw = connection.connection.driver_connection
    quoted = ", ".join(f'"{name}"' for name in names)  # "on" and "by" are SQL words
    if postgres:
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({quoted}) FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)
    else:
        raw.executemany(f"INSERT INTO {table.name} ({quoted}) VALUES ({', '.join('?' for _ in names)})", values)
    if postgres:
        connection.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                   f"(SELECT COALESCE(MAX(id), 1) FROM {table.name}))")


__all__ = ["Draws", "Writer", "step"]
