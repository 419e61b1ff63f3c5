"""The alert email as a browser lays it out: right-to-left (headless Chromium, when installed)."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    not (shutil.which("chromium") or shutil.which("chromium-browser")),
    reason="needs headless Chromium (Debian: apt-get install chromium fonts-noto-core)",
)


def _script():
    spec = importlib.util.spec_from_file_location("render_email_png", ROOT / "scripts" / "render_email_png.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["render_email_png"] = mod
    spec.loader.exec_module(mod)
    return mod


# Run in the page after layout; writes what the browser computed into the DOM for --dump-dom.
PROBE = """<script>
const box = document.querySelector('div');
const h1 = document.querySelector('h1');
const more = document.querySelectorAll('a')[1];
const r = (el) => el.getBoundingClientRect();
const probe = {
  body: getComputedStyle(document.body).direction,
  html: getComputedStyle(document.documentElement).direction,
  blockquote: getComputedStyle(document.querySelector('blockquote')).direction,
  // the short inline "read the full article" link: where does the line put it?
  more_gap_right: r(box).right - r(more).right,
  more_gap_left: r(more).left - r(box).left,
  marks: document.querySelectorAll('mark').length,
  link: h1.querySelector('a').href,
};
const pre = document.createElement('pre');
pre.id = 'probe';
pre.textContent = JSON.stringify(probe);
document.body.appendChild(pre);
</script>"""


@pytest.fixture(scope="module")
def script():
    return _script()


def test_email_lays_out_right_to_left(script, tmp_path: Path) -> None:
    msg = script.sample_message()
    html = script.email_html(msg)
    page = tmp_path / "email.html"
    page.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    out = script.run_chromium(["--dump-dom", page.as_uri()])
    found = re.search(r'<pre id="probe">(.*?)</pre>', out.stdout, re.S)
    assert found, "the probe did not run"
    probe = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert probe["body"] == "rtl" and probe["html"] == "rtl" and probe["blockquote"] == "rtl"
    # A short line hugs the right edge of the card (its padding only), far from the left edge.
    assert probe["more_gap_right"] < 40 and probe["more_gap_left"] > 300, probe
    assert probe["marks"] == 3  # نشر كوريا الشمالية لقواتها, روسيا twice
    assert probe["link"] == msg.url


def test_screenshot_is_written(script, tmp_path: Path) -> None:
    page = tmp_path / "email.html"
    page.write_text(script.email_html(), encoding="utf-8")
    png = tmp_path / "email.png"
    script.screenshot(page, png, size="600,400")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (600, 400)
