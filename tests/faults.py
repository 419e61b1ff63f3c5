"""A fault-injection HTTP server for tests: loopback only, built on `flows.replay.httpserve.StaticServer`.

`fault_routes(base_url, canary_url)` returns the routes (path -> Route or handler) of one server
that misbehaves in every way a news feed or article page can: HTTP errors, hangs, drips,
redirect loops, malformed XML, entity and gzip bombs, huge bodies (streamed lazily, never built
in memory), windows-1256 text, wrong Content-Types, odd entries and hostile links (other
schemes, loopback / private / link-local addresses, directly or through a redirect).

``canary_url`` is the base URL of a second loopback server that the address guard does not
allow: links and redirects point at it, so its request log proves nothing reached it.

`FEED_FAULTS` names each faulty feed path with the reason the pipeline must report (a substring
of the FeedOutcome error), or ``None`` for feeds that parse and whose entries carry the faults.
"""

from __future__ import annotations

import gzip
import time
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from html import escape
from http.server import BaseHTTPRequestHandler

from flows.replay.httpserve import Handler, Route, StaticServer

HUGE_BYTES = 200 * 1024 * 1024
CHUNK = 64 * 1024
HANG_SECONDS = 4.0  # longer than the tests' read timeout (1 s)
DRIP_INTERVAL = 0.5  # one byte every half second: never trips a 1 s read timeout, only the total deadline
METADATA_URL = "http://169.254.169.254/latest/meta-data/"

RSS = "application/rss+xml; charset=utf-8"

# feed path -> substring of the expected FeedOutcome error (None: the feed parses)
FEED_FAULTS: dict[str, str | None] = {
    "/feed/500": "HTTP 500",
    "/feed/503": "HTTP 503",
    "/feed/404": "HTTP 404",
    "/feed/410": "HTTP 410",
    "/feed/hang": "timeout",
    "/feed/drip": "took longer than",
    "/feed/redirect-loop": "redirects",
    "/feed/gzip-bomb": "byte limit",
    "/feed/huge-length": "exceeds the",
    "/feed/huge-stream": "byte limit",
    "/feed/billion-laughs": None,  # entities are not expanded: either refused or read with no entries
    "/feed/malformed": None,
    "/feed/cp1256-declared": None,
    "/feed/cp1256-undeclared": None,
    "/feed/entries": None,
    "/feed/links": None,
}

NEUTRAL = "أعلنت هيئة الأرصاد الجوية أن الطقس سيكون معتدلا خلال عطلة نهاية الأسبوع مع رياح خفيفة."
PAGE_TEXT = [
    "قالت هيئة الأرصاد الجوية اليوم إن درجات الحرارة ستبقى معتدلة في معظم المناطق طوال الأسبوع المقبل.",
    "وأضافت الهيئة في نشرتها أن الرياح ستكون خفيفة إلى معتدلة السرعة وأن البحر سيكون هادئا في الصباح.",
    "ونصحت الهيئة المزارعين بمتابعة النشرات اليومية قبل بدء موسم الري الجديد في المحافظات الجنوبية.",
    "وتوقعت الهيئة سقوط أمطار متفرقة على المرتفعات الشمالية مع نهاية الأسبوع وتحسن الأجواء بعد ذلك.",
]
CP1256_MARK = "درجات الحرارة ستبقى معتدلة"


# -- small helpers --------------------------------------------------------------------------

def _head(h: BaseHTTPRequestHandler, status: int, headers: dict[str, str]) -> None:
    h.send_response(status)
    for k, v in headers.items():
        h.send_header(k, v)
    h.end_headers()


def _quietly(fn: Handler) -> Handler:
    """The client hangs up on purpose (limits); a broken pipe is the expected end."""

    def run(h: BaseHTTPRequestHandler) -> None:
        try:
            fn(h)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError, OSError):
            h.close_connection = True

    return run


def rss(items: list[str], *, title: str = "faults", encoding: str | None = "utf-8") -> str:
    decl = f'<?xml version="1.0" encoding="{encoding}"?>\n' if encoding else ""
    return (f'{decl}<rss version="2.0"><channel><title>{escape(title)}</title>'
            f"<link>http://example.org/</link><description>x</description>"
            + "".join(items) + "</channel></rss>\n")


def item(*, guid: str | None, link: str | None, title: str, summary: str = NEUTRAL,
         date: str | None = "now") -> str:
    parts = [f"<title>{escape(title)}</title>"]
    if guid is not None:
        parts.append(f'<guid isPermaLink="false">{escape(guid)}</guid>')
    if link is not None:
        parts.append(f"<link>{escape(link)}</link>")
    parts.append(f"<description>{escape(summary)}</description>")
    if date == "now":
        date = format_datetime(datetime.now(timezone.utc) - timedelta(hours=1))
    if date is not None:
        parts.append(f"<pubDate>{escape(date)}</pubDate>")
    return "<item>" + "".join(parts) + "</item>"


def page_html(title: str, *, charset_meta: str | None = None) -> str:
    meta = f'<meta charset="{charset_meta}">' if charset_meta else ""
    paras = "".join(f"<p>{escape(p)}</p>" for p in PAGE_TEXT)
    return (f'<!doctype html><html lang="ar" dir="rtl"><head>{meta}<title>{escape(title)}</title></head>'
            f"<body><header><nav><a href='/'>الرئيسية</a></nav></header><main><article>"
            f"<h1>{escape(title)}</h1>{paras}</article></main><footer>حقوق النشر</footer></body></html>")


# -- handlers -------------------------------------------------------------------------------

def _status(code: int, extra: dict[str, str] | None = None) -> Route:
    return Route("text/plain; charset=utf-8", f"error {code}\n".encode(), status=code, headers=extra or {})


@_quietly
def _hang(h: BaseHTTPRequestHandler) -> None:
    time.sleep(HANG_SECONDS)
    body = rss([]).encode()
    _head(h, 200, {"Content-Type": RSS, "Content-Length": str(len(body))})
    h.wfile.write(body)


@_quietly
def _drip(h: BaseHTTPRequestHandler) -> None:
    body = rss([item(guid="drip", link=None, title="drip")]).encode()
    _head(h, 200, {"Content-Type": RSS, "Content-Length": str(len(body))})
    for i in range(len(body)):
        h.wfile.write(body[i:i + 1])
        h.wfile.flush()
        time.sleep(DRIP_INTERVAL)


def _redirect_to(location: str) -> Handler:
    @_quietly
    def run(h: BaseHTTPRequestHandler) -> None:
        _head(h, 302, {"Location": location, "Content-Length": "0"})

    return run


_GZIP_BOMB: bytes | None = None


def gzip_bomb() -> bytes:
    """~16 MB of zeros inside a gzip stream of ~16 KB (built once, in 1 MB steps)."""
    global _GZIP_BOMB
    if _GZIP_BOMB is None:
        import io

        buf = io.BytesIO()
        with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9) as gz:
            zeros = b"\0" * (1024 * 1024)
            for _ in range(16):
                gz.write(zeros)
        _GZIP_BOMB = buf.getvalue()
    return _GZIP_BOMB


@_quietly
def _gzip_bomb(h: BaseHTTPRequestHandler) -> None:
    body = gzip_bomb()
    _head(h, 200, {"Content-Type": RSS, "Content-Encoding": "gzip", "Content-Length": str(len(body))})
    h.wfile.write(body)


def _huge(with_length: bool) -> Handler:
    @_quietly
    def run(h: BaseHTTPRequestHandler) -> None:
        headers = {"Content-Type": RSS}
        if with_length:
            headers["Content-Length"] = str(HUGE_BYTES)
        else:
            headers["Connection"] = "close"  # body ends when the connection does
            h.close_connection = True
        _head(h, 200, headers)
        chunk = b"<!-- " + b"x" * (CHUNK - 9) + b" -->"
        sent = 0
        while sent < HUGE_BYTES:  # lazily, one chunk at a time
            h.wfile.write(chunk)
            sent += len(chunk)

    return run


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title>
<item><title>&lol9;</title><guid>bomb</guid><description>&lol9;</description></item>
</channel></rss>
"""


def fault_routes(base_url: str, canary_url: str) -> dict[str, Route | Handler]:
    """Every faulty feed and page; ``canary_url``: a server the guard must never let through."""
    b = base_url
    routes: dict[str, Route | Handler] = {
        "/feed/500": _status(500),
        "/feed/503": _status(503, {"Retry-After": "120"}),
        "/feed/404": _status(404),
        "/feed/410": _status(410),
        "/feed/hang": _hang,
        "/feed/drip": _drip,
        "/feed/redirect-loop": _redirect_to("/feed/redirect-loop-b"),
        "/feed/redirect-loop-b": _redirect_to("/feed/redirect-loop"),
        "/feed/gzip-bomb": _gzip_bomb,
        "/feed/huge-length": _huge(with_length=True),
        "/feed/huge-stream": _huge(with_length=False),
        "/feed/billion-laughs": Route("application/xml", BILLION_LAUGHS),
    }
    # Malformed XML: unclosed tags, a bare ampersand, no closing </channel></rss>.
    malformed = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>broken & co</title>'
                 f'<item><title>خبر أول<guid>mal-1</guid><link>{b}/page/ok?m=1</link>'
                 f"<description>{NEUTRAL}</description></item>"
                 f"<item><title>خبر ثان</title><guid>mal-2</guid><link>{b}/page/ok?m=2</link>"
                 f"<description>{NEUTRAL} <b>unclosed</description></item>")
    routes["/feed/malformed"] = Route(RSS, malformed.encode())

    # windows-1256 feeds: with an XML declaration + HTTP charset, and with neither.
    ar_title = "نشرة الطقس لنهاية الأسبوع"
    cp_items = [item(guid="cp-1", link=f"{b}/page/cp1256-declared", title=ar_title),
                item(guid="cp-2", link=f"{b}/page/cp1256-undeclared", title=ar_title + " الثانية")]
    routes["/feed/cp1256-declared"] = Route("application/rss+xml; charset=windows-1256",
                                            rss(cp_items, encoding="windows-1256").encode("cp1256"))
    cp_items_u = [item(guid="cpu-1", link=f"{b}/page/ok?u=1", title=ar_title + " الثالثة")]
    routes["/feed/cp1256-undeclared"] = Route("application/rss+xml", rss(cp_items_u, encoding=None).encode("cp1256"))
    routes["/page/cp1256-declared"] = Route("text/html; charset=windows-1256",
                                            page_html("طقس معتدل").encode("cp1256"))
    routes["/page/cp1256-undeclared"] = Route("text/html", page_html("طقس معتدل ثان").encode("cp1256"))
    routes["/page/ok"] = Route("text/html; charset=utf-8", page_html("طقس معتدل ثالث").encode())
    routes["/page/pdf"] = Route("application/pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n")
    routes["/page/png"] = Route("image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64)

    # Odd entries: no guid, no link, neither, duplicate guids, future / unparseable dates, a 1 MB title.
    future = format_datetime(datetime.now(timezone.utc) + timedelta(days=3650))
    entries = [
        item(guid=None, link=f"{b}/page/ok?e=noguid", title="بلا معرف"),
        item(guid="e-nolink", link=None, title="بلا رابط"),
        item(guid=None, link=None, title="بلا معرف ولا رابط", summary=NEUTRAL + " بلا شيء"),
        item(guid="e-dup", link=f"{b}/page/ok?e=dup1", title="مكرر أول"),
        item(guid="e-dup", link=f"{b}/page/ok?e=dup2", title="مكرر ثان"),
        item(guid="e-future", link=f"{b}/page/ok?e=future", title="من المستقبل", date=future),
        item(guid="e-baddate", link=f"{b}/page/ok?e=bad", title="تاريخ فاسد", date="yesterday-ish, 32 Foo 99"),
        item(guid="e-bigtitle", link=f"{b}/page/ok?e=big", title="x" * 1_000_000),
    ]
    routes["/feed/entries"] = Route(RSS, rss(entries).encode())

    # Hostile links: other schemes, guarded addresses, and redirects from the allowed server to them.
    routes["/redirect/metadata"] = _redirect_to(METADATA_URL)
    routes["/redirect/canary"] = _redirect_to(canary_url + "/via-redirect")
    routes["/redirect/private"] = _redirect_to("http://10.0.0.1/admin")
    routes["/redirect/file"] = _redirect_to("file:///etc/passwd")
    links = {
        "l-js": "javascript:alert(1)",
        "l-file": "file:///etc/passwd",
        "l-data": "data:text/html;base64,PGgxPmhpPC9oMT4=",
        "l-metadata": METADATA_URL,
        "l-canary": canary_url + "/direct",
        "l-localhost": "http://localhost:" + canary_url.rsplit(":", 1)[1] + "/by-name",
        "l-private": "http://192.168.1.1/",
        "l-ipv6-loopback": "http://[::1]:" + canary_url.rsplit(":", 1)[1] + "/v6",
        "l-redir-metadata": f"{b}/redirect/metadata",
        "l-redir-canary": f"{b}/redirect/canary",
        "l-redir-private": f"{b}/redirect/private",
        "l-redir-file": f"{b}/redirect/file",
        "l-pdf": f"{b}/page/pdf",
        "l-png": f"{b}/page/png",
    }
    routes["/feed/links"] = Route(RSS, rss([
        item(guid=g, link=url, title=f"رابط {i}", summary=f"{NEUTRAL} رقم {i}") for i, (g, url) in enumerate(links.items())
    ]).encode())
    return routes


HOSTILE_GUIDS = ("l-js", "l-file", "l-data", "l-metadata", "l-canary", "l-localhost", "l-private",
                 "l-ipv6-loopback", "l-redir-metadata", "l-redir-canary", "l-redir-private", "l-redir-file")


HEADER_DRIP_BYTES = 20  # dripped before the rest: 20 x 0.4 s = 8 s, no single pause reaches 1 s


@_quietly
def header_drip(h: BaseHTTPRequestHandler) -> None:
    """Status line and headers one byte at a time, each gap under the read timeout."""
    body = rss([]).encode()
    head = (f"HTTP/1.1 200 OK\r\nContent-Type: {RSS}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    h.close_connection = True
    for i in range(HEADER_DRIP_BYTES):
        h.wfile.write(head[i:i + 1])
        h.wfile.flush()
        time.sleep(0.4)
    h.wfile.write(head[HEADER_DRIP_BYTES:] + body)


# -- memory: feeds and pages just under the default size caps (10 MB feed, 5 MB page) ----------

# feed path -> what it holds; each parses, and each item's page is fetched.
MEMORY_FAULTS: dict[str, str] = {
    "/feed/big-summaries": "90 entries with a 100 KB summary each (~9 MB)",
    "/feed/many-entries": "20,000 small entries (~7.5 MB; 5,000 are read)",
    "/feed/big-titles": "8 entries with a 1 MB title each",
    "/feed/big-page": "an entry whose page is 4.9 MB of HTML",
    "/feed/page-bomb": "an entry whose page is a gzip bomb (16 MB of zeros as text/html)",
}


def memory_routes(base_url: str) -> dict[str, Route | Handler]:
    """The `MEMORY_FAULTS` feeds and their pages, on the server at ``base_url``."""
    b = base_url
    para = "<p>" + escape(" ".join(PAGE_TEXT)) + "</p>\n"
    big_page = ('<!doctype html><html lang="ar"><head><meta charset="utf-8"><title>صفحة كبيرة</title></head>'
                "<body><main><article><h1>صفحة كبيرة</h1>" + para * (4_900_000 // len(para.encode()))
                + "</article></main></body></html>").encode()
    long_summary = (NEUTRAL + " ") * (100_000 // len((NEUTRAL + " ").encode()))
    routes: dict[str, Route | Handler] = {
        "/feed/big-summaries": Route(RSS, rss([
            item(guid=f"bs-{i}", link=f"{b}/page/ok?bs={i}", title=f"ملخص طويل {i}", summary=long_summary)
            for i in range(90)]).encode()),
        "/feed/many-entries": Route(RSS, rss([
            item(guid=f"me-{i}", link=f"{b}/page/ok?me={i}", title=f"خبر قصير رقم {i}") for i in range(20_000)]).encode()),
        "/feed/big-titles": Route(RSS, rss([
            item(guid=f"bt-{i}", link=f"{b}/page/ok?bt={i}", title="ع" * 500_000) for i in range(8)]).encode()),
        "/feed/big-page": Route(RSS, rss([item(guid="bp", link=f"{b}/page/big", title="صفحة كبيرة")]).encode()),
        "/feed/page-bomb": Route(RSS, rss([item(guid="pb", link=f"{b}/page/gzip-bomb", title="قنبلة")]).encode()),
        "/page/big": Route("text/html; charset=utf-8", big_page),
    }

    @_quietly
    def page_bomb(h: BaseHTTPRequestHandler) -> None:
        body = gzip_bomb()
        _head(h, 200, {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip",
                       "Content-Length": str(len(body))})
        h.wfile.write(body)

    routes["/page/gzip-bomb"] = page_bomb
    return routes
