"""One ingest cycle and one digest run, wired from the plain stages: the whole job of the
`ingest` and `digest` flows, with or without Prefect.

Rules:
- `ingest_cycle` and `digest_run` are the flows' bodies. `flows.ingest` calls them with `Steps`
  whose stages are Prefect tasks (retries, task runs and an artifact in the UI); a one-shot
  command with no Prefect server, and `python -m flows.worker`, call them with `PLAIN_STEPS`:
  the same functions in the same order, under the same leases and claims;
- this module never imports Prefect (the import alone costs over a second, a temporary server
  several more): a plain run pays only for its own work;
- parameters hold no secret: extra apprise URLs reach `load_config` through the environment.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from flows import pipeline
from flows.config import Config, FeedConfig, load_config
from flows.match import Matcher
from flows.outcomes import CycleReport, FeedOutcome
from flows.sources.fetch import make_client
from flows.sources.guard import Guard, make_guard
from flows.store import retention
from flows.store.state import Store
from flows.summary import announce


def plain_logger() -> logging.Logger:
    return logging.getLogger("raqib")


def poll_step(store: Store, cfg: Config, feeds: list[FeedConfig] | None, ignore_age: bool,
              guard: Guard | None, due_only: bool = False,
              log: Callable[[], logging.Logger] = plain_logger) -> list[FeedOutcome]:
    with make_client(cfg.settings.limits, cfg.settings.user_agent) as client:
        return pipeline.poll_all(store, cfg, client, log(), feeds=feeds, ignore_age=ignore_age, guard=guard,
                                 due_only=due_only)


def process_step(store: Store, cfg: Config, matcher: Matcher, guard: Guard | None,
                 log: Callable[[], logging.Logger] = plain_logger) -> CycleReport:
    with make_client(cfg.settings.limits, cfg.settings.user_agent) as client:
        return pipeline.process_pending(store, cfg, client, matcher, log(), guard=guard)


def deliver_step(store: Store, cfg: Config, failures: dict[str, int],
                 log: Callable[[], logging.Logger] = plain_logger) -> tuple[int, int]:
    return pipeline.deliver_due(store, cfg, log(), failures)


def digest_step(store: Store, cfg: Config, log: Callable[[], logging.Logger] = plain_logger) -> dict[str, int]:
    from flows.alerts.digest import send_digests

    return send_digests(store, cfg, log())


@dataclass(frozen=True)
class Steps:
    """The stages a cycle runs, and where its logs and its report go."""

    poll: Callable[..., list[FeedOutcome]] = poll_step
    process: Callable[..., CycleReport] = process_step
    deliver: Callable[..., tuple[int, int]] = deliver_step
    digest: Callable[..., dict[str, int]] = digest_step
    logger: Callable[[], logging.Logger] = plain_logger
    report: Callable[[CycleReport], None] = field(default=lambda _report: None)


PLAIN_STEPS = Steps()


def run_cycle(store: Store, cfg: Config, matcher: Matcher, *, feeds: list[FeedConfig] | None = None,
              ignore_age: bool = False, guard: Guard | None = None, due_only: bool = False,
              steps: Steps = PLAIN_STEPS) -> CycleReport:
    """Poll, process, deliver, tell the operator, report. ``due_only``: only the feeds whose
    adaptive next poll has come (scheduled runs)."""
    from flows.alerts import operator

    # A feed's own host is the operator's choice; its redirects to other hosts and article links are guarded.
    outcomes = steps.poll(store, cfg, feeds, ignore_age, guard, due_only)
    report = steps.process(store, cfg, matcher, guard)
    report.feeds = outcomes
    failures: dict[str, int] = {}
    report.sent, report.send_failures = steps.deliver(store, cfg, failures)
    notices = operator.feed_notices(store, cfg, outcomes) + operator.channel_notices(cfg, failures)
    operator.announce(cfg, notices, steps.logger())
    retention.prune_quietly(store, cfg.settings, steps.logger())  # at most once a day, any worker
    steps.report(report)
    return report


def ingest_cycle(config_dir: str = "config", state_dir: str = "state", feeds: list[dict[str, Any]] | None = None,
                 ignore_age: bool = False, allow_hosts: Sequence[str] | None = None, all_feeds: bool = False,
                 steps: Steps = PLAIN_STEPS) -> dict[str, Any]:
    """One ingest cycle over the configured feeds (or ``feeds``, as config entries, for replay).

    The configured feeds are polled when due, unless ``all_feeds``; explicit ``feeds`` (replay)
    are always polled. Returns `summarize` plus the alerts and the feeds' outcomes."""
    cfg = load_config(Path(config_dir))
    matcher = Matcher.from_config_dir(Path(config_dir))
    chosen = [FeedConfig.model_validate(f) for f in feeds] if feeds is not None else None
    store = Store.open(Path(state_dir))
    try:
        guard = make_guard([*cfg.settings.allow_hosts, *(allow_hosts or [])])
        report = run_cycle(store, cfg, matcher, feeds=chosen, ignore_age=ignore_age, guard=guard,
                           due_only=chosen is None and not all_feeds, steps=steps)
    finally:
        store.close()
    out = summarize(report)
    out["alerts_list"] = [a.to_dict() for a in report.alerts]
    out["feeds_list"] = [vars(f) for f in report.feeds]
    announce(out)  # `raqib serve`: one line per run
    return out


def digest_run(config_dir: str = "config", state_dir: str = "state", steps: Steps = PLAIN_STEPS) -> dict[str, int]:
    """The day's stories per topic to every digest channel."""
    cfg = load_config(Path(config_dir))
    store = Store.open(Path(state_dir))
    try:
        return steps.digest(store, cfg)
    finally:
        store.close()


def summarize(report: CycleReport) -> dict[str, Any]:
    return {
        "feeds": len(report.feeds), "feed_errors": report.feed_errors, "new_items": report.new_items,
        "processed": report.processed, "duplicates": report.duplicates, "page_failures": report.page_failures,
        "alerts": len(report.alerts), "messages": report.messages, "sent": report.sent, "send_failures": report.send_failures,
    }
