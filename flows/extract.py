"""Decode a fetched page and extract its article: pure functions, no Prefect, no I/O.

Rules:
- ``decode_html`` never raises. Charset order: a byte-order mark (unambiguous, as in the WHATWG
  sniffing algorithm), then the HTTP ``Content-Type`` charset, then a ``<meta charset>`` /
  ``http-equiv`` declaration in the first 2 KB, then strict UTF-8, then windows-1256 (Arabic
  pages that declare nothing); an unknown label is ignored; a declared charset is decoded with
  ``errors="replace"``.
- ``extract_article`` calls trafilatura once per page (``bare_extraction`` with XML output and
  metadata, options in ``EXTRACT_SETTINGS``) and renders the article in the seeds' shape from the
  XML tree: headline first, blocks separated by a blank line, ``<lb/>`` as a newline, list items
  as ``"  • item"``, table rows one per line with cells joined by `` | ``.
- trafilatura folds every Unicode space, U+00A0 included, to an ASCII space; the seeds keep their
  no-break spaces, so one that sits between two visible characters is carried through under a
  placeholder and restored. No other normalization of the text.
- Returns None when trafilatura finds no article (or the rendered text is empty).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

from lxml.etree import _Element
from trafilatura import bare_extraction

__all__ = ["Article", "EXTRACT_SETTINGS", "decode_html", "extract_article", "render_xml"]


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
        "with_metadata": True,  # title/date/sitename in the same pass: one trafilatura call per page
        "include_comments": False,  # reader comments are not the article (trafilatura's default is True)
        "include_tables": True,
        "include_images": False,
        "include_links": False,
        "include_formatting": False,
        # Off: the seeds repeat lines (a caption, a headline) that the article really has twice.
        "deduplicate": False,
        "favor_precision": False,
        "favor_recall": False,
    }
)

# ---------------------------------------------------------------- decoding

_SNIFF_BYTES = 2048
_CHARSET_PARAM = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)""", re.I)
_META_TAG = re.compile(rb"<meta\b[^>]*>", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# WHATWG label mapping where Python's codec of the same name would decode differently.
_LABEL_ALIASES = {
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "iso_8859-1": "cp1252",
}


def _codec(label: str | None) -> str | None:
    """Python codec name for a charset label, or None when unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _LABEL_ALIASES.get(label, label)
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    # A page that could be read as ASCII to find its <meta> is not UTF-16 (WHATWG: use UTF-8).
    return "utf-8" if name.startswith("utf-16") or name.startswith("utf-32") else name


def _header_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = _CHARSET_PARAM.search(content_type)
    return _codec(match.group(1)) if match else None


def _meta_charset(head: bytes) -> str | None:
    for tag in _META_TAG.finditer(head):
        text = tag.group(0).decode("ascii", "replace")
        match = re.search(r"""\bcharset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)""", text, re.I)
        if match:
            codec = _codec(match.group(1))
            if codec:
                return codec
    return None


def decode_html(body: bytes, content_type: str | None) -> str:
    """Decode a page body to text; see the module rules for the charset order."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(codec, errors="replace")
    declared = _header_charset(content_type) or _meta_charset(body[:_SNIFF_BYTES])
    if declared:
        return body.decode(declared, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        # cp1256 maps every byte, so this cannot fail; "replace" is a belt for codec changes.
        return body.decode("cp1256", errors="replace")


# ---------------------------------------------------------------- extraction

# A printable symbol (trafilatura drops non-printables) that pages do not use as text.
_NBSP_MARK = "\u2422"
# A no-break space, raw or as an entity, between two visible characters of text.
_NBSP_INNER = re.compile(r"(?<=[^\s<>;])(?:\xa0|&nbsp;|&#160;|&#[xX]0*[aA]0;)(?=[^\s<>&])")
_BLOCKS = frozenset({"p", "head", "list", "quote", "code", "table", "graphic", "div", "item", "row"})
_BULLET = "  • "
_SPACES = re.compile(r"\s+")
_HTML_LANG = re.compile(r"""<html\b[^>]*?\blang\s*=\s*["']?([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)*)""", re.I)


def _clean(text: str) -> str:
    """Collapse runs of whitespace (trafilatura leaves some in tails) and restore no-break spaces."""
    return _SPACES.sub(" ", text).strip().replace(_NBSP_MARK, "\xa0")


def _inline(elem: _Element) -> str:
    """Text of an element's content, ``<lb/>`` as a newline, nested blocks flattened inline."""
    parts: list[str] = [elem.text or ""]
    for child in elem:
        if child.tag == "lb":
            parts.append("\n")
        else:
            parts.append(" " + _inline(child) + " " if child.tag in _BLOCKS else _inline(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _lines(text: str) -> list[str]:
    return [line for line in (_clean(part) for part in text.split("\n")) if line]


def _render_list(elem: _Element, depth: int) -> list[str]:
    lines: list[str] = []
    indent = "  " * depth
    for item in elem:
        if item.tag != "item":
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
            parts.append("\n" if child.tag == "lb" else _inline(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _render_table(elem: _Element) -> list[str]:
    rows: list[str] = []
    for row in elem.iter("row"):
        cells = [" ".join(_lines(_inline(cell))) for cell in row if cell.tag == "cell"]
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


def extract_article(html: str, url: str | None = None) -> Article | None:
    """The article of a decoded page, or None when trafilatura finds none."""
    if _NBSP_MARK not in html:  # a page using the placeholder itself keeps trafilatura's folding
        html = _NBSP_INNER.sub(_NBSP_MARK, html)
    try:
        doc = bare_extraction(html, url=url, **EXTRACT_SETTINGS)
    except Exception:  # trafilatura raises on some malformed input; a page without article is None
        return None
    if doc is None or getattr(doc, "body", None) is None:
        return None
    text = render_xml(doc.body)
    if not text:
        return None
    return Article(
        text=text,
        title=_meta(doc.title),
        date=_meta(doc.date),
        sitename=_meta(doc.sitename),
        author=_meta(doc.author),
        # trafilatura fills language only with its optional detector; the page's own lang= is cheaper
        language=_meta(doc.language) or _page_language(html),
    )
