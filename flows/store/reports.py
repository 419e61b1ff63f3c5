"""Read-side queries of the state: stories, digests, latency, status and backtest views.

Mixed into `flows.store.state.Store`; each method opens its own connection and never writes, except
the digest bookkeeping (`record_digest`) and the failed-extraction count (`fail_item`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Engine

from flows.store.schema import alerts, digests, feeds, item_texts, items, outbox, utcnow


# Asked once per item of a known story: built once (half its cost was building it).
# story_id alone, not "OR id = ...": the OR defeats the index and scans every item.
_STORY_TOPICS = (select(alerts.c.topic).join(items, items.c.id == alerts.c.item_id)
                 .where(items.c.story_id == bindparam("story")))


class ReportQueries:
    engine: Engine
    _insert_ignore: Any  # Store's INSERT … ON CONFLICT DO NOTHING helper

    def story_topics(self, story_id: int) -> set[str]:
        """Topics already alerted for any item of the story."""
        with self.engine.connect() as conn:
            return set(conn.execute(_STORY_TOPICS, {"story": story_id}).scalars())

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
        q = (select(items.c.id, items.c.title, items.c.link, item_texts.c.text, feeds.c.name.label("feed"))
             .join(item_texts, item_texts.c.item_id == items.c.id).join(feeds, feeds.c.id == items.c.feed_id)
             .where(items.c.state == "done").order_by(items.c.id))
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(q).mappings()]
            alerted: dict[int, set[str]] = {}
            for item_id, topic in conn.execute(select(alerts.c.item_id, alerts.c.topic)):
                alerted.setdefault(item_id, set()).add(topic)
        for r in rows:
            r["alerted"] = sorted(alerted.get(r["id"], set()))
        return rows

    def fail_item(self, item_id: int, reason: str, give_up_after: int, refused_host: str | None = None) -> int:
        """Count a failed extraction; the item stays pending until ``give_up_after`` tries.

        ``refused_host``: the address guard refused this host:port (kept for `requeue_allowed`)."""
        with self.engine.begin() as conn:
            attempts = (conn.execute(select(items.c.attempts).where(items.c.id == item_id)).scalar() or 0) + 1
            conn.execute(update(items).where(items.c.id == item_id).values(
                attempts=attempts, last_error=reason[:2000], refused_host=(refused_host or None) and refused_host[:300],
                state="failed" if attempts >= give_up_after else "pending", claimed_by=None, claim_until=None))
        return attempts

    def requeue_allowed(self, allows: Callable[[str], bool]) -> int:
        """Make items the address guard refused pending again when ``allows`` their host now.

        Such an item was matched on its feed summary; fetched now, its page may fire topics the
        summary did not (alerts and outbox rows stay unique per item: nothing is sent twice)."""
        with self.engine.begin() as conn:
            rows = conn.execute(select(items.c.id, items.c.refused_host).where(
                items.c.refused_host.is_not(None), items.c.state != "pending")).all()
            ids = [r[0] for r in rows if allows(r[1])]
            for i in range(0, len(ids), 500):
                conn.execute(update(items).where(items.c.id.in_(ids[i:i + 500])).values(
                    state="pending", attempts=0, refused_host=None, claimed_by=None, claim_until=None))
        return len(ids)

    def item_count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(items)).scalar() or 0

