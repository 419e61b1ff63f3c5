"""One line per ingest run, for people: what `raqib run`, `raqib replay` and `raqib serve` print.

Rules:
- the words are fixed: an *alert* is one (article, topic); a *message* is what one channel
  receives (one per article and channel, naming all its topics): "7 alerts in 4 messages";
- counts come from the flow's summary dict (`flows.cycle.summarize`); a key it lacks reads 0;
- `raqib serve` sets `RUN_LINES_ENV`, so every scheduled run (a subprocess of Prefect's runner,
  whose stdout the runner streams) prints its line; other runs print nothing from the flow.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime, timezone
from typing import Any, Mapping

RUN_LINES_ENV = "RAQIB_PRINT_RUN_LINES"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def run_line(s: Mapping[str, Any]) -> str:
    """`3 feeds polled (0 failed), 2 new items, 7 alerts in 4 messages, 4 messages sent (0 failed)`."""
    g = lambda k: int(s.get(k) or 0)  # noqa: E731
    dup = f", {g('duplicates')} duplicate" if g("duplicates") else ""
    return (f"{plural(g('feeds'), 'feed')} polled ({g('feed_errors')} failed), "
            f"{plural(g('new_items'), 'new item')} ({g('processed')} processed{dup}), "
            f"{plural(g('alerts'), 'alert')} in {plural(g('messages'), 'message')}, "
            f"{plural(g('sent'), 'message')} sent ({g('send_failures')} failed)")


def stamp(when: datetime | None = None) -> str:
    """A time for people: seconds, no microseconds, with its zone."""
    when = when or datetime.now(timezone.utc)
    if when.tzinfo is None:  # the state database stores naive UTC
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def announce(s: Mapping[str, Any]) -> None:
    """Print the run's line on stdout when `raqib serve` asked for it."""
    if os.environ.get(RUN_LINES_ENV):
        sys.stdout.write(f"{stamp()} run: {run_line(s)}\n")
        sys.stdout.flush()
