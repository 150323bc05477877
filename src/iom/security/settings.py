"""The session-signing secret: required in production, generated per process in development.

Read through ``iom.config.Settings`` (``IOM_SECRET_KEY``, ``IOM_ENV``, or a ``.env`` file), each
time it is asked for, so a changed environment is seen."""

from __future__ import annotations

import logging
import secrets

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
