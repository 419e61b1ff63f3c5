from __future__ import annotations

from pathlib import Path

import pytest

from flows.config import NOTIFY_URLS_ENV, load_config
from flows.errors import ConfigError


def test_default_config_loads_with_console_sink(config_dir: Path) -> None:
    cfg = load_config(config_dir)
    assert cfg.feeds == []
    assert [c.name for c in cfg.channels] == ["console"]
    assert cfg.settings.interval_minutes == 1
    # An alerting product: every healthy feed is read at least every 15 minutes by default.
    assert cfg.settings.polling.max_interval_minutes <= 15
    assert cfg.settings.limits.max_page_bytes == 5 * 1024 * 1024


def test_unknown_key_names_file_and_key(config_dir: Path) -> None:
    (config_dir / "feeds.yaml").write_text("feeds:\n  - url: https://a.example/rss\n    nmae: A\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_config(config_dir)
    assert "feeds.yaml" in str(exc.value)
    assert "feeds[0].nmae" in str(exc.value)
    assert "unknown key" in str(exc.value)


def test_wrong_type_names_key(config_dir: Path) -> None:
    (config_dir / "settings.yaml").write_text("limits:\n  read_timeout: soon\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_config(config_dir)
    assert "settings.yaml: limits.read_timeout" in str(exc.value)


def test_bad_apprise_url_is_refused_without_its_secret(config_dir: Path) -> None:
    (config_dir / "alerts.yaml").write_text(
        "channels:\n  - name: desk\n    url: 'nosuchservice://user:hunter2secret@host/path'\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_config(config_dir)
    assert "channels[0] (desk)" in str(exc.value)
    assert "hunter2secret" not in str(exc.value)


def test_url_from_environment_and_extra_urls(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (config_dir / "alerts.yaml").write_text(
        "channels:\n  - name: mail\n    url_env: RAQIB_TEST_MAIL_URL\n    topics: [two_plus_two]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_config(config_dir)
    assert "RAQIB_TEST_MAIL_URL is not set" in str(exc.value)
    monkeypatch.setenv("RAQIB_TEST_MAIL_URL", "mailto://127.0.0.1:2525?from=a@example.org&to=b@example.org")
    monkeypatch.setenv(NOTIFY_URLS_ENV, "json://127.0.0.1:9/hook")
    cfg = load_config(config_dir, extra_notify_urls=["console://"])
    assert [(c.name, c.format) for c in cfg.channels] == [("mail", "email"), ("extra-1", "chat"), ("extra-2", "text")]
    assert cfg.channels[0].wants("two_plus_two") and not cfg.channels[0].wants("nk_russia_troops")
    assert "127.0.0.1:2525" not in repr(cfg.channels[0])


def test_unreadable_and_invalid_yaml(config_dir: Path) -> None:
    (config_dir / "feeds.yaml").write_bytes(b"feeds: [\xff\xfe")
    with pytest.raises(ConfigError) as exc:
        load_config(config_dir)
    assert "feeds.yaml" in str(exc.value)
    with pytest.raises(ConfigError) as exc2:
        load_config(config_dir / "missing")
    assert "does not exist" in str(exc2.value)
