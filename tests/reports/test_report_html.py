import re
import subprocess
import sys

import pytest

PLAYWRIGHT_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def test_report_is_self_contained_with_every_section(report_path):
    text = report_path.read_text(encoding="utf-8")
    images = re.findall(r'<img alt="[^"]+" src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]+">', text)
    # NPU and classification rates, before/during/after, and the programme's difference and survival charts.
    assert len(images) == 5
    assert "<script" not in text and "http://" not in text and "https://" not in text
    for heading in ("Reoffending by NPU", "Before, during and after adoption", "Programme: oocd-vs-charge",
                    "The seed papers"):
        assert heading in text
    # Where each figure comes from is listed once, at the end, not in the board's reading.
    assert "<p>computed by" not in text
    assert re.search(r"Sources of the figures.*<td>Reoffending by NPU</td><td>iom.analytics.service.reoffending_measures</td>",
                     text, re.S)
    # A programme the data cannot support is reported in words, not as a crash.
    assert re.search(r"Programme: iom-mappa</h3>.*?Not available: programme &#39;iom-mappa&#39;: no treated people", text, re.S)
    assert "46%" in text and "43.8%" in text  # the Table D discrepancy


def test_report_cli_on_empty_database_fails_plainly(fresh_engine, tmp_path):
    url = fresh_engine.url.render_as_string(hide_password=False)
    out = subprocess.run([sys.executable, "-m", "iom.cli", "--db", url, "report", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert "holds no crimes" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.browser
def test_report_renders_every_chart_in_chromium(report_path):
    from pathlib import Path

    if not Path("/usr/bin/chromium").exists():
        pytest.skip("/usr/bin/chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=PLAYWRIGHT_ARGS)
        try:
            page = browser.new_page()
            page.goto(report_path.resolve().as_uri())
            images = page.evaluate(
                "Array.from(document.images).map(i => ({alt: i.alt, complete: i.complete, w: i.naturalWidth, h: i.naturalHeight}))"
            )
            assert len(images) == 5
            for img in images:
                assert img["complete"] and img["w"] > 300 and img["h"] >= 100, img
            assert page.locator("h2").count() >= 7
        finally:
            browser.close()
