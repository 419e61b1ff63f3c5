"""The outbox: one row per (item, channel), written with the item's outcome, sent by the deliverer.

Mixed into `flows.store.state.Store`. A row is `pending` until apprise reports success (`sent`);
a failed send backs off from 1 minute, doubling, and is `dead` after `max_attempts`. What a
batch of messages names (alerts, outlets, the alert a story update follows) is read a batch at
a time, a few queries for all of it, with the same answers as the per-item reads.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Engine

from flows.store.schema import alerts, feeds, items, outbox, utcnow


# Run once per message: built once.
_MARK_SENT = update(outbox).where(outbox.c.id == bindparam("b_id")).values(
    status="sent", sent_at=bindparam("b_at"), last_error=None, attempts=outbox.c.attempts + 1)


class OutboxQueries:
    engine: Engine

    def due_deliveries(self, now: datetime | None = None) -> list[dict[str, Any]]:
        now = now or utcnow()
        q = (select(outbox, items.c.title, items.c.link, items.c.published_at, items.c.sitename, items.c.story_id,
                    items.c.update_of,
                    feeds.c.name.label("feed_name"), feeds.c.url.label("feed_url"))
             .join(items, items.c.id == outbox.c.item_id).join(feeds, feeds.c.id == items.c.feed_id)
             .where(outbox.c.status.in_(("pending", "sending")),
                    (outbox.c.next_attempt_at.is_(None)) | (outbox.c.next_attempt_at <= now))
             .order_by(outbox.c.id))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def alerts_for_item(self, item_id: int) -> dict[str, dict[str, Any]]:
        """The item's alerts by topic: name, score and evidence."""
        return self.alerts_for_items([item_id]).get(item_id, {})

    def alerts_for_items(self, item_ids: Iterable[int]) -> dict[int, dict[str, dict[str, Any]]]:
        """`alerts_for_item` of each of ``item_ids`` (an item without alerts is left out)."""
        out: dict[int, dict[str, dict[str, Any]]] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(item_ids):
                for r in conn.execute(select(alerts).where(alerts.c.item_id.in_(chunk))).mappings():
                    out.setdefault(r["item_id"], {})[r["topic"]] = {
                        "name": r["topic_name"] or r["topic"], "score": r["score"],
                        "evidence": json.loads(r["evidence"])}
        return out

    def story_outlets(self, story_id: int) -> list[str]:
        """The outlets (site or feed names) that carried the story, first seen first."""
        return self.outlets_of_stories([story_id]).get(story_id, [])

    def outlets_of_stories(self, story_ids: Iterable[int]) -> dict[int, list[str]]:
        """`story_outlets` of each of ``story_ids``."""
        out: dict[int, list[str]] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(story_ids):
                q = (select(items.c.story_id, items.c.sitename, feeds.c.name, feeds.c.url)
                     .join(feeds, feeds.c.id == items.c.feed_id)
                     .where(items.c.story_id.in_(chunk)).order_by(items.c.id))
                for story, site, name, url in conn.execute(q):
                    labels = out.setdefault(story, [])
                    label = site or name or url
                    if label not in labels:
                        labels.append(label)
        return out

    def first_alerts_of_stories(self, story_ids: Iterable[int]) -> dict[int, tuple[str, str | None, datetime | None]]:
        """(headline, outlet, publication time) of the first alerted item of each of ``story_ids``
        (the earlier alert an item updating that story, ``items.update_of``, names); a story
        without an alert is left out."""
        out: dict[int, tuple[str, str | None, datetime | None]] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(story_ids):
                q = (select(items.c.story_id, items.c.title, items.c.link, items.c.sitename, feeds.c.name,
                            items.c.published_at, items.c.matched_at)
                     .join(feeds, feeds.c.id == items.c.feed_id).join(alerts, alerts.c.item_id == items.c.id)
                     .where(items.c.story_id.in_(chunk)).order_by(items.c.id))
                for story, title, link, site, feed, published, matched in conn.execute(q):
                    if story not in out:
                        out[story] = (title or link or "", site or feed, published or matched)
        return out

    def mark_sending(self, outbox_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id == outbox_id).values(status="sending"))

    def mark_sent(self, outbox_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(_MARK_SENT, {"b_id": outbox_id, "b_at": utcnow()})

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


def _chunks(ids: Iterable[int], size: int = 500) -> Iterable[list[int]]:
    wanted = sorted(set(ids))
    for i in range(0, len(wanted), size):
        yield wanted[i:i + size]
