"""The ingest cycle's plain functions end to end, without Prefect: real loopback feed and pages,
real trafilatura, real matcher, real SQLite, real SMTP and webhook servers."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import pytest

from flows import pipeline
from flows.config import load_config
from flows.sources.fetch import make_client
from flows.sources.guard import make_guard
from flows.replay.httpserve import StaticServer
from flows.match import Matcher
from flows.replay.replay_site import build_site
from flows.store.state import Store

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
LOG = logging.getLogger("raqib.test")


def expected_alerts() -> set[tuple[str, str]]:
    with open(SEEDS / "labels.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    topics = [c for c in rows[0] if c not in ("file", "why")]
    return {(Path(r["file"]).stem, t) for r in rows for t in topics if r[t] == "1"}


def allow(url: str):
    """The address guard, letting only this test's own loopback server through."""
    return make_guard([url.split("//", 1)[1].split("/", 1)[0]])


def run_cycle(store: Store, cfg, matcher: Matcher, feed_url: str) -> pipeline.CycleReport:
    from flows.config import FeedConfig

    feeds = [FeedConfig(url=feed_url, name="seeds", id="seeds")]
    with make_client(cfg.settings.limits, "raqib-test") as client:
        outcomes = pipeline.poll_all(store, cfg, client, LOG, feeds=feeds, ignore_age=True)
        report = pipeline.process_pending(store, cfg, client, matcher, LOG, guard=allow(feed_url))
    report.feeds = outcomes
    report.sent, report.send_failures = pipeline.deliver_due(store, cfg, LOG)
    return report


@pytest.fixture
def seed_site():
    with StaticServer() as server:
        server.routes.update(build_site(SEEDS, server.base_url))
        yield server


def test_seeds_alert_as_labelled_then_304_fetches_nothing(tmp_path: Path, config_dir: Path, seed_site,
                                                          smtp_sink, webhook) -> None:
    (config_dir / "alerts.yaml").write_text(
        "channels:\n"
        f"  - name: mail\n    url: '{smtp_sink.url()}'\n    topics: all\n"
        f"  - name: hook\n    url: 'json://127.0.0.1:{webhook.port}/alerts'\n    topics: [two_plus_two]\n",
        encoding="utf-8")
    cfg = load_config(config_dir)
    matcher = Matcher.from_config_dir(config_dir)
    store = Store(f"sqlite:///{tmp_path / 'raqib.db'}")
    feed_url = seed_site.base_url + "/feed.xml"

    report = run_cycle(store, cfg, matcher, feed_url)
    got = {(Path(a.url).stem, a.topic) for a in report.alerts}
    assert got == expected_alerts()
    assert report.feed_errors == 0 and report.send_failures == 0
    items_with_alerts = {stem for stem, _ in got}
    assert len(smtp_sink.messages) == len(items_with_alerts)  # one email per article, naming all its topics
    two_plus_two = {stem for stem, t in got if t == "two_plus_two"}
    assert len(webhook.posts) == len(two_plus_two)
    subjects = " ".join(str(m["subject"]) for m in smtp_sink.messages)
    assert "رقيب" in subjects

    pages_before = [p for p in seed_site.paths_requested() if p.startswith("/articles/")]
    assert len(pages_before) == 5
    again = run_cycle(store, cfg, matcher, feed_url)
    assert again.feeds[0].status == "not_modified"
    assert again.alerts == [] and again.sent == 0
    pages_after = [p for p in seed_site.paths_requested() if p.startswith("/articles/")]
    assert pages_after == pages_before  # the 304 fetched no page again
    assert len(smtp_sink.messages) == len(items_with_alerts)


def test_failing_feed_is_recorded_and_others_go_on(tmp_path: Path, config_dir: Path, seed_site) -> None:
    from flows.config import FeedConfig

    cfg = load_config(config_dir)
    matcher = Matcher.from_config_dir(config_dir)
    store = Store(f"sqlite:///{tmp_path / 'raqib.db'}")
    feeds = [FeedConfig(url=seed_site.base_url + "/missing.xml", name="broken"),
             FeedConfig(url=seed_site.base_url + "/feed.xml", name="seeds")]
    with make_client(cfg.settings.limits, "raqib-test") as client:
        outcomes = pipeline.poll_all(store, cfg, client, LOG, feeds=feeds, ignore_age=True)
        report = pipeline.process_pending(store, cfg, client, matcher, LOG, guard=allow(seed_site.base_url))
    assert [o.status for o in outcomes] == ["error", "new"]
    assert "HTTP 404" in (outcomes[0].error or "")
    assert len(report.alerts) == len(expected_alerts())
    broken = [f for f in store.feed_rows() if f["name"] == "broken"][0]
    assert broken["consecutive_errors"] == 1 and "404" in broken["last_error"]


def test_channel_down_then_up_delivers_exactly_once(tmp_path: Path, config_dir: Path, seed_site, smtp_sink) -> None:
    from flows.replay.httpserve import free_port

    down = f"mailto://127.0.0.1:{free_port()}?from=raqib@example.org&to=desk@example.org"
    (config_dir / "alerts.yaml").write_text(f"channels:\n  - name: mail\n    url: '{down}'\n", encoding="utf-8")
    cfg = load_config(config_dir)
    matcher = Matcher.from_config_dir(config_dir)
    store = Store(f"sqlite:///{tmp_path / 'raqib.db'}")
    report = run_cycle(store, cfg, matcher, seed_site.base_url + "/feed.xml")
    n = len({Path(a.url).stem for a in report.alerts})
    assert report.sent == 0 and report.send_failures == n
    assert store.outbox_counts() == {"pending": n}
    # The channel comes back (same name, now reachable) and the backoff has passed.
    (config_dir / "alerts.yaml").write_text(f"channels:\n  - name: mail\n    url: '{smtp_sink.url()}'\n", encoding="utf-8")
    cfg = load_config(config_dir)
    with store.engine.begin() as conn:
        from sqlalchemy import update

        from flows.store.state import outbox
        conn.execute(update(outbox).values(next_attempt_at=None))
    sent, failed = pipeline.deliver_due(store, cfg, LOG)
    assert (sent, failed) == (n, 0)
    assert pipeline.deliver_due(store, cfg, LOG) == (0, 0)
    assert len(smtp_sink.messages) == n


def _outlet_copy(text: str, headline: str, trim_last: int = 0) -> str:
    lines = [l for l in text.splitlines() if l.strip()]
    body = lines[1:]
    cut = body.index("المصدر: صدى البلد") if "المصدر: صدى البلد" in body else len(body)
    kept = body[:cut - trim_last]
    return "\n\n".join([headline, *kept]) + "\n"


def test_same_story_from_three_outlets_is_one_alert_naming_them(tmp_path: Path, config_dir: Path, smtp_sink) -> None:
    """Wire copy of seed 002 under three outlets' headlines (one trimmed): one alert, three outlets."""
    seed = (SEEDS / "002_536e0786f38f2d02.txt").read_text(encoding="utf-8")
    copies = {
        "outlet_a": ("وكالة ألف", _outlet_copy(seed, "أوستن يؤكد لنظيره الكوري الجنوبي التزام واشنطن بالردع الموسع")),
        "outlet_b": ("صحيفة باء", _outlet_copy(seed, "اتصال بين وزيري الدفاع الأمريكي والكوري الجنوبي", trim_last=1)),
        "outlet_c": ("موقع جيم", _outlet_copy(seed, "البنتاغون: بحث الأولويات الدفاعية في شبه الجزيرة الكورية")),
        "outlet_d": ("قناة دال", _outlet_copy(seed, "واشنطن وسيول تبحثان الأمن الإقليمي")),
    }
    servers = []
    feeds = []
    from flows.config import FeedConfig

    for key, (site_name, text) in copies.items():
        folder = tmp_path / key
        folder.mkdir()
        (folder / f"{key}_story.txt").write_text(text, encoding="utf-8")
        server = StaticServer().start()
        server.routes.update(build_site(folder, server.base_url, site_name=site_name))
        servers.append(server)
        feeds.append(FeedConfig(url=server.base_url + "/feed.xml", name=site_name, id=key))
    try:
        (config_dir / "alerts.yaml").write_text(f"channels:\n  - name: mail\n    url: '{smtp_sink.url()}'\n",
                                                encoding="utf-8")
        cfg = load_config(config_dir)
        matcher = Matcher.from_config_dir(config_dir)
        store = Store(f"sqlite:///{tmp_path / 'raqib.db'}")
        guard = make_guard([s.base_url.split("//", 1)[1] for s in servers])
        with make_client(cfg.settings.limits, "raqib-test") as client:
            pipeline.poll_all(store, cfg, client, LOG, feeds=feeds[:3], ignore_age=True)
            report = pipeline.process_pending(store, cfg, client, matcher, LOG, guard=guard)
            assert [a.topic for a in report.alerts] == ["extended_deterrence"]
            assert report.same_story == 2
            assert pipeline.deliver_due(store, cfg, LOG) == (1, 0)
            html = smtp_sink.messages[0].get_body(("html",)).get_content()
            for site_name, _ in list(copies.values())[:3]:
                assert site_name in html
            # A fourth outlet joins the story a cycle later: no new alert.
            pipeline.poll_all(store, cfg, client, LOG, feeds=feeds, ignore_age=True)
            later = pipeline.process_pending(store, cfg, client, matcher, LOG, guard=guard)
            assert later.processed == 1 and later.alerts == [] and later.same_story == 1
            assert pipeline.deliver_due(store, cfg, LOG) == (0, 0)
        assert len(smtp_sink.messages) == 1
    finally:
        for s in servers:
            s.stop()


def test_rematch_shows_what_a_topic_change_would_add_and_remove(tmp_path: Path, config_dir: Path, seed_site) -> None:
    """`raqib rematch` after replaying the seeds: unchanged topics change nothing; a removed topic
    shows its alerts as removals."""
    import json as _json
    import subprocess
    import sys

    cfg = load_config(config_dir)
    matcher = Matcher.from_config_dir(config_dir)
    state = tmp_path / "state"
    store = Store.open(state)
    run_cycle(store, cfg, matcher, seed_site.base_url + "/feed.xml")
    store.close()

    def rematch() -> list[dict]:
        res = subprocess.run([sys.executable, "-m", "flows.cli", "rematch", "--json", "--config", str(config_dir),
                              "--state", str(state)], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stderr
        return [_json.loads(l) for l in res.stdout.splitlines() if l.strip()]

    assert rematch() == []
    import yaml

    data = yaml.safe_load((config_dir / "topics.yaml").read_text(encoding="utf-8"))
    key = "topics"
    topics = data[key]
    if isinstance(topics, dict):
        topics.pop("two_plus_two")
    else:
        data[key] = [t for t in topics if t.get("id") != "two_plus_two"]
    (config_dir / "topics.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    changes = rematch()
    assert {(c["change"], c["topic"]) for c in changes} == {("remove", "two_plus_two")}
    assert len(changes) == 2  # seeds 000 and 001


def test_channel_password_never_reaches_logs_or_the_database(tmp_path: Path, config_dir: Path, seed_site, webhook,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    secret = "Pw-7f3kq9-SECRET"
    monkeypatch.setenv("RAQIB_TEST_HOOK_URL", f"json://analyst:{secret}@127.0.0.1:{webhook.port}/alerts")
    (config_dir / "alerts.yaml").write_text("channels:\n  - name: hook\n    url_env: RAQIB_TEST_HOOK_URL\n",
                                            encoding="utf-8")
    caplog.set_level(1)  # everything our loggers let through, at every level
    cfg = load_config(config_dir)
    matcher = Matcher.from_config_dir(config_dir)
    store = Store(f"sqlite:///{tmp_path / 'raqib.db'}")
    report = run_cycle(store, cfg, matcher, seed_site.base_url + "/feed.xml")
    store.close()
    assert report.sent == 4 and len(webhook.posts) == 4  # the password was used: the hook got the posts
    assert secret not in caplog.text
    for f in tmp_path.glob("raqib.db*"):
        assert secret.encode() not in f.read_bytes()
    import subprocess
    import sys

    status = subprocess.run([sys.executable, "-m", "flows.cli", "status", "--json", "--state", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert status.returncode == 0 and '"sent": 4' in status.stdout
    assert secret not in status.stdout + status.stderr


def test_new_feed_with_hundreds_of_old_items_does_not_flood_and_the_cap_loses_nothing(
        tmp_path: Path, config_dir: Path) -> None:
    """300 entries, 250 of them 10 days old; 100 new entries a cycle: old ones are recorded, never
    alerted; entries past the cap stay unseen until the next cycle instead of being marked seen."""
    from datetime import timedelta, timezone
    from email.utils import format_datetime

    from sqlalchemy import func, select

    from flows.config import FeedConfig
    from flows.replay.httpserve import Route
    from flows.store.state import items, utcnow

    now = utcnow()
    entries = []
    for i in range(300):
        when = now - (timedelta(days=10) if i >= 50 else timedelta(minutes=i))
        entries.append(f"<item><title>خبر رقم {i}</title><guid isPermaLink=\"false\">n-{i}</guid>"
                       f"<pubDate>{format_datetime(when.replace(tzinfo=timezone.utc))}</pubDate>"
                       f"<description>نص الخبر رقم {i} عن الطقس والزراعة في المنطقة.</description></item>")
    rss = ("<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>t</title>"
           + "".join(entries) + "</channel></rss>").encode()
    (config_dir / "settings.yaml").write_text("limits:\n  max_entries_per_feed: 100\n", encoding="utf-8")
    cfg = load_config(config_dir)
    matcher = Matcher.from_config_dir(config_dir)
    store = Store(f"sqlite:///{tmp_path / 'raqib.db'}")
    with StaticServer({"/feed.xml": Route("application/rss+xml", rss)}) as server, \
            make_client(cfg.settings.limits, "t") as client:
        feeds = [FeedConfig(url=server.base_url + "/feed.xml", name="busy", id="busy")]
        seen = []
        for _ in range(4):
            out = pipeline.poll_all(store, cfg, client, LOG, feeds=feeds)
            pipeline.process_pending(store, cfg, client, matcher, LOG, guard=allow(server.base_url))
            seen.append(out[0].new_items)
    assert seen == [100, 100, 100, 0]
    with store.engine.connect() as conn:
        states = dict(conn.execute(select(items.c.state, func.count()).group_by(items.c.state)).all())
    assert states == {"old": 250, "done": 50}


def test_extraction_in_a_process_pool_gives_the_same_alerts(tmp_path: Path, config_dir: Path, seed_site) -> None:
    """`limits.extract_processes: 2`: pages are extracted by spawned worker processes; the alerts,
    stored texts and fingerprints are those of the default in-thread extraction."""
    (config_dir / "settings.yaml").write_text("limits:\n  extract_processes: 2\n", encoding="utf-8")
    cfg = load_config(config_dir)
    matcher = Matcher.from_config_dir(config_dir)
    store = Store(f"sqlite:///{tmp_path / 'raqib.db'}")
    report = run_cycle(store, cfg, matcher, seed_site.base_url + "/feed.xml")
    assert {(Path(a.url).stem, a.topic) for a in report.alerts} == expected_alerts()
    assert report.processed == 5 and report.page_failures == 0
