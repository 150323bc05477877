"""The session-signing secret and the audit key: required in production; in development a
throwaway session secret per process and a fixed, public audit key.

Read through ``iom.config.Settings`` (``IOM_SECRET_KEY``, ``IOM_AUDIT_KEY``, ``IOM_ENV``, or a
``.env`` file), each time they are asked for, so a changed environment is seen."""

from __future__ import annotations

import logging
import os
import secrets
from functools import lru_cache

from iom.config import Settings
from iom.errors import UserError

log = logging.getLogger(__name__)

#: Values copied from examples that must never sign a real session.
PLACEHOLDERS = {"", "changethis", "change-me", "changeme", "secret", "please-change", "dev", "development"}
MIN_LENGTH = 32


def is_development() -> bool:
    return Settings().env.strip().lower() in {"development", "dev"}


def secret_key() -> str:
    """``IOM_SECRET_KEY``, refusing a missing or placeholder value outside development."""
    key = Settings().secret_key.get_secret_value().strip()
    if key.lower() not in PLACEHOLDERS and len(key) >= MIN_LENGTH:
        return key
    if is_development():
        log.warning("IOM_SECRET_KEY is missing or a placeholder: using a random key for this process only")
        return secrets.token_urlsafe(48)
    raise UserError(
        "IOM_SECRET_KEY is missing or a placeholder: set it to a random value of at least "
        f"{MIN_LENGTH} characters (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`), "
        "or set IOM_ENV=development to use a throwaway key"
    )


#: The audit key of development databases. Public (it is in the source), so a chain keyed with
#: it proves nothing: refused outside development like a placeholder.
DEVELOPMENT_AUDIT_KEY = "iom-DEVELOPMENT-ONLY-audit-key-public-never-use-in-production"


def audit_key() -> bytes:
    """``IOM_AUDIT_KEY``, refusing a missing or placeholder value outside development. Unlike
    the session secret it cannot be random per process: every process appending to one log,
    and every later ``iom audit verify``, must hold the same key. Asked for on every append,
    so it is worked out once per value of the environment (reading ``.env`` costs 0.3 ms)."""
    return _audit_key(os.environ.get("IOM_AUDIT_KEY"), os.environ.get("IOM_ENV"))


@lru_cache(maxsize=8)
def _audit_key(_key: str | None, _env: str | None) -> bytes:
    key = Settings().audit_key.get_secret_value().strip()
    if key.lower() not in PLACEHOLDERS and len(key) >= MIN_LENGTH and key != DEVELOPMENT_AUDIT_KEY:
        return key.encode("utf-8")
    if is_development():
        log.warning("IOM_AUDIT_KEY is missing or a placeholder: chaining the audit log with the public "
                    "development key, which proves nothing")
        return DEVELOPMENT_AUDIT_KEY.encode("utf-8")
    raise UserError(
        "IOM_AUDIT_KEY is missing or a placeholder: set it to a random value of at least "
        f"{MIN_LENGTH} characters, kept outside the database and the same for every process using it "
        "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`), "
        "or set IOM_ENV=development to use the public development key"
    )
