"""Process stage of the cycle: fetch pending items' pages, extract, match, and store outcomes.

Rules:
- items are claimed a few batches at a time, so concurrent runs split them and never fetch or
  match one twice; an item of a worker that died is free again when its claim expires;
- an item whose page cannot be fetched stays pending and is retried on later cycles; after
  `PAGE_ATTEMPTS` failures (at once when the address guard refused it) it is matched on the
  feed's own title and summary instead of dropped;
- an item whose normalized text was already seen (any feed) is a duplicate: no alert; one that
  tells the same story as a recent item joins that story and alerts only topics it adds;
- every alert and its outbox rows are written in the item's own transaction, before any send.
"""

from __future__ import annotations

import html
import logging
import re
import multiprocessing
import os
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable, Iterator

import httpx

from flows import failpoints
from flows.config import Config
from flows.text.extract import decode_html
from flows.text.extract_job import Extracted, content_hash, extract_page
from flows.sources.fetch import FetchError, fetch_page
from flows.match import Matcher
from flows.outcomes import AlertRecord, CycleReport
from flows.sources.guard import Guard
from flows.store.claims import HostLimiter, worker_id
from flows.store.state import PendingItem, Store, utcnow
from flows.alerts.stories import SAME_EVENT, SAME_REPORT, Fingerprint, fingerprint
from flows.alerts.story_index import StoryIndex as _RecentStories



PAGE_ATTEMPTS = 3


def _strip_tags(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment or "")).strip()


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
    found = recent.match(fp)  # another outlet's copy of a recent report, or a report it updates
    story_id = found.story_id if found and found.relation == SAME_REPORT else None
    update_of = found.story_id if found and found.relation == SAME_EVENT else None
    matches = matcher.match(text, title=item.title or None)
    if story_id is not None:
        # Another outlet's copy of a story already seen: alert only topics the story has not had.
        already = store.story_topics(story_id)
        if matches:
            report.same_story += 1
            log.info("same story as item %d item=%r url=%s", story_id, item.title, item.link)
        matches = [m for m in matches if m.topic not in already]
    recent.add(item.id, story_id if story_id is not None else item.id, fp)
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
                      story_id=story_id, note=note, update_of=update_of)
    published = item.published_at.isoformat() + "Z" if item.published_at else None
    for m in matches:
        report.alerts.append(AlertRecord(m.topic, m.name, item.link, item.title, item.feed_name, published,
                                         [e.to_dict() for e in m.evidence]))
    if matches:
        log.info("matched item=%r topics=%s", item.title, ",".join(topics))
    failpoints.hit("after_item")
