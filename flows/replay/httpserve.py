"""A small static HTTP server on loopback: the replay feed and the tests' feed servers.

Rules:
- binds 127.0.0.1 (or another loopback address given as ``host``) on a free port (or ``port``)
  only, never another interface;
- serves a mutable ``routes`` dict: path -> Route(content_type, body, status, headers);
- every 200 carries a strong ETag (hash of the body) and answers a matching
  ``If-None-Match`` with 304 and no body, as well-behaved feed servers do;
- records each request (method, path, headers, monotonic time) so tests and benchmarks can see
  what was fetched, and when;
- takes any POST as a webhook would (200, `{}`) and keeps its body: a loopback sink for apprise's
  `json://` and chat services.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


@dataclass
class Route:
    content_type: str
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:32] + '"'


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)


# A handler may be given instead of a Route, to build faulty answers in tests.
Handler = Callable[[BaseHTTPRequestHandler], None]


class StaticServer:
    """Serve ``routes`` on http://127.0.0.1:<port>/ in a background thread.

    Use as a context manager; ``base_url`` has no trailing slash.
    """

    def __init__(self, routes: dict[str, Route | Handler] | None = None, *, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"StaticServer binds loopback addresses only, not {host}")
        self.routes: dict[str, Route | Handler] = dict(routes or {})
        self.requests: list[SeenRequest] = []
        self.posts: list[tuple[str, bytes]] = []  # (path, body) of every POST
        self._lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet
                return

            def do_HEAD(self) -> None:
                self._answer(head=True)

            def do_GET(self) -> None:
                self._answer(head=False)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with server._lock:
                    server.requests.append(
                        SeenRequest(self.command, self.path, {k.lower(): v for k, v in self.headers.items()})
                    )
                    server.posts.append((self.path, body))
                self._send(200, "application/json", b"{}", {}, head=False)

            def _answer(self, head: bool) -> None:
                path = self.path.split("?", 1)[0]
                with server._lock:
                    server.requests.append(
                        SeenRequest(self.command, self.path, {k.lower(): v for k, v in self.headers.items()})
                    )
                route = server.routes.get(path)
                if route is None:
                    self._send(404, "text/plain; charset=utf-8", b"not found\n", {}, head)
                    return
                if callable(route):
                    route(self)
                    return
                headers = dict(route.headers)
                if route.status == 200:
                    headers.setdefault("ETag", route.etag)
                    if self.headers.get("If-None-Match") == headers["ETag"]:
                        self._send(304, None, b"", {"ETag": headers["ETag"]}, head=True)
                        return
                self._send(route.status, route.content_type, route.body, headers, head)

            def _send(
                self, status: int, ctype: str | None, body: bytes, headers: dict[str, str], head: bool
            ) -> None:
                self.send_response(status)
                if ctype:
                    self.send_header("Content-Type", ctype)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "0" if status == 304 else str(len(body)))
                self.end_headers()
                if not head and status != 304:
                    self.wfile.write(body)

        class _Server(ThreadingHTTPServer):
            # socketserver's default backlog of 5 refuses connections under parallel fetches.
            request_queue_size = 128

        self._httpd = _Server((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="raqib-httpserve", daemon=True)

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "StaticServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def paths_requested(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests]

    def json_posts(self) -> list[Any]:
        """The POST bodies received, parsed as JSON."""
        with self._lock:
            return [json.loads(body) for _, body in self.posts]

    def times_requested(self, path: str) -> list[float]:
        """Monotonic times at which ``path`` was requested, oldest first."""
        with self._lock:
            return [r.at for r in self.requests if r.path.split("?", 1)[0] == path]

    def __enter__(self) -> "StaticServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port() -> int:
    """A TCP port free on loopback now (for servers that cannot bind port 0 themselves)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
