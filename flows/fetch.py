"""Fetch stage: bounded HTTP GETs with httpx, for feeds and article pages.

Rules:
- connect and read timeouts, plus a total deadline per request (a drip-feeding server cannot
  hold a worker longer than ``total_timeout``);
- the body is read as a stream and cut off at ``max_bytes`` (checked while reading, not after);
- redirects are followed by hand, at most ``max_redirects``, and every hop is checked by the
  optional ``guard`` (the address guard) before it is requested;
- transient failures (connect errors, timeouts, 429, 5xx) are retried with backoff; other
  failures are returned as a `FetchError` with a reason that names the URL's host, never raised
  past the caller's loop.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urljoin

import httpx

from .config import Limits

RETRYABLE_STATUS = {429, 500, 502, 503, 504}


class FetchError(Exception):
    """A fetch that failed; ``transient`` tells whether a later try may succeed."""

    def __init__(self, url: str, reason: str, *, status: int | None = None, transient: bool = False,
                 retry_after: float | None = None) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status
        self.transient = transient
        self.retry_after = retry_after


@dataclass(frozen=True)
class Fetched:
    url: str  # the final URL after redirects
    status: int
    headers: httpx.Headers
    body: bytes


def make_client(limits: Limits, user_agent: str) -> httpx.Client:
    return httpx.Client(
        timeout=httpx.Timeout(limits.read_timeout, connect=limits.connect_timeout),
        follow_redirects=False,
        headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
        limits=httpx.Limits(max_connections=max(4, limits.fetch_concurrency * 2)),
        trust_env=False,
    )


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _get_once(client: httpx.Client, url: str, limits: Limits, max_bytes: int,
              headers: dict[str, str], guard: Callable[[str], None] | None) -> Fetched:
    deadline = time.monotonic() + limits.total_timeout
    current = url
    for _hop in range(limits.max_redirects + 1):
        if guard is not None:
            guard(current)
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
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise FetchError(current, f"body exceeds the {max_bytes}-byte limit")
                    if time.monotonic() > deadline:
                        raise FetchError(current, f"took longer than {limits.total_timeout:g}s", transient=True)
                    chunks.append(chunk)
                return Fetched(current, resp.status_code, resp.headers, b"".join(chunks))
        except httpx.TimeoutException as exc:
            raise FetchError(current, f"timeout ({exc.__class__.__name__})", transient=True) from None
        except httpx.TransportError as exc:
            raise FetchError(current, f"connection failed ({exc.__class__.__name__})", transient=True) from None
        except httpx.HTTPError as exc:
            raise FetchError(current, f"HTTP error ({exc.__class__.__name__})") from None
    raise FetchError(url, f"more than {limits.max_redirects} redirects")


def http_get(client: httpx.Client, url: str, limits: Limits, *, max_bytes: int,
             headers: dict[str, str] | None = None, guard: Callable[[str], None] | None = None,
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
               guard: Callable[[str], None] | None = None) -> Fetched:
    """Download an article page within the page limits."""
    return http_get(client, url, limits, max_bytes=limits.max_page_bytes,
                    headers={"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"}, guard=guard)
