"""Decode a fetched page or a local text file to text: pure functions, no I/O; never raise.

Rules:
- ``decode_html`` never raises. Charset order: a byte-order mark (unambiguous, as in the WHATWG
  sniffing algorithm; UTF-32 marks before UTF-16's), then the HTTP ``Content-Type`` charset, then
  a ``<meta charset>`` / ``http-equiv`` declaration anywhere in the ``<head>`` (up to ``</head>``
  or ``<body>``, at most the first 256 KB), then ``decode_undeclared``: strict UTF-8, else
  windows-1256 when the bytes read as Arabic in it (every run of non-ASCII letters is Arabic
  letters and marks; a Latin-1, Cyrillic … page has Latin letters or symbols in those runs), else
  charset-normalizer's best guess, else UTF-8 with replacement characters. An unknown label is
  ignored; a declared charset is decoded with ``errors="replace"``.
"""

from __future__ import annotations

import codecs
import re

__all__ = ["decode_html", "decode_undeclared"]

# Where a <meta> charset is looked for: the <head>, bounded (a head of inline scripts can be long).
_SNIFF_BYTES = 256 * 1024
_HEAD_END = re.compile(rb"</head\b|<body\b", re.I)
_CHARSET_PARAM = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)""", re.I)
_META_TAG = re.compile(rb"<meta\b[^>]*>", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
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


def _head(body: bytes) -> bytes:
    """The bytes before ``</head>`` or ``<body>``, at most ``_SNIFF_BYTES``."""
    window = body[:_SNIFF_BYTES]
    end = _HEAD_END.search(window)
    return window[: end.start()] if end else window


def decode_html(body: bytes, content_type: str | None) -> str:
    """Decode a page body to text; see the module rules for the charset order."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(codec, errors="replace")
    declared = _header_charset(content_type) or _meta_charset(_head(body))
    if declared:
        return body.decode(declared, errors="replace")
    return decode_undeclared(body)


# A run of non-ASCII characters in windows-1256: in Arabic text only Arabic letters, marks, tatweel,
# ZWNJ/ZWJ/LRM/RLM and Arabic punctuation; the Latin letters and symbols cp1256 also maps betray
# a page in another single-byte charset.
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_ARABIC_RUN = re.compile("[\u0600-\u06ff\u200c-\u200f\u2010-\u2027\u00a0\u00ab\u00bb]+")


def _reads_as_arabic(body: bytes) -> bool:
    text = body.decode("cp1256", errors="replace")
    runs = _NON_ASCII_RUN.findall(text)
    if not runs:
        return False
    arabic = sum(len(r) for r in runs if _ARABIC_RUN.fullmatch(r))
    letters = sum(1 for r in runs for c in r if "\u0621" <= c <= "\u064a")
    return letters >= 2 and arabic >= 0.9 * sum(len(r) for r in runs)


def decode_undeclared(body: bytes) -> str:
    """Bytes with no charset declared (a page, a text file): see the module rules. Never raises."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(codec, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if _reads_as_arabic(body):
        # cp1256 maps every byte, so this cannot fail; "replace" is a belt for codec changes.
        return body.decode("cp1256", errors="replace")
    from charset_normalizer import from_bytes  # a dependency of trafilatura and of requests

    best = from_bytes(body).best()
    if best is not None and best.encoding:
        return body.decode(best.encoding, errors="replace")
    return body.decode("utf-8", errors="replace")
