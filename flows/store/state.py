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

Writing processed items' outcomes lives in `flows.store.finish`, the outbox in `flows.store.outbox`,
read-side reports in `flows.store.reports` (mixed into `Store`).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from sqlalchemy import (
    DateTime, Float, Table, and_, bindparam, create_engine, event, func, or_, select, text, update,
)
from sqlalchemy.engine import Connection, Engine
from flows.store.finish import FinishQueries, ItemOutcome  # noqa: F401  (ItemOutcome re-exported)
from flows.store.outbox import OutboxQueries
from flows.store.reports import ReportQueries
from flows.store.schema import (  # noqa: F401  (re-exported: callers import the tables from here)
    MIGRATIONS, alerts, digests, feeds, item_texts, items, maintenance, metadata, outbox, schema_migrations,
    seen_keys, utcnow,
)

from flows.store.dburl import DATABASE_URL_ENV, check_driver, normalize
from flows.redact import redact_url  # noqa: F401  (moved; kept importable from here)


def database_url(state_dir: Path) -> str:
    env = os.environ.get(DATABASE_URL_ENV, "").strip()
    if env:
        return normalize(env)
    state_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(state_dir / 'raqib.db').resolve()}"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # Before anything else: on a new file this makes freed pages returnable (flows.store.retention).
    cur.execute("PRAGMA auto_vacuum=INCREMENTAL")
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


# Run once per message: built once (building a statement cost as much as running it).
_CLAIM_DELIVERY = update(outbox).where(
    outbox.c.id == bindparam("b_id"),
    or_(and_(outbox.c.status == "pending",
             or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= bindparam("b_now"))),
        and_(outbox.c.status == "sending",
             or_(outbox.c.claim_until.is_(None), outbox.c.claim_until < bindparam("b_now")))),
).values(status="sending", claimed_by=bindparam("b_owner"), claim_until=bindparam("b_until"))


# Run once per feed polled: built once.
_FEED_ERRORS = select(feeds.c.consecutive_errors).where(feeds.c.id == bindparam("b_id"))
_POLL_SUCCESS = update(feeds).where(feeds.c.id == bindparam("b_id")).values(
    etag=bindparam("b_etag"), last_modified=bindparam("b_lm"), body_hash=bindparam("b_hash"),
    last_polled_at=bindparam("b_now"), last_success_at=bindparam("b_now"), last_status=bindparam("b_status"),
    last_error=None, consecutive_errors=0, dead=False, next_poll_at=bindparam("b_next", type_=DateTime),
    lease_owner=None, lease_until=None,
    # no interval given: the feed keeps the one it had
    poll_interval_s=func.coalesce(bindparam("b_interval", type_=Float), feeds.c.poll_interval_s))


_CLAIMED_ITEMS = (select(items, feeds.c.name.label("feed_name"), feeds.c.url.label("feed_url"))
                  .join(feeds, feeds.c.id == items.c.feed_id)
                  .where(items.c.id.in_(bindparam("b_ids", expanding=True))).order_by(items.c.id))


@functools.lru_cache(maxsize=4)
def _claim_items_stmt(dialect: str) -> Any:
    """The conditional UPDATE that claims pending items, built once per dialect (see the claims
    comment in `Store`): PostgreSQL picks them FOR UPDATE SKIP LOCKED."""
    free = or_(items.c.claim_until.is_(None), items.c.claim_until < bindparam("b_now"))
    pick = (select(items.c.id).where(items.c.state == "pending", items.c.id > bindparam("b_after"), free)
            .order_by(items.c.id).limit(bindparam("b_limit")))
    if dialect == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    return (update(items).where(items.c.id.in_(pick.scalar_subquery()), items.c.state == "pending", free)
            .values(claimed_by=bindparam("b_owner"), claim_until=bindparam("b_until")).returning(items.c.id))


class Store(OutboxQueries, ReportQueries, FinishQueries):
    """The pipeline's state. One instance per process; safe to share across threads."""

    def __init__(self, url: str) -> None:
        url = normalize(url)
        check_driver(url)
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

    def _insert_ignore(self, conn: Connection, table: Table, values: dict[str, Any], key: Any = None) -> bool:
        """INSERT … ON CONFLICT DO NOTHING; True if a row was inserted."""
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert
            stmt = pg_insert(table).values(**values).on_conflict_do_nothing()
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert
            stmt = sqlite_insert(table).values(**values).on_conflict_do_nothing()
        # rowcount is unreliable with RETURNING-capable drivers; ask for the new key instead.
        return conn.execute(stmt.returning(table.c.id if key is None else key)).first() is not None

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
        with self.engine.begin() as conn:
            ids = list(conn.execute(_claim_items_stmt(conn.dialect.name), {
                "b_now": now, "b_after": after_id, "b_limit": limit, "b_owner": owner,
                "b_until": now + timedelta(seconds=lease_seconds)}).scalars())
            if not ids:
                return []
            return [PendingItem(r["id"], r["feed_id"], r["feed_name"] or r["feed_url"], r["link"], r["title"] or "",
                                r["summary"] or "", r["published_at"], r["polled_at"], r["attempts"])
                    for r in conn.execute(_CLAIMED_ITEMS, {"b_ids": ids}).mappings()]

    def claim_delivery(self, outbox_id: int, owner: str, lease_seconds: float) -> bool:
        """Mark an outbox row `sending` for ``owner``; False when another worker has it (or sent it).

        Claimable: a due `pending` row, or a `sending` row whose claim expired (its worker died
        between claiming and recording the outcome: the one at-least-once window)."""
        now = utcnow()
        with self.engine.begin() as conn:
            res = conn.execute(_CLAIM_DELIVERY, {"b_id": outbox_id, "b_now": now, "b_owner": owner,
                                                 "b_until": now + timedelta(seconds=lease_seconds)})
            return res.rowcount == 1

    def record_poll_success(self, feed_id: int, status: str, etag: str | None, last_modified: str | None,
                            body_hash: str | None, *, next_poll_at: datetime | None = None,
                            interval_s: float | None = None) -> bool:
        """Record a good poll and release the feed's lease; True if the feed had been failing."""
        now = utcnow()
        with self.engine.begin() as conn:
            before = conn.execute(_FEED_ERRORS, {"b_id": feed_id}).scalar() or 0
            conn.execute(_POLL_SUCCESS, {"b_id": feed_id, "b_etag": etag, "b_lm": last_modified, "b_hash": body_hash,
                                         "b_now": now, "b_status": status, "b_next": next_poll_at,
                                         "b_interval": interval_s})
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
                # Items pruned by retention are still seen: their keys outlive their rows.
                found.update(conn.execute(select(seen_keys.c.key).where(
                    seen_keys.c.feed_id == feed_id, seen_keys.c.key.in_(chunk))).scalars())
        return found

    def add_items(self, feed_id: int, entries: Sequence[dict[str, Any]], state: str = "pending") -> int:
        """Insert new entries (ignoring ones already there); returns how many were new."""
        if not entries:
            return 0
        now = utcnow()
        rows = [{"feed_id": feed_id, "key": e["key"], "link": e.get("link"), "title": e.get("title"),
                 "summary": e.get("summary"), "published_at": e.get("published"), "polled_at": now,
                 "state": e.get("state", state), "attempts": 0} for e in entries]
        with self.engine.begin() as conn:
            # One statement over the rows (SQLAlchemy batches them into multi-row INSERTs); a row
            # already there returns no id, so the ids returned are the new rows.
            stmt = self._insert_ignore_stmt(conn, items).returning(items.c.id)
            return len(conn.execute(stmt, rows).all())

    def pending_items(self, limit: int = 10_000) -> list[PendingItem]:
        q = (select(items, feeds.c.name.label("feed_name"), feeds.c.url.label("feed_url"))
             .join(feeds, feeds.c.id == items.c.feed_id)
             .where(items.c.state == "pending").order_by(items.c.id).limit(limit))
        with self.engine.connect() as conn:
            return [PendingItem(r["id"], r["feed_id"], r["feed_name"] or r["feed_url"], r["link"], r["title"] or "",
                                r["summary"] or "", r["published_at"], r["polled_at"], r["attempts"])
                    for r in conn.execute(q).mappings()]
