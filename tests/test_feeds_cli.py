"""`raqib feeds add/import/export/list` against real loopback sites and a real state database."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from flows.cli import app
from flows.config import load_config
from flows.replay.httpserve import Route, StaticServer
from flows.sources.opml import parse_opml
from flows.store.state import Store
from tests.conftest import ROOT

RSS = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
       '<link>http://x/</link><description>d</description><item><title>خبر</title><link>http://x/1</link>'
       '<guid>1</guid></item></channel></rss>')
HOME = ('<!doctype html><html><head><title>الصفحة</title>'
        '<link rel="alternate" type="application/rss+xml" title="كل الأخبار" href="/feeds/all.xml">'
        '<link rel="alternate" type="application/atom+xml" href="{base}/feeds/world.atom">'
        '<link rel="stylesheet" href="/s.css"></head><body><p>أهلا</p></body></html>')
ATOM = ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>العالم</title>'
        '<id>urn:x</id><updated>2026-01-01T00:00:00Z</updated></feed>')


@pytest.fixture
def site():
    with StaticServer() as s:
        s.routes["/"] = Route("text/html; charset=utf-8", HOME.format(base=s.base_url).encode())
        s.routes["/feeds/all.xml"] = Route("application/rss+xml", RSS.format(title="أخبار & تقارير").encode())
        s.routes["/feeds/world.atom"] = Route("application/atom+xml", ATOM.encode())
        yield s


@pytest.fixture
def cfg(tmp_path: Path, site: StaticServer) -> Path:
    d = tmp_path / "config"
    shutil.copytree(ROOT / "config", d)
    (d / "settings.yaml").write_text(f"allow_hosts: ['{site.base_url.split('//', 1)[1]}']\n", encoding="utf-8")
    return d


def run(*args: str):
    res = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return res


def test_add_finds_the_feeds_a_home_page_links_and_keeps_comments(cfg: Path, site: StaticServer) -> None:
    before = (cfg / "feeds.yaml").read_text(encoding="utf-8")
    res = run("feeds", "add", site.base_url + "/", "--config", str(cfg))
    assert res.exit_code == 0, res.output
    assert f"added: {site.base_url}/feeds/all.xml (أخبار & تقارير)" in res.output
    assert f"also found: {site.base_url}/feeds/world.atom" in res.output
    text = (cfg / "feeds.yaml").read_text(encoding="utf-8")
    comments = [line for line in before.splitlines() if line.startswith("#")]
    assert comments and all(c in text for c in comments)  # the operator's comments stay
    feeds = load_config(cfg).feeds
    assert [(f.url, f.name) for f in feeds] == [(f"{site.base_url}/feeds/all.xml", "أخبار & تقارير")]
    again = run("feeds", "add", site.base_url + "/", "--config", str(cfg), "--all")
    assert again.exit_code == 0, again.output
    assert "already listed" in again.output and "1 added" in again.output
    assert [f.name for f in load_config(cfg).feeds] == ["أخبار & تقارير", "العالم"]
    assert "/feeds/all.xml" in site.paths_requested() and "/rss.xml" not in site.paths_requested()


def test_add_from_an_article_page_tries_the_common_paths(cfg: Path, site: StaticServer) -> None:
    site.routes["/2026/01/story.html"] = Route("text/html; charset=utf-8", "<html><body>نص</body></html>".encode())
    site.routes["/rss.xml"] = Route("text/xml", RSS.format(title="الموقع").encode())
    res = run("feeds", "add", site.base_url + "/2026/01/story.html", "--config", str(cfg), "--name", "موقع")
    assert res.exit_code == 0, res.output
    assert [(f.url, f.name) for f in load_config(cfg).feeds] == [(f"{site.base_url}/rss.xml", "موقع")]


def test_add_of_a_feed_url_adds_it(cfg: Path, site: StaticServer) -> None:
    res = run("feeds", "add", site.base_url + "/feeds/world.atom", "--config", str(cfg))
    assert res.exit_code == 0, res.output
    assert [f.url for f in load_config(cfg).feeds] == [f"{site.base_url}/feeds/world.atom"]


def test_add_goes_through_the_address_guard(cfg: Path, site: StaticServer) -> None:
    (cfg / "settings.yaml").write_text("", encoding="utf-8")  # loopback not allowed
    before = (cfg / "feeds.yaml").read_text(encoding="utf-8")
    res = run("feeds", "add", site.base_url + "/", "--config", str(cfg))
    assert res.exit_code == 1
    assert "cannot fetch" in res.output and "127.0.0.1" in res.output
    assert site.paths_requested() == [] and (cfg / "feeds.yaml").read_text(encoding="utf-8") == before


def test_add_says_when_a_site_has_no_feed(cfg: Path, site: StaticServer) -> None:
    site.routes["/plain"] = Route("text/html", b"<html><body>nothing</body></html>")
    del site.routes["/"]
    res = run("feeds", "add", site.base_url + "/plain", "--config", str(cfg))
    assert res.exit_code == 1 and "no RSS or Atom feed found" in res.output


OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0"><head><title>Reader export</title></head><body>
  <outline text="Korea" title="Korea">
    <outline type="rss" text="Agency A" title="وكالة أ &amp; شركاه" xmlUrl="https://a.example.org/rss"/>
    <outline type="rss" text="Agency B" xmlUrl="https://b.example.org/atom.xml" htmlUrl="https://b.example.org/"/>
  </outline>
  <outline type="rss" text="bad" xmlUrl="javascript:alert(1)"/>
  <outline type="rss" text="again" xmlUrl="https://a.example.org/rss"/>
</body></opml>"""


def test_import_then_export_round_trips(cfg: Path, tmp_path: Path) -> None:
    src = tmp_path / "reader.opml"
    src.write_text(OPML, encoding="utf-8")
    res = CliRunner().invoke(app, ["feeds", "import", str(src), "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    assert "skipped 'javascript:alert(1)'" in res.output and "2 added" in res.output
    assert [(f.url, f.name) for f in load_config(cfg).feeds] == [
        ("https://a.example.org/rss", "وكالة أ & شركاه"), ("https://b.example.org/atom.xml", "Agency B")]
    again = CliRunner().invoke(app, ["feeds", "import", str(src), "--config", str(cfg)])
    assert "0 added, 2 already listed" in again.output
    out = run("feeds", "export", "--config", str(cfg))
    assert out.exit_code == 0 and out.output.startswith('<?xml version="1.0" encoding="utf-8"?>\n<opml version="2.0">')
    feeds, rejected = parse_opml(out.output.encode())
    assert [(f.url, f.name) for f in feeds] == [("https://a.example.org/rss", "وكالة أ & شركاه"),
                                                ("https://b.example.org/atom.xml", "Agency B")]
    assert rejected == []
    assert yaml.safe_load((cfg / "feeds.yaml").read_text(encoding="utf-8"))["feeds"][1] == {
        "url": "https://b.example.org/atom.xml", "name": "Agency B"}


def test_import_refuses_entities_and_non_opml(cfg: Path, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.opml"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaa">]><opml><body/></opml>', encoding="utf-8")
    res = run("feeds", "import", str(bomb), "--config", str(cfg))
    assert res.exit_code == 2 and "DOCTYPE" in res.output
    html = tmp_path / "page.opml"
    html.write_text("<html><body/></html>", encoding="utf-8")
    res = run("feeds", "import", str(html), "--config", str(cfg))
    assert res.exit_code == 2 and "not an OPML file" in res.output


def test_list_shows_health_beside_each_feed(cfg: Path, tmp_path: Path) -> None:
    (cfg / "feeds.yaml").write_text("feeds:\n  - url: https://a.example.org/rss\n    name: A\n"
                                    "  - url: https://b.example.org/rss\n    name: B\n"
                                    "  - url: https://c.example.org/rss\n    name: C\n", encoding="utf-8")
    state = tmp_path / "state"
    res = run("feeds", "list", "--config", str(cfg), "--state", str(state))
    assert res.exit_code == 0 and res.output.count("not polled yet") == 3
    assert not state.exists()  # listing never creates a database
    keys = {f.name: f.key for f in load_config(cfg).feeds}
    store = Store.open(state)
    try:
        rows = {r.key: r for r in store.sync_feeds([(keys["A"], "https://a.example.org/rss", "A"),
                                                    (keys["B"], "https://b.example.org/rss", "B")])}
        store.record_poll_success(rows[keys["A"]].id, "new", None, None, "h")
        store.record_poll_failure(rows[keys["B"]].id, "HTTP 503")
        store.record_poll_failure(rows[keys["B"]].id, "HTTP 503")
    finally:
        store.close()
    res = run("feeds", "list", "--config", str(cfg), "--state", str(state))
    lines = res.output.splitlines()
    assert lines[0].startswith("ok") and " A " in lines[0] and "UTC" in lines[1]
    assert lines[2].startswith("failing") and "2 failed polls in a row: HTTP 503" in lines[3]
    assert lines[4].startswith("not polled yet") and " C " in lines[4]
