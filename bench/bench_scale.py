"""Scale-out bench: 2,000 feeds on one loopback server, polled by 1, 2 and 4 worker processes.

    .venv/bin/python bench/bench_scale.py [--feeds 2000] [--workers 1 2 4] [--db URL] [--delay S]

For each worker count, a fresh database (a new SQLite file, or a new schema when --db names a
PostgreSQL URL) and N processes each run the poll stage of a scheduled cycle (`poll_all`,
due feeds only) at once; they split the feeds through the leases. Printed per run: feeds polled
per minute (wall clock, all workers), database queries per poll (every statement the workers
sent, counted with a SQLAlchemy ``before_cursor_execute`` listener), and a check that every feed
was polled exactly once. Items are recorded as pending, not processed: this measures the feed
side of the work split. All feeds share one host, so `per_host_concurrency` is raised to the
thread count here (many real hosts would each get the default two).
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _worker(config_dir: str, db_url: str, start_at: float, out: Any) -> None:
    from sqlalchemy import event

    from flows import pipeline
    from flows.config import load_config
    from flows.sources.fetch import make_client
    from flows.store.state import Store

    cfg = load_config(Path(config_dir))
    store = Store(db_url)
    queries = [0]
    event.listen(store.engine, "before_cursor_execute", lambda *a: queries.__setitem__(0, queries[0] + 1))
    log = logging.getLogger("raqib.bench")
    log.setLevel(logging.ERROR)
    time.sleep(max(0.0, start_at - time.time()))
    t0 = time.time()
    with make_client(cfg.settings.limits, "raqib-bench") as client:
        outcomes = pipeline.poll_all(store, cfg, client, log, due_only=True)
    out.put({"polled": [o.feed for o in outcomes], "errors": sum(o.status == "error" for o in outcomes),
             "queries": queries[0], "t0": t0, "t1": time.time()})
    store.close()


def _fresh_db(base: str | None, tmp: Path) -> tuple[str, Any]:
    if not base:
        return f"sqlite:///{tmp / ('bench-' + uuid.uuid4().hex[:6] + '.db')}", None
    from sqlalchemy import create_engine, text

    schema = "bench_" + uuid.uuid4().hex[:8]
    admin = create_engine(base)
    with admin.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base else "?"

    def drop() -> None:
        with admin.begin() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    return f"{base}{sep}options=-csearch_path%3D{schema}", drop


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--feeds", type=int, default=2000)
    ap.add_argument("--items", type=int, default=3, help="items per feed")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--threads", type=int, default=8, help="fetch_concurrency of each worker")
    ap.add_argument("--delay", type=float, default=0.0, help="seconds the server waits before each answer")
    ap.add_argument("--db", default=None, help="PostgreSQL URL (default: a SQLite file per run)")
    args = ap.parse_args()

    from flows.replay.httpserve import StaticServer
    from flows.store.state import Store
    from tests.scale_site import build_sites

    shutil_tmp = tempfile.TemporaryDirectory(prefix="raqib-bench-")
    tmp = Path(shutil_tmp.name)
    config = tmp / "config"
    config.mkdir()
    for name in ("topics.yaml", "variants.yaml"):
        if (ROOT / "config" / name).exists():
            (config / name).write_bytes((ROOT / "config" / name).read_bytes())
    ctx = mp.get_context("spawn")
    with StaticServer() as server:
        server._httpd.request_queue_size = 1024  # type: ignore[attr-defined]  # a burst of connects
        site = build_sites(server.base_url, args.feeds, args.items, delay=args.delay)
        server.routes.update(site.routes)
        (config / "feeds.yaml").write_text("feeds:\n" + "".join(
            f"  - url: {u}\n    id: f{i}\n" for i, u in enumerate(site.feed_urls)), encoding="utf-8")
        (config / "settings.yaml").write_text(
            f"limits:\n  fetch_concurrency: {args.threads}\n  per_host_concurrency: {args.threads}\n"
            "  retries: 0\n", encoding="utf-8")
        print(f"{args.feeds} feeds x {args.items} items on one loopback server; {args.threads} threads per worker; "
              f"database: {'PostgreSQL' if args.db else 'SQLite'}")
        print(f"{'workers':>7} {'seconds':>8} {'feeds/min':>10} {'queries/poll':>13} {'polled once':>12} {'errors':>7}")
        for n in args.workers:
            db_url, drop = _fresh_db(args.db, tmp)
            # Schema and feed rows first, outside the timing: a deployment's steady state.
            store = Store(db_url)
            store.sync_feeds((f"f{i}", u, None) for i, u in enumerate(site.feed_urls))
            store.close()
            before = len(server.paths_requested())
            out = ctx.Queue()
            start_at = time.time() + 6.0  # room for the spawned workers to import
            procs = [ctx.Process(target=_worker, args=(str(config), db_url, start_at, out)) for _ in range(n)]
            for p in procs:
                p.start()
            results = [out.get(timeout=1800) for _ in procs]
            for p in procs:
                p.join()
            wall = max(r["t1"] for r in results) - min(r["t0"] for r in results)
            polled = Counter(f for r in results for f in r["polled"])
            once = len(polled) == args.feeds and set(polled.values()) == {1}
            requests = len(server.paths_requested()) - before
            total = sum(polled.values())
            qpp = sum(r["queries"] for r in results) / max(1, total)
            print(f"{n:>7} {wall:>8.1f} {total / wall * 60:>10.0f} {qpp:>13.2f} "
                  f"{'yes' if once and requests == args.feeds else 'NO'!s:>12} {sum(r['errors'] for r in results):>7}"
                  f"   (per worker: {', '.join(str(len(r['polled'])) for r in results)})")
            if drop:
                drop()
    shutil_tmp.cleanup()


if __name__ == "__main__":
    main()
