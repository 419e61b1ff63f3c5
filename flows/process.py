"""Process stage of the cycle: fetch pending items' pages, extract, match, and store outcomes.

Rules:
- items are claimed a few batches at a time, so concurrent runs split them and never fetch or
  match one twice; an item of a worker that died is free again when its claim expires;
- an item whose page cannot be fetched stays pending and is retried on later cycles; after
  `PAGE_ATTEMPTS` failures (at once when the address guard refused it) it is matched on the
  feed's own title and summary instead of dropped; a guard refusal is remembered with its host,
  and the item is fetched again once the operator allows that host (`Store.requeue_allowed`);
- an item whose normalized text was already seen (any feed) is a duplicate: no alert; one that
  tells the same story as a recent item joins that story and alerts only topics it adds;
- every alert and its outbox rows are written in the item's own transaction, before any send;
- pages are extracted and matched in processes forked from a fork server (`_pool_context`), never
  forked from this process, started as soon as the cycle has a full batch to give them.
"""

from __future__ import annotations

import html
import logging
import re
import multiprocessing
import os
import pickle
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Callable, Iterator

import httpx

from flows import failpoints
from flows.config import Config
from flows.text.extract_job import PageJob, Processed, content_hash, init_worker, process_batch, process_page
from flows.sources.fetch import FetchError, fetch_page
from flows.match import Matcher
from flows.outcomes import AlertRecord, CycleReport
from flows.sources.guard import Guard
from flows.store.claims import HostLimiter, worker_id
from flows.store.state import ItemOutcome, PendingItem, Store, utcnow
from flows.alerts.stories import SAME_EVENT, SAME_REPORT, Fingerprint, fingerprint
from flows.alerts.story_index import StoryIndex as _RecentStories



PAGE_ATTEMPTS = 3
# Pages per job sent to an extraction process, and items per write transaction: large enough
# that the per-job and per-commit costs vanish against a page's ~7-60 ms (12 pages a job, against
# 4, took ~10 % less CPU in the extraction processes and ~0.3 ms an article less in this one,
# bench/run_all.py side by side), small enough that a crash redoes little (an unwritten batch
# stays pending, under its claim, until that expires) and the last job of a cycle is short.
JOB_PAGES = 12
WRITE_BATCH = 32


def _strip_tags(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment or "")).strip()


@dataclass
class _Page:
    item: PendingItem
    body: bytes | None  # the page as fetched
    content_type: str | None
    error: str | None
    refused: bool = False  # the address guard said no: retrying cannot help
    refused_host: str | None = None  # ... unless the operator allows this host:port later

    def job(self) -> PageJob:
        return PageJob(self.body or b"", self.content_type, self.item.link, self.item.title,
                       need_date=self.item.published_at is None)


def _download(client: httpx.Client, cfg: Config, item: PendingItem, guard: Guard | None) -> _Page:
    if not item.link:  # nothing to fetch, now or later: match the feed's own text at once
        return _Page(item, None, None, "entry has no link", refused=True)
    try:
        got = fetch_page(client, item.link, cfg.settings.limits, guard=guard)
        ctype = got.headers.get("content-type")
        if ctype and not re.search(r"html|xml|text/plain", ctype, re.I):
            return _Page(item, None, None, f"not an HTML page (Content-Type {ctype.split(';')[0]})")
        return _Page(item, got.body, ctype, None)  # decoded where it is extracted
    except FetchError as err:
        return _Page(item, None, None, err.reason, refused=err.reason.startswith("address guard"),
                     refused_host=err.refused_host)
    except Exception as err:  # a client bug: report, never crash the run
        return _Page(item, None, None, f"{err.__class__.__name__}: {err}")


def process_pending(store: Store, cfg: Config, client: httpx.Client, matcher: Matcher, log: logging.Logger,
                    *, guard: Guard | None = None, limit: int = 10_000, owner: str | None = None) -> CycleReport:
    """Fetch, extract and match pending items; write alerts and their outbox rows."""
    report = CycleReport()
    # Items are claimed a few batches at a time, so concurrent runs split them and never fetch
    # or match one twice; an item of a worker that died is free again when its claim expires.
    me = owner or worker_id()
    limits = cfg.settings.limits
    claims = _ItemClaims(store, me, cfg.settings.polling.lease_seconds, batch=2 * limits.fetch_concurrency, limit=limit)
    if guard is not None and hasattr(guard, "allows"):  # hosts allowed since the guard refused them
        store.requeue_allowed(guard.allows)
    pending = claims.next_batch()
    if not pending:
        return report
    count = _extract_processes(limits.extract_processes, full_batch=len(pending) >= claims.batch)
    procs = _start_pool(count, matcher) if count > 1 else None
    try:
        # The extraction processes start while the story window loads and the first pages download.
        since = utcnow() - timedelta(hours=cfg.settings.story_window_hours)
        decide = _Decisions(store, cfg, matcher, report, log, _RecentStories.load(store.recent_fingerprints(since, -1)))
        workers = max(1, min(limits.fetch_concurrency, len(pending)))
        hosts = HostLimiter(limits.per_host_concurrency)

        def polite_download(it: PendingItem) -> _Page:
            with hosts.slot(it.link):
                return _download(client, cfg, it, guard)

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="raqib-fetch") as pool:
            # Downloads run in threads; the CPU work of a page (decode, extract, hash, fingerprint,
            # match) runs in the process pool, a job of JOB_PAGES pages at a time (or here, with
            # one process); outcomes are decided here in claim order through a bounded window of
            # jobs, and written WRITE_BATCH items to a transaction.
            window: deque[tuple[list[_Page], Future[list[Processed]] | None]] = deque()
            for group in _groups(claims.pages(pool, polite_download, pending), JOB_PAGES if procs else 1):
                fetched = [p.job() for p in group if p.body is not None]
                window.append((group, procs.submit(process_batch, fetched) if procs and fetched else None))
                while len(window) > (2 * count if procs else 0):
                    decide.outcomes(*window.popleft())
            while window:
                decide.outcomes(*window.popleft())
            decide.flush()
    finally:
        if procs:
            procs.shutdown(cancel_futures=True)
    return report


def _start_pool(count: int, matcher: Matcher) -> ProcessPoolExecutor:
    """A pool of ``count`` extraction processes, all of them starting now: the pool itself starts
    one per job submitted while none is idle, so an empty job each starts them at once rather
    than when the first pages are downloaded."""
    # Pickled once here, not once per process started (~45 ms each): a worker gets the bytes.
    pickled = pickle.dumps(matcher, protocol=pickle.HIGHEST_PROTOCOL)
    procs = ProcessPoolExecutor(max_workers=count, mp_context=_pool_context(),
                                initializer=init_worker, initargs=(pickled,))
    for _ in range(count):
        procs.submit(process_batch, [])
    return procs


def _groups(pages: Iterator["_Page"], size: int) -> Iterator[list["_Page"]]:
    group: list[_Page] = []
    for page in pages:
        group.append(page)
        if len(group) >= size:
            yield group
            group = []
    if group:
        yield group


def _extract_processes(setting: int, *, full_batch: bool) -> int:
    """How many extraction processes: `setting`, or (0, automatic) one per core when the cycle has
    at least a full batch of pending items; a new worker costs ~0.1-0.4 s of CPU to start (see
    `_pool_context`), which only a large cycle repays. 1 means in this thread."""
    return setting if setting > 0 else ((os.cpu_count() or 1) if full_batch else 1)


# What the fork server imports once, before it forks any worker: the pure stages a worker runs,
# and the one import of the `raqib` script. Python 3.11's fork server does not preload the main
# module itself (it is never given its path), so each worker runs the main script again on start;
# with flows.cli already imported that costs nothing.
WORKER_MODULES = ("flows.text.extract_job", "flows.cli")


def _pool_context() -> multiprocessing.context.BaseContext:
    """The start method of the extraction processes: a fork server where there is one, else spawn.

    Never a plain fork of this process: a Prefect process runs threads (its event loop, the API
    client, the fetch pool), and a fork copies their locks in whatever state they are in. Spawn
    is safe but starts every worker from nothing: a new interpreter, the worker's imports
    (trafilatura, htmldate, the matcher's modules), and the main module's again (``raqib``'s
    CLI, or a test runner): ~0.3 s of CPU each or more, every cycle. The fork server is a fresh
    interpreter too (started from this process like a spawned one, so it inherits no thread),
    but it imports `WORKER_MODULES` once and then forks each worker from itself,
    single-threaded: a worker starts with the imports done, sharing their pages copy-on-write.
    It lives as long as this process, so a long-running ``raqib serve`` pays the imports once for
    all its cycles. A worker is ready ~0.07 s of CPU after it is asked for,
    against ~0.27 s spawned (more under ``raqib``, whose CLI a spawned worker imports again)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(list(WORKER_MODULES))
    return ctx


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


class _Decisions:
    """The cycle's decisions about processed pages, in claim order, and their batched writes.

    Duplicates and stories are decided against the database and against the items decided in
    this cycle but not yet written (``_hashes``, ``_story_topics``), so batching the writes
    changes no decision. Every alert and its outbox rows go in the item's batch transaction,
    before any send."""

    def __init__(self, store: Store, cfg: Config, matcher: Matcher, report: CycleReport, log: logging.Logger,
                 recent: _RecentStories) -> None:
        self.store, self.cfg, self.matcher, self.report, self.log, self.recent = store, cfg, matcher, report, log, recent
        self._writes: list[ItemOutcome] = []
        self._hashes: dict[str, int] = {}  # content hash -> story id, decided this cycle
        # Topics alerted per story: read from the database the first time this cycle meets the
        # story, then kept up to date here with every decision (a story first seen this cycle has
        # none in the database). As stale as the story window itself, which is loaded once per cycle.
        self._story_topics: dict[int, set[str]] = {}

    def outcomes(self, group: list[_Page], job: Future[list[Processed]] | None) -> None:
        """Decide the outcome of each page of a job: matched text, a retry later, or the feed
        summary at last."""
        results: Iterator[Processed] | None = None
        fetched = [p for p in group if p.body is not None]
        if job is not None:
            try:
                results = iter(job.result())
            except Exception as err:  # a worker process that died: count its pages as failed
                failed = Processed(None, None, f"extraction failed: {err.__class__.__name__}", None, None)
                results = iter([failed] * len(fetched))
        elif fetched:
            results = iter([process_page(p.job(), self.matcher) for p in fetched])
        done = [(p, next(results) if results is not None and p.body is not None else None) for p in group]
        known = self.store.hashes_seen([g.content_hash for _, g in done if g is not None and g.content_hash],
                                       exclude_items=[p.item.id for p in group])
        for page, got in done:
            self._outcome(page, got, known)
        if len(self._writes) >= WRITE_BATCH:
            self.flush()

    def _outcome(self, page: _Page, got: Processed | None, known: dict[str, int]) -> None:
        item = page.item
        if got is not None and got.error:
            page.error = got.error
        if got is None or got.text is None:
            attempts = self.store.fail_item(item.id, page.error or "unknown", give_up_after=PAGE_ATTEMPTS + 1,
                                            refused_host=page.refused_host)
            if attempts < PAGE_ATTEMPTS and not page.refused:
                self.report.page_failures += 1
                self.log.warning("page failed item=%r url=%s reason=%r attempt=%d", item.title, item.link,
                                 page.error, attempts)
                return
            self.log.warning("page failed (%s) after %d attempt(s), matching the feed summary instead item=%r url=%s",
                             page.error, attempts, item.title, item.link)
            text = "\n\n".join(p for p in (item.title, _strip_tags(item.summary)) if p)
            digest = content_hash(text)
            summary = Processed(text, None, None, digest, fingerprint(text).to_str(),
                                tuple(self.matcher.match(text, title=item.title or None)))
            known = {**known, **self.store.hashes_seen([digest], exclude_items=[item.id])}
            self._finish(item, summary, known, note=f"matched on the feed summary: {page.error}")
            return
        self._finish(item, got, known)

    def _finish(self, item: PendingItem, got: Processed, known: dict[str, int], note: str | None = None) -> None:
        report, log = self.report, self.log
        assert got.text is not None and got.content_hash is not None
        digest, text = got.content_hash, got.text
        if not item.title and got.title:  # the entry had no title: the page's names the alert
            item = replace(item, title=got.title)
        published = item.published_at or _page_date(got.date)
        report.processed += 1
        earlier_story = self._hashes.get(digest, known.get(digest))
        if earlier_story is not None:
            self._write(ItemOutcome(item.id, "duplicate", digest, text, got.sitename, [], [], [],
                                    story_id=earlier_story, note=note, title=item.title or None,
                                    published_at=published if item.published_at is None else None))
            report.duplicates += 1
            log.info("duplicate content item=%r url=%s", item.title, item.link)
            return
        fp = Fingerprint.from_str(got.fingerprint) if got.fingerprint else fingerprint(text)
        found = self.recent.match(fp)  # another outlet's copy of a recent report, or a report it updates
        story_id = found.story_id if found and found.relation == SAME_REPORT else None
        update_of = found.story_id if found and found.relation == SAME_EVENT else None
        matches = list(got.matches)
        if story_id is not None:
            # Another outlet's copy of a story already seen: alert only topics the story has not had.
            already = self._story_topics.get(story_id)
            if already is None:
                already = self._story_topics[story_id] = self.store.story_topics(story_id)
            if matches:
                report.same_story += 1
                log.info("same story as item %d item=%r url=%s", story_id, item.title, item.link)
            matches = [m for m in matches if m.topic not in already]
        self.recent.add(item.id, story_id if story_id is not None else item.id, fp)
        self._hashes[digest] = story_id if story_id is not None else item.id
        topics = [m.topic for m in matches]
        if story_id is not None:
            self._story_topics[story_id].update(topics)
        else:  # a new story: nothing in the database names it yet
            self._story_topics[item.id] = set(topics)
        alert_rows = [(m.topic, m.name, m.score, [e.to_dict() for e in m.evidence]) for m in matches]
        deliveries = []
        for ch in self.cfg.channels:
            if not ch.immediate:  # digest-only channels hear of it on the digest schedule
                continue
            wanted = [t for t in topics if ch.wants(t)]
            if wanted:
                deliveries.append((ch.name, wanted))
        failpoints.hit("after_extract")
        self._write(ItemOutcome(item.id, "done", digest, text, got.sitename, topics, alert_rows, deliveries,
                                fingerprint=got.fingerprint or fp.to_str(), story_id=story_id, note=note, title=item.title or None,
                                published_at=published if item.published_at is None else None,
                                update_of=update_of))
        report.messages += len(deliveries)
        when = published.isoformat() + "Z" if published else None
        for m in matches:
            report.alerts.append(AlertRecord(m.topic, m.name, item.link, item.title, item.feed_name, when,
                                             [e.to_dict() for e in m.evidence]))
        if matches:
            log.info("matched item=%r topics=%s", item.title, ",".join(topics))

    def _write(self, outcome: ItemOutcome) -> None:
        self._writes.append(outcome)

    def flush(self) -> None:
        """Write the decided outcomes in one transaction."""
        writes, self._writes = self._writes, []
        self.store.finish_items(writes)
        for _ in writes:
            failpoints.hit("after_item")


def _page_date(date: str | None) -> datetime | None:
    try:
        return datetime.strptime(date, "%Y-%m-%d") if date else None
    except ValueError:
        return None
