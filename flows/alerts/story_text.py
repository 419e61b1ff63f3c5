"""Story text: the article body without its page furniture, normalized, one paragraph per line.

Rules:
- The body is the article without its furniture: the title (the first non-blank line when it
  is headline-like: at most 25 words, no final full stop; after a one- or two-word breadcrumb),
  the ``المصدر`` / ``كلمات دلالية`` lines, ``  • `` bullets, and the related-headlines blocks
  (the header "إقرأ أيضاً", "مقالات مشابهة", "مقالات ذات صلة" or "الأكثر قراءة", or a bare
  "المصدر" credits header, and the short lines, at most 25 words, that follow it).
- Text is normalized with ``flows.text.normalize.normalize`` (diacritics, tatweel, hamza/alef, teh
  marbuta, Farsi letters), so added tashkeel or another spelling of a hamza changes nothing.
"""

from __future__ import annotations

import re

from flows.text.normalize import normalize as _normalize

__all__ = ["body_text", "body_lines"]

# Lines after a related-headlines header are headlines while they stay this short (in words).
_HEADLINE_MAX_WORDS = 25
_WORD_RE = re.compile(r"[^\W_]+")
_BULLET_RE = re.compile(r"^\s*[•·▪◦\-–*]\s+")
# A bare "المصدر" line opens the credits block of some sites (writer, site, "published first on").
_BLOCK_HEADERS = tuple(_normalize(h) for h in ("إقرأ أيضاً", "اقرأ أيضا", "مقالات مشابهة", "مقالات ذات صلة",
                                                "الأكثر قراءة", "أخبار ذات صلة", "المصدر"))
_DROP_PREFIXES = tuple(_normalize(h) for h in ("المصدر", "كلمات دلالية", "الكلمات الدلالية", "الوسوم"))


def _clean(line: str) -> str:
    return line.strip().rstrip(":：").strip()


def _is_headline(line: str) -> bool:
    c = line.strip()
    return len(_WORD_RE.findall(c)) <= _HEADLINE_MAX_WORDS and not c.endswith((".", "؟", "!", "…"))


def _body_lines(text: str) -> list[str]:
    """Normalized paragraphs of the article body (furniture removed, see the module rules)."""
    lines = [_normalize(ln) for ln in text.splitlines()]
    nonblank = [i for i, ln in enumerate(lines) if ln.strip()]
    skip: set[int] = set()
    if nonblank:
        # A one- or two-word first line is a breadcrumb ("الرئيسية"); the title follows it.
        first = nonblank[0]
        if len(_WORD_RE.findall(lines[first])) <= 2 and len(nonblank) > 1:
            skip.add(first)
            first = nonblank[1]
        if _is_headline(lines[first]):  # some pages start with the lede itself: keep it then
            skip.add(first)
    out: list[str] = []
    in_block = False
    for i, ln in enumerate(lines):
        c = _clean(ln)
        if not c or i in skip:
            continue
        if c in _BLOCK_HEADERS:
            in_block = True
            continue
        if _BULLET_RE.match(ln) or c.startswith(_DROP_PREFIXES):
            continue
        if in_block:
            if len(_WORD_RE.findall(c)) <= _HEADLINE_MAX_WORDS:
                continue
            in_block = False  # a long paragraph: the article goes on after the block
        out.append(c)
    return out


def body_text(text: str) -> str:
    """The normalized body the fingerprint is computed on, one paragraph per line (for debugging)."""
    return "\n".join(_body_lines(text))


body_lines = _body_lines  # the public name
