"""The state database's schema: tables and their versioned migrations.

Rules:
- `MIGRATIONS` is an append-only list of (version, name, function of a Connection), applied by
  version on open and recorded in `schema_migrations`; never edit a released migration, add one;
- a migration checks what it adds (columns, indexes) so a database created from the current
  tables by migration 1 and one migrated step by step end up the same.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    Boolean, Column, DateTime, Float, ForeignKey, Index, Integer, MetaData, String, Table, Text,
    UniqueConstraint, inspect, text, update,
)
from sqlalchemy.engine import Connection

metadata = MetaData()

schema_migrations = Table(
    "schema_migrations", metadata,
    Column("version", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("applied_at", DateTime, nullable=False),
)

feeds = Table(
    "feeds", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("url", Text, nullable=False),
    Column("name", Text),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("body_hash", String(64)),
    Column("last_polled_at", DateTime),
    Column("last_success_at", DateTime),
    Column("last_status", String(40)),
    Column("last_error", Text),
    Column("consecutive_errors", Integer, nullable=False, server_default="0"),
    Column("next_poll_at", DateTime),
    Column("dead", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", DateTime, nullable=False),
    # Work sharing (migration 4): who polls the feed now and until when; its adaptive interval.
    Column("lease_owner", String(200)),
    Column("lease_until", DateTime),
    Column("poll_interval_s", Float),
)

items = Table(
    "items", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("feed_id", Integer, ForeignKey("feeds.id"), nullable=False),
    Column("key", String(1000), nullable=False),
    Column("link", Text),
    Column("title", Text),
    Column("summary", Text),
    Column("published_at", DateTime),
    Column("polled_at", DateTime, nullable=False),
    # pending -> done | duplicate | failed | old
    Column("state", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("content_hash", String(64)),
    Column("text", Text),
    Column("sitename", Text),
    Column("topics", Text),  # JSON list of topic ids that fired
    Column("matched_at", DateTime),
    # Story clustering (migration 2): MinHash of the body, and the id of the story's first item.
    Column("fingerprint", Text),
    Column("story_id", Integer),
    # Story updates (migration 10): the earlier story this item is a later report of, if any.
    Column("update_of", Integer),
    # Work sharing (migration 4): the worker processing this pending item, until when.
    Column("claimed_by", String(200)),
    Column("claim_until", DateTime),
    # Address guard (migration 11): the host:port the guard refused for this item's link, so an
    # operator who later allows that host gets the item fetched again.
    Column("refused_host", String(300)),
    UniqueConstraint("feed_id", "key", name="uq_items_feed_key"),
)
Index("ix_items_content_hash", items.c.content_hash)
Index("ix_items_state", items.c.state)
Index("ix_items_matched_at", items.c.matched_at)
Index("ix_items_story_id", items.c.story_id)
Index("ix_items_refused_host", items.c.refused_host)

alerts = Table(
    "alerts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("topic", String(200), nullable=False),
    Column("topic_name", Text),
    Column("evidence", Text, nullable=False),  # JSON list of evidence dicts
    Column("score", Float),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("item_id", "topic", name="uq_alerts_item_topic"),
)

outbox = Table(
    "outbox", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("channel", String(64), nullable=False),
    Column("topics", Text, nullable=False),  # JSON list of topic ids in this message
    # pending -> sending -> sent | dead (sending -> pending again after a failure)
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime),
    Column("last_error", Text),
    Column("created_at", DateTime, nullable=False),
    Column("sent_at", DateTime),
    # Work sharing (migration 4): the worker sending this row (status `sending`), until when.
    Column("claimed_by", String(200)),
    Column("claim_until", DateTime),
    UniqueConstraint("item_id", "channel", name="uq_outbox_item_channel"),
)
Index("ix_outbox_status", outbox.c.status)

# Article texts (migration 6), apart from the items the cycle reads and writes: only `raqib
# rematch` (and backtests of a topic change) read them, and a ~5 KB text per row made every page
# of the items table and of its indexes' lookups cost more as history grew. `items.text` stays
# in the schema for older databases and is always NULL from migration 6 on.
item_texts = Table(
    "item_texts", metadata,
    Column("item_id", Integer, ForeignKey("items.id"), primary_key=True),
    Column("text", Text, nullable=False),
)

# Digests sent (migration 3): one row per (channel, period) so a digest is never sent twice.
digests = Table(
    "digests", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(64), nullable=False),
    Column("period", String(64), nullable=False),
    Column("stories", Integer, nullable=False),
    Column("sent_at", DateTime),
    UniqueConstraint("channel", "period", name="uq_digests_channel_period"),
)


# Analysts' judgments (migrations 12, 13): one row per (subject, topic); the subject is the judged
# item ("item:ID") or, for an article raqib never stored, its URL ("url:" + sha256). Holds the text
# of a fetched missed article (for `raqib feedback export`); never a secret.
feedback = Table(
    "feedback", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subject", String(80), nullable=False),
    Column("item_id", Integer, ForeignKey("items.id")),
    Column("url", Text),
    Column("topic", String(200), nullable=False),
    Column("verdict", String(20), nullable=False),  # relevant | not-relevant | missed
    Column("source", String(20), nullable=False),  # cli | page | link
    Column("title", Text),
    Column("text", Text),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("subject", "topic", name="uq_feedback_subject_topic"),
)


def _index_feedback(conn: Connection) -> None:
    have = {i["name"] for i in inspect(conn).get_indexes("feedback")}
    for name, col in (("ix_feedback_created_at", "created_at"), ("ix_feedback_item_id", "item_id")):
        if name not in have:
            conn.execute(text(f"CREATE INDEX {name} ON feedback ({col})"))


# Retention (migration 8): keys of items whose rows were pruned, so a feed that still lists them
# never makes them new again; and when each maintenance job last ran (one worker a day prunes).
seen_keys = Table(
    "seen_keys", metadata,
    Column("feed_id", Integer, ForeignKey("feeds.id"), primary_key=True),
    Column("key", String(1000), primary_key=True),
    Column("pruned_at", DateTime, nullable=False),
)
maintenance = Table(
    "maintenance", metadata,
    Column("job", String(64), primary_key=True),
    Column("last_run_at", DateTime),
)


def _create_all(conn: Connection) -> None:
    metadata.create_all(conn, tables=[feeds, items, alerts, outbox])


def _add_story_columns(conn: Connection) -> None:
    # A database made by migration 1 of an older release lacks these; a new one has them already.

    have = {c["name"] for c in inspect(conn).get_columns("items")}
    for name, ddl in (("fingerprint", "TEXT"), ("story_id", "INTEGER")):
        if name not in have:
            conn.execute(text(f"ALTER TABLE items ADD COLUMN {name} {ddl}"))
    have_ix = {i["name"] for i in inspect(conn).get_indexes("items")}
    if "ix_items_matched_at" not in have_ix:
        conn.execute(text("CREATE INDEX ix_items_matched_at ON items (matched_at)"))


_CLAIM_COLUMNS = {
    "feeds": (("lease_owner", "VARCHAR(200)"), ("lease_until", "TIMESTAMP"), ("poll_interval_s", "FLOAT")),
    "items": (("claimed_by", "VARCHAR(200)"), ("claim_until", "TIMESTAMP")),
    "outbox": (("claimed_by", "VARCHAR(200)"), ("claim_until", "TIMESTAMP")),
}


def _add_claim_columns(conn: Connection) -> None:
    # Like migration 2: an older database lacks the columns, a new one got them from migration 1.

    for table, cols in _CLAIM_COLUMNS.items():
        have = {c["name"] for c in inspect(conn).get_columns(table)}
        for name, ddl in cols:
            if name not in have:
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {name} {ddl}"))
    if "ix_feeds_next_poll_at" not in {i["name"] for i in inspect(conn).get_indexes("feeds")}:
        conn.execute(text("CREATE INDEX ix_feeds_next_poll_at ON feeds (next_poll_at)"))


def _index_stories(conn: Connection) -> None:
    # Finished items always carry their story id (their own for a first copy); older rows may not.

    conn.execute(update(items).where(items.c.story_id.is_(None), items.c.state.in_(("done", "duplicate")))
                 .values(story_id=items.c.id))
    if "ix_items_story_id" not in {i["name"] for i in inspect(conn).get_indexes("items")}:
        conn.execute(text("CREATE INDEX ix_items_story_id ON items (story_id)"))


def _move_texts(conn: Connection) -> None:
    metadata.create_all(conn, tables=[item_texts])
    conn.execute(text("INSERT INTO item_texts (item_id, text) SELECT id, text FROM items WHERE text IS NOT NULL"))
    conn.execute(text("UPDATE items SET text = NULL WHERE text IS NOT NULL"))


def _add_retention(conn: Connection) -> None:
    metadata.create_all(conn, tables=[seen_keys, maintenance])
    if "ix_items_polled_at" not in {i["name"] for i in inspect(conn).get_indexes("items")}:
        conn.execute(text("CREATE INDEX ix_items_polled_at ON items (polled_at)"))


def _incremental_vacuum(conn: Connection) -> None:
    # SQLite gives pruned pages back to the file system only in auto-vacuum mode. A new file gets it
    # on connect (before its first table); an older one is converted by its first prune, which runs
    # the one full VACUUM needed outside any transaction (flows.store.retention).
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA auto_vacuum=INCREMENTAL")


def _add_refused_host(conn: Connection) -> None:
    # Like migration 2: an older database lacks the column, a new one got it from migration 1.

    if "refused_host" not in {c["name"] for c in inspect(conn).get_columns("items")}:
        conn.execute(text("ALTER TABLE items ADD COLUMN refused_host VARCHAR(300)"))
    if "ix_items_refused_host" not in {i["name"] for i in inspect(conn).get_indexes("items")}:
        conn.execute(text("CREATE INDEX ix_items_refused_host ON items (refused_host)"))


def _add_update_of(conn: Connection) -> None:
    # Like migration 2: an older database lacks the column, a new one got it from migration 1.
    if "update_of" not in {c["name"] for c in inspect(conn).get_columns("items")}:
        conn.execute(text("ALTER TABLE items ADD COLUMN update_of INTEGER"))


# Append-only. Each entry: (version, name, function of a Connection).
MIGRATIONS: list[tuple[int, str, Any]] = [
    (1, "initial schema: feeds, items, alerts, outbox", _create_all),
    (2, "story fingerprints on items", _add_story_columns),
    (3, "digests sent per channel and period", lambda conn: metadata.create_all(conn, tables=[digests])),
    (4, "work sharing: feed leases, item and outbox claims, adaptive poll interval", _add_claim_columns),
    (5, "index items by story", lambda conn: _index_stories(conn)),
    (6, "article texts in a table of their own", _move_texts),
    (8, "retention: keys of pruned items, maintenance runs, items by poll time", _add_retention),
    (9, "sqlite: incremental auto-vacuum", _incremental_vacuum),
    (10, "items: the earlier story a later report updates", _add_update_of),
    (11, "items refused by the address guard remember the refused host", _add_refused_host),
    (12, "feedback: analysts' judgments per (item or url, topic)", lambda conn: metadata.create_all(conn, tables=[feedback])),
    (13, "feedback: index by time and item", lambda conn: _index_feedback(conn)),
]



def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)

