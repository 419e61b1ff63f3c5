"""Operator notices: nothing stops silently.

Rules:
- a feed whose consecutive failed polls reach `dead_after_errors` is marked dead and announced
  once (on the poll that crossed the line); a dead or failing feed that answers again is
  announced as recovered (only if it had been announced dead);
- a channel that failed `channel_failures_to_announce` or more sends in one cycle is announced;
- notices go to `operator_channel` (a channel name in alerts.yaml) as plain text, never to
  the analysts' channels; with no operator channel they are logged as warnings only;
- a notice names the feed or channel and the last reason, never a channel URL; its subject and
  text are one clean line each (`flows.alerts.safe.clean`) with credentials redacted
  (`flows.redact`): a feed's error text can quote what the publisher sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
import apprise

from flows.config import Config
from flows.alerts.notify import Rendered, send
from flows.alerts.safe import clean
from flows.redact import redact
from flows.pipeline import FeedOutcome
from flows.store.state import Store


@dataclass(frozen=True)
class Notice:
    kind: str  # feed_dead | feed_recovered | channel_failing
    subject: str
    text: str


def feed_notices(store: Store, cfg: Config, outcomes: list[FeedOutcome]) -> list[Notice]:
    """Notices from this cycle's polls; marks feeds that just crossed the error limit dead."""
    limit = cfg.settings.dead_after_errors
    notices: list[Notice] = []
    for o in outcomes:
        if o.errors >= limit > o.errors_before:
            store.mark_feed_dead(o.feed_id)
            notices.append(Notice("feed_dead", f"رقيب: المصدر متوقف — {o.feed}",
                                  f"feed {o.feed} failed {o.errors} polls in a row and is marked dead "
                                  f"(still retried). Last error: {o.error}"))
        elif o.was_dead and o.status != "error":
            notices.append(Notice("feed_recovered", f"رقيب: المصدر عاد — {o.feed}",
                                  f"feed {o.feed} answers again after {o.errors_before} failed polls."))
    return notices


def channel_notices(cfg: Config, failures: dict[str, int]) -> list[Notice]:
    limit = cfg.settings.channel_failures_to_announce
    return [Notice("channel_failing", f"رقيب: قناة لا تستقبل — {name}",
                   f"channel {name} failed {n} sends this cycle; the alerts wait in the outbox and are retried.")
            for name, n in sorted(failures.items()) if n >= limit and name != cfg.operator_channel]


def announce(cfg: Config, notices: list[Notice], log: logging.Logger) -> int:
    """Send notices to the operator channel; returns how many were delivered."""
    for n in notices:
        log.warning("operator notice %s: %s", n.kind, clean(redact(n.text)))
    if not notices or not cfg.operator_channel:
        return 0
    channel = next(c for c in cfg.channels if c.name == cfg.operator_channel)
    delivered = 0
    for n in notices:
        if send(channel, Rendered(clean(redact(n.subject)), clean(redact(n.text)), apprise.NotifyFormat.TEXT)):
            delivered += 1
        else:
            log.warning("operator channel %s did not accept a notice", channel.name)
    return delivered
