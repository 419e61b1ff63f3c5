"""The digest: the day's stories per topic, once per channel and day, to a real SMTP server."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from flows import pipeline
from flows.config import load_config
from flows.alerts.digest import send_digests
from flows.errors import ConfigError
from flows.match import Matcher
from flows.store.state import Store
from tests.test_pipeline import expected_alerts, run_cycle, seed_site  # noqa: F401  (fixture)

LOG = logging.getLogger("raqib.test")


def test_digest_lists_the_days_stories_once(tmp_path: Path, config_dir: Path, seed_site, smtp_sink) -> None:  # noqa: F811
    (config_dir / "alerts.yaml").write_text(
        f"channels:\n  - name: morning\n    url: '{smtp_sink.url()}'\n    mode: digest\n", encoding="utf-8")
    cfg = load_config(config_dir)
    matcher = Matcher.from_config_dir(config_dir)
    store = Store(f"sqlite:///{tmp_path / 'raqib.db'}")
    report = run_cycle(store, cfg, matcher, seed_site.base_url + "/feed.xml")
    assert len(report.alerts) == len(expected_alerts())
    assert report.sent == 0 and smtp_sink.messages == []  # a digest-only channel gets no immediate alert

    assert send_digests(store, cfg, LOG) == {"morning": 7}
    assert len(smtp_sink.messages) == 1
    mail = smtp_sink.messages[0]
    assert "موجز" in str(mail["subject"])
    html = mail.get_body(("html",)).get_content()
    assert 'dir="rtl"' in html
    from flows.alerts.names import topic_names

    arabic = topic_names(config_dir)
    for topic in {a.topic for a in report.alerts}:
        # one section per topic, with its story count, named in the channel's language (Arabic)
        assert f"{arabic[topic]['ar']} (" in html
    assert html.count("<li") == 7  # seven (topic, story) pairs
    titles = [a.title for a in report.alerts]
    for title in set(titles):
        assert title in html
    assert send_digests(store, cfg, LOG) == {}  # the same day again: nothing twice
    assert len(smtp_sink.messages) == 1


def test_bad_digest_schedule_is_refused(config_dir: Path) -> None:
    (config_dir / "settings.yaml").write_text("digest_cron: 'every morning'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="digest_cron"):
        load_config(config_dir)
    (config_dir / "settings.yaml").write_text("digest_timezone: Mars/Olympus\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="digest_timezone"):
        load_config(config_dir)
