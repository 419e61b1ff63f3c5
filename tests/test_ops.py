"""Operating raqib: config mistakes that used to pass silently, and what the commands say."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import ROOT, raqib


def _config(tmp_path: Path) -> Path:
    cfg = tmp_path / "config"
    shutil.copytree(ROOT / "config", cfg)
    return cfg


@pytest.mark.slow
def test_an_empty_feeds_list_says_how_to_add_one(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    res = raqib("run", "--config", str(cfg), "--state", str(tmp_path / "state"))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "no feeds in" in res.stderr and "raqib feeds add URL" in res.stderr
    assert "0 feeds polled (0 failed)" in res.stdout


def test_a_channel_with_an_unknown_topic_stops_the_start(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    (cfg / "alerts.yaml").write_text(
        "channels:\n  - name: desk\n    url: 'json://127.0.0.1:9/hook'\n    topics: [two_plus_two]\n"
        "  - name: typo-desk\n    url: 'json://127.0.0.1:9/hook'\n    topics: [nk_russia_troop]\n", encoding="utf-8")
    res = raqib("run", "--config", str(cfg), "--state", str(tmp_path / "state"))
    assert res.returncode == 2
    assert "alerts.yaml: channels[1] (typo-desk).topics: unknown topic id 'nk_russia_troop'" in res.stderr
    assert "nk_russia_troops" in res.stderr  # the ids that do exist
    assert "Traceback" not in res.stderr and not (tmp_path / "state").exists()


def _worker(*args: str, cwd: Path, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RAQIB_HOME", "RAQIB_DATABASE_URL")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "flows.worker", *args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=120)


def test_a_worker_without_raqib_home_names_it_and_prints_no_traceback(tmp_path: Path) -> None:
    # A Prefect worker runs the flow in $RAQIB_HOME; unset, `config` is looked for in its own folder.
    res = _worker("--config", "config", "--state", str(tmp_path / "state"), cwd=tmp_path)
    assert res.returncode == 2
    assert "raqib: config error:" in res.stderr and "config directory does not exist" in res.stderr
    assert "RAQIB_HOME is not set" in res.stderr
    assert "Traceback" not in res.stderr


def test_the_worker_prints_config_errors_like_the_cli(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    (cfg / "settings.yaml").write_text("limits:\n  retires: 2\n", encoding="utf-8")
    res = _worker("--config", str(cfg), "--state", str(tmp_path / "state"), cwd=tmp_path)
    assert res.returncode == 2
    assert "settings.yaml: limits.retires: unknown key" in res.stderr and "Traceback" not in res.stderr


def _state_with_a_live_and_a_replayed_feed(state: Path) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from flows.store.schema import items, utcnow
    from flows.store.state import Store

    store = Store.open(state)
    try:
        live, replayed = store.sync_feeds([
            ("live", "https://news.example.org/a-very-long-path/that/goes/on/and/on/rss.xml",
             "وكالة الأنباء ذات الاسم الطويل جداً جداً جداً — القسم الدولي والعربي والعالمي"),
            ("replay-seeds", "http://127.0.0.1:9/feed.xml", "replay:seeds")])
        store.record_poll_success(live.id, "new", '"etag"', None, "h")
        store.record_poll_failure(replayed.id, "HTTP 503 " + "x" * 200)
        for feed, key, published in ((live, "a", utcnow() - timedelta(minutes=3)),
                                     (replayed, "b", utcnow() - timedelta(days=700))):
            store.add_items(feed.id, [{"key": key, "link": f"https://news.example.org/{key}", "title": key,
                                       "summary": "", "published": published}])
            (item,) = [p for p in store.pending_items() if p.title == key]
            store.finish_item(item.id, state="done", content_hash=key, text_="نص", sitename=None, topics=["t"],
                              alerts_=[("t", "T", 1.0, [])], deliveries=[("console", ["t"])])
            row = store.due_deliveries()[0]
            store.mark_sent(row["id"])
        with store.engine.begin() as conn:
            conn.execute(update(items).values(polled_at=utcnow()))
    finally:
        store.close()


def test_status_fits_80_columns_with_zoned_times_and_leaves_replays_out_of_latency(tmp_path: Path) -> None:
    import json
    import re

    from typer.testing import CliRunner

    from flows.cli import app

    state = tmp_path / "state"
    _state_with_a_live_and_a_replayed_feed(state)
    res = CliRunner().invoke(app, ["status", "--state", str(state)])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines and max(len(line) for line in lines) <= 80, lines
    times = re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? UTC", res.output)
    assert times and all(micro == "" for micro in times)  # with their zone, no microseconds
    assert "messages by state: sent 2" in res.output
    latency = lines[lines.index(next(line for line in lines if line.startswith("publication"))):]
    assert any(" 3 m " in line for line in latency)  # the live feed's 3 minutes
    assert not any(" d " in line for line in latency if not line.strip().startswith("replay:"))
    assert any("replay:seeds: 1 message sent (replay" in line for line in latency)
    data = json.loads(CliRunner().invoke(app, ["status", "--state", str(state), "--json"]).output)
    assert [r["feed"] for r in data["replayed"]] == ["replay:seeds"] and len(data["latency"]) == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data["feeds"][0]["last_polled_at"])


def test_status_of_a_missing_state_folder_is_an_error(tmp_path: Path) -> None:
    res = raqib("status", "--state", str(tmp_path / "nowhere"))
    assert res.returncode == 2 and "raqib: " in res.stderr and "no such state folder" in res.stderr
    assert not (tmp_path / "nowhere").exists()


def test_digest_says_why_nothing_was_sent(tmp_path: Path) -> None:
    from flows.cli_status import explain_digest
    from flows.store.state import Store

    cfg = _config(tmp_path)
    state = tmp_path / "state"
    Store.open(state).close()
    assert explain_digest(cfg, state, {}) == [
        "no digest sent: no channel has `mode: digest` or `mode: both` in alerts.yaml"]
    (cfg / "alerts.yaml").write_text("channels:\n  - name: morning\n    url: 'json://127.0.0.1:9/x'\n"
                                     "    mode: digest\n", encoding="utf-8")
    (line,) = explain_digest(cfg, state, {})
    assert line == "morning: no digest sent: no alert for its topics in the last 24 hours"
    from datetime import timezone
    from zoneinfo import ZoneInfo

    from flows.store.schema import utcnow

    day = utcnow().replace(tzinfo=timezone.utc).astimezone(ZoneInfo("Asia/Seoul")).date().isoformat()
    store = Store.open(state)
    store.record_digest("morning", day, 3)
    store.close()
    (line,) = explain_digest(cfg, state, {})
    assert line == f"morning: no digest sent: the digest of {day} (Asia/Seoul) was already sent"
    assert explain_digest(cfg, state, {"morning": 3}) == [f"morning: digest of {day} sent, 3 stories"]
