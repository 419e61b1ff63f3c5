"""Address guard: article links come from feed publishers, who are not trusted.

Rules:
- only http and https URLs are fetched (`javascript:`, `file:`, `data:` … are refused);
- the host must resolve only to public (globally routable) addresses: loopback, private,
  link-local (169.254.169.254, the cloud metadata address), multicast, reserved and unspecified
  addresses are refused, for the link itself and for every redirect hop (the fetcher calls the
  guard before each hop);
- an operator can allow named hosts (`host` or `host:port`, in settings `allow_hosts`); replay
  allows its own loopback server and nothing else;
- a refusal raises `FetchError` naming the URL's host and the reason; it is not retried.
Limit: the check resolves the name, then httpx resolves it again to connect; a DNS answer that
changes in between (rebinding) is not caught here.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Callable, Iterable
from urllib.parse import urlsplit

from flows.sources.fetch import FetchError

Guard = Callable[[str], None]


def _blocked(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    # Most specific first: 0.0.0.0 and 127/8 also count as "private" in the ipaddress module.
    for label, flag in (("unspecified", ip.is_unspecified), ("loopback", ip.is_loopback),
                        ("link-local", ip.is_link_local), ("multicast", ip.is_multicast),
                        ("private", ip.is_private), ("reserved", ip.is_reserved)):
        if flag:
            return label
    if not ip.is_global:
        return "non-public"
    return None


def make_guard(allow_hosts: Iterable[str] = ()) -> Guard:
    allowed = {h.lower() for h in allow_hosts}

    def guard(url: str) -> None:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise FetchError(url[:200], "address guard: unparseable URL") from None
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise FetchError(url[:200], f"address guard: scheme {scheme or '(none)'!r} is not fetched")
        host = (parts.hostname or "").lower()
        if not host:
            raise FetchError(url[:200], "address guard: URL has no host")
        port = port or (443 if scheme == "https" else 80)
        if host in allowed or f"{host}:{port}" in allowed:
            return
        try:
            addresses = {ipaddress.ip_address(host)}
        except ValueError:
            try:
                infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except socket.gaierror as exc:
                raise FetchError(url[:200], f"cannot resolve host {host!r} ({exc.strerror})", transient=True) from None
            addresses = {ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos}
        for ip in addresses:
            why = _blocked(ip)
            if why:
                raise FetchError(url[:200], f"address guard: {host} is a {why} address ({ip}); not fetched")

    return guard
