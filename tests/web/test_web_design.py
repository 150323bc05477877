"""The GOV.UK design system as the pages' foundation: GOV.UK Frontend and MoJ Frontend's CSS,
fonts and images are served by the app itself (copied to static/vendor/ by ``make install``),
the pages use their markup, and nothing needs JavaScript or another origin.

A browser test signs in, checks the GOV.UK header is visible and styled, that the GDS font
loaded and the CSP refused nothing, and screenshots the caseload and a person page to
test-artifacts/."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest


GOVUK_CSS = "/static/vendor/govuk-frontend.min.css"
MOJ_CSS = "/static/vendor/moj-frontend.min.css"
HINT = "run `make install` (npm ci, then the copy to src/iom/web/static/vendor/)"


def test_pages_link_the_govuk_stylesheets_in_order(login, people):
    om = login("om_lbm")
    for path in ("/caseload", f"/people/{people.birmingham}", "/dashboard", "/selection"):
        page = om.get(path)
        assert page.status_code == 200, path
        links = re.findall(r'<link rel="stylesheet" href="([^"]+)">', page.text)
        assert links == [GOVUK_CSS, MOJ_CSS, "/static/style.css"], path  # project rules last
        assert 'class="govuk-template"' in page.text and "govuk-template__body" in page.text
        assert 'class="govuk-header"' in page.text and ">IOM<" in page.text
        assert 'class="govuk-main-wrapper"' in page.text and 'class="govuk-footer"' in page.text
        assert "<script" not in page.text


def test_sign_in_page_is_govuk_markup(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        page = client.get("/login")
    assert page.status_code == 200
    assert 'class="govuk-input' in page.text and 'class="govuk-select"' in page.text
    assert 'class="govuk-button"' in page.text and 'name="csrf_token"' in page.text


def test_stylesheets_and_fonts_are_served_by_the_app(login):
    om = login("om_lbm")
    css = om.get(GOVUK_CSS)
    assert css.status_code == 200, HINT
    assert css.headers["content-type"].startswith("text/css")
    assert "govuk-header" in css.text and "url(/assets/" not in css.text  # rewritten to our folder
    moj = om.get(MOJ_CSS)
    assert moj.status_code == 200 and moj.headers["content-type"].startswith("text/css"), HINT
    assert om.get("/static/style.css").headers["content-type"].startswith("text/css")

    fonts = re.findall(r"url\((assets/fonts/[^)]+\.woff2)\)", css.text)
    assert fonts, "the GOV.UK stylesheet names its woff2 fonts"
    for font in fonts:
        response = om.get(urljoin(GOVUK_CSS, font))
        assert response.status_code == 200, font
        assert response.headers["content-type"] == "font/woff2", font
        assert response.content[:4] == b"wOF2", font
    images = set(re.findall(r"url\((assets/images/[^)]+)\)", css.text + moj.text))
    assert images
    for image in images:
        assert om.get(urljoin(GOVUK_CSS, image)).status_code == 200, image


def test_csp_allows_own_fonts_and_still_no_scripts(login):
    csp = login("om_lbm").get("/caseload").headers["content-security-policy"]
    assert "font-src 'self'" in csp and "style-src 'self'" in csp and "default-src 'none'" in csp
    assert "script-src" not in csp


def test_error_page_uses_govuk_heading_and_detail(login):
    page = login("om_lbm").get("/people/999999")
    assert page.status_code == 404
    assert '<h1 class="govuk-heading-l">404 Not Found</h1>' in page.text
    assert 'class="govuk-body"' in page.text


# --- in the browser -------------------------------------------------------------------------

@pytest.fixture
def design_server(serve, people, credentials):
    return serve(), people, credentials["password"]


@pytest.mark.browser
def test_govuk_header_and_font_in_the_browser(page, design_server, artifacts):
    base, people, password = design_server
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    failed = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)

    page.goto(f"{base}/login")
    page.get_by_label("Username").fill("om_lbm")
    page.get_by_label("Password").fill(password)
    page.get_by_label("Purpose of this session").select_option("case management")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/caseload")

    header = page.locator("header.govuk-header")
    assert header.is_visible()
    assert header.get_by_role("link", name="IOM").is_visible()
    # GOV.UK's stylesheet applied: the brand blue header and the GDS Transport font, loaded.
    assert header.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(29, 112, 184)"
    assert "GDS Transport" in page.locator("h1").evaluate("e => getComputedStyle(e).fontFamily")
    loaded = page.evaluate("document.fonts.ready.then(fs => [...fs].filter(f => f.family.includes('GDS Transport')"
                           " && f.status === 'loaded').length)")
    assert loaded >= 1, "the GDS Transport font was not loaded from the app"
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Caseload").is_visible()
    assert page.get_by_role("button", name="Sign out").is_visible()
    page.screenshot(path=str(artifacts / "design-caseload.png"), full_page=True)

    page.get_by_role("link", name="Zebedee Quartermaine").click()
    page.wait_for_url(f"{base}/people/{people.birmingham}")
    assert page.locator("dl.govuk-summary-list").first.is_visible()
    assert page.get_by_role("heading", name="Timeline").is_visible()
    assert header.is_visible()
    page.screenshot(path=str(artifacts / "design-person.png"), full_page=True)

    assert not refused, refused
    assert not [u for u in failed if not u.endswith("/favicon.ico")], failed
