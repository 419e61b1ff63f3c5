"""The CPU-bound part of processing one page, as pure functions a process pool can run.

Rules: takes the page's bytes and what the feed entry already says, returns plain values
(picklable): the article text in the seeds' shape, the site name, the content hash, the story
fingerprint and the topics that matched, or an error reason. Never raises: a hostile page
becomes an error string. Metadata is computed only where the entry lacks it: the site name
always (it labels an alert's outlets), the title only when the entry has none, the date only
when the entry has none, never the author. A page of more than `MAX_TAGS` tags is refused
unread (memory). Imports only the pure stages, so a spawned worker
starts quickly and holds no database or network handle; a worker process gets the matcher once,
when it starts (`init_worker`), and then takes pages in batches (`process_batch`).
"""

from __future__ import annotations

import hashlib
import pickle
from typing import NamedTuple, Sequence

from flows.alerts.stories import fingerprint
from flows.match import Matcher, TopicMatch
from flows.text.extract import decode_html, extract_article
from flows.text.normalize import normalize


class PageJob(NamedTuple):
    body: bytes  # the page as fetched
    content_type: str | None
    url: str | None
    title: str  # the feed entry's title; "" when it has none (then the page's title is used)
    need_date: bool = False  # the entry has no date: take the page's


class Processed(NamedTuple):
    text: str | None
    sitename: str | None
    error: str | None
    content_hash: str | None
    fingerprint: str | None
    matches: tuple[TopicMatch, ...] = ()
    title: str | None = None  # the page's title, when the entry had none
    date: str | None = None  # the page's date (YYYY-MM-DD), when the entry had none


# Kept for callers of the earlier name: the result of one page.
Extracted = Processed

# What the cycle keeps of a page's metadata by default: the site's name labels an alert's outlets.
PIPELINE_METADATA = frozenset({"sitename"})


def content_hash(text: str, normalized: str | None = None) -> str:
    """sha256 of the normalized text with whitespace squashed: a re-published copy hashes alike
    (``normalized``: ``normalize(text)``, when the caller has it already)."""
    squashed = " ".join((normalize(text) if normalized is None else normalized).split())
    return hashlib.sha256(squashed.encode("utf-8")).hexdigest()


def _failed(reason: str) -> Processed:
    return Processed(None, None, reason, None, None)


# Tags a page may have to be extracted. A news page has a few thousand; trafilatura's memory grows
# ~2 KB a tag, so a hostile 5 MiB page of 250,000 table cells took ~580 MB and 70 s. Counting
# "<" (a few ms on 5 MiB) bounds every extraction process under ~200 MB.
MAX_TAGS = 50_000


def extract_page(html: str, url: str | None, metadata: frozenset[str] = PIPELINE_METADATA) -> Processed:
    """Text, site name, content hash and fingerprint of a decoded page (no matching)."""
    if html.count("<") > MAX_TAGS:
        return _failed(f"page has more than {MAX_TAGS:,} tags: not extracted")
    try:
        article = extract_article(html, url, metadata=metadata)
    except Exception as err:  # a hostile page must not take the run down
        return _failed(f"extraction failed: {err.__class__.__name__}")
    if article is None or not article.text.strip():
        return _failed("no article text found on the page")
    normalized = normalize(article.text)  # once, for the hash and the fingerprint
    return Processed(article.text, article.sitename, None, content_hash(article.text, normalized),
                     fingerprint(article.text, normalized).to_str(), (), article.title, article.date)


def process_page(job: PageJob, matcher: Matcher | None) -> Processed:
    """Decode, extract, hash, fingerprint and match one page (``matcher`` None: no matching)."""
    try:
        html = decode_html(job.body, job.content_type)
    except Exception as err:  # a decoder bug: report, never crash the worker
        return _failed(f"{err.__class__.__name__}: {err}")
    wanted = PIPELINE_METADATA | ({"title"} if not job.title else set()) | ({"date"} if job.need_date else set())
    got = extract_page(html, job.url, frozenset(wanted))
    if got.text is None or matcher is None:
        return got
    title = job.title or got.title or None
    try:
        matches = tuple(matcher.match(got.text, title=title))
    except Exception as err:  # a matcher bug on one page: report it as this page's failure
        return _failed(f"matching failed: {err.__class__.__name__}: {err}")
    return got._replace(matches=matches)


# -- worker processes ----------------------------------------------------------------------

_worker_matcher: Matcher | None = None


def init_worker(matcher: Matcher | bytes) -> None:
    """Pool initializer: the matcher arrives once per worker process, already compiled (unpickling
    it costs ~20-40 ms; compiling the topics again ~0.5 s), the same topics as the run's own; as
    the bytes of its pickle when the pool pickled it once for all its processes."""
    global _worker_matcher
    _worker_matcher = pickle.loads(matcher) if isinstance(matcher, bytes) else matcher


def process_batch(jobs: Sequence[PageJob]) -> list[Processed]:
    """`process_page` over a batch of pages, in a worker set up by `init_worker`."""
    return [process_page(job, _worker_matcher) for job in jobs]
