"""The ingest cycle as plain functions: poll feeds, process new items, deliver the outbox.

Rules:
- a feed that fails is logged and recorded (with its reason) and the other feeds go on;
- new entries are recorded as `pending` before any page is fetched, so a crash loses nothing:
  the next cycle picks pending items up again;
- entries older than `max_age_hours` are recorded as `old` and never alerted (replay ignores age);
- at most `max_entries_per_feed` new entries are taken per feed and cycle; when more were left,
  the feed's validators are cleared so the next poll reads them;
- an item whose page cannot be fetched stays pending and is retried on later cycles; after
  `PAGE_ATTEMPTS` failures it is matched on the feed's own title and summary instead of dropped;
- an item whose normalized text was already seen (any feed) is a duplicate: no alert;
- every alert and its outbox rows are written before anything is sent; a row is marked sent
  only when apprise reports success, else it is retried with backoff until it is dead.

These functions take their collaborators (store, HTTP client, matcher, logger) as arguments, so
the Prefect flows in `flows.ingest` only wire them and tests can run them without Prefect.
"""

from __future__ import annotations

import html
import json
import logging
import re
import multiprocessing
import os
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterator

import httpx

from flows import failpoints
from flows.config import Config, FeedConfig
from flows.text.extract import decode_html
from flows.text.extract_job import Extracted, content_hash, extract_page
from flows.sources.fetch import FetchError, fetch_page
from flows.match import Matcher
from flows.alerts.notify import AlertMessage, TopicEvidence, render, send
from flows.store.claims import FeedQueue, HostLimiter, due_after, error_delay, next_interval, worker_id
from flows.sources.poll import poll_feed
from flows.store.state import FeedRow, PendingItem, Store, utcnow
from flows.alerts.stories import NUM_HASHES, Fingerprint, fingerprint, same_story

PAGE_ATTEMPTS = 3

Guard = Callable[[str], None]


@dataclass
class FeedOutcome:
    feed: str
    url: str
    status: str  # new | not_modified | unchanged | error
    entries: int = 0
    new_items: int = 0
    error: str | None = None
    warning: str | None = None
    # Feed health, for operator notices: consecutive failed polls before and after this one.
    feed_id: int = 0
    errors_before: int = 0
    errors: int = 0
    was_dead: bool = False


@dataclass
class AlertRecord:
    topic: str
    topic_name: str
    url: str | None
    title: str
    feed: str
    published: str | None
    evidence: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CycleReport:
    feeds: list[FeedOutcome] = field(default_factory=list)
    processed: int = 0
    duplicates: int = 0
    same_story: int = 0
    page_failures: int = 0
    alerts: list[AlertRecord] = field(default_factory=list)
    sent: int = 0
    send_failures: int = 0

    @property
    def feed_errors(self) -> int:
        return sum(1 for f in self.feeds if f.status == "error")

    @property
    def new_items(self) -> int:
        return sum(f.new_items for f in self.feeds)


def _strip_tags(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment or "")).strip()


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


# -- process ------------------------------------------------------------------------------

@dataclass
class _Page:
    item: PendingItem
    text: str | None  # the decoded HTML
    error: str | None
    refused: bool = False  # the address guard said no: retrying cannot help


def _download(client: httpx.Client, cfg: Config, item: PendingItem, guard: Guard | None) -> _Page:
    if not item.link:  # nothing to fetch, now or later: match the feed's own text at once
        return _Page(item, None, "entry has no link", refused=True)
    try:
        got = fetch_page(client, item.link, cfg.settings.limits, guard=guard)
        ctype = got.headers.get("content-type")
        if ctype and not re.search(r"html|xml|text/plain", ctype, re.I):
            return _Page(item, None, f"not an HTML page (Content-Type {ctype.split(';')[0]})")
        page = decode_html(got.body, ctype)
        return _Page(item, page, None)
    except FetchError as err:
        return _Page(item, None, err.reason, refused=err.reason.startswith("address guard"))
    except Exception as err:  # a decoder: report, never crash the run
        return _Page(item, None, f"{err.__class__.__name__}: {err}")


def process_pending(store: Store, cfg: Config, client: httpx.Client, matcher: Matcher, log: logging.Logger,
                    *, guard: Guard | None = None, limit: int = 10_000, owner: str | None = None) -> CycleReport:
    """Fetch, extract and match pending items; write alerts and their outbox rows."""
    report = CycleReport()
    # Items are claimed a few batches at a time, so concurrent runs split them and never fetch
    # or match one twice; an item of a worker that died is free again when its claim expires.
    me = owner or worker_id()
    limits = cfg.settings.limits
    claims = _ItemClaims(store, me, cfg.settings.polling.lease_seconds, batch=2 * limits.fetch_concurrency, limit=limit)
    pending = claims.next_batch()
    if not pending:
        return report
    since = utcnow() - timedelta(hours=cfg.settings.story_window_hours)
    recent = _RecentStories.load(store.recent_fingerprints(since, -1))
    workers = max(1, min(limits.fetch_concurrency, len(pending)))
    hosts = HostLimiter(limits.per_host_concurrency)

    def polite_download(it: PendingItem) -> _Page:
        with hosts.slot(it.link):
            return _download(client, cfg, it, guard)

    count = _extract_processes(limits.extract_processes, full_batch=len(pending) >= claims.batch)
    procs = ProcessPoolExecutor(max_workers=count, mp_context=multiprocessing.get_context("spawn")) if count > 1 else None
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="raqib-fetch") as pool:
            # Downloads run in threads; extraction runs in the process pool (or here), and the
            # outcome of each page is stored here, in claim order, through a bounded window.
            window: deque[tuple[_Page, Future[Extracted] | None]] = deque()
            for page in claims.pages(pool, polite_download, pending):
                job = procs.submit(extract_page, page.text, page.item.link) if procs and page.text else None
                window.append((page, job))
                while len(window) > (4 * count if procs else 0):
                    _outcome(store, cfg, matcher, *window.popleft(), report, log, recent)
            while window:
                _outcome(store, cfg, matcher, *window.popleft(), report, log, recent)
    finally:
        if procs:
            procs.shutdown(cancel_futures=True)
    return report


def _extract_processes(setting: int, *, full_batch: bool) -> int:
    """How many extraction processes: `setting`, or (0, automatic) one per core when the cycle has
    at least a full batch of pending items; a spawned worker costs ~1 s to start, which only a
    large cycle repays. 1 means in this thread. The pool spawns, not forks: a Prefect process
    runs threads."""
    return setting if setting > 0 else ((os.cpu_count() or 1) if full_batch else 1)


def _outcome(store: Store, cfg: Config, matcher: Matcher, page: _Page, job: Future[Extracted] | None,
             report: CycleReport, log: logging.Logger, recent: "_RecentStories") -> None:
    """Store one page's outcome: matched text, a retry later, or the feed summary at last."""
    item = page.item
    got: Extracted | None = None
    if page.text is not None:
        try:
            got = job.result() if job is not None else extract_page(page.text, item.link)
        except Exception as err:  # a worker process that died: count it as a failed page
            got = Extracted(None, None, f"extraction failed: {err.__class__.__name__}", None, None)
        if got.error:
            page.error = got.error
    if got is None or got.text is None:
        attempts = store.fail_item(item.id, page.error or "unknown", give_up_after=PAGE_ATTEMPTS + 1)
        if attempts < PAGE_ATTEMPTS and not page.refused:
            report.page_failures += 1
            log.warning("page failed item=%r url=%s reason=%r attempt=%d", item.title, item.link, page.error, attempts)
            return
        log.warning("page failed (%s) after %d attempt(s), matching the feed summary instead item=%r url=%s",
                    page.error, attempts, item.title, item.link)
        text = "\n\n".join(p for p in (item.title, _strip_tags(item.summary)) if p)
        _finish(store, cfg, matcher, item, text, None, report, log, recent,
                note=f"matched on the feed summary: {page.error}")
        return
    _finish(store, cfg, matcher, item, got.text, got.sitename, report, log, recent,
            digest=got.content_hash, fp=Fingerprint.from_str(got.fingerprint) if got.fingerprint else None)


@dataclass
class _ItemClaims:
    """The pending items one run claims, batch by batch, at most ``limit`` in all."""

    store: Store
    owner: str
    lease_seconds: float
    batch: int
    limit: int
    after_id: int = 0
    taken: int = 0

    def next_batch(self) -> list[PendingItem]:
        want = min(self.batch, self.limit - self.taken)
        got = self.store.claim_items(self.owner, limit=want, lease_seconds=self.lease_seconds,
                                     after_id=self.after_id) if want > 0 else []
        if got:
            self.after_id = got[-1].id
            self.taken += len(got)
        return got

    def pages(self, pool: ThreadPoolExecutor, download: Callable[[PendingItem], "_Page"],
              first: list[PendingItem]) -> Iterator["_Page"]:
        """Downloaded pages of ``first``, then of each next claimed batch, until none is left."""
        batch = first
        while batch:
            yield from pool.map(download, batch)
            batch = self.next_batch()


class _RecentStories:
    """Fingerprints of the items processed within the story window, parsed once per cycle.

    An inverted index of (bin, minimum) pairs finds the rows that share at least one MinHash
    bin with a new article; a row sharing none has similarity 0 and can never be the same story,
    so only the candidates are compared (the first, oldest, that matches wins).
    """

    def __init__(self) -> None:
        self._rows: list[tuple[int, Fingerprint]] = []  # (story id, fingerprint)
        # One dict per bin, minimum -> row (an int; a list once a second row shares it): no tuple
        # key and no list to allocate for the ~128 bins of each row, nearly all of them unique.
        self._by_bin: list[dict[int, int | list[int]]] = [{} for _ in range(NUM_HASHES)]

    @classmethod
    def load(cls, rows: list[tuple[int, int, str]]) -> "_RecentStories":
        recent = cls()
        for item_id, story_id, text_fp in rows:
            try:
                recent.add(story_id or item_id, Fingerprint.from_str(text_fp))
            except ValueError:  # an older fingerprint version: not comparable, skip it
                continue
        return recent

    def add(self, story_id: int, fp: Fingerprint) -> None:
        row = len(self._rows)
        self._rows.append((story_id, fp))
        if fp.shingles:
            for index, minimum in zip(self._by_bin, fp.mins):
                seen = index.setdefault(minimum, row)
                if seen != row:  # another row holds this minimum already
                    if isinstance(seen, int):
                        index[minimum] = [seen, row]
                    else:
                        seen.append(row)

    def story_of(self, fp: Fingerprint) -> int | None:
        if not fp.shingles:
            return None
        candidates: set[int] = set()
        for index, minimum in zip(self._by_bin, fp.mins):
            rows = index.get(minimum)
            if rows is None:
                continue
            if isinstance(rows, int):
                candidates.add(rows)
            else:
                candidates.update(rows)
        for row in sorted(candidates):
            story_id, other = self._rows[row]
            if same_story(fp, other):
                return story_id
        return None


def _finish(store: Store, cfg: Config, matcher: Matcher, item: PendingItem, text: str, sitename: str | None,
            report: CycleReport, log: logging.Logger, recent: _RecentStories, note: str | None = None,
            digest: str | None = None, fp: Fingerprint | None = None) -> None:
    digest = digest or content_hash(text)
    report.processed += 1
    earlier_story = store.hash_seen(digest, exclude_item=item.id)
    if earlier_story is not None:
        store.finish_item(item.id, state="duplicate", content_hash=digest, text_=text, sitename=sitename,
                          topics=[], alerts_=[], deliveries=[], story_id=earlier_story, note=note)
        report.duplicates += 1
        log.info("duplicate content item=%r url=%s", item.title, item.link)
        return
    fp = fp or fingerprint(text)
    story_id = recent.story_of(fp)
    matches = matcher.match(text, title=item.title or None)
    if story_id is not None:
        # Another outlet's copy of a story already seen: alert only topics the story has not had.
        already = store.story_topics(story_id)
        if matches:
            report.same_story += 1
            log.info("same story as item %d item=%r url=%s", story_id, item.title, item.link)
        matches = [m for m in matches if m.topic not in already]
    recent.add(story_id if story_id is not None else item.id, fp)
    topics = [m.topic for m in matches]
    alert_rows = [(m.topic, m.name, m.score, [e.to_dict() for e in m.evidence]) for m in matches]
    deliveries = []
    for ch in cfg.channels:
        if not ch.immediate:  # digest-only channels hear of it on the digest schedule
            continue
        wanted = [t for t in topics if ch.wants(t)]
        if wanted:
            deliveries.append((ch.name, wanted))
    failpoints.hit("after_extract")
    store.finish_item(item.id, state="done", content_hash=digest, text_=text, sitename=sitename,
                      topics=topics, alerts_=alert_rows, deliveries=deliveries, fingerprint=fp.to_str(),
                      story_id=story_id, note=note)
    published = item.published_at.isoformat() + "Z" if item.published_at else None
    for m in matches:
        report.alerts.append(AlertRecord(m.topic, m.name, item.link, item.title, item.feed_name, published,
                                         [e.to_dict() for e in m.evidence]))
    if matches:
        log.info("matched item=%r topics=%s", item.title, ",".join(topics))
    failpoints.hit("after_item")


# -- deliver ------------------------------------------------------------------------------

def deliver_due(store: Store, cfg: Config, log: logging.Logger,
                failures: dict[str, int] | None = None, owner: str | None = None) -> tuple[int, int]:
    """Send every due outbox row; returns (sent, failed). ``failures`` collects failures per channel.

    A row is sent only by the worker whose conditional claim (`Store.claim_delivery`) won it."""
    me = owner or worker_id()
    channels = {c.name: c for c in cfg.channels}
    sent = failed = 0
    for row in store.due_deliveries():
        channel = channels.get(row["channel"])
        if channel is None:
            log.warning("outbox row %d names channel %r, which is no longer configured", row["id"], row["channel"])
            continue
        if not store.claim_delivery(row["id"], me, cfg.settings.polling.lease_seconds):
            continue  # another worker is sending it, or has sent it
        found = store.alerts_for_item(row["item_id"])
        wanted = [t for t in json.loads(row["topics"]) if t in found]
        msg = AlertMessage(
            title=row["title"] or row["link"] or "",
            url=row["link"] or "",
            outlets=store.story_outlets(row["story_id"] or row["item_id"]),
            published=row["published_at"].strftime("%Y-%m-%d %H:%M UTC") if row["published_at"] else None,
            topics=[TopicEvidence(t, found[t]["name"], found[t]["evidence"]) for t in wanted],
        )
        ok = send(channel, render(msg, channel.format))
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
