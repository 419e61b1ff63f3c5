"""Fetch stage: bounded HTTP GETs with httpx, for feeds and article pages.

Rules:
- connect and read timeouts, plus a total deadline per request that bounds every socket read
  and write, headers included (a server that drips its status line, headers or body cannot hold
  a worker longer than ``total_timeout``, whatever its pace);
- the body is read as a stream and cut off at ``max_bytes`` (checked while reading, not after);
  gzip and deflate are decoded here in steps of at most ``DECODE_STEP`` bytes, so a
  decompression bomb costs no more memory than ``max_bytes`` (httpx would inflate each chunk
  read whole: 16 KB of gzip can be 16 MB); other content codings are refused;
- redirects are followed by hand, at most ``max_redirects``, and every hop is checked by the
  optional ``guard`` (the address guard) before it is requested; the guard's `Approval` then
  binds the connection: a new one is opened only to the addresses it approved (no second DNS
  lookup that could answer otherwise), a pooled one is used only if its peer address passes,
  and the name in the URL (Host header, TLS server name and certificate) stays the original;
- transient failures (connect errors, timeouts, 429, 5xx) are retried with backoff; other
  failures are returned as a `FetchError` with a reason that names the URL's host, never raised
  past the caller's loop;
- certificates are always verified, against one TLS context per process (built once: the CA
  bundle is read when the first client is made).
"""

from __future__ import annotations

import ssl
import threading
import time
import zlib
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Callable, Iterable
from urllib.parse import urljoin

import httpcore
import httpx

from flows.config import Limits

RETRYABLE_STATUS = {429, 500, 502, 503, 504}
DECODE_STEP = 64 * 1024  # the most decoded bytes one decompression step produces


class FetchError(Exception):
    """A fetch that failed; ``transient`` tells whether a later try may succeed.

    ``refused_host``: set when the address guard refused the request, the ``host:port`` it refused
    (an operator who allows that host later lets the item be fetched again)."""

    def __init__(self, url: str, reason: str, *, status: int | None = None, transient: bool = False,
                 retry_after: float | None = None, refused_host: str | None = None) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status
        self.transient = transient
        self.retry_after = retry_after
        self.refused_host = refused_host


@dataclass(frozen=True)
class Approval:
    """The address guard's decision for one request: where its connection may go.

    ``host``/``port`` are the name and port exactly as the connection uses them (httpx's IDNA
    encoding); ``addresses`` the resolved addresses the guard approved, the only ones a new
    connection is opened to (None: the host is allowed by name, connect as usual);
    ``refuse_peer`` says why a connected peer address is not acceptable (None when it is)."""

    url: str
    host: str
    port: int
    addresses: tuple[str, ...] | None
    refuse_peer: Callable[[str], str | None] | None = None

    def refuse(self, reason: str) -> FetchError:
        return FetchError(self.url[:200], f"address guard: {reason}; not fetched",
                          refused_host=f"{self.host}:{self.port}")

    def check_peer(self, peer: str | None) -> None:
        if self.refuse_peer is None:
            return
        why = self.refuse_peer(peer) if peer else "unknown"
        if why:
            raise self.refuse(f"{self.host} is connected to a {why} address ({peer})")


# The address guard: called with each hop's URL before it is requested; raises `FetchError` to
# refuse it, returns the `Approval` that binds its connection (None: the hop is not restricted).
Guard = Callable[[str], "Approval | None"]


@dataclass(frozen=True)
class Fetched:
    url: str  # the final URL after redirects
    status: int
    headers: httpx.Headers
    body: bytes


# The monotonic deadline of the request running in this thread (None: no deadline).
_deadline: ContextVar[float | None] = ContextVar("raqib_fetch_deadline", default=None)
# The address guard's approval of the request running in this thread (None: not guarded).
_approval: ContextVar[Approval | None] = ContextVar("raqib_fetch_approval", default=None)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write waits at most until the request's deadline.

    httpx's timeouts are per read; a server sending one byte just inside the read timeout
    would never trip them. Clamping each I/O wait to the time left ends such a request on time.
    """

    def __init__(self, inner: httpcore.NetworkStream, peer: str | None = None) -> None:
        self._inner = inner
        self._peer = peer if peer is not None else _peer_address(inner)

    @staticmethod
    def _clamp(timeout: float | None) -> float | None:
        deadline = _deadline.get()
        if deadline is None:
            return timeout
        left = deadline - time.monotonic()
        if left <= 0:
            raise httpcore.ReadTimeout("the request's total deadline passed")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._clamp(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        # A pooled connection may have been opened for another request (a feed, an allowed
        # host): a guarded request checks where this one goes before a byte of it is sent.
        approval = _approval.get()
        if approval is not None:
            approval.check_peer(self._peer)
        self._inner.write(buffer, self._clamp(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        approval = _approval.get()
        if approval is not None:
            approval.check_peer(self._peer)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, self._clamp(timeout)), self._peer)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


def _peer_address(stream: httpcore.NetworkStream) -> str | None:
    sock = stream.get_extra_info("socket")
    try:
        return str(sock.getpeername()[0]).split("%", 1)[0] if sock is not None else None
    except OSError:
        return None


class _DeadlineBackend(httpcore.SyncBackend):
    """Connections bounded by the request's deadline, and opened where the guard approved.

    httpcore passes the origin's host as httpx encoded it; under an `Approval` the connection
    goes to the approved addresses in turn (literals: no DNS lookup), never to a fresh answer.
    The TLS server name is httpcore's own (the origin host), so certificates are still checked
    against the name in the URL."""

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        approval = _approval.get()
        targets: Iterable[str] = [host]
        if approval is not None:
            if (host, port) != (approval.host, approval.port):
                raise approval.refuse(f"connection to {host}:{port} was not the one approved")
            if approval.addresses is not None:
                targets = approval.addresses
        last: Exception | None = None
        for target in targets:
            try:
                stream = super().connect_tcp(target, port, _DeadlineStream._clamp(timeout), local_address,
                                             socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
                continue
            return _DeadlineStream(stream)
        raise last if last is not None else httpcore.ConnectError(f"no address to connect to for {host}")


_TLS: ssl.SSLContext | None = None
_TLS_LOCK = threading.Lock()


def _tls_context() -> ssl.SSLContext:
    """The verifying TLS context every client shares (thread-safe): building one reads the CA
    bundle, 20-40 ms of CPU, which each client paid twice (its transport's and its pool's)."""
    global _TLS
    with _TLS_LOCK:
        if _TLS is None:
            _TLS = httpx.create_ssl_context()
        return _TLS


def make_client(limits: Limits, user_agent: str) -> httpx.Client:
    pool_limits = httpx.Limits(max_connections=max(4, limits.fetch_concurrency * 2))
    tls = _tls_context()
    transport = httpx.HTTPTransport(verify=tls, limits=pool_limits)
    # httpx has no option for the network backend; its pool does (httpcore's public parameter).
    transport._pool = httpcore.ConnectionPool(
        ssl_context=tls, max_connections=pool_limits.max_connections,
        max_keepalive_connections=pool_limits.max_keepalive_connections,
        keepalive_expiry=pool_limits.keepalive_expiry, network_backend=_DeadlineBackend())
    return httpx.Client(
        timeout=httpx.Timeout(limits.read_timeout, connect=limits.connect_timeout),
        follow_redirects=False,
        headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
        transport=transport,
        trust_env=False,
    )


def _decoded(raw: Iterable[bytes], coding: str, url: str) -> Iterable[bytes]:
    """The body of ``raw`` chunks decoded for its Content-Encoding, in pieces of at most DECODE_STEP."""
    coding = coding.strip().lower()
    if coding in ("", "identity"):
        yield from raw
        return
    if coding not in ("gzip", "x-gzip", "deflate"):
        raise FetchError(url, f"unsupported Content-Encoding {coding[:40]!r}")
    gzip_ = coding != "deflate"
    # deflate is zlib-wrapped by the standard, raw in some servers: like httpx, try both.
    z = zlib.decompressobj(16 + zlib.MAX_WBITS if gzip_ else zlib.MAX_WBITS)
    first = not gzip_
    try:
        for chunk in raw:
            data = chunk
            while data:
                try:
                    out = z.decompress(data, DECODE_STEP)
                except zlib.error:
                    if not first:
                        raise
                    z = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate
                    out = z.decompress(data, DECODE_STEP)
                first = False
                data = z.unconsumed_tail
                if out:
                    yield out
        while tail := z.decompress(b"", DECODE_STEP):
            yield tail
        if not z.eof:
            raise FetchError(url, f"truncated {coding} body")
    except zlib.error as exc:
        raise FetchError(url, f"invalid {coding} body ({exc})") from None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _get_once(client: httpx.Client, url: str, limits: Limits, max_bytes: int,
              headers: dict[str, str], guard: Guard | None) -> Fetched:
    deadline = time.monotonic() + limits.total_timeout
    token = _deadline.set(deadline)
    try:
        return _follow(client, url, limits, max_bytes, headers, guard, deadline)
    finally:
        _deadline.reset(token)


def _follow(client: httpx.Client, url: str, limits: Limits, max_bytes: int, headers: dict[str, str],
            guard: Guard | None, deadline: float) -> Fetched:
    current = url
    for _hop in range(limits.max_redirects + 1):
        if time.monotonic() > deadline:
            raise FetchError(current, f"took longer than {limits.total_timeout:g}s", transient=True)
        token = _approval.set(guard(current) if guard is not None else None)
        try:
            with client.stream("GET", current, headers=headers) as resp:
                if resp.status_code == 304:
                    return Fetched(current, 304, resp.headers, b"")
                if resp.status_code in (301, 302, 303, 307, 308):
                    location = resp.headers.get("location")
                    if not location:
                        raise FetchError(current, f"HTTP {resp.status_code} redirect without Location")
                    current = urljoin(current, location)
                    continue
                if resp.status_code >= 400:
                    raise FetchError(
                        current, f"HTTP {resp.status_code}", status=resp.status_code,
                        transient=resp.status_code in RETRYABLE_STATUS,
                        retry_after=_retry_after(resp.headers.get("retry-after")),
                    )
                declared = resp.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise FetchError(current, f"body of {declared} bytes exceeds the {max_bytes}-byte limit")
                chunks: list[bytes] = []
                size = 0
                for chunk in _decoded(resp.iter_raw(), resp.headers.get("content-encoding", ""), current):
                    size += len(chunk)
                    if size > max_bytes:
                        raise FetchError(current, f"body exceeds the {max_bytes}-byte limit")
                    if time.monotonic() > deadline:
                        raise FetchError(current, f"took longer than {limits.total_timeout:g}s", transient=True)
                    chunks.append(chunk)
                return Fetched(current, resp.status_code, resp.headers, b"".join(chunks))
        except httpx.TimeoutException as exc:
            if time.monotonic() >= deadline:
                raise FetchError(current, f"took longer than {limits.total_timeout:g}s", transient=True) from None
            raise FetchError(current, f"timeout ({exc.__class__.__name__})", transient=True) from None
        except httpx.TransportError as exc:
            raise FetchError(current, f"connection failed ({exc.__class__.__name__})", transient=True) from None
        except httpx.HTTPError as exc:
            raise FetchError(current, f"HTTP error ({exc.__class__.__name__})") from None
        finally:
            _approval.reset(token)
    raise FetchError(url, f"more than {limits.max_redirects} redirects")


def http_get(client: httpx.Client, url: str, limits: Limits, *, max_bytes: int,
             headers: dict[str, str] | None = None, guard: Guard | None = None,
             backoff: tuple[float, ...] = (1.0, 2.0, 4.0)) -> Fetched:
    """GET ``url`` within the limits, retrying transient failures ``limits.retries`` times."""
    attempt = 0
    while True:
        try:
            return _get_once(client, url, limits, max_bytes, headers or {}, guard)
        except FetchError as err:
            if not err.transient or attempt >= limits.retries:
                raise
            wait = backoff[min(attempt, len(backoff) - 1)]
            if err.retry_after is not None:
                if err.retry_after > 30:  # a long Retry-After is honoured by the feed's backoff instead
                    raise
                wait = max(wait, err.retry_after)
            time.sleep(wait)
            attempt += 1


def fetch_page(client: httpx.Client, url: str, limits: Limits, *,
               guard: Guard | None = None) -> Fetched:
    """Download an article page within the page limits."""
    return http_get(client, url, limits, max_bytes=limits.max_page_bytes,
                    headers={"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"}, guard=guard)
