"""The Prefect flows: thin wiring of the plain stages in `flows.pipeline`.

Work is batched into a few tasks per run (poll all feeds, process new items, deliver), because
each task run costs the ephemeral server ~30 ms: per-item tasks would stall a run.
Tasks sit at the I/O boundaries and retry with backoff; each run leaves a table artifact.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from flows.alerts import operator

from flows import pipeline
from flows.config import Config, FeedConfig, load_config
from flows.sources.fetch import make_client
from flows.sources.guard import make_guard
from flows.match import Matcher
from flows.store.state import Store
from flows.summary import announce


def _logger() -> logging.Logger:
    try:
        return get_run_logger()  # type: ignore[return-value]
    except Exception:
        return logging.getLogger("raqib")


@task(name="poll-feeds", retries=2, retry_delay_seconds=[2, 5], cache_policy=NO_CACHE)
def poll_feeds_task(store: Store, cfg: Config, feeds: list[FeedConfig] | None, ignore_age: bool,
                    guard: Callable[[str], None] | None, due_only: bool = False) -> list[pipeline.FeedOutcome]:
    with make_client(cfg.settings.limits, cfg.settings.user_agent) as client:
        return pipeline.poll_all(store, cfg, client, _logger(), feeds=feeds, ignore_age=ignore_age, guard=guard,
                                 due_only=due_only)


@task(name="process-items", retries=1, retry_delay_seconds=[5], cache_policy=NO_CACHE)
def process_items_task(store: Store, cfg: Config, matcher: Matcher,
                       guard: Callable[[str], None] | None) -> pipeline.CycleReport:
    with make_client(cfg.settings.limits, cfg.settings.user_agent) as client:
        return pipeline.process_pending(store, cfg, client, matcher, _logger(), guard=guard)


@task(name="deliver-alerts", retries=1, retry_delay_seconds=[5], cache_policy=NO_CACHE)
def deliver_task(store: Store, cfg: Config, failures: dict[str, int]) -> tuple[int, int]:
    return pipeline.deliver_due(store, cfg, _logger(), failures)


def run_cycle(store: Store, cfg: Config, matcher: Matcher, *, feeds: list[FeedConfig] | None = None,
              ignore_age: bool = False, guard: Callable[[str], None] | None = None,
              due_only: bool = False) -> pipeline.CycleReport:
    """One ingest cycle inside a flow run: poll, process, deliver, then record an artifact.

    ``due_only``: poll only the feeds whose adaptive next poll has come (scheduled runs)."""
    # Feeds are the operator's own choice and are not guarded; article links are.
    outcomes = poll_feeds_task(store, cfg, feeds, ignore_age, None, due_only)
    report = process_items_task(store, cfg, matcher, guard)
    report.feeds = outcomes
    failures: dict[str, int] = {}
    report.sent, report.send_failures = deliver_task(store, cfg, failures)
    notices = operator.feed_notices(store, cfg, outcomes) + operator.channel_notices(cfg, failures)
    operator.announce(cfg, notices, _logger())
    _artifact(report)
    return report


def _artifact(report: pipeline.CycleReport) -> None:
    rows: list[dict[str, Any]] = [
        {"feed": f.feed, "status": f.status, "entries": f.entries, "new items": f.new_items, "error": f.error or ""}
        for f in report.feeds
    ]
    rows.append({"feed": "TOTAL", "status": f"{report.feed_errors} feed errors",
                 "entries": report.processed, "new items": report.new_items,
                 "error": f"alerts={len(report.alerts)} sent={report.sent} send_failures={report.send_failures} "
                          f"page_failures={report.page_failures} duplicates={report.duplicates}"})
    try:
        create_table_artifact(key="ingest-summary", table=rows, description="raqib ingest cycle")
    except Exception:  # an artifact is a report, not a reason to fail the run
        _logger().warning("could not create the run artifact")


@flow(name="ingest", log_prints=False)
def ingest(config_dir: str = "config", state_dir: str = "state", feeds: list[dict[str, Any]] | None = None,
           ignore_age: bool = False, allow_hosts: list[str] | None = None,
           all_feeds: bool = False) -> dict[str, Any]:
    """One ingest cycle over the configured feeds (or ``feeds``, as config entries, for replay).

    The configured feeds are polled when due (their adaptive interval has passed), unless
    ``all_feeds``; explicit ``feeds`` (replay) are always polled. Concurrent runs share the work.
    Parameters hold no secret: extra apprise URLs reach `load_config` through the environment.
    """
    cfg = load_config(Path(config_dir))
    matcher = Matcher.from_config_dir(Path(config_dir))
    chosen = [FeedConfig.model_validate(f) for f in feeds] if feeds is not None else None
    store = Store.open(Path(state_dir))
    try:
        guard = make_guard([*cfg.settings.allow_hosts, *(allow_hosts or [])])
        report = run_cycle(store, cfg, matcher, feeds=chosen, ignore_age=ignore_age, guard=guard,
                           due_only=chosen is None and not all_feeds)
    finally:
        store.close()
    out = summarize(report)
    out["alerts_list"] = [a.to_dict() for a in report.alerts]
    out["feeds_list"] = [vars(f) for f in report.feeds]
    announce(out)  # `raqib serve`: one line per run
    return out


@task(name="send-digests", retries=1, retry_delay_seconds=[30], cache_policy=NO_CACHE)
def digest_task(store: Store, cfg: Config) -> dict[str, int]:
    from flows.alerts.digest import send_digests

    return send_digests(store, cfg, _logger())


@flow(name="digest", log_prints=False)
def digest(config_dir: str = "config", state_dir: str = "state") -> dict[str, int]:
    """The day's stories per topic to every digest channel (the second, cron-scheduled deployment)."""
    cfg = load_config(Path(config_dir))
    store = Store.open(Path(state_dir))
    try:
        return digest_task(store, cfg)
    finally:
        store.close()


def summarize(report: pipeline.CycleReport) -> dict[str, Any]:
    return {
        "feeds": len(report.feeds), "feed_errors": report.feed_errors, "new_items": report.new_items,
        "processed": report.processed, "duplicates": report.duplicates, "page_failures": report.page_failures,
        "alerts": len(report.alerts), "messages": report.messages, "sent": report.sent, "send_failures": report.send_failures,
    }
