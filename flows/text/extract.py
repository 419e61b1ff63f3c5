"""Extract a fetched page's article: pure functions, no Prefect, no I/O.

Rules:
- decoding (``decode_html``, ``decode_undeclared``) lives in :mod:`flows.text.decode`; both are
  re-exported here.
- ``extract_article`` parses the page once and calls trafilatura's extraction once
  (``bare_extraction`` with XML output, options in ``EXTRACT_SETTINGS``); metadata comes from
  trafilatura's own metadata steps on the same tree (``_metadata``), only the fields the caller
  asks for (title, date and sitename by default; author only on request: its byline search costs
  a third of a page), skipping the categories/tags/license passes of ``with_metadata=True``. It renders the article in the seeds' shape from the
  XML tree (trafilatura's own txt output uses single newlines and ``- `` bullets): headline first,
  blocks (head, p, list, table, quote, code) separated by a blank line, headings on their own
  line, ``<lb/>`` as a newline, list items as ``"  • item"`` (nested lists two spaces deeper),
  table rows one per line with cells joined by `` | ``; spaces inside a line are collapsed as
  HTML does, except in code. Only inline elements (hi, ref, del …) touch their neighbours: any
  other element nested where trafilatura puts it (a cell or row outside a table, a head inside an
  item, a table inside a cell or a paragraph, a list inside a paragraph) is kept apart by a line
  break or a space, so no word boundary of the page is lost; a nested table is rendered once,
  inside its cell.
- ``language`` is the page's ``<html lang>`` (trafilatura sets one only with its optional detector).
- Metadata that fails to extract is None; it never costs the article.
- trafilatura folds every Unicode space, U+00A0 included, to an ASCII space; the seeds keep their
  no-break spaces, so one that sits between two visible characters is carried through under a
  placeholder and restored. No other normalization of the text.
- Returns None when trafilatura finds no article (or the rendered text is empty).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any, Mapping

from htmldate import find_date
from lxml.etree import ElementDefaultClassLookup, HTMLParser, _Element
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HtmlProcessingInstruction, fromstring
from trafilatura import bare_extraction
from trafilatura.metadata import examine_meta, extract_author, extract_meta_json, extract_sitename, extract_title
from trafilatura.settings import Document
from trafilatura.utils import is_dubious_html, load_html, repair_faulty_html

from flows.text.decode import decode_html, decode_undeclared

__all__ = ["Article", "DEFAULT_METADATA", "EXTRACT_SETTINGS", "METADATA_FIELDS", "decode_html", "decode_undeclared",
           "extract_article", "render_xml"]


@dataclass(frozen=True)
class Article:
    text: str  # the article in the seeds' shape
    title: str | None  # metadata title trafilatura found
    date: str | None  # ISO date (YYYY-MM-DD) trafilatura found
    sitename: str | None
    author: str | None
    language: str | None


# The one place for trafilatura options (the keyword arguments of bare_extraction).
EXTRACT_SETTINGS: Mapping[str, Any] = MappingProxyType(
    {
        "output_format": "xml",  # keep the structure (head, p, lb, list/item, table) to render ourselves
        # Metadata comes from _metadata() on the same parsed tree: with_metadata=True also computes
        # categories, tags, license and URL, which doubles the cost of a page for nothing we use.
        "with_metadata": False,
        "include_comments": False,  # reader comments are not the article (trafilatura's default is True)
        "include_tables": True,
        "include_images": False,
        "include_links": False,
        "include_formatting": False,
        # Off: trafilatura's dedup is a process-wide cache, so from the fourth page carrying a line
        # (a source line, a repeated headline) it silently drops it; the seeds keep their repeats.
        "deduplicate": False,
        "favor_precision": False,
        "favor_recall": False,
    }
)

# ---------------------------------------------------------------- extraction

# A printable symbol (trafilatura drops non-printables) that pages do not use as text.
_NBSP_MARK = "\u2422"
# A no-break space, raw or as an entity; kept only between two visible characters of text
# (a spacer <p>&nbsp;</p> or an indent stays trafilatura's to fold). Token first, then a look at
# its neighbours: a leading lookbehind would run at every position of the page.
_NBSP_FORMS = ("\xa0", "&nbsp;", "&#160;", "&#xa0;", "&#xA0;")
_NBSP_TOKEN = re.compile(r"\xa0|&nbsp;|&#160;|&#x[aA]0;")
_NOT_BEFORE = frozenset("<>;")
_NOT_AFTER = frozenset("<>&")
# trafilatura's inline elements (formatting, links, deletions); every other element is kept apart.
_INLINE = frozenset({"hi", "ref", "del", "span", "sub", "sup"})
_BULLET = "  • "
_HTML_LANG = re.compile(r"""<html\b[^>]*?\blang\s*=\s*["']?([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)*)""", re.I)


# trafilatura's parser options (those of trafilatura.utils.HTML_PARSER), with lxml's C-level class
# lookup: lxml.html's own calls a Python method for every element proxy lxml creates (~1,700 a
# page, each tree copy and walk of trafilatura's making new ones). Its elements are the same
# HtmlElement; only lxml.html's form classes (FormElement, InputElement …), which nothing here
# uses, are not picked by tag.
_PARSER = HTMLParser(collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True,
                     remove_pis=True)
_PARSER.set_element_class_lookup(ElementDefaultClassLookup(
    element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity))


def _load_html(html: str) -> HtmlElement | None:
    """trafilatura's ``load_html`` of a decoded page with `_PARSER`: the same repairs first, and
    any page that would take one of its other paths (an encoding declaration lxml refuses in a
    str, an empty parse, a page that does not look like HTML) goes to ``load_html`` itself."""
    beginning = html[:50].lower()
    if is_dubious_html(beginning):
        return load_html(html)
    try:
        tree = fromstring(repair_faulty_html(html, beginning), parser=_PARSER)
    except Exception:  # ValueError for an XML encoding declaration, and the rarer failures
        return load_html(html)
    return tree if tree is not None and len(tree) >= 1 else load_html(html)


def _protect_nbsp(html: str) -> str:
    # Substring tests are far cheaper than the token scan; each is a pass over the page, so the
    # numeric forms are looked for only on a page with a numeric entity at all.
    if ("\xa0" not in html and "&nbsp;" not in html
            and not ("&#" in html and any(form in html for form in _NBSP_FORMS[2:]))):
        return html
    out: list[str] = []
    last = 0
    for match in _NBSP_TOKEN.finditer(html):
        start, end = match.span()
        if start == 0 or end == len(html):
            continue
        before, after = html[start - 1], html[end]
        if before.isspace() or after.isspace() or before in _NOT_BEFORE or after in _NOT_AFTER:
            continue
        out += (html[last:start], _NBSP_MARK)
        last = end
    if not out:
        return html
    out.append(html[last:])
    return "".join(out)


def _clean(text: str) -> str:
    """Collapse runs of whitespace (trafilatura leaves some in tails) and restore no-break spaces."""
    return " ".join(text.split()).replace(_NBSP_MARK, "\xa0")


def _inline(elem: _Element) -> str:
    """Text of an element's content, ``<lb/>`` as a newline, a nested block (a <p> in a quote, a
    <head> or a table in an item, a list in a <p>) on lines of its own, a cell apart from its
    neighbours, inline elements (hi, ref, del) joined as they are."""
    parts: list[str] = [elem.text or ""]
    for child in elem:
        parts.append(_child_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _child_text(child: _Element) -> str:
    """A child element's text as it sits in its parent's: only inline elements touch their
    neighbours, so no word boundary of the page is lost (trafilatura nests what it does not treat
    as blocks: cells, rows, heads inside items, tables inside cells or paragraphs …)."""
    tag = child.tag
    if tag == "lb":
        return "\n"
    if tag in _INLINE or not isinstance(tag, str):  # comments and processing instructions: their tails only
        return _inline(child) if isinstance(tag, str) else ""
    if tag == "table":
        return "\n" + "\n".join(_render_table(child)) + "\n"
    if tag == "cell":
        return " " + _inline(child) + " "
    return "\n" + _inline(child) + "\n"
def _lines(text: str) -> list[str]:
    return [line for line in (_clean(part) for part in text.split("\n")) if line]


def _render_list(elem: _Element, depth: int) -> list[str]:
    lines: list[str] = []
    indent = "  " * depth
    for item in elem:
        if item.tag != "item":  # a <head> or stray block inside the list: its lines, not dropped
            if isinstance(item.tag, str) and item.tag != "list":
                lines.extend(indent + line for line in _lines(_inline(item)))
            elif item.tag == "list":
                lines.extend(_render_list(item, depth + 1))
            continue
        # the item's own text; nested lists go underneath, one level deeper
        own = _item_text(item)
        nested = [c for c in item if c.tag == "list"]
        for i, line in enumerate(_lines(own)):
            lines.append(indent + (_BULLET if i == 0 else "    ") + line)
        for sub in nested:
            lines.extend(_render_list(sub, depth + 1))
    return lines


def _item_text(item: _Element) -> str:
    """Inline text of a list item without its nested lists."""
    parts: list[str] = [item.text or ""]
    for child in item:
        if child.tag != "list":
            parts.append(_child_text(child))
        else:  # the list is rendered underneath; its place still separates the words around it
            parts.append("\n")
        parts.append(child.tail or "")
    return "".join(parts)


def _own_rows(table: _Element) -> list[_Element]:
    """The rows of ``table`` itself, not those of a table nested in one of its cells."""
    return [row for row in table.iter("row")
            if next((a for a in row.iterancestors("table")), None) is table]


def _render_table(elem: _Element) -> list[str]:
    rows: list[str] = []
    for row in _own_rows(elem):
        cells = [" ".join(_lines(_inline(cell))) for cell in row if isinstance(cell.tag, str)]
        line = " | ".join(c for c in cells if c)
        if line:
            rows.append(line)
    return rows


def render_xml(body: _Element) -> str:
    """Render trafilatura's XML body (``<body>``/``<main>``) as the seeds' plain text."""
    blocks: list[str] = []
    for elem in body:
        tag = elem.tag
        if tag == "list":
            lines = _render_list(elem, 0)
        elif tag == "table":
            lines = _render_table(elem)
        elif tag == "graphic":
            lines = []
        elif tag == "code":  # trafilatura keeps code spacing; so do we, line by line
            lines = [line.rstrip() for line in "".join(elem.itertext()).split("\n") if line.strip()]
        else:  # head, p, quote, code and anything else: its text, <lb/> as newlines
            lines = _lines(_inline(elem))
        if lines:
            blocks.append("\n".join(lines))
        if elem.tail and elem.tail.strip():  # loose text between blocks is a paragraph of its own
            blocks.extend(_lines(elem.tail))
    return "\n\n".join(blocks)


def _meta(value: str | None) -> str | None:
    if not value:
        return None
    return value.replace(_NBSP_MARK, "\xa0")


def _page_language(html: str) -> str | None:
    match = _HTML_LANG.search(html[:4096])
    return match.group(1).lower() if match else None


# What `extract_article` may compute besides the text. Author costs about a third of a page's
# extraction (trafilatura's byline search walks the whole tree) and nothing reads it: only on request.
METADATA_FIELDS = frozenset({"title", "date", "sitename", "author"})
DEFAULT_METADATA = frozenset({"title", "date", "sitename"})


def _metadata(tree: Any, url: str | None, fields: frozenset[str]) -> Document:
    """trafilatura's extract_metadata() steps for the ``fields`` asked for only, cheapest first:
    the <meta> tags and JSON-LD (title, sitename, author) always when one of those is wanted, the
    tree searches (title, author, sitename) only when those left it empty, htmldate only for
    ``date``, with the settings bare_extraction() uses (original date, no extensive search,
    nothing after today)."""
    meta = Document()
    if fields & {"title", "sitename", "author"}:
        meta = examine_meta(tree)
        if meta.author and " " not in meta.author:  # as trafilatura: a one-word author is a handle
            meta.author = None
        meta = extract_meta_json(tree, meta)
    if "title" in fields:
        meta.title = meta.title or extract_title(tree)
    else:
        meta.title = None
    if "author" in fields:
        meta.author = meta.author or extract_author(tree)
    else:
        meta.author = None
    if "date" in fields:
        meta.date = find_date(
            tree,
            url=url,
            original_date=True,
            extensive_search=False,
            max_date=datetime.now().astimezone().strftime("%Y-%m-%d"),
        )
    if "sitename" in fields:
        meta.sitename = (meta.sitename or extract_sitename(tree) or "").lstrip("@") or None
    else:
        meta.sitename = None
    meta.clean_and_trim()
    return meta


def extract_article(html: str, url: str | None = None,
                    metadata: frozenset[str] = DEFAULT_METADATA) -> Article | None:
    """The article of a decoded page, or None when trafilatura finds none. ``metadata``: the
    fields of `METADATA_FIELDS` to compute (the others are None); author only when asked for."""
    unknown = set(metadata) - METADATA_FIELDS
    if unknown:
        raise ValueError(f"unknown metadata fields: {sorted(unknown)}")
    if _NBSP_MARK not in html:  # a page using the placeholder itself keeps trafilatura's folding
        html = _protect_nbsp(html)
    try:
        tree = _load_html(html)  # parsed once: bare_extraction works on a copy, metadata on this
        if tree is None:
            return None
        doc = bare_extraction(tree, url=url, **EXTRACT_SETTINGS)
        if doc is None or getattr(doc, "body", None) is None:
            return None
        text = render_xml(doc.body)
    except Exception:  # trafilatura raises on some malformed input; a page without article is None
        return None
    if not text:
        return None
    try:
        meta = _metadata(tree, url, frozenset(metadata)) if metadata else Document()
    except Exception:  # htmldate or a JSON-LD block can choke: the article still counts
        meta = Document()
    return Article(
        text=text,
        title=_meta(meta.title),
        date=_meta(meta.date),
        sitename=_meta(meta.sitename),
        author=_meta(meta.author),
        language=_page_language(html),
    )
