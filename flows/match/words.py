"""Word keys: how a normalized word is looked up in the term index.

Rules:
- A term word's key is its stem without the article ال (for words of at least 3 letters after
  it); digits, Latin words and ``=word`` are exact keys (``=`` prefixed).
- A text word matches a key when stripping one of PREFIXES (conjunction, preposition, article)
  and one of SUFFIXES (pronouns, dual/plural, nisba) leaves the key, with a stem of at least
  _MIN_STEM letters; a ت before a suffix also stands for teh marbuta (ه after normalization).
- Typos (for variant sets marked ``typos: true``; phrases of two words or more, one typo per
  phrase): a key of at least TYPO_MIN_LETTERS Arabic letters also matches with one letter swapped for a look-alike (a dot missing or misplaced:
  ع/غ, ح/ج/خ, ص/ض, ط/ظ, ض/ظ, س/ش, د/ذ, ر/ز, ب/ت/ث/ن, ف/ق) or one inner long vowel (ا و ي) dropped.
"""

from __future__ import annotations

import re

__all__ = ["PREFIXES", "SUFFIXES", "word_key", "typo_keys"]

_ARABIC_WORD_RE = re.compile(r"^[\u0621-\u064a\u0671-\u06d3]+$")

_CONJ = ("", "و", "ف")
PREFIXES: tuple[str, ...] = tuple(
    sorted(
        {c + p + a for c in _CONJ for p in ("", "ب", "ك", "ل") for a in ("", "ال") if not (p == "ل" and a == "ال")}
        | {c + "لل" for c in _CONJ}
        | {c + "س" for c in _CONJ},
        key=len,
    )
)
SUFFIXES: tuple[str, ...] = tuple(
    sorted(
        {"", "ه", "ها", "هم", "هما", "هن", "ك", "كم", "نا", "ي", "ا", "ان", "ين", "ون", "ات",
         "يه", "يا", "يين", "يون", "تان", "تين", "وا", "ته", "تها", "تهم"},
        key=len,
    )
)
_MIN_STEM = 2
_PREFIX_SET = frozenset(PREFIXES)
_SUFFIX_SET = frozenset(SUFFIXES)
_MAX_PREFIX = max(map(len, PREFIXES))
_MAX_SUFFIX = max(map(len, SUFFIXES))


def word_key(word: str) -> str:
    """Key of one normalized term word: ``=word`` for exact words, the stem without ال otherwise."""
    if word.startswith("="):
        return word
    if _ARABIC_WORD_RE.match(word):
        if word.startswith("ال") and len(word) - 2 >= 3:
            return word[2:]
        return word
    return "=" + word


TYPO_MIN_LETTERS = 4
_LOOK_ALIKE = ("عغ", "حجخ", "صض", "طظ", "ضظ", "سش", "دذ", "رز", "بتثن", "فق")
_SWAPS: dict[str, str] = {}
for _g in _LOOK_ALIKE:
    for _c in _g:
        _SWAPS[_c] = _SWAPS.get(_c, "") + _g.replace(_c, "")


def typo_keys(key: str) -> list[str]:
    """Keys one typo away from ``key`` (see the module rules); none for short or exact keys."""
    if len(key) < TYPO_MIN_LETTERS or not _ARABIC_WORD_RE.match(key):
        return []
    out: dict[str, None] = {}
    for i, c in enumerate(key):
        for r in _SWAPS.get(c, ""):
            out[key[:i] + r + key[i + 1:]] = None
        if c in "اوي" and 0 < i < len(key) - 1:
            out[key[:i] + key[i + 1:]] = None
    out.pop(key, None)
    return list(out)
