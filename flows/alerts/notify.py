"""Notify stage: render an alert for a channel and send it through apprise.

Rules:
- one message per (article, channel), naming every topic of the article that the channel wants;
- email channels get RTL HTML (jinja2); apprise adds the plain-text alternative, derived from the
  HTML (the article URL is printed as text so that part carries it too); chat channels a short
  markdown message (topic, linked headline, outlet, one evidence line); text channels plain text;
- everything from a feed or a page goes through `flows.alerts.safe` in every format: one line, no
  bidi controls, escaped for markdown (and autoescaped in HTML); the headline is a link only when
  the item's URL is http(s) (else the URL is shown as text);
- `send` returns True only when apprise reports success; it never raises for a channel failure;
- channel URLs hold secrets: they are never logged (apprise's logger is kept above its TRACE
  level, which prints passwords in clear) and never leave this module except into apprise;
- `console://` is raqib's own apprise plugin: it prints the message, the default sink.
"""

from __future__ import annotations

import functools
import html
import logging
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import apprise
from apprise.decorators import notify as apprise_plugin
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from flows.alerts.safe import FILTERS, clean, http_link, md
from flows.config import Channel

# apprise's TRACE (level 9) logs URLs with passwords; keep the logger well above it.
logging.getLogger("apprise").setLevel(logging.WARNING)

_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
    trim_blocks=False,
    keep_trailing_newline=True,
    auto_reload=False,  # the templates ship with the package: no stat() of them per message
)
_TEMPLATES.filters.update(FILTERS)

# Where the console sink writes; the CLI points it at stderr when stdout carries --json lines.
console_stream: TextIO | None = None


@apprise_plugin(on="console", name="raqib console sink")
def _console_sink(body: str, title: str, *args: Any, **kwargs: Any) -> bool:
    stream = console_stream or sys.stdout
    stream.write(f"\n🔔 {title}\n{body.rstrip()}\n")
    stream.flush()
    return True


@dataclass(frozen=True)
class TopicEvidence:
    id: str
    name: str
    # Each item: {"sentence": str, "phrases": [str, ...]}
    evidence: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class AlertMessage:
    title: str
    url: str
    outlets: list[str]
    published: str | None
    topics: list[TopicEvidence]
    update_of: str | None = None  # an update of an earlier alert: how to name it (stories.earlier_alert_text)
    # Signed feedback links {"relevant": url, "not_relevant": url} (flows.alerts.feedback_links), or None.
    feedback: dict[str, str] | None = None

    def for_channel(self, channel: Channel) -> "AlertMessage | None":
        wanted = [t for t in self.topics if channel.wants(t.id)]
        if not wanted:
            return None
        # The links judge the topics they were signed for: keep them only for the same topics.
        return AlertMessage(self.title, self.url, self.outlets, self.published, wanted, self.update_of,
                            self.feedback if wanted == self.topics else None)


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    body_format: str  # apprise.NotifyFormat value


@functools.lru_cache(maxsize=1024)
def _alternation(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """One compiled alternation per set of phrases (messages of a topic mark the same ones)."""
    return re.compile("|".join(re.escape(p) for p in phrases))


def _highlight(sentence: str, phrases: list[str]) -> Markup:
    """HTML-escape the sentence and wrap each matched phrase in <mark>, in one pass.

    One alternation, longest phrase first, so a short phrase inside a longer one is not marked twice.
    Sentence and phrases are cleaned first (one line, no bidi controls), the same way.
    """
    sentence = clean(sentence)
    phrases = [clean(p) for p in phrases]
    wanted = sorted({p for p in phrases if p and p in sentence}, key=len, reverse=True)
    if not wanted:
        return Markup(html.escape(sentence))
    pattern = _alternation(tuple(wanted))
    out: list[str] = []
    last = 0
    for m in pattern.finditer(sentence):
        out.append(html.escape(sentence[last:m.start()]))
        out.append(f"<mark>{html.escape(m.group(0))}</mark>")
        last = m.end()
    out.append(html.escape(sentence[last:]))
    return Markup("".join(out))  # every piece escaped above


SUBJECT_HEADLINE_CHARS = 90
# Topic names in the subject: Arabic names of three topics would push the header past what mail
# servers take; the body names them all.
SUBJECT_TOPICS_CHARS = 50


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(" ،,.-") + "…"


# The few words a message adds around the article, per channel language (`channels[].language`).
LABELS: dict[str, dict[str, str]] = {
    "ar": {"brand": "رقيب", "more": "اقرأ الخبر كاملاً", "in_headline": "في العنوان",
           "update": "تحديث", "update_of": "لتنبيه سابق:",
           "judge": "هل التنبيه في محله؟", "relevant": "ذو صلة", "not_relevant": "ليس ذا صلة",
           "footer": "أُرسل بواسطة رقيب — تنبيهات الأخبار العربية"},
    "en": {"brand": "raqib", "more": "Read the full article", "in_headline": "in the headline",
           "update": "update", "update_of": "of an earlier alert:",
           "judge": "Was this alert right?", "relevant": "relevant", "not_relevant": "not relevant",
           "footer": "Sent by raqib — Arabic news alerts"},
}


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def render(msg: AlertMessage, fmt: str, language: str = "ar") -> Rendered:
    labels = LABELS.get(language, LABELS["ar"])
    names = [t.name for t in msg.topics]
    # Mail servers refuse header lines over 1,000 bytes (RFC 5321), and apprise does not fold an
    # encoded Arabic subject: keep the headline in the subject short; the body has it whole.
    update = f" ({labels['update']})" if msg.update_of else ""
    subject = clean(f"{labels['brand']}{update}: {_shorten(' · '.join(names), SUBJECT_TOPICS_CHARS)} — "
                    f"{_shorten(clean(msg.title), SUBJECT_HEADLINE_CHARS)}")
    # Evidence that is the headline itself is not quoted again under it: the headline carries its
    # marks instead, and the topic says "in the headline" when that was all its evidence.
    title_phrases = [p for t in msg.topics for e in t.evidence if _same(e["sentence"], msg.title)
                     for p in e.get("phrases", [])]
    topics = []
    for t in msg.topics:
        quotes = [e for e in t.evidence if not _same(e["sentence"], msg.title)]
        topics.append({
            "id": t.id,
            "name": t.name,
            "in_headline": len(quotes) < len(t.evidence),
            "evidence": [{"sentence": e["sentence"], "html": _highlight(e["sentence"], list(e.get("phrases", [])))}
                         for e in quotes],
        })
    ctx: dict[str, Any] = {
        "subject": subject,
        "labels": labels,
        "title": msg.title,
        "title_html": _highlight(clean(msg.title), title_phrases),
        "url": msg.url,
        "link": http_link(msg.url),  # None: the URL is shown as text, never as a link
        "outlets": msg.outlets,
        "published": msg.published,
        "update_of": msg.update_of,
        "topic_names": names,
        "topics": topics,
        "feedback": msg.feedback,
        "first_evidence": next((clean(e["sentence"]) for t in topics for e in t["evidence"]), ""),
    }
    if fmt == "email":
        body = _TEMPLATES.get_template("email.html.j2").render(ctx)
        return Rendered(subject, body, apprise.NotifyFormat.HTML)
    if fmt == "chat":
        first = ctx["first_evidence"]
        if len(first) > 280:  # chat messages stay short
            ctx["first_evidence"] = first[:277].rstrip() + "…"
        body = _TEMPLATES.get_template("chat.md.j2").render(ctx)
        # chat services (Mattermost, Slack …) put the title on the body's first line: markdown too
        return Rendered(md(subject), body, apprise.NotifyFormat.MARKDOWN)
    body = _TEMPLATES.get_template("text.txt.j2").render(ctx)
    return Rendered(subject, body, apprise.NotifyFormat.TEXT)


def check_url(url: str) -> str | None:
    """None when apprise accepts ``url``; else a reason that does not contain the URL."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    try:
        plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    except Exception:  # defensive: apprise should not raise with suppress_exceptions
        plugin = None
    if plugin is None:
        if not scheme:
            return "not an apprise URL (no scheme://)"
        return f"apprise cannot use this URL (scheme {scheme!r}: unknown service or missing parts)"
    return None


def send(channel: Channel, rendered: Rendered) -> bool:
    """Deliver one rendered message to one channel; True only if apprise reports success."""
    ap = apprise.Apprise()
    if not ap.add(channel.url):
        return False
    try:
        return bool(ap.notify(body=rendered.body, title=rendered.subject, body_format=rendered.body_format))
    except Exception:  # a plugin bug must not take the run down; the outbox retries
        logging.getLogger(__name__).warning("channel %s raised while sending", channel.name)
        return False
