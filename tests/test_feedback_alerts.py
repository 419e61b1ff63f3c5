"""Every email and chat alert carries signed relevant / not-relevant links when a feedback base
URL is set (real SMTP and webhook servers on loopback), and a link followed to the archive page
records the judgment."""

from __future__ import annotations

import logging
import re
from html import unescape
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from flows import pipeline
from flows.alerts import feedback_links as fl
from flows.config import load_config
from flows.replay.httpserve import free_port
from flows.store.feedback import FeedbackLog
from flows.web.serve import start_archive_thread
from tests.archive_fixtures import fill_state, seed_site

KEY = "alerts-test-feedback-key-31f0a9c2"
PASSWORD = "hook-secret-Zq81"


def _html_part(msg) -> str:
    return next(p.get_content() for p in msg.walk() if p.get_content_type() == "text/html")


@pytest.fixture
def site():
    server = seed_site()
    yield server
    server.stop()


def _configure(config_dir: Path, smtp_sink, webhook, base_url: str | None) -> None:
    (config_dir / "alerts.yaml").write_text(
        "channels:\n"
        f"  - name: mail\n    url: '{smtp_sink.url()}'\n"
        f"  - name: hook\n    url: 'json://user:{PASSWORD}@127.0.0.1:{webhook.port}/alerts'\n    format: chat\n",
        encoding="utf-8")
    if base_url:
        (config_dir / "settings.yaml").write_text(f"feedback:\n  base_url: {base_url}\n  link_days: 2\n",
                                                  encoding="utf-8")


def test_alerts_carry_links_that_record_a_judgment(tmp_path: Path, config_dir: Path, site, smtp_sink, webhook,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fl.KEY_ENV, KEY)
    port = free_port()
    _configure(config_dir, smtp_sink, webhook, f"http://127.0.0.1:{port}")
    store = fill_state(tmp_path / "state", config_dir, site)
    sent, failed = pipeline.deliver_due(store, load_config(config_dir), logging.getLogger("raqib.test"))
    assert failed == 0 and sent == 8 and len(smtp_sink.messages) == 4
    links: list[str] = []
    for msg in smtp_sink.messages:
        html = _html_part(msg)
        found = [unescape(u) for u in re.findall(r'href="([^"]*/feedback\?[^"]*)"', html)]
        assert len(found) == 2, html
        links += found
    for body in webhook.json_posts():
        found = re.findall(r"\((http://127\.0\.0\.1:\d+/feedback\?[^)]*)\)", body["message"])
        assert len(found) == 2, body["message"]
        links += found
    everything = " ".join(links) + " ".join(str(m) for m in smtp_sink.messages) + str(webhook.json_posts())
    assert KEY not in everything and PASSWORD not in everything
    verdicts = set()
    for url in links:
        signed = fl.verify(KEY.encode(), dict(parse_qsl(urlsplit(url).query)))
        assert 0 < signed.expires - __import__("time").time() <= 2 * 86400
        verdicts.add(signed.verdict)
    assert verdicts == {"relevant", "not-relevant"}

    # An analyst clicks "not relevant" in an email, then confirms on the page.
    server = start_archive_thread(config_dir, tmp_path / "state", port=port)
    try:
        url = next(u for u in links if "v=not-relevant" in u)
        page = httpx.get(url)
        assert page.status_code == 200 and 'id="confirm"' in page.text
        fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page.text))
        done = httpx.post(f"http://127.0.0.1:{port}/feedback", data=fields)
        assert done.status_code == 200
    finally:
        server.should_exit = True
    signed = fl.verify(KEY.encode(), dict(parse_qsl(urlsplit(url).query)))
    got = {(j.item_id, j.topic, j.verdict, j.source) for j in FeedbackLog(store).judgments()}
    assert got == {(signed.item_id, t, "not-relevant", "link") for t in signed.topics}
    store.close()


def test_no_base_url_no_links(tmp_path: Path, config_dir: Path, site, smtp_sink, webhook,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fl.KEY_ENV, KEY)
    _configure(config_dir, smtp_sink, webhook, None)
    store = fill_state(tmp_path / "state", config_dir, site)
    pipeline.deliver_due(store, load_config(config_dir), logging.getLogger("raqib.test"))
    assert smtp_sink.messages and all("/feedback?" not in _html_part(m) for m in smtp_sink.messages)
    assert webhook.json_posts() and all("/feedback?" not in b["message"] for b in webhook.json_posts())
    store.close()
