"""Latency with the shipped defaults: a real `raqib serve` (no --interval, no polling overrides) on
a loopback feed, alerts by email to a local SMTP server (aiosmtpd).

    .venv/bin/python bench/bench_latency_defaults.py        # about 30 minutes

The feed stays quiet until adaptive polling has pushed its interval to the default maximum
(`polling.max_interval_minutes`), then an alerting item appears one second after a poll — the
worst moment — and the time until its email reaches the SMTP server is measured. Prints one JSON
object: first poll after the start, poll gaps, and the latency split into waiting for the poll and
poll to email.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flows.config import Polling  # noqa: E402
from flows.replay.httpserve import Route, StaticServer, free_port  # noqa: E402
from flows.replay.replay_site import ReplayItem, article_path, render_feed, render_page  # noqa: E402


def main() -> None:
    from aiosmtpd.controller import Controller

    arrived: list[float] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
            arrived.append(time.monotonic())
            return "250 OK"

    tmp = Path(tempfile.mkdtemp(prefix="raqib-latency-"))
    smtp_port = free_port()
    ctl = Controller(Handler(), hostname="127.0.0.1", port=smtp_port)
    ctl.start()
    site = StaticServer().start()
    feed = lambda items: site.routes.__setitem__(  # noqa: E731
        "/feed.xml", Route("application/rss+xml; charset=utf-8", render_feed(items, site.base_url, "bench")))
    hits = lambda: site.times_requested("/feed.xml")  # noqa: E731
    feed([])
    cfg = tmp / "config"
    cfg.mkdir()
    for name in ("topics.yaml", "variants.yaml"):
        (cfg / name).write_bytes((ROOT / "config" / name).read_bytes())
    (cfg / "feeds.yaml").write_text(f"feeds:\n  - url: {site.base_url}/feed.xml\n    name: live\n", encoding="utf-8")
    (cfg / "alerts.yaml").write_text(
        f"channels:\n  - name: mail\n    url: 'mailto://127.0.0.1:{smtp_port}?from=raqib@example.org&to=desk@example.org'\n",
        encoding="utf-8")
    # Only what a loopback test needs: the article link may reach this server. Nothing else set.
    (cfg / "settings.yaml").write_text(f"allow_hosts: ['{site.base_url.split('//', 1)[1]}']\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    raqib = str(Path(sys.executable).parent / "raqib")
    cmd = [raqib, "serve", "--config", str(cfg), "--state", str(tmp / "state"), "--port", str(free_port())]
    log = (tmp / "serve.out").open("wb")
    proc = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    t0 = time.monotonic()
    out: dict = {"command": "raqib serve --config DIR --state DIR (shipped defaults)",
                 "max_interval_minutes": Polling().max_interval_minutes}
    try:
        def wait_polls(n: int, limit: float) -> None:
            end = time.monotonic() + limit
            while len(hits()) < n and time.monotonic() < end and proc.poll() is None:
                time.sleep(0.5)
            if len(hits()) < n:
                raise RuntimeError(f"feed polled {len(hits())} times, wanted {n}")

        wait_polls(1, 300)
        out["first_poll_after_start_s"] = round(hits()[0] - t0, 1)
        # Quiet polls double the interval: 5 -> 10 -> 15 (the maximum) minutes after the first.
        wait_polls(2, 20 * 60)
        time.sleep(1.0)
        from flows.match import Matcher

        matcher = Matcher.from_config_dir(ROOT / "config")
        seed = sorted((ROOT / "seeds").glob("*.txt"))[0].read_text(encoding="utf-8")
        title = seed.strip().splitlines()[0]
        assert matcher.match(seed, title=title), "the first seed fires a topic"
        item = ReplayItem("live-1", title, seed, datetime.now(timezone.utc).replace(microsecond=0))
        site.routes[article_path(item)] = Route("text/html; charset=utf-8", render_page(item, "bench", []))
        before = len(hits())
        t_item = time.monotonic()
        feed([item])
        end = t_item + 25 * 60
        while not arrived and time.monotonic() < end and proc.poll() is None:
            time.sleep(0.5)
        h = hits()
        out["poll_gaps_s"] = [round(b - a, 1) for a, b in zip(h, h[1:])]
        if arrived:
            nxt = h[before] if len(h) > before else None
            out["latency_s"] = round(arrived[0] - t_item, 1)
            out["wait_for_poll_s"] = round(nxt - t_item, 1) if nxt else None
            out["poll_to_email_s"] = round(arrived[0] - nxt, 1) if nxt else None
        else:
            out["latency_s"] = None
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
        site.stop()
        ctl.stop()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
