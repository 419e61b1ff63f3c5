"""Feed discovery: from a site's home page or an article page to the feed(s) it publishes.

Rules:
- every request goes through the bounded fetch (`flows.sources.fetch.http_get`: timeouts, size
  cap, hand-followed redirects) and the address guard, for the page, each redirect and each
  candidate: `raqib feeds add` never reaches inside the operator's network unless `allow_hosts`
  says so;
- the URL itself may be a feed: then it is the answer;
- else candidates are, in order: the page's `<link rel="alternate">` with an RSS/Atom type (as
  browsers and readers find them), then common feed paths on the site's root (`/feed`, `/rss`,
  `/rss.xml`, `/feed.xml`, `/atom.xml`, `/index.xml`, `/?feed=rss2`); only candidates whose body
  parses as a feed with feedparser are returned, with the feed's own title;
- only http(s) candidates are tried; a page's links are untrusted, like any page.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Callable
from urllib.parse import urljoin, urlsplit

import httpx

from flows.config import Limits
from flows.sources.fetch import FetchError, http_get
from flows.sources.poll import parse_feed

FEED_TYPES = {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml",
              "text/xml", "application/feed+xml"}
COMMON_PATHS = ("/feed", "/rss", "/rss.xml", "/feed.xml", "/atom.xml", "/index.xml", "/feeds/posts/default",
                "/?feed=rss2")
# Enough to learn that a body is a feed and read its title; pages are capped by max_page_bytes.
ACCEPT = "application/rss+xml, application/atom+xml;q=0.9, text/html;q=0.8, */*;q=0.5"


@dataclass(frozen=True)
class FoundFeed:
    url: str
    title: str | None
    how: str  # "given" | "link" | "path"


class _AlternateLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.base: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "").strip() for k, v in attrs}
        if tag == "base" and a.get("href") and self.base is None:
            self.base = a["href"]
        if tag != "link" or not a.get("href"):
            return
        rels = a.get("rel", "").lower().split()
        if "alternate" in rels and a.get("type", "").lower().split(";")[0] in FEED_TYPES:
            self.links.append(a["href"])


def feed_links(html: str, page_url: str) -> list[str]:
    """Absolute http(s) URLs of the page's RSS/Atom `<link rel="alternate">`, in page order."""
    parser = _AlternateLinks()
    parser.feed(html)
    base = urljoin(page_url, parser.base) if parser.base else page_url
    out: list[str] = []
    for href in parser.links:
        url = urljoin(base, href)
        if urlsplit(url).scheme in ("http", "https") and url not in out:
            out.append(url)
    return out


def _as_feed(body: bytes, headers: httpx.Headers) -> tuple[bool, str | None]:
    try:
        entries, title, _ = parse_feed(body, dict(headers))
    except ValueError:
        return False, None
    # feedparser reads almost anything loosely; an HTML page is not a feed even if it parses.
    ctype = headers.get("content-type", "").lower()
    if "html" in ctype and not entries:
        return False, None
    return True, title


def discover(client: httpx.Client, url: str, limits: Limits, guard: Callable[[str], None] | None,
             *, max_candidates: int = 12) -> list[FoundFeed]:
    """The feeds of ``url`` (a feed, a home page or an article page). Raises `FetchError` when
    ``url`` itself cannot be fetched; candidates that fail are skipped."""
    page = http_get(client, url, limits, max_bytes=limits.max_page_bytes, headers={"Accept": ACCEPT}, guard=guard)
    is_feed, title = _as_feed(page.body, page.headers)
    if is_feed:
        return [FoundFeed(page.url, title, "given")]
    html = page.body.decode(page.headers.encoding or "utf-8", errors="replace") if page.body else ""
    parts = urlsplit(page.url)
    root = f"{parts.scheme}://{parts.netloc}"
    candidates = [(u, "link") for u in feed_links(html, page.url)]
    candidates += [(root + p, "path") for p in COMMON_PATHS if root + p not in {c for c, _ in candidates}]
    found: list[FoundFeed] = []
    for cand, how in candidates[:max_candidates]:
        if how == "path" and any(f.how == "link" for f in found):
            break  # the page named its feeds: no need to guess
        try:
            got = http_get(client, cand, limits, max_bytes=limits.max_feed_bytes, headers={"Accept": ACCEPT},
                           guard=guard)
        except FetchError:
            continue
        ok, title = _as_feed(got.body, got.headers)
        if ok and got.url not in {f.url for f in found}:
            found.append(FoundFeed(got.url, title, how))
            if how == "path":
                break  # one guessed path is enough
    return found
