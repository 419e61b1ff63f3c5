"""Stories: is a new article the same report as an earlier one, an update of its event, or neither?

"Same report" is one wire story or statement as outlets carry it: syndicated copy under another
headline, or rewritten — synonyms and another word order, names spelled another way, the agency
credit dropped or a line of context added, paragraphs reordered, the lead rewritten around the same
facts, a clumsy machine translation, the early ("expected to discuss") and the later ("discussed")
version of one wire. "Same event" is a different report of what that report is about: a later
bulletin with new figures, a follow-up. Pure module: no Prefect, no database.

Rules:
- What a report says, not its words: the body (``flows.alerts.story_text``: furniture and
  headline dropped, Arabic normalized, the agency dateline removed) as a set of Snowball-stemmed
  content words (function words and reporting verbs — قال، أضاف، أوضح … — left out), and the
  figures it carries (digits, thousands separators dropped, "3 آلاف" = 3000, number words =
  their value).
- ``similarity`` is the share of the smaller report's stems found in the other (containment), so
  a trimmed copy still scores high; below ``MIN_TERMS`` stems it is the Jaccard index (a two-line
  brief must not match every article that quotes it).
- Figures that differ are the evidence of a different report: when each report carries figures
  (whole numbers up to 10 aside) the other lacks (``figure_conflict``: more than a third as many as they share), two texts
  otherwise alike are an update (a new toll, another year's results), never the same report.
  A copy that only drops figures (a trimmed rewrite) is no conflict.
- Likewise the countries the lead names (``story_text.lead_countries``: names, adjectives and
  capitals): when each lead names a country the other's does not, the texts are two actors'
  reports (Jordan's and Egypt's statements in the same words), not one (``actor_conflict``) —
  unless the bodies are nearly the same words (≥ ``SAME_TEXT_AT``): then the lead itself is
  what differs (a junk line extracted before it).
- ``compare`` returns ``SAME_REPORT`` when similarity ≥ ``SAME_REPORT_AT`` without a figure
  conflict, ``SAME_EVENT`` (an update) when similarity ≥ ``SAME_EVENT_AT`` otherwise, else
  ``DIFFERENT``. An update also needs an anchor: a figure both carry or a country both
  leads name (never leads that name only different countries). Thresholds come from
  the distributions on ``tests/data/stories`` (``bench/bench_stories.py``): rewrites of one report
  score 0.43–0.86; different reports of one event and different events without a figure or country
  conflict at most 0.31; different reports on one topic in the seeds up to 0.41. 0.45 sits above
  the latter; 0.25 (update) is near the median of reports of one event (0.27), above 99 % of the
  pairs of different events.
- The fingerprint (version ``s1``) stores the stem ids (32-bit blake2b of each stem, at most
  ``MAX_TERMS`` of them, the lowest ids kept: a consistent sample), the lead's and the figures; a
  fingerprint of another version (``m2``, the MinHash of word 3-grams) is refused by ``from_str``.
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass
from datetime import datetime

from flows.alerts.story_text import body_text, lead_countries, report_paragraphs, report_terms

__all__ = [
    "Fingerprint", "fingerprint", "similarity", "figure_conflict", "actor_conflict", "compare", "same_story", "body_text",
    "SAME_REPORT", "SAME_EVENT", "DIFFERENT", "SAME_REPORT_AT", "SAME_EVENT_AT", "earlier_alert_text",
]

SAME_REPORT = "same_report"
SAME_EVENT = "same_event"
DIFFERENT = "different"

SAME_REPORT_AT = 0.45
SAME_EVENT_AT = 0.25
SAME_TEXT_AT = 0.8
MIN_TERMS = 12
MAX_TERMS = 400
_VERSION = "s1"


def _pack(values: tuple[int, ...]) -> str:
    return base64.b64encode(struct.pack(f">{len(values)}I", *values)).decode("ascii")


def _unpack(data: str) -> tuple[int, ...]:
    raw = base64.b64decode(data, validate=True)
    if len(raw) % 4:
        raise ValueError("fingerprint data is not a whole number of 32-bit values")
    return struct.unpack(f">{len(raw) // 4}I", raw)


@dataclass(frozen=True)
class Fingerprint:
    """What a report says: sorted stem ids of the body and of its lead, and its figures."""

    terms: tuple[int, ...]
    lead: tuple[int, ...]
    figures: tuple[str, ...]
    countries: tuple[str, ...] = ()  # named in the lead

    def to_str(self) -> str:
        """ASCII form: ``s1:<base64 stem ids>:<base64 lead ids>:<figures>:<lead countries>``."""
        return (f"{_VERSION}:{_pack(self.terms)}:{_pack(self.lead)}:{','.join(self.figures)}:"
                f"{','.join(self.countries)}")

    @classmethod
    def from_str(cls, s: str) -> "Fingerprint":
        version, _, rest = s.partition(":")
        if version != _VERSION:
            raise ValueError(f"unknown fingerprint version {version!r}")
        parts = rest.split(":")
        if len(parts) != 4:
            raise ValueError("fingerprint has not four parts")
        terms, lead, figures, countries = parts
        return cls(_unpack(terms), _unpack(lead), tuple(f for f in figures.split(",") if f),
                   tuple(c for c in countries.split(",") if c))

    @staticmethod
    def stored_sample(s: str, k: int) -> tuple[int, ...]:
        """The ``k`` lowest stem ids of a stored fingerprint, decoding only them (they come first)."""
        version, _, rest = s.partition(":")
        if version != _VERSION:
            raise ValueError(f"unknown fingerprint version {version!r}")
        terms = rest.split(":", 1)[0]
        if k % 3 == 0:  # 4·k bytes are a whole number of base64 groups: decode just those
            terms = terms[:(4 * k // 3) * 4]
        return _unpack(terms)[:k]

    @property
    def empty(self) -> bool:
        return not self.terms


def fingerprint(text: str, normalized: str | None = None) -> Fingerprint:
    """The fingerprint of an article's text (title and page furniture ignored); ``normalized``:
    ``flows.text.normalize.normalize(text)``, when the caller has it already."""
    paras = report_paragraphs(text, normalized)
    terms, lead, figures = report_terms(paras)
    kept = sorted(terms)[:MAX_TERMS]
    cut = kept[-1] if len(terms) > MAX_TERMS else None
    lead_kept = sorted(t for t in lead if cut is None or t <= cut)
    return Fingerprint(tuple(kept), tuple(lead_kept), tuple(sorted(figures)), tuple(sorted(lead_countries(paras))))


def _similarity(a: tuple[int, ...], a_set: set[int], b: tuple[int, ...]) -> float:
    """``similarity`` of two stem tuples, ``a_set`` being ``set(a)``."""
    if not a or not b:
        return 0.0
    shared = len(a_set.intersection(b))
    small = min(len(a), len(b))
    if small < MIN_TERMS:
        return shared / (len(a) + len(b) - shared)
    return shared / small


def similarity(a: Fingerprint, b: Fingerprint) -> float:
    """Share of the smaller report's stems found in the other (0..1); Jaccard for tiny texts."""
    return _similarity(a.terms, set(a.terms), b.terms)


def _telling(figures: tuple[str, ...]) -> set[str]:
    # Whole numbers up to 10 are written as words by one outlet and digits by another, and
    # counted differently ("3-1", "هدف واحد"): they tell no report from another.
    return {f for f in figures if not (f.isdigit() and int(f) <= 10)}


def _figure_conflict(fa: set[str], fb: set[str]) -> bool:
    conflicting = min(len(fa - fb), len(fb - fa))
    if conflicting == 1:  # one figure written another way is no evidence unless nothing agrees
        return not fa & fb
    return conflicting > 0 and conflicting * 3 > len(fa & fb)


def figure_conflict(a: Fingerprint, b: Fingerprint) -> bool:
    """True when each carries figures the other lacks: two or more, and more than a third as many
    as they share, or one when they share none."""
    return _figure_conflict(_telling(a.figures), _telling(b.figures))


def _actor_conflict(ca: set[str], cb: set[str]) -> bool:
    return bool(ca - cb) and bool(cb - ca)


def actor_conflict(a: Fingerprint, b: Fingerprint) -> bool:
    """True when each lead names a country the other lead does not: two ministries' statements."""
    return _actor_conflict(set(a.countries), set(b.countries))


def _anchored(ca: set[str], fa: set[str], cb: set[str], fb: set[str]) -> bool:
    """Something pins two reports to one event besides common words: a figure both carry, or a
    country both leads name (and no two leads that name only different countries)."""
    if ca and cb and not ca & cb:
        return False
    return bool(ca & cb) or bool(fa & fb)


def anchor_sets(fp: Fingerprint) -> tuple[set[str], set[str]]:
    """(telling figures, lead countries) of ``fp``: what ``Query.relation`` takes of the other report."""
    return _telling(fp.figures), set(fp.countries)


@dataclass(frozen=True)
class Verdict:
    relation: str  # SAME_REPORT, SAME_EVENT or DIFFERENT
    similarity: float


class Query:
    """A report compared with many others (a story lookup's candidates): the sets ``compare``
    takes of it (its stems, telling figures and lead countries) are built once, not per pair."""

    __slots__ = ("fp", "terms", "figures", "countries")

    def __init__(self, fp: Fingerprint) -> None:
        self.fp, self.terms = fp, set(fp.terms)
        self.figures, self.countries = anchor_sets(fp)

    def compare(self, b: Fingerprint) -> Verdict:
        """Same report, an update of the same event, or different (see the module rules)."""
        return Verdict(*self.relation(b))

    def relation(self, b: Fingerprint, b_sets: "tuple[set[str], set[str]] | None" = None) -> tuple[str, float]:
        """``compare``'s (relation, similarity), without building a Verdict (a lookup's loop);
        ``b_sets``: ``b``'s (telling figures, lead countries), when the caller keeps them."""
        sim = _similarity(self.fp.terms, self.terms, b.terms)
        if sim < SAME_EVENT_AT:  # below both thresholds: nothing else can make it either
            return DIFFERENT, sim
        fb, cb = b_sets if b_sets is not None else anchor_sets(b)
        # Nearly the same words are one text whatever its lead looks like (a page whose lead is an
        # extracted junk line); another year's template stays apart by its figures.
        actors_differ = sim < SAME_TEXT_AT and _actor_conflict(self.countries, cb)
        if sim >= SAME_REPORT_AT and not _figure_conflict(self.figures, fb) and not actors_differ:
            return SAME_REPORT, sim
        if _anchored(self.countries, self.figures, cb, fb):
            return SAME_EVENT, sim
        return DIFFERENT, sim


def compare(a: Fingerprint, b: Fingerprint) -> Verdict:
    """Same report, an update of the same event, or different (see the module rules)."""
    return Query(a).compare(b)


def same_story(a: Fingerprint, b: Fingerprint) -> bool:
    """True when ``a`` and ``b`` are the same report."""
    return compare(a, b).relation == SAME_REPORT


def earlier_alert_text(earlier: "tuple[str, str | None, datetime | None] | None") -> str | None:
    """How an update names the alert it follows: «headline» — outlet · time (None: no such alert)."""
    if earlier is None:
        return None
    title, outlet, when = earlier
    tail = " · ".join(p for p in (outlet, when.strftime("%Y-%m-%d %H:%M UTC") if when else None) if p)
    return f"«{title}» — {tail}" if tail else f"«{title}»"
