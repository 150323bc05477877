"""Settings read from the environment (prefix ``IOM_``), with embedded defaults."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IOM_", env_file=".env", extra="ignore")

    #: SQLAlchemy URL of the operational database. SQLite file by default, no server.
    database_url: str = "sqlite:///iom.db"
    #: Where `iom export` and the analytics put Parquet files when no directory is named.
    data_dir: Path = Path("data")
    #: Rows per batch when streaming imports and bulk inserts.
    batch_size: int = 20_000
    #: Signs the web's session cookies: required outside development (``iom.security.settings``).
    secret_key: SecretStr = SecretStr("")
    #: Keys the audit log's hash chain and signs its checkpoints: required outside development
    #: (``iom.security.settings.audit_key``); kept outside the database it protects.
    audit_key: SecretStr = SecretStr("")
    #: ``development`` allows a throwaway session key and plain-HTTP cookies.
    env: str = ""
    #: A force's own override policy (TOML); default ``scoring/data/override-policy-v1.toml``.
    override_policy: Path | None = None
    #: A folder of a force's own rule files (``iom.rules``): a file there named like a shipped
    #: one (e.g. ``pathways-v1.toml``) is read instead of it.
    rules_dir: Path | None = None


@lru_cache
def get_settings() -> Settings:
    return Settings()
