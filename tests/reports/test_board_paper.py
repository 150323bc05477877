"""The board paper as a PDF: the marking on every page, page numbers, a table of contents with
the pages its parts start on, an executive summary and recommendations computed from the
results, numbers right-aligned; and the operational domains' sections when they have data."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess

import pytest
from PIL import Image

from iom.analytics.sample import random_register
from iom.analytics.source import from_frames
from iom.errors import UserError
from iom.register.service import init_database
from iom.reports.paper import _numbers_right, build_report
from iom.synth.service import generate_force

from tests.conftest import ScratchDatabase

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
                                reason="poppler-utils is not installed (scripts/system-deps installs it)")


def _pages(pdf) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1]


@pytest.fixture(scope="module")
def paper(tmp_path_factory):
    out = tmp_path_factory.mktemp("paper")
    con = from_frames(random_register(seed=2, people=1500))
    build_report(out, con=con, as_of=dt.date(2018, 12, 31), programmes=("oocd-vs-charge",), pdf=True,
                 marking="official")
    return out / "report.pdf"


def test_every_page_carries_the_marking_and_its_number_and_the_contents_give_pages(paper):
    pages = _pages(paper)
    assert len(pages) >= 6
    for number, page in enumerate(pages, start=1):
        assert page.count("OFFICIAL") >= 2, number  # top and bottom of every page (marking upper-cased)
        if number > 1:
            assert f"Page {number} of {len(pages)}" in page
    contents = next(p for p in pages if "Contents" in p)
    listed = dict(re.findall(r"\d+\.\s+(Executive summary|Performance by NPU|Evaluations|Glossary)\s*\.+\s*(\d+)", contents))
    assert set(listed) == {"Executive summary", "Performance by NPU", "Evaluations", "Glossary"}
    for title, page in listed.items():
        assert title in pages[int(page) - 1], (title, page)  # the part starts on the page the contents say


def test_page_one_renders_as_the_title_page(paper, tmp_path):
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(paper), str(tmp_path / "p")], check=True)
    image = Image.open(next(tmp_path.glob("p*.png"))).convert("L")
    dark = sum(1 for v in image.getdata() if v < 128)
    assert dark > 500  # text was drawn, not a blank page
    first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(paper), "-"], capture_output=True, text=True,
                           check=True).stdout
    assert "Integrated Offender Management:\nperformance and evaluation" in first
    assert "Paper for the IOM oversight board" in first and "Page 1 of" not in first


def test_the_summary_and_asks_come_from_the_results(paper):
    text = "\n".join(_pages(paper))
    assert "Executive summary" in text and "The board is asked to note:" in text
    assert "Glossary" in text and "Regression to the mean" in text


def test_numbers_right_headings_in_words():
    table = ('<table><thead><tr style="text-align: right;"><th>npu</th><th>recorded rate (95%)</th></tr></thead>'
             "<tbody><tr><td>WS</td><td>79.4% (76.1%–82.4%)</td></tr><tr><td>BN</td><td>£1,402,260</td></tr></tbody></table>")
    out = _numbers_right(table)
    assert "<th>NPU</th><th>Recorded rate (95%)</th>" in out and "text-align" not in out
    assert '<td>WS</td><td class="num">79.4% (76.1%–82.4%)</td>' in out and '<td class="num">£1,402,260</td>' in out


def test_a_marking_must_be_words(tmp_path):
    with pytest.raises(UserError, match="protective marking"):
        build_report(tmp_path, con=from_frames(random_register(seed=2, people=300)), marking="  ")


def test_the_domains_sections_appear_when_they_have_data(tmp_path):
    db = ScratchDatabase(tmp_path)
    try:
        engine = db.engine()
        init_database(engine)
        generate_force(engine, seed=1, people=3000)
        html = build_report(tmp_path / "out", engine=engine, programmes=()).read_text(encoding="utf-8")
    finally:
        db.drop()
    for heading in ("The IOM cohort", "Diversion: out-of-court disposals (Table A)", "The scrutiny panel&#39;s dip samples",
                    "Domestic abuse: the", "MAPPA panels due", "Courses: referrals, completion and evaluations",
                    "Consistency across LOMUs and officers&#39; workloads"):
        assert heading in html or heading.replace("&#39;", "'") in html, heading
    summary = html.split('id="summary"')[1].split('id="asks"')[0]
    assert re.search(r"\d[\d,]* people were in the IOM cohort on 31 March 2019", summary)
    assert "out-of-court disposals were issued in 2018/19" in summary
