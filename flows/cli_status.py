"""`raqib status` and the digest's explanation: what the state says, for people, in 80 columns.

Rules:
- every time is shown with its zone and to the second (`2026-12-01 21:56:54 UTC`); JSON times are
  ISO 8601 with `Z`;
- words: an *alert* is one (article, topic), a *message* what a channel receives; the outbox (JSON `outbox`)
  holds messages, so delivery states are counted in messages;
- publication-to-delivery latency leaves out replayed feeds (`replay:…`): their dates are the
  captures', not publication; they are listed apart;
- every line fits 80 columns (long names, URLs and errors are cut with `…`), except a dead message's
  headline, shown whole on its own line; text from feeds and
  pages is shown through `flows.cli._term` (one line, no control or bidi characters, no secret);
- a state folder that does not exist is an error (exit 2), never a new empty database.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import typer

from flows.cli_common import JSON_OPT, STATE_OPT
from flows.summary import plural, stamp

WIDTH = 80
REPLAY_PREFIX = "replay:"


def _fit(line: str, width: int = WIDTH) -> str:
    return line if len(line) <= width else line[: width - 1] + "…"


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat() + ("Z" if value.tzinfo is None else "")
    return value


def span(seconds: float) -> str:
    """A duration for people: 42 s, 3 m 5 s, 2 h 10 m, 3 d 4 h."""
    s = int(round(seconds))
    for unit, size, sub, subsize in (("d", 86400, "h", 3600), ("h", 3600, "m", 60), ("m", 60, "s", 1)):
        if s >= size:
            return f"{s // size} {unit} {(s % size) // subsize} {sub}"
    return f"{s} s"


def status(state: Path = STATE_OPT, as_json: bool = JSON_OPT) -> None:
    """Feeds (last and next poll, validators, errors), messages by delivery state, dead messages,
    publication-to-delivery latency per feed."""
    from flows.cli import _term, open_store
    from flows.cli_feedback import precision_rows, print_precision

    store = open_store(state, must_exist=True)
    try:
        feeds = store.feed_rows()
        outbox = store.outbox_counts()
        dead = store.dead_deliveries()
        latency = store.latency_by_feed()
        precision = precision_rows(store)
    finally:
        store.close()
    live = [r for r in latency if not r["feed"].startswith(REPLAY_PREFIX)]
    replayed = [r for r in latency if r["feed"].startswith(REPLAY_PREFIX)]
    if as_json:
        keep = ("key", "name", "url", "last_polled_at", "last_status", "consecutive_errors", "dead", "next_poll_at",
                "etag", "last_modified", "last_error", "poll_interval_s")
        data = {"feeds": [{k: _iso(f.get(k)) for k in keep} for f in feeds], "outbox": outbox,
                "dead": dead, "latency": live, "replayed": replayed, "precision": precision}
        sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
        return
    lines = [f"feeds: {len(feeds)}"]
    for f in feeds:
        lines.append(f"  {_term(f['name'] or f['url'])}" + (f"  <{_term(f['url'])}>" if f["name"] else ""))
        if f["last_polled_at"] is None:
            lines.append("    not polled yet")
            continue
        health = "dead" if f["dead"] else (f"{f['consecutive_errors']} failed in a row" if f["consecutive_errors"] else "ok")
        lines.append(f"    polled {stamp(f['last_polled_at'])} ({_term(f['last_status'] or '-')}, {health})")
        validators = ", ".join(v for v, k in (("ETag", "etag"), ("Last-Modified", "last_modified")) if f[k]) or "none"
        nxt = stamp(f["next_poll_at"]) if f.get("next_poll_at") else "-"
        lines.append(f"    next {nxt} · validators: {validators}")
        if f["last_error"]:
            lines.append(f"    last error: {_term(f['last_error'])}")
    lines.append("messages by state: " + (", ".join(f"{k} {v}" for k, v in sorted(outbox.items())) or "none"))
    for d in dead:
        lines.append(f"dead: {_term(d['title'])}")
        lines.append(f"  to {_term(d['channel'])}, {plural(d['attempts'], 'attempt')}: {_term(d['last_error'])}")
    if live:
        lines.append("publication → delivery, per feed (sent messages):")
        lines.append(f"  {'feed':<40} {'sent':>7} {'median':>12} {'worst':>12}")
        for r in live:
            lines.append(f"  {_fit(_term(r['feed']), 40):<40} {r['alerts']:>7} {span(r['median_seconds']):>12} "
                         f"{span(r['worst_seconds']):>12}")
    for r in replayed:
        lines.append(f"  {_term(r['feed'])}: {plural(r['alerts'], 'message')} sent (replay: no latency, "
                     "the dates are the captures')")
    for line in lines:
        # A dead message's headline is shown whole (on a line of its own): the one line that may
        # pass 80 columns, so the operator can tell which article it was.
        typer.echo(line if line.startswith("dead: ") else _fit(line))
    from rich.console import Console

    print_precision(Console(width=WIDTH), precision)  # rich: feedback's table, held to 80 columns


def explain_digest(config: Path, state: Path, sent: dict[str, int]) -> list[str]:
    """One line per digest channel: what it got, or why it got nothing."""
    from datetime import timedelta, timezone
    from zoneinfo import ZoneInfo

    from flows.alerts.digest import collect
    from flows.cli import open_store
    from flows.config import load_config
    from flows.store.schema import utcnow

    cfg = load_config(config)
    channels = [c for c in cfg.channels if c.digest]
    if not channels:
        return ["no digest sent: no channel has `mode: digest` or `mode: both` in alerts.yaml"]
    now = utcnow()
    day = now.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(cfg.settings.digest_timezone)).date().isoformat()
    store = open_store(state)
    try:
        topics = collect(store, now - timedelta(hours=cfg.settings.digest_hours))
        out = []
        for ch in channels:
            if ch.name in sent:
                n = sent[ch.name]
                out.append(f"{ch.name}: digest of {day} sent, {n} {'story' if n == 1 else 'stories'}")
            elif store.digest_sent(ch.name, day):
                out.append(f"{ch.name}: no digest sent: the digest of {day} ({cfg.settings.digest_timezone}) "
                           "was already sent")
            elif not any(ch.wants(t.id) and t.stories for t in topics):
                out.append(f"{ch.name}: no digest sent: no alert for its topics in the last "
                           f"{cfg.settings.digest_hours:g} hours")
            else:
                out.append(f"{ch.name}: no digest sent: the channel refused it (see the log); "
                           "the next run today tries again")
        return out
    finally:
        store.close()
