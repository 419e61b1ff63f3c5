"""Deliver stage: send the due outbox rows, each under its own claim, and record the outcome.

Rules:
- a row is sent only by the worker whose conditional claim (`Store.claim_delivery`) won it, and
  marked sent only when apprise reported success; a failure backs off (`Store.mark_failed`) until
  the row is dead;
- what the messages name (alerts, outlets, the alert a story update follows) is read for
  ``BATCH`` due rows at a time, before their claims: a row another worker claims meanwhile
  only cost its share of those reads;
- the one at-least-once window: the channel took the message and the process died before it was
  marked sent (failpoint `after_send`); everywhere else a message goes out exactly once.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flows import failpoints
from flows.alerts.feedback_links import alert_links
from flows.alerts.names import display_name
from flows.alerts.notify import AlertMessage, TopicEvidence, render, send
from flows.alerts.stories import earlier_alert_text
from flows.config import Channel, Config
from flows.store.claims import worker_id
from flows.store.state import Store


# Due rows whose messages are built from one set of reads (alerts, outlets, earlier alerts).
BATCH = 32


def deliver_due(store: Store, cfg: Config, log: logging.Logger,
                failures: dict[str, int] | None = None, owner: str | None = None) -> tuple[int, int]:
    """Send every due outbox row; returns (sent, failed). ``failures`` collects failures per channel.

    A row is sent only by the worker whose conditional claim (`Store.claim_delivery`) won it."""
    me = owner or worker_id()
    channels = {c.name: c for c in cfg.channels}
    sent = failed = 0
    due = store.due_deliveries()
    for i in range(0, len(due), BATCH):
        batch = [r for r in due[i:i + BATCH] if _configured(r, channels, log)]
        found_by_item = store.alerts_for_items(r["item_id"] for r in batch)
        outlets = store.outlets_of_stories(r["story_id"] or r["item_id"] for r in batch)
        earlier = store.first_alerts_of_stories(r["update_of"] for r in batch if r["update_of"] is not None)
        for row in batch:
            channel = channels[row["channel"]]
            if not store.claim_delivery(row["id"], me, cfg.settings.polling.lease_seconds):
                continue  # another worker is sending it, or has sent it
            found = found_by_item.get(row["item_id"], {})
            wanted = [t for t in json.loads(row["topics"]) if t in found]
            msg = AlertMessage(
                title=row["title"] or row["link"] or "",
                url=row["link"] or "",
                outlets=outlets.get(row["story_id"] or row["item_id"], []),
                published=row["published_at"].strftime("%Y-%m-%d %H:%M UTC") if row["published_at"] else None,
                topics=[TopicEvidence(t, display_name(cfg.config_dir, t, channel.language, found[t]["name"]),
                                      found[t]["evidence"]) for t in wanted],
                update_of=earlier_alert_text(earlier.get(row["update_of"])),
                feedback=alert_links(cfg.settings.feedback, row["item_id"], wanted),
            )
            ok = send(channel, render(msg, channel.format, channel.language))
            if ok:
                failpoints.hit("after_send")  # the one window: accepted by the channel, not yet recorded
                store.mark_sent(row["id"])
                sent += 1
                failpoints.hit("between_sends")
            else:
                status = store.mark_failed(row["id"], "apprise reported failure", cfg.settings.max_delivery_attempts)
                failed += 1
                if failures is not None:
                    failures[channel.name] = failures.get(channel.name, 0) + 1
                log.warning("delivery failed channel=%s item=%r status=%s", channel.name, msg.title, status)
    return sent, failed


def _configured(row: dict[str, Any], channels: dict[str, Channel], log: logging.Logger) -> bool:
    if row["channel"] in channels:
        return True
    log.warning("outbox row %d names channel %r, which is no longer configured", row["id"], row["channel"])
    return False
