"""Analysts' judgments of alerts, kept in the `feedback` table of the state database.

Rules:
- one row per (subject, topic): the subject is the judged item (``item:ID``) or, for an article
  raqib never stored, its URL (``url:`` + SHA-256 of the URL); a URL that is some item's link is
  judged as that item;
- a judgment is idempotent: the same verdict again changes nothing (not even its time); a
  different verdict replaces the row's verdict, source and time;
- verdicts are ``relevant``, ``not-relevant`` (about an alert) and ``missed`` (an article that
  should have alerted the topic); precision as judged is relevant / (relevant + not-relevant);
- nothing here fetches or signs: see `flows.judgments` and `flows.alerts.feedback_links`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select, update

from flows.store.schema import alerts, feedback, item_texts, items, utcnow
from flows.store.state import Store

Verdict = Literal["relevant", "not-relevant", "missed"]
VERDICTS: tuple[str, ...] = ("relevant", "not-relevant", "missed")
SOURCES: tuple[str, ...] = ("cli", "page", "link")


def url_subject(url: str) -> str:
    return "url:" + hashlib.sha256(url.strip().encode("utf-8")).hexdigest()[:64]


@dataclass(frozen=True)
class Judgment:
    subject: str
    item_id: int | None
    url: str | None
    topic: str
    verdict: str
    source: str
    created_at: datetime
    title: str | None = None


class FeedbackLog:
    """The judgments in a `Store`'s database."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine

    # -- lookups ----------------------------------------------------------------------------
    def item_by_url(self, url: str) -> dict[str, Any] | None:
        """The first item whose link is ``url`` (id, title, link, text), or None."""
        q = (select(items.c.id, items.c.title, items.c.link, item_texts.c.text)
             .select_from(items.outerjoin(item_texts, item_texts.c.item_id == items.c.id))
             .where(items.c.link == url.strip()).order_by(items.c.id).limit(1))
        with self.engine.connect() as conn:
            row = conn.execute(q).mappings().first()
        return dict(row) if row else None

    def item(self, item_id: int) -> dict[str, Any] | None:
        q = (select(items.c.id, items.c.title, items.c.link, item_texts.c.text)
             .select_from(items.outerjoin(item_texts, item_texts.c.item_id == items.c.id)).where(items.c.id == item_id))
        with self.engine.connect() as conn:
            row = conn.execute(q).mappings().first()
        return dict(row) if row else None

    # -- writes -----------------------------------------------------------------------------
    def record(self, *, topic: str, verdict: str, source: str, item_id: int | None = None,
               url: str | None = None, title: str | None = None, text: str | None = None) -> str:
        """Record one judgment; returns ``added``, ``unchanged`` or ``replaced``."""
        if verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
        if source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
        if item_id is None and not url:
            raise ValueError("a judgment needs an item or a URL")
        subject = f"item:{item_id}" if item_id is not None else url_subject(url or "")
        now = utcnow()
        with self.engine.begin() as conn:
            if self.store._insert_ignore(conn, feedback, {
                    "subject": subject, "item_id": item_id, "url": url, "topic": topic, "verdict": verdict,
                    "source": source, "title": title, "text": text, "created_at": now}):
                return "added"
            res = conn.execute(update(feedback).where(
                feedback.c.subject == subject, feedback.c.topic == topic, feedback.c.verdict != verdict)
                .values(verdict=verdict, source=source, created_at=now,
                        **({"text": text} if text is not None else {}),
                        **({"title": title} if title is not None else {})))
            return "replaced" if res.rowcount else "unchanged"

    # -- reads ------------------------------------------------------------------------------
    def judgments(self, since: datetime | None = None) -> list[Judgment]:
        q = select(feedback).order_by(feedback.c.id)
        if since is not None:
            q = q.where(feedback.c.created_at >= since)
        with self.engine.connect() as conn:
            return [Judgment(r["subject"], r["item_id"], r["url"], r["topic"], r["verdict"], r["source"],
                             r["created_at"], r["title"]) for r in conn.execute(q).mappings()]

    def verdicts_for(self, item_ids: list[int]) -> dict[tuple[int, str], str]:
        """{(item id, topic): verdict} for the given items."""
        out: dict[tuple[int, str], str] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(item_ids), 500):
                chunk = item_ids[i:i + 500]
                for item_id, topic, verdict in conn.execute(select(
                        feedback.c.item_id, feedback.c.topic, feedback.c.verdict).where(feedback.c.item_id.in_(chunk))):
                    out[(item_id, topic)] = verdict
        return out

    def precision(self, days: float = 30.0) -> list[dict[str, Any]]:
        """Per topic, over judgments of the last ``days``: relevant, not relevant, missed, and
        precision as judged (relevant / judged; None when nothing was judged)."""
        per: dict[str, dict[str, int]] = {}
        for j in self.judgments(since=utcnow() - timedelta(days=days)):
            counts = per.setdefault(j.topic, {"relevant": 0, "not-relevant": 0, "missed": 0})
            counts[j.verdict] += 1
        out = []
        for topic, c in sorted(per.items()):
            judged = c["relevant"] + c["not-relevant"]
            out.append({"topic": topic, "relevant": c["relevant"], "not_relevant": c["not-relevant"],
                        "missed": c["missed"], "judged": judged,
                        "precision": round(c["relevant"] / judged, 3) if judged else None})
        return out

    def articles(self) -> list[dict[str, Any]]:
        """Every judged article once: subject, item id, url, title, text, {topic: verdict} and the
        topics it alerted (rows of `alerts`; none for an article raqib never stored)."""
        q = (select(feedback, items.c.title.label("item_title"), items.c.link.label("item_link"),
                    item_texts.c.text.label("item_text"))
             .select_from(feedback.outerjoin(items, items.c.id == feedback.c.item_id)
                          .outerjoin(item_texts, item_texts.c.item_id == feedback.c.item_id))
             .order_by(feedback.c.id))
        out: dict[str, dict[str, Any]] = {}
        with self.engine.connect() as conn:
            for r in conn.execute(q).mappings():
                art = out.setdefault(r["subject"], {
                    "subject": r["subject"], "item_id": r["item_id"], "url": r["item_link"] or r["url"],
                    "title": r["item_title"] or r["title"], "text": None, "verdicts": {}, "alerted": []})
                art["text"] = art["text"] or r["item_text"] or r["text"]
                art["verdicts"][r["topic"]] = r["verdict"]
            ids = sorted({a["item_id"] for a in out.values() if a["item_id"] is not None})
            alerted: dict[int, list[str]] = {}
            for i in range(0, len(ids), 500):
                for item_id, topic in conn.execute(select(alerts.c.item_id, alerts.c.topic)
                                                   .where(alerts.c.item_id.in_(ids[i:i + 500]))):
                    alerted.setdefault(item_id, []).append(topic)
        for art in out.values():
            art["alerted"] = sorted(alerted.get(art["item_id"], []))
        return list(out.values())
