"""Analysts' judgments from any door (command line, archive page, signed link), and their export.

Rules:
- a judgment names a configured topic and one of relevant / not-relevant / missed; anything else
  is refused with a reason before anything is fetched or written;
- a URL that is a stored item's link is judged as that item; any other URL (a missed article,
  typically) is fetched and extracted like any page: `fetch_page` within the page limits, through
  the address guard (`settings.allow_hosts`), decoded and extracted by `flows.text.extract`; a page
  that cannot be fetched or holds no article is refused and nothing is recorded;
- a judgment keeps a copy of the article's text (retention drops old items' texts; a judged
  article is a labelled example worth keeping for `export`);
- the export writes each judged article that has a text as NAME.txt and one `labels.csv` in the
  seeds' format: `file`, one 0/1 column per judged topic (1 = relevant or missed, 0 = not
  relevant, and 0 for a topic nobody judged on that article), `why` naming every verdict, so
  `raqib backtest DIR --labels DIR/labels.csv` scores the current rules on the analysts' calls.
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import httpx

from flows.config import Settings
from flows.sources.fetch import FetchError, fetch_page, make_client
from flows.sources.guard import Guard, make_guard
from flows.store.feedback import VERDICTS, FeedbackLog
from flows.text.extract import decode_html, extract_article

if TYPE_CHECKING:
    from flows.match import Matcher


class JudgmentError(Exception):
    """A judgment that cannot be recorded; the message says why (no secret in it)."""


@dataclass(frozen=True)
class Recorded:
    status: str  # added | unchanged | replaced
    item_id: int | None
    url: str
    title: str | None
    fetched: bool


def _fetch_article(url: str, settings: Settings, client: httpx.Client | None,
                   guard: Guard | None) -> tuple[str, str | None]:
    """(text, title) of the page at ``url``; `JudgmentError` when it cannot be had."""
    own = client is None
    client = client or make_client(settings.limits, settings.user_agent)
    try:
        got = fetch_page(client, url, settings.limits, guard=guard or make_guard(settings.allow_hosts))
    except FetchError as err:
        raise JudgmentError(f"cannot fetch the article: {err.reason}") from None
    finally:
        if own:
            client.close()
    ctype = got.headers.get("content-type")
    if ctype and not re.search(r"html|xml|text/plain", ctype, re.I):
        raise JudgmentError(f"not an HTML page (Content-Type {ctype.split(';')[0]})")
    article = extract_article(decode_html(got.body, ctype), got.url)
    if article is None:
        raise JudgmentError("no article text found on the page")
    return article.text, article.title


def judge_url(log: FeedbackLog, settings: Settings, topics: Iterable[str], *, url: str, topic: str,
              verdict: str, source: str, client: httpx.Client | None = None,
              guard: Guard | None = None) -> Recorded:
    """Record a judgment of the article at ``url`` for ``topic`` (see the module rules)."""
    url = url.strip()
    if topic not in set(topics):
        raise JudgmentError(f"unknown topic {topic!r}")
    if verdict not in VERDICTS:
        raise JudgmentError(f"verdict must be one of {', '.join(VERDICTS)}")
    if not re.match(r"^https?://[^\s/]+", url) or len(url) > 4000:
        raise JudgmentError("the article URL must be an http:// or https:// URL")
    item = log.item_by_url(url)
    if item is not None and (item["text"] or verdict != "missed"):
        status = log.record(item_id=item["id"], topic=topic, verdict=verdict, source=source, text=item["text"])
        return Recorded(status, item["id"], url, item["title"], False)
    text, title = _fetch_article(url, settings, client, guard)
    if item is not None:  # stored, but its page never gave a text: keep what we fetched now
        status = log.record(item_id=item["id"], topic=topic, verdict=verdict, source=source, text=text)
        return Recorded(status, item["id"], url, item["title"] or title, True)
    status = log.record(url=url, topic=topic, verdict=verdict, source=source, title=title, text=text)
    return Recorded(status, None, url, title, True)


def judge_item(log: FeedbackLog, item_id: int, topics: Iterable[str], verdict: str, source: str) -> list[str]:
    """Record ``verdict`` for each of ``topics`` on a stored item (a signed link or a page button)."""
    item = log.item(item_id)
    if item is None:
        raise JudgmentError(f"no item {item_id}")
    return [log.record(item_id=item_id, topic=t, verdict=verdict, source=source, text=item["text"]) for t in topics]


@dataclass(frozen=True)
class Exported:
    files: int
    skipped: list[str]  # URLs of judged articles without a text
    topics: list[str]


def export(log: FeedbackLog, folder: Path, topic_order: list[str]) -> Exported:
    """Write the judged articles and `labels.csv` into ``folder`` (see the module rules)."""
    folder.mkdir(parents=True, exist_ok=True)
    arts = log.articles()
    judged = {t for a in arts for t in a["verdicts"]}
    topics = [t for t in topic_order if t in judged] + sorted(judged - set(topic_order))
    rows: list[dict[str, str]] = []
    skipped: list[str] = []
    for n, art in enumerate(arts):
        if not art["text"]:
            skipped.append(art["url"] or art["subject"])
            continue
        digest = hashlib.sha256((art["url"] or art["subject"]).encode("utf-8")).hexdigest()[:16]
        name = f"{n:03d}_{digest}.txt"
        (folder / name).write_text(art["text"].rstrip("\n") + "\n", encoding="utf-8")
        verdicts = art["verdicts"]
        row = {"file": name}
        for t in topics:
            row[t] = "1" if verdicts.get(t) in ("relevant", "missed") else "0"
        why = [f"{v}: {t}" for t, v in verdicts.items()]
        unjudged = [t for t in topics if t not in verdicts]
        if unjudged:
            why.append("not judged (0): " + ", ".join(unjudged))
        row["why"] = "; ".join(why) + (f" — {art['url']}" if art["url"] else "")
        rows.append(row)
    with open(folder / "labels.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["file", *topics, "why"])
        writer.writeheader()
        writer.writerows(rows)
    return Exported(len(rows), skipped, topics)


def judged_changes(log: FeedbackLog, matcher: "Matcher") -> list[dict[str, object]]:
    """What re-matching the judged articles with ``matcher`` would change, judged by the analysts:
    ``fix`` (a not-relevant alert gone, a relevant or missed article now alerted) or ``break``
    (a relevant alert lost, a not-relevant article alerted again). Unchanged calls are left out."""
    out: list[dict[str, object]] = []
    for art in log.articles():
        if not art["text"]:
            continue
        now = {m.topic for m in matcher.match(art["text"], title=art["title"] or None)}
        for topic, verdict in art["verdicts"].items():
            before, after = topic in art["alerted"], topic in now
            if before == after:
                continue
            wanted = verdict in ("relevant", "missed")
            out.append({"change": "fix" if after == wanted else "break", "topic": topic, "verdict": verdict,
                        "alerts_now": after, "title": art["title"], "url": art["url"]})
    return out
