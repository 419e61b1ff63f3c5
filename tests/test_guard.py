from __future__ import annotations

import pytest

from flows.config import Limits
from flows.sources.fetch import FetchError, fetch_page, make_client
from flows.sources.guard import make_guard
from flows.replay.httpserve import Route, StaticServer


@pytest.mark.parametrize("url,reason", [
    ("javascript:alert(1)", "scheme 'javascript'"),
    ("file:///etc/passwd", "scheme 'file'"),
    ("data:text/html,<p>x</p>", "scheme 'data'"),
    ("http://127.0.0.1/x", "loopback"),
    ("http://localhost:8080/x", "loopback"),
    ("http://10.1.2.3/x", "private"),
    ("http://192.168.0.1/x", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[::1]/x", "loopback"),
    ("http://[::ffff:127.0.0.1]/x", "loopback"),
    ("http://0.0.0.0/x", "unspecified"),
])
def test_guard_refuses_non_public_targets(url: str, reason: str) -> None:
    with pytest.raises(FetchError, match=reason):
        make_guard()(url)


def test_guard_allows_public_literal_and_named_hosts() -> None:
    guard = make_guard(["127.0.0.1:8123"])
    guard("http://93.184.216.34/article")  # a public address literal: no DNS needed
    guard("http://127.0.0.1:8123/ok")
    with pytest.raises(FetchError):
        guard("http://127.0.0.1:8124/other-port")


def test_redirect_to_a_guarded_address_is_not_followed() -> None:
    routes = {"/hop": Route("text/plain", b"", status=302, headers={"Location": "http://169.254.169.254/latest/"})}
    limits = Limits(retries=0, connect_timeout=2, read_timeout=2, total_timeout=5)
    with StaticServer(routes) as server, make_client(limits, "t") as client:
        host = server.base_url.split("//", 1)[1]
        with pytest.raises(FetchError, match="link-local"):
            fetch_page(client, server.base_url + "/hop", limits, guard=make_guard([host]))
        assert server.paths_requested() == ["/hop"]


# -- the guard decides on the connection's own name and address -----------------------------

LIMITS = Limits(retries=0, connect_timeout=2, read_timeout=2, total_timeout=5)
STAND_IN = "127.0.0.2"  # plays a public address in these tests: loopback, but let through by `_public_stand_in`


def _public_stand_in(ip):
    """The default classification, except that 127.0.0.2 counts as public (a loopback stand-in for
    an outside server, so no test leaves this machine)."""
    from flows.sources.guard import _blocked

    return None if str(ip) == STAND_IN else _blocked(ip)


class SequenceResolver:
    """A DNS that answers each lookup with the next answer (the last one repeats): a rebinding name."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append((host, port))
        return self.answers[min(len(self.calls) - 1, len(self.answers) - 1)]


def _twin_servers(routes):
    """A server on 127.0.0.1 (inside) and one on 127.0.0.2 (the public stand-in) on the same port."""
    for _ in range(20):
        outside = StaticServer(routes, host=STAND_IN)
        try:
            inside = StaticServer(routes, port=outside.port)
        except OSError:
            outside.stop()
            continue
        return inside.start(), outside.start()
    raise RuntimeError("no port free on both loopback addresses")


def test_guard_encodes_hosts_as_the_connection_does_idna_2008() -> None:
    # Python's IDNA 2003 codec makes straße.example "strasse.example"; httpx connects to
    # xn--strae-oqa.example. The guard must look up (and decide on) the latter.
    dns = {"strasse.example": ["93.184.216.34"], "xn--strae-oqa.example": ["127.0.0.1"]}
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return dns[host]

    with pytest.raises(FetchError, match="loopback"):
        make_guard(resolve=resolve)("http://straße.example/news")
    assert asked == ["xn--strae-oqa.example"]
    # An operator's allow entry in Unicode matches the encoded name too.
    make_guard(["straße.example"], resolve=resolve)("http://straße.example/news")


def test_idna_host_is_connected_where_the_guard_decided() -> None:
    routes = {"/news": Route("text/html; charset=utf-8", b"<p>ok</p>")}
    inside, outside = _twin_servers(routes)
    try:
        guard = make_guard(resolve=SequenceResolver([STAND_IN]), blocked=_public_stand_in)
        with make_client(LIMITS, "t") as client:
            got = fetch_page(client, f"http://straße.example:{outside.port}/news", LIMITS, guard=guard)
        assert got.body == b"<p>ok</p>"
        assert outside.requests[0].headers["host"] == f"xn--strae-oqa.example:{outside.port}"
        assert inside.requests == []
    finally:
        inside.stop()
        outside.stop()


def test_dns_rebinding_public_then_loopback_gets_no_request_through() -> None:
    # The name answers public at the check and loopback afterwards. "localhost" is what the
    # system resolver (httpx's own lookup, before the fix) turns into 127.0.0.1.
    routes = {"/secret": Route("text/plain", b"inside")}
    inside, outside = _twin_servers(routes)
    try:
        dns = SequenceResolver([STAND_IN], ["127.0.0.1"])
        guard = make_guard(resolve=dns, blocked=_public_stand_in)
        with make_client(LIMITS, "t") as client:
            got = fetch_page(client, f"http://localhost:{inside.port}/secret", LIMITS, guard=guard)
        assert inside.requests == []  # nothing reached the inside
        assert outside.paths_requested() == ["/secret"]  # the approved address got it,
        assert outside.requests[0].headers["host"] == f"localhost:{inside.port}"  # under the original name
        assert got.body == b"inside" and len(dns.calls) == 1  # one lookup: nothing to rebind
    finally:
        inside.stop()
        outside.stop()


def test_a_pooled_connection_to_an_inside_address_is_not_reused_by_a_guarded_request() -> None:
    # An unguarded request (a feed) leaves a keep-alive connection to localhost -> 127.0.0.1;
    # a guarded one to the same origin, whose lookup now says "public", must not ride on it.
    with StaticServer({"/feed": Route("text/plain", b"feed"), "/page": Route("text/plain", b"page")}) as inside, \
            make_client(LIMITS, "t") as client:
        url = f"http://localhost:{inside.port}"
        assert fetch_page(client, url + "/feed", LIMITS).body == b"feed"
        guard = make_guard(resolve=SequenceResolver([STAND_IN]), blocked=_public_stand_in)
        with pytest.raises(FetchError, match="address guard: localhost is connected to a loopback address") as err:
            fetch_page(client, url + "/page", LIMITS, guard=guard)
        assert err.value.refused_host == f"localhost:{inside.port}"
        assert inside.paths_requested() == ["/feed"]


def test_feed_redirect_to_another_host_passes_the_guard() -> None:
    from flows.sources.poll import poll_feed

    with StaticServer() as canary, StaticServer() as feed_host, make_client(LIMITS, "t") as client:
        feed_host.routes["/moved"] = Route("text/plain", b"", status=302, headers={
            "Location": f"http://localhost:{canary.port}/internal"})
        feed_host.routes["/renamed"] = Route("text/plain", b"", status=301, headers={"Location": "/feed.xml"})
        feed_host.routes["/feed.xml"] = Route("application/rss+xml", b'<rss version="2.0"><channel><title>t</title>'
                                              b"<item><guid>1</guid><title>x</title></item></channel></rss>")
        canary.routes["/internal"] = Route("application/rss+xml", b"<rss/>")
        guard = make_guard()  # the feed's own loopback host is not allowed: it is the operator's choice
        with pytest.raises(FetchError, match="address guard: localhost is a loopback address"):
            poll_feed(client, feed_host.base_url + "/moved", LIMITS, guard=guard)
        assert canary.requests == []
        # A redirect within the feed's own host is still the operator's.
        assert len(poll_feed(client, feed_host.base_url + "/renamed", LIMITS, guard=guard).entries) == 1


def test_an_item_refused_by_the_guard_is_fetched_once_its_host_is_allowed(tmp_path, config_dir) -> None:
    import logging

    from flows import pipeline
    from flows.config import FeedConfig, load_config
    from flows.match import Matcher
    from flows.replay.replay_site import article_path, load_items, render_page
    from flows.store.state import Store
    from tests import faults
    from tests.test_pipeline import SEEDS, expected_alerts

    log = logging.getLogger("raqib.test.guard")
    stem, topic = sorted(expected_alerts())[0]
    seed = next(i for i in load_items(SEEDS) if i.stem == stem)
    with StaticServer() as feeds, StaticServer() as site:
        path = article_path(seed)
        site.routes[path] = Route("text/html; charset=utf-8", render_page(seed, "site", []))
        link = f"http://localhost:{site.port}{path}"  # a name the guard refuses until allowed
        feeds.routes["/feed.xml"] = Route(faults.RSS, faults.rss([faults.item(guid="g1", link=link, title="خبر")]).encode())
        cfg = load_config(config_dir)
        matcher = Matcher.from_config_dir(config_dir)
        store = Store(f"sqlite:///{tmp_path / 'raqib.db'}")
        feed = [FeedConfig(url=feeds.base_url + "/feed.xml", name="f", id="f")]
        with make_client(cfg.settings.limits, "t") as client:
            pipeline.poll_all(store, cfg, client, log, feeds=feed, ignore_age=True)
            first = pipeline.process_pending(store, cfg, client, matcher, log, guard=make_guard([]))
            assert first.alerts == [] and site.requests == []  # refused: matched on the (neutral) summary
            again = pipeline.process_pending(store, cfg, client, matcher, log, guard=make_guard([]))
            assert again.processed == 0 and site.requests == []  # still refused: not retried
            allowed = make_guard([f"localhost:{site.port}"])
            later = pipeline.process_pending(store, cfg, client, matcher, log, guard=allowed)
        assert site.paths_requested() == [path]
        assert [a.topic for a in later.alerts] == [t for s, t in sorted(expected_alerts()) if s == stem]
        assert topic in [a.topic for a in later.alerts]
        with store.engine.connect() as conn:
            from sqlalchemy import select

            from flows.store.state import items
            row = conn.execute(select(items)).mappings().one()
        assert row["state"] == "done" and row["refused_host"] is None and row["last_error"] is None
