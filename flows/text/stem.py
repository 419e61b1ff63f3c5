"""Arabic roots for the matcher's morphological terms (``~word``), from nltk's ISRI stemmer.

Rules:
- :func:`root` gives the ISRI root of one normalized Arabic word (جنود, جندي, الجنديين, مجندين →
  جند; أرسل, يرسلون, إرسال → رسل).  Words of fewer than 3 letters are their own root.
- ISRI was chosen by measured accuracy and speed on the topics' word families
  (``bench/bench_stem.py``; figures in README).  nltk is imported on first use only (its import
  costs about a second), so configs without ``~`` terms never pay for it.
- Results are cached per word (bounded); the matcher caches per word too.
- ISRI only deletes letters, apart from its own normalization (short vowels dropped, an initial
  hamza on alef made a bare alef): :func:`may_have_root` tells, without ISRI, whether a word can
  have one of some roots, so the matcher stems only the words that could match a ``~`` term.
"""

from __future__ import annotations

import functools

__all__ = ["root", "may_have_root"]

_stemmer = None


def _isri():
    global _stemmer
    if _stemmer is None:
        from nltk.stem.isri import ISRIStemmer

        _stemmer = ISRIStemmer()
    return _stemmer


@functools.lru_cache(maxsize=200_000)
def root(word: str) -> str:
    """The root of a normalized Arabic word (the word itself when shorter than 3 letters)."""
    if len(word) < 3:
        return word
    return _isri().stem(word)


# characters that ISRI's own normalization changes or drops: then a root may hold a letter the word lacks
_ISRI_CHANGES = frozenset("\u0622\u0623\u0625" + "".join(chr(c) for c in range(0x064B, 0x0653)))


def may_have_root(word: str, root_letters: tuple[frozenset[str], ...]) -> bool:
    """False when ``root(word)`` is surely none of the roots whose letter sets are ``root_letters``
    (a root's letters are all letters of the word); True otherwise."""
    letters = set(word)
    if not letters.isdisjoint(_ISRI_CHANGES):
        return True
    for r in root_letters:
        if r <= letters:
            return True
    return False
