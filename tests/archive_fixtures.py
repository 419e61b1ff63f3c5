"""Shared by the archive and feedback tests: a state database filled by a real cycle over the seeds
(loopback site, trafilatura, matcher, SQLite; no Prefect), and a page raqib never saw."""

from __future__ import annotations

import atexit
import logging
import shutil
import tempfile
from pathlib import Path

from flows import pipeline
from flows.config import FeedConfig, load_config
from flows.match import Matcher
from flows.replay.httpserve import Route, StaticServer
from flows.replay.replay_site import build_site
from flows.sources.fetch import make_client
from flows.sources.guard import make_guard
from flows.store.state import Store

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
LOG = logging.getLogger("raqib.test")

# Written for these tests: a report of the kind analysts say raqib missed.
MISSED_TITLE = "جنود من بيونغ يانغ على جبهة كورسك"
MISSED_BODY = (
    "قالت مصادر عسكرية في سيول اليوم إن وحدات من الجيش الكوري الشمالي باتت تقاتل على جبهة كورسك "
    "إلى جانب الجيش الروسي، وإن عدد هؤلاء الجنود تجاوز عشرة آلاف.",
    "وأضافت المصادر أن بيونغ يانغ أرسلت دفعة ثانية من الجنود الشهر الماضي.",
)
MISSED_PATH = "/world/missed-report.html"


def missed_page() -> Route:
    paras = "".join(f"<p>{p}</p>" for p in MISSED_BODY)
    html = (f"<!doctype html><html lang='ar' dir='rtl'><head><meta charset='utf-8'><title>{MISSED_TITLE}</title>"
            f"</head><body><article><h1>{MISSED_TITLE}</h1>{paras}</article></body></html>")
    return Route("text/html; charset=utf-8", html.encode("utf-8"))


def seed_site() -> StaticServer:
    server = StaticServer().start()
    server.routes.update(build_site(SEEDS, server.base_url))
    server.routes[MISSED_PATH] = missed_page()
    return server


def fill_state(state_dir: Path, config_dir: Path, site: StaticServer) -> Store:
    """Run one cycle of the seed site into ``state_dir``/raqib.db; returns the open Store."""
    cfg = load_config(config_dir)
    matcher = Matcher.from_config_dir(config_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    store = Store(f"sqlite:///{state_dir / 'raqib.db'}")
    feeds = [FeedConfig(url=site.base_url + "/feed.xml", name="seeds", id="seeds")]
    guard = make_guard([site.base_url.split("//", 1)[1]])
    with make_client(cfg.settings.limits, "raqib-test") as client:
        pipeline.poll_all(store, cfg, client, LOG, feeds=feeds, ignore_age=True)
        pipeline.process_pending(store, cfg, client, matcher, LOG, guard=guard)
    return store


def alerted(store: Store) -> dict[tuple[str, str], int]:
    """{(seed stem, topic): item id} of the alerts in the state."""
    out = {}
    for row in store.matched_items():
        for topic in row["alerted"]:
            out[(Path(row["link"]).stem, topic)] = row["id"]
    return out


def link_of(store: Store, stem: str) -> str:
    return next(r["link"] for r in store.matched_items() if Path(r["link"]).stem == stem)


_shared: dict[str, object] = {}


def shared_site() -> StaticServer:
    """One seed site for the whole test session (stopped at exit)."""
    if "site" not in _shared:
        _shared["site"] = site = seed_site()
        atexit.register(site.stop)
    return _shared["site"]  # type: ignore[return-value]


def filled_copy(state_dir: Path, config_dir: Path) -> Store:
    """A copy of one state filled once per session from `shared_site()` (the cycle costs seconds);
    for tests whose channels do not matter (no outbox is delivered from it)."""
    if "db" not in _shared:
        tmp = Path(tempfile.mkdtemp(prefix="raqib-archive-state-"))
        atexit.register(shutil.rmtree, tmp, True)
        fill_state(tmp, config_dir, shared_site()).close()  # closing checkpoints the WAL into the file
        _shared["db"] = tmp / "raqib.db"
    state_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_shared["db"], state_dir / "raqib.db")  # type: ignore[arg-type]
    return Store(f"sqlite:///{state_dir / 'raqib.db'}")
