"""flows.text.extract against real trafilatura: the seeds round-trip, charsets, rendering, boilerplate."""

from __future__ import annotations

from pathlib import Path

import pytest
import trafilatura

from flows.text.extract import EXTRACT_SETTINGS, METADATA_FIELDS, Article, decode_html, extract_article
from flows.replay.replay_site import load_items, render_page

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
PAGES = Path(__file__).resolve().parent / "data" / "pages"
ITEMS = load_items(SEEDS)


def _non_blank(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _page(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


# ---------------------------------------------------------------- the acceptance test


def test_all_five_seeds_are_replayed() -> None:
    assert [i.stem[:3] for i in ITEMS] == ["000", "001", "002", "003", "004"]


@pytest.mark.parametrize("item", ITEMS, ids=[i.stem for i in ITEMS])
def test_seed_round_trip_exact(item) -> None:
    """The page built from a seed extracts back to the seed's non-blank lines, exactly, in order."""
    related = [r for r in ITEMS if r.stem != item.stem]
    page = render_page(item, "رقيب نيوز", related)
    article = extract_article(decode_html(page, "text/html; charset=utf-8"))
    assert article is not None
    want = _non_blank((SEEDS / f"{item.stem}.txt").read_text(encoding="utf-8"))
    assert _non_blank(article.text) == want
    assert article.title == item.title


def test_extraction_is_stateless_across_pages() -> None:
    """The same page gives the same text however many pages came before (no dedup cache)."""
    pages = [render_page(item, "رقيب نيوز", []) for item in ITEMS]
    first = [extract_article(decode_html(p, None)) for p in pages]
    for _ in range(4):
        assert [extract_article(decode_html(p, None)) for p in pages] == first


# ---------------------------------------------------------------- decoding

CP1256_PAGE = _page("city_library.html").replace('<meta charset="utf-8">', "{meta}")


def _cp1256(meta: str) -> bytes:
    return CP1256_PAGE.replace("{meta}", meta).encode("cp1256")


def _assert_arabic_ok(html: str) -> None:
    assert "افتتاح مكتبة عامة جديدة في حي الزيتون" in html
    assert "كتّاب" in html  # shadda, a byte only cp1256 maps this way
    assert "\ufffd" not in html


def test_cp1256_charset_only_in_http_header() -> None:
    body = _cp1256("")
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    _assert_arabic_ok(decode_html(body, "text/html; charset=windows-1256"))


@pytest.mark.parametrize(
    "meta",
    ['<meta charset="windows-1256">', '<meta http-equiv="Content-Type" content="text/html; charset=windows-1256">'],
    ids=["meta-charset", "http-equiv"],
)
def test_cp1256_charset_only_in_meta(meta: str) -> None:
    _assert_arabic_ok(decode_html(_cp1256(meta), "text/html"))


def test_cp1256_with_no_charset_declared() -> None:
    html = decode_html(_cp1256(""), None)
    _assert_arabic_ok(html)
    article = extract_article(html)
    assert article is not None
    assert article.text == (PAGES / "city_library.txt").read_text(encoding="utf-8").rstrip("\n")


def test_http_header_wins_over_meta() -> None:
    _assert_arabic_ok(decode_html(_cp1256('<meta charset="utf-8">'), "text/html; charset=WINDOWS-1256"))


def test_undeclared_utf8_and_unknown_label() -> None:
    body = CP1256_PAGE.replace("{meta}", "").encode("utf-8")
    _assert_arabic_ok(decode_html(body, None))
    _assert_arabic_ok(decode_html(body, "text/html; charset=x-no-such-charset"))


def test_bom_decides() -> None:
    body = b"\xef\xbb\xbf" + CP1256_PAGE.replace("{meta}", "").encode("utf-8")
    html = decode_html(body, "text/html; charset=windows-1256")
    _assert_arabic_ok(html)
    assert not html.startswith("\ufeff")


def test_decode_never_raises() -> None:
    assert decode_html(b"", None) == ""
    assert isinstance(decode_html(bytes(range(256)) * 4, "text/html; charset=utf-8"), str)
    assert isinstance(decode_html(b"\xff\xfe\x00", 'text/html; charset="'), str)


# ---------------------------------------------------------------- rendering and boilerplate


def test_hand_written_page_golden_text() -> None:
    """Headline first, blank line between blocks, headings on their own line, table row by row."""
    article = extract_article(_page("city_library.html"))
    assert article is not None
    assert article.text == (PAGES / "city_library.txt").read_text(encoding="utf-8").rstrip("\n")


def test_list_items_render_as_bullets() -> None:
    article = extract_article(_page("city_library.html"))
    assert article is not None
    lines = article.text.splitlines()
    bullets = [line for line in lines if line.startswith("  • ")]
    assert bullets == [
        "  • ورشة أسبوعية للكتابة الإبداعية يشرف عليها كتّاب من المدينة",
        "  • نادي قراءة للأطفال كل يوم سبت",
        "  • دورة مجانية في أساسيات الحاسوب لكبار السن",
    ]
    assert not any(line.startswith("- ") for line in lines)  # trafilatura's own txt bullet


def test_related_links_nav_footer_share_byline_do_not_leak() -> None:
    article = extract_article(_page("city_library.html"))
    assert article is not None
    for boilerplate in (
        "معرض الكتاب السنوي",  # <ul class="related"> of links
        "أخبار ذات صلة",  # its heading
        "إغلاق مؤقت لشارع السوق القديم",  # a links-only "most read" list
        "أخبار محلية",  # nav menu
        "ثقافة وفنون",  # nav + breadcrumb
        "جميع الحقوق محفوظة",  # footer
        "من نحن",
        "شارك الخبر",  # share buttons
        "بقلم",  # byline
    ):
        assert boilerplate not in article.text


def test_metadata_is_kept() -> None:
    article = extract_article(_page("city_library.html"), url="https://news.example/culture/library",
                              metadata=METADATA_FIELDS)
    assert article == Article(
        text=article.text,
        title="افتتاح مكتبة عامة جديدة في حي الزيتون",
        date="2023-03-14",
        sitename="صحيفة المدينة الصغيرة",
        author="سلمى الحداد",
        language="ar",
    )


def test_metadata_only_as_asked_and_the_text_the_same() -> None:
    page, url = _page("city_library.html"), "https://news.example/culture/library"
    full = extract_article(page, url=url, metadata=METADATA_FIELDS)
    default = extract_article(page, url=url)
    assert default == Article(full.text, full.title, full.date, full.sitename, None, "ar")  # no author by default
    site_only = extract_article(page, url=url, metadata=frozenset({"sitename"}))
    assert site_only == Article(full.text, None, None, full.sitename, None, "ar")
    assert extract_article(page, url=url, metadata=frozenset()) == Article(full.text, None, None, None, None, "ar")
    with pytest.raises(ValueError, match="unknown metadata fields"):
        extract_article(page, metadata=frozenset({"tags"}))


@pytest.mark.parametrize(
    "html",
    [_page("app_shell.html"), "", "   ", "<html><body></body></html>", "not html at all \x00"],
    ids=["app-shell", "empty", "blank", "empty-body", "junk"],
)
def test_no_article_is_none(html: str) -> None:
    assert extract_article(html) is None


def test_br_lines_and_adjacent_repeats_are_kept() -> None:
    line = "سطر مكرر في الصفحة يتجاوز طوله خمسين حرفاً حتى يطبق عليه اختبار التكرار"
    html = (
        '<html lang="ar"><body><article><h1>عنوان خبر تجريبي عن التكرار</h1>'
        f"<p>{line}<br>{line}</p><p>فقرة ثانية مختلفة تماماً عن السطر المكرر السابق في المقال.</p>"
        "</article></body></html>"
    )
    article = extract_article(html)
    assert article is not None
    assert article.text.splitlines()[2:4] == [line, line]


def test_no_break_space_between_letters_is_kept() -> None:
    html = (
        '<html lang="ar"><body><article><h1>عنوان خبر تجريبي عن المسافات</h1>'
        "<p>و&nbsp;اتفق الطرفان على مواصلة الحوار خلال الأسابيع المقبلة في العاصمة.</p>"
        "<p>&nbsp;</p>"
        "<p>للتواصل: [email\u00a0protected]</p>"
        "<p>   &#160;وقال&#xA0;المتحدث إن الجولة المقبلة ستعقد في الربيع.</p></article></body></html>"
    )
    article = extract_article(html)
    assert article is not None
    assert article.text.splitlines()[::2] == [
        "عنوان خبر تجريبي عن المسافات",
        "و\u00a0اتفق الطرفان على مواصلة الحوار خلال الأسابيع المقبلة في العاصمة.",
        "للتواصل: [email\u00a0protected]",
        "وقال\u00a0المتحدث إن الجولة المقبلة ستعقد في الربيع.",  # a leading one is indentation
    ]


def test_trafilatura_itself_folds_no_break_spaces() -> None:
    """Why extract_article protects U+00A0: if this starts failing, the protection can go."""
    html = "<html><body><article><p>و&nbsp;اتفق الطرفان على مواصلة الحوار خلال الأسابيع المقبلة.</p></article></body></html>"
    assert trafilatura.extract(html) == "و اتفق الطرفان على مواصلة الحوار خلال الأسابيع المقبلة."


def test_settings_turn_comments_off_and_keep_repeats() -> None:
    assert EXTRACT_SETTINGS["include_comments"] is False
    assert EXTRACT_SETTINGS["deduplicate"] is False
    with pytest.raises(TypeError):
        EXTRACT_SETTINGS["include_comments"] = True  # type: ignore[index]


@pytest.mark.parametrize("html", [
    "<html><head><title>t</title></head><body><p>نص المقال</p><form><input value='x'></form></body></html>",
    "<?xml version='1.0' encoding='utf-8'?><html><body><p>a declared encoding lxml refuses in a str</p></body></html>",
    "<p>a fragment: no html tag in the first 50 characters</p><p>second</p>",
    "<!DOCTYPE html>\n<html lang='ar'/>\n<body><p>a self-closing html tag</p></body>",
    "<html><body><p>control\x01characters\x0b</p></body></html>",
    "",
], ids=["page", "xml-declaration", "fragment", "self-closing-html", "control-chars", "empty"])
def test_own_parse_gives_trafilaturas_tree(html: str) -> None:
    """extract's one parse (lxml's C class lookup) yields the tree trafilatura's load_html does."""
    from lxml import etree
    from lxml.html import HtmlElement
    from trafilatura.utils import load_html

    from flows.text.extract import _load_html

    ours, theirs = _load_html(html), load_html(html)
    assert (ours is None) == (theirs is None)
    if ours is not None:
        assert isinstance(ours, HtmlElement)
        assert etree.tostring(ours, encoding="unicode") == etree.tostring(theirs, encoding="unicode")
        assert all(isinstance(e, HtmlElement) for e in ours.iter("*"))
