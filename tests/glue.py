"""Glued words: a word of ours that is two or more adjacent words of a reference text.

Used by the trafilatura peer suite: the reference is trafilatura's own plain-text output of a page,
ours is raqib's rendering of the same extraction; a boundary trafilatura keeps and we lose makes
one of our words the concatenation of its neighbours ("Su Mo Tu" → "SuMoTu").
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict

from flows.text.normalize import IGNORABLE_RE

WORD_RE = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """Word tokens, compared the same way on both sides: NFC (trafilatura composes accents, pages
    may not) and without invisible characters (a soft hyphen inside a word is not a boundary)."""
    return WORD_RE.findall(IGNORABLE_RE.sub("", unicodedata.normalize("NFC", text)))


def glued_words(reference: str, ours: str, max_parts: int = 64) -> list[tuple[str, list[str]]]:
    """(our word, the reference words it glues) for each of our words that is not a reference word
    but equals two or more consecutive reference words joined."""
    ref = words(reference)
    ref_set = set(ref)
    starts: dict[str, list[int]] = defaultdict(list)
    for i, w in enumerate(ref):
        starts[w[:1]].append(i)
    out: list[tuple[str, list[str]]] = []
    seen: set[str] = set()
    for word in words(ours):
        if word in ref_set or word in seen:
            continue
        seen.add(word)
        for i in starts.get(word[:1], ()):
            joined, j = "", i
            while j < len(ref) and j - i < max_parts and len(joined) < len(word):
                joined += ref[j]
                j += 1
                if not word.startswith(joined):
                    break
            if joined == word and j - i >= 2:
                out.append((word, ref[i:j]))
                break
    return out
