"""Run the archive page with uvicorn: in the foreground (`raqib archive`) or beside `raqib serve`.

Rules: binds 127.0.0.1 unless a host is given (exposing the page means exposing every alert and
its buttons: put it behind an authenticating reverse proxy); uvicorn's access log is off (it
would print signed feedback URLs); a thread that fails to bind says so on stderr.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import uvicorn

from flows.web.app import build_app, open_archive

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8470


def _server(config_dir: Path, state_dir: Path, host: str, port: int) -> uvicorn.Server:
    app = build_app(open_archive(config_dir, state_dir))
    return uvicorn.Server(uvicorn.Config(app, host=host, port=port, access_log=False, log_level="warning",
                                         server_header=False))


def run_archive(config_dir: Path, state_dir: Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Serve the page until interrupted."""
    _server(config_dir, state_dir, host, port).run()


def start_archive_thread(config_dir: Path, state_dir: Path, host: str = DEFAULT_HOST,
                         port: int = DEFAULT_PORT, wait_s: float = 10.0) -> uvicorn.Server:
    """Serve the page in a daemon thread (it stops with the process, or with
    ``server.should_exit = True``); returns once it listens (uvicorn leaves signals to the main
    thread)."""
    server = _server(config_dir, state_dir, host, port)
    thread = threading.Thread(target=server.run, name="raqib-archive", daemon=True)
    thread.start()
    deadline = time.monotonic() + wait_s
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        raise RuntimeError(f"the archive page did not start on {host}:{port}")
    return server
