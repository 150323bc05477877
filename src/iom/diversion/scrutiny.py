"""The Out of Court Disposal Scrutiny Panel: seeded dip samples of issued disposals in a crime
category, stratified by month over the window before the panel's month, the panel's verdicts,
and the share appropriate per panel with a Wilson interval."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict

import numpy as np
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from iom.db import fetch
from statsmodels.stats.proportion import proportion_confint

from iom.dates import month_starts, months_before, parse_month
from iom.diversion.models import Disposal, ScrutinyItem, ScrutinySample
from iom.diversion.rules import Category, scrutiny_rules
from iom.diversion.schemas import ReportRow, Sample, SampleItem, ScrutinyReport
from iom.errors import Conflict, FieldError
from iom.formatting import csv_cell
from iom.apportion import largest_remainder
from iom.register.models import Crime, Offence, Person

ISSUED = ("issued", "complied", "breached", "prosecuted", "penalty")


def window(month_start: dt.date) -> tuple[dt.date, dt.date]:
    rules = scrutiny_rules()
    return months_before(month_start, rules.window_months), month_start - dt.timedelta(days=1)


def _in_category(category: Category):
    parts = []
    for flag in category.flags:
        parts += [getattr(Crime, flag).is_(True), getattr(Offence, flag).is_(True)]
    if category.offence_groups:
        parts.append(Offence.offence_group.in_(category.offence_groups))
    if category.subgroups:
        parts.append(Offence.subgroup.in_(category.subgroups))
    return or_(*parts)


def population(session: Session, category: Category, start: dt.date, end: dt.date):
    """(disposal id, issued on) for every disposal issued in [start, end] in the category."""
    return session.execute(
        select(Disposal.id, Disposal.issued_on).join(Crime, Crime.id == Disposal.crime_id)
        .join(Offence, Offence.code == Crime.offence_code)
        .where(Disposal.status.in_(ISSUED), Disposal.issued_on >= start, Disposal.issued_on <= end, _in_category(category))
        .order_by(Disposal.id)).all()


def draw(candidates, *, n: int, seed: int, start: dt.date, end: dt.date) -> tuple[list[int], dict[str, int]]:
    """``n`` disposal ids, stratified by month in proportion to each month's disposals (largest
    remainder), drawn without replacement by a generator seeded with ``seed``: the same
    candidates and seed give the same sample."""
    by_month: dict[str, list[int]] = defaultdict(list)
    for disposal_id, issued_on in candidates:
        by_month[f"{issued_on:%Y-%m}"].append(disposal_id)
    months = [f"{m:%Y-%m}" for m in month_starts(start, end)]
    total = sum(len(v) for v in by_month.values())
    take = min(n, total)
    shares = largest_remainder(take, {m: len(by_month[m]) for m in months}) if total else {m: 0 for m in months}
    rng = np.random.default_rng(seed)
    chosen = []
    for m in months:
        pool = sorted(by_month[m])
        k = min(shares.get(m, 0), len(pool))
        if k:
            chosen += sorted(int(x) for x in rng.choice(pool, size=k, replace=False))
    return chosen, {m: shares.get(m, 0) for m in months}


def preview(session: Session, *, category: str, month: str, n: int, seed: int, as_of: dt.date) -> Sample:
    """The sample as it would be drawn now (nothing saved)."""
    rules = scrutiny_rules()
    chosen_category = rules.get(category)
    if not 1 <= n <= 500:
        raise FieldError("a dip sample is 1 to 500 disposals", field="scrutiny-n")
    month_start = parse_month(month, as_of=as_of)
    start, end = window(month_start)
    candidates = population(session, chosen_category, start, min(end, as_of))
    ids, by_month = draw(candidates, n=n, seed=seed, start=start, end=end)
    return Sample(id=None, category=chosen_category.code, category_name=chosen_category.name,
                  month=f"{month_start:%Y-%m}", seed=seed, requested=n, window_start=start, window_end=end,
                  population=len(candidates), by_month=by_month, items=_items(session, ids, {}))


def _items(session: Session, ids: list[int], verdicts: dict[int, ScrutinyItem]) -> list[SampleItem]:
    if not ids:
        return []
    rows = session.execute(select(Disposal.id, Disposal.person_id, Person.pseudo_id, Offence.description, Disposal.tier,
                                  Disposal.issued_on)
                           .join(Person, Person.id == Disposal.person_id).join(Crime, Crime.id == Disposal.crime_id)
                           .join(Offence, Offence.code == Crime.offence_code).where(Disposal.id.in_(ids))).all()
    by_id = {r[0]: r for r in rows}
    out = []
    for disposal_id in ids:
        r = by_id[disposal_id]
        item = verdicts.get(disposal_id)
        out.append(SampleItem(disposal_id=r[0], person_id=r[1], pseudo_id=r[2], offence=r[3], tier=r[4], issued_on=r[5],
                              verdict=item.verdict if item else None, comment=item.comment if item else None,
                              action=item.action if item else None))
    return out


def get_sample(session: Session, sample_id: int) -> ScrutinySample:
    return fetch(session, ScrutinySample, sample_id, what="scrutiny sample")


def sample_out(session: Session, row: ScrutinySample) -> Sample:
    items = {i.disposal_id: i for i in session.scalars(select(ScrutinyItem).where(ScrutinyItem.sample_id == row.id))}
    ids = sorted(items)
    category = scrutiny_rules().get(row.category)
    by_month: dict[str, int] = defaultdict(int)
    for disposal_id, issued_on in session.execute(select(Disposal.id, Disposal.issued_on).where(Disposal.id.in_(ids))):
        by_month[f"{issued_on:%Y-%m}"] += 1
    return Sample(id=row.id, category=row.category, category_name=category.name, month=row.month, seed=row.seed,
                  requested=row.requested, window_start=row.window_start, window_end=row.window_end,
                  population=len(population(session, category, row.window_start, row.window_end)),
                  by_month=dict(by_month), items=_items(session, ids, items))


def check_unsaved(session: Session, drawn: Sample) -> None:
    """A panel (category and month) has one sample."""
    existing = session.scalar(select(ScrutinySample).where(ScrutinySample.category == drawn.category,
                                                           ScrutinySample.month == drawn.month))
    if existing is not None:
        raise Conflict(f"the {drawn.category_name.lower()} panel for {drawn.month} already has sample #{existing.id}",
                       current=sample_out(session, existing).model_dump(mode="json"))


def save_sample(session: Session, drawn: Sample, *, by: str, at: dt.datetime | None = None) -> Sample:
    check_unsaved(session, drawn)
    row = ScrutinySample(category=drawn.category, month=drawn.month, seed=drawn.seed, requested=drawn.requested,
                         window_start=drawn.window_start, window_end=drawn.window_end,
                         rules_version=scrutiny_rules().version, made_by=by, made_at=at or dt.datetime.now(dt.UTC))
    session.add(row)
    session.flush()
    session.add_all(ScrutinyItem(sample_id=row.id, disposal_id=i.disposal_id) for i in drawn.items)
    session.flush()
    return sample_out(session, row)


def check_verdict(session: Session, sample: ScrutinySample, *, disposal_id: int, verdict: str) -> ScrutinyItem:
    scrutiny_rules().verdict(verdict)
    item = session.get(ScrutinyItem, (sample.id, disposal_id))
    if item is None:
        raise FieldError(f"disposal #{disposal_id} is not in sample #{sample.id}", field="scrutiny-disposal")
    return item


def record_verdict(session: Session, item: ScrutinyItem, *, verdict: str, comment: str | None, action: str | None,
                   by: str) -> ScrutinyItem:
    item.verdict, item.comment, item.action, item.decided_by = verdict, comment, action, by
    session.flush()
    return item


def report(session: Session) -> ScrutinyReport:
    """Per saved sample: how many the panel reviewed, how many it found appropriate (with or
    without comments), the share and its 95% Wilson interval, and the actions it set."""
    rules = scrutiny_rules()
    appropriate = {v.code for v in rules.verdicts if v.counts_as_appropriate}
    rows = []
    for sample in session.scalars(select(ScrutinySample).order_by(ScrutinySample.month, ScrutinySample.category)):
        items = list(session.scalars(select(ScrutinyItem).where(ScrutinyItem.sample_id == sample.id,
                                                               ScrutinyItem.verdict.is_not(None))))
        k, n = sum(i.verdict in appropriate for i in items), len(items)
        low, high = proportion_confint(k, n, alpha=0.05, method="wilson") if n else (None, None)
        rows.append(ReportRow(sample_id=sample.id, month=sample.month, category=sample.category,
                              category_name=rules.get(sample.category).name, reviewed=n, appropriate=k,
                              share=k / n if n else None, low=low, high=high,
                              actions=sorted({i.action for i in items if i.action})))
    return ScrutinyReport(rows=rows, method="share appropriate (appropriate, or appropriate with comments) of the "
                                             "disposals reviewed, with a 95% Wilson score interval (statsmodels)")


def report_csv(found: ScrutinyReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(("month", "category", "reviewed", "appropriate", "percent_appropriate", "wilson_low", "wilson_high",
                     "actions"))
    for r in found.rows:
        writer.writerow([csv_cell(v) for v in (
            r.month, r.category_name, r.reviewed, r.appropriate, "" if r.share is None else f"{100 * r.share:.0f}",
            "" if r.low is None else f"{100 * r.low:.1f}", "" if r.high is None else f"{100 * r.high:.1f}",
            "; ".join(r.actions))])
    return out.getvalue()
