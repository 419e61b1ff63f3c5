"""Screenshot the archive page with headless Chromium, on a state filled from the seeds.

Rules:
- the state is made by a real cycle over the seeds served on loopback (no Prefect, no outside
  network), with two judgments recorded through the page's own signed forms' code path;
- the page is served by `flows.web.serve` on a free loopback port and loaded by Chromium over
  HTTP (the same flags and throw-away profile as `scripts/render_email_png.py`);
- usage: ``python scripts/render_archive_png.py [--png docs/archive.png] [--size 420,1600]``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "scripts"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from render_email_png import run_chromium  # noqa: E402

from flows.judgments import judge_item  # noqa: E402
from flows.replay.httpserve import free_port  # noqa: E402
from flows.store.feedback import FeedbackLog  # noqa: E402
from flows.web.serve import start_archive_thread  # noqa: E402
from tests.archive_fixtures import alerted, fill_state, seed_site  # noqa: E402


def demo_state(tmp: Path) -> tuple[Path, Path]:
    """(config dir, state dir) of a state with the seeds' alerts and two judgments."""
    config = tmp / "config"
    shutil.copytree(ROOT / "config", config)
    site = seed_site()
    try:
        store = fill_state(tmp / "state", config, site)
    finally:
        site.stop()
    fired = alerted(store)
    log = FeedbackLog(store)
    judge_item(log, fired[("000_9873b17401ff2de5", "nk_russia_troops")], ["nk_russia_troops"], "relevant", "page")
    judge_item(log, fired[("002_536e0786f38f2d02", "extended_deterrence")], ["extended_deterrence"],
               "not-relevant", "page")
    store.close()
    return config, tmp / "state"


def screenshot(url: str, png: Path, size: str) -> None:
    png.parent.mkdir(parents=True, exist_ok=True)
    run_chromium([f"--screenshot={png.resolve()}", f"--window-size={size}", url])
    if not png.is_file() or png.stat().st_size == 0:
        raise RuntimeError("chromium wrote no screenshot")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--png", type=Path, default=ROOT / "docs" / "archive.png")
    ap.add_argument("--size", default="420,1600", help="window WIDTH,HEIGHT (default: a phone's width)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="raqib-archive-") as tmp:
        config, state = demo_state(Path(tmp))
        port = free_port()
        server = start_archive_thread(config, state, port=port)
        try:
            screenshot(f"http://127.0.0.1:{port}/", args.png, args.size)
        finally:
            server.should_exit = True
    print(f"wrote {args.png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
