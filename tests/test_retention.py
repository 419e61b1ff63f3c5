"""Retention on a real database: texts and old rows go, alerts and keys stay, space comes back."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update

from tests.pgschema import open_store
from flows import pipeline
from flows.config import load_config
from flows.replay.httpserve import Route, StaticServer
from flows.sources.fetch import make_client
from flows.store.retention import prune, prune_if_due
from flows.store.schema import alerts, item_texts, items, outbox, seen_keys, utcnow
from flows.store.state import Store

BODY = "نص المقال الطويل عن الاجتماع الوزاري. " * 200  # ~7 KB of UTF-8


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path):
    with open_store(request.param, tmp_path, "t_ret", "set RAQIB_TEST_POSTGRES_URL to run the PostgreSQL retention tests") as s:
        yield s


def _item(store: Store, feed_id: int, key: str, *, days_ago: float, state: str = "done",
          alert: bool = False) -> int:
    store.add_items(feed_id, [{"key": key, "link": f"http://127.0.0.1/{key}", "title": key, "summary": "ملخص",
                               "published": None, "state": "pending"}])
    with store.engine.begin() as conn:
        item_id = conn.execute(select(items.c.id).where(items.c.key == key)).scalar_one()
    if state != "pending":
        ev = [{"sentence": "جملة", "phrases": ["جملة"], "zone": "body"}]
        store.finish_item(item_id, state=state, content_hash=uuid.uuid4().hex, text_=BODY, sitename=None,
                          topics=["t"] if alert else [], alerts_=[("t", "T", 1.0, ev)] if alert else [],
                          deliveries=[("console", ["t"])] if alert else [], fingerprint="fp")
    with store.engine.begin() as conn:
        conn.execute(update(items).where(items.c.id == item_id).values(polled_at=utcnow() - timedelta(days=days_ago)))
    return item_id


def test_old_texts_and_rows_go_alerts_and_keys_stay(store: Store, config_dir: Path) -> None:
    settings = load_config(config_dir).settings
    assert settings.retention_days == 30
    (feed,) = store.sync_feeds([("f", "http://127.0.0.1/feed.xml", "F")])
    alerted = _item(store, feed.id, "old-alerted", days_ago=40, alert=True)
    _item(store, feed.id, "old-quiet", days_ago=40)
    _item(store, feed.id, "old-dup", days_ago=35, state="duplicate")
    recent = _item(store, feed.id, "recent", days_ago=3)
    stuck = _item(store, feed.id, "old-pending", days_ago=40, state="pending")
    report = prune(store, settings)
    assert (report.items_removed, report.keys_kept) == (2, 2)
    assert report.texts_dropped == 2  # a duplicate keeps no text of its own (the first item's is kept)
    with store.engine.connect() as conn:
        left = {r.key: r for r in conn.execute(select(items))}
        texts = dict(conn.execute(select(item_texts.c.item_id, item_texts.c.text)).all())
        assert set(left) == {"old-alerted", "recent", "old-pending"}
        assert alerted not in texts and left["old-alerted"].summary is None
        assert left["old-alerted"].title == "old-alerted"  # the alert still names its article
        assert texts[recent] == BODY and left["recent"].fingerprint == "fp"
        assert left["old-pending"].state == "pending" and left["old-pending"].id == stuck
        assert conn.execute(select(func.count()).select_from(alerts)).scalar() == 1
        assert conn.execute(select(outbox.c.item_id)).scalars().all() == [alerted]
        assert set(conn.execute(select(seen_keys.c.key)).scalars()) == {"old-quiet", "old-dup"}
    # Items already seen are still seen: a poll of a feed that lists them finds nothing new.
    assert store.known_keys(feed.id, ["old-quiet", "old-dup", "old-alerted", "never"]) == {
        "old-quiet", "old-dup", "old-alerted"}
    again = prune(store, settings)
    assert (again.items_removed, again.texts_dropped) == (0, 0)
    with store.engine.connect() as conn:
        assert conn.execute(select(item_texts.c.text).where(item_texts.c.item_id == recent)).scalar() == BODY


def test_the_story_window_is_never_pruned(store: Store, config_dir: Path) -> None:
    (config_dir / "settings.yaml").write_text("retention_days: 0.5\nstory_window_hours: 48\n", encoding="utf-8")
    settings = load_config(config_dir).settings
    (feed,) = store.sync_feeds([("f", "http://127.0.0.1/feed.xml", "F")])
    _item(store, feed.id, "yesterday", days_ago=1)
    _item(store, feed.id, "last-week", days_ago=7)
    prune(store, settings)
    with store.engine.connect() as conn:
        assert set(conn.execute(select(items.c.key)).scalars()) == {"yesterday"}
        assert conn.execute(select(items.c.fingerprint)).scalar() == "fp"


def test_a_pruned_item_in_the_feed_is_not_new_again(tmp_path: Path, config_dir: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'raqib.db'}")
    try:
        with StaticServer() as site:
            rss = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>F</title>'
                   '<link>http://x/</link><description>d</description>'
                   f'<item><title>خبر قديم</title><link>{site.base_url}/a/1.html</link>'
                   f'<guid isPermaLink="true">{site.base_url}/a/1.html</guid></item></channel></rss>')
            site.routes["/feed.xml"] = Route("application/rss+xml", rss.encode())
            (config_dir / "feeds.yaml").write_text(f"feeds:\n  - url: {site.base_url}/feed.xml\n    id: f\n",
                                                   encoding="utf-8")
            (config_dir / "settings.yaml").write_text("max_age_hours: 0\n", encoding="utf-8")
            cfg = load_config(config_dir)
            log = logging.getLogger("test")
            with make_client(cfg.settings.limits, cfg.settings.user_agent) as client:
                (first,) = pipeline.poll_all(store, cfg, client, log)
                assert first.new_items == 1
                with store.engine.begin() as conn:
                    conn.execute(update(items).values(state="failed", polled_at=utcnow() - timedelta(days=60)))
                assert prune(store, cfg.settings).items_removed == 1
                store.clear_validators(store.feed_rows()[0]["id"])  # make the next poll read the body again
                with store.engine.begin() as conn:
                    conn.execute(text("UPDATE feeds SET next_poll_at = NULL"))
                (second,) = pipeline.poll_all(store, cfg, client, log)
            assert second.status == "new" and second.entries == 1 and second.new_items == 0
            assert store.item_count() == 0
    finally:
        store.close()


def test_sqlite_gives_the_space_back(tmp_path: Path, config_dir: Path) -> None:
    path = tmp_path / "raqib.db"
    store = Store(f"sqlite:///{path}")
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA auto_vacuum").scalar() == 2  # incremental, from the start
        (feed,) = store.sync_feeds([("f", "http://127.0.0.1/feed.xml", "F")])
        for i in range(300):
            _item(store, feed.id, f"k{i}", days_ago=45)
        report = prune(store, load_config(config_dir).settings)
        assert report.items_removed == 300
        assert report.bytes_before > 2_000_000
        assert report.bytes_after < report.bytes_before / 5, report
    finally:
        store.close()


def test_one_run_a_day_prunes(store: Store, config_dir: Path) -> None:
    settings = load_config(config_dir).settings
    (feed,) = store.sync_feeds([("f", "http://127.0.0.1/feed.xml", "F")])
    _item(store, feed.id, "old", days_ago=40)
    first = prune_if_due(store, settings)
    assert first is not None and first.items_removed == 1
    _item(store, feed.id, "old-2", days_ago=40)
    assert prune_if_due(store, settings) is None  # pruned less than a day ago
    assert store.item_count() == 1


def test_a_file_from_before_auto_vacuum_is_converted_by_its_first_prune(tmp_path: Path, config_dir: Path) -> None:
    import sqlite3

    path = tmp_path / "old.db"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE legacy (x)")  # a table first: the file is made without auto-vacuum
    raw.commit()
    raw.close()
    store = Store(f"sqlite:///{path}")
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA auto_vacuum").scalar() == 0
        prune(store, load_config(config_dir).settings)
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA auto_vacuum").scalar() == 2
    finally:
        store.close()


def test_raqib_prune_runs_it_now(tmp_path: Path, config_dir: Path) -> None:
    from typer.testing import CliRunner

    from flows.cli import app

    state = tmp_path / "state"
    store = Store.open(state)
    try:
        (feed,) = store.sync_feeds([("f", "http://127.0.0.1/feed.xml", "F")])
        _item(store, feed.id, "old", days_ago=31)
        _item(store, feed.id, "new", days_ago=1)
    finally:
        store.close()
    res = CliRunner().invoke(app, ["prune", "--config", str(config_dir), "--state", str(state)])
    assert res.exit_code == 0, res.output
    assert "1 article texts dropped, 1 item rows removed (their keys kept)" in res.output and " UTC" in res.output
    missing = CliRunner().invoke(app, ["prune", "--config", str(config_dir), "--state", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "no such state folder" in missing.output
    assert not (tmp_path / "nope").exists()
