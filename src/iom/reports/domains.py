"""The board paper's sections from the operational domains: the cohort, the month's
domestic-abuse list, Table A, the scrutiny panel, MAPPA panels due and the cohort framework.
Each is read through one audited access (the paper is a bulk read) and appears only when its
domain has data."""

from __future__ import annotations

import datetime as dt
import html

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from iom.casefile.access import Access
from iom.formatting import percent
from iom.reports.service import Section, _table


def _rows(records: list[dict]) -> str:
    return _table(pd.DataFrame(records))


def cohort_section(session: Session, as_of: dt.date) -> Section:
    from iom.register.service import summary

    found = summary(session, as_of)
    s = Section("The IOM cohort", "iom.register.service.summary")
    s.headline = (f"{found.current_members:,} people were in the IOM cohort on {as_of:%d %B %Y} "
                  f"(risk: {', '.join(f'{n:,} {level.lower()}' for level, n in found.risk.items())}).")
    s.paragraphs.append(html.escape(s.headline + " One person can be in several classifications, so the "
                                    "classifications add up to more than the cohort."))
    s.tables.append(_rows([{"Classification": code, "Members": n} for code, n in found.classifications.items()]))
    s.tables.append(_rows([{"NPU": code, "Members": n} for code, n in found.members_by_npu.items()]))
    return s


def domestic_abuse_section(access: Access) -> Section | None:
    from iom.domestic_abuse import views
    from iom.domestic_abuse.models import DashAssessment

    if not access.session.scalar(select(func.count()).select_from(DashAssessment)):
        return None
    found = views.monthly_list(access, month=None)
    s = Section(f"Domestic abuse: the {found.month} list", "iom.domestic_abuse.views.monthly_list")
    s.headline = f"{found.summary()}."
    s.paragraphs.append(html.escape(f"Made on {found.produced_on:%d %B %Y} over {found.window_start:%d %B %Y} to "
                                    f"{found.window_end:%d %B %Y} ({found.rules_version}). {found.not_at_marac:,} "
                                    "people on the list have not been to MARAC."))
    s.tables.append(_rows([{"List": x.label, "People": x.count, "Not at MARAC": x.not_at_marac}
                           for x in found.sections]))
    return s


def table_a_section(access: Access, as_of: dt.date) -> Section | None:
    from iom.diversion import views
    from iom.diversion.models import Disposal

    if not access.session.scalar(select(func.count()).select_from(Disposal)):
        return None
    last = as_of.year if as_of.month >= 4 else as_of.year - 1
    found = views.volumes(access, [last - 1, last])
    s = Section("Diversion: out-of-court disposals (Table A)", "iom.diversion.views.volumes")
    rows = []
    for row in found.rows:
        rows.append({"Financial year": row.label, **{found.labels[k]: row.counts[k] for k in found.labels},
                     "Total": row.total})
        if row.published is not None:
            rows.append({"Financial year": f"{row.label}, published", **{found.labels[k]: row.published[k]
                                                                        for k in found.labels},
                         "Total": row.published_total})
    s.tables.append(_rows(rows))
    newest = found.rows[-1]
    s.headline = f"{newest.total:,} out-of-court disposals were issued in {newest.label}."
    s.paragraphs += [html.escape(words) for words in found.statements]
    return s


def scrutiny_section(access: Access) -> Section | None:
    from iom.diversion import views

    found = views.report(access)
    if not found.rows:
        return None
    s = Section("The scrutiny panel's dip samples", "iom.diversion.views.report")
    s.tables.append(_rows([{
        "Panel": r.month, "Category": r.category_name, "Reviewed": r.reviewed, "Appropriate": r.appropriate,
        "Share appropriate (95%)": f"{percent(r.share, 0)} ({percent(r.low, 0)} to {percent(r.high, 0)})",
        "Actions": "; ".join(r.actions) or "none"} for r in found.rows]))
    reviewed = sum(r.reviewed for r in found.rows)
    fine = sum(r.appropriate for r in found.rows)
    s.headline = (f"The scrutiny panel found {fine:,} of {reviewed:,} sampled disposals appropriate "
                  f"({percent(fine / reviewed if reviewed else None, 0)}).")
    s.paragraphs.append(html.escape(found.method))
    return s


def mappa_section(access: Access) -> Section | None:
    from iom.mappa import views

    found = views.due(access)
    if not found.rows and not found.overdue and not found.due:
        return None
    s = Section("MAPPA panels due", "iom.mappa.views.due")
    s.headline = f"{found.summary()}."
    s.paragraphs.append(html.escape(f"{found.summary()} as of {found.as_of:%d %B %Y} ({found.rules_version})."))
    return s


def framework_section(access: Access) -> Section | None:
    from iom.cohort_framework import views

    units = views.consistency(access)
    if not units:
        return None
    work = views.workload(access)
    review = views.reset_review(access)
    s = Section("Consistency across LOMUs and officers' workloads",
                "iom.cohort_framework.views.consistency, workload, reset_review")
    s.tables.append(_rows([{
        "LOMU": u.lomu_code, "Members": u.members, "Officers": u.officers,
        "Members per officer": "–" if u.members_per_officer is None else f"{u.members_per_officer:.1f}",
        "Adopted in 12 months": percent(u.adoption_rate), "Left in 12 months": percent(u.exit_rate),
        "Eligibility lapsed": percent(u.lapsed_share)} for u in units]))
    s.headline = f"Officers: {work.summary()}. {review.summary().capitalize()}."
    s.paragraphs.append(html.escape(s.headline))
    return s
