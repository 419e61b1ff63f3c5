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
