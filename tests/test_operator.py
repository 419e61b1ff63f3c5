"""Operator notices: a feed that dies or recovers, and a channel that keeps failing, are announced."""

from __future__ import annotations

import logging
from pathlib import Path

from flows.alerts import operator

from flows import pipeline
from flows.config import FeedConfig, load_config
from flows.sources.fetch import make_client
from flows.replay.httpserve import Route, StaticServer
from flows.store.state import Store
from tests.test_poll import RSS

LOG = logging.getLogger("raqib.test")


def test_feed_death_and_recovery_reach_the_operator_channel(tmp_path: Path, config_dir: Path, webhook) -> None:
    (config_dir / "alerts.yaml").write_text(
        f"channels:\n  - name: ops\n    url: 'json://127.0.0.1:{webhook.port}/ops'\n    topics: []\n"
        "operator_channel: ops\n", encoding="utf-8")
    (config_dir / "settings.yaml").write_text("dead_after_errors: 2\nlimits:\n  retries: 0\n", encoding="utf-8")
    cfg = load_config(config_dir)
    store = Store(f"sqlite:///{tmp_path / 'raqib.db'}")
    with StaticServer({"/feed.xml": Route("text/plain", b"down", status=503)}) as server, \
            make_client(cfg.settings.limits, "t") as client:
        feeds = [FeedConfig(url=server.base_url + "/feed.xml", name="وكالة تجريبية", id="f")]

        def cycle() -> list[operator.Notice]:
            outcomes = pipeline.poll_all(store, cfg, client, LOG, feeds=feeds)
            notices = operator.feed_notices(store, cfg, outcomes)
            operator.announce(cfg, notices, LOG)
            return notices

        assert cycle() == []  # one failure: not dead yet
        died = cycle()
        assert [n.kind for n in died] == ["feed_dead"] and "HTTP 503" in died[0].text
        assert store.feed_rows()[0]["dead"]
        assert cycle() == []  # still dead: announced once, not every cycle
        server.routes["/feed.xml"] = Route("application/rss+xml", RSS.encode())
        recovered = cycle()
        assert [n.kind for n in recovered] == ["feed_recovered"]
    posts = webhook.json_posts()
    assert len(posts) == 2
    assert "وكالة تجريبية" in posts[0]["title"] and "HTTP 503" in posts[0]["message"]
    assert "answers again" in posts[1]["message"]


def test_failing_channel_is_announced_not_to_itself(config_dir: Path) -> None:
    (config_dir / "alerts.yaml").write_text(
        "channels:\n  - name: ops\n    url: 'console://'\n  - name: desk\n    url: 'json://127.0.0.1:9/x'\n"
        "operator_channel: ops\n", encoding="utf-8")
    cfg = load_config(config_dir)
    notices = operator.channel_notices(cfg, {"desk": 3, "ops": 5, "other": 1})
    assert [(n.kind, "desk" in n.text) for n in notices] == [("channel_failing", True)]
