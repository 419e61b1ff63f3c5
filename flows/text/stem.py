"""Arabic roots for the matcher's morphological terms (``~word``), from nltk's ISRI stemmer.

Rules:
- :func:`root` gives the ISRI root of one normalized Arabic word (جنود, جندي, الجنديين, مجندين →
  جند; أرسل, يرسلون, إرسال → رسل).  Words of fewer than 3 letters are their own root.
- ISRI was chosen by measured accuracy and speed on the topics' word families
  (``bench/bench_stem.py``; figures in README).  nltk is imported on first use only (its import
  costs about a second), so configs without ``~`` terms never pay for it.
- Results are cached per word (bounded); the matcher caches per word too.
"""

from __future__ import annotations

import functools

__all__ = ["root"]

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
