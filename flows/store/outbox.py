"""The outbox: one row per (item, channel), written with the item's outcome, sent by the deliverer.

Mixed into `flows.store.state.Store`. A row is `pending` until apprise reports success (`sent`);
a failed send backs off from 1 minute, doubling, and is `dead` after `max_attempts`.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine

from flows.store.schema import alerts, feeds, items, outbox, utcnow


class OutboxQueries:
    engine: Engine

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

