"""One ingest cycle without Prefect, as a plain process: the scale tests, the bench, debugging.

    python -m flows.worker --config config [--state state] [--all] [--allow-host HOST:PORT]...

Rules:
- the same stages as the `ingest` flow (poll, process, deliver) with the same claims, so any
  number of these processes and of Prefect flow runs can share one database
  (`RAQIB_DATABASE_URL`, else SQLite under ``--state``);
- without ``--all`` only feeds whose adaptive ``next_poll_at`` has come are polled, like a
  scheduled run;
- prints one JSON object on stdout: the cycle's summary and the feeds this process polled.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any, Sequence

from flows import pipeline
from flows.config import load_config
from flows.sources.fetch import make_client
from flows.sources.guard import make_guard
from flows.match import Matcher
from flows.store.state import Store


def run_plain_cycle(store: Store, config_dir: Path, *, due_only: bool = True, ignore_age: bool = False,
                    allow_hosts: Sequence[str] = (), log: logging.Logger | None = None) -> pipeline.CycleReport:
    """Poll, process and deliver once over ``config_dir``'s feeds, in this process."""
    log = log or logging.getLogger("raqib.worker")
    cfg = load_config(config_dir)
    matcher = Matcher.from_config_dir(config_dir)
    guard = make_guard([*cfg.settings.allow_hosts, *allow_hosts])
    with make_client(cfg.settings.limits, cfg.settings.user_agent) as client:
        outcomes = pipeline.poll_all(store, cfg, client, log, due_only=due_only, ignore_age=ignore_age)
        report = pipeline.process_pending(store, cfg, client, matcher, log, guard=guard)
    report.feeds = outcomes
    report.sent, report.send_failures = pipeline.deliver_due(store, cfg, log)
    return report


def summary(report: pipeline.CycleReport) -> dict[str, Any]:
    return {"polled": [f.feed for f in report.feeds], "feed_errors": report.feed_errors,
            "new_items": report.new_items, "processed": report.processed, "alerts": len(report.alerts),
            "sent": report.sent, "send_failures": report.send_failures}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m flows.worker", description=__doc__.split("\n")[0])
    ap.add_argument("--config", type=Path, default=Path("config"))
    ap.add_argument("--state", type=Path, default=Path("state"))
    ap.add_argument("--all", action="store_true", help="poll every feed, due or not")
    ap.add_argument("--ignore-age", action="store_true")
    ap.add_argument("--allow-host", action="append", default=[])
    args = ap.parse_args(argv)
    from flows.redact import RedactingFormatter  # log lines may quote a URL with its password

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(logging.BASIC_FORMAT))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    store = Store.open(args.state)
    try:
        report = run_plain_cycle(store, args.config, due_only=not args.all, ignore_age=args.ignore_age,
                                 allow_hosts=args.allow_host)
    finally:
        store.close()
    sys.stdout.write(json.dumps(summary(report), ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
