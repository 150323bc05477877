"""Selection: an NPU's ranked list within its capacity, overrides applied."""

from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from iom.cohort_framework import eligibility
from iom.dates import months_before
from iom.errors import UserError
from iom.register.models import Unit
from iom.scoring.common import as_config
from iom.scoring.explain import stored_explanations
from iom.scoring.overrides import active_overrides
from iom.scoring.runs import get_run, stored_scores
from iom.scoring.schemas import OverrideOut, SelectionRow


def npu_capacity(session: Session, npu_code: str) -> int:
    unit = session.get(Unit, npu_code)
    if unit is None or unit.kind != "npu":
        codes = ", ".join(session.scalars(select(Unit.code).where(Unit.kind == "npu").order_by(Unit.code)))
        raise UserError(f"no NPU {npu_code!r}: choose one of {codes}")
    if not unit.officers or not unit.caseload_per_officer:
        raise UserError(f"NPU {npu_code} has no officers or caseload per officer recorded, so no capacity")
    return unit.officers * unit.caseload_per_officer


def npu_codes_with_capacity(session: Session) -> list[str]:
    return list(session.scalars(select(Unit.code).where(
        Unit.kind == "npu", Unit.officers.is_not(None), Unit.caseload_per_officer.is_not(None)).order_by(Unit.code)))


#: Where a refusal for want of eligibility points the reader.
NOT_ELIGIBLE_HINT = "iom cohort eligibility says why"
#: Candidates judged at a time, in rank order: most seats fill from the top of the list.
JUDGED_AT_ONCE = 500


class _Proposals:
    """Each candidate's proposed classification, judged lazily in rank-ordered batches."""

    def __init__(self, session: Session, ranked: list[int], as_of: dt.date) -> None:
        self.session, self.ranked, self.as_of = session, ranked, as_of
        self.position = {pid: i for i, pid in enumerate(ranked)}
        self.judged: dict[int, eligibility.Judgement | None] = {}

    def of(self, pid: int) -> eligibility.Judgement | None:
        if pid not in self.position:
            return None
        if pid not in self.judged:
            start = self.position[pid]
            batch = [p for p in self.ranked[start:start + JUDGED_AT_ONCE] if p not in self.judged]
            found = eligibility.proposals(self.session, batch, self.as_of)
            self.judged.update({p: found.get(p) for p in batch})
        return self.judged[pid]


def select_for_npu(session: Session, *, npu_code: str, as_of: dt.date, config=None) -> list[SelectionRow]:
    """Ranked selection for one NPU, capped by its capacity, with overrides applied.

    Seats go first to people included by an override, then by composite (ties: RFG, harm,
    pseudo id). A new adoption is proposed into the first classification whose eligibility
    rule holds (``iom.cohort_framework``); someone eligible for none takes no seat. Current
    members are kept while selected, and exit when they fall below the capacity line, have not
    offended for ``exit_after_months``, or are excluded."""
    return [SelectionRow(**row) for row in selection_rows(session, npu_code=npu_code, as_of=as_of, config=config)]


def selection_rows(session: Session, *, npu_code: str, as_of: dt.date, config=None, explain: bool = True) -> list[dict]:
    config = as_config(config)
    capacity = npu_capacity(session, npu_code)
    run = get_run(session, as_of=as_of, config=config)
    df = stored_scores(session, run, npu_code=npu_code)
    if df.empty:
        return []
    overrides = active_overrides(session, as_of, df.index)
    df = df.sort_values(["composite", "rfg", "harm_days", "pseudo_id"], ascending=[False, False, False, True])
    df["rank"] = np.arange(1, len(df) + 1)
    quiet_since = months_before(as_of, config.selection.exit_after_months)
    chosen: list[int] = []
    reasons: dict[int, str] = {}
    members = dict(zip(df.index, df["member"]))
    proposed = _Proposals(session, [pid for pid in df.index if not members[pid]], as_of)
    included = [pid for pid in df.index if pid in overrides and overrides[pid].include]
    for pid in included:
        if len(chosen) == capacity:
            break
        reasons[pid] = f"included by override #{overrides[pid].id}: {overrides[pid].reason}"
        if members[pid] or proposed.of(pid) is not None:
            chosen.append(pid)
        else:
            reasons[pid] += f"; but eligible for no classification ({NOT_ELIGIBLE_HINT})"
    for pid, last, rank in zip(df.index, df["last_committed_on"], df["rank"]):
        if pid in reasons:
            continue
        ov = overrides.get(pid)
        if ov is not None and not ov.include:
            reasons[pid] = f"excluded by override #{ov.id}: {ov.reason}"
        elif last is None or last <= quiet_since:
            reasons[pid] = f"no offending for {config.selection.exit_after_months} months"
        elif len(chosen) >= capacity:
            reasons[pid] = f"rank {int(rank)}, below the capacity line ({capacity})"
        elif not members[pid] and proposed.of(pid) is None:
            reasons[pid] = f"rank {int(rank)}, eligible for no classification ({NOT_ELIGIBLE_HINT})"
        else:
            chosen.append(pid)
            reasons[pid] = f"rank {int(rank)}, within capacity {capacity}"
    chosen_set = set(chosen)
    listed = [pid for pid, member in zip(df.index, df["member"]) if pid in chosen_set or member]
    parts = stored_explanations(session, run=run, config=config, stored=df.loc[listed]) if explain else {}
    rows = []
    for pid in listed:
        row = df.loc[pid]
        decision = ("keep" if row["member"] else "adopt") if pid in chosen_set else "exit"
        ov = overrides.get(pid)
        into = proposed.of(pid) if decision == "adopt" else None
        rows.append(dict(
            classification=into.classification if into else None,
            eligibility=f"{into.rule}: {into.words}" if into else None,
            person_id=int(pid), pseudo_id=row["pseudo_id"], rank=int(row["rank"]), composite=int(row["composite"]),
            rfg=int(row["rfg"]), harm=int(row["harm_days"]), risk=row["risk"], vulnerability=int(row["vulnerability"]),
            decision=decision, reason=reasons[pid], override=OverrideOut.model_validate(ov) if ov else None,
            explanation=parts.get(pid, []),
        ))
    rows.sort(key=lambda r: (r["decision"] == "exit", r["rank"]))
    return rows


def selection_page(session: Session, *, npu_code: str, as_of: dt.date, page: int, per_page: int,
                   config=None) -> tuple[list[SelectionRow], int, dict[str, int]]:
    """One page of ``select_for_npu`` (explanations built for that page only), the number of
    rows in all, and how many are adopt, keep and exit."""
    config = as_config(config)
    rows = selection_rows(session, npu_code=npu_code, as_of=as_of, config=config, explain=False)
    counts = {d: sum(r["decision"] == d for r in rows) for d in ("adopt", "keep", "exit")}
    window = rows[(page - 1) * per_page: page * per_page]
    parts = {}
    if window:
        run = get_run(session, as_of=as_of, config=config)
        stored = stored_scores(session, run, person_ids=[r["person_id"] for r in window])
        parts = stored_explanations(session, run=run, config=config, stored=stored)
    return [SelectionRow(**{**r, "explanation": parts.get(r["person_id"], [])}) for r in window], len(rows), counts
