"""Feedback store (real SQLite, and PostgreSQL when set) and signed links."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from flows.alerts import feedback_links as fl
from flows.config import FeedbackSettings
from flows.store.feedback import FeedbackLog
from flows.store.state import Store
from tests.pgschema import pg_schema_url

KEY = b"k" * 32


def _store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'raqib.db'}")


def _item(store: Store, link: str = "https://news.example.org/a.html") -> int:
    feed = store.sync_feeds([("f1", "https://news.example.org/rss", "Example")])[0]
    store.add_items(feed.id, [{"key": link, "link": link, "title": "خبر"}])
    return store.pending_items()[0].id


def test_migrations_12_and_13_create_the_table_and_indexes(tmp_path: Path) -> None:
    store = _store(tmp_path)
    from sqlalchemy import inspect

    insp = inspect(store.engine)
    assert "feedback" in insp.get_table_names()
    assert {"ix_feedback_created_at", "ix_feedback_item_id"} <= {i["name"] for i in insp.get_indexes("feedback")}
    assert store.migrate() == []  # applied once


def test_judgment_is_idempotent_and_a_new_verdict_replaces_it(tmp_path: Path) -> None:
    store = _store(tmp_path)
    item = _item(store)
    log = FeedbackLog(store)
    assert log.record(item_id=item, topic="two_plus_two", verdict="relevant", source="link") == "added"
    first = log.judgments()[0]
    assert log.record(item_id=item, topic="two_plus_two", verdict="relevant", source="page") == "unchanged"
    again = log.judgments()
    assert len(again) == 1 and again[0].created_at == first.created_at and again[0].source == "link"
    assert log.record(item_id=item, topic="two_plus_two", verdict="not-relevant", source="cli") == "replaced"
    rows = log.judgments()
    assert len(rows) == 1 and rows[0].verdict == "not-relevant" and rows[0].source == "cli"
    # Another topic on the same item is its own judgment.
    assert log.record(item_id=item, topic="nk_russia_troops", verdict="relevant", source="cli") == "added"
    prec = {p["topic"]: p for p in log.precision()}
    assert prec["two_plus_two"]["precision"] == 0.0 and prec["nk_russia_troops"]["precision"] == 1.0


def test_a_url_judgment_and_bad_values(tmp_path: Path) -> None:
    log = FeedbackLog(_store(tmp_path))
    url = "https://other.example.org/x"
    assert log.record(url=url, topic="t", verdict="missed", source="cli", text="نص") == "added"
    assert log.record(url=url + " ", topic="t", verdict="missed", source="cli") == "unchanged"
    arts = log.articles()
    assert len(arts) == 1 and arts[0]["text"] == "نص" and arts[0]["verdicts"] == {"t": "missed"}
    with pytest.raises(ValueError, match="verdict"):
        log.record(url=url, topic="t", verdict="maybe", source="cli")
    with pytest.raises(ValueError, match="source"):
        log.record(url=url, topic="t", verdict="missed", source="email")


@pytest.mark.postgres
def test_feedback_on_postgres() -> None:
    with pg_schema_url("fb", "RAQIB_TEST_POSTGRES_URL is not set") as url:
        store = Store(url)
        try:
            item = _item(store)
            log = FeedbackLog(store)
            assert log.record(item_id=item, topic="a", verdict="relevant", source="page") == "added"
            assert log.record(item_id=item, topic="a", verdict="relevant", source="page") == "unchanged"
            assert log.record(item_id=item, topic="a", verdict="not-relevant", source="page") == "replaced"
            assert [j.verdict for j in log.judgments()] == ["not-relevant"]
        finally:
            store.close()


def test_signed_link_round_trip_and_refusals() -> None:
    params = fl.sign_params(KEY, 42, ["two_plus_two", "nk_russia_troops"], "relevant", 3600)
    got = fl.verify(KEY, params)
    assert got.item_id == 42 and got.topics == ("two_plus_two", "nk_russia_troops") and got.verdict == "relevant"
    for field, value in (("i", "43"), ("t", "two_plus_two"), ("v", "not-relevant"), ("e", str(int(params["e"]) + 1))):
        with pytest.raises(fl.LinkError):
            fl.verify(KEY, {**params, field: value})
    with pytest.raises(fl.LinkError, match="signature"):
        fl.verify(b"x" * 32, params)
    with pytest.raises(fl.LinkError, match="expired"):
        fl.verify(KEY, fl.sign_params(KEY, 42, ["a"], "relevant", 10, now=time.time() - 100))
    with pytest.raises(fl.LinkError, match="malformed"):
        fl.verify(KEY, {**params, "i": "x"})


def test_alert_links_carry_ids_only(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "s3cret-feedback-key-0123456789"
    monkeypatch.setenv(fl.KEY_ENV, secret)
    links = fl.alert_links(FeedbackSettings(base_url="https://raqib.example.org/arch/"), 7, ["two_plus_two"])
    assert links and set(links) == {"relevant", "not_relevant"}
    for url in links.values():
        assert url.startswith("https://raqib.example.org/arch/feedback?i=7&t=two_plus_two&v=")
        assert secret not in url
    assert fl.alert_links(FeedbackSettings(), 7, ["two_plus_two"]) is None
    monkeypatch.delenv(fl.KEY_ENV)
    assert fl.alert_links(FeedbackSettings(base_url="https://raqib.example.org"), 7, ["a"]) is None
    monkeypatch.setenv(fl.KEY_ENV, "short")
    with pytest.raises(fl.FeedbackKeyError, match="shorter"):
        fl.feedback_key(FeedbackSettings())


def test_feedback_settings_refuse_a_bad_base_url(tmp_path: Path, config_dir: Path) -> None:
    from flows.config import load_config
    from flows.errors import ConfigError

    (config_dir / "settings.yaml").write_text("feedback:\n  base_url: 'javascript:alert(1)'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="feedback.base_url"):
        load_config(config_dir)
    (config_dir / "settings.yaml").write_text("feedback:\n  base_url: https://r.example.org/\n  link_days: 7\n",
                                              encoding="utf-8")
    assert load_config(config_dir).settings.feedback.base_url == "https://r.example.org"


def test_a_judged_article_keeps_its_text_when_retention_drops_the_items_text(tmp_path: Path) -> None:
    from flows.judgments import export, judge_item
    from flows.store.retention import drop_texts

    store = _store(tmp_path)
    item = _item(store)
    store.finish_item(item, state="done", content_hash="h1", text_="نص الخبر كاملاً", sitename=None,
                      topics=["two_plus_two"], alerts_=[("two_plus_two", "2+2", 1.0, [])], deliveries=[])
    log = FeedbackLog(store)
    assert judge_item(log, item, ["two_plus_two"], "relevant", "page") == ["added"]
    with store.engine.begin() as conn:
        assert drop_texts(conn, [item]) == 1
    assert log.item(item)["text"] is None
    done = export(log, tmp_path / "out", ["two_plus_two"])
    assert done.files == 1 and not done.skipped
    written = [p for p in (tmp_path / "out").iterdir() if p.suffix == ".txt"]
    assert written[0].read_text(encoding="utf-8") == "نص الخبر كاملاً\n"
