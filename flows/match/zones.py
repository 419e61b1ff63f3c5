"""Zoning: which lines of an extracted article count, and which is the title.

Rules:
- The first counted line is the title, the others are body.
- Page furniture never counts: breadcrumbs and lines of fewer than three words, share lines
  ("شارك" and at most five more words; "شارك الوزير في …" is prose), the ``المصدر``
  source line and the ``كلمات دلالية`` tag line, related-headline blocks ("إقرأ أيضاً",
  "مقالات مشابهة", "مقالات ذات صلة", "الأكثر قراءة", …) and everything after them (until a long
  prose paragraph of at least _LONG_PROSE words ending a sentence), inline "اقرأ أيضا: …" teasers
  and bullet lines ("  • …") that read like headlines (no sentence-final punctuation), unless they
  are the points of a summary: bullets right after a line that ends with a colon ("أبرز ما جاء في
  البيان:") or opens with a summary word ("ملخص: …", "أبرز …", "أهم …", "خلاصة …", "في نقاط"),
  or the text has no other body line (a title over a list alone keeps the list as its body).
- Only line ends are looked at for sentence-final punctuation.
"""

from __future__ import annotations

import re

_RELATED_RE = re.compile(
    r"^\W*(?:اقرا ايضا|اقرا كذلك|اقرا المزيد|شاهد ايضا|طالع ايضا|تابع ايضا|مقالات مشابهه|مقالات ذات صله"
    r"|اخبار ذات صله|اخبار مشابهه|اخبار متعلقه|مواضيع ذات صله|موضوعات ذات صله|موضوعات متعلقه"
    r"|مواضيع متعلقه|الاكثر قراه|الاكثر مشاهده|الاكثر تداولا|قد يهمك|اخترنا لك|روابط ذات صله"
    r"|المزيد من الاخبار|اخر الاخبار|ذات صله|related)\b\W*(.*)$"
)
_SOURCE_RE = re.compile(r"^\W*(?:المصدر|مصدر الخبر|source)\b")
_TAGS_RE = re.compile(r"^\W*(?:كلمات دلاليه|الكلمات الدلاليه|كلمات مفتاحيه|الكلمات المفتاحيه|الوسوم|وسوم|tags)\b")
_FURNITURE_RE = re.compile(
    r"^\W*(?:الرييسيه|زر الذهاب|انتهي\b|تم نشره|نشر الخبر|نشر بتاريخ|تاريخ النشر|ادارة الموقع|ادارة الموقع"
    r"|الموقع\s*:|الكاتب\s*:|شارك(?:\W+\w+){0,5}\W*$|تابعونا|تابعنا|اشترك)"
)
_BULLET_RE = re.compile(r"^\s*[•·▪●◦■►*\-–—]\s*")
_BULLETS = "•·▪●◦■►*-–—"  # _BULLET_RE.match(s) of a stripped line s is s[0] in _BULLETS
# A line that none of the four patterns above can match fails this one (their alternatives, each
# after the same ^\W*): most lines are prose and are tested once instead of four times.
_ANY_RE = re.compile("|".join("(?:" + r.pattern + ")" for r in (_RELATED_RE, _SOURCE_RE, _TAGS_RE, _FURNITURE_RE)))
_ENDS_SENTENCE_RE = re.compile(r"[.!؟?…:]\W*$")
# a line that introduces a list of summary points (normalized text: أبرز → ابرز, خلاصة → خلاصه)
_SUMMARY_RE = re.compile(r"^\W*(?:ملخص|خلاصه|ابرز|اهم|في نقاط)\b")


_LONG_PROSE = 20


def _marks_start(s: str) -> int:
    """Where the trailing non-word characters of ``s`` begin (\\w is alphanumeric or _)."""
    i = len(s)
    while i and not (s[i - 1].isalnum() or s[i - 1] == "_"):
        i -= 1
    return i


def _ends_sentence(s: str) -> bool:
    """``_ENDS_SENTENCE_RE.search(s)``, looking only at the trailing non-word characters."""
    return _ENDS_SENTENCE_RE.search(s, _marks_start(s)) is not None


def _opens_summary(s: str) -> bool:
    """``s`` ends with a colon (before trailing marks) or opens with a summary word."""
    return ":" in s[_marks_start(s):] or _SUMMARY_RE.match(s) is not None


def _zones(norm_lines: list[str]) -> list[tuple[int, str]]:
    """Counted lines of a document: (line index, zone) with zone "title" or "body"."""
    out: list[tuple[int, str]] = []
    tail = False
    have_title = False
    lead = ""  # the last line that is not a bullet: a summary's bullet points follow their lead line
    points: list[int] = []  # headline-like bullets: the body when nothing else is
    for i, line in enumerate(norm_lines):
        s = line.strip()
        if not s:
            continue
        furniture = False
        if _ANY_RE.match(s):
            m = _RELATED_RE.match(s)
            if m:
                if not m.group(1).strip():
                    tail = True  # a header alone: a block of other headlines follows
                continue
            if _SOURCE_RE.match(s) or _TAGS_RE.match(s):
                tail = True
                continue
            furniture = _FURNITURE_RE.match(s) is not None
        if tail:
            if (len(s.split(None, _LONG_PROSE)) >= _LONG_PROSE and _ends_sentence(s)
                    and s[0] not in _BULLETS):  # long prose
                tail = False
            else:
                continue
        bullet = s[0] in _BULLETS
        if not bullet:
            lead = s  # also a short "أبرز النقاط:" or a furniture line
        if furniture or len(s.split(None, 2)) < 3:  # fewer than three words
            continue
        if bullet and not _ends_sentence(s) and not _opens_summary(lead):
            if have_title:
                points.append(i)
            continue
        if not have_title:
            out.append((i, "title"))
            have_title = True
        else:
            out.append((i, "body"))
    if len(out) == 1 and points:
        out.extend((i, "body") for i in points)
    return out
