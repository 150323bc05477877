"""The audit CSV export (``iom audit export``) cannot be turned into a spreadsheet formula:
an unauthenticated client chooses the username of a failed sign-in (issue 17, item 5)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

from iom.db import session_scope
from iom.security import audit
from iom.security.roles import Principal

IOM = Path(sys.executable).with_name("iom")
HOSTILE = '=HYPERLINK("x")'


def test_cli_export_writes_formulas_as_text(fresh_engine, tmp_path):
    for name in (HOSTILE, "+1", "-2", "@SUM(A1)", "\tx", "\rx", "om_plain"):
        audit.record(fresh_engine, actor=Principal(username=name, role="anonymous"), action="login_failed",
                     resource="session", purpose="", detail={"note": "=1+1"})
    out = tmp_path / "audit.csv"
    env = {**os.environ, "IOM_DATABASE_URL": fresh_engine.url.render_as_string(hide_password=False)}
    done = subprocess.run([str(IOM), "audit", "export", str(out)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["username"] for r in rows[:7]] == ["'" + HOSTILE, "'+1", "'-2", "'@SUM(A1)", "'\tx", "'\rx", "om_plain"]
    # every cell a spreadsheet reads, in every row (the export's own row included)
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for cell in r.values())
    # the hashes are over the stored values, which the export leaves as they were
    with session_scope(fresh_engine) as session:
        assert audit.verify(session).ok
        assert audit.search(session, action="login_failed", limit=10)[-1].username == HOSTILE
