"""Where raqib stands against its limits: one command, a table of figures beside their targets.

Usage (from the repository root):  .venv/bin/python bench/run_all.py [--quick] [--profile]

Figures (each measured in this run; ratios are of figures of the same run):
- throughput: one cycle (poll, fetch, extract, match, store, alert to a loopback json:// webhook)
  over 1,000 new articles in 20 feeds, articles/s, beside bare ``trafilatura.extract`` over the
  same pages on both cores (a 2-process pool); the cycle runs the plain pipeline functions (as
  tests/test_pipeline.py does) in a fresh subprocess, whose peak RSS is the memory figure;
- scaling: the same cycle over 100 and 300 articles too (chart ``bench/results/scaling.png``);
- idle: the Prefect flow ``ingest`` over 100 feeds that all answer 304 (server already up);
- start-up: ``raqib replay`` on a fresh state and ``raqib run --all`` over an unchanged feed
  (subprocesses; bench/bench_start.py), with no Prefect server and with one running;
- history: a 100-article cycle on an empty state and on a copy holding 100,000 items (processed
  over the last 100 days, ~2,000 of them within the 48 h story window);
- latency (skipped with ``--quick``): ``raqib serve --interval 1`` on a fresh state; an item is
  added to the feed just after a poll (the worst case); time until its email reaches a loopback
  aiosmtpd server;
- matcher: articles/s on one core with 3, 30 and 300 topics (bench/bench_match.py's functions).
Everything is on loopback; every wait is bounded. ``--profile`` also writes a cProfile of the
1,000-article cycle to bench/results/cycle.prof (and prints its top functions).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flows.replay.httpserve import free_port  # noqa: E402  (after the path set-up above)

RESULTS = ROOT / "bench" / "results"
PY = sys.executable


def _config_dir(tmp: Path, *, channels: str = "", feeds: str = "", settings: str = "") -> Path:
    dst = tmp / "config"
    shutil.copytree(ROOT / "config", dst)
    (dst / "alerts.yaml").write_text(f"channels:\n{channels}" if channels else "channels: []\n", encoding="utf-8")
    (dst / "feeds.yaml").write_text(f"feeds:\n{feeds}" if feeds else "feeds: []\n", encoding="utf-8")
    if settings:
        (dst / "settings.yaml").write_text(settings, encoding="utf-8")
    return dst


def _child(mode: str, payload: dict, timeout: float = 900, profile: bool = False, pyspy: str | None = None) -> dict:
    cmd = [PY, str(Path(__file__).resolve()), "--child", mode, json.dumps(payload)]
    if profile:
        cmd.insert(-3, "--profile")
    if pyspy:  # sample the child with py-spy (folded stacks), if py-spy is installed next to python
        # "*.main.*": the main process alone, only threads holding the GIL (what its Python burns;
        # threads waiting on a socket are not counted); else every process, busy or waiting.
        who = ["--gil"] if ".main." in pyspy else ["--subprocesses"]
        cmd = [str(Path(PY).parent / "py-spy"), "record", "--format", "raw", "--rate", "200", "--nonblocking",
               *who, "-o", str(RESULTS / pyspy), "--", *cmd]
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if res.returncode != 0:
        raise RuntimeError(f"child {mode} failed:\n{res.stderr[-4000:]}")
    return json.loads([ln for ln in res.stdout.splitlines() if ln.startswith("{")][-1])


# ------------------------------------------------------------------------ child: one plain cycle

def _hwm_mb(pid: int | str = "self") -> float:
    """Peak resident set of a process (VmHWM: this process image's own, unlike ru_maxrss, which
    keeps the high-water mark of the parent it was forked from across exec)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _children(pid: int | str) -> set[int]:
    """The live children of a process (of each of its threads; cheap, no /proc walk)."""
    out: set[int] = set()
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return out
    for t in tasks:
        try:
            out.update(int(c) for c in (t / "children").read_text().split())
        except OSError:
            continue
    return out


def _descendants(pid: int | str) -> set[int]:
    found: set[int] = set()
    todo = [pid]
    while todo:
        kids = _children(todo.pop()) - found
        found |= kids
        todo.extend(kids)
    return found


def _cpu_with_reaped(pid: int) -> float:
    """CPU seconds of a live process and of the children it has reaped (utime, stime, cutime, cstime)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _live_children_cpu(wait: float = 0.0) -> dict[int, float]:
    """CPU of this process's live children (a fork server, a resource tracker) with what they
    reaped: the extraction workers of a fork server are its children, not this process's. With
    ``wait``, first give those grandchildren up to ``wait`` seconds to exit and be reaped."""
    me = os.getpid()
    deadline = time.monotonic() + wait
    while wait and time.monotonic() < deadline and _descendants(me) - _children(me):
        time.sleep(0.02)
    return {pid: _cpu_with_reaped(pid) for pid in _children(me)}


class _ChildRss:
    """Samples the peak RSS (VmHWM) of this process's descendants (the extraction workers, a fork
    server) every 0.2 s."""

    def __init__(self, interval: float = 0.2) -> None:
        import threading

        self.interval = interval
        self.peak: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for pid in _descendants(os.getpid()):
                self.peak[pid] = max(self.peak.get(pid, 0.0), _hwm_mb(pid))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return max(self.peak.values(), default=0.0)


def child_cycle(p: dict, profile: bool) -> dict:
    """Poll the feeds, process, deliver (the plain functions), timed; peak RSS at the end."""
    import logging

    from flows import pipeline
    from flows.config import FeedConfig, load_config
    from flows.text.extract import extract_article
    from flows.sources.fetch import make_client
    from flows.sources.guard import make_guard
    from flows.match import Matcher
    from flows.store.state import Store

    logging.basicConfig(level=logging.WARNING)
    log = logging.getLogger("raqib.bench")
    cfg = load_config(Path(p["config"]))
    matcher = Matcher.from_config_dir(Path(p["config"]))
    # warm the lazy imports of trafilatura/htmldate and the matcher as the bare run does
    warm = extract_article(Path(p["warm_page"]).read_text(encoding="utf-8"))
    if warm is not None:
        matcher.match(warm.text)
    store = Store(f"sqlite:///{p['db']}")
    store.item_count()
    feeds = [FeedConfig(url=u, name=f"outlet {i}", id=f"outlet-{i:03d}") for i, u in enumerate(p["feeds"])]
    rss_before = _hwm_mb()
    workers_rss = _ChildRss()
    prof = None
    if profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    cpu0 = os.times()
    live0 = _live_children_cpu()
    t0, c0 = time.perf_counter(), time.process_time()
    with make_client(cfg.settings.limits, "raqib-bench") as client:
        outcomes = pipeline.poll_all(store, cfg, client, log, feeds=feeds)
        t1, c1 = time.perf_counter(), time.process_time()
        report = pipeline.process_pending(store, cfg, client, matcher, log, guard=make_guard([p["host"]]))
        t2, c2 = time.perf_counter(), time.process_time()
    sent, failed = pipeline.deliver_due(store, cfg, log)
    t3 = time.perf_counter()
    cpu1 = os.times()
    c3 = time.process_time()
    live1 = _live_children_cpu(wait=5.0)
    live_cpu = sum(v - live0.get(pid, 0.0) for pid, v in live1.items())
    if prof is not None:
        prof.disable()
        prof.dump_stats(p["profile_out"])
    store.close()
    return {"seconds": t3 - t0, "poll": t1 - t0, "process": t2 - t1, "deliver": t3 - t2,
            # CPU seconds of this process in each stage (the extraction processes' are apart)
            "cpu_main_poll": c1 - c0, "cpu_main_process": c2 - c1, "cpu_main_deliver": c3 - c2,
            "new": sum(o.new_items for o in outcomes), "processed": report.processed,
            "duplicates": report.duplicates, "same_story": report.same_story,
            "page_failures": report.page_failures, "alerts": len(report.alerts), "sent": sent, "failed": failed,
            # CPU seconds of the cycle: this process, and its extraction processes (reaped at the
            # end, or by a fork server, which is counted with them)
            "cpu_main": (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system),
            "cpu_workers": (cpu1.children_user + cpu1.children_system) - (cpu0.children_user + cpu0.children_system)
            + live_cpu,
            "rss_before_mb": rss_before, "peak_rss_mb": _hwm_mb(), "peak_worker_rss_mb": workers_rss.stop(),
            "workers_seen": len(workers_rss.peak)}


def _bare_one(html: str) -> int:
    import trafilatura

    return len(trafilatura.extract(html) or "")


def bare_cpu_per_page(pages: list[str]) -> float:
    """CPU seconds of one bare ``trafilatura.extract`` per page, in this process (warmed): what a
    core spends whatever else the machine runs."""
    import trafilatura

    trafilatura.extract(pages[0])
    t0 = time.process_time()
    for html in pages:
        trafilatura.extract(html)
    return (time.process_time() - t0) / len(pages)


def bare_extraction(pages: list[str], workers: int = 2) -> float:
    """Articles/s of bare trafilatura.extract over ``pages`` on ``workers`` processes (warmed)."""
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_bare_one, pages[:workers * 2]))  # warm both workers
        t0 = time.perf_counter()
        list(pool.map(_bare_one, pages, chunksize=8))
        return len(pages) / (time.perf_counter() - t0)


def run_cycle_bench(n: int, n_feeds: int, tmp: Path, profile: bool = False, db: Path | None = None,
                    pyspy: str | None = None) -> dict:
    from bench import corpus
    from flows.replay.httpserve import StaticServer

    hook = StaticServer().start()  # the json:// sink: counts POSTs
    with StaticServer() as site:
        routes, _arts, pages = corpus.build(n, n_feeds, site.base_url)
        site.routes.update(routes)
        work = Path(tempfile.mkdtemp(dir=tmp))
        cfg = _config_dir(work, channels=f"  - name: hook\n    url: 'json://127.0.0.1:{hook.port}/alerts'\n")
        warm = work / "warm.html"
        warm.write_bytes(next(iter(pages.values())))
        if db is None:
            db = work / "raqib.db"
        payload = {"config": str(cfg), "db": str(db), "host": site.base_url.split("//", 1)[1],
                   "feeds": [site.base_url + corpus.feed_path(f) for f in range(n_feeds)],
                   "warm_page": str(warm), "profile_out": str(RESULTS / "cycle.prof")}
        served = time.process_time()  # this process serves the pages and the webhook meanwhile
        out = _child("cycle", payload, profile=profile, pyspy=pyspy)
        out["cpu_server"] = time.process_time() - served
        fetched = sum(1 for r in site.paths_requested() if r.startswith("/articles/"))
        out["pages_fetched"] = fetched
        out["page_kb"] = [round(x / 1024) for x in corpus.sizes(pages)]
    hook.stop()
    out["webhook_posts"] = len(hook.posts)
    return out


# ------------------------------------------------------------------------ history

def seed_history(db: Path, n_items: int, feed_keys: int = 20) -> float:
    """Insert n_items processed items (random fingerprints, 5% with an alert and a sent outbox row)."""
    import random
    from datetime import timedelta

    from bench import corpus
    from flows.store.state import Store, alerts, feeds, item_texts, items, outbox, utcnow
    from flows.alerts.stories import Fingerprint

    t0 = time.perf_counter()
    store = Store(f"sqlite:///{db}")
    rng = random.Random(corpus.RNG_SEED)
    texts = [a.text for a in corpus.articles(50, 1)]
    now = utcnow()
    with store.engine.begin() as conn:
        conn.execute(feeds.insert(), [{"key": f"history-{k:03d}", "url": f"http://127.0.0.1:9/h{k}.xml",
                                       "name": f"history {k}", "created_at": now, "consecutive_errors": 0,
                                       "dead": False} for k in range(feed_keys)])
        fids = [r[0] for r in conn.execute(feeds.select().with_only_columns(feeds.c.id))]
    span = timedelta(days=100).total_seconds()
    batch = 10_000
    next_id = 1
    for start in range(0, n_items, batch):
        rows, arows, orows, trows = [], [], [], []
        for k in range(start, min(n_items, start + batch)):
            when = now - timedelta(seconds=rng.random() * span)
            fp = Fingerprint(tuple(sorted({rng.getrandbits(32) for _ in range(rng.randint(60, 200))})), (), (), ())
            topics = ["two_plus_two"] if k % 20 == 0 else []
            rows.append({"id": next_id, "feed_id": fids[k % len(fids)], "key": f"http://127.0.0.1:9/a/{k}",
                         "link": f"http://127.0.0.1:9/a/{k}", "title": f"خبر رقم {k}", "summary": "",
                         "published_at": when, "polled_at": when, "state": "done", "attempts": 0,
                         "content_hash": f"{rng.getrandbits(256):064x}",
                         "sitename": None, "topics": json.dumps(topics), "matched_at": when,
                         "fingerprint": fp.to_str(), "story_id": next_id})
            trows.append({"item_id": next_id, "text": texts[k % len(texts)]})
            if topics:
                arows.append({"item_id": next_id, "topic": "two_plus_two", "topic_name": "2+2",
                              "evidence": "[]", "score": 1.0, "created_at": when})
                orows.append({"item_id": next_id, "channel": "hook", "topics": json.dumps(topics), "status": "sent",
                              "attempts": 1, "created_at": when, "sent_at": when})
            next_id += 1
        with store.engine.begin() as conn:
            conn.execute(items.insert(), rows)
            conn.execute(item_texts.insert(), trows)
            if arows:
                conn.execute(alerts.insert(), arows)
                conn.execute(outbox.insert(), orows)
    store.close()
    return time.perf_counter() - t0


def history(tmp: Path) -> dict[int, float]:
    """The same 100-article cycle on an empty state and on 100,000 items, twice each (best of two)."""
    base = tmp / "hist-base.db"
    from flows.store.state import Store
    Store(f"sqlite:///{base}").close()
    empty = tmp / "hist-empty.db"
    shutil.copy(base, empty)
    secs = seed_history(base, 100_000)
    print(f"history: 100,000 items inserted in {secs:.1f} s", flush=True)
    hist: dict[int, float] = {}
    for n_items, src in ((0, empty), (100_000, base), (0, empty), (100_000, base)):
        db = tmp / f"hist-run-{n_items}.db"
        shutil.copy(src, db)
        r = run_cycle_bench(100, 20, tmp, db=db)
        cpu = r["cpu_main"] + r["cpu_workers"]
        print(f"history: {n_items} items: {r['seconds']:.2f} s, CPU {cpu:.2f} s (main {r['cpu_main']:.2f} s)", flush=True)
        hist[n_items] = min(hist.get(n_items, 1e9), r["seconds"])
        hist[-1 - n_items] = min(hist.get(-1 - n_items, 1e9), cpu)  # CPU seconds, keyed -1 and -100,001
        db.unlink()
    return hist


# ------------------------------------------------------------------------ idle (Prefect flow, 304)

def child_idle(p: dict, profile: bool) -> dict:
    from bench import corpus
    from flows.replay.httpserve import Route, StaticServer
    from flows.replay.replay_site import ReplayItem, render_feed
    from flows.runtime import prepare_prefect_env

    tmp = Path(p["tmp"])
    state = tmp / "state"
    prepare_prefect_env(state)
    arts = corpus.articles(20, 1)
    with StaticServer() as site:
        from datetime import datetime, timedelta, timezone

        old = datetime(2024, 11, 1, tzinfo=timezone.utc)  # older than max_age_hours: recorded, never fetched
        feeds_yaml = ""
        for f in range(100):
            items = [ReplayItem(f"{f:03d}-{a.stem}", a.title, a.text, old - timedelta(hours=i))
                     for i, a in enumerate(arts)]
            site.routes[f"/feeds/{f:03d}.xml"] = Route("application/rss+xml; charset=utf-8",
                                                       render_feed(items, site.base_url, corpus.SITE))
            feeds_yaml += f"  - url: {site.base_url}/feeds/{f:03d}.xml\n    name: outlet {f}\n    id: outlet-{f:03d}\n"
        cfg = _config_dir(tmp, feeds=feeds_yaml)
        from flows.ingest import ingest

        t0 = time.perf_counter()
        first = ingest(config_dir=str(cfg), state_dir=str(state))
        t1 = time.perf_counter()
        before = len(site.paths_requested())
        # all_feeds: poll every feed again now, although none is due yet (adaptive polling would
        # otherwise skip them all, which is cheaper still but not the 304 path measured here).
        second = ingest(config_dir=str(cfg), state_dir=str(state), all_feeds=True)
        t2 = time.perf_counter()
        req = site.requests[before:]
        # the same cycle without Prefect, for the share Prefect adds
        import logging

        from flows import pipeline
        from flows.config import load_config
        from flows.sources.fetch import make_client
        from flows.store.state import Store

        c = load_config(cfg)
        store = Store.open(state)
        t3 = time.perf_counter()
        with make_client(c.settings.limits, "raqib-bench") as client:
            outs = pipeline.poll_all(store, c, client, logging.getLogger("raqib.bench"))
            pipeline.process_pending(store, c, client, None, logging.getLogger("raqib.bench"))  # type: ignore[arg-type]
        pipeline.deliver_due(store, c, logging.getLogger("raqib.bench"))
        t4 = time.perf_counter()
        store.close()
    statuses = sorted({f["status"] for f in second["feeds_list"]})
    return {"first_s": t1 - t0, "idle_s": t2 - t1, "plain_s": t4 - t3, "statuses": statuses,
            "first_new": first["new_items"], "requests": len(req),
            "pages_fetched": sum(1 for r in req if r.path.startswith("/articles/")),
            "not_304": sum(1 for o in outs if o.status != "not_modified")}


# ------------------------------------------------------------------------ latency (serve + SMTP)

def latency(tmp: Path) -> dict:
    from aiosmtpd.controller import Controller

    from bench import corpus
    from flows.replay.httpserve import Route, StaticServer
    from flows.replay.replay_site import ReplayItem, article_path, render_feed, render_page

    arrived: list[float] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
            arrived.append(time.monotonic())
            return "250 OK"

    smtp_port = free_port()
    ctl = Controller(Handler(), hostname="127.0.0.1", port=smtp_port)
    ctl.start()
    site = StaticServer().start()
    from datetime import datetime, timezone

    def feed_route(items: list) -> None:
        site.routes["/feed.xml"] = Route("application/rss+xml; charset=utf-8",
                                         render_feed(items, site.base_url, corpus.SITE))

    def feed_hits() -> list[float]:
        return site.times_requested("/feed.xml")

    feed_route([])
    host = site.base_url.split("//", 1)[1]
    cfg = _config_dir(
        tmp, feeds=f"  - url: {site.base_url}/feed.xml\n    name: live\n    id: live\n",
        channels=f"  - name: mail\n    url: 'mailto://127.0.0.1:{smtp_port}?from=raqib@example.org&to=desk@example.org'\n",
        # The feed is polled every 60 s: adaptive polling held at one minute both ways.
        settings=f"allow_hosts: ['{host}']\npolling:\n  min_interval_minutes: 1\n  max_interval_minutes: 1\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    proc = subprocess.Popen([str(Path(PY).parent / "raqib"), "serve", "--config", str(cfg), "--state",
                             str(tmp / "state"), "--interval", "1", "--port", str(free_port())],
                            cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    t_start = time.monotonic()
    out: dict = {}
    try:
        deadline = t_start + 240
        while not feed_hits() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        if not feed_hits():
            raise RuntimeError("raqib serve never polled the feed")
        out["first_poll_after_start_s"] = feed_hits()[0] - t_start
        time.sleep(1.0)  # just after a poll: the worst case for the next one
        from flows.match import Matcher

        matcher = Matcher.from_config_dir(cfg)
        art = next(a for a in corpus.articles(60, 1) if matcher.match(a.text, title=a.title))  # fires a topic
        item = ReplayItem("live-1", art.title, art.text, datetime.now(timezone.utc).replace(microsecond=0))
        site.routes[article_path(item)] = Route("text/html; charset=utf-8", render_page(item, corpus.SITE, []))
        polls_before = len(feed_hits())
        t_item = time.monotonic()
        feed_route([item])
        deadline = t_item + 200
        while not arrived and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        if arrived:
            out["latency_s"] = arrived[0] - t_item
            hits = feed_hits()
            nxt = hits[polls_before] if len(hits) > polls_before else None
            out["wait_for_poll_s"] = (nxt - t_item) if nxt else None
            out["poll_to_email_s"] = (arrived[0] - nxt) if nxt else None
        else:
            out["latency_s"] = None
        hits = feed_hits()
        gaps = [b - a for a, b in zip(hits, hits[1:])]
        out["poll_gaps_s"] = [round(g, 1) for g in gaps]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        site.stop()
        ctl.stop()
    return out


# ------------------------------------------------------------------------ matcher

def matcher_figures(seconds: float = 1.5) -> dict:
    import yaml

    from bench import corpus
    from bench.bench_match import measure, synthetic
    from flows.match import Matcher
    from flows.match.schema import TopicsFile, VariantsFile

    raw = yaml.safe_load((ROOT / "config" / "topics.yaml").read_text(encoding="utf-8"))
    variants = VariantsFile.model_validate(yaml.safe_load((ROOT / "config" / "variants.yaml").read_text(encoding="utf-8")))
    texts = [a.text for a in corpus.articles(200, 1)]
    out = {}
    for n in (3, 30, 300):
        m = Matcher.from_spec(TopicsFile.model_validate(synthetic(raw, n, "distinct")), variants)
        for t in texts:
            m.match(t)
        warm, _ = measure(m, texts, seconds, cold=False)
        cold, _ = measure(m, texts, seconds, cold=True)
        out[n] = {"warm": warm, "cold": cold}
    return out


# ------------------------------------------------------------------------ chart

def chart(scaling: list[tuple[int, float]], bare: float, match: dict, hist: dict, path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib is not installed: no chart)")
        return
    fig, ax = plt.subplots(1, 3, figsize=(13, 4))
    xs = [n for n, _ in scaling]
    ax[0].plot(xs, [r for _, r in scaling], "o-", label="raqib cycle")
    ax[0].axhline(bare, color="gray", ls="--", label="bare trafilatura.extract (2 cores)")
    ax[0].axhline(0.9 * bare, color="red", ls=":", label="target: 0.9 × bare")
    ax[0].set(xscale="log", xlabel="new articles in the cycle (20 feeds)", ylabel="articles / s",
              title="Cycle throughput", ylim=(0, None))
    ax[0].legend(fontsize=7)
    ns = sorted(match)
    ax[1].plot(ns, [match[n]["warm"] for n in ns], "o-", label="warm token cache")
    ax[1].plot(ns, [match[n]["cold"] for n in ns], "s-", label="cold")
    ax[1].set(xscale="log", xlabel="topics", ylabel="articles / s (one core)", title="Matcher", ylim=(0, None))
    ax[1].legend(fontsize=7)
    hs = sorted(h for h in hist if h >= 0)  # negative keys hold the CPU figures
    ax[2].bar([f"{h:,}" for h in hs], [hist[h] for h in hs])
    ax[2].axhline(hist[hs[0]] * 1.1, color="red", ls=":", label="target: +10 %")
    ax[2].set(xlabel="items already in the state", ylabel="seconds per 100-article cycle", title="History")
    ax[2].legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    print(f"chart: {path.relative_to(ROOT)}")


# ------------------------------------------------------------------------ main

def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="skip the latency run (minutes)")
    ap.add_argument("--profile", action="store_true", help="cProfile the 1,000-article cycle")
    ap.add_argument("--pyspy", action="store_true", help="py-spy the 1,000-article cycle and its workers "
                                                         "(folded stacks in bench/results/cycle.pyspy.txt)")
    ap.add_argument("--pyspy-main", action="store_true", help="py-spy the 1,000-article cycle's main process, "
                    "threads holding the GIL only (bench/results/cycle.main.pyspy.txt; summary: bench/pyspy_top.py)")
    ap.add_argument("--only", default="", help="comma-separated rows to run: throughput, scaling, history, idle, "
                                                   "start, latency, matcher (default: all)")
    ap.add_argument("--child", nargs=2, metavar=("MODE", "JSON"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        mode, payload = args.child
        fn = {"cycle": child_cycle, "idle": child_idle}[mode]
        print(json.dumps(fn(json.loads(payload), args.profile)))
        return

    RESULTS.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, str, str, str]] = []
    tmp = Path(tempfile.mkdtemp(prefix="raqib-bench-"))
    try:
        print(f"cores: {os.cpu_count()}", flush=True)
        only = {w.strip() for w in args.only.split(",") if w.strip()}

        def want(row: str) -> bool:
            return not only or row in only

        scaling: list[tuple[int, float]] = []
        bare = 0.0
        if want("throughput"):
            # bare trafilatura right before and right after the cycle, on the same pages: the
            # machine is shared, so the ratio is taken against the mean of the two
            from bench import corpus

            _r, _a, corpus_pages = corpus.build(1000, 20, "http://127.0.0.1:9")
            pages = [b.decode("utf-8") for b in corpus_pages.values()]
            bare_before = bare_extraction(pages)
            del corpus_pages
            big = run_cycle_bench(1000, 20, tmp, profile=args.profile,
                                  pyspy="cycle.pyspy.txt" if args.pyspy else
                                  "cycle.main.pyspy.txt" if args.pyspy_main else None)
            bare_after = bare_extraction(pages)
            bare = (bare_before + bare_after) / 2
            bare1 = bare_extraction(pages[:300], workers=1)
            bare_cpu = bare_cpu_per_page(pages[:200])
            rate = big["processed"] / big["seconds"]
            cycle_cpu = (big["cpu_main"] + big["cpu_workers"] + big["cpu_server"]) / big["processed"]
            print("1,000-article cycle:", json.dumps({k: (round(v, 2) if isinstance(v, float) else v)
                                                       for k, v in big.items()}), flush=True)
            print(f"bare trafilatura.extract: {bare_before:.1f} art/s before the cycle, {bare_after:.1f} after", flush=True)
            kb = big["page_kb"]
            rows.append((f"throughput, 1,000 articles / 20 feeds, pages {kb[0]}-{kb[2]} KB",
                         f"{rate:.1f} art/s = {rate / bare:.2f} × bare "
                         f"({bare:.1f} art/s on 2 cores; {bare1:.1f} on 1)", "≥ 0.9 × bare",
                         "met" if rate >= 0.9 * bare else "NOT met"))
            rows.append(("CPU per article, the same cycle and pages (load-independent)",
                         f"{cycle_cpu * 1000:.1f} ms (main {big['cpu_main'] / big['processed'] * 1000:.1f}, "
                         f"extraction processes {big['cpu_workers'] / big['processed'] * 1000:.1f}, page server "
                         f"{big['cpu_server'] / big['processed'] * 1000:.1f}) vs bare {bare_cpu * 1000:.1f} ms "
                         f"= {bare_cpu / cycle_cpu:.2f} × bare", "≥ 0.9 × bare",
                         "met" if bare_cpu / cycle_cpu >= 0.9 else "NOT met"))
            worst = max(big["peak_rss_mb"], big["peak_worker_rss_mb"])
            rows.append(("memory, peak RSS of that cycle", f"{big['peak_rss_mb']:.0f} MB main process "
                         f"({big['rss_before_mb']:.0f} MB before it), {big['peak_worker_rss_mb']:.0f} MB the largest "
                         "extraction process", "< 300 MB", "met" if worst < 300 else "NOT met"))
            scaling.append((1000, rate))
        if want("scaling"):
            for n in (100, 300):
                r = run_cycle_bench(n, 20, tmp)
                scaling.append((n, r["processed"] / r["seconds"]))
                print(f"{n}-article cycle: {r['seconds']:.2f} s, {scaling[-1][1]:.1f} art/s", flush=True)
        scaling.sort()

        hist: dict[int, float] = {}
        if want("history"):
            hist = history(tmp)
            ratio = hist[100_000] / hist[0]
            cpu_ratio = hist[-100_001] / hist[-1]
            rows.append(("history, 100-article cycle, 0 vs 100,000 items",
                         f"{hist[0]:.2f} s vs {hist[100_000]:.2f} s ({(ratio - 1) * 100:+.0f} %); CPU "
                         f"{hist[-1]:.2f} s vs {hist[-100_001]:.2f} s ({(cpu_ratio - 1) * 100:+.0f} %)", "within ±10 %",
                         "met" if 0.9 <= cpu_ratio <= 1.10 else "NOT met"))

        if want("idle"):
            idle = _child("idle", {"tmp": str(Path(tempfile.mkdtemp(dir=tmp)))}, timeout=600)
            print("idle:", json.dumps(idle), flush=True)
            ok = idle["idle_s"] < 2 and idle["pages_fetched"] == 0 and idle["statuses"] == ["not_modified"]
            rows.append(("idle, 100 feeds all 304 (flow, server up)",
                         f"{idle['idle_s']:.2f} s, {idle['pages_fetched']} pages fetched "
                         f"(plain functions {idle['plain_s']:.2f} s)", "< 2 s, no page", "met" if ok else "NOT met"))

        if want("start"):
            from bench.bench_start import measure, start_server

            plain = measure(Path(tempfile.mkdtemp(dir=tmp)), repeat=2)
            proc, api = start_server(Path(tempfile.mkdtemp(dir=tmp)))
            try:
                served = measure(Path(tempfile.mkdtemp(dir=tmp)), api_url=api)
            finally:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)
            print("start-up:", json.dumps({"no server": plain, "server running": served}), flush=True)
            rows.append(("start-up, `raqib replay` of the seeds, fresh state",
                         f"{plain['replay_fresh_s']:.1f} s, no Prefect server ({served['replay_fresh_s']:.1f} s with one)",
                         "≤ 5 s", "met" if plain["replay_fresh_s"] <= 5 else "NOT met"))
            rows.append(("start-up, `raqib run --all`, feed unchanged",
                         f"{plain['run_unchanged_s']:.1f} s, no Prefect server ({served['run_unchanged_s']:.1f} s with one)",
                         "≤ 3 s", "met" if plain["run_unchanged_s"] <= 3 else "NOT met"))

        if want("latency") and not args.quick:
            lat = latency(Path(tempfile.mkdtemp(dir=tmp)))
            print("latency:", json.dumps(lat), flush=True)
            v = lat.get("latency_s")
            rows.append(("latency, feed item to email (serve, 60 s)",
                         f"{v:.1f} s (poll came {lat.get('wait_for_poll_s') or 0:.1f} s after the item; "
                         f"poll to email {lat.get('poll_to_email_s') or 0:.1f} s)" if v else "no email in 200 s",
                         "< 65 s", "met" if v and v < 65 else "NOT met"))
        elif args.quick:
            rows.append(("latency, feed item to email", "skipped (--quick)", "< 65 s", "-"))

        match: dict = {}
        if want("matcher"):
            match = matcher_figures()
            rows.append(("matcher, one core, 3 / 30 / 300 topics",
                         " / ".join(f"{match[n]['warm']:.0f}" for n in (3, 30, 300)) + " art/s warm; "
                         + " / ".join(f"{match[n]['cold']:.0f}" for n in (3, 30, 300)) + " cold", "(figure)", "-"))
        if not only:
            chart(scaling, bare, match, hist, RESULTS / "scaling.png")

        print()
        w = [max(len(r[i]) for r in rows) for i in range(4)]
        head = ("figure", "measured", "target", "")
        print(" | ".join(h.ljust(w[i]) for i, h in enumerate(head)))
        print("-+-".join("-" * x for x in w))
        for r in rows:
            print(" | ".join(c.ljust(w[i]) for i, c in enumerate(r)))
        print(f"\nscaling (articles in cycle -> art/s): {[(n, round(r, 1)) for n, r in scaling]}")
        (RESULTS / ("last_run.json" if not only else "last_partial_run.json")).write_text(json.dumps({"rows": rows, "scaling": scaling, "bare": bare,
                                                           "matcher": match, "history": hist}, indent=1,
                                                          ensure_ascii=False) + "\n", encoding="utf-8")
        if args.profile:
            import pstats

            print("\ntop of the 1,000-article cycle profile (cumulative):")
            pstats.Stats(str(RESULTS / "cycle.prof")).sort_stats("cumulative").print_stats(25)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
