"""The compiled model: trie nodes, groups, rules, topics, hits, sentences and the scanned document.

Rules:
- A hit is a plain tuple (start, end, sent, para): global piece indexes (end inclusive), sentence
  and paragraph numbers.
- Rules with the same ``sig`` (window, groups, excludes) fire alike: they are evaluated once.
- Sentences end at . ! ? ؟ ؛ … (with closing quotes) followed by white space.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flows.match.schema import Window

class _Node:
    __slots__ = ("children", "ends")

    def __init__(self) -> None:
        self.children: dict[int, _Node] = {}
        self.ends: list[int] = []


@dataclass
class _Group:
    terms: frozenset[int]
    unless: frozenset[int]
    window: Window | None = None


@dataclass
class _Exclude:
    terms: frozenset[int]
    window: Window
    around: str = "phrases"  # a number window counts from every chosen phrase, the anchor only, or before it only


@dataclass
class _Rule:
    id: str
    weight: float
    window: Window
    groups: list[_Group]
    excludes: list[_Exclude]
    sig: tuple = ()  # what its firings depend on: rules with the same sig fire alike

    def __post_init__(self) -> None:
        self.sig = (self.window, tuple((g.terms, g.unless, g.window) for g in self.groups),
                    tuple((e.terms, e.window, e.around) for e in self.excludes))


@dataclass
class _Topic:
    id: str
    name: str
    threshold: float
    rules: list[_Rule]
    baseline: tuple[str, ...]


# A hit is a plain tuple (start, end, sent, para): start and end (inclusive) are global piece
# indexes, sent and para the sentence and paragraph numbers.
_Hit = tuple[int, int, int, int]
_START, _END, _SENT, _PARA = 0, 1, 2, 3


@dataclass(slots=True)
class _Sentence:
    line: int  # line index in the document (-1: the title argument)
    nth: int  # index among the sentences (with words) of its line
    text: str  # the normalized line
    zone: str
    first_piece: int
    para: int


# Scan entry of a piece: (keys, ((terms ending, children or None) of each trie node it starts, ...)),
# or () for a piece without keys; _SENT_END marks the end of a sentence (no keys, starts nothing).
# _HOLLOW is a whole sentence whose words have no piece (only "_" tokens): it ends a sentence too.
_Entry = tuple
_SENT_END: _Entry = ((), ())
_HOLLOW: _Entry = ((), (), "hollow")  # not the same object as _SENT_END


# م. and هـ. (AD, AH) close a date, which often closes its sentence: they stay sentence ends.
_DATE_LETTERS = "مه"


def _is_initial(word: str) -> bool:
    """A word that is one letter and a full stop (an abbreviation: كوريا ش. / ك. الشمالية, J. Biden)."""
    return len(word) == 2 and word[1] == "." and word[0].isalpha() and word[0] not in _DATE_LETTERS


def _initial_dot(text: str, m: "re.Match[str]") -> bool:
    """A sentence split (``m``) that is only the full stop of an `_is_initial` word."""
    s = m.start()
    return (m.group().rstrip() == "." and s >= 1 and (s == 1 or text[s - 2].isspace())
            and _is_initial(text[s - 1:s + 1]))


def _sentence_bounds(text: str) -> list[tuple[int, int]]:
    """Char spans of the sentences (with at least one word) of a normalized line."""
    out: list[tuple[int, int]] = []
    pos = 0
    for m in _SENT_SPLIT_RE.finditer(text):
        if _initial_dot(text, m):
            continue  # "ك. الشمالية", "J. Biden": a one-letter abbreviation ends no sentence
        if _SCAN_RE.search(text, pos, m.start()):
            out.append((pos, m.start()))
        pos = m.end()
    if _SCAN_RE.search(text, pos):
        out.append((pos, len(text)))
    return out


@dataclass
class _Doc:
    sentences: list[_Sentence] = field(default_factory=list)
    hits: dict[int, list[_Hit]] = field(default_factory=dict)
    hit_terms: frozenset[int] = frozenset()
    # (group terms, unless) -> hits of the group in this document (groups recur across rules)
    group_hits: dict[tuple[frozenset[int], frozenset[int]], list[_Hit]] = field(default_factory=dict)
    unit_hits: dict[tuple, dict[int, list[_Hit]]] = field(default_factory=dict)  # group hits by unit
    term_hits: dict[frozenset[int], list[_Hit]] = field(default_factory=dict)  # exclusions' hits


# Scan tokens: runs of word characters and "+"; each is split into TOKEN_RE pieces (letters,
# digits, +) by the cached analysis, which is much faster than tokenizing with TOKEN_RE itself.
_SCAN_RE = re.compile(r"[\w+]+")
_SENT_SPLIT_RE = re.compile(r"[.!?؟؛…]+[\"'”»)\]]*\s+")
# The scan splits lines at whitespace (str.split, the same white space as \s): a word ends a
# sentence when it ends with _SENT_SPLIT_RE's marks and closing quotes (and a word follows).
_SENT_MARKS = ".!?؟؛…"
_SENT_CLOSERS = "\"'”»)]"
_EMPTY: frozenset[int] = frozenset()
