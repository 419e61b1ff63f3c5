"""SIGKILL at named points of a cycle, then a clean run: no alert lost, none sent twice.

Each cycle is a real process (`python -m flows.worker`) against real loopback servers and a real
SQLite file; the kill comes from `flows.failpoints` inside the process, so it lands exactly there.
"""

from __future__ import annotations

import os
import subprocess
import time
import sys
from collections import Counter
from pathlib import Path

import pytest

from flows.replay.httpserve import StaticServer
from flows.replay.replay_site import build_site
from tests.conftest import ROOT
from tests.test_pipeline import expected_alerts


def cycle(config_dir: Path, state: Path, allow: str, failpoint: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "RAQIB_FAILPOINT" and not k.startswith("PREFECT_")}
    if failpoint:
        env["RAQIB_FAILPOINT"] = failpoint
    return subprocess.run([sys.executable, "-m", "flows.worker", "--config", str(config_dir), "--state", str(state),
                           "--all", "--ignore-age", "--allow-host", allow],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)


@pytest.fixture
def seeds_site():
    with StaticServer() as server:
        server.routes.update(build_site(ROOT / "seeds", server.base_url))
        yield server


def _configure(config_dir: Path, tmp_path: Path, site: StaticServer, webhook) -> tuple[Path, str]:
    """The seeds' feed, one webhook channel, and a 1 s lease: a dead worker's claims (items,
    messages) are free again after the lease, kept short here. Returns (state dir, allowed host)."""
    (config_dir / "feeds.yaml").write_text(f"feeds:\n  - url: {site.base_url}/feed.xml\n    name: seeds\n",
                                           encoding="utf-8")
    (config_dir / "alerts.yaml").write_text(
        f"channels:\n  - name: hook\n    url: 'json://127.0.0.1:{webhook.port}/alerts'\n", encoding="utf-8")
    (config_dir / "settings.yaml").write_text("polling:\n  lease_seconds: 1\n", encoding="utf-8")
    return tmp_path / "state", site.base_url.split("//", 1)[1]


@pytest.mark.parametrize("failpoint", ["after_poll", "after_extract", "after_item:2", "between_sends:2"])
def test_killed_cycle_then_clean_cycle_delivers_each_alert_once(failpoint: str, tmp_path: Path, config_dir: Path,
                                                                seeds_site, webhook) -> None:
    state, allow = _configure(config_dir, tmp_path, seeds_site, webhook)
    killed = cycle(config_dir, state, allow, failpoint)
    assert killed.returncode == -9, (killed.returncode, killed.stderr[-2000:])
    time.sleep(1.5)
    clean = cycle(config_dir, state, allow)
    assert clean.returncode == 0, clean.stderr[-2000:]
    again = cycle(config_dir, state, allow)
    assert again.returncode == 0, again.stderr[-2000:]

    per_article = Counter()
    for post in webhook.json_posts():
        stems = [s for s, _ in expected_alerts() if s in post["message"]]
        assert len(set(stems)) == 1, post["message"][:300]
        per_article[stems[0]] += 1
    # Every article with an expected alert got exactly one message (its topics in one message).
    assert per_article == Counter({s: 1 for s, _ in expected_alerts()})


def test_crash_after_the_channel_accepted_is_the_one_window_that_repeats(tmp_path: Path, config_dir: Path,
                                                                         seeds_site, webhook) -> None:
    """The documented window: the channel took the message, the process died before recording it.
    The next run cannot know, so that one message goes out again (at-least-once) — and only it."""
    state, allow = _configure(config_dir, tmp_path, seeds_site, webhook)
    assert cycle(config_dir, state, allow, "after_send").returncode == -9
    assert len(webhook.posts) == 1
    time.sleep(1.5)  # the dead run's claim on that message expires
    assert cycle(config_dir, state, allow).returncode == 0
    counts = Counter()
    for post in webhook.json_posts():
        counts[post["message"].splitlines()[1] if "\n" in post["message"] else post["message"]] += 1
    assert len(webhook.posts) == len({s for s, _ in expected_alerts()}) + 1
    assert sorted(counts.values())[-1] == 2 and sorted(counts.values())[:-1] == [1] * (len(counts) - 1)
