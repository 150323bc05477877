"""Settings read from the environment (prefix ``IOM_``), with embedded defaults."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: A list setting written in the environment as comma-separated words (``a,b,c``).
Words = Annotated[list[str], NoDecode]


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
    #: Host names the web app answers to (the ``Host`` header; ``*.example.org`` allowed): any
    #: other is refused with 400, so no page or redirect is ever built on a name a client sent.
    allowed_hosts: Words = ["localhost", "127.0.0.1", "testserver"]
    #: Addresses (or networks) of the reverse proxies whose ``X-Forwarded-For`` and
    #: ``X-Forwarded-Proto`` are believed. None by default: a client cannot name its own address.
    trusted_proxies: Words = []
    #: Sign-in throttle (``iom.web.throttle``): failures counted over this many seconds...
    login_window_seconds: int = Field(900, ge=60, le=86_400)
    #: ...at most this many for one username, from anywhere...
    login_failures_per_user: int = Field(5, ge=1, le=1000)
    #: ...and this many from one client address, whoever they were for (higher: an office or a
    #: proxy is one address for many people).
    login_failures_per_address: int = Field(50, ge=1, le=100_000)
    #: Failed sign-ins from one address written to the audit log one row each per window;
    #: beyond that, one row per address and window says how many there were.
    login_failures_logged_each: int = Field(10, ge=0, le=10_000)

    #: Web worker processes (``iom serve --workers``): each sizes its connection pools from
    #: this and the database's ``max_connections`` (``iom.db.pool_sizes``).
    web_workers: int = Field(1, ge=1, le=64)
    #: Password checks at once per worker (0: the machine's cores divided among the workers);
    #: argon2 spends a core each, and a sign-in waits at most ``signin_wait_seconds`` for a slot
    #: before it is answered 503 with ``Retry-After``.
    signin_slots: int = Field(0, ge=0, le=64)
    signin_wait_seconds: float = Field(5.0, gt=0, le=60)

    #: The analytics' engine (``iom.warehouse``): ``duckdb`` on this machine, or ``spark``.
    engine: Literal["duckdb", "spark"] = "duckdb"
    #: Spark's master when the engine is ``spark``: ``local[2]`` here, or a cluster's URL
    #: (``spark://host:7077``, ``yarn``, ``k8s://https://host:443``).
    spark_master: str = "local[2]"

    @field_validator("allowed_hosts", "trusted_proxies", mode="before")
    @classmethod
    def _words(cls, value):
        if isinstance(value, str):
            return [word.strip() for word in value.split(",") if word.strip()]
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
