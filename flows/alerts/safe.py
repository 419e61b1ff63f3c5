"""Publisher text made safe to show people: one line, no spoofing controls, no live markup.

Everything from a feed or a page (titles, outlet and feed names, evidence, URLs) is untrusted.
Rules, applied by the alert and digest templates (as jinja filters) and to subjects:
- :func:`clean` — one display line: CR, LF, the other line and paragraph separators and every
  C0/C1 control (ESC included: a terminal shows the console sink) become a space, runs of spaces
  one space; bidi controls (LRM, RLM, ALM, the embeddings and overrides U+202A–U+202E, the
  isolates U+2066–U+2069) are removed, so a title cannot forge a line or reorder what it shows;
- :func:`md` — :func:`clean`, then CommonMark-escaped: ``\\ ` * _ [ ] ~ |`` get a backslash, ``<``
  and ``>`` (and ``&`` opening an entity) become entities — no link, image, autolink or HTML tag
  can form, whether the channel shows the markdown, renders it (CommonMark, GFM) or converts it to
  HTML (Python-Markdown, which does not honour ``\\<``); a line-leading ``#``, ``>``, ``-``, ``+``,
  ``=`` or ``1.`` is escaped too;
- :func:`http_link` — a URL becomes a link only when it is an absolute http(s) URL with a host; it
  comes back with spaces, quotes, brackets, parentheses, backslashes, controls and bidi controls
  percent-encoded (the same resource, and what the reader sees is where it goes). Any other URL
  (``javascript:``, ``data:``, ``file:``, relative …) gets ``None``: templates then show it as
  text, never as a link;
- HTML templates are autoescaped by jinja; :func:`clean` is still applied for the line and bidi rules.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = ["clean", "md", "http_link", "shown_url", "FILTERS"]

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_BIDI_RE = re.compile(f"[{_BIDI}]")
# C0 and C1 controls (tab and newlines included), DEL, and the Unicode line/paragraph separators.
_BREAKS_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SPACES_RE = re.compile(r"[ \t\u00a0\u3000]{2,}")

_MD_ESCAPE_RE = re.compile(r"([\\`*_\[\]~|])")
_ENTITY_START_RE = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_LINE_START_RE = re.compile(r"^(\s*)([#>\-+=]|\d+(?=[.)]))")

# Characters percent-encoded in a link: never valid raw in a URL, or they end a markdown link
# destination or an HTML attribute early.
_URL_UNSAFE_RE = re.compile(f"[\x00-\x20\x7f-\x9f\"'<>()\\\\`{_BIDI}\u2028\u2029]")


def clean(text: object) -> str:
    """One line of display text: no controls, no bidi controls, single spaces."""
    s = "" if text is None else str(text)
    if _BIDI_RE.search(s):
        s = _BIDI_RE.sub("", s)
    s = _BREAKS_RE.sub(" ", s)
    return _SPACES_RE.sub(" ", s).strip()


def md(text: object) -> str:
    """:func:`clean`, escaped for markdown: shows as the same text, never as markup."""
    s = clean(text)
    s = _MD_ESCAPE_RE.sub(r"\\\1", s)
    s = _ENTITY_START_RE.sub("&amp;", s)
    s = s.replace("<", "&lt;").replace(">", "&gt;")
    # a leading '&gt;' is already inert; escape the other block starters
    return _LINE_START_RE.sub(lambda m: m.group(1) + "\\" + m.group(2) if not m.group(2).isdigit()
                              else m.group(1) + m.group(2) + "\\", s, count=1)


def _encode(url: str) -> str:
    return _URL_UNSAFE_RE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group(0).encode("utf-8")), url)


def http_link(url: object) -> str | None:
    """``url`` safe to use as a link target, or None when it must not be a link."""
    if not url:
        return None
    raw = str(url).strip()
    try:
        parts = urlsplit(_encode(raw))
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return _encode(raw)


def shown_url(url: object) -> str:
    """A URL as text for people: percent-encoded like :func:`http_link`, for any scheme."""
    return _encode(str(url or "").strip())


def _md_url(url: object) -> str:
    """A markdown-escaped URL shown as text (a non-http(s) item link)."""
    return md(shown_url(url))


FILTERS = {"clean": clean, "md": md, "md_url": _md_url, "shown_url": shown_url}
