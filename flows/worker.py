"""One ingest cycle without Prefect, as a plain process: the scale tests, the bench, debugging.

    python -m flows.worker --config config [--state state] [--all] [--allow-host HOST:PORT]...

Rules:
- the cycle of the `ingest` flow (poll, process, deliver, operator notices) with the same claims, so any
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

from flows.config import load_config
from flows.errors import ConfigError
from flows.cycle import PLAIN_STEPS, run_cycle
from flows.outcomes import CycleReport
from flows.sources.guard import make_guard
from flows.match import Matcher
from flows.store.state import Store


def run_plain_cycle(store: Store, config_dir: Path, *, due_only: bool = True, ignore_age: bool = False,
                    allow_hosts: Sequence[str] = ()) -> CycleReport:
    """Poll, process and deliver once over ``config_dir``'s feeds, in this process: the cycle of
    the `ingest` flow (`flows.cycle.run_cycle`) with plain stages."""
    cfg = load_config(config_dir)
    matcher = Matcher.from_config_dir(config_dir)
    guard = make_guard([*cfg.settings.allow_hosts, *allow_hosts])
    return run_cycle(store, cfg, matcher, due_only=due_only, ignore_age=ignore_age, guard=guard, steps=PLAIN_STEPS)


def summary(report: CycleReport) -> dict[str, Any]:
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
    try:
        load_config(args.config)  # config errors stop here, before the database is opened
        store = Store.open(args.state)
        try:
            report = run_plain_cycle(store, args.config, due_only=not args.all, ignore_age=args.ignore_age,
                                     allow_hosts=args.allow_host)
        finally:
            store.close()
    except ConfigError as err:  # like the CLI: the message, no traceback
        sys.stderr.write(f"raqib: config error: {err}\n")
        return 2
    sys.stdout.write(json.dumps(summary(report), ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
