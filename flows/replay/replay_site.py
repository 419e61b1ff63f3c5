"""The seeds as a test news site: an RSS 2.0 feed plus one realistic Arabic news page per text.

Pure functions building bytes; the CLI serves them with ``flows.replay.httpserve.StaticServer``.

Rules (the page must extract back to the file's non-blank lines, exactly and in order):
- every ``.txt`` file of the directory, sorted by name, is one item, read with
  :mod:`flows.text.files` (regular files only, a size bound, decoded as pages are: UTF-8,
  windows-1256 Arabic …); a file refused there, or with no text, is reported to ``on_error`` and
  skipped — or, with no ``on_error``, a ValueError naming it; other files are skipped;
- the headline is the first line of more than two words; shorter lines before it are site
  furniture captured with the text (a "home" crumb) and stay above the ``<h1>`` as a kicker;
- ``published`` is deterministic: item i (file order) is ``REPLAY_EPOCH - i hours``, newest first,
  so a replay gives the same feed whatever the files' mtimes;
- body mapping, one element per non-blank line: a line starting ``"  • "`` is a ``<li>``
  (consecutive ones form one plain-text ``<ul>``); a short line (at most six words, no colon, no
  closing punctuation) followed by a list or a long paragraph is an ``<h2>``; every other line is
  a ``<p>``; a line equal to the line before it joins that ``<p>`` after a ``<br>`` (trafilatura
  drops a block repeating the previous block, even with deduplication off);
- lines are trimmed the way HTML collapses spaces: only the bullet prefix is layout, so a text
  whose lines carry other leading or trailing spaces does not round-trip byte for byte;
- around the article: header with logo and nav menu, breadcrumb, byline/date line, share buttons,
  a related-headlines aside of links to the other items, footer with links and copyright. All of
  it is boilerplate that trafilatura drops;
- every text and attribute is escaped with ``html.escape``; no-break spaces are written ``&nbsp;``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Callable
from urllib.parse import quote

from flows.replay.httpserve import Route
from flows.text.files import TextFileError, list_text_files, read_text_file

__all__ = [
    "REPLAY_EPOCH",
    "ReplayItem",
    "article_path",
    "build_site",
    "headline_of",
    "load_items",
    "render_feed",
    "render_page",
]

REPLAY_EPOCH = datetime(2024, 11, 1, 12, 0, tzinfo=timezone.utc)
DEFAULT_SITE_NAME = "رقيب نيوز"
BULLET = "  • "
_FURNITURE_MAX_WORDS = 2
_RELATED_MAX = 4
_SUBHEADING_MAX_WORDS = 6
_PARAGRAPH_MIN_WORDS = 12
_CLOSING_PUNCTUATION = frozenset(".:!?؟،,;؛)»\"")


@dataclass(frozen=True)
class ReplayItem:
    stem: str  # file stem, e.g. "000_9873b17401ff2de5"
    title: str  # headline: the first non-furniture line of the text
    text: str  # the file's text, as read (utf-8)
    published: datetime  # REPLAY_EPOCH minus one hour per position in file order


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _is_furniture(line: str) -> bool:
    return len(line.split()) <= _FURNITURE_MAX_WORDS


def headline_of(text: str) -> str:
    """The first line of more than two words (or the first non-blank line if none has)."""
    lines = _lines(text)
    for line in lines:
        if not _is_furniture(line):
            return line.strip()
    return lines[0].strip() if lines else ""


def load_items(txt_dir: Path, on_error: Callable[[TextFileError], None] | None = None) -> list[ReplayItem]:
    """The ``.txt`` files of ``txt_dir`` as replay items, sorted by file name."""
    items: list[ReplayItem] = []
    for path in list_text_files([Path(txt_dir)]):
        try:
            text = read_text_file(path)
            if not text.strip():
                raise TextFileError(path, "no text to replay")
        except TextFileError as err:
            if on_error is None:
                raise ValueError(str(err)) from None
            on_error(err)
            continue
        i = len(items)
        items.append(
            ReplayItem(stem=path.stem, title=headline_of(text), text=text, published=REPLAY_EPOCH - timedelta(hours=i))
        )
    return items


def article_path(item: ReplayItem) -> str:
    return f"/articles/{quote(item.stem)}.html"


# ---------------------------------------------------------------- page


def _esc(text: str) -> str:
    return html.escape(text, quote=True).replace("\xa0", "&nbsp;")


def _split_headline(lines: list[str], title: str) -> tuple[list[str], list[str]]:
    """(kicker lines above the headline, body lines after it)."""
    for i, line in enumerate(lines):
        if line.strip() == title:
            return lines[:i], lines[i + 1 :]
    return [], lines


def _is_subheading(line: str, following: str | None) -> bool:
    """A short line without closing punctuation or colon that introduces a list or a real paragraph."""
    words = line.split()
    if not words or len(words) > _SUBHEADING_MAX_WORDS or line.rstrip()[-1] in _CLOSING_PUNCTUATION:
        return False
    if ":" in line:  # "المصدر: …" is a label and its value, not a heading
        return False
    if following is None:  # a heading at the very end would be no heading (trafilatura drops it too)
        return False
    return following.startswith(BULLET) or len(following.split()) >= _PARAGRAPH_MIN_WORDS


def _body_html(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith(BULLET):
            out.append('<ul class="list">')
            while i < len(lines) and lines[i].startswith(BULLET):
                out.append(f"  <li>{_esc(lines[i][len(BULLET):])}</li>")
                i += 1
            out.append("</ul>")
            continue
        if _is_subheading(line, lines[i + 1] if i + 1 < len(lines) else None):
            out.append(f"<h2>{_esc(line)}</h2>")
            i += 1
            continue
        # repeats of this line join its <p>: trafilatura drops a block repeating the one before
        run = 1
        while i + run < len(lines) and lines[i + run] == line:
            run += 1
        out.append("<p>" + "<br>".join([_esc(line)] * run) + "</p>")
        i += run
    return out


def render_page(item: ReplayItem, site_name: str, related: list[ReplayItem]) -> bytes:
    """A realistic, UTF-8 Arabic news page for ``item``; ``related`` become linked headlines."""
    lines = _lines(item.text)
    kicker, body = _split_headline(lines, item.title)
    first = next((x for x in body if not x.startswith(BULLET)), item.title)
    date_iso = item.published.isoformat()
    date_human = item.published.strftime("%Y-%m-%d %H:%M")
    url = article_path(item)
    site = _esc(site_name)
    title = _esc(item.title)
    desk = f"قسم الأخبار في {site}"
    related_html = [
        f'          <li><a href="{_esc(article_path(r))}">{_esc(r.title)}</a></li>' for r in related[:_RELATED_MAX]
    ]
    parts = [
        "<!doctype html>",
        '<html lang="ar" dir="rtl">',
        "<head>",
        '  <meta charset="utf-8">',
        '  <meta name="viewport" content="width=device-width, initial-scale=1">',
        f"  <title>{title} | {site}</title>",
        f'  <meta name="description" content="{_esc(first)}">',
        f'  <meta property="og:site_name" content="{site}">',
        '  <meta property="og:type" content="article">',
        f'  <meta name="author" content="{desk}">',
        f'  <meta property="og:title" content="{title}">',
        f'  <meta property="og:description" content="{_esc(first)}">',
        '  <meta property="og:locale" content="ar_AR">',
        f'  <meta property="article:published_time" content="{date_iso}">',
        f'  <link rel="canonical" href="{_esc(url)}">',
        '  <link rel="alternate" type="application/rss+xml" title="RSS" href="/feed.xml">',
        "</head>",
        "<body>",
        '  <header class="site-header">',
        f'    <a class="logo" href="/">{site}</a>',
        '    <nav class="main-menu">',
        "      <ul>",
        '        <li><a href="/">الرئيسية</a></li>',
        '        <li><a href="/section/politics">سياسة</a></li>',
        '        <li><a href="/section/world">عربي ودولي</a></li>',
        '        <li><a href="/section/economy">اقتصاد</a></li>',
        '        <li><a href="/section/sports">رياضة</a></li>',
        '        <li><a href="/section/opinion">رأي</a></li>',
        "      </ul>",
        "    </nav>",
        "  </header>",
        '  <nav class="breadcrumb" aria-label="breadcrumb">',
        '    <a href="/">الرئيسية</a> › <a href="/section/world">عربي ودولي</a> › <span>خبر</span>',
        "  </nav>",
        '  <main id="content">',
        '    <article class="post">',
    ]
    parts += [f'      <p class="kicker">{_esc(x)}</p>' for x in kicker]
    parts += [
        f"      <h1>{title}</h1>",
        '      <div class="byline">',
        f'        بقلم: <a class="author" rel="author" href="/author/desk">{desk}</a> ·',
        f'        <time datetime="{date_iso}">{date_human}</time>',
        "      </div>",
        '      <div class="entry-content">',
    ]
    parts += ["        " + x for x in _body_html(body)]
    parts += [
        "      </div>",
        '      <div class="share-buttons">',
        "        <span>شارك:</span>",
        '        <a href="#" class="share-facebook">فيسبوك</a>',
        '        <a href="#" class="share-x">إكس</a>',
        '        <a href="#" class="share-whatsapp">واتساب</a>',
        "      </div>",
        "    </article>",
        '    <aside class="related-posts">',
        "      <h3>اقرأ المزيد</h3>",
        '      <ul class="related">',
        *related_html,
        "      </ul>",
        "    </aside>",
        "  </main>",
        '  <footer class="site-footer">',
        "    <ul>",
        '      <li><a href="/about">من نحن</a></li>',
        '      <li><a href="/contact">اتصل بنا</a></li>',
        '      <li><a href="/privacy">سياسة الخصوصية</a></li>',
        "    </ul>",
        f"    <p>© {item.published.year} {site}. جميع الحقوق محفوظة.</p>",
        "  </footer>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(parts).encode("utf-8")


# ---------------------------------------------------------------- feed


def render_feed(items: list[ReplayItem], base_url: str, site_name: str) -> bytes:
    """RSS 2.0 (UTF-8): guid = the file (`replay/<stem>`, not the URL: the server's port changes from
    one replay to the next, the file does not), RFC 822 dates, first paragraph as description."""
    base = base_url.rstrip("/")
    newest = max((i.published for i in items), default=REPLAY_EPOCH)
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0">',
        "  <channel>",
        f"    <title>{_xml(site_name)}</title>",
        f"    <link>{_xml(base)}/</link>",
        f"    <description>{_xml(site_name)}: آخر الأخبار</description>",
        "    <language>ar</language>",
        f"    <lastBuildDate>{format_datetime(newest)}</lastBuildDate>",
    ]
    for item in items:
        link = base + article_path(item)
        _, body = _split_headline(_lines(item.text), item.title)
        first = next((x.strip() for x in body if not x.startswith(BULLET)), "")
        out += [
            "    <item>",
            f"      <title>{_xml(item.title)}</title>",
            f"      <link>{_xml(link)}</link>",
            f'      <guid isPermaLink="false">replay/{_xml(item.stem)}</guid>',
            f"      <pubDate>{format_datetime(item.published)}</pubDate>",
            f"      <description>{_xml(first)}</description>",
            "    </item>",
        ]
    out += ["  </channel>", "</rss>", ""]
    return "\n".join(out).encode("utf-8")


def _xml(text: str) -> str:
    return html.escape(text, quote=False)


def build_site(txt_dir: Path, base_url: str, site_name: str = DEFAULT_SITE_NAME,
               on_error: Callable[[TextFileError], None] | None = None) -> dict[str, Route]:
    """Routes for StaticServer: ``/feed.xml`` and one page per item."""
    items = load_items(txt_dir, on_error)
    routes: dict[str, Route] = {
        "/feed.xml": Route("application/rss+xml; charset=utf-8", render_feed(items, base_url, site_name)),
    }
    for item in items:
        related = [r for r in items if r.stem != item.stem]
        routes[article_path(item)] = Route("text/html; charset=utf-8", render_page(item, site_name, related))
    return routes
