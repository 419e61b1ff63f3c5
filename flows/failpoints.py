"""Failpoints: named places where a test can kill the process, to prove crash safety.

`RAQIB_FAILPOINT=<name>` makes `hit(<name>)` SIGKILL the process the first time it is reached
(`<name>:<n>` on the n-th time). Unset, `hit` is one dictionary lookup. The names:

- `after_poll`: every feed polled and its new items recorded, nothing fetched yet;
- `after_extract`: an item's text extracted and matched, before its outcome is written;
- `after_item`: an item's outcome, alerts and outbox rows committed;
- `between_sends`: one message sent and marked sent, the next not yet sent;
- `after_send`: a channel accepted a message, before it is marked sent (the one window where a
  crash makes the message go out again: at-least-once there, exactly-once elsewhere).
"""

from __future__ import annotations

import os
import signal
from collections import Counter

_ENV = "RAQIB_FAILPOINT"
_counts: Counter[str] = Counter()


def hit(name: str) -> None:
    wanted = os.environ.get(_ENV)
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    _counts[name] += 1
    if _counts[name] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
