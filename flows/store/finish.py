"""Finishing processed items: their outcomes, alerts and outbox rows, and the reads that decide them.

Mixed into `flows.store.state.Store`. Rules: every outcome, with its alerts and outbox rows, is
written in one transaction (with the others of its batch), one statement per table over the
batch; inserts ignore conflicts, so an outcome written twice (a crash, a retry) creates no row
twice; article texts go to `item_texts` (done items only: a duplicate's text is the first's).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import DateTime, Integer, Table, bindparam, func, select, update
from sqlalchemy.engine import Connection, Engine

from flows.store.schema import alerts, item_texts, items, outbox, utcnow


# Asked for every few items: built once. The hash index alone: with an ORDER BY or a condition
# on the state, SQLite walks the items in id order or by state instead (~130 ms a query on
# 100,000 items).
_HASHES_SEEN = (select(items.c.content_hash, items.c.id, items.c.story_id, items.c.state)
                .where(items.c.content_hash.in_(bindparam("hashes", expanding=True))))


@dataclass
class ItemOutcome:
    """What processing decided for one item: written by `Store.finish_items`."""

    item_id: int
    state: str  # done | duplicate
    content_hash: str | None
    text: str | None
    sitename: str | None
    topics: list[str]
    alerts: Sequence[tuple[str, str, float, list[dict[str, Any]]]]  # (topic, name, score, evidence)
    deliveries: Sequence[tuple[str, list[str]]]  # (channel, topics)
    fingerprint: str | None = None
    story_id: int | None = None
    note: str | None = None
    title: str | None = None  # the page's title, for an entry that had none
    published_at: datetime | None = None  # the page's date, for an entry that had none
    update_of: int | None = None  # the story this report updates (a later report of the same event)


class FinishQueries:
    engine: Engine

    def hash_seen(self, content_hash: str, exclude_item: int) -> int | None:
        """The story id of an earlier item with the same content hash, or None."""
        return self.hashes_seen([content_hash], exclude_items=[exclude_item]).get(content_hash)

    def hashes_seen(self, hashes: Sequence[str], exclude_items: Sequence[int] = ()) -> dict[str, int]:
        """For each content hash already finished (done or duplicate) by an item not in
        ``exclude_items``: the story id of the first such item. One query per 500 hashes."""
        first: dict[str, tuple[int, int]] = {}  # hash -> (item id, story id) of its first item
        wanted = sorted(set(hashes))
        excluded = set(exclude_items)
        with self.engine.connect() as conn:
            for i in range(0, len(wanted), 500):
                for digest, item_id, story_id, state in conn.execute(_HASHES_SEEN, {"hashes": wanted[i:i + 500]}):
                    if state not in ("done", "duplicate") or item_id in excluded:
                        continue
                    if digest not in first or item_id < first[digest][0]:
                        first[digest] = (item_id, story_id or item_id)
        return {digest: story for digest, (_, story) in first.items()}

    def finish_item(self, item_id: int, *, state: str, content_hash: str | None, text_: str | None,
                    sitename: str | None, topics: list[str],
                    alerts_: Sequence[tuple[str, str, float, list[dict[str, Any]]]],
                    deliveries: Sequence[tuple[str, list[str]]], fingerprint: str | None = None,
                    story_id: int | None = None, note: str | None = None,
                    update_of: int | None = None) -> None:
        """Record an item's outcome, its alerts and their outbox rows in one transaction."""
        self.finish_items([ItemOutcome(item_id, state, content_hash, text_, sitename, topics, alerts_, deliveries,
                                       fingerprint, story_id, note, update_of=update_of)])

    def finish_items(self, outcomes: Sequence["ItemOutcome"]) -> None:
        """Record several items' outcomes, with their alerts and outbox rows, in one transaction:
        a crash leaves every one of them either untouched (still pending) or finished. One
        statement per table, executed over all the rows (an outcome written twice, after a crash
        and a retry, creates no row twice: the inserts ignore conflicts)."""
        if not outcomes:
            return
        now = utcnow()
        updates, texts, alert_rows, outbox_rows = [], [], [], []
        for o in outcomes:
            updates.append({"b_id": o.item_id, "b_state": o.state, "b_hash": o.content_hash, "b_site": o.sitename,
                            "b_topics": json.dumps(o.topics), "b_note": o.note, "b_fp": o.fingerprint,
                            "b_story": o.story_id if o.story_id is not None else o.item_id,
                            "b_title": o.title, "b_published": o.published_at, "b_update_of": o.update_of})
            if o.text is not None and o.state == "done":  # kept for rematch; a duplicate's is the first's
                texts.append({"item_id": o.item_id, "text": o.text})
            alert_rows += [{"item_id": o.item_id, "topic": topic, "topic_name": name, "score": score,
                            "evidence": json.dumps(evidence, ensure_ascii=False), "created_at": now}
                           for topic, name, score, evidence in o.alerts]
            outbox_rows += [{"item_id": o.item_id, "channel": channel, "topics": json.dumps(topics_),
                             "status": "pending", "attempts": 0, "created_at": now, "next_attempt_at": now}
                            for channel, topics_ in o.deliveries]
        stmt = update(items).where(items.c.id == bindparam("b_id")).values(
            state=bindparam("b_state"), content_hash=bindparam("b_hash"), sitename=bindparam("b_site"),
            topics=bindparam("b_topics"), matched_at=now, last_error=bindparam("b_note"),
            fingerprint=bindparam("b_fp"), story_id=bindparam("b_story"),
            update_of=bindparam("b_update_of", type_=Integer),
            title=func.coalesce(bindparam("b_title"), items.c.title),
            published_at=func.coalesce(bindparam("b_published", type_=DateTime), items.c.published_at))
        with self.engine.begin() as conn:
            conn.execute(stmt, updates)
            for table, rows in ((item_texts, texts), (alerts, alert_rows), (outbox, outbox_rows)):
                if rows:
                    conn.execute(self._insert_ignore_stmt(conn, table), rows)

    @staticmethod
    def _insert_ignore_stmt(conn: Connection, table: Table) -> Any:
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert
            return pg_insert(table).on_conflict_do_nothing()
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert
        return sqlite_insert(table).on_conflict_do_nothing()

    def recent_fingerprints(self, since: datetime, exclude_item: int) -> list[tuple[int, int, str]]:
        """(item id, story id, fingerprint) of items processed since ``since``."""
        q = (select(items.c.id, items.c.story_id, items.c.fingerprint)
             .where(items.c.state.in_(("done", "duplicate")), items.c.fingerprint.is_not(None),
                    items.c.matched_at >= since, items.c.id != exclude_item).order_by(items.c.id))
        with self.engine.connect() as conn:
            return [(r[0], r[1] or r[0], r[2]) for r in conn.execute(q)]

