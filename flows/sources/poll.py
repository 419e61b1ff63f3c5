"""Poll stage: fetch a feed's bytes with validators and parse them with feedparser.

Rules:
- send ``If-None-Match`` / ``If-Modified-Since`` from the previous poll; 304 means "nothing new"
  and keeps the previous validators (feedparser gives none on a 304);
- a body whose hash equals the previous poll's is "nothing new" too, even with a new ETag
  (some servers change ETags on every request);
- feedparser parses bytes we fetched (it has no timeout or size cap of its own), with the
  response headers so the HTTP charset is honoured; a feed that declares no charset (not in
  HTTP, not in an XML declaration, not by a byte-order mark or a UTF-16/32 declaration) and is
  not valid UTF-8 is read as windows-1256, as Arabic sites without a declaration mean
  (feedparser alone would guess windows-1252 and garble every title);
- relative item links (`/news/123`) are resolved against the feed's final URL (after redirects)
  or its `Content-Location`; a link is kept only if it resolves to http(s) or is left as the
  publisher wrote it (another scheme, which the address guard refuses to fetch); guids are
  keys and are never rewritten;
- a body that is not a feed (an HTML page: ``version == ''`` and no entries) is an error naming
  the parser's complaint and where (line, column); malformed XML that the loose parser still
  reads is accepted with a warning saying the same;
- each entry gets a key: its guid, else its link, else a hash of title + summary;
- entries are returned in feed order, at most ``HARD_ENTRY_CAP`` (memory bound); the per-cycle cap
  on *new* entries is the pipeline's, so entries past it stay unseen for the next cycle. A body
  with more item/entry tags than that is cut after the last one taken and closed again before
  feedparser sees it (feedparser keeps ~3.5 KB per entry: 10 MB of tiny entries would be a
  gigabyte), with a warning; UTF-16/32 bodies are not cut.
"""

from __future__ import annotations

import calendar
import codecs
import hashlib
import itertools
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit
from xml.sax import SAXParseException

import feedparser
import httpx

from flows.config import Limits
from flows.sources.fetch import FetchError, Guard, http_get
from flows.sources.guard import feed_guard

HARD_ENTRY_CAP = 5000
# One feed is parsed at a time per process: feedparser holds several copies of a body while it
# parses (decoded text, UTF-8 bytes, every element's text), and it runs under the GIL, so
# parallel parses gain no time and multiply the peak memory by the number of poll threads.
_PARSING = threading.Lock()


@dataclass(frozen=True)
class Entry:
    key: str
    link: str | None
    title: str
    summary: str
    published: datetime | None  # UTC, naive


@dataclass(frozen=True)
class PollResult:
    status: str  # "new" (entries parsed), "not_modified", "unchanged" (same body hash)
    entries: list[Entry] = field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    feed_title: str | None = None
    warning: str | None = None


def _when(entry: feedparser.FeedParserDict) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=timezone.utc).replace(tzinfo=None)
            except (OverflowError, ValueError, TypeError):
                continue
    return None


def _entry_key(entry: feedparser.FeedParserDict) -> str:
    guid = (entry.get("id") or "").strip()
    if guid:
        return guid[:1000]
    link = (entry.get("link") or "").strip()
    if link:
        return link[:1000]
    basis = (entry.get("title") or "") + "\n" + (entry.get("summary") or "")
    return "sha256:" + hashlib.sha256(basis.encode("utf-8", "replace")).hexdigest()


_XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]*\bencoding\s*=", re.I)
# A byte-order mark, or the first characters of "<?xml" in UTF-16/32 or EBCDIC, tell the
# encoding by themselves (XML 1.0, appendix F); the declaration that follows names it.
_SELF_DECLARED = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF8, codecs.BOM_UTF16_LE,
                  codecs.BOM_UTF16_BE, b"<\0?\0", b"\0<\0?", b"<\0\0\0", b"\0\0\0<", b"\x4c\x6f\xa7\x94")


_ITEM_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s/>]")
_TAG = re.compile(rb"<(/?)([A-Za-z_][\w.:-]*)[^<>]*?(/?)>")


def _first_entries(body: bytes, cap: int) -> bytes:
    """``body`` cut before its (cap+1)-th item/entry and closed again, when it holds more."""
    starts = list(itertools.islice(_ITEM_START.finditer(body), cap + 1))
    if len(starts) <= cap:
        return body
    # The elements open where the first item starts are every item's ancestors (items are
    # siblings): close them after the last item kept.
    stack: list[bytes] = []
    for tag in _TAG.finditer(body, 0, starts[0].start()):
        closing, name, empty = tag.groups()
        if closing:
            if name in stack:
                del stack[len(stack) - 1 - stack[::-1].index(name):]
        elif not empty:
            stack.append(name)
    return body[:starts[cap].start()] + b"".join(b"</" + name + b">" for name in reversed(stack))


def _undeclared_arabic(body: bytes, headers: dict[str, str]) -> bytes:
    """Re-encode an undeclared, non-UTF-8 body from windows-1256 to UTF-8."""
    if ("charset=" in headers.get("content-type", "").lower() or body.startswith(_SELF_DECLARED)
            or _XML_ENCODING.match(body[:300])):
        return body
    try:
        body.decode("utf-8")
        return body
    except UnicodeDecodeError:
        return body.decode("cp1256", errors="replace").encode("utf-8")


def _complaint(exc: BaseException | None, added_line: bool) -> str:
    """What the parser said, and where: "mismatched tag at line 3, column 12".

    ``added_line``: feedparser put an XML declaration line before a body that had none, so the
    parser's line numbers are one past the publisher's."""
    if exc is None:
        return "no feed elements found"
    if isinstance(exc, SAXParseException):
        line = max(1, exc.getLineNumber() - (1 if added_line else 0))
        return f"{exc.getMessage()[:200]} at line {line}, column {exc.getColumnNumber()}"
    return f"{exc.__class__.__name__}: {str(exc)[:200]}"


def _has_declaration(body: bytes, encoding: str | None) -> bool:
    try:
        head = body[:400].decode(encoding or "utf-8", errors="ignore")
    except LookupError:
        return True
    return head.lstrip("\ufeff").startswith("<?xml")


def _resolve_link(raw: str, base: str | None) -> str | None:
    """An entry's link, resolved against the feed's own URL when relative (see the module rules)."""
    link = raw.strip()
    if not link:
        return None
    try:
        if urlsplit(link).scheme or not base:  # absolute (any scheme: the guard judges it), or no base
            return link
        joined = urljoin(base, link)
        return joined if urlsplit(joined).scheme.lower() in ("http", "https") else None
    except ValueError:  # unparseable: kept as written, the guard refuses it by name
        return link


def feed_base(url: str | None, headers: dict[str, str]) -> str | None:
    """The URL relative links in a feed are relative to: its Content-Location, else its own URL."""
    location = (headers.get("content-location") or "").strip()
    base = urljoin(url, location) if url and location else (url or location or None)
    if base and urlsplit(base).scheme.lower() in ("http", "https"):
        return base
    return None


def parse_feed(body: bytes, headers: dict[str, str] | None = None, max_entries: int = HARD_ENTRY_CAP,
               url: str | None = None) -> tuple[list[Entry], str | None, str | None]:
    """Parse feed bytes fetched from ``url`` (the final one, after redirects); returns
    (entries, feed title, warning). Raises ValueError if not a feed."""
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    base = feed_base(url, headers)
    # Content-Location is not given to feedparser: it would rewrite relative guids, the keys
    # items are remembered by. Links are resolved here instead.
    body = _undeclared_arabic(body, headers)
    whole = len(body)
    body = _first_entries(body, max_entries)
    cut = len(body) < whole
    with _PARSING:
        parsed = feedparser.parse(body, response_headers={k: v for k, v in headers.items() if k != "content-location"})
    exc = parsed.get("bozo_exception")
    added_line = exc is not None and not _has_declaration(body, parsed.get("encoding"))
    if not parsed.get("version") and not parsed.entries:
        raise ValueError(f"not an RSS/Atom feed: {_complaint(exc, added_line)}")
    warning = None
    if parsed.get("bozo"):
        warning = f"feed is malformed, read loosely: {_complaint(exc, added_line)}"
    if cut:
        warning = ((warning + "; ") if warning else "") + f"more than {max_entries} entries: the rest were not read"
    entries: list[Entry] = []
    seen: set[str] = set()
    for raw in parsed.entries:
        key = _entry_key(raw)
        if key in seen:  # duplicate guids within one feed body: keep the first
            continue
        seen.add(key)
        link = _resolve_link(raw.get("link") or "", base)
        entries.append(Entry(
            key=key,
            link=link,
            title=(raw.get("title") or "").strip()[:2000],
            summary=(raw.get("summary") or "").strip()[:20000],
            published=_when(raw),
        ))
        if len(entries) >= max_entries:
            break
    title = (parsed.feed.get("title") or "").strip() or None if parsed.get("feed") else None
    return entries, title, warning


def poll_feed(client: httpx.Client, url: str, limits: Limits, *, etag: str | None = None,
              last_modified: str | None = None, previous_hash: str | None = None,
              guard: Guard | None = None) -> PollResult:
    """Poll one feed. Raises `FetchError` (network/HTTP) or ValueError (not a feed).

    The feed's own host is the operator's choice; ``guard`` checks redirects to any other host."""
    headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    got = http_get(client, url, limits, max_bytes=limits.max_feed_bytes, headers=headers,
                   guard=feed_guard(url, guard))
    if got.status == 304:
        return PollResult("not_modified", etag=etag, last_modified=last_modified, body_hash=previous_hash)
    new_etag = got.headers.get("etag") or etag
    new_lm = got.headers.get("last-modified") or last_modified
    body_hash = hashlib.sha256(got.body).hexdigest()
    if previous_hash and body_hash == previous_hash:
        return PollResult("unchanged", etag=new_etag, last_modified=new_lm, body_hash=body_hash)
    try:
        entries, title, warning = parse_feed(
            got.body, {k.lower(): v for k, v in got.headers.items()}, url=got.url
        )
    except ValueError as exc:
        raise FetchError(url, str(exc)) from None
    return PollResult("new", entries, new_etag, new_lm, body_hash, title, warning)
