"""Render a sample alert email (HTML) and screenshot it with headless Chromium.

Rules:
- the sample is built from a real sentence of seed 001 (the one that fires `nk_russia_troops`),
  rendered by ``flows.alerts.notify.render(msg, "email")``: exactly what a mailbox receives as HTML;
- Chromium runs headless with every background service off (no network besides the file://
  page), in a throw-away profile directory;
- usage: ``python scripts/render_email_png.py [--html OUT.html] [--png docs/alert-email.png]``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flows.alerts.notify import AlertMessage, TopicEvidence, render  # noqa: E402

SEED = ROOT / "seeds" / "001_1a712498a06baaf9.txt"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars",
]


def sample_message() -> AlertMessage:
    """An alert on seed 001: its headline and the sentence that reports troops in Russia."""
    text = SEED.read_text(encoding="utf-8")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    title = lines[1]  # lines[0] is the site's breadcrumb
    sentence = next(s for s in re.split(r"(?<=\.)\s+", text) if "نشر كوريا الشمالية لقواتها" in s).strip()
    return AlertMessage(
        title=title,
        url="https://news.example.org/world/2024/11/01/korea-us-ministers.html",
        outlets=["وكالة يونهاب"],
        published="2024-11-01 04:01 UTC",
        topics=[TopicEvidence("nk_russia_troops", "قوات كورية شمالية في روسيا",
                              [{"sentence": sentence, "phrases": ["نشر كوريا الشمالية لقواتها", "روسيا"]}])],
    )


def email_html(msg: AlertMessage | None = None) -> str:
    return render(msg or sample_message(), "email").body


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def run_chromium(args: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium with a fresh profile; raises if it is not installed."""
    exe = chromium()
    if exe is None:
        raise RuntimeError("chromium is not installed")
    with tempfile.TemporaryDirectory(prefix="raqib-chromium-") as profile:
        return subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=timeout, check=True)


def screenshot(html_file: Path, png: Path, size: str = "800,900") -> None:
    png.parent.mkdir(parents=True, exist_ok=True)
    run_chromium([f"--screenshot={png.resolve()}", f"--window-size={size}", html_file.resolve().as_uri()])
    if not png.is_file() or png.stat().st_size == 0:
        raise RuntimeError("chromium wrote no screenshot")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--html", type=Path, help="where to keep the HTML (default: a temporary file)")
    ap.add_argument("--png", type=Path, default=ROOT / "docs" / "alert-email.png")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="raqib-email-") as tmp:
        html_file = args.html or Path(tmp) / "alert-email.html"
        html_file.write_text(email_html(), encoding="utf-8")
        screenshot(html_file, args.png)
    print(f"wrote {args.png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
