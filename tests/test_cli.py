"""The `raqib` command as a user runs it: a subprocess, the real Prefect ephemeral server."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def raqib(*args: str, cwd: Path = ROOT, env_extra: dict[str, str] | None = None, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=timeout)


def expected() -> set[tuple[str, str]]:
    with open(ROOT / "seeds" / "labels.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return {(Path(r["file"]).stem, t) for r in rows for t in ("nk_russia_troops", "two_plus_two", "extended_deterrence")
            if r[t] == "1"}


@pytest.mark.slow
def test_replay_json_prints_exactly_the_labelled_alerts_then_none(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = raqib("replay", "--json", "--state", str(state))
    assert first.returncode == 0, first.stderr[-3000:]
    lines = [json.loads(l) for l in first.stdout.splitlines() if l.strip()]
    assert len(lines) == 7
    for alert in lines:
        assert {"topic", "url", "title", "feed", "evidence"} <= set(alert)
        assert alert["evidence"], alert
    got = {(Path(a["url"]).stem, a["topic"]) for a in lines}
    assert got == expected()
    second = raqib("replay", "--json", "--state", str(state))
    assert second.returncode == 0, second.stderr[-3000:]
    assert second.stdout.strip() == ""
    # Items are keyed by file, not by the replay server's (random) port: the second replay found
    # them already seen and recorded nothing new.
    from flows.store.state import Store

    store = Store.open(state)
    try:
        assert store.item_count() == 5
    finally:
        store.close()


def test_bad_config_exits_non_zero_naming_file_and_key(tmp_path: Path) -> None:
    cfg = tmp_path / "config"
    cfg.mkdir()
    for name in ("topics.yaml", "variants.yaml"):
        if (ROOT / "config" / name).exists():
            (cfg / name).write_bytes((ROOT / "config" / name).read_bytes())
    (cfg / "feeds.yaml").write_text("feeds:\n  - url: ftp://x\n", encoding="utf-8")
    res = raqib("run", "--config", str(cfg), "--state", str(tmp_path / "state"))
    assert res.returncode == 2
    assert "feeds.yaml" in res.stderr and "feeds[0].url" in res.stderr


def test_replay_of_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    res = raqib("replay", str(tmp_path / "nope"), "--state", str(tmp_path / "state"))
    assert res.returncode == 2 and "not a directory" in res.stderr


@pytest.mark.parametrize("file,content,where", [
    ("feeds.yaml", "feeds:\n  - url: https://a.example/rss\n    nmae: A\n", "feeds[0].nmae"),
    ("settings.yaml", "limits:\n  read_timeout: soon\n", "limits.read_timeout"),
    ("alerts.yaml", "channels:\n  - name: desk\n    url: 'nosuchservice://u:Secr3tPw@host'\n", "channels[0] (desk)"),
    ("topics.yaml", None, "topics.yaml"),
])
def test_bad_config_stops_with_file_and_key_and_no_secret(tmp_path: Path, file: str, content: str | None,
                                                          where: str) -> None:
    import shutil

    cfg = tmp_path / "config"
    shutil.copytree(ROOT / "config", cfg)
    if content is None:  # unreadable: not UTF-8
        (cfg / file).write_bytes(b"\xff\xfe\x00topics: [")
    else:
        (cfg / file).write_text(content, encoding="utf-8")
    res = raqib("run", "--config", str(cfg), "--state", str(tmp_path / "state"))
    assert res.returncode == 2, res.stderr
    assert file in res.stderr and where in res.stderr
    assert "Secr3tPw" not in res.stderr + res.stdout


@pytest.mark.parametrize("content", [
    # PyYAML quotes the line of the error, cut anywhere: the password must not survive in any piece.
    "channels:\n  - name: desk\n    url: mailtos://analyst:Secr3tPw@smtp.example.org?to=desk@example.org: x\n",
    "channels:\n  - name: desk\n\turl: mailtos://analyst:Secr3tPw@smtp.example.org\n",
    "channels:\n  - name: desk\n    url: \"mmost://chat.example.org/Secr3tPw8fq3n1x9c7byxkd0\n  - name: b\n",
])
def test_yaml_syntax_error_on_a_channel_line_prints_no_secret(tmp_path: Path, content: str) -> None:
    import shutil

    cfg = tmp_path / "config"
    shutil.copytree(ROOT / "config", cfg)
    (cfg / "alerts.yaml").write_text(content, encoding="utf-8")
    res = raqib("run", "--config", str(cfg), "--state", str(tmp_path / "state"))
    assert res.returncode == 2, res.stderr
    assert "alerts.yaml" in res.stderr and "line 3" in res.stderr
    assert "Secr3t" not in res.stderr + res.stdout
