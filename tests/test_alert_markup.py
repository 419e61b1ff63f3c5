"""Publisher markup and control characters never reach people live (flows.alerts.safe).

A hostile item — markdown links and images, HTML tags and handlers, a javascript: link, CR/LF that
forge lines, bidi overrides — is delivered for real (loopback Mattermost webhook, aiosmtpd, MQTT
when a broker is set) and what arrives is rendered the ways a channel may render it: CommonMark
(markdown-it-py, raw HTML allowed, as Mattermost-like clients do) and Python-Markdown (apprise's own
markdown-to-HTML conversion). The rendered HTML is checked for links, images, scripts and handlers.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from html.parser import HTMLParser

import pytest

from flows.alerts.digest import DigestStory, DigestTopic, render_digest
from flows.alerts.notify import AlertMessage, TopicEvidence, render, send
from flows.config import Channel

BIDI = "\u202e\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
PHISH = "http://phish.example/login"
TRACK = "http://track.example/p.gif"
HOSTILE_TITLE = (f"\u202eعاجل [اضغط هنا]({PHISH}) ![]({TRACK}) <script>alert(1)</script>"
                 f"<img src=x onerror=alert(2)>\r\n**قوات كورية شمالية في روسيا**\n[رابط]({PHISH})\u2069")
HOSTILE_OUTLET = f"<b onmouseover=alert(3)>وكالة</b> [x]({PHISH})\n# عنوان"
HOSTILE_SENTENCE = (f"أرسلت كوريا الشمالية جنودا إلى روسيا <a href=\"{PHISH}\">هنا</a> "
                    f"<svg onload=alert(4)> ![]({TRACK}) \u202eنص مقلوب.")
TOPIC = TopicEvidence("nk_russia_troops", "قوات كورية شمالية في روسيا",
                      [{"sentence": HOSTILE_SENTENCE, "phrases": ["روسيا", "<a href"]}])
SAFE_URL = "http://127.0.0.1:8000/articles/7.html?id=7&src=feed"


def hostile(url: str) -> AlertMessage:
    return AlertMessage(HOSTILE_TITLE, url, [HOSTILE_OUTLET], "2026-11-01 08:00 UTC", [TOPIC])


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> _Tags:
    p = _Tags()
    p.feed(html)
    p.close()
    return p


def assert_inert(html: str, allowed_hrefs: set[str]) -> _Tags:
    p = parse(html)
    for tag, attrs in p.tags:
        assert tag not in ("script", "img", "svg", "iframe", "object", "embed", "b"), (tag, html)
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)
        if tag == "a":
            assert attrs.get("href") in allowed_hrefs, (attrs, html)
        for value in attrs.values():
            assert not (value or "").lower().lstrip().startswith(("javascript:", "data:")), (tag, attrs)
    return p


def rendered_by_clients(markdown_text: str) -> list[str]:
    import markdown
    from markdown_it import MarkdownIt

    return [MarkdownIt("commonmark", {"html": True}).render(markdown_text), markdown.markdown(markdown_text)]


def test_chat_delivery_has_no_live_markup_and_no_forged_lines(webhook) -> None:
    token = "raqibtesttoken0123456789ab"
    ch = Channel(name="desk-chat", url=f"mmost://127.0.0.1:{webhook.port}/{token}", topics="all", format="chat")
    assert send(ch, render(hostile(SAFE_URL), "chat")) is True
    # apprise puts the title on the first line, joined by CRLF: then topics, headline, outlets, evidence
    text = json.loads(webhook.posts[0][1])["text"].replace("\r\n", "\n")
    assert len(text.strip().split("\n")) == 5, text
    assert not any(c in text for c in BIDI + "\r")
    for html in rendered_by_clients(text):
        p = assert_inert(html, {SAFE_URL.replace("&", "&amp;"), SAFE_URL})
        shown = "".join(p.text)
        assert "اضغط هنا" in shown and "<script>" in shown  # shown as text, not dropped
        assert sum(1 for tag, _ in p.tags if tag == "a") == 1  # the headline link only


@pytest.mark.parametrize("url", ["javascript:alert(document.cookie)", "data:text/html;base64,PHNjcmlwdD4=",
                                 "file:///etc/passwd", "/relative/path", "JaVaScRiPt:alert(1)"])
def test_a_non_http_item_link_is_never_a_link(url: str) -> None:
    for fmt in ("chat", "email"):
        body = render(hostile(url), fmt).body
        htmls = rendered_by_clients(body) if fmt == "chat" else [body]
        for html in htmls:
            p = assert_inert(html, set())
            assert not [t for t, _ in p.tags if t == "a"]
        assert url.split(":")[0] in body  # still shown, as text


def test_email_delivery_escapes_and_links_only_http(smtp_sink) -> None:
    ch = Channel(name="mail", url=smtp_sink.url(), topics="all", format="email")
    assert send(ch, render(hostile(SAFE_URL), "email")) is True
    m = smtp_sink.messages[0]
    subject = str(m["subject"])
    assert not any(c in subject for c in BIDI + "\r\n")
    assert "اضغط هنا" in subject
    html = m.get_body(("html",)).get_content()
    p = assert_inert(html, {SAFE_URL})
    assert "<script>alert(1)</script>" in "".join(p.text)  # text the reader sees, not a script
    assert not any(c in html for c in BIDI)
    assert "<mark>روسيا</mark>" in html
    plain = m.get_body(("plain",)).get_content()
    assert SAFE_URL in plain


def test_text_format_is_one_line_per_field() -> None:
    body = render(hostile(SAFE_URL), "text").body
    lines = body.rstrip("\n").split("\n")
    assert len(lines) == 4, body
    assert lines[1] == SAFE_URL
    assert not any(c in body for c in BIDI + "\r\x1b")


def test_bidi_controls_in_a_url_are_percent_encoded_in_link_and_text() -> None:
    url = "http://127.0.0.1:8000/news/\u202egpj.exe?a=1"
    body = render(AlertMessage("عنوان", url, ["وكالة"], None, [TOPIC]), "email").body
    assert "\u202e" not in body
    assert 'href="http://127.0.0.1:8000/news/%E2%80%AEgpj.exe?a=1"' in body
    chat = render(AlertMessage("عنوان", url, ["وكالة"], None, [TOPIC]), "chat").body
    assert "(http://127.0.0.1:8000/news/%E2%80%AEgpj.exe?a=1)" in chat


def test_digest_escapes_titles_and_links_only_http() -> None:
    topics = [DigestTopic("nk_russia_troops", "قوات كورية شمالية في روسيا", [
        DigestStory(HOSTILE_TITLE, "javascript:alert(1)", [HOSTILE_OUTLET], None),
        DigestStory(HOSTILE_TITLE, SAFE_URL, [HOSTILE_OUTLET], "2026-11-01 08:00 UTC"),
    ])]
    md = render_digest(topics, "chat", "2026-11-01").body
    assert len([ln for ln in md.split("\n") if ln.startswith("- ")]) == 2
    assert not any(c in md for c in BIDI + "\r")
    for html in rendered_by_clients(md):
        p = assert_inert(html, {SAFE_URL.replace("&", "&amp;"), SAFE_URL})
        assert sum(1 for tag, _ in p.tags if tag == "a") == 1
    email = render_digest(topics, "email", "2026-11-01").body
    p = assert_inert(email, {SAFE_URL})
    assert sum(1 for tag, _ in p.tags if tag == "a") == 1


MQTT_HOST = os.environ.get("RAQIB_TEST_MQTT_HOST", "").strip()


@pytest.mark.mqtt
@pytest.mark.skipif(not MQTT_HOST, reason="set RAQIB_TEST_MQTT_HOST to a Mosquitto broker (port 1883) to run")
def test_mqtt_text_message_has_no_forged_lines_or_bidi() -> None:
    import paho.mqtt.client as mqtt

    topic = f"raqib/test-{uuid.uuid4().hex}"
    subscribed, got = threading.Event(), threading.Event()
    received: list[bytes] = []

    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"raqib-test-{uuid.uuid4().hex[:8]}")
    sub.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, qos=1)
    sub.on_subscribe = lambda c, u, mid, rc, p: subscribed.set()
    sub.on_message = lambda c, u, msg: (received.append(msg.payload), got.set())
    sub.connect(MQTT_HOST, 1883, keepalive=30)
    sub.loop_start()
    try:
        assert subscribed.wait(10), "no SUBACK from the broker"
        ch = Channel(name="mqtt", url=f"mqtt://{MQTT_HOST}:1883/{topic}", topics="all", format="text")
        assert send(ch, render(hostile("javascript:alert(1)"), "text")) is True
        assert got.wait(10), "the message never arrived on the topic"
    finally:
        sub.loop_stop()
        sub.disconnect()
    payload = received[0].decode("utf-8").replace("\r\n", "\n")  # apprise's title/body join
    assert not any(c in payload for c in BIDI + "\r")
    assert len(payload.strip().split("\n")) == 5, payload  # title, headline, url, outlets, evidence


def test_status_prints_publisher_text_as_text(tmp_path) -> None:
    """`raqib status` (rich) shows a hostile title and feed error inert: no rich markup or terminal
    hyperlink, no escape sequence, no bidi control, no forged line."""
    import subprocess
    import sys
    from pathlib import Path

    from flows.store.state import Store

    title = "[link=http://phish.example]اضغط[/link] [bold red]عاجل[/] \x1b[2J\x1b]8;;http://phish.example\x07x\u202e\nسطر مزور"
    state = tmp_path / "state"
    s = Store.open(state)
    (feed,) = s.sync_feeds([("f1", "http://127.0.0.1/feed.xml", "[blink]Feed[/blink]")])
    s.record_poll_failure(feed.id, "not a feed: [link=http://phish.example]x[/link]\r\nline")
    s.add_items(feed.id, [{"key": "g1", "link": "http://127.0.0.1/1", "title": title, "summary": "", "published": None}])
    item = s.pending_items()[0]
    s.finish_item(item.id, state="done", content_hash="h", text_="نص", sitename=None, topics=["a"],
                  alerts_=[("a", "A", 1.0, [])], deliveries=[("mail", ["a"])])
    s.mark_failed(s.due_deliveries()[0]["id"], "apprise reported failure", max_attempts=1)
    s.close()
    root = Path(__file__).resolve().parent.parent
    res = subprocess.run([sys.executable, "-m", "flows.cli", "status", "--state", str(state)], cwd=root,
                         capture_output=True, text=True, timeout=60, env={"COLUMNS": "400", "PATH": "/usr/bin:/bin"})
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "[link=http://phish.example]اضغط[/link]" in out and "[blink]Feed[/blink]" in out  # shown, not applied
    assert "\x1b" not in out and "\u202e" not in out
    dead = [ln for ln in out.splitlines() if ln.strip().startswith("dead:")]
    assert len(dead) == 1 and "[link=http://phish.example]" in dead[0]
    assert not any(ln.strip().startswith("سطر مزور") for ln in out.splitlines())  # no forged line
