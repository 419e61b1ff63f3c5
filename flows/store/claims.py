"""Work sharing and politeness: who polls what, when, and how hard.

Rules:
- every worker process has one id (host, pid and a random part): it names the worker's leases;
- a run takes feeds through a `FeedQueue`: it leases a few feeds at a time (about one per poll
  thread), so several workers split a run's feeds between them, and a lease never waits long
  behind other polls before its feed is polled;
- at most `per_host_concurrency` requests at once go to one host (host:port) from one process
  (`HostLimiter`), for feeds and article pages alike;
- adaptive polling: a poll that brought new items halves the feed's interval, one that did not
  doubles it, within [min, max] (`next_interval`); the next poll is due one interval later;
- after a failed poll the feed waits `min * 2**(errors-1)` (at most max), and at least the
  server's Retry-After when it sent one (`error_delay`).
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections import deque
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Callable, Iterator, Sequence
from urllib.parse import urlsplit

from flows.config import Polling
from flows.store.state import FeedRow, utcnow

# How many feed ids one claim query names; a run walks its feeds chunk by chunk.
ID_CHUNK = 500

_worker: tuple[int, str] | None = None


def worker_id() -> str:
    """This process's id for leases and claims (recomputed in a forked child)."""
    global _worker
    if _worker is None or _worker[0] != os.getpid():
        _worker = (os.getpid(), f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}")
    return _worker[1]


def next_interval(previous_s: float | None, new_items: int, polling: Polling) -> float:
    """The feed's next poll interval in seconds: halved after new items, doubled after none."""
    lo, hi = polling.min_interval_minutes * 60, max(polling.min_interval_minutes, polling.max_interval_minutes) * 60
    current = previous_s if previous_s else lo
    wanted = current / 2 if new_items > 0 else current * 2
    return min(hi, max(lo, wanted))


def error_delay(consecutive_errors: int, retry_after: float | None, polling: Polling) -> float:
    """Seconds to wait after a failed poll: exponential in the error count, at least Retry-After."""
    lo, hi = polling.min_interval_minutes * 60, max(polling.min_interval_minutes, polling.max_interval_minutes) * 60
    delay = min(hi, lo * 2 ** min(max(consecutive_errors - 1, 0), 30))
    if retry_after:
        delay = max(delay, min(retry_after, hi))
    return delay


def due_after(seconds: float, now: datetime | None = None) -> datetime:
    return (now or utcnow()) + timedelta(seconds=seconds)


class HostLimiter:
    """At most ``per_host`` concurrent requests to each host:port from this process."""

    def __init__(self, per_host: int) -> None:
        self._per_host = max(1, per_host)
        self._sems: dict[str, threading.Semaphore] = {}
        self._lock = threading.Lock()

    @contextmanager
    def slot(self, url: str | None) -> Iterator[None]:
        host = (urlsplit(url or "").netloc or "").lower()
        with self._lock:
            sem = self._sems.setdefault(host, threading.Semaphore(self._per_host))
        with sem:
            yield


ClaimFn = Callable[[int, Sequence[int]], list[FeedRow]]


class FeedQueue:
    """Hands out leased feeds to poll threads, leasing ``batch`` more whenever it runs dry.

    ``claim(n, ids)`` leases up to n of ``ids``; the queue walks the run's ids in chunks and is
    done when no chunk has a free, due feed left.
    """

    def __init__(self, claim: ClaimFn, ids: Sequence[int], batch: int) -> None:
        self._claim = claim
        self._chunks = deque(list(ids[i:i + ID_CHUNK]) for i in range(0, len(ids), ID_CHUNK))
        self._batch = max(1, batch)
        self._ready: deque[FeedRow] = deque()
        self._lock = threading.Lock()
        self.claimed = 0

    def next(self) -> FeedRow | None:
        with self._lock:
            while not self._ready:
                if not self._chunks:
                    return None
                got = self._claim(self._batch, self._chunks[0])
                if not got:
                    self._chunks.popleft()
                    continue
                self.claimed += len(got)
                self._ready.extend(got)
            return self._ready.popleft()
