"""What people read: topic names in the channel's language, through the real cycle."""

from __future__ import annotations

from pathlib import Path

from flows.alerts.names import topic_names
from flows.config import load_config
from flows.match import Matcher
from flows.store.state import Store
from tests.test_pipeline import run_cycle, seed_site  # noqa: F401  (fixture)


def test_messages_name_topics_in_the_channels_language(tmp_path: Path, config_dir: Path, seed_site,  # noqa: F811
                                                       smtp_sink, webhook) -> None:
    (config_dir / "alerts.yaml").write_text(
        "channels:\n"
        f"  - name: mail\n    url: '{smtp_sink.url()}'\n    topics: [two_plus_two]\n"
        f"  - name: hook\n    url: 'json://127.0.0.1:{webhook.port}/alerts'\n    topics: [two_plus_two]\n"
        "    language: en\n", encoding="utf-8")
    cfg = load_config(config_dir)
    store = Store(f"sqlite:///{tmp_path / 'raqib.db'}")
    try:
        report = run_cycle(store, cfg, Matcher.from_config_dir(config_dir), seed_site.base_url + "/feed.xml")
    finally:
        store.close()
    assert report.sent == report.messages > 0
    names = topic_names(config_dir)["two_plus_two"]
    assert names["ar"] != names["en"]
    for mail in smtp_sink.messages:  # Arabic by default
        assert names["ar"] in str(mail["subject"]) and names["en"] not in str(mail["subject"])
        assert "اقرأ الخبر كاملاً" in mail.get_body(("html",)).get_content()
    for post in webhook.json_posts():  # the channel that asked for English
        assert names["en"] in post["title"] and names["ar"] not in post["message"]
        assert post["title"].startswith(("raqib: ", "raqib (update): "))  # English labels


def test_a_topic_name_in_an_unknown_language_code_is_refused(config_dir: Path) -> None:
    import pytest

    from flows.errors import ConfigError

    text = (config_dir / "topics.yaml").read_text(encoding="utf-8")
    (config_dir / "topics.yaml").write_text(text.replace("names: {ar:", "names: {arabic:", 1), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        Matcher.from_config_dir(config_dir)
    assert "topics.yaml" in str(err.value) and "names" in str(err.value)
