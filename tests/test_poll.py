from __future__ import annotations

import gzip
import re

import pytest

from flows.config import Limits
from flows.sources.fetch import FetchError, make_client
from flows.replay.httpserve import Route, StaticServer
from flows.sources.poll import parse_feed, poll_feed

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>أخبار تجريبية</title>
<item><title>خبر أول</title><link>http://127.0.0.1/a/1</link><guid>g-1</guid>
<pubDate>Mon, 02 Nov 2026 08:00:00 +0000</pubDate><description>ملخص الخبر الأول</description></item>
<item><title>خبر ثان بلا معرف</title><link>http://127.0.0.1/a/2</link></item>
<item><title>مكرر</title><link>http://127.0.0.1/a/3</link><guid>g-1</guid></item>
</channel></rss>"""

LIMITS = Limits(retries=0, connect_timeout=2, read_timeout=2, total_timeout=5)


def test_parse_feed_keys_dates_and_duplicate_guids() -> None:
    entries, title, warning = parse_feed(RSS.encode())
    assert title == "أخبار تجريبية"
    assert warning is None
    assert [e.key for e in entries] == ["g-1", "http://127.0.0.1/a/2"]  # duplicate guid dropped
    assert entries[0].published is not None and entries[0].published.hour == 8
    assert entries[1].published is None


def test_windows_1256_feed_declared_in_xml() -> None:
    body = RSS.replace('encoding="utf-8"', 'encoding="windows-1256"').encode("cp1256")
    entries, title, _ = parse_feed(body)
    assert title == "أخبار تجريبية"
    assert entries[0].title == "خبر أول"


def test_html_page_is_not_a_feed() -> None:
    with pytest.raises(ValueError, match="not an RSS/Atom feed"):
        parse_feed(b"<!doctype html><html><body><p>hello</p></body></html>")


def test_304_with_matching_etag_means_nothing_new() -> None:
    with StaticServer({"/feed.xml": Route("application/rss+xml", RSS.encode())}) as server, make_client(LIMITS, "t") as c:
        url = server.base_url + "/feed.xml"
        first = poll_feed(c, url, LIMITS)
        assert first.status == "new" and len(first.entries) == 2 and first.etag
        second = poll_feed(c, url, LIMITS, etag=first.etag, previous_hash=first.body_hash)
        assert second.status == "not_modified"
        assert second.entries == [] and second.etag == first.etag
        assert server.requests[-1].headers.get("if-none-match") == first.etag
        # A server that ignores validators but sends the same body: the body hash says unchanged.
        third = poll_feed(c, url, LIMITS, previous_hash=first.body_hash)
        assert third.status == "unchanged"


def test_http_errors_and_size_cap_are_reported() -> None:
    routes = {
        "/gone": Route("text/plain", b"gone", status=410),
        "/big": Route("application/rss+xml", b"<rss>" + b" " * 5000 + b"</rss>"),
        "/gz": Route("application/rss+xml", gzip.compress(RSS.encode()), headers={"Content-Encoding": "gzip"}),
    }
    small = Limits(retries=0, max_feed_bytes=1000, connect_timeout=2, read_timeout=2, total_timeout=5)
    with StaticServer(routes) as server, make_client(small, "t") as c:
        with pytest.raises(FetchError, match="HTTP 410"):
            poll_feed(c, server.base_url + "/gone", small)
        with pytest.raises(FetchError, match="1000-byte limit"):
            poll_feed(c, server.base_url + "/big", small)
        assert poll_feed(c, server.base_url + "/gz", LIMITS).status == "new"


WIDE = """<?xml version="1.0" encoding="{decl}"?>
<rss version="2.0"><channel><title>أخبار café</title>
<item><title>خبر أول — café</title><link>http://127.0.0.1/a/1</link><guid>w-1</guid></item>
</channel></rss>"""


@pytest.mark.parametrize("codec,decl,bom", [
    ("utf-16-le", "utf-16", True), ("utf-16-be", "utf-16", True),
    ("utf-32-le", "utf-32", True), ("utf-32-be", "utf-32", True),
    ("utf-16-le", "utf-16le", False), ("utf-16-be", "utf-16be", False),
    ("utf-32-le", "utf-32le", False), ("utf-32-be", "utf-32be", False),
])
def test_utf16_and_utf32_feeds_are_read(codec: str, decl: str, bom: bool) -> None:
    # No HTTP charset: the byte-order mark (or the wide "<?xml") is the declaration.
    body = (("\ufeff" if bom else "") + WIDE.format(decl=decl)).encode(codec)
    entries, title, _ = parse_feed(body, {"content-type": "application/rss+xml"})
    assert title == "أخبار café"
    assert [(e.key, e.title) for e in entries] == [("w-1", "خبر أول — café")]


def test_relative_links_resolve_against_the_final_url_and_content_location() -> None:
    items = ("<item><guid>r-1</guid><title>a</title><link>/news/123</link></item>"
             "<item><guid>r-2</guid><title>b</title><link>story/7?x=1</link></item>"
             "<item><guid>r-3</guid><title>c</title><link>//cdn.example.org/p/3</link></item>"
             "<item><guid>r-4</guid><title>d</title><link>javascript:alert(1)</link></item>"
             "<item><title>e</title><link>/news/5</link></item>")
    body = f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()
    routes = {
        "/old": Route("text/plain", b"", status=301, headers={"Location": "/feeds/ar/rss.xml"}),
        "/feeds/ar/rss.xml": Route("application/rss+xml", body),
        "/served": Route("application/rss+xml", body, headers={"Content-Location": "/feeds/en/rss.xml"}),
    }
    with StaticServer(routes) as server, make_client(LIMITS, "t") as c:
        b = server.base_url
        got = poll_feed(c, b + "/old", LIMITS)
        assert [e.link for e in got.entries] == [
            f"{b}/news/123", f"{b}/feeds/ar/story/7?x=1", "http://cdn.example.org/p/3", "javascript:alert(1)",
            f"{b}/news/5"]
        # Keys are what the publisher wrote: guids are never rewritten, a link key stays as written.
        assert [e.key for e in got.entries] == ["r-1", "r-2", "r-3", "r-4", "/news/5"]
        served = poll_feed(c, b + "/served", LIMITS)
        assert served.entries[1].link == f"{b}/feeds/en/story/7?x=1"


def test_a_failed_parse_says_what_and_where() -> None:
    page = b"<html>\n<body>\n<p>hello</b>\n</body></html>"
    with pytest.raises(ValueError, match=r"not an RSS/Atom feed: mismatched tag at line 3, column 10"):
        parse_feed(page)
    _, _, warning = parse_feed(RSS.replace("<title>خبر أول</title>", "<title>خبر & أول</title>").encode())
    assert warning and re.search(r"not well-formed \(invalid token\) at line 3, column \d+", warning), warning


@pytest.mark.parametrize("shape", ["rss", "atom", "rdf"])
def test_a_feed_of_countless_entries_is_cut_before_feedparser_reads_them(shape: str) -> None:
    # feedparser keeps every entry it reads (~3.5 KB each): 10 MB of small entries would cost
    # about a gigabyte and minutes of CPU. Only the entries raqib takes are read.
    n, cap = 3000, 1000
    if shape == "rss":
        head, tail = '<rss version="2.0"><channel><title>t</title>', "</channel></rss>"
        one = "<item><guid>e{0}</guid><title>خبر {0}</title></item>"
    elif shape == "atom":
        head, tail = '<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>', "</feed>"
        one = "<entry><id>e{0}</id><title>خبر {0}</title></entry>"
    else:
        head = ('<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">'
                '<channel rdf:about="http://e/"><title>t</title></channel>')
        tail = "</rdf:RDF>"
        one = '<item rdf:about="http://e/{0}"><title>خبر {0}</title><link>http://e/{0}</link></item>'
    body = ('<?xml version="1.0" encoding="utf-8"?>' + head + "".join(one.format(i) for i in range(n)) + tail).encode()
    entries, title, warning = parse_feed(body, max_entries=cap)
    assert title == "t"
    assert [e.title for e in entries] == [f"خبر {i}" for i in range(cap)]
    assert warning == f"more than {cap} entries: the rest were not read"  # well-formed once cut: no other warning
