"""Shared fixtures: real servers on loopback (SMTP, webhook), temporary config and state."""

from __future__ import annotations

import shutil
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Iterator

import pytest

from flows.replay.httpserve import StaticServer, free_port

ROOT = Path(__file__).resolve().parent.parent


class SmtpSink:
    """An aiosmtpd server on loopback that keeps every message it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[EmailMessage] = []
        self.port = free_port()
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                sink.messages.append(message_from_bytes(envelope.original_content or envelope.content,
                                                        policy=policy.default))  # type: ignore[arg-type]
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def url(self) -> str:
        return f"mailto://127.0.0.1:{self.port}?from=raqib@example.org&to=desk@example.org"


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.controller.start()
    try:
        yield sink
    finally:
        sink.controller.stop()


@pytest.fixture
def webhook() -> Iterator[StaticServer]:
    """A loopback endpoint that records every POST body (apprise json://, mmost://): `.posts`
    holds (path, body), `.json_posts()` the parsed bodies, `.port` its port."""
    with StaticServer() as hook:
        yield hook


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A copy of the project's config/ that a test may edit."""
    dst = tmp_path / "config"
    shutil.copytree(ROOT / "config", dst)
    return dst
