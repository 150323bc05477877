"""Browser journeys (issue 10's acceptance): Debian's chromium through Playwright against a
live server on loopback, on the small sample database, each journey on its own data.

- an offender manager's day: sign in, their own caseload with overdue reviews flagged, find a
  person by surname, read page 2 of the timeline, add a note;
- an override: a bad date re-shows the form with the reason kept, the corrected override does
  not change the selection until a supervisor approves it, then the person is excluded;
- an axe-core scan (``node_modules/axe-core``, a devDependency) of the caseload, a person
  page, the override form and an error page: no serious or critical violation;
- the person page of a very prolific person stays under 3,000 px tall at 1366 px wide.

Screenshots go to test-artifacts/ (``journey-*.png``)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from iom.db import session_scope
from iom.register.models import Crime
from iom.security import service as users
from iom.synth import sample
from tests.web.browser_steps import sign_in

pytestmark = pytest.mark.browser
scoring = pytest.importorskip("iom.scoring.service")

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BURGLARIES = ("028/01", "030/01", "030/02", "028/04")


def _add_crimes(engine, person_id: int, count: int, first: dt.date, days: int, tag: str) -> None:
    """``count`` burglaries for one person, spread evenly over ``days`` from ``first``."""
    with session_scope(engine) as session:
        for i in range(count):
            on = first + dt.timedelta(days=i * days // count)
            session.add(Crime(source_id=f"journey-{tag}-{i}", person_id=person_id, involvement="offender",
                              committed_on=on, recorded_on=on + dt.timedelta(days=2),
                              offence_code=BURGLARIES[i % len(BURGLARIES)], npu_code="BN",
                              outcome="charge", outcome_on=on + dt.timedelta(days=30)))


def _selection_row(page, base: str, person_id: int) -> dict:
    response = page.request.get(f"{base}/api/v1/selection/BN")
    assert response.ok, response.text()
    return next(r for r in response.json()["rows"] if r["person_id"] == person_id)


def test_an_offender_managers_day(page, serve, web_db, credentials, artifacts):
    engine, people = web_db
    with session_scope(engine) as session:
        users.link_officer(session, username="om_lbm", officer="PC Sample")
    _add_crimes(engine, people.birmingham, 30, dt.date(2016, 1, 10), 900, "day")
    base = serve()

    sign_in(page, base, "om_lbm", credentials["password"])
    page.wait_for_url(re.compile(re.escape(base) + r"/caseload"))
    assert page.get_by_role("heading", level=1).inner_text() == "My caseload: PC Sample"
    assert page.get_by_role("heading", name="Needs attention").is_visible()
    assert page.get_by_role("link", name="Reviews overdue").is_visible()
    row = page.locator("tbody tr").filter(has_text="Zebedee Quartermaine")
    assert row.locator(".iom-overdue").inner_text().startswith("Overdue:")
    page.screenshot(path=str(artifacts / "journey-caseload.png"), full_page=True)

    page.get_by_label("Find").fill("Quartermaine")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"q=Quartermaine"))
    names = page.locator("tbody tr td:first-child a").all_inner_texts()
    assert names == ["Zebedee Quartermaine"]
    page.get_by_role("link", name="Zebedee Quartermaine").click()
    page.wait_for_url(f"{base}/people/{people.birmingham}")
    assert page.get_by_role("heading", level=1).inner_text() == "Zebedee Quartermaine"
    page.screenshot(path=str(artifacts / "journey-person.png"), full_page=True)

    page.get_by_role("navigation", name="Parts of the record").get_by_role("link", name="Timeline").click()
    page.wait_for_url(re.compile(r"tab=timeline"))
    assert page.locator("section[aria-labelledby=timeline] tbody tr").count() == 25
    total = int(re.search(r"(\d+) events, newest first", page.content()).group(1))
    assert total > 25
    page.get_by_role("link", name="Next page").click()
    page.wait_for_url(re.compile(r"timeline_page=2"))
    assert "Page 2 of 2" in page.locator(".iom-page-of").inner_text()
    second = page.locator("section[aria-labelledby=timeline] tbody tr")
    assert second.count() == total - 25
    assert page.get_by_role("link", name="Previous page").is_visible()
    page.screenshot(path=str(artifacts / "journey-timeline-page-2.png"), full_page=True)

    page.get_by_role("navigation", name="Parts of the record").get_by_role("link", name="Overview").click()
    page.wait_for_url(re.compile(rf"/people/{people.birmingham}\?tab=overview"))
    page.get_by_label("New note").fill("Seen at the probation office, engaging well")
    page.get_by_role("button", name="Add note").click()
    page.wait_for_load_state()
    notes = page.locator(".iom-notes li")
    assert "Seen at the probation office, engaging well" in notes.first.inner_text()
    assert "om_lbm" in notes.first.inner_text()
    page.screenshot(path=str(artifacts / "journey-note-added.png"), full_page=True)


def test_an_override_applies_only_once_a_supervisor_approves_it(page, browser, serve, web_db, credentials, artifacts):
    _, people = web_db
    base = serve(score=True)
    reason = "Moved to supported housing out of area"

    sign_in(page, base, "om_lbm", credentials["password"])
    page.wait_for_url(re.compile(re.escape(base) + r"/caseload"))
    before = _selection_row(page, base, people.birmingham)
    assert before["decision"] != "exit"

    page.goto(f"{base}/selection/BN")
    page.get_by_role("link", name="Override the selection of PSEUDO0001").click()
    page.wait_for_url(re.compile(r"/selection/BN/override\?"))
    assert page.get_by_label("Exclude from the cohort").is_checked()
    page.get_by_label("Reason (professional judgement, recorded and audited)").fill(reason)
    page.get_by_label("In force until").fill("2019-02-30")
    page.get_by_role("button", name="Record override").click()
    page.wait_for_load_state()
    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible() and "There is a problem" in summary.inner_text()
    assert summary.get_by_role("link").first.get_attribute("href") == "#until"
    assert page.get_by_label("Reason (professional judgement, recorded and audited)").input_value() == reason
    assert page.get_by_label("In force until").input_value() == "2019-02-30"
    page.screenshot(path=str(artifacts / "journey-override-error.png"), full_page=True)

    page.get_by_label("In force until").fill("2019-06-30")
    page.get_by_role("button", name="Record override").click()
    page.wait_for_url(f"{base}/selection/BN#overrides")
    assert reason in page.content()
    pending = _selection_row(page, base, people.birmingham)
    assert (pending["decision"], pending["reason"]) == (before["decision"], before["reason"]), "not before approval"
    page.screenshot(path=str(artifacts / "journey-override-pending.png"), full_page=True)

    supervisor = browser.new_context()
    try:
        sup = supervisor.new_page()
        sign_in(sup, base, "sup_lbm", credentials["password"])
        sup.wait_for_url(re.compile(re.escape(base) + r"/caseload"))
        sup.goto(f"{base}/approvals")
        row = sup.locator("tbody tr").filter(has_text=reason)
        assert row.count() == 1 and "om_lbm" in row.inner_text()
        sup.screenshot(path=str(artifacts / "journey-approvals.png"), full_page=True)
        row.get_by_role("button", name=re.compile(r"^Approve #\d+$")).click()
        sup.wait_for_load_state()
        assert sup.locator("tbody tr").filter(has_text=reason).count() == 0
    finally:
        supervisor.close()

    after = _selection_row(page, base, people.birmingham)
    assert after["decision"] == "exit" and "excluded by override" in after["reason"]
    page.goto(f"{base}/selection/BN")
    page.screenshot(path=str(artifacts / "journey-override-approved.png"), full_page=True)


def _axe(page) -> list[dict]:
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => JSON.stringify((await axe.run(document)).violations)")
    return json.loads(result)


def test_axe_finds_no_serious_accessibility_violations(browser, serve, web_db, credentials, artifacts):
    if not AXE.exists():
        pytest.skip("node_modules/axe-core is missing: run `make install` (npm ci)")
    _, people = web_db
    base = serve(score=True)
    # The app's CSP allows no scripts at all; the context bypasses it only to inject axe.
    context = browser.new_context(bypass_csp=True)
    try:
        page = context.new_page()
        sign_in(page, base, "om_lbm", credentials["password"])
        page.wait_for_url(re.compile(re.escape(base) + r"/caseload"))
        pages = {
            "caseload": "/caseload",
            "person": f"/people/{people.birmingham}",
            "override form": f"/selection/BN/override?person_id={people.birmingham}&include=false",
            "error page": "/people/999999",
        }
        serious = []
        for name, path in pages.items():
            page.goto(base + path)
            violations = _axe(page)
            page.screenshot(path=str(artifacts / f"journey-axe-{name.replace(' ', '-')}.png"), full_page=True)
            for v in violations:
                targets = [" ".join(map(str, n["target"])) for n in v["nodes"]]
                line = f"{name} ({path}): {v['impact']} {v['id']}: {v['help']} at {targets}"
                print(line)
                if v["impact"] in ("serious", "critical"):
                    serious.append(line)
            print(f"{name} ({path}): {len(violations)} violation(s)")
        assert not serious, "\n".join(serious)
    finally:
        context.close()


def test_a_prolific_persons_page_stays_short(browser, serve, web_db, credentials, artifacts):
    engine, people = web_db
    _add_crimes(engine, people.birmingham, 160, sample.AS_OF - dt.timedelta(days=3 * 365), 3 * 365 - 10, "prolific")
    base = serve(score=True)
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        page = context.new_page()
        sign_in(page, base, "om_lbm", credentials["password"])
        page.wait_for_url(re.compile(re.escape(base) + r"/caseload"))
        page.goto(f"{base}/people/{people.birmingham}")
        assert page.get_by_role("heading", level=1).inner_text() == "Zebedee Quartermaine"
        events = int(re.search(r"The whole timeline \((\d+) events\)", page.content()).group(1))
        assert events > 160
        parts = int(re.search(r"How the scores are made up \((\d+) parts\)", page.content()).group(1))
        assert parts > 100  # the stored explanation is long too
        height = page.evaluate("document.documentElement.scrollHeight")
        print(f"person page with {events} timeline events (161 crimes): {height} px tall at 1366 px wide")
        page.screenshot(path=str(artifacts / "journey-prolific-person.png"), full_page=True)
        assert height < 3000, f"{height} px"
        page.goto(f"{base}/people/{people.birmingham}?tab=scores")  # for the record: the long tab
        print(f"its scores tab ({parts} parts): {page.evaluate('document.documentElement.scrollHeight')} px")
    finally:
        context.close()
