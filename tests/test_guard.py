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
