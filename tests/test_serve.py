"""`raqib serve`: a real local Prefect server; the first cycle runs at once, the schedule fires the
next ones by itself, and every run prints its line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from flows.replay.httpserve import StaticServer, free_port
from flows.replay.replay_site import build_site
from flows.store.state import Store
from tests.conftest import ROOT


@pytest.mark.slow
def test_serve_runs_a_cycle_at_once_and_prints_a_line_per_run(tmp_path: Path, config_dir: Path) -> None:
    state = tmp_path / "state"
    out_path = tmp_path / "serve.out"
    with StaticServer() as site:
        site.routes.update(build_site(ROOT / "seeds", site.base_url))
        host = site.base_url.split("//", 1)[1]
        (config_dir / "feeds.yaml").write_text(
            f"feeds:\n  - url: {site.base_url}/feed.xml\n    name: seeds\n    id: seeds\n", encoding="utf-8")
        # The replayed seeds carry 2024 dates: let age not hide them, and let links reach this server.
        (config_dir / "settings.yaml").write_text(
            f"max_age_hours: 0\nallow_hosts: ['{host}']\n", encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        proc = subprocess.Popen(
            [sys.executable, "-m", "flows.cli", "serve", "--config", str(config_dir), "--state", str(state),
             "--interval", "0.3", "--port", str(free_port()),
             "--archive-port", str(archive_port := free_port())],
            cwd=ROOT, env=env, stdout=out_path.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 180
            alerts = 0
            while time.monotonic() < deadline and proc.poll() is None:
                time.sleep(2)
                if (state / "raqib.db").exists():
                    store = Store(f"sqlite:///{state / 'raqib.db'}")
                    try:
                        alerts = sum(store.outbox_counts().values())
                    finally:
                        store.close()
                    if alerts >= 4:  # items finish one by one: do not stop while the run is midway
                        break
            output = lambda: out_path.read_text(encoding="utf-8", errors="replace")  # noqa: E731
            assert proc.poll() is None, output()[-3000:]
            assert alerts == 4  # one console message per seed article that matched a topic
            assert "/feed.xml" in " ".join(site.paths_requested())
            page = httpx.get(f"http://127.0.0.1:{archive_port}/", timeout=10)  # the archive page beside it
            assert page.status_code == 200 and page.text.count('class="card alert"') == 7
            # The first run's line: the seeds give 7 alerts (article, topic) in 4 messages.
            deadline = time.monotonic() + 30
            while " run: " not in output() and time.monotonic() < deadline:
                time.sleep(0.5)
            first = next(line for line in output().splitlines() if " run: " in line)
            assert "1 feed polled (0 failed), 5 new items" in first
            assert "7 alerts in 4 messages, 4 messages sent (0 failed)" in first
            serving = next(line for line in output().splitlines() if " serving raqib-ingest" in line)
            # At once: seconds after the start, not when the schedule's first run comes (minutes).
            from datetime import datetime

            t = lambda line: datetime.strptime(line[:19], "%Y-%m-%d %H:%M:%S")  # noqa: E731
            assert (t(first) - t(serving)).total_seconds() < 15, (serving, first)
            # A scheduled run (every 18 s) prints its own line: nothing new in it.
            deadline = time.monotonic() + 120
            while output().count(" run: ") < 2 and time.monotonic() < deadline:
                time.sleep(1)
            later = [line for line in output().splitlines() if " run: " in line][1:]
            assert later, output()[-3000:]
            assert "0 new items" in later[0] and "0 alerts in 0 messages" in later[0]
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
