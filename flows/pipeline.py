"""The ingest cycle as plain functions: poll feeds, process new items, deliver the outbox.

Rules:
- a feed that fails is logged and recorded (with its reason) and the other feeds go on;
- new entries are recorded as `pending` before any page is fetched, so a crash loses nothing:
  the next cycle picks pending items up again;
- entries older than `max_age_hours` are recorded as `old` and never alerted (replay ignores age);
- at most `max_entries_per_feed` new entries are taken per feed and cycle; when more were left,
  the feed's validators are cleared so the next poll reads them;
- processing pending items (fetch, extract, match, store) lives in `flows.process`, with its rules,
  and delivering the outbox in `flows.alerts.deliver`;
- every alert and its outbox rows are written before anything is sent; a row is marked sent
  only when apprise reports success, else it is retried with backoff until it is dead.

These functions take their collaborators (store, HTTP client, matcher, logger) as arguments, so
the Prefect flows in `flows.ingest` only wire them and tests can run them without Prefect.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Callable

import httpx

from flows import failpoints
from flows.config import Config, FeedConfig
from flows.sources.fetch import FetchError
from flows.alerts.deliver import deliver_due  # noqa: F401  (re-exported)
from flows.outcomes import AlertRecord, CycleReport, FeedOutcome  # noqa: F401  (re-exported)
from flows.process import PAGE_ATTEMPTS, process_pending  # noqa: F401  (re-exported)
from flows.sources.guard import Guard
from flows.store.claims import FeedQueue, HostLimiter, due_after, error_delay, next_interval, worker_id
from flows.sources.poll import poll_feed
from flows.store.state import FeedRow, Store, utcnow


# -- poll ---------------------------------------------------------------------------------

def poll_one(store: Store, cfg: Config, client: httpx.Client, row: FeedRow, log: logging.Logger,
             *, ignore_age: bool = False, guard: Guard | None = None) -> FeedOutcome:
    """Poll one feed and record its new entries as pending (or old) items."""
    label = row.name or row.url
    limits = cfg.settings.limits
    health = {"feed_id": row.id, "errors_before": row.consecutive_errors, "was_dead": row.dead}
    try:
        result = poll_feed(client, row.url, limits, etag=row.etag, last_modified=row.last_modified,
                           previous_hash=row.body_hash, guard=guard)
    except FetchError as err:
        count = store.record_poll_failure(row.id, err.reason, next_poll_at=_backoff(cfg, err.retry_after))
        log.warning("feed poll failed feed=%r url=%s reason=%r consecutive_errors=%d", label, row.url, err.reason, count)
        return FeedOutcome(label, row.url, "error", error=err.reason, errors=count, **health)
    except Exception as err:  # a parser bug must not stop the other feeds
        reason = f"{err.__class__.__name__}: {err}"
        count = store.record_poll_failure(row.id, reason, next_poll_at=_backoff(cfg, None))
        log.warning("feed poll failed feed=%r url=%s reason=%r", label, row.url, reason)
        return FeedOutcome(label, row.url, "error", error=reason, errors=count, **health)

    outcome = FeedOutcome(label, row.url, result.status, entries=len(result.entries), warning=result.warning,
                          **health)
    if result.warning:
        log.warning("feed=%r url=%s %s", label, row.url, result.warning)
    truncated = False
    if result.status == "new" and result.entries:
        known = store.known_keys(row.id, [e.key for e in result.entries])
        fresh = [e for e in result.entries if e.key not in known]
        cap = limits.max_entries_per_feed
        if len(fresh) > cap:
            truncated = True
            fresh = fresh[:cap]
        cutoff = utcnow() - timedelta(hours=cfg.settings.max_age_hours) if cfg.settings.max_age_hours else None
        rows = []
        for e in fresh:
            too_old = (not ignore_age and cutoff is not None and e.published is not None and e.published < cutoff)
            rows.append({"key": e.key, "link": e.link, "title": e.title, "summary": e.summary,
                         "published": e.published, "state": "old" if too_old else "pending"})
        outcome.new_items = store.add_items(row.id, rows)
    # Adaptive polling; a feed with entries left over (truncated) comes back soonest.
    interval = next_interval(row.interval_s, outcome.new_items, cfg.settings.polling)
    if truncated:
        interval = cfg.settings.polling.min_interval_minutes * 60
    recovered = store.record_poll_success(row.id, result.status, result.etag, result.last_modified, result.body_hash,
                                          next_poll_at=due_after(interval), interval_s=interval)
    if truncated:
        store.clear_validators(row.id)
        log.info("feed=%r more than %d new entries: the rest wait for the next cycle", label, limits.max_entries_per_feed)
    if recovered:
        log.info("feed recovered feed=%r url=%s", label, row.url)
    log.info("feed polled feed=%r status=%s entries=%d new=%d", label, result.status, outcome.entries, outcome.new_items)
    return outcome


def _backoff(cfg: Config, retry_after: float | None) -> Callable[[int], datetime]:
    """When a failed feed is due again, given its consecutive error count."""
    return lambda errors: due_after(error_delay(errors, retry_after, cfg.settings.polling))


def poll_all(store: Store, cfg: Config, client: httpx.Client, log: logging.Logger, *,
             feeds: list[FeedConfig] | None = None, ignore_age: bool = False,
             guard: Guard | None = None, due_only: bool = False, owner: str | None = None) -> list[FeedOutcome]:
    """Poll the configured feeds concurrently; one feed's failure never stops the others.

    Each feed is polled under a lease, so concurrent runs (threads, processes, machines) split
    the feeds and never poll one twice; a run polls a feed at most once. ``due_only`` (scheduled
    runs): only feeds whose adaptive ``next_poll_at`` has come. Returns the outcomes of the feeds
    this run polled, in config order.
    """
    rows = store.sync_feeds((f.key, f.url, f.name) for f in (feeds if feeds is not None else cfg.feeds))
    if not rows:
        return []
    me = owner or worker_id()
    started = utcnow()
    limits = cfg.settings.limits
    workers = max(1, min(limits.fetch_concurrency, len(rows)))
    queue = FeedQueue(lambda n, ids: store.claim_feeds(me, ids, limit=n, lease_seconds=cfg.settings.polling.lease_seconds,
                                                       due_only=due_only, polled_before=started,
                                                       due_grace_seconds=cfg.settings.polling.due_grace_seconds),
                      [r.id for r in rows], batch=workers)
    hosts = HostLimiter(limits.per_host_concurrency)
    done: dict[int, FeedOutcome] = {}

    def work() -> None:
        while (row := queue.next()) is not None:
            with hosts.slot(row.url):
                done[row.id] = poll_one(store, cfg, client, row, log, ignore_age=ignore_age, guard=guard)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="raqib-poll") as pool:
        for f in [pool.submit(work) for _ in range(workers)]:
            f.result()
    failpoints.hit("after_poll")
    return [done[r.id] for r in rows if r.id in done]
