"""Stories: one alert per story. Decide whether two articles are the same report.

"Same report" means syndicated wire copy under another headline and outlet footer, a trimmed
rewrite, or a lightly edited copy. Two different reports on the same event (an announcement of a
meeting, then its outcome days later) are different stories.  Pure module: no Prefect, no database.

Rules:
- The body is the article without its furniture: the title (the first non-blank line when it
  is headline-like: at most 25 words, no final full stop; after a one- or two-word breadcrumb),
  the ``المصدر`` / ``كلمات دلالية`` lines, ``  • `` bullets, and the related-headlines blocks
  (the header "إقرأ أيضاً", "مقالات مشابهة", "مقالات ذات صلة" or "الأكثر قراءة", or a bare
  "المصدر" credits header, and the short lines, at most 25 words, that follow it).
- Text is normalized with ``flows.text.normalize.normalize`` (diacritics, tatweel, hamza/alef, teh
  marbuta, Farsi letters), so added tashkeel or another spelling of a hamza changes nothing.
- Shingles are word 3-grams taken inside one paragraph (line), never across two, so reordering
  paragraphs keeps every shingle. 3-grams rather than 4-grams: a substituted word breaks 3
  shingles instead of 4 (10% of words substituted: min similarity 0.72 vs 0.51 on the seeds),
  while different reports on one event stay below 0.09.
- The fingerprint (version ``m2``) is a one-permutation MinHash of ``NUM_HASHES`` (128) bins: each
  shingle's 64-bit blake2b digest picks a bin with its top 7 bits and offers its low 32 bits as
  that bin's minimum; an empty bin borrows the next non-empty one (rotation densification), plus
  the shingle count. One hash per shingle instead of 128 (version ``m1``, 128 permutations, cost
  ~10 ms an article; ``m2`` ~0.5 ms, same estimates within 0.05 on the bench pairs). A stored
  ``m1`` fingerprint does not compare with ``m2``: ``from_str`` refuses it and the pipeline skips
  it, so copies straddling the upgrade within the story window are not grouped.
- ``similarity`` is the estimated containment |A∩B| / min(|A|, |B|) (from the Jaccard estimate
  and both counts), so a trimmed rewrite of a long article still scores near 1; when the smaller
  text has fewer than ``MIN_SHINGLES_FOR_CONTAINMENT`` shingles the plain Jaccard estimate is used
  instead (a two-line brief must not match every article that quotes it).
- ``SAME_STORY_THRESHOLD`` = 0.5: on the seed pairs of ``bench/bench_stories.py`` positives score
  ≥ 0.82 and negatives ≤ 0.09 (see the bench's table); 0.5 sits in the middle of that gap.
"""

from __future__ import annotations

import base64
import hashlib
import re
import struct
from dataclasses import dataclass

from flows.text.normalize import normalize as _normalize

__all__ = [
    "Fingerprint", "fingerprint", "similarity", "same_story", "SAME_STORY_THRESHOLD",
    "NUM_HASHES", "SHINGLE_WORDS", "body_text",
]

NUM_HASHES = 128
SHINGLE_WORDS = 3
SAME_STORY_THRESHOLD = 0.5
MIN_SHINGLES_FOR_CONTAINMENT = 20
# Lines after a related-headlines header are headlines while they stay this short (in words).
_HEADLINE_MAX_WORDS = 25
_VERSION = "m2"

_MASK32 = (1 << 32) - 1
_EMPTY = _MASK32 + 1
_BIN_SHIFT = 64 - (NUM_HASHES.bit_length() - 1)  # the digest's top bits choose the bin

_WORD_RE = re.compile(r"[^\W_]+")
_BULLET_RE = re.compile(r"^\s*[•·▪◦\-–*]\s+")
# A bare "المصدر" line opens the credits block of some sites (writer, site, "published first on").
_BLOCK_HEADERS = tuple(_normalize(h) for h in ("إقرأ أيضاً", "اقرأ أيضا", "مقالات مشابهة", "مقالات ذات صلة",
                                                "الأكثر قراءة", "أخبار ذات صلة", "المصدر"))
_DROP_PREFIXES = tuple(_normalize(h) for h in ("المصدر", "كلمات دلالية", "الكلمات الدلالية", "الوسوم"))


@dataclass(frozen=True)
class Fingerprint:
    """A MinHash signature of an article body: ``NUM_HASHES`` 32-bit minima and the shingle count."""

    mins: tuple[int, ...]
    shingles: int

    def to_str(self) -> str:
        """Compact ASCII form (about 690 characters): ``m2:<count>:<base64 of the minima>``."""
        packed = struct.pack(f">{len(self.mins)}I", *self.mins)
        return f"{_VERSION}:{self.shingles}:{base64.b64encode(packed).decode('ascii')}"

    @classmethod
    def from_str(cls, s: str) -> "Fingerprint":
        version, count, data = s.split(":", 2)
        if version != _VERSION:
            raise ValueError(f"unknown fingerprint version {version!r}")
        raw = base64.b64decode(data, validate=True)
        if len(raw) % 4:
            raise ValueError("fingerprint data is not a whole number of 32-bit values")
        return cls(struct.unpack(f">{len(raw) // 4}I", raw), int(count))


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


def _shingles(text: str) -> set[bytes]:
    paras = [_WORD_RE.findall(p) for p in _body_lines(text)]
    if not any(paras):  # nothing but furniture: fall back to every line of the text
        paras = [_WORD_RE.findall(_normalize(ln)) for ln in text.splitlines()]
    out: set[bytes] = set()
    for words in paras:
        if not words:
            continue
        if len(words) < SHINGLE_WORDS:  # a short paragraph is one shingle of its own
            out.add(" ".join(words).encode("utf-8"))
            continue
        for i in range(len(words) - SHINGLE_WORDS + 1):
            out.add(" ".join(words[i:i + SHINGLE_WORDS]).encode("utf-8"))
    return out


def fingerprint(text: str) -> Fingerprint:
    """The MinHash fingerprint of an article's text (title and page furniture ignored)."""
    shingles = _shingles(text)
    if not shingles:
        return Fingerprint((_MASK32,) * NUM_HASHES, 0)
    bins = [_EMPTY] * NUM_HASHES
    for sh in shingles:
        h = int.from_bytes(hashlib.blake2b(sh, digest_size=8).digest(), "big")
        b = h >> _BIN_SHIFT
        v = h & _MASK32
        if v < bins[b]:
            bins[b] = v
    mins = []
    for i in range(NUM_HASHES):  # densify: an empty bin borrows the next non-empty one, circularly
        j = i
        while bins[j % NUM_HASHES] == _EMPTY:
            j += 1
        mins.append(bins[j % NUM_HASHES])
    return Fingerprint(tuple(mins), len(shingles))


def _jaccard(a: Fingerprint, b: Fingerprint) -> float:
    if len(a.mins) != len(b.mins):
        raise ValueError("fingerprints of different sizes")
    return sum(x == y for x, y in zip(a.mins, b.mins)) / len(a.mins)


def similarity(a: Fingerprint, b: Fingerprint) -> float:
    """Estimated containment of the smaller body in the larger (0..1); Jaccard for tiny bodies."""
    if a.shingles == 0 or b.shingles == 0:
        return 0.0
    return similarity_of(_jaccard(a, b), a.shingles, b.shingles)


def similarity_of(j: float, a_shingles: int, b_shingles: int) -> float:
    """`similarity` from an estimated Jaccard ``j`` (the share of equal bins, which an index of
    bins can count without comparing the fingerprints) and the two shingle counts."""
    if a_shingles == 0 or b_shingles == 0:
        return 0.0
    small = min(a_shingles, b_shingles)
    if small < MIN_SHINGLES_FOR_CONTAINMENT:
        return j
    # |A∩B| = J·|A∪B| and |A∪B| = (|A|+|B|)/(1+J).
    inter = j * (a_shingles + b_shingles) / (1.0 + j)
    return min(1.0, inter / small)


def same_story(a: Fingerprint, b: Fingerprint) -> bool:
    """True when ``a`` and ``b`` are the same report (see ``SAME_STORY_THRESHOLD``)."""
    return similarity(a, b) >= SAME_STORY_THRESHOLD
