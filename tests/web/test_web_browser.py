"""Browser tests: Debian's chromium through Playwright against a live server on loopback.

Log in, open the caseload, open a person, override a selection with a reason, and find the
override in the audit log as an administrator; a screenshot of each page goes to
test-artifacts/."""

from __future__ import annotations


import pytest



pytestmark = pytest.mark.browser
scoring = pytest.importorskip("iom.scoring.service")


@pytest.fixture
def live_server(serve, people, credentials):
    return serve(score=True), people, credentials["password"]


def _sign_in(page, base: str, username: str, purpose: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Purpose of this session").select_option(purpose)
    page.get_by_role("button", name="Sign in").click()


def test_override_journey_ends_in_the_audit_log(page, live_server, artifacts):
    base, people, password = live_server
    _sign_in(page, base, "om_lbm", "case management", password)
    page.wait_for_url(f"{base}/caseload")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Caseload")
    assert page.get_by_role("link", name="Zebedee Quartermaine").is_visible()
    page.screenshot(path=str(artifacts / "caseload.png"), full_page=True)

    page.get_by_role("link", name="Zebedee Quartermaine").click()
    page.wait_for_url(f"{base}/people/{people.birmingham}")
    assert page.get_by_role("heading", name="Timeline").is_visible()
    assert "Murder" in page.content()
    page.screenshot(path=str(artifacts / "person.png"), full_page=True)

    page.goto(f"{base}/dashboard")
    page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)

    page.goto(f"{base}/selection/BN")
    page.get_by_role("link", name="Override the selection of PSEUDO0001").click()
    page.get_by_label("Exclude from the cohort").check()
    page.get_by_label("Reason (professional judgement, recorded and audited)").fill("Moved to supported housing out of area")
    page.get_by_role("button", name="Record override").click()
    page.wait_for_url(f"{base}/selection/BN#overrides")
    assert "Moved to supported housing out of area" in page.content()
    page.screenshot(path=str(artifacts / "selection.png"), full_page=True)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base}/login")

    _sign_in(page, base, "admin", "audit review", password)
    page.wait_for_url(f"{base}/audit")
    page.get_by_label("Action").select_option("write")
    page.get_by_role("button", name="Search").click()
    row = page.locator("tbody tr").filter(has_text="override")
    assert row.count() == 1
    text = row.inner_text()
    assert "om_lbm" in text and "Moved to supported housing out of area" in text and "case management" in text
    page.screenshot(path=str(artifacts / "audit.png"), full_page=True)


def test_keyboard_user_can_skip_to_content(page, live_server):
    base, _, _ = live_server
    page.goto(f"{base}/login")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "username"
