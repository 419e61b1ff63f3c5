"""Digest stage: the day's stories per topic, one message per digest channel and period.

Rules:
- a digest covers the alerts created in the last `digest_hours` before the run; a story (copies
  from several outlets) is listed once per topic, with every outlet that carried it;
- a channel receives only its topics; a channel with nothing to report gets no message;
- the period key (the run's local date in `digest_timezone`) is recorded after apprise reports
  success, so a digest is sent once per channel and day even if the run is repeated; a failed
  send is retried by the next run of the same day;
- email channels get RTL HTML, chat channels markdown (jinja2 templates); titles, outlets and
  URLs are made safe the way alerts' are (`flows.alerts.safe`: escaped, one line, links only to
  http(s) URLs).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import apprise

from flows.config import Channel, Config
from flows.alerts.names import display_name
from flows.alerts.notify import _TEMPLATES, Rendered, send
from flows.alerts.safe import clean, http_link, md
from flows.store.state import Store, utcnow


@dataclass
class DigestStory:
    title: str
    url: str | None
    outlets: list[str]
    published: str | None

    @property
    def link(self) -> str | None:
        """The URL as a link target, or None when it must be shown as text (not http(s))."""
        return http_link(self.url)


@dataclass
class DigestTopic:
    id: str
    name: str
    stories: list[DigestStory] = field(default_factory=list)


def collect(store: Store, since: datetime) -> list[DigestTopic]:
    """Stories per topic alerted since ``since``, in the order they were found."""
    topics: dict[str, DigestTopic] = {}
    seen: set[tuple[str, int]] = set()
    for row in store.alerted_since(since):
        story = row["story_id"] or row["item_id"]
        if (row["topic"], story) in seen:
            continue
        seen.add((row["topic"], story))
        topic = topics.setdefault(row["topic"], DigestTopic(row["topic"], row["topic_name"] or row["topic"]))
        topic.stories.append(DigestStory(
            title=row["title"] or row["link"] or "", url=row["link"], outlets=store.story_outlets(story),
            published=row["published_at"].strftime("%Y-%m-%d %H:%M UTC") if row["published_at"] else None))
    return list(topics.values())


def render_digest(topics: list[DigestTopic], fmt: str, day: str) -> Rendered:
    count = sum(len(t.stories) for t in topics)
    subject = clean(f"رقيب: موجز {day} — {count} خبر")
    ctx = {"subject": subject, "day": day, "topics": topics, "count": count}
    if fmt == "email":
        return Rendered(subject, _TEMPLATES.get_template("digest.html.j2").render(ctx), apprise.NotifyFormat.HTML)
    return Rendered(md(subject), _TEMPLATES.get_template("digest.md.j2").render(ctx), apprise.NotifyFormat.MARKDOWN)


def send_digests(store: Store, cfg: Config, log: logging.Logger, now: datetime | None = None) -> dict[str, int]:
    """Send each digest channel its digest for today; returns {channel: stories sent}."""
    now = now or utcnow()
    local_day = now.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(cfg.settings.digest_timezone)).date().isoformat()
    topics = collect(store, now - timedelta(hours=cfg.settings.digest_hours))
    out: dict[str, int] = {}
    for channel in cfg.channels:
        if not channel.digest:
            continue
        if store.digest_sent(channel.name, local_day):
            log.info("digest already sent channel=%s day=%s", channel.name, local_day)
            continue
        mine = [DigestTopic(t.id, display_name(cfg.config_dir, t.id, channel.language, t.name), t.stories)
                for t in topics if channel.wants(t.id) and t.stories]
        if not mine:
            log.info("digest: nothing to report channel=%s day=%s", channel.name, local_day)
            continue
        n = sum(len(t.stories) for t in mine)
        if send(channel, render_digest(mine, channel.format, local_day)):
            store.record_digest(channel.name, local_day, n)
            out[channel.name] = n
        else:
            log.warning("digest failed channel=%s day=%s: will retry on the next run", channel.name, local_day)
    return out


def digest_channels(cfg: Config) -> list[Channel]:
    return [c for c in cfg.channels if c.digest]
