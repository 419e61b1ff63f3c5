from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from tests.pgschema import open_store
from flows.store.state import MIGRATIONS, Store



def _stores(tmp_path: Path):
    yield Store(f"sqlite:///{tmp_path / 'raqib.db'}")


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path):
    with open_store(request.param, tmp_path, "t", "set RAQIB_TEST_POSTGRES_URL to run the PostgreSQL state tests") as s:
        yield s


def test_migrations_are_versioned_and_idempotent(store: Store) -> None:
    assert store.schema_version() == MIGRATIONS[-1][0]
    assert store.migrate() == []  # a second open applies nothing


def test_items_are_inserted_once_and_outbox_lifecycle(store: Store) -> None:
    (feed,) = store.sync_feeds([("f1", "http://127.0.0.1/feed.xml", "Feed one")])
    entries = [{"key": "g1", "link": "http://127.0.0.1/1", "title": "t1", "summary": "", "published": None},
               {"key": "g2", "link": "http://127.0.0.1/2", "title": "t2", "summary": "", "published": None}]
    assert store.add_items(feed.id, entries) == 2
    assert store.add_items(feed.id, entries) == 0
    assert store.known_keys(feed.id, ["g1", "g3"]) == {"g1"}
    pending = store.pending_items()
    assert [p.title for p in pending] == ["t1", "t2"]
    first = pending[0]
    ev = [{"sentence": "جملة", "phrases": ["جملة"], "zone": "body"}]
    store.finish_item(first.id, state="done", content_hash="h1", text_="نص", sitename=None, topics=["a"],
                      alerts_=[("a", "Topic A", 1.0, ev)], deliveries=[("console", ["a"])])
    # the same outcome written twice (a crash and a retry) creates nothing twice
    store.finish_item(first.id, state="done", content_hash="h1", text_="نص", sitename=None, topics=["a"],
                      alerts_=[("a", "Topic A", 1.0, ev)], deliveries=[("console", ["a"])])
    assert store.hash_seen("h1", exclude_item=pending[1].id)
    due = store.due_deliveries()
    assert len(due) == 1 and due[0]["channel"] == "console"
    assert store.alerts_for_item(first.id)["a"]["evidence"] == ev
    assert store.mark_failed(due[0]["id"], "down", max_attempts=2) == "pending"
    assert store.due_deliveries() == []  # backing off
    assert store.mark_failed(due[0]["id"], "down", max_attempts=2) == "dead"
    assert store.outbox_counts() == {"dead": 1}
    assert store.dead_deliveries()[0]["title"] == "t1"


def test_feed_errors_and_recovery(store: Store) -> None:
    (feed,) = store.sync_feeds([("f1", "http://127.0.0.1/feed.xml", None)])
    assert store.record_poll_failure(feed.id, "HTTP 503") == 1
    assert store.record_poll_failure(feed.id, "HTTP 503", dead_after=2) == 2
    row = store.feed_rows()[0]
    assert row["dead"] and row["last_error"] == "HTTP 503"
    assert store.record_poll_success(feed.id, "new", '"e1"', None, "hash") is True
    row = store.feed_rows()[0]
    assert row["consecutive_errors"] == 0 and not row["dead"] and row["etag"] == '"e1"'


def test_status_command_reports_feeds_and_dead_alerts_without_secrets(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    state = tmp_path / "state"
    s = Store.open(state)
    (feed,) = s.sync_feeds([("f1", "http://127.0.0.1/feed.xml", "Feed one")])
    s.record_poll_failure(feed.id, "HTTP 503")
    s.add_items(feed.id, [{"key": "g1", "link": "http://127.0.0.1/1", "title": "عنوان", "summary": "", "published": None}])
    item = s.pending_items()[0]
    s.finish_item(item.id, state="done", content_hash="h", text_="نص", sitename=None, topics=["a"],
                  alerts_=[("a", "A", 1.0, [])], deliveries=[("mail", ["a"])])
    row = s.due_deliveries()[0]
    s.mark_failed(row["id"], "apprise reported failure", max_attempts=1)
    s.close()
    root = Path(__file__).resolve().parent.parent
    res = subprocess.run([sys.executable, "-m", "flows.cli", "status", "--json", "--state", str(state)],
                         cwd=root, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["feeds"][0]["last_error"] == "HTTP 503" and data["feeds"][0]["consecutive_errors"] == 1
    assert data["outbox"] == {"dead": 1}
    assert data["dead"][0]["channel"] == "mail" and data["dead"][0]["title"] == "عنوان"


def test_latency_by_feed_counts_from_publication_to_delivery(tmp_path: Path) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from flows.store.state import outbox, utcnow

    s = Store(f"sqlite:///{tmp_path / 'raqib.db'}")
    (feed,) = s.sync_feeds([("f1", "http://127.0.0.1/feed.xml", "Feed one")])
    now = utcnow()
    s.add_items(feed.id, [{"key": f"g{i}", "link": f"http://127.0.0.1/{i}", "title": f"t{i}", "summary": "",
                           "published": now - timedelta(seconds=60 * (i + 1))} for i in range(3)])
    for it in s.pending_items():
        s.finish_item(it.id, state="done", content_hash=f"h{it.id}", text_="x", sitename=None, topics=["a"],
                      alerts_=[("a", "A", 1.0, [])], deliveries=[("mail", ["a"])])
    for row in s.due_deliveries():
        s.mark_sent(row["id"])
    with s.engine.begin() as conn:  # deliveries all at `now` exactly, for a checkable figure
        conn.execute(update(outbox).values(sent_at=now))
    (lat,) = s.latency_by_feed()
    assert lat == {"feed": "Feed one", "alerts": 3, "median_seconds": 120.0, "worst_seconds": 180.0}
    s.close()


def test_a_feed_due_within_the_grace_counts_as_due(tmp_path: Path) -> None:
    """A scheduled run every 60 s and a feed due every 60 s: the run that starts a moment before
    the feed's next poll must take it, or the feed is polled only every other run."""
    from datetime import timedelta

    from flows.store.state import utcnow

    s = Store(f"sqlite:///{tmp_path / 'raqib.db'}")
    (feed,) = s.sync_feeds([("f1", "http://127.0.0.1/feed.xml", None)])
    s.record_poll_success(feed.id, "new", None, None, None, next_poll_at=utcnow() + timedelta(seconds=5))
    assert s.claim_feeds("w", [feed.id], limit=1, lease_seconds=60, due_only=True) == []
    got = s.claim_feeds("w", [feed.id], limit=1, lease_seconds=60, due_only=True, due_grace_seconds=15)
    assert [r.id for r in got] == [feed.id]
    s.close()


def test_status_durations_read_as_people_write_them() -> None:
    from flows.cli_status import span as _span

    assert [_span(x) for x in (0.4, 42, 185, 7800, 90061)] == ["0 s", "42 s", "3 m 5 s", "2 h 10 m", "1 d 1 h"]


def test_texts_live_apart_from_items_and_older_texts_move_there(store: Store) -> None:
    """Migration 6 moves an older database's texts out of `items`; rematch reads them there."""
    (feed,) = store.sync_feeds([("f1", "http://127.0.0.1/feed.xml", "Feed one")])
    store.add_items(feed.id, [{"key": k, "link": f"http://127.0.0.1/{k}", "title": k, "summary": "",
                               "published": None} for k in ("new", "old")])
    new, old = store.pending_items()
    store.finish_item(new.id, state="done", content_hash="h1", text_="نص جديد", sitename=None, topics=[],
                      alerts_=[], deliveries=[])
    with store.engine.begin() as conn:  # an item finished before migration 6: its text in items
        conn.execute(text("UPDATE items SET state = 'done', text = 'نص قديم' WHERE id = :id"), {"id": old.id})
        conn.execute(text("DELETE FROM item_texts WHERE item_id = :id"), {"id": old.id})
        conn.execute(text("DELETE FROM schema_migrations WHERE version = 6"))
    assert store.migrate() == [6]
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM items WHERE text IS NOT NULL")).scalar() == 0
    assert {r["title"]: r["text"] for r in store.matched_items()} == {"new": "نص جديد", "old": "نص قديم"}

