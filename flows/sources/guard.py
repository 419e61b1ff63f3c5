"""Address guard: article links and feed redirects come from publishers, who are not trusted.

Rules:
- only http and https URLs are fetched (`javascript:`, `file:`, `data:` … are refused);
- the decision is on exactly the name the connection uses: the URL is parsed by httpx and its
  host taken as httpx encodes it (IDNA 2008 / UTS 46, so `straße.example` is
  `xn--strae-oqa.example`, not Python's IDNA 2003 `strasse.example`);
- the host must resolve only to public (globally routable) addresses: loopback, private,
  link-local (169.254.169.254, the cloud metadata address), multicast, reserved and unspecified
  addresses are refused, for the link itself and for every redirect hop (the fetcher calls the
  guard before each hop);
- the name is resolved once, here; the connection is opened to the addresses approved here and
  no others (the fetcher's backend pins them), and a pooled connection is used only if its peer
  address would pass: a DNS answer that changes between check and connect (rebinding) gets nothing;
- an operator can allow named hosts (`host` or `host:port`, in settings `allow_hosts`); replay
  allows its own loopback server and nothing else;
- a configured feed's own host is the operator's choice and is not checked, but a redirect from it
  to another host is the publisher's and is checked like an article link (`feed_guard`);
- a refusal raises `FetchError` naming the URL's host and the reason, with ``refused_host`` set;
  it is not retried, unless the operator later allows that host (the store re-queues the item).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Callable, Iterable

import httpx

from flows.sources.fetch import Approval, FetchError, Guard

__all__ = ["AddressGuard", "Guard", "feed_guard", "make_guard", "host_port"]

# (host as the connection uses it, port) -> the addresses it resolves to, as strings.
Resolver = Callable[[str, int], list[str]]
IP = ipaddress.IPv4Address | ipaddress.IPv6Address


def _blocked(ip: IP) -> str | None:
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


def system_resolve(host: str, port: int) -> list[str]:
    """The addresses of ``host`` (already IDNA-encoded ASCII), in the resolver's order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    out: list[str] = []
    for info in infos:
        addr = str(info[4][0]).split("%", 1)[0]
        if addr not in out:
            out.append(addr)
    return out


def host_port(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of ``url`` exactly as httpx connects to it. Raises ValueError."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise ValueError(str(exc)[:200]) from None
    scheme = parsed.scheme.lower()
    host = parsed.raw_host.decode("ascii").lower()
    port = parsed.port or (443 if scheme == "https" else 80)
    return scheme, host, port


def _allow_entry(entry: str) -> str:
    """An `allow_hosts` entry in the connection's form (`host` or `host:port`, IDNA-encoded)."""
    entry = entry.strip()
    try:
        parsed = httpx.URL(f"http://{entry}/")
        host = parsed.raw_host.decode("ascii").lower()
    except (httpx.InvalidURL, ValueError):
        return entry.lower()
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{parsed.port}" if parsed.port is not None else host


class AddressGuard:
    """Decides whether a URL may be fetched and where its connection may go (see the module rules).

    ``resolve`` and ``blocked`` are seams for tests: the resolver to ask, and what counts as a
    refused address (default: anything not globally routable)."""

    def __init__(self, allow_hosts: Iterable[str] = (), *, resolve: Resolver | None = None,
                 blocked: Callable[[IP], str | None] | None = None) -> None:
        self._allowed = {_allow_entry(h) for h in allow_hosts}
        self._resolve = resolve or system_resolve
        self._blocked = blocked or _blocked

    def allows(self, host_and_port: str) -> bool:
        """True when ``host:port`` (as recorded in `FetchError.refused_host`) is allowed by name."""
        host, _, port = host_and_port.rpartition(":")
        return bool(host) and self._allowed_name(host, int(port) if port.isdigit() else -1)

    def _allowed_name(self, host: str, port: int) -> bool:
        shown = f"[{host}]" if ":" in host else host
        return shown in self._allowed or f"{shown}:{port}" in self._allowed

    def refuse_peer(self, address: str) -> str | None:
        try:
            return self._blocked(ipaddress.ip_address(address))
        except ValueError:
            return "unparseable"

    def __call__(self, url: str) -> Approval:
        try:
            scheme, host, port = host_port(url)
        except ValueError:
            raise FetchError(url[:200], "address guard: unparseable URL") from None
        if scheme not in ("http", "https"):
            raise FetchError(url[:200], f"address guard: scheme {scheme or '(none)'!r} is not fetched")
        if not host:
            raise FetchError(url[:200], "address guard: URL has no host")
        approval = Approval(url, host, port, None)
        if self._allowed_name(host, port):
            return approval
        try:
            addresses = [str(ipaddress.ip_address(host))]
        except ValueError:
            try:
                addresses = self._resolve(host, port)
            except (socket.gaierror, UnicodeError) as exc:
                reason = getattr(exc, "strerror", None) or exc.__class__.__name__
                raise FetchError(url[:200], f"cannot resolve host {host!r} ({reason})", transient=True) from None
        if not addresses:
            raise FetchError(url[:200], f"cannot resolve host {host!r} (no address)", transient=True)
        for addr in addresses:
            why = self.refuse_peer(addr)
            if why:
                raise approval.refuse(f"{host} is a {why} address ({addr})")
        return Approval(url, host, port, tuple(addresses), self.refuse_peer)


def make_guard(allow_hosts: Iterable[str] = (), *, resolve: Resolver | None = None,
               blocked: Callable[[IP], str | None] | None = None) -> AddressGuard:
    return AddressGuard(allow_hosts, resolve=resolve, blocked=blocked)


def feed_guard(feed_url: str, guard: Guard | None) -> Guard | None:
    """The guard for polling ``feed_url``: hops on the feed's own host pass unchecked (the
    operator chose it), a redirect to any other host passes ``guard`` like an article link."""
    if guard is None:
        return None
    try:
        own = host_port(feed_url)[1]
    except ValueError:
        own = None

    def check(url: str) -> Approval | None:
        try:
            same = own is not None and host_port(url)[1] == own
        except ValueError:
            same = False
        return None if same else guard(url)

    return check
