"""flows.replay.replay_site: the seeds as an RSS feed plus news pages, served on loopback."""

from __future__ import annotations

import calendar
from datetime import timezone
from pathlib import Path

import feedparser
import httpx
import pytest
import trafilatura

from flows.text.extract import decode_html, extract_article
from flows.replay.httpserve import StaticServer
from flows.replay.replay_site import (
    ReplayItem,
    article_path,
    build_site,
    headline_of,
    load_items,
    render_feed,
    render_page,
)

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
BASE = "http://127.0.0.1:8765"


@pytest.fixture(scope="module")
def items() -> list[ReplayItem]:
    return load_items(SEEDS)


def _non_blank(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


# ---------------------------------------------------------------- items


def test_load_items_sorted_txt_only_with_headlines(items: list[ReplayItem]) -> None:
    assert [i.stem for i in items] == sorted(p.stem for p in SEEDS.glob("*.txt"))
    assert len(items) == 5  # README.md and labels.csv are skipped
    by_stem = {i.stem[:3]: i for i in items}
    # 001 opens with a one-word "home" crumb: the headline is the next line
    assert by_stem["001"].title == "وزيرا الخارجية الكوري الجنوبي والأمريكي يناقشان نشر القوات الكورية الشمالية في روسيا"
    assert by_stem["004"].title == "كوريا الجنوبية وأمريكا يتفقان على تحالف قوي في محادثات القمة بينهما"
    for item in items:
        assert item.text == (SEEDS / f"{item.stem}.txt").read_text(encoding="utf-8")


def test_published_is_deterministic_and_distinct(items: list[ReplayItem]) -> None:
    dates = [i.published for i in items]
    assert all(d.tzinfo is not None and d.utcoffset() == timezone.utc.utcoffset(None) for d in dates)
    assert dates == sorted(dates, reverse=True) and len(set(dates)) == len(dates)
    assert [i.published for i in load_items(SEEDS)] == dates


def test_windows_1256_file_is_decoded_and_a_binary_one_names_itself(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("خبر أول عن شيء ما\n\nفقرة.", encoding="utf-8")
    (tmp_path / "b.txt").write_bytes("خبر ثان بترميز آخر\n\nفقرة ثانية.".encode("cp1256"))
    assert [i.title for i in load_items(tmp_path)] == ["خبر أول عن شيء ما", "خبر ثان بترميز آخر"]
    (tmp_path / "c.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)
    with pytest.raises(ValueError, match=r"c\.txt"):
        load_items(tmp_path)
    refused: list[str] = []
    items = load_items(tmp_path, on_error=lambda err: refused.append(str(err)))
    assert [i.stem for i in items] == ["a", "b"]
    assert len(refused) == 1 and "c.txt" in refused[0] and "binary" in refused[0]


def test_headline_skips_short_furniture() -> None:
    assert headline_of("الرئيسية\n\nعاجل\nعنوان الخبر الكامل هنا\nنص") == "عنوان الخبر الكامل هنا"
    assert headline_of("قصير\nجداً") == "قصير"


def test_article_path_contains_stem(items: list[ReplayItem]) -> None:
    for item in items:
        assert article_path(item) == f"/articles/{item.stem}.html"


# ---------------------------------------------------------------- feed


def test_feed_parses_with_five_entries(items: list[ReplayItem]) -> None:
    xml = render_feed(items, BASE + "/", "رقيب نيوز")
    assert xml.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0">')
    assert xml.count(b'<guid isPermaLink="false">replay/') == 5
    # The guid names the file, not the server: the same files on another port are the same items.
    assert render_feed(items, "http://127.0.0.1:9/", "رقيب نيوز").count(b"replay/") == 5
    assert {e.id for e in feedparser.parse(xml).entries} == {
        e.id for e in feedparser.parse(render_feed(items, "http://127.0.0.1:9/", "رقيب نيوز")).entries}
    feed = feedparser.parse(xml)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "rss20"
    assert feed.feed.title == "رقيب نيوز"
    assert len(feed.entries) == 5
    for entry, item in zip(feed.entries, items, strict=True):
        assert entry.link == BASE + article_path(item)
        assert entry.id == f"replay/{item.stem}"
        assert entry.title == item.title
        assert calendar.timegm(entry.published_parsed) == int(item.published.timestamp())
        # description: the first paragraph after the headline
        assert entry.summary in _non_blank(item.text)
        assert entry.summary != item.title


def test_feed_escapes_markup(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text('عنوان فيه <b>وسم</b> & "علامات"\n\nنص <script>alert(1)</script> & رموز.', "utf-8")
    items = load_items(tmp_path)
    feed = feedparser.parse(render_feed(items, BASE, "موقع & شركاه"))
    assert not feed.bozo
    assert feed.feed.title == "موقع & شركاه"
    assert feed.entries[0].title == 'عنوان فيه <b>وسم</b> & "علامات"'


# ---------------------------------------------------------------- pages


def test_page_is_a_realistic_news_page(items: list[ReplayItem]) -> None:
    item, others = items[0], items[1:]
    html = render_page(item, "رقيب نيوز", others).decode("utf-8")
    assert html.startswith('<!doctype html>\n<html lang="ar" dir="rtl">')
    for needle in (
        '<meta charset="utf-8">',
        "<title>",
        'property="og:title"',
        'property="og:site_name"',
        "<header",
        "<nav",
        'class="breadcrumb"',
        "<article",
        "<h1>",
        "<time datetime=",
        'class="share-buttons"',
        '<ul class="related">',
        "<footer",
        "©",
    ):
        assert needle in html
    for other in others:  # linked headlines of the other items, which the extraction drops
        assert f'href="{article_path(other)}"' in html
    article = extract_article(html)
    assert article is not None
    for other in others:
        assert other.title not in article.text


def test_page_escapes_and_round_trips_markup_text(tmp_path: Path) -> None:
    # long enough (over trafilatura's 250 characters) to be taken as an article, not rescued
    text = (
        'عنوان فيه <b>وسم</b> & "علامات" للاختبار\n\n'
        "فقرة أولى فيها <script>alert(1)</script> & رموز خاصة مثل &amp; حرفياً، وهي طويلة بما يكفي لتعد نصاً.\n\n"
        "وفقرة ثانية تشرح أن المحررين يكتبون أحياناً علامات مثل <p> أو > أو < داخل النص نفسه، "
        "وأن الصفحة يجب أن تعرضها كما هي دون أن يفسرها المتصفح على أنها وسوم.\n\n"
        "  • بند أول <i>مائل</i>\n  • بند ثان & ثالث"
    )
    (tmp_path / "x.txt").write_text(text, encoding="utf-8")
    item = load_items(tmp_path)[0]
    html = render_page(item, "موقع <تجريبي>", []).decode("utf-8")
    assert "<script>alert" not in html and "<b>وسم" not in html
    article = extract_article(html)
    assert article is not None
    assert _non_blank(article.text) == _non_blank(text)


def test_adjacent_repeat_needs_the_br_join() -> None:
    """Why a repeated line shares the <p> of the line before: trafilatura drops an adjacent
    repeated block (over 50 chars) even with deduplication off. If this fails, the join can go."""
    line = "العراق ثالث أكبر مورد للنفط إلى كوريا الجنوبية في شهر"
    html = f"<html><body><article><h1>عنوان</h1><p>{line}</p><p>{line}</p><p>خاتمة الخبر هنا.</p></article></body></html>"
    assert trafilatura.extract(html, include_comments=False).count(line) == 1


# ---------------------------------------------------------------- served


def test_site_served_and_fetched_round_trips(items: list[ReplayItem]) -> None:
    with StaticServer() as server:
        server.routes.update(build_site(SEEDS, server.base_url, "رقيب نيوز"))
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            resp = client.get("/feed.xml")
            assert resp.status_code == 200
            assert resp.headers["content-type"] == "application/rss+xml; charset=utf-8"
            feed = feedparser.parse(resp.content)
            assert len(feed.entries) == 5
            for entry, item in zip(feed.entries, items, strict=True):
                assert entry.link.startswith(server.base_url + "/articles/") and item.stem in entry.link
                page = client.get(entry.link)
                assert page.status_code == 200
                assert page.headers["content-type"] == "text/html; charset=utf-8"
                article = extract_article(decode_html(page.content, page.headers["content-type"]), url=entry.link)
                assert article is not None
                assert _non_blank(article.text) == _non_blank(item.text)
                assert article.sitename == "رقيب نيوز"
                # ETag revalidation from StaticServer works on our routes too
                again = client.get(entry.link, headers={"If-None-Match": page.headers["etag"]})
                assert again.status_code == 304
    assert set(build_site(SEEDS, BASE)) == {"/feed.xml"} | {article_path(i) for i in items}


def test_empty_file_is_a_value_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("\n  \n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"empty\.txt"):
        load_items(tmp_path)


def test_subheadings_become_h2_and_extract_as_their_own_block(items: list[ReplayItem]) -> None:
    item = next(i for i in items if i.stem.startswith("003"))
    html = render_page(item, "رقيب نيوز", []).decode("utf-8")
    assert "<h2>الدفاع المشترك</h2>" in html
    assert "<h2>استفزازات بيونج يانج التى تقوض السلام</h2>" in html
    article = extract_article(html)
    assert article is not None
    assert "\n\nالدفاع المشترك\n\n" in article.text
