"""Browser journey: an offender manager opens the monthly domestic-abuse list, opens a serial
perpetrator from it, records a DASH with 14 'yes' answers, sees it banded high, refers the
victim's case to MARAC from the DA tab and sees the referral listed, in Debian's chromium against
a live server. Screenshots go to test-artifacts/ (``da-*.png``)."""

from __future__ import annotations

import re

import pytest

from iom.domestic_abuse.rules import dash_rules
from tests.web.browser_steps import sign_in
from tests.web.test_da_pages import da  # noqa: F401 (the fixture: DA incidents in two LOMUs)

pytestmark = pytest.mark.browser


DA_TAB = re.compile(r"tab=domestic_abuse(#[\w-]+)?$")


def _submit(page, button, to=DA_TAB) -> None:
    """Click a form's button and wait for the page it leads to (by default the DA tab)."""
    with page.expect_navigation(url=to):
        (page.locator(button) if isinstance(button, str) else button).click()


def test_an_offender_manager_lists_records_a_dash_and_refers_to_marac(page, serve, da, credentials, artifacts):  # noqa: F811
    base = serve()
    sign_in(page, base, "om_lbm", credentials["password"])
    page.get_by_role("navigation", name="Main").get_by_role("link", name="DA monthly list").click()
    page.wait_for_url(re.compile(r"/da/list$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Domestic abuse monthly list: 2019-03"
    serial = page.locator("#da-table-serial")
    row = serial.locator(f"#da-serial-{da.perp_b}")
    assert row.is_visible() and "Ignatius Crumplehorn" in row.inner_text()
    assert serial.locator(f"#da-serial-{da.perp_w}").count() == 0  # Walsall's perpetrator is not in scope
    assert "not at marac" in row.locator(".moj-badge").first.inner_text().lower()
    assert all(pseudo in row.inner_text() for pseudo in (da.pseudo["vic_b1"], da.pseudo["vic_b2"]))
    parts = row.locator("details .govuk-details__text")
    assert not parts.is_visible()
    row.locator(".da-score").click()  # the RFGV score opens its parts, in words
    assert parts.is_visible() and "Recency" in parts.inner_text() and "gravest" in parts.inner_text()
    page.screenshot(path=str(artifacts / "da-list.png"), full_page=True)

    with page.expect_navigation(url=DA_TAB):
        row.get_by_role("link", name=da.pseudo["perp_b"]).click()
    assert page.get_by_role("heading", name="Domestic abuse", exact=True).is_visible()
    assert "Serial perpetrators" in page.locator("#da-on-list").inner_text()
    assert "No DASH recorded" in page.locator("#da-dash-table").inner_text()

    page.locator("#record-dash").click()
    page.wait_for_url(re.compile(rf"/people/{da.perp_b}/da/dash$"))
    page.locator("#dash-victim").select_option(str(da.vic_b1))
    page.get_by_label("Current or former intimate partner").check()
    for question in dash_rules().questions[:14]:
        page.locator(f"#answer-{question.code}-yes").check()
    page.screenshot(path=str(artifacts / "da-dash-form.png"), full_page=True)
    _submit(page, "#dash-submit")
    dash = page.locator("#da-dash-table tbody tr").first
    assert dash.locator(".dash-band").inner_text().strip() == "High"
    assert "14" in dash.inner_text() and da.pseudo["vic_b1"] in dash.inner_text()
    assert "meets the MARAC DASH criterion" in dash.inner_text()
    page.screenshot(path=str(artifacts / "da-dash.png"), full_page=True)

    page.locator("#refer-marac").click()
    page.wait_for_url(re.compile(rf"/people/{da.perp_b}/da/marac$"))
    page.locator("#marac-victim").select_option(str(da.vic_b1))
    page.locator("#marac-agency").select_option("Police")
    _submit(page, "#marac-submit")
    referral = page.locator("#da-marac-table tbody tr").first
    text = referral.inner_text()
    assert da.pseudo["vic_b1"] in text and "Police" in text
    assert "14 or more 'yes' answers on a DASH" in text
    assert "No MARAC referral" not in page.locator("#da-marac-table").inner_text()
    page.screenshot(path=str(artifacts / "da-marac.png"), full_page=True)
