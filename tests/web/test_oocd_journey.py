"""Browser journey: a supervisor decides a community resolution on the person page's Diversion
tab, adds a condition, authorises it as a sergeant, issues it and marks the condition complied
("complied"); then a conditional caution of another crime whose condition is not complied with
("breached", with prosecution offered), in Debian's chromium against a live server.
Screenshots go to test-artifacts/ (``oocd-*.png``)."""

from __future__ import annotations

import re

import pytest

from iom.diversion.service import PUBLISHED_TABLE_A
from tests.web.browser_steps import sign_in
from tests.web.test_oocd_pages import crimes  # noqa: F401 (the fixture: the Birmingham person's crimes)

pytestmark = pytest.mark.browser

DIVERSION_TAB = re.compile(r"tab=diversion(#[\w-]+)?$")


def _submit(page, button) -> None:
    """Click a form's button and wait for the Diversion tab it leads back to, with no error."""
    with page.expect_navigation(url=DIVERSION_TAB):
        (page.locator(button) if isinstance(button, str) else button).click()
    assert page.locator(".govuk-error-summary").count() == 0, page.locator(".govuk-error-summary").inner_text()


def _choose_crime(page, crime_id: int) -> None:
    """The crime: a list of the person's crimes when the record offers one, else its id."""
    crime = page.locator("#oocd-crime")
    if crime.evaluate("e => e.tagName") == "SELECT":
        crime.select_option(str(crime_id))
    else:
        crime.fill(str(crime_id))


def _decide(page, crime_id: int, tier: str, rationale: str, *, intervention: bool = False) -> int:
    """The decision form filled in and sent; the id of the disposal it made."""
    _choose_crime(page, crime_id)
    page.locator("#oocd-tier").select_option(tier)
    page.get_by_label("Admits the offence").check()
    page.get_by_label("Agrees to the disposal and its conditions").check()
    if intervention:
        page.get_by_label("An intervention that could reduce the offending is available").check()
    page.locator("#oocd-rationale").fill(rationale)
    _submit(page, "#oocd-decide-submit")
    card = page.locator(".govuk-summary-card", has_text=f"(crime #{crime_id})")
    assert card.count() == 1
    return int(card.get_attribute("id").removeprefix("oocd-"))


def _add_condition(page, disposal: int, kind: str, text: str) -> None:
    page.locator(f"#oocd-{disposal}-add-condition").click()  # opens the details
    page.locator(f"#oocd-{disposal}-condition-kind").select_option(kind)
    page.locator(f"#oocd-{disposal}-condition-description").fill(text)
    _submit(page, f"#oocd-{disposal}-condition-submit")
    assert text in page.locator(f"#oocd-{disposal}-conditions-table").inner_text()


def _status(page, disposal: int) -> str:
    return page.locator(f"#oocd-{disposal}-status").inner_text().strip().lower()  # MoJ badges are in capitals


def _authorise_and_issue(page, disposal: int, rank: str) -> None:
    page.locator(f"#oocd-{disposal}-rank").select_option(rank)
    _submit(page, f"#oocd-{disposal}-authorise")
    assert _status(page, disposal) == "authorised"
    assert f"({rank})" in page.locator(f"#oocd-{disposal}-decision").inner_text()
    _submit(page, f"#oocd-{disposal}-issue")
    assert _status(page, disposal) == "issued"


def test_a_supervisor_takes_one_disposal_to_complied_and_another_to_breached(page, serve, crimes, credentials,  # noqa: F811
                                                                              artifacts):
    base = serve()
    sign_in(page, base, "sup_lbm", credentials["password"])
    page.goto(f"{base}/people/{crimes.person}")
    with page.expect_navigation(url=DIVERSION_TAB):
        page.get_by_role("navigation", name="Parts of the record").get_by_role("link", name="Diversion").click()
    assert page.get_by_role("heading", name="Out-of-court disposals").is_visible()
    assert page.locator("#oocd-none").is_visible()

    # A refusal first: nothing admitted, the words by the field and what was typed kept.
    _choose_crime(page, crimes.summary)
    page.locator("#oocd-tier").select_option("community_resolution")
    page.locator("#oocd-rationale").fill("kept when refused")
    with page.expect_navigation():
        page.locator("#oocd-decide-submit").click()
    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible() and "no admission" in summary.inner_text()
    assert page.locator("#oocd-rationale").input_value() == "kept when refused"
    page.screenshot(path=str(artifacts / "oocd-refused.png"), full_page=True)

    first = _decide(page, crimes.summary, "community_resolution", "first offence, admitted; the owner agrees")
    assert _status(page, first) == "proposed"
    assert "Sergeant" in page.locator(f"#oocd-{first}-authority").inner_text()
    _add_condition(page, first, "reparative", "Pay for the damaged wing mirror")
    page.screenshot(path=str(artifacts / "oocd-proposed.png"), full_page=True)
    _authorise_and_issue(page, first, "sergeant")
    condition = page.locator(f"#oocd-{first}-conditions-table tbody tr").first
    assert "pending" in condition.inner_text().lower()
    _submit(page, condition.get_by_role("button", name=re.compile(r"^Complied")))
    assert _status(page, first) == "complied"
    assert "complied" in page.locator(f"#oocd-{first}-conditions-table").inner_text().lower()
    history = page.locator(f"#oocd-{first}-history").inner_text().lower()
    assert all(step in history for step in ("proposed", "authorised", "issued", "complied"))
    page.screenshot(path=str(artifacts / "oocd-complied.png"), full_page=True)

    second = _decide(page, crimes.assault, "conditional_caution", "assault admitted; course available",
                     intervention=True)
    assert second != first and _status(page, second) == "proposed"
    _add_condition(page, second, "rehabilitative", "Attend an anger management course")
    _authorise_and_issue(page, second, "inspector")
    condition = page.locator(f"#oocd-{second}-conditions-table tbody tr").first
    _submit(page, condition.get_by_role("button", name=re.compile(r"^Not complied")))
    assert _status(page, second) == "breached"
    assert "failed" in page.locator(f"#oocd-{second}-conditions-table").inner_text().lower()
    assert page.locator(f"#oocd-{second}-prosecute").is_visible()
    assert page.locator(f"#oocd-{second}-fine").count() == 0
    assert _status(page, first) == "complied"  # the first is as it was
    page.screenshot(path=str(artifacts / "oocd-breached.png"), full_page=True)

    # Table A counts the two issued disposals in 2018/19, beside the paper's figures.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Out-of-court disposals").click()
    page.wait_for_url(re.compile(r"/oocd$"))
    assert page.locator("#tablea-2018-adult_cr").inner_text() == "1"
    assert page.locator("#tablea-2018-adult_caution").inner_text() == "1"
    assert page.locator("#tablea-2018-total-paper").inner_text() == f"{PUBLISHED_TABLE_A[2018][1]:,}"
    page.screenshot(path=str(artifacts / "oocd-table-a.png"), full_page=True)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Scrutiny panel").click()
    page.wait_for_url(re.compile(r"/scrutiny$"))
    assert page.get_by_role("heading", name="Draw a dip sample").is_visible()
    page.screenshot(path=str(artifacts / "oocd-scrutiny.png"), full_page=True)
