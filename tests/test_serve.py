"""`raqib serve`: a real local Prefect server, the deployment's schedule fires a run by itself."""

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
def test_scheduled_run_fires_and_alerts(tmp_path: Path, config_dir: Path) -> None:
    state = tmp_path / "state"
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
             "--interval", "0.1", "--port", str(free_port()), "--archive-port", str(archive_port := free_port())],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
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
            assert proc.poll() is None, proc.stdout.read().decode(errors="replace")[-3000:] if proc.stdout else ""
            assert alerts == 4  # one console message per seed article that matched a topic
            assert "/feed.xml" in " ".join(site.paths_requested())
            page = httpx.get(f"http://127.0.0.1:{archive_port}/", timeout=10)  # the archive page beside it
            assert page.status_code == 200 and page.text.count('class="card alert"') == 7
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
