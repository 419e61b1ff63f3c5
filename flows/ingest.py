"""The Prefect flows `ingest` and `digest`: the plain cycle of `flows.cycle`, its stages as tasks.

Work is batched into a few tasks per run (poll all feeds, process new items, deliver), because
each task run costs the server ~30 ms: per-item tasks would stall a run.
Tasks sit at the I/O boundaries and retry with backoff; each run leaves a table artifact.
Importing this module imports Prefect (over a second): one-shot commands with no Prefect server
run `flows.cycle` directly instead (see `flows.runtime.prefect_api`).
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from flows import cycle
from flows.config import Config, FeedConfig
from flows.match import Matcher
from flows.outcomes import CycleReport, FeedOutcome
from flows.store.state import Store

summarize = cycle.summarize  # re-exported


def _logger() -> logging.Logger:
    try:
        return get_run_logger()  # type: ignore[return-value]
    except Exception:
        return logging.getLogger("raqib")


@task(name="poll-feeds", retries=2, retry_delay_seconds=[2, 5], cache_policy=NO_CACHE)
def poll_feeds_task(store: Store, cfg: Config, feeds: list[FeedConfig] | None, ignore_age: bool,
                    guard: Callable[[str], None] | None, due_only: bool = False) -> list[FeedOutcome]:
    return cycle.poll_step(store, cfg, feeds, ignore_age, guard, due_only, log=_logger)


@task(name="process-items", retries=1, retry_delay_seconds=[5], cache_policy=NO_CACHE)
def process_items_task(store: Store, cfg: Config, matcher: Matcher,
                       guard: Callable[[str], None] | None) -> CycleReport:
    return cycle.process_step(store, cfg, matcher, guard, log=_logger)


@task(name="deliver-alerts", retries=1, retry_delay_seconds=[5], cache_policy=NO_CACHE)
def deliver_task(store: Store, cfg: Config, failures: dict[str, int]) -> tuple[int, int]:
    return cycle.deliver_step(store, cfg, failures, log=_logger)


@task(name="send-digests", retries=1, retry_delay_seconds=[30], cache_policy=NO_CACHE)
def digest_task(store: Store, cfg: Config) -> dict[str, int]:
    return cycle.digest_step(store, cfg, log=_logger)


def _artifact(report: CycleReport) -> None:
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


PREFECT_STEPS = cycle.Steps(poll=poll_feeds_task, process=process_items_task, deliver=deliver_task,
                            digest=digest_task, logger=_logger, report=_artifact)


@flow(name="ingest", log_prints=False)
def ingest(config_dir: str = "config", state_dir: str = "state", feeds: list[dict[str, Any]] | None = None,
           ignore_age: bool = False, allow_hosts: list[str] | None = None,
           all_feeds: bool = False) -> dict[str, Any]:
    """One ingest cycle over the configured feeds (or ``feeds``, as config entries, for replay).

    The configured feeds are polled when due (their adaptive interval has passed), unless
    ``all_feeds``; explicit ``feeds`` (replay) are always polled. Concurrent runs share the work.
    Parameters hold no secret: extra apprise URLs reach `load_config` through the environment.
    """
    return cycle.ingest_cycle(config_dir, state_dir, feeds=feeds, ignore_age=ignore_age, allow_hosts=allow_hosts,
                              all_feeds=all_feeds, steps=PREFECT_STEPS)


@flow(name="digest", log_prints=False)
def digest(config_dir: str = "config", state_dir: str = "state") -> dict[str, int]:
    """The day's stories per topic to every digest channel (the second, cron-scheduled deployment)."""
    return cycle.digest_run(config_dir, state_dir, steps=PREFECT_STEPS)
