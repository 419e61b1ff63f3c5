"""Scale-out: worker processes sharing one database never do the same work, and a worker killed
while it holds a lease loses nothing. Real processes (`python -m flows.worker`), real loopback
sites, real SQLite and PostgreSQL (PostgreSQL only when RAQIB_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import select

from tests.pgschema import pg_schema_url
from flows.replay.httpserve import Route, StaticServer
from flows.store.state import Store, feeds, items, outbox
from tests.conftest import ROOT
from tests.scale_site import build_sites, delayed



@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database: a SQLite file, or a new PostgreSQL schema (dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'raqib.db'}"
        return
    with pg_schema_url("scale", "set RAQIB_TEST_POSTGRES_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) "
                                "to run the scale tests on PostgreSQL") as url:
        yield url


def _config(config_dir: Path, feed_urls: list[str], host: str, hook: StaticServer, lease: float = 600) -> None:
    (config_dir / "feeds.yaml").write_text(
        "feeds:\n" + "".join(f"  - url: {u}\n    name: site-{i}\n    id: site-{i}\n" for i, u in enumerate(feed_urls)),
        encoding="utf-8")
    (config_dir / "alerts.yaml").write_text(
        f"channels:\n  - name: hook\n    url: 'json://127.0.0.1:{hook.port}/alerts'\n", encoding="utf-8")
    (config_dir / "settings.yaml").write_text(
        "max_age_hours: 0\n"
        f"allow_hosts: ['{host}']\n"
        "limits:\n  fetch_concurrency: 4\n  per_host_concurrency: 2\n  read_timeout: 30\n  total_timeout: 60\n"
        f"polling:\n  lease_seconds: {lease}\n", encoding="utf-8")


def _worker(config_dir: Path, db_url: str, go: Path | None = None) -> subprocess.Popen[str]:
    """`python -m flows.worker` (a scheduled run: feeds that are due) on the shared database; waits
    for ``go`` to exist first, so that processes started one after the other begin together."""
    # The matcher is compiled once before the wait (its first compile imports the stemmer, ~1 s),
    # so the two processes really start their cycles together, however loaded the machine is.
    code = ("import os, sys, time, pathlib\n"
            "from flows import worker\n"
            "from flows.match import Matcher\n"
            "Matcher.from_config_dir(pathlib.Path(sys.argv[3]))\n"
            "go = sys.argv[1]\n"
            "if go: pathlib.Path(go + '.ready.' + str(os.getpid())).touch()\n"
            "while go and not pathlib.Path(go).exists(): time.sleep(0.02)\n"
            "raise SystemExit(worker.main(sys.argv[2:]))\n")
    env = {**os.environ, "RAQIB_DATABASE_URL": db_url}
    return subprocess.Popen([sys.executable, "-c", code, str(go or ""), "--config", str(config_dir)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _result(proc: subprocess.Popen[str], timeout: float = 180) -> dict:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def _posts_per_headline(hook: StaticServer, headlines: list[str]) -> Counter[str]:
    got: Counter[str] = Counter()
    for body in hook.json_posts():
        message = body.get("message", "")
        for h in headlines:
            if f"[{h}](" in message:  # the message's own headline link, not an update line naming it
                got[h] += 1
    return got


def _article_fetches(server: StaticServer) -> Counter[str]:
    return Counter(p for p in server.paths_requested() if "/articles/" in p)


def _item_states(db_url: str) -> tuple[Counter[str], Counter[str]]:
    store = Store(db_url)
    try:
        with store.engine.connect() as conn:
            states = Counter(conn.execute(select(items.c.state)).scalars())
            sent = Counter(conn.execute(select(outbox.c.status)).scalars())
    finally:
        store.close()
    return states, sent


def test_two_workers_at_once_process_every_item_and_send_every_alert_exactly_once(
        tmp_path: Path, config_dir: Path, db_url: str, webhook: StaticServer) -> None:
    with StaticServer() as server:
        site = build_sites(server.base_url, n_sites=20, items_per_site=3, delay=0.05)
        server.routes.update(site.routes)
        _config(config_dir, site.feed_urls, server.base_url.split("//", 1)[1], webhook)
        Store(db_url).close()  # migrate once, before the race
        go = tmp_path / "go"
        procs = [_worker(config_dir, db_url, go) for _ in range(2)]
        deadline = time.monotonic() + 120  # both processes import and compile, then wait for the start
        while len(list(tmp_path.glob("go.ready.*"))) < 2:
            assert time.monotonic() < deadline and all(p.poll() is None for p in procs), "workers never got ready"
            time.sleep(0.05)
        go.touch()
        results = [_result(p) for p in procs]

        # Both workers took part, and between them polled each feed and processed each item once.
        assert all(r["polled"] for r in results), results
        assert all(r["processed"] for r in results), results
        polled = Counter(f for r in results for f in r["polled"])
        assert sorted(polled) == sorted(f"site-{i}" for i in range(20)) and set(polled.values()) == {1}
        assert sum(r["processed"] for r in results) == 60
        feed_polls = Counter(p for p in server.paths_requested() if p.endswith("/feed.xml"))
        assert len(feed_polls) == 20 and set(feed_polls.values()) == {1}
        fetches = _article_fetches(server)
        assert len(fetches) == 60 and set(fetches.values()) == {1}, fetches.most_common(3)

    matching = [h for h, topic in site.expected.items() if topic]
    assert len(matching) == 20
    per_item = _posts_per_headline(webhook, list(site.expected))
    assert {h: per_item[h] for h in matching} == {h: 1 for h in matching}
    assert sum(per_item.values()) == len(matching) == len(webhook.posts)
    assert sum(r["sent"] for r in results) == 20
    states, sent = _item_states(db_url)
    assert states == {"done": 60} and sent == {"sent": 20}


def test_worker_killed_holding_a_feed_lease_loses_nothing(tmp_path: Path, config_dir: Path, db_url: str,
                                                          webhook: StaticServer) -> None:
    """Worker A is SIGKILLed inside the poll of a feed whose server hangs. Worker B, started at
    once, leaves that feed alone (still leased) and finishes the rest; after the lease expires,
    worker C polls it and its items alert once."""
    lease = 30.0  # worker B must start and finish its cycle inside it, on a loaded machine too
    release = threading.Event()
    with StaticServer() as server:
        site = build_sites(server.base_url, n_sites=4, items_per_site=3)
        hang_path = "/s0/feed.xml"
        feed_route = site.routes[hang_path]
        assert isinstance(feed_route, Route)

        def hang_until_released(h) -> None:  # type: ignore[no-untyped-def]
            release.wait(120)
            try:
                delayed(feed_route, 0)(h)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the worker that asked was killed

        site.routes[hang_path] = hang_until_released
        server.routes.update(site.routes)
        _config(config_dir, site.feed_urls, server.base_url.split("//", 1)[1], webhook, lease=lease)
        Store(db_url).close()

        a = _worker(config_dir, db_url)
        deadline = time.monotonic() + 60
        while hang_path not in server.paths_requested():
            assert time.monotonic() < deadline and a.poll() is None, "worker A never reached the hanging feed"
            time.sleep(0.05)
        killed_at = time.monotonic()
        os.killpg(a.pid, signal.SIGKILL)
        a.wait(10)
        release.set()  # the site works again; only the dead worker's lease still holds the feed

        store = Store(db_url)
        with store.engine.connect() as conn:
            owner, until = conn.execute(select(feeds.c.lease_owner, feeds.c.lease_until)
                                        .where(feeds.c.key == "site-0")).one()
        store.close()
        assert owner and f":{a.pid}:" in owner and until is not None  # A died holding the lease

        b = _result(_worker(config_dir, db_url))
        assert time.monotonic() - killed_at < lease, "worker B started too late to see the lease held"
        assert "site-0" not in b["polled"]
        assert server.paths_requested().count(hang_path) == 1

        time.sleep(max(0.0, killed_at + lease + 0.5 - time.monotonic()))
        c = _result(_worker(config_dir, db_url))
        # C takes site-0, and any other feed A died holding (A leases a batch of feeds at a time).
        assert "site-0" in c["polled"] and not set(b["polled"]) & set(c["polled"])
        assert b["processed"] + c["processed"] == 12
        fetches = _article_fetches(server)
        assert len(fetches) == 12 and set(fetches.values()) == {1}

    matching = [h for h, topic in site.expected.items() if topic]
    per_item = _posts_per_headline(webhook, list(site.expected))
    assert {h: per_item[h] for h in matching} == {h: 1 for h in matching}
    assert len(webhook.posts) == len(matching) == 4
    assert any(h.startswith("نشرة الموقع 0 ") for h in matching)  # the killed feed had an alert to give
    states, sent = _item_states(db_url)
    assert states == {"done": 12} and sent == {"sent": 4}


# -- adaptive polling and politeness --------------------------------------------------------

def test_interval_halves_with_news_doubles_without_and_errors_back_off() -> None:
    from flows.store.claims import error_delay, next_interval
    from flows.config import Polling

    p = Polling(min_interval_minutes=5, max_interval_minutes=60)
    assert next_interval(None, 3, p) == 300  # a new feed starts at the minimum
    assert next_interval(1200, 0, p) == 2400 and next_interval(2400, 0, p) == 3600  # capped at max
    assert next_interval(1200, 1, p) == 600 and next_interval(400, 1, p) == 300
    assert [error_delay(n, None, p) for n in (1, 2, 3, 10)] == [300, 600, 1200, 3600]
    assert error_delay(1, 900, p) == 900  # Retry-After is honoured ...
    assert error_delay(1, 10 ** 6, p) == 3600  # ... up to the maximum interval


def _busy_counter(route: Route, seconds: float, seen: dict[str, int], lock: threading.Lock):
    def answer(h) -> None:  # type: ignore[no-untyped-def]
        with lock:
            seen["now"] += 1
            seen["max"] = max(seen["max"], seen["now"])
        try:
            delayed(route, seconds)(h)
        finally:
            with lock:
                seen["now"] -= 1
    return answer


def test_scheduled_runs_poll_feeds_when_due_and_at_most_k_at_once_per_host(tmp_path: Path, config_dir: Path,
                                                                           webhook: StaticServer) -> None:
    import logging

    from flows import pipeline
    from flows.config import load_config
    from flows.sources.fetch import make_client
    from flows.store.state import utcnow

    seen = {"now": 0, "max": 0}
    lock = threading.Lock()
    with StaticServer() as server:
        site = build_sites(server.base_url, n_sites=6, items_per_site=1)
        for path, route in list(site.routes.items()):
            if path.endswith("/feed.xml"):
                site.routes[path] = _busy_counter(route, 0.2, seen, lock)  # type: ignore[arg-type]
        site.routes["/busy/feed.xml"] = lambda h: (h.send_response(503), h.send_header("Retry-After", "7200"),
                                                   h.send_header("Content-Length", "0"), h.end_headers())
        server.routes.update(site.routes)
        _config(config_dir, [*site.feed_urls, server.base_url + "/busy/feed.xml"],
                server.base_url.split("//", 1)[1], webhook)
        (config_dir / "settings.yaml").write_text(
            "limits:\n  fetch_concurrency: 8\n  per_host_concurrency: 2\n  retries: 0\n"
            "polling:\n  min_interval_minutes: 10\n  max_interval_minutes: 600\n", encoding="utf-8")
        cfg = load_config(config_dir)
        store = Store(f"sqlite:///{tmp_path / 'raqib.db'}")
        log = logging.getLogger("raqib.test.scale")
        with make_client(cfg.settings.limits, "raqib-test") as client:
            first = pipeline.poll_all(store, cfg, client, log, due_only=True)
            assert len(first) == 7 and seen["max"] == 2  # six slow feeds on one host: two at a time
            assert pipeline.poll_all(store, cfg, client, log, due_only=True) == []  # nothing is due yet
            assert len(pipeline.poll_all(store, cfg, client, log)) == 7  # a forced run (raqib run --all)
        rows = {r["key"]: r for r in store.feed_rows()}
        store.close()
    now = utcnow()
    busy = rows["site-6"]
    assert busy["consecutive_errors"] == 2 and busy["next_poll_at"] > now + timedelta(seconds=7000)
    fresh = rows["site-0"]
    # first poll brought news (stays at the 10-minute minimum), the forced one none (doubled)
    assert fresh["poll_interval_s"] == 1200
    assert now + timedelta(minutes=19) < fresh["next_poll_at"] <= now + timedelta(minutes=20)
    assert fresh["lease_owner"] is None and fresh["lease_until"] is None  # released after the poll
