"""Operating raqib: config mistakes that used to pass silently, and what the commands say."""

from __future__ import annotations

import shutil
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
