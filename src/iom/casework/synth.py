"""Synthetic casework for ``iom synth`` (``Domain.synth_steps``): needs assessments over the
pathways, Control and Change plan actions, and risk-review histories, read off the force
already written in the same transaction.

Everything is drawn from one numpy generator seeded by the force's seed, and read in id
order, so a seed gives the same rows every time. The rates are in ``iom.synth.params``
(the Casework section), each with its basis; docs/casework-data.md describes the result."""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from iom.casework.models import NeedRating, NeedsAssessment, PlanAction, Revision
from iom.casework.pathways import Pathways, pathways
from iom.cohorts.models import CohortMembership, ManagementRecord, RiskLevelRecord, RiskReview
from iom.cohorts.rules import review_intervals
from iom.db import Base
from iom.register.models import Crime, Person, VulnerabilityMarker
from iom.synth import params as P
from iom.synth.writer import write_table

#: Mixed into the force's seed so casework draws its own stream, whatever the base generator drew.
STREAM = 0xCA5E
EPOCH = dt.date(1970, 1, 1)
LEVELS = ("none", "standard", "severe")
RISK_ORDER = {"Low": 0, "Medium": 1, "High": 2}
#: Out-of-court disposals after which the PIPT assesses needs (seed paper 000 §66-67).
ASSESSED_DISPOSALS = ("conditional_caution", "community_resolution")
NON_MEMBER_ASSESSOR = "PIPT (out-of-court disposals)"

#: Plan-action texts by pathway: Change (support, from the interventions of 000 §36 and
#: §67-70) and Control (enforcement). A pathway missing here gets a generic Change text.
CHANGE_TEXT = {
    "accommodation": ("Refer to a housing support provider", "Support a housing application to the local authority"),
    "ete": ("Refer to a training or employment provider", "Help to enrol on a college course"),
    "health": ("Refer to Liaison and Diversion", "Register with a GP", "Refer to MIND for mental health support"),
    "drugs": ("Refer to the Drug Intervention Programme", "Attend a drug treatment assessment"),
    "alcohol": ("Refer to an alcohol treatment service", "Attend the Alcohol Related Violence course"),
    "finance": ("Refer to Citizens Advice for debt advice", "Help to claim the benefits due"),
    "children_families": ("Refer to local authority family support", "Refer to CARA"),
    "attitudes": ("Attend the Victim Awareness Course", "Meet a peer mentor (No Wrong Door)"),
    "abuse_sex_work": ("Refer to Anawim", "Refer to New Chance"),
}
CONTROL_TEXT = {
    "accommodation": ("Verify the home address by a visit",),
    "drugs": ("Drug test at each appointment", "Check attendance at treatment appointments"),
    "alcohol": ("Check compliance with the alcohol abstinence requirement",),
    "children_families": ("Check compliance with the non-molestation order",),
    "attitudes": ("Monthly home visit", "Check compliance with licence conditions",
                  "Share intelligence with the neighbourhood team"),
}
#: Where a plan's Control actions go when none of the person's needs has a Control text.
CONTROL_DEFAULT_PATHWAY = "attitudes"
CHANGE_OUTCOMES = ("achieved", "partly achieved", "not achieved")
STATUSES = ("done", "cancelled", "in progress", "open")

Table = dict[str, np.ndarray]


def day(d: dt.date) -> int:
    return (d - EPOCH).days


@dataclass
class History:
    """One person's append-only history as parallel lists, for "what was in force on day d"."""

    days: list[int] = field(default_factory=list)
    values: list = field(default_factory=list)

    def at(self, d: int, default=None):
        i = bisect.bisect_right(self.days, d) - 1
        return self.values[i] if i >= 0 else default


@dataclass
class Force:
    """What the casework step reads of the force written before it."""

    as_of: int
    members: np.ndarray  # person ids of current members, ascending
    adopted: np.ndarray  # each member's adoption day (earliest current membership)
    sex: dict[int, str]
    risk: dict[int, History]  # level
    officers: dict[int, History]  # officer name (or the LOMU's, when none is named)
    non_members: np.ndarray  # sampled non-member offenders, ascending
    non_member_days: np.ndarray  # the day of their disposal (their assessment)
    markers: dict[str, list[tuple[int, int, int | None]]]  # marker → (person, start, end)


def step(connection: Connection, *, seed: int, as_of: dt.date) -> dict[str, int]:
    """Write needs assessments and ratings, plan actions (each with its first revision) and
    risk reviews for the force in ``connection``'s transaction; return rows per table."""
    rng = np.random.default_rng([seed, STREAM])
    ways = pathways()
    force = read_force(connection, rng, as_of)
    assessments, ratings, rounds = needs(rng, force, ways)
    actions = plan_actions(rng, force, ways, rounds)
    revisions = first_revisions(actions)
    reviews = risk_reviews(rng, force)
    tables = {
        NeedsAssessment.__tablename__: assessments, NeedRating.__tablename__: ratings,
        PlanAction.__tablename__: actions, Revision.__tablename__: revisions, RiskReview.__tablename__: reviews,
    }
    written: dict[str, int] = {}
    offsets: dict[str, int] = {}
    for name, columns in tables.items():
        if not len(columns["id"]):
            written[name] = 0
            continue
        columns = _after_existing(connection, name, columns, offsets)
        columns = {k: _stamps(connection, name, k, v) for k, v in columns.items()}
        written[name] = write_table(connection, name, columns)
    return written


# --- reading the force --------------------------------------------------------------------

def read_force(connection: Connection, rng: np.random.Generator, as_of: dt.date) -> Force:
    end = day(as_of)
    active = (CohortMembership.adopted_on <= as_of) & (
        CohortMembership.exited_on.is_(None) | (CohortMembership.exited_on > as_of))
    rows = connection.execute(select(CohortMembership.person_id, func.min(CohortMembership.adopted_on))
                              .where(active).group_by(CohortMembership.person_id)
                              .order_by(CohortMembership.person_id)).all()
    members = np.array([r[0] for r in rows], dtype=np.int64)
    adopted = np.array([day(r[1]) for r in rows], dtype=np.int64)
    current = select(CohortMembership.person_id).where(active).distinct().subquery()

    # Non-members offered a disposal lately: filtered here, not by NOT IN, which SQLite plans badly.
    since = as_of - dt.timedelta(days=P.NON_MEMBER_LOOKBACK_DAYS)
    ever = set(connection.execute(select(CohortMembership.person_id).distinct()).scalars())
    latest: dict[int, dt.date] = {}
    for pid, on in connection.execute(select(Crime.person_id, Crime.outcome_on).where(
            Crime.outcome.in_(ASSESSED_DISPOSALS), Crime.outcome_on > since, Crime.outcome_on <= as_of)):
        if pid not in ever and (pid not in latest or on > latest[pid]):
            latest[pid] = on
    candidates = sorted(latest)
    chosen = rng.random(len(candidates)) < P.NON_MEMBER_ASSESSED_SHARE
    non_members = np.array([p for p, keep in zip(candidates, chosen) if keep], dtype=np.int64)
    non_member_days = np.array([day(latest[p]) for p in non_members.tolist()], dtype=np.int64)

    sex: dict[int, str] = dict(connection.execute(
        select(Person.id, Person.sex).join(current, current.c.person_id == Person.id)).all())
    marker_columns = (VulnerabilityMarker.person_id, VulnerabilityMarker.marker, VulnerabilityMarker.started_on,
                      VulnerabilityMarker.ended_on)
    marked = (VulnerabilityMarker.marker.in_(list(P.MARKER_NEEDS)), VulnerabilityMarker.started_on <= as_of)
    found = list(connection.execute(select(*marker_columns).join(current, current.c.person_id == VulnerabilityMarker.person_id)
                                    .where(*marked)))
    for chunk in _chunks(non_members.tolist()):
        sex.update(connection.execute(select(Person.id, Person.sex).where(Person.id.in_(chunk))).all())
        found += connection.execute(select(*marker_columns).where(VulnerabilityMarker.person_id.in_(chunk), *marked))
    markers: dict[str, list[tuple[int, int, int | None]]] = defaultdict(list)
    for pid, marker, started, ended in sorted(found, key=lambda r: (r[0], r[1], r[2])):
        markers[marker].append((pid, day(started), day(ended) if ended else None))

    risk: dict[int, History] = defaultdict(History)
    for pid, level, since_day in connection.execute(
            select(RiskLevelRecord.person_id, RiskLevelRecord.level, RiskLevelRecord.effective_from)
            .join(current, current.c.person_id == RiskLevelRecord.person_id)
            .where(RiskLevelRecord.effective_from <= as_of)
            .order_by(RiskLevelRecord.person_id, RiskLevelRecord.effective_from, RiskLevelRecord.id)):
        _append(risk[pid], day(since_day), level)
    officers: dict[int, History] = defaultdict(History)
    for pid, officer, lomu, since_day in connection.execute(
            select(ManagementRecord.person_id, ManagementRecord.officer, ManagementRecord.lomu_code,
                   ManagementRecord.effective_from)
            .join(current, current.c.person_id == ManagementRecord.person_id)
            .where(ManagementRecord.effective_from <= as_of)
            .order_by(ManagementRecord.person_id, ManagementRecord.effective_from, ManagementRecord.id)):
        _append(officers[pid], day(since_day), officer or f"{lomu} offender manager")

    return Force(as_of=end, members=members, adopted=adopted, sex=sex, risk=dict(risk), officers=dict(officers),
                 non_members=non_members, non_member_days=non_member_days, markers=dict(markers))


def _chunks(ids: list[int], size: int = 900) -> list[list[int]]:
    """Id lists short enough for any driver's bound-parameter limit."""
    return [ids[i:i + size] for i in range(0, len(ids), size)]


def _append(history: History, d: int, value) -> None:
    """Same-day records: the later one (by id) is the one in force."""
    if history.days and history.days[-1] == d:
        history.values[-1] = value
    else:
        history.days.append(d)
        history.values.append(value)


# --- needs --------------------------------------------------------------------------------

@dataclass
class Round:
    """One assessment of each of some people, on their own days, with the levels rated."""

    people: np.ndarray  # positions in Force.members (members) or Force.non_members
    days: np.ndarray
    levels: np.ndarray  # people × pathways, 0 none, 1 standard, 2 severe
    superseded: np.ndarray  # a later assessment of the same person exists by the as-of date


def _rates(ways: Pathways, member: bool) -> tuple[np.ndarray, np.ndarray]:
    pairs = [P.NEED_RATES[w.code][int(member)] if w.code in P.NEED_RATES else P.NEED_RATE_OTHER for w in ways.pathway]
    return np.array([s for s, _ in pairs]), np.array([v for _, v in pairs])


def _draw(rng: np.random.Generator, n: int, standard: np.ndarray, severe: np.ndarray) -> np.ndarray:
    u = rng.random((n, standard.size))
    return np.where(u < severe, 2, np.where(u < severe + standard, 1, 0)).astype(np.int8)


def _raise_by_markers(rng: np.random.Generator, levels: np.ndarray, ids: np.ndarray, days: np.ndarray,
                      force: Force, ways: Pathways) -> None:
    """A marker in force on a person's assessment day raises its pathway to its floor."""
    codes = [w.code for w in ways.pathway]
    position = {int(pid): i for i, pid in enumerate(ids.tolist())}
    for marker, (code, severe_chance) in P.MARKER_NEEDS.items():
        draws = rng.random(ids.size)
        if code not in codes:
            continue
        j = codes.index(code)
        for pid, start, end in force.markers.get(marker, ()):
            i = position.get(pid)
            if i is None or not (start <= days[i] and (end is None or end > days[i])):
                continue
            floor = 2 if draws[i] < severe_chance else 1
            levels[i, j] = max(levels[i, j], floor)


def _applicable(ways: Pathways, ids: np.ndarray, force: Force) -> np.ndarray:
    """People × pathways: whether the pathway applies to the person (the women's pathway)."""
    sex = np.array([force.sex.get(int(p), "U") for p in ids.tolist()], dtype=object)
    return np.column_stack([np.ones(ids.size, dtype=bool) if w.only_for is None else sex == w.only_for
                            for w in ways.pathway]).reshape(ids.size, len(ways.pathway))


def needs(rng: np.random.Generator, force: Force, ways: Pathways) -> tuple[Table, Table, list[Round]]:
    """Assessments of members (at adoption, then about once a year) and of sampled
    non-members (at their disposal), with one rating per pathway that applies to the person."""
    end, n = force.as_of, force.members.size
    applies = _applicable(ways, force.members, force)
    standard, severe = _rates(ways, member=True)
    rounds: list[Round] = []
    days = np.minimum(force.adopted + rng.integers(0, P.NEEDS_FIRST_WITHIN_DAYS + 1, n), end)
    levels = _draw(rng, n, standard, severe)
    while True:
        active = days <= end
        if not active.any():
            break
        _raise_by_markers(rng, levels, force.members, days, force, ways)
        levels[~applies] = 0  # a pathway that does not apply is never a need (nor rated)
        following = days + P.NEEDS_REASSESSMENT_DAYS + rng.integers(
            -P.NEEDS_REASSESSMENT_JITTER_DAYS, P.NEEDS_REASSESSMENT_JITTER_DAYS + 1, n)
        idx = np.flatnonzero(active)
        rounds.append(Round(people=idx, days=days[idx], levels=levels[idx].copy(), superseded=following[idx] <= end))
        u = rng.random(levels.shape)
        levels = np.where(u < P.NEED_EASES, np.maximum(levels - 1, 0),
                          np.where(u > 1 - P.NEED_WORSENS, np.minimum(levels + 1, 2), levels)).astype(np.int8)
        days = np.where(active, following, days)

    standard, severe = _rates(ways, member=False)
    others = _draw(rng, force.non_members.size, standard, severe)
    _raise_by_markers(rng, others, force.non_members, force.non_member_days, force, ways)
    others[~_applicable(ways, force.non_members, force)] = 0

    person = [force.members[r.people] for r in rounds] + [force.non_members]
    on = [r.days for r in rounds] + [force.non_member_days]
    rated = [r.levels for r in rounds] + [others]
    assessor = [np.array([_officer(force, int(p), int(d)) for p, d in zip(force.members[r.people], r.days)],
                         dtype=object) for r in rounds]
    assessor.append(np.full(force.non_members.size, NON_MEMBER_ASSESSOR, dtype=object))
    person_all, on_all, rated_all, assessor_all = (np.concatenate(x) for x in (person, on, rated, assessor))
    order = np.lexsort((person_all, on_all))
    person_all, on_all, rated_all, assessor_all = (a[order] for a in (person_all, on_all, rated_all, assessor_all))
    k = person_all.size
    assessments = dict(
        id=np.arange(1, k + 1), person_id=person_all, assessed_on=on_all, assessor=assessor_all,
        pathways_version=np.full(k, ways.version, dtype=object), recorded_at=on_all.copy(),
    )
    rows, cols = np.nonzero(_applicable(ways, person_all, force))
    codes = np.array([w.code for w in ways.pathway], dtype=object)
    ratings = dict(
        id=np.arange(1, rows.size + 1), assessment_id=rows + 1, pathway=codes[cols],
        level=np.array(LEVELS, dtype=object)[rated_all[rows, cols]],
    )
    return assessments, ratings, rounds


# --- plan actions -------------------------------------------------------------------------

def _texts(rng: np.random.Generator, options: dict[str, tuple[str, ...]], codes: np.ndarray, fallback) -> np.ndarray:
    """One text per action, drawn from its pathway's options (``fallback(code)`` if none)."""
    out = np.empty(codes.size, dtype=object)
    for code in np.unique(codes).tolist():
        rows = np.flatnonzero(codes == code)
        texts = options.get(code)
        out[rows] = (np.array(texts, dtype=object)[rng.integers(0, len(texts), rows.size)] if texts
                     else fallback(code))
    return out


def _statuses(rng: np.random.Generator, superseded: np.ndarray, past_due: np.ndarray) -> np.ndarray:
    shares = np.where(superseded[:, None], np.array(P.ACTION_STATUS_SUPERSEDED),
                      np.where(past_due[:, None], np.array(P.ACTION_STATUS_PAST_DUE), np.array(P.ACTION_STATUS_NOT_DUE)))
    cum = np.cumsum(shares, axis=1)
    pick = (rng.random(superseded.size)[:, None] * cum[:, -1:] >= cum).sum(axis=1)
    return np.array(STATUSES, dtype=object)[np.minimum(pick, len(STATUSES) - 1)]


def plan_actions(rng: np.random.Generator, force: Force, ways: Pathways, rounds: list[Round]) -> Table:
    """Each assessment of a member adds Change actions on their rated needs and Control
    actions, owned by their officer, due weeks later; what became of each by the as-of date
    follows from whether it fell due and whether a later assessment superseded it."""
    end = force.as_of
    codes = np.array([w.code for w in ways.pathway], dtype=object)
    names = {w.code: w.name for w in ways.pathway}
    controllable = np.isin(codes, list(CONTROL_TEXT))
    home = CONTROL_DEFAULT_PATHWAY if CONTROL_DEFAULT_PATHWAY in names else str(codes[0])
    chance = np.array([0.0, P.CHANGE_ACTION_CHANCE["standard"], P.CHANGE_ACTION_CHANCE["severe"]])
    parts: dict[str, list[np.ndarray]] = defaultdict(list)
    for r in rounds:
        pids = force.members[r.people]
        owners = np.array([_officer(force, int(p), int(d)) for p, d in zip(pids, r.days)], dtype=object)
        # Change: a chance per rated need.
        who, way = np.nonzero(rng.random(r.levels.shape) < chance[r.levels])
        # Control: 1 + Poisson per plan, on a need that has Control actions (or the default).
        count = 1 + rng.poisson(P.CONTROL_ACTIONS_EXTRA_MEAN, r.people.size)
        c_who = np.repeat(np.arange(r.people.size), count)
        candidates = (r.levels > 0) & controllable
        keys = np.where(candidates[c_who], rng.random((c_who.size, codes.size)), -1.0)
        c_code = np.where(candidates[c_who].any(axis=1), codes[keys.argmax(axis=1)], home)
        parts["who"] += [pids[who], pids[c_who]]
        parts["kind"] += [np.full(who.size, "change", dtype=object), np.full(c_who.size, "control", dtype=object)]
        parts["pathway"] += [codes[way], c_code.astype(object)]
        parts["created"] += [r.days[who], r.days[c_who]]
        parts["owner"] += [owners[who], owners[c_who]]
        parts["superseded"] += [r.superseded[who], r.superseded[c_who]]
    if not parts:
        return {name: np.array([], dtype=object) for name in (
            "id", "person_id", "kind", "pathway", "description", "owner", "due_on", "status", "outcome",
            "created_on", "version", "updated_by", "updated_at")}
    who, kind, pathway, created, owner, superseded = (np.concatenate(parts[k]) for k in (
        "who", "kind", "pathway", "created", "owner", "superseded"))
    order = np.lexsort((who, created))
    who, kind, pathway, created, owner, superseded = (a[order] for a in (
        who, kind, pathway, created, owner, superseded))
    n = who.size
    change = kind == "change"
    description = np.empty(n, dtype=object)
    description[change] = _texts(rng, CHANGE_TEXT, pathway[change], lambda c: f"Support on the {names[c]} pathway")
    description[~change] = _texts(rng, CONTROL_TEXT, pathway[~change], lambda c: CONTROL_TEXT[CONTROL_DEFAULT_PATHWAY][0])
    lo = np.where(change, P.ACTION_DUE_DAYS["change"][0], P.ACTION_DUE_DAYS["control"][0])
    hi = np.where(change, P.ACTION_DUE_DAYS["change"][1], P.ACTION_DUE_DAYS["control"][1])
    due = created + rng.integers(lo, hi + 1)
    status = _statuses(rng, superseded, due < end)
    closed = np.isin(status, ("done", "cancelled"))
    until = np.where(closed, np.maximum(np.minimum(due + 14, end), created), end)
    updated = np.where(status == "open", created, created + (rng.random(n) * (until - created + 1)).astype(np.int64))
    grade = np.array(CHANGE_OUTCOMES, dtype=object)[np.minimum(
        (rng.random(n)[:, None] >= np.cumsum(P.CHANGE_OUTCOME_SHARES)).sum(axis=1), len(CHANGE_OUTCOMES) - 1)]
    control_outcome = np.where(rng.random(n) < P.CONTROL_BREACH_SHARE, "breach found: reported for enforcement",
                               "completed as planned").astype(object)
    outcome = np.full(n, None, dtype=object)
    done = status == "done"
    outcome[done & change] = grade[done & change]
    outcome[done & ~change] = control_outcome[done & ~change]
    outcome[status == "cancelled"] = "cancelled: no longer needed"
    return dict(
        id=np.arange(1, n + 1), person_id=who, kind=kind, pathway=pathway, description=description, owner=owner,
        due_on=due, status=status, outcome=outcome, created_on=created, version=np.ones(n, dtype=np.int64),
        updated_by=owner.copy(), updated_at=updated,
    )


def _officer(force: Force, person_id: int, on: int) -> str:
    history = force.officers.get(person_id)
    return (history.at(on) if history else None) or "IOM offender manager"


def first_revisions(actions: Table) -> Table:
    """Version 1 of every action, as ``versioning.keep_revision`` keeps each version written,
    so an action's history is whole from its first edit on."""
    n = len(actions["id"])
    fields = ("kind", "pathway", "description", "owner", "due_on", "status", "outcome")
    frame = pd.DataFrame({k: actions[k] for k in fields})
    frame["due_on"] = (np.asarray(actions["due_on"], dtype=np.int64).astype("datetime64[D]").astype(str))
    data = np.array(frame.to_json(orient="records", lines=True).splitlines() if n else [], dtype=object)
    return dict(
        id=np.arange(1, n + 1), record_kind=np.full(n, "plan_action", dtype=object), record_id=actions["id"].copy(),
        version=np.ones(n, dtype=np.int64), person_id=actions["person_id"].copy(), data=data,
        written_by=actions["updated_by"].copy(), written_at=actions["updated_at"].copy(),
    )


# --- risk reviews -------------------------------------------------------------------------

def risk_reviews(rng: np.random.Generator, force: Force) -> Table:
    """From adoption (or the first risk decision after it), a review each interval for the
    level in force, mostly on time, some late; a change of level in ``risk_level_history`` is
    a review on its day. The last scheduled review may fall after the as-of date: then the
    person is due (or overdue) now, and nothing is written for it."""
    end = force.as_of
    days = review_intervals().days
    # Each review moves on at least this far, which bounds how many draws the loop can use.
    step_min = max(min(days.values()) - P.REVIEW_ON_TIME_DAYS, 1)
    starts = {pid: max(int(a), force.risk[pid].days[0]) for pid, a in zip(force.members.tolist(), force.adopted)
              if pid in force.risk}
    bound = sum((end - s) // step_min + len(force.risk[pid].days) + 2 for pid, s in starts.items())
    late = (rng.random(bound) < P.REVIEW_LATE_SHARE).tolist()
    offset = np.where(late, rng.integers(P.REVIEW_LATE_DAYS[0], P.REVIEW_LATE_DAYS[1] + 1, bound),
                      rng.integers(-P.REVIEW_ON_TIME_DAYS, P.REVIEW_ON_TIME_DAYS + 1, bound)).tolist()
    exit_draw = rng.random(force.members.size).tolist()
    draw = 0
    cols: dict[str, list] = defaultdict(list)
    for pos, pid in enumerate(force.members.tolist()):
        if pid not in starts:
            continue
        history, start, adopted = force.risk[pid], starts[pid], int(force.adopted[pos])
        changes = [(d, v) for d, v in zip(history.days, history.values) if d > start]
        last, level = start, history.at(start)
        person_rows: list[tuple[int, str, str]] = []
        while True:
            held = max(last + days[level] + offset[draw], last + 1)
            draw += 1
            if changes and changes[0][0] <= held:
                held, new = changes.pop(0)
                outcome = ("risk raised" if RISK_ORDER[new] > RISK_ORDER[level]
                           else "risk lowered" if RISK_ORDER[new] < RISK_ORDER[level] else "no change")
                level = new
            elif held > end:
                break
            else:
                outcome = "no change"
            person_rows.append((held, level, outcome))
            last = held
        if (person_rows and person_rows[-1][1:] == ("Low", "no change") and person_rows[-1][0] - adopted >= 365
                and exit_draw[pos] < P.REVIEW_EXIT_RECOMMENDED_SHARE):
            person_rows[-1] = (person_rows[-1][0], "Low", "exit recommended")
        for held, lvl, outcome in person_rows:
            cols["person_id"].append(pid)
            cols["reviewed_on"].append(held)
            cols["level"].append(lvl)
            cols["outcome"].append(outcome)
            cols["next_due"].append(held + days[lvl])
            cols["reviewer"].append(_officer(force, pid, held))
    n = len(cols["person_id"])
    person = np.array(cols["person_id"], dtype=np.int64)
    reviewed = np.array(cols["reviewed_on"], dtype=np.int64)
    order = np.lexsort((person, reviewed))
    return dict(
        id=np.arange(1, n + 1),
        person_id=person[order],
        reviewed_on=reviewed[order],
        level=np.array(cols["level"], dtype=object)[order],
        outcome=np.array(cols["outcome"], dtype=object)[order],
        next_due=np.array(cols["next_due"], dtype=np.int64)[order],
        reviewer=np.array(cols["reviewer"], dtype=object)[order],
        recorded_at=reviewed[order],
    )


# --- writing ------------------------------------------------------------------------------

#: Columns holding an id of another table written here: moved with that table's ids.
REFERENCES = {"need_ratings": {"assessment_id": "needs_assessments"},
              "casework_revisions": {"record_id": "plan_actions"}}


def _after_existing(connection: Connection, name: str, columns: Table, offsets: dict[str, int]) -> Table:
    """Ids after any rows the table already holds (the step may run on a database that has
    some), with references to tables written earlier moved by theirs."""
    table = Base.metadata.tables[name]
    offsets[name] = connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    out = {**columns, "id": columns["id"] + offsets[name]}
    for column, target in REFERENCES.get(name, {}).items():
        out[column] = columns[column] + offsets.get(target, 0)
    return out


def _stamps(connection: Connection, name: str, column: str, values: np.ndarray) -> np.ndarray:
    """Day numbers in timestamp columns as noon UTC on that day, in the form the driver takes
    (SQLAlchemy's own SQLite text, or a datetime for PostgreSQL)."""
    col = Base.metadata.tables[name].c[column]
    if getattr(col.type, "python_type", None) is not dt.datetime:
        return values
    convert = col.type.dialect_impl(connection.dialect).bind_processor(connection.dialect) or (lambda v: v)
    noon = dt.datetime(1970, 1, 1, 12, tzinfo=dt.UTC)
    unique, inverse = np.unique(np.asarray(values, dtype=np.int64), return_inverse=True)
    stamps = np.array([convert(noon + dt.timedelta(days=int(d))) for d in unique.tolist()] or [None], dtype=object)
    return stamps[inverse]
