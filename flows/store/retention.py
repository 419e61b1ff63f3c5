"""Retention: data ages out, what guarantees delivery and deduplication stays.

Rules (`retention_days`, 30 by default; 0 keeps everything):
- the cutoff is `retention_days` before now, and never inside the story window
  (`story_window_hours`): stories and their fingerprints within it are always kept;
- items polled before the cutoff lose their article text (`item_texts`; `drop_texts` is the one
  place that knows), their summary and their fingerprint;
- such an item's row goes too when nothing refers to it (no alert, no outbox row, no analyst's
  judgment, not pending);
  its (feed, key) moves to `seen_keys` first, in the same transaction, so a feed that still lists
  it never makes it new again: nothing alerts twice;
- alerts and outbox rows are kept, and so are the rows of the items they name (title, link, story);
- work is done in chunks of `CHUNK` items, one transaction each, so workers are never blocked long;
- SQLite: freed pages go back to the file system (`PRAGMA incremental_vacuum`); a file made before
  auto-vacuum is converted once by a full `VACUUM` (outside any transaction);
- `prune_if_due` lets one run a day (any worker: a conditional update on `maintenance`) prune.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Sequence

from sqlalchemy import delete, exists, select, update
from sqlalchemy.engine import Connection

from flows.config import Settings
from flows.store.schema import alerts, feedback, item_texts, items, maintenance, outbox, seen_keys, utcnow
from flows.store.state import Store

CHUNK = 1000
PRUNE_EVERY = timedelta(hours=20)  # "once a day or so": a daily run a little early still counts


@dataclass
class PruneReport:
    cutoff: str
    texts_dropped: int = 0
    items_removed: int = 0
    keys_kept: int = 0
    bytes_before: int | None = None
    bytes_after: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def cutoff_for(settings: Settings, now: datetime | None = None) -> datetime | None:
    """Items polled before this are pruned; None when retention is off."""
    if not settings.retention_days:
        return None
    now = now or utcnow()
    keep = max(timedelta(days=settings.retention_days), timedelta(hours=settings.story_window_hours))
    return now - keep


def drop_texts(conn: Connection, ids: Sequence[int]) -> int:
    """Forget the article texts of ``ids`` (their table since migration 6; `items.text` too, for a
    row written before it), summaries and fingerprints; returns how many items had a text."""
    had = conn.execute(delete(item_texts).where(item_texts.c.item_id.in_(ids))).rowcount or 0
    had += conn.execute(update(items).where(items.c.id.in_(ids), items.c.text.is_not(None))
                        .values(text=None)).rowcount or 0
    conn.execute(update(items).where(items.c.id.in_(ids)).values(summary=None, fingerprint=None))
    return had


def prune(store: Store, settings: Settings, now: datetime | None = None,
          log: logging.Logger | None = None) -> PruneReport:
    """Apply retention now; returns what was done."""
    log = log or logging.getLogger("raqib.retention")
    cutoff = cutoff_for(settings, now)
    report = PruneReport(cutoff=cutoff.isoformat(timespec="seconds") + "Z" if cutoff else "off")
    report.bytes_before = _file_size(store)
    if cutoff is None:
        return report
    _ensure_auto_vacuum(store)
    referenced = exists().where(alerts.c.item_id == items.c.id) | exists().where(feedback.c.item_id == items.c.id)
    queued = exists().where(outbox.c.item_id == items.c.id)
    last = 0
    while True:
        with store.engine.begin() as conn:
            rows = conn.execute(
                select(items.c.id, items.c.feed_id, items.c.key, referenced.label("kept"), queued.label("queued"))
                .where(items.c.id > last, items.c.polled_at < cutoff, items.c.state != "pending")
                .order_by(items.c.id).limit(CHUNK)).all()
            if not rows:
                break
            last = rows[-1].id
            report.texts_dropped += drop_texts(conn, [r.id for r in rows])
            gone = [r for r in rows if not r.kept and not r.queued]
            if gone:
                _insert_ignore(conn, seen_keys, [{"feed_id": r.feed_id, "key": r.key, "pruned_at": utcnow()}
                                                 for r in gone])
                conn.execute(delete(items).where(items.c.id.in_([r.id for r in gone])))
                report.items_removed += len(gone)
                report.keys_kept += len(gone)
    _reclaim(store)
    report.bytes_after = _file_size(store)
    log.info("pruned before %s: %d texts dropped, %d item rows removed (keys kept)",
             report.cutoff, report.texts_dropped, report.items_removed)
    return report


def prune_if_due(store: Store, settings: Settings, log: logging.Logger | None = None) -> PruneReport | None:
    """Prune when no run has in the last `PRUNE_EVERY`; the conditional update elects one run."""
    if not settings.retention_days:
        return None
    now = utcnow()
    with store.engine.begin() as conn:
        _insert_ignore(conn, maintenance, [{"job": "prune", "last_run_at": None}])
        won = conn.execute(update(maintenance).where(
            maintenance.c.job == "prune",
            (maintenance.c.last_run_at.is_(None)) | (maintenance.c.last_run_at < now - PRUNE_EVERY),
        ).values(last_run_at=now)).rowcount == 1
    return prune(store, settings, now, log) if won else None


def prune_quietly(store: Store, settings: Settings, log: logging.Logger) -> None:
    """The cycle's daily prune: a failure is logged, never the run's failure."""
    try:
        prune_if_due(store, settings, log)
    except Exception as exc:  # the next day's run tries again
        log.warning("retention prune failed: %s: %s", exc.__class__.__name__, exc)


def _file_size(store: Store) -> int | None:
    path = store.engine.url.database if store.engine.dialect.name == "sqlite" else None
    if not path or not os.path.exists(path):
        return None
    wal = path + "-wal"
    return os.path.getsize(path) + (os.path.getsize(wal) if os.path.exists(wal) else 0)


def _insert_ignore(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    conn.execute(insert(table).on_conflict_do_nothing(), rows)


def _ensure_auto_vacuum(store: Store) -> None:
    if store.engine.dialect.name != "sqlite":
        return
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if conn.exec_driver_sql("PRAGMA auto_vacuum").scalar() != 2:  # 2 = incremental
            # The file predates auto-vacuum: convert it once (VACUUM runs outside any transaction).
            conn.exec_driver_sql("PRAGMA auto_vacuum=INCREMENTAL")
            conn.exec_driver_sql("VACUUM")


def _reclaim(store: Store) -> None:
    if store.engine.dialect.name != "sqlite":
        return  # PostgreSQL's autovacuum makes the space reusable; VACUUM FULL is the operator's call
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        raw = conn.connection.dbapi_connection
        # The pragma frees one page per step and returns no rows, so `execute` would free one
        # page only; `executescript` steps it to the end.
        raw.executescript("PRAGMA incremental_vacuum;")
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
