"""Browser journey (issue 11's acceptance): an offender manager assesses needs, adds a Control
and a Change action, refers to a provider, records a session and completes the referral, in
Debian's chromium against a live server. Screenshots go to test-artifacts/ (``casework-*.png``)."""

from __future__ import annotations

import re

import pytest
from tests.web.browser_steps import sign_in

pytestmark = pytest.mark.browser


REFERRAL_PAGE = re.compile(r"/referrals/\d+(#\w+)?$")
CASE_PLAN_TAB = re.compile(r"tab=casework#\w+$")


def _submit(page, button, to=REFERRAL_PAGE) -> None:
    """Click a form's button and wait for the page it leads to (by default the referral's own)."""
    with page.expect_navigation(url=to):
        (page.locator(button) if isinstance(button, str) else button).click()


def test_an_offender_manager_plans_and_refers(page, serve, web_db, credentials, artifacts):
    _, people = web_db
    base = serve()
    sign_in(page, base, "om_lbm", credentials["password"])
    page.goto(f"{base}/people/{people.birmingham}?tab=casework")
    assert page.get_by_role("heading", name="Needs", exact=True).is_visible()

    page.get_by_text("Assess needs").click()
    page.locator("#level-accommodation-severe").check()
    page.locator("#notes-accommodation").fill("sofa surfing since January")
    page.locator("#level-ete-standard").check()
    page.locator("#level-drugs-none").check()
    _submit(page, page.get_by_role("button", name="Save needs assessment"), to=CASE_PLAN_TAB)
    needs = page.locator("#needs-table")
    assert "sofa surfing since January" in needs.inner_text() and "severe" in needs.inner_text()

    for kind, pathway, text, due in (("control", "Attitudes, thinking and behaviour", "Weekly home visit", "2019-04-07"),
                                     ("change", "Accommodation", "Housing options appointment", "2019-04-10")):
        page.get_by_text("Add an action").click()
        page.locator(f"#kind-{kind}").check()
        page.get_by_label("Pathway").select_option(label=pathway)
        page.get_by_label("What is to be done").fill(text)
        page.locator("#action-due-on").fill(due)
        _submit(page, page.get_by_role("button", name="Add action"), to=CASE_PLAN_TAB)
    plan = page.locator("#plan-table").inner_text()
    assert "Weekly home visit" in plan and "Housing options appointment" in plan
    assert "1 Control (enforcement) and 1 Change (support)" in page.locator("#plan-balance").inner_text()
    page.screenshot(path=str(artifacts / "casework-plan.png"), full_page=True)

    page.goto(f"{base}/people/{people.birmingham}?tab=referrals")
    page.locator("#make-referral").click()
    page.locator("#provider").select_option("accommodation-support")
    page.locator("#pathway").select_option("accommodation")
    page.locator("#reason").fill("Sofa surfing: needs a tenancy before work can start")
    page.locator("#desired-outcomes").fill("Settled accommodation")
    page.locator("#send").check()
    _submit(page, "#make-referral-submit")
    assert page.locator("#referral-status").inner_text().strip().lower() == "sent"
    for action in ("accept", "start"):
        _submit(page, f"#{action}-button")
    page.locator("#session-held-on").fill("2019-03-31")  # the day it started (the working date)
    page.locator("#session-attendance-attended").check()
    page.locator("#session-behaviour").fill("Engaged well")
    _submit(page, "#session-button")
    assert "Engaged well" in page.locator("#referral-sessions").inner_text()
    page.locator("#complete-outcome-0").select_option("achieved")
    _submit(page, "#complete-button")
    assert page.locator("#referral-status").inner_text().strip().lower() == "completed"
    assert "achieved" in page.locator("#referral-outcomes").inner_text().lower()
    page.screenshot(path=str(artifacts / "casework-referral.png"), full_page=True)
