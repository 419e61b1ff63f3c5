"""State stage: the pipeline's own database through SQLAlchemy Core (SQLite or PostgreSQL).

Rules:
- the schema is versioned: `MIGRATIONS` is an append-only list, applied in order on open and
  recorded in `schema_migrations`; never edit a released migration, add one;
- SQLite runs in WAL mode with a busy timeout; every item's outcome is written in one
  transaction, so a crash leaves an item either untouched or finished;
- feeds are keyed by their config key, items by (feed, guid/link key); an item whose normalized
  content hash was already seen (any feed) is a duplicate and alerts nothing;
- alerts are one row per (item, topic); the outbox one row per (item, channel), written before
  sending, marked `sent` only after apprise reported success;
- no secret is ever stored: channels are stored by name, never by URL.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from sqlalchemy import (
    Boolean, Column, DateTime, Float, ForeignKey, Index, Integer, MetaData, String, Table, Text,
    UniqueConstraint, and_, create_engine, event, func, or_, select, text, update,
)
from sqlalchemy.engine import Connection, Engine

from flows.redact import redact_url  # noqa: F401  (moved; kept importable from here)

DATABASE_URL_ENV = "RAQIB_DATABASE_URL"

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
    # Work sharing (migration 4): the worker processing this pending item, until when.
    Column("claimed_by", String(200)),
    Column("claim_until", DateTime),
    UniqueConstraint("feed_id", "key", name="uq_items_feed_key"),
)
Index("ix_items_content_hash", items.c.content_hash)
Index("ix_items_state", items.c.state)
Index("ix_items_matched_at", items.c.matched_at)
Index("ix_items_story_id", items.c.story_id)

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


def _create_all(conn: Connection) -> None:
    metadata.create_all(conn, tables=[feeds, items, alerts, outbox])


def _add_story_columns(conn: Connection) -> None:
    # A database made by migration 1 of an older release lacks these; a new one has them already.
    from sqlalchemy import inspect

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
    from sqlalchemy import inspect

    for table, cols in _CLAIM_COLUMNS.items():
        have = {c["name"] for c in inspect(conn).get_columns(table)}
        for name, ddl in cols:
            if name not in have:
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {name} {ddl}"))
    if "ix_feeds_next_poll_at" not in {i["name"] for i in inspect(conn).get_indexes("feeds")}:
        conn.execute(text("CREATE INDEX ix_feeds_next_poll_at ON feeds (next_poll_at)"))


def _index_stories(conn: Connection) -> None:
    # Finished items always carry their story id (their own for a first copy); older rows may not.
    from sqlalchemy import inspect

    conn.execute(update(items).where(items.c.story_id.is_(None), items.c.state.in_(("done", "duplicate")))
                 .values(story_id=items.c.id))
    if "ix_items_story_id" not in {i["name"] for i in inspect(conn).get_indexes("items")}:
        conn.execute(text("CREATE INDEX ix_items_story_id ON items (story_id)"))


# Append-only. Each entry: (version, name, function of a Connection).
MIGRATIONS: list[tuple[int, str, Any]] = [
    (1, "initial schema: feeds, items, alerts, outbox", _create_all),
    (2, "story fingerprints on items", _add_story_columns),
    (3, "digests sent per channel and period", lambda conn: metadata.create_all(conn, tables=[digests])),
    (4, "work sharing: feed leases, item and outbox claims, adaptive poll interval", _add_claim_columns),
    (5, "index items by story", lambda conn: _index_stories(conn)),
]


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def database_url(state_dir: Path) -> str:
    env = os.environ.get(DATABASE_URL_ENV, "").strip()
    if env:
        return env
    state_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(state_dir / 'raqib.db').resolve()}"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


@dataclass(frozen=True)
class FeedRow:
    id: int
    key: str
    url: str
    name: str | None
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    consecutive_errors: int
    dead: bool
    interval_s: float | None = None  # the feed's adaptive poll interval (None: never polled)


@dataclass(frozen=True)
class PendingItem:
    id: int
    feed_id: int
    feed_name: str
    link: str | None
    title: str
    summary: str
    published_at: datetime | None
    polled_at: datetime
    attempts: int


class Store:
    """The pipeline's state. One instance per process; safe to share across threads."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite"):
            self.engine: Engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
        self.migrate()

    @classmethod
    def open(cls, state_dir: Path) -> "Store":
        return cls(database_url(Path(state_dir)))

    def close(self) -> None:
        self.engine.dispose()

    # -- schema ---------------------------------------------------------------------------
    def migrate(self) -> list[int]:
        """Apply pending migrations in order; returns the versions applied now."""
        applied_now: list[int] = []
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # One migrator at a time across processes.
                conn.execute(text("SELECT pg_advisory_xact_lock(7261001)"))
            elif conn.dialect.name == "sqlite":
                # Same on SQLite: take the write lock before looking at the schema, else two
                # workers starting on a new file both create the tables.
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            metadata.create_all(conn, tables=[schema_migrations])
            done = set(conn.execute(select(schema_migrations.c.version)).scalars())
            for version, name, fn in MIGRATIONS:
                if version in done:
                    continue
                fn(conn)
                conn.execute(schema_migrations.insert().values(version=version, name=name, applied_at=utcnow()))
                applied_now.append(version)
        return applied_now

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.max(schema_migrations.c.version))).scalar() or 0

    def _insert_ignore(self, conn: Connection, table: Table, values: dict[str, Any]) -> bool:
        """INSERT … ON CONFLICT DO NOTHING; True if a row was inserted."""
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert
            stmt = pg_insert(table).values(**values).on_conflict_do_nothing()
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert
            stmt = sqlite_insert(table).values(**values).on_conflict_do_nothing()
        # rowcount is unreliable with RETURNING-capable drivers; ask for the new key instead.
        return conn.execute(stmt.returning(table.c.id)).first() is not None

    # -- feeds ----------------------------------------------------------------------------
    def sync_feeds(self, configured: Iterable[tuple[str, str, str | None]]) -> list[FeedRow]:
        """Make sure every configured (key, url, name) has a row; returns them in config order.

        Existing rows are read in chunks and only missing or changed ones are written, so a run
        over many feeds costs a few queries rather than three per feed."""
        wanted = list(configured)
        with self.engine.begin() as conn:
            have = self._feed_rows_by_key(conn, [k for k, _, _ in wanted])
            stale = [(k, u, n) for k, u, n in wanted if k not in have or (have[k].url, have[k].name) != (u, n)]
            for key, url, name in stale:
                if key not in have and self._insert_ignore(conn, feeds, {
                        "key": key, "url": url, "name": name, "created_at": utcnow(), "consecutive_errors": 0,
                        "dead": False}):
                    continue
                conn.execute(update(feeds).where(feeds.c.key == key).values(url=url, name=name))
            if stale:
                have.update(self._feed_rows_by_key(conn, [k for k, _, _ in stale]))
        return [have[k] for k, _, _ in wanted]

    @staticmethod
    def _feed_row(row: Any) -> FeedRow:
        return FeedRow(row["id"], row["key"], row["url"], row["name"], row["etag"], row["last_modified"],
                       row["body_hash"], row["consecutive_errors"], bool(row["dead"]), row["poll_interval_s"])

    def _feed_rows_by_key(self, conn: Connection, keys: Sequence[str]) -> dict[str, FeedRow]:
        out: dict[str, FeedRow] = {}
        for i in range(0, len(keys), 500):
            for row in conn.execute(select(feeds).where(feeds.c.key.in_(list(keys[i:i + 500])))).mappings():
                out[row["key"]] = self._feed_row(row)
        return out

    # -- claims -----------------------------------------------------------------------------
    # Workers (threads, processes, machines) share one database and never do the same work: a
    # feed is polled under a lease, a pending item processed under a claim, an outbox row sent
    # under a claim. Each claim is one conditional UPDATE, so exactly one worker wins it:
    # PostgreSQL picks rows with FOR UPDATE SKIP LOCKED; SQLite serializes writers, and an UPDATE
    # that opens its transaction takes the write lock before it reads. A claim has an expiry, so
    # the work of a worker that died is free again once its lease runs out.

    def claim_feeds(self, owner: str, ids: Sequence[int], *, limit: int, lease_seconds: float,
                    due_only: bool, polled_before: datetime | None = None,
                    due_grace_seconds: float = 0.0) -> list[FeedRow]:
        """Lease up to ``limit`` of the feeds ``ids`` to ``owner``; returns the leased rows.

        A feed is free when it has no lease or its lease expired. ``due_only``: only feeds whose
        ``next_poll_at`` has come. ``polled_before``: only feeds not polled since then (a run passes
        its start, so it never polls a feed twice, nor one another worker polled meanwhile)."""
        if not ids or limit <= 0:
            return []
        now = utcnow()
        free = or_(feeds.c.lease_until.is_(None), feeds.c.lease_until < now)
        cond = [feeds.c.id.in_(list(ids)), free]
        if due_only:
            due_by = now + timedelta(seconds=due_grace_seconds)
            cond.append(or_(feeds.c.next_poll_at.is_(None), feeds.c.next_poll_at <= due_by))
        if polled_before is not None:
            cond.append(or_(feeds.c.last_polled_at.is_(None), feeds.c.last_polled_at < polled_before))
        pick = select(feeds.c.id).where(*cond).order_by(feeds.c.next_poll_at.nulls_first(), feeds.c.id).limit(limit)
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            stmt = (update(feeds).where(feeds.c.id.in_(pick.scalar_subquery()), free)
                    .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease_seconds))
                    .returning(*feeds.c))
            rows = [self._feed_row(r) for r in conn.execute(stmt).mappings()]
        return sorted(rows, key=lambda r: r.id)

    def claim_items(self, owner: str, *, limit: int, lease_seconds: float, after_id: int = 0) -> list[PendingItem]:
        """Claim up to ``limit`` pending items with ids above ``after_id`` for ``owner``, oldest first.

        A run moves ``after_id`` past what it claimed, so an item that failed in this run (and was
        released) waits for the next run instead of being retried at once."""
        now = utcnow()
        free = or_(items.c.claim_until.is_(None), items.c.claim_until < now)
        pick = (select(items.c.id).where(items.c.state == "pending", items.c.id > after_id, free)
                .order_by(items.c.id).limit(limit))
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            ids = list(conn.execute(
                update(items).where(items.c.id.in_(pick.scalar_subquery()), items.c.state == "pending", free)
                .values(claimed_by=owner, claim_until=now + timedelta(seconds=lease_seconds))
                .returning(items.c.id)).scalars())
            if not ids:
                return []
            q = (select(items, feeds.c.name.label("feed_name"), feeds.c.url.label("feed_url"))
                 .join(feeds, feeds.c.id == items.c.feed_id).where(items.c.id.in_(ids)).order_by(items.c.id))
            return [PendingItem(r["id"], r["feed_id"], r["feed_name"] or r["feed_url"], r["link"], r["title"] or "",
                                r["summary"] or "", r["published_at"], r["polled_at"], r["attempts"])
                    for r in conn.execute(q).mappings()]

    def claim_delivery(self, outbox_id: int, owner: str, lease_seconds: float) -> bool:
        """Mark an outbox row `sending` for ``owner``; False when another worker has it (or sent it).

        Claimable: a due `pending` row, or a `sending` row whose claim expired (its worker died
        between claiming and recording the outcome: the one at-least-once window)."""
        now = utcnow()
        due = or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= now)
        expired = or_(outbox.c.claim_until.is_(None), outbox.c.claim_until < now)
        with self.engine.begin() as conn:
            res = conn.execute(update(outbox).where(
                outbox.c.id == outbox_id,
                or_(and_(outbox.c.status == "pending", due), and_(outbox.c.status == "sending", expired)),
            ).values(status="sending", claimed_by=owner, claim_until=now + timedelta(seconds=lease_seconds)))
            return res.rowcount == 1

    def record_poll_success(self, feed_id: int, status: str, etag: str | None, last_modified: str | None,
                            body_hash: str | None, *, next_poll_at: datetime | None = None,
                            interval_s: float | None = None) -> bool:
        """Record a good poll and release the feed's lease; True if the feed had been failing."""
        now = utcnow()
        extra = {} if interval_s is None else {"poll_interval_s": interval_s}
        with self.engine.begin() as conn:
            before = conn.execute(select(feeds.c.consecutive_errors).where(feeds.c.id == feed_id)).scalar() or 0
            conn.execute(update(feeds).where(feeds.c.id == feed_id).values(
                etag=etag, last_modified=last_modified, body_hash=body_hash, last_polled_at=now,
                last_success_at=now, last_status=status, last_error=None, consecutive_errors=0, dead=False,
                next_poll_at=next_poll_at, lease_owner=None, lease_until=None, **extra))
        return before > 0

    def record_poll_failure(self, feed_id: int, reason: str,
                            next_poll_at: datetime | Callable[[int], datetime] | None = None,
                            dead_after: int = 0) -> int:
        """Record a failed poll and release the feed's lease; returns the consecutive error count.

        ``next_poll_at`` may be a function of that count (the backoff needs it)."""
        now = utcnow()
        with self.engine.begin() as conn:
            count = (conn.execute(select(feeds.c.consecutive_errors).where(feeds.c.id == feed_id)).scalar() or 0) + 1
            when = next_poll_at(count) if callable(next_poll_at) else next_poll_at
            values: dict[str, Any] = dict(
                last_polled_at=now, last_status="error", last_error=reason[:2000], consecutive_errors=count,
                next_poll_at=when, lease_owner=None, lease_until=None)
            if dead_after and count >= dead_after:  # never clears `dead`: only a successful poll does
                values["dead"] = True
            conn.execute(update(feeds).where(feeds.c.id == feed_id).values(**values))
        return count

    def mark_feed_dead(self, feed_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(feeds).where(feeds.c.id == feed_id).values(dead=True))

    def clear_validators(self, feed_id: int) -> None:
        """Forget ETag / Last-Modified / body hash so the next poll reads the whole feed again."""
        with self.engine.begin() as conn:
            conn.execute(update(feeds).where(feeds.c.id == feed_id).values(etag=None, last_modified=None, body_hash=None))

    def feed_rows(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(feeds).order_by(feeds.c.id)).mappings()]

    # -- items ----------------------------------------------------------------------------
    def known_keys(self, feed_id: int, keys: Sequence[str]) -> set[str]:
        found: set[str] = set()
        with self.engine.connect() as conn:
            for i in range(0, len(keys), 500):
                chunk = list(keys[i:i + 500])
                found.update(conn.execute(select(items.c.key).where(
                    items.c.feed_id == feed_id, items.c.key.in_(chunk))).scalars())
        return found

    def add_items(self, feed_id: int, entries: Sequence[dict[str, Any]], state: str = "pending") -> int:
        """Insert new entries (ignoring ones already there); returns how many were new."""
        now = utcnow()
        added = 0
        with self.engine.begin() as conn:
            for e in entries:
                added += self._insert_ignore(conn, items, {
                    "feed_id": feed_id, "key": e["key"], "link": e.get("link"), "title": e.get("title"),
                    "summary": e.get("summary"), "published_at": e.get("published"), "polled_at": now,
                    "state": e.get("state", state), "attempts": 0,
                })
        return added

    def pending_items(self, limit: int = 10_000) -> list[PendingItem]:
        q = (select(items, feeds.c.name.label("feed_name"), feeds.c.url.label("feed_url"))
             .join(feeds, feeds.c.id == items.c.feed_id)
             .where(items.c.state == "pending").order_by(items.c.id).limit(limit))
        with self.engine.connect() as conn:
            return [PendingItem(r["id"], r["feed_id"], r["feed_name"] or r["feed_url"], r["link"], r["title"] or "",
                                r["summary"] or "", r["published_at"], r["polled_at"], r["attempts"])
                    for r in conn.execute(q).mappings()]

    def hash_seen(self, content_hash: str, exclude_item: int) -> int | None:
        """The story id of an earlier item with the same content hash, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(items.c.id, items.c.story_id).where(
                items.c.content_hash == content_hash, items.c.id != exclude_item,
                items.c.state.in_(("done", "duplicate"))).order_by(items.c.id).limit(1)).first()
        return None if row is None else (row[1] or row[0])

    def finish_item(self, item_id: int, *, state: str, content_hash: str | None, text_: str | None,
                    sitename: str | None, topics: list[str],
                    alerts_: Sequence[tuple[str, str, float, list[dict[str, Any]]]],
                    deliveries: Sequence[tuple[str, list[str]]], fingerprint: str | None = None,
                    story_id: int | None = None, note: str | None = None) -> None:
        """Record an item's outcome, its alerts and their outbox rows in one transaction."""
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(update(items).where(items.c.id == item_id).values(
                state=state, content_hash=content_hash, text=text_, sitename=sitename,
                topics=json.dumps(topics), matched_at=now, last_error=note, fingerprint=fingerprint,
                story_id=story_id if story_id is not None else item_id))
            for topic, name, score, evidence in alerts_:
                self._insert_ignore(conn, alerts, {"item_id": item_id, "topic": topic, "topic_name": name,
                                                   "score": score,
                                                   "evidence": json.dumps(evidence, ensure_ascii=False),
                                                   "created_at": now})
            for channel, topics_ in deliveries:
                self._insert_ignore(conn, outbox, {"item_id": item_id, "channel": channel,
                                                   "topics": json.dumps(topics_), "status": "pending",
                                                   "attempts": 0, "created_at": now, "next_attempt_at": now})

    def recent_fingerprints(self, since: datetime, exclude_item: int) -> list[tuple[int, int, str]]:
        """(item id, story id, fingerprint) of items processed since ``since``."""
        q = (select(items.c.id, items.c.story_id, items.c.fingerprint)
             .where(items.c.state.in_(("done", "duplicate")), items.c.fingerprint.is_not(None),
                    items.c.matched_at >= since, items.c.id != exclude_item).order_by(items.c.id))
        with self.engine.connect() as conn:
            return [(r[0], r[1] or r[0], r[2]) for r in conn.execute(q)]

    def story_topics(self, story_id: int) -> set[str]:
        """Topics already alerted for any item of the story."""
        # story_id alone, not "OR id = ...": the OR defeats the index and scans every item.
        q = (select(alerts.c.topic).join(items, items.c.id == alerts.c.item_id)
             .where(items.c.story_id == story_id))
        with self.engine.connect() as conn:
            return set(conn.execute(q).scalars())

    def story_outlets(self, story_id: int) -> list[str]:
        """The outlets (site or feed names) that carried the story, first seen first."""
        q = (select(items.c.sitename, feeds.c.name, feeds.c.url).join(feeds, feeds.c.id == items.c.feed_id)
             .where(items.c.story_id == story_id).order_by(items.c.id))
        out: list[str] = []
        with self.engine.connect() as conn:
            for site, name, url in conn.execute(q):
                label = site or name or url
                if label not in out:
                    out.append(label)
        return out

    def alerted_since(self, since: datetime) -> list[dict[str, Any]]:
        """Alerts created since ``since``: topic, story and the story's first item, oldest first."""
        q = (select(alerts.c.topic, alerts.c.topic_name, alerts.c.created_at, items.c.id.label("item_id"),
                    items.c.story_id, items.c.title, items.c.link, items.c.published_at)
             .join(items, items.c.id == alerts.c.item_id)
             .where(alerts.c.created_at >= since).order_by(alerts.c.created_at, alerts.c.id))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def digest_sent(self, channel: str, period: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(digests.c.id).where(
                digests.c.channel == channel, digests.c.period == period,
                digests.c.sent_at.is_not(None))).first() is not None

    def record_digest(self, channel: str, period: str, stories: int) -> None:
        with self.engine.begin() as conn:
            if not self._insert_ignore(conn, digests, {"channel": channel, "period": period, "stories": stories,
                                                       "sent_at": utcnow()}):
                conn.execute(update(digests).where(digests.c.channel == channel, digests.c.period == period)
                             .values(stories=stories, sent_at=utcnow()))

    def latency_by_feed(self) -> list[dict[str, Any]]:
        """Publication-to-delivery latency of sent alerts, per feed: count, median and worst seconds."""
        q = (select(feeds.c.name, feeds.c.url, items.c.published_at, items.c.polled_at, outbox.c.sent_at)
             .join(items, items.c.id == outbox.c.item_id).join(feeds, feeds.c.id == items.c.feed_id)
             .where(outbox.c.status == "sent", outbox.c.sent_at.is_not(None)))
        per: dict[str, list[float]] = {}
        with self.engine.connect() as conn:
            for name, url, published, polled, sent in conn.execute(q):
                start = published or polled  # an item without a date counts from when it was polled
                per.setdefault(name or url, []).append(max(0.0, (sent - start).total_seconds()))
        out = []
        for feed, values in sorted(per.items()):
            values.sort()
            mid = len(values) // 2
            median = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
            out.append({"feed": feed, "alerts": len(values), "median_seconds": round(median, 1),
                        "worst_seconds": round(values[-1], 1)})
        return out

    def matched_items(self) -> list[dict[str, Any]]:
        """Items that were matched from text (not duplicates), with the topics they alerted."""
        q = (select(items.c.id, items.c.title, items.c.link, items.c.text, feeds.c.name.label("feed"))
             .join(feeds, feeds.c.id == items.c.feed_id)
             .where(items.c.state == "done", items.c.text.is_not(None)).order_by(items.c.id))
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(q).mappings()]
            alerted: dict[int, set[str]] = {}
            for item_id, topic in conn.execute(select(alerts.c.item_id, alerts.c.topic)):
                alerted.setdefault(item_id, set()).add(topic)
        for r in rows:
            r["alerted"] = sorted(alerted.get(r["id"], set()))
        return rows

    def fail_item(self, item_id: int, reason: str, give_up_after: int) -> int:
        """Count a failed extraction; the item stays pending until ``give_up_after`` tries."""
        with self.engine.begin() as conn:
            attempts = (conn.execute(select(items.c.attempts).where(items.c.id == item_id)).scalar() or 0) + 1
            conn.execute(update(items).where(items.c.id == item_id).values(
                attempts=attempts, last_error=reason[:2000],
                state="failed" if attempts >= give_up_after else "pending", claimed_by=None, claim_until=None))
        return attempts

    def item_count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(items)).scalar() or 0

    # -- outbox ---------------------------------------------------------------------------
    def due_deliveries(self, now: datetime | None = None) -> list[dict[str, Any]]:
        now = now or utcnow()
        q = (select(outbox, items.c.title, items.c.link, items.c.published_at, items.c.sitename, items.c.story_id,
                    feeds.c.name.label("feed_name"), feeds.c.url.label("feed_url"))
             .join(items, items.c.id == outbox.c.item_id).join(feeds, feeds.c.id == items.c.feed_id)
             .where(outbox.c.status.in_(("pending", "sending")),
                    (outbox.c.next_attempt_at.is_(None)) | (outbox.c.next_attempt_at <= now))
             .order_by(outbox.c.id))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def alerts_for_item(self, item_id: int) -> dict[str, dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(alerts).where(alerts.c.item_id == item_id)).mappings()
            return {r["topic"]: {"name": r["topic_name"] or r["topic"], "score": r["score"],
                                 "evidence": json.loads(r["evidence"])} for r in rows}

    def mark_sending(self, outbox_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id == outbox_id).values(status="sending"))

    def mark_sent(self, outbox_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id == outbox_id).values(
                status="sent", sent_at=utcnow(), last_error=None, attempts=outbox.c.attempts + 1))

    def mark_failed(self, outbox_id: int, reason: str, max_attempts: int) -> str:
        """Count a failed send; backoff doubles from 1 minute; dead after ``max_attempts``."""
        with self.engine.begin() as conn:
            attempts = (conn.execute(select(outbox.c.attempts).where(outbox.c.id == outbox_id)).scalar() or 0) + 1
            status = "dead" if attempts >= max_attempts else "pending"
            wait = timedelta(minutes=min(2 ** (attempts - 1), 360))
            conn.execute(update(outbox).where(outbox.c.id == outbox_id).values(
                status=status, attempts=attempts, last_error=reason[:500], next_attempt_at=utcnow() + wait))
        return status

    def outbox_counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status)).all()
        return {status: n for status, n in rows}

    def dead_deliveries(self) -> list[dict[str, Any]]:
        q = (select(outbox.c.id, outbox.c.channel, outbox.c.topics, outbox.c.attempts, outbox.c.last_error,
                    items.c.title, items.c.link).join(items, items.c.id == outbox.c.item_id)
             .where(outbox.c.status == "dead").order_by(outbox.c.id))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]
