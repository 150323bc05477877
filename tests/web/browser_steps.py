"""Steps the browser journeys share."""

from __future__ import annotations

import re


def sign_in(page, base: str, username: str, password: str, purpose: str = "case management") -> None:
    """Sign in through the form and land on the caseload."""
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Purpose of this session").select_option(purpose)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(base) + r"/caseload"))
