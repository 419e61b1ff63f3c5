"""Peak memory of one ingest cycle over every hostile feed beside the healthy seed feed.

Usage (from the repository root):  .venv/bin/python bench/bench_hostile.py [--repeat N]

The feeds: every fault of `tests.faults.FEED_FAULTS` (errors, hangs, drips, bombs, huge bodies,
odd entries, hostile links) and `tests.faults.MEMORY_FAULTS` (feeds and pages just under the
default size caps: 100 KB summaries, 1 MB titles, 20,000 entries, a 4.9 MB page, a gzipped page
bomb), 21 in all, plus the seeds' own feed. The servers run in this process; the cycle (the plain
pipeline functions: poll, process, deliver) runs in a fresh child process with the default size
limits (10 MiB feeds, 5 MiB pages) and short timeouts. The figure is the largest peak RSS
(ru_maxrss) of one process: the cycle's own, or its largest extraction worker's (VmHWM, sampled every 0.05 s: the
workers are a fork server's children). Target: under 300 MB. Prints one JSON line per run and the largest peak.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SETTINGS = """\
max_age_hours: 72
limits:
  connect_timeout: 1
  read_timeout: 1
  total_timeout: 3
  retries: 0
"""
TARGET_MB = 300


def child(payload: dict) -> dict:
    """One cycle over ``payload``'s feeds in this (fresh) process; peak RSS at points along it."""
    import logging

    from flows import pipeline
    from flows.config import FeedConfig, load_config
    from flows.match import Matcher
    from flows.sources.fetch import make_client
    from flows.sources.guard import make_guard
    from flows.store.state import Store

    def peak() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    logging.basicConfig(level=logging.ERROR)
    log = logging.getLogger("raqib.bench.hostile")
    cfg = load_config(Path(payload["config"]))
    matcher = Matcher.from_config_dir(Path(payload["config"]))
    store = Store(f"sqlite:///{payload['db']}")
    feeds = [FeedConfig(url=u, name=u.rsplit("/", 2)[-1], id=f"f{i:02d}") for i, u in enumerate(payload["feeds"])]
    guard = make_guard(payload["allow"])
    from bench.run_all import _ChildRss

    out = {"start_mb": peak()}
    workers = _ChildRss(interval=0.05)  # the extraction processes are a fork server's children
    t0 = time.monotonic()
    with make_client(cfg.settings.limits, "raqib-bench") as client:
        outcomes = pipeline.poll_all(store, cfg, client, log, feeds=feeds, guard=guard, ignore_age=True)
        out["after_poll_mb"] = peak()
        report = pipeline.process_pending(store, cfg, client, matcher, log, guard=guard)
        out["after_process_mb"] = peak()
    pipeline.deliver_due(store, cfg, log)
    store.close()
    out.update(seconds=round(time.monotonic() - t0, 1), feeds=len(outcomes),
               feed_errors=sum(1 for o in outcomes if o.status == "error"), new_items=sum(o.new_items for o in outcomes),
               processed=report.processed, alerts=len(report.alerts), peak_rss_mb=peak(),
               # the largest extraction worker (or fork server) of this cycle, if any
               worker_peak_rss_mb=max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, workers.stop()),
               workers_seen=len(workers.peak))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps({k: round(v, 1) if isinstance(v, float) else v for k, v in child(json.loads(args.child)).items()}))
        return 0

    from flows.replay.httpserve import StaticServer
    from flows.replay.replay_site import build_site
    from tests import faults

    peaks = []
    with StaticServer() as canary, StaticServer() as seeds, StaticServer() as bad:
        seeds.routes.update(build_site(ROOT / "seeds", seeds.base_url))
        bad.routes.update(faults.fault_routes(bad.base_url, canary.base_url))
        bad.routes.update(faults.memory_routes(bad.base_url))
        hostile = [*faults.FEED_FAULTS, *faults.MEMORY_FAULTS]
        for run in range(args.repeat):
            with tempfile.TemporaryDirectory(prefix="raqib-hostile-") as tmp:
                config = Path(tmp) / "config"
                shutil.copytree(ROOT / "config", config)
                (config / "alerts.yaml").write_text("channels: []\n", encoding="utf-8")
                (config / "settings.yaml").write_text(SETTINGS, encoding="utf-8")
                payload = {"config": str(config), "db": str(Path(tmp) / "raqib.db"),
                           "feeds": [seeds.base_url + "/feed.xml", *(bad.base_url + p for p in hostile)],
                           "allow": [u.split("//", 1)[1] for u in (seeds.base_url, bad.base_url)]}
                res = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(payload)],
                                     cwd=ROOT, capture_output=True, text=True, timeout=600)
                if res.returncode != 0:
                    sys.stderr.write(res.stderr[-4000:])
                    return 1
                line = json.loads(res.stdout.strip().splitlines()[-1])
                line["hostile_feeds"] = len(hostile)
                print(json.dumps(line))
                peaks.append(max(line["peak_rss_mb"], line["worker_peak_rss_mb"]))
    worst = max(peaks)
    print(f"peak RSS of one hostile cycle: {worst:.0f} MB (target < {TARGET_MB} MB)"
          f"{'' if worst < TARGET_MB else '  NOT MET'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
