"""MAPPA fixtures: the web's (the small sample, one user per role, signed-in clients) and a
helper to run the real ``iom`` command in a subprocess (exit codes as a user sees them)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.web.conftest import _fast_argon2, app, login, password_hash, people, web_db  # noqa: F401

SRC = Path(__file__).resolve().parents[2] / "src"


def run_iom(url: str, *args: str) -> subprocess.CompletedProcess:
    """``python -m iom.cli --db URL ARGS`` with this checkout's sources first on the path."""
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "iom.cli", "--db", url, *args], capture_output=True, text=True,
                          env=env, timeout=300)


@pytest.fixture
def iom_cli():
    return run_iom
