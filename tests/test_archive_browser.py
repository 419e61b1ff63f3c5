"""The archive page in headless Chromium: alerts listed, right-to-left layout that fits a phone,
a real click on a feedback button recorded in the database, the missed form, the screenshot."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

from flows.alerts import feedback_links as fl
from flows.replay.httpserve import free_port
from flows.store.feedback import FeedbackLog
from flows.web.serve import start_archive_thread
from tests.archive_fixtures import MISSED_PATH, alerted, filled_copy, shared_site

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.skipif(not (shutil.which("chromium") or shutil.which("chromium-browser")),
                       reason="needs headless Chromium (Debian: apt-get install chromium fonts-noto-core)"),
    pytest.mark.skipif(importlib.util.find_spec("websockets") is None,
                       reason="needs the websockets package (installed with Prefect) to drive Chromium"),
]


@pytest.fixture
def archive(tmp_path: Path, config_dir: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(fl.KEY_ENV, "browser-test-feedback-key-5c2d1e")
    site = shared_site()
    settings = config_dir / "settings.yaml"
    settings.write_text(settings.read_text(encoding="utf-8") + f"\nallow_hosts: ['{site.base_url.split('//', 1)[1]}']\n",
                        encoding="utf-8")
    store = filled_copy(tmp_path / "state", config_dir)
    port = free_port()
    server = start_archive_thread(config_dir, tmp_path / "state", port=port)
    from tests.cdp import Browser

    browser = Browser(size="420,900")
    try:
        yield browser, f"http://127.0.0.1:{port}/", store, site
    finally:
        browser.close()
        server.should_exit = True
        store.close()


def test_alerts_listed_right_to_left_and_fit_a_phone(archive) -> None:
    browser, url, store, _ = archive
    browser.goto(url)
    assert browser.eval("document.querySelectorAll('article.alert').length") == 7
    assert browser.eval("getComputedStyle(document.documentElement).direction") == "rtl"
    assert browser.eval("getComputedStyle(document.querySelector('article.alert blockquote')).direction") == "rtl"
    # Right to left for real: a headline starts at the card's right edge (its padding only).
    gap = browser.eval("""(() => { const card = document.querySelector('article.alert').getBoundingClientRect();
        const r = document.createRange(); r.selectNodeContents(document.querySelector('article.alert h5 a'));
        const first = r.getClientRects()[0]; return [card.right - first.right, first.left - card.left]; })()""")
    assert gap[0] < 20 and gap[1] >= 0, gap
    # Nothing wider than the phone's screen; evidence marked; the chart drawn; the stylesheet applied.
    assert browser.eval("document.documentElement.scrollWidth <= window.innerWidth")
    assert browser.eval("document.querySelectorAll('article.alert mark').length") >= 7
    assert browser.eval("document.querySelectorAll('#chart svg rect').length") == 3 * 14
    assert browser.eval("getComputedStyle(document.querySelector('.card')).borderRadius") == "6px"


def test_a_click_on_not_relevant_is_recorded(archive) -> None:
    browser, url, store, _ = archive
    item = alerted(store)[("002_536e0786f38f2d02", "extended_deterrence")]
    card = f"#a-{item}-extended_deterrence"
    browser.goto(url)
    assert FeedbackLog(store).judgments() == []
    browser.click(f"{card} button.no")
    browser.wait_for(f"!!document.querySelector('{card} .verdict')")
    rows = FeedbackLog(store).judgments()
    assert [(j.item_id, j.topic, j.verdict, j.source) for j in rows] == [(item, "extended_deterrence", "not-relevant", "page")]
    assert browser.eval(f"document.querySelector('{card} button.no').classList.contains('chosen')")
    assert "0٪ (0/1)" in browser.eval("document.querySelector('#precision').innerText")


def test_the_missed_form_records_a_fetched_article(archive) -> None:
    browser, url, store, site = archive
    browser.goto(url)
    missed = site.base_url + MISSED_PATH
    browser.eval(f"document.querySelector('#missed input[name=url]').value = '{missed}'")
    browser.eval("document.querySelector('#missed select').value = 'nk_russia_troops'")
    browser.click("#missed button")
    browser.wait_for("!!document.querySelector('#message')")
    rows = FeedbackLog(store).judgments()
    assert [(j.url, j.topic, j.verdict) for j in rows] == [(missed, "nk_russia_troops", "missed")]


def test_screenshot_script_writes_a_png(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("render_archive_png", ROOT / "scripts" / "render_archive_png.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["render_archive_png"] = mod
    spec.loader.exec_module(mod)
    png = tmp_path / "archive.png"
    assert mod.main(["--png", str(png), "--size", "420,700"]) == 0
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == (420, 700)
