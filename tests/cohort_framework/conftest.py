"""Cohort framework fixtures: the web's (the small sample, one user per role, signed-in clients)."""

from tests.web.conftest import _fast_argon2, app, login, password_hash, people, web_db  # noqa: F401
