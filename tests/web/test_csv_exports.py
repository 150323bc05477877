"""Every CSV export a person opens in a spreadsheet, by every path it leaves by (page, API,
command), shows a cell that begins like a formula as text: the DA list, where a person's name
came from an import, and the scrutiny report, where an action is what a panel member typed.
(The audit log's export has tests of its own.) Each file is read back as a spreadsheet would
read it: no cell may begin with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import update

from iom.db import session_scope
from iom.formatting import FORMULA_STARTS
from iom.register.models import Person
from tests.web.test_da_pages import da  # noqa: F401 (the DA force, as a fixture here too)
from tests.web.test_oocd_pages import crimes, decision, issued  # noqa: F401 (crimes: a fixture)

HOSTILE = '=HYPERLINK("x")'
SRC = Path(__file__).resolve().parents[2] / "src"


def _cells(text: str) -> list[dict]:
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows, "the export has rows"
    bad = [(k, v) for row in rows for k, v in row.items() if v and v.startswith(FORMULA_STARTS)]
    assert bad == [], bad
    return rows


def _iom(engine, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", "COLUMNS": "200"}
    url = engine.url.render_as_string(hide_password=False)
    return subprocess.run([sys.executable, "-m", "iom.cli", "--db", url, *args], capture_output=True, text=True,
                          env=env, timeout=300)


def test_the_da_list_shows_a_formula_for_a_name_as_text(request, login, web_db, tmp_path):
    force = request.getfixturevalue("da")
    engine, _ = web_db
    with session_scope(engine) as session:
        session.execute(update(Person).where(Person.id == force.perp_b).values(given_name=HOSTILE))
    om = login("om_lbm")
    out = tmp_path / "da-list.csv"
    done = _iom(engine, "da", "list", "--month", "2019-03", "--as-of", "2019-03-31", "--csv", str(out), "--user", "om-cli")
    assert done.returncode == 0, done.stderr
    texts = {"page": om.get("/da/list.csv", params={"month": "2019-03"}).text,
             "api": om.get("/api/v1/da/list.csv", params={"month": "2019-03"}).text,
             "command": out.read_text(encoding="utf-8")}
    for path, text in texts.items():
        names = {row["name"] for row in _cells(text) if row["pseudo_id"] == force.pseudo["perp_b"]}
        assert names == {f"'{HOSTILE} Crumplehorn"}, path


def test_the_scrutiny_report_shows_a_formula_for_an_action_as_text(request, login, web_db, tmp_path):
    found = request.getfixturevalue("crimes")
    engine, _ = web_db
    om, sup = login("om_lbm"), login("sup_lbm", purpose="supervision and approval")
    hate = issued(om, sup, found.person, decision(found.summary, "community_resolution"))
    sample = sup.post("/api/v1/scrutiny/samples", json={"category": "hate", "month": "2019-04", "n": 5, "seed": 7})
    assert sample.status_code == 201, sample.text
    verdict = sup.post(f"/api/v1/scrutiny/samples/{sample.json()['id']}/verdicts",
                       json={"disposal_id": hate["id"], "verdict": "appropriate_with_comments",
                             "comment": "proportionate", "action": HOSTILE})
    assert verdict.status_code in (200, 201), verdict.text
    out = tmp_path / "scrutiny.csv"
    done = _iom(engine, "scrutiny", "report", "--csv", str(out), "--user", "panel-cli")
    assert done.returncode == 0, done.stderr
    texts = {"page": sup.get("/scrutiny.csv").text, "api": sup.get("/api/v1/scrutiny/report.csv").text,
             "command": out.read_text(encoding="utf-8")}
    for path, text in texts.items():
        assert [row["actions"] for row in _cells(text)] == [f"'{HOSTILE}"], path
