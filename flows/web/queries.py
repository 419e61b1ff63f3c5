"""What the archive page shows, read from the state database (read-only).

Rules:
- alerts of the last `days` days, newest first, at most `limit`, each with its story's outlets
  (every feed or site that carried it), its evidence and the analysts' verdict for it;
- search: the word(s) must all occur in the headline, the evidence or the article text, compared
  after Arabic normalization (hamza, alef, teh marbuta, Farsi yeh/kaf, digits), so spelling
  variants find each other; a topic filter keeps one topic;
- counts per topic per day for the chart cover every alert of the window, not only those shown;
- everything returned is data: escaping and link checks are the templates' job (`flows.web.app`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from flows.store.feedback import FeedbackLog
from flows.store.schema import alerts, feeds, item_texts, items, utcnow
from flows.store.state import Store
from flows.text.normalize import normalize


@dataclass
class AlertView:
    item_id: int
    topic: str
    topic_name: str
    title: str
    url: str | None
    published: datetime | None
    created: datetime
    outlets: list[str]
    evidence: list[dict[str, Any]]
    verdict: str | None = None


@dataclass
class DayGroup:
    day: date
    topics: list[tuple[str, str, list[AlertView]]] = field(default_factory=list)  # (id, name, alerts)


def _outlets(store: Store, story_ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    q = (select(items.c.story_id, items.c.sitename, feeds.c.name, feeds.c.url)
         .join(feeds, feeds.c.id == items.c.feed_id).order_by(items.c.id))
    with store.engine.connect() as conn:
        for i in range(0, len(story_ids), 500):
            for story, site, name, url in conn.execute(q.where(items.c.story_id.in_(story_ids[i:i + 500]))):
                label = site or name or url
                names = out.setdefault(story, [])
                if label not in names:
                    names.append(label)
    return out


def _matches(words: list[str], row: dict[str, Any], evidence: list[dict[str, Any]]) -> bool:
    hay = normalize(" ".join([row["title"] or "", row["text"] or "", *(e.get("sentence", "") for e in evidence)]))
    return all(w in hay for w in words)


def recent_alerts(store: Store, *, days: float = 14, query: str = "", topic: str = "",
                  limit: int = 200) -> tuple[list[AlertView], int]:
    """(alerts shown, how many matched in all) over the last ``days``."""
    since = utcnow() - timedelta(days=days)
    q = (select(alerts.c.item_id, alerts.c.topic, alerts.c.topic_name, alerts.c.evidence, alerts.c.created_at,
                items.c.title, items.c.link, items.c.published_at, items.c.story_id, item_texts.c.text)
         .join(items, items.c.id == alerts.c.item_id)
         .outerjoin(item_texts, item_texts.c.item_id == alerts.c.item_id)
         .where(alerts.c.created_at >= since).order_by(alerts.c.created_at.desc(), alerts.c.id.desc()))
    if topic:
        q = q.where(alerts.c.topic == topic)
    words = [w for w in normalize(query).split() if w]
    picked: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    total = 0
    with store.engine.connect() as conn:
        for r in conn.execute(q).mappings():
            evidence = json.loads(r["evidence"] or "[]")
            if words and not _matches(words, r, evidence):
                continue
            total += 1
            if len(picked) < limit:
                picked.append((dict(r), evidence))
    outlets = _outlets(store, sorted({r["story_id"] or r["item_id"] for r, _ in picked}))
    verdicts = FeedbackLog(store).verdicts_for(sorted({r["item_id"] for r, _ in picked}))
    views = [AlertView(r["item_id"], r["topic"], r["topic_name"] or r["topic"], r["title"] or r["link"] or "",
                       r["link"], r["published_at"], r["created_at"],
                       outlets.get(r["story_id"] or r["item_id"], []), ev, verdicts.get((r["item_id"], r["topic"])))
             for r, ev in picked]
    return views, total


def by_day(views: list[AlertView], topic_order: list[str]) -> list[DayGroup]:
    """Alerts grouped by the day they were raised (newest first), then by topic (config order)."""
    days: dict[date, dict[str, list[AlertView]]] = {}
    names: dict[str, str] = {}
    for v in views:
        days.setdefault(v.created.date(), {}).setdefault(v.topic, []).append(v)
        names[v.topic] = v.topic_name
    rank = {t: i for i, t in enumerate(topic_order)}
    out = []
    for day in sorted(days, reverse=True):
        group = DayGroup(day)
        for t in sorted(days[day], key=lambda t: (rank.get(t, len(rank)), t)):
            group.topics.append((t, names[t], days[day][t]))
        out.append(group)
    return out


def daily_counts(store: Store, days: int = 14) -> tuple[list[date], dict[str, list[int]]]:
    """The last ``days`` days (oldest first) and, per topic, its alerts on each day."""
    today = utcnow().date()
    span = [today - timedelta(days=d) for d in range(days - 1, -1, -1)]
    index = {d: i for i, d in enumerate(span)}
    counts: dict[str, list[int]] = {}
    since = datetime.combine(span[0], datetime.min.time())
    with store.engine.connect() as conn:
        for topic, created in conn.execute(select(alerts.c.topic, alerts.c.created_at)
                                           .where(alerts.c.created_at >= since)):
            i = index.get(created.date())
            if i is not None:
                counts.setdefault(topic, [0] * days)[i] += 1
    return span, counts


def feed_health(store: Store) -> list[dict[str, Any]]:
    rows = []
    for f in store.feed_rows():
        state = "dead" if f["dead"] else ("error" if f["consecutive_errors"] else ("ok" if f["last_success_at"] else "new"))
        rows.append({"name": f["name"] or f["url"], "state": state, "last_polled": f["last_polled_at"],
                     "errors": f["consecutive_errors"], "last_error": (f["last_error"] or "")[:200]})
    return rows
