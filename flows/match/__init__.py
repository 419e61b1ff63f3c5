"""Topic matcher: decides which watch topics an extracted article is about, with evidence.

Rules:
- Zones.  The title (the ``title`` argument and the first real line of the text) and the body
  count.  Page furniture never fires a topic: breadcrumbs and lines of fewer than three words,
  the ``المصدر`` source line and the ``كلمات دلالية`` tag line, related-headline blocks
  ("إقرأ أيضاً", "مقالات مشابهة", "مقالات ذات صلة", "الأكثر قراءة", …) and everything after
  them (unless a long prose paragraph follows), inline "اقرأ أيضا: …" teasers and bullet lines
  ("  • …") that read like headlines (no sentence-final punctuation).
- Text is normalized once (:mod:`flows.text.normalize`), split into paragraphs (lines) and sentences
  (. ! ؟ ؛ …) and into tokens (letter/digit runs and ``+``).
- A term is a phrase of words.  Each Arabic word tolerates attached clitics (و ف ب ك ل س ال
  وال بال فال كال لل …) and common suffixes (ه ها هم ي ا ان ين ون ات يه يا …; teh marbuta
  written ت before a suffix); the article ال of a term word is optional.  Digits, Latin words,
  ``+`` and words written ``=word`` match exactly.  ``@set`` inserts a variant set from
  variants.yaml; a variant form written literally in a term is expanded to its whole set too.
  A glued token (الولاياتالمتحدة, تعزيزالردع) that matches nothing is split before an inner ال.
  Multi-word names also match written as one word (بيونغيانغ).
- A rule fires when every group has a hit inside one window (sentence, paragraph, article or
  N words around the first group's hit) and no ``exclude`` term falls in the exclusion window;
  group hits overlapping one of the group's ``unless`` phrases do not count.  A topic's score is
  the sum of the weights of its rules that fired; the topic fires when score >= threshold.
- Evidence: for each firing window, the original sentence(s) and the original phrases.
- Loading is loud: any invalid field, unknown key, unknown variant set or term that normalizes
  to nothing raises :class:`flows.errors.ConfigError` naming file, topic and key.
- Term scanning is done once for all topics (one trie of word keys), so the cost grows with the
  number of hits, not with the number of topics.  Lines are split at white space and the analysis
  of each word (pieces, trie starts, sentence end) is cached across articles (:meth:`Matcher.clear_caches`);
  char spans (sentences, phrases) and the map to the original text are computed for evidence only.
  Rules alike across topics are evaluated once per article.
"""

from __future__ import annotations

import collections
import itertools
import pathlib
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

import yaml
from pydantic import ValidationError

from flows.errors import ConfigError
from flows.text.normalize import TOKEN_RE, index_map, normalize, normalize_with_map
from flows.match.schema import TopicsFile, VariantsFile, Window, loc_to_key

__all__ = ["Evidence", "TopicMatch", "Matcher", "word_key"]


# --------------------------------------------------------------------------- public results


@dataclass(frozen=True)
class Evidence:
    sentence: str
    phrases: tuple[str, ...]
    zone: str

    def to_dict(self) -> dict:
        return {"sentence": self.sentence, "phrases": list(self.phrases), "zone": self.zone}


@dataclass(frozen=True)
class TopicMatch:
    topic: str
    name: str
    score: float
    evidence: tuple[Evidence, ...]

    def to_dict(self) -> dict:
        return {
            "topic": self.topic,
            "name": self.name,
            "score": self.score,
            "evidence": [e.to_dict() for e in self.evidence],
        }


# --------------------------------------------------------------------------- word keys

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


# --------------------------------------------------------------------------- compiled model


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
                    tuple((e.terms, e.window) for e in self.excludes))


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


def _sentence_bounds(text: str) -> list[tuple[int, int]]:
    """Char spans of the sentences (with at least one word) of a normalized line."""
    out: list[tuple[int, int]] = []
    pos = 0
    for m in _SENT_SPLIT_RE.finditer(text):
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


# --------------------------------------------------------------------------- zoning

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
    r"|الموقع\s*:|الكاتب\s*:|شارك\b|تابعونا|تابعنا|اشترك)"
)
_BULLET_RE = re.compile(r"^\s*[•·▪●◦■►*\-–—]\s*")
_ENDS_SENTENCE_RE = re.compile(r"[.!؟?…:]\W*$")
# Scan tokens: runs of word characters and "+"; each is split into TOKEN_RE pieces (letters,
# digits, +) by the cached analysis, which is much faster than tokenizing with TOKEN_RE itself.
_SCAN_RE = re.compile(r"[\w+]+")
_SENT_SPLIT_RE = re.compile(r"[.!?؟؛…]+[\"'”»)\]]*\s+")
# The scan splits lines at whitespace (str.split, the same white space as \s): a word ends a
# sentence when it ends with _SENT_SPLIT_RE's marks and closing quotes (and a word follows).
_SENT_MARKS = ".!?؟؛…"
_SENT_CLOSERS = "\"'”»)]"
_LONG_PROSE = 20


def _ends_sentence(s: str) -> bool:
    """``_ENDS_SENTENCE_RE.search(s)``, looking only at the trailing non-word characters."""
    i = len(s)
    while i and not (s[i - 1].isalnum() or s[i - 1] == "_"):  # \w is alphanumeric or _
        i -= 1
    return _ENDS_SENTENCE_RE.search(s, i) is not None


def _zones(norm_lines: list[str]) -> list[tuple[int, str]]:
    """Counted lines of a document: (line index, zone) with zone "title" or "body"."""
    out: list[tuple[int, str]] = []
    tail = False
    have_title = False
    for i, line in enumerate(norm_lines):
        s = line.strip()
        if not s:
            continue
        ntok = len(s.split(None, _LONG_PROSE))  # only compared with 3 and _LONG_PROSE
        m = _RELATED_RE.match(s)
        if m:
            if not m.group(1).strip():
                tail = True  # a header alone: a block of other headlines follows
            continue
        if _SOURCE_RE.match(s) or _TAGS_RE.match(s):
            tail = True
            continue
        if tail:
            if ntok >= _LONG_PROSE and _ends_sentence(s) and not _BULLET_RE.match(s):  # long prose
                tail = False
            else:
                continue
        if _FURNITURE_RE.match(s) or ntok < 3:
            continue
        if _BULLET_RE.match(s) and not _ends_sentence(s):
            continue
        if not have_title:
            out.append((i, "title"))
            have_title = True
        else:
            out.append((i, "body"))
    return out


# --------------------------------------------------------------------------- the matcher


class Matcher:
    """Compiled topics; :meth:`match` is pure and thread-safe apart from a token cache."""

    def __init__(self, topics: list[_Topic], keys: dict[str, int], root: _Node, term_text: list[str]) -> None:
        self._topics = topics
        self._keys = keys
        self._root = root.children
        self._term_text = term_text
        self._cache: dict[str, tuple[frozenset[int], ...]] = {}
        self._word_cache: dict[str, tuple[frozenset[int], ...]] = {}
        self._span_cache: dict[str, tuple[tuple[int, int], ...]] = {}
        self._text_word_cache: dict[str, tuple[_Entry, ...]] = {}
        self._entries: dict[frozenset[int], _Entry] = {}
        # term id -> rules using it in a group: lets match() look only at rules with hits
        index: dict[int, set[tuple[int, int]]] = {}
        for ti, t in enumerate(topics):
            for ri, r in enumerate(t.rules):
                for g in r.groups:
                    for term in g.terms:
                        index.setdefault(term, set()).add((ti, ri))
        self._rule_index = {k: tuple(sorted(v)) for k, v in index.items()}

    # ----------------------------------------------------------------- loading

    @classmethod
    def from_config_dir(cls, config_dir: pathlib.Path) -> "Matcher":
        config_dir = pathlib.Path(config_dir)
        topics_path = config_dir / "topics.yaml"
        raw = _load_yaml(topics_path)
        try:
            spec = TopicsFile.model_validate(raw)
        except ValidationError as exc:
            raise _config_error(topics_path, exc, raw) from None
        variants: dict[str, list[str]] = {}
        variants_path: pathlib.Path | None = None
        if spec.variants:
            variants_path = config_dir / spec.variants
            vraw = _load_yaml(variants_path)
            try:
                vspec = VariantsFile.model_validate(vraw)
            except ValidationError as exc:
                raise _config_error(variants_path, exc, vraw) from None
            variants = {name: list(s.forms) for name, s in vspec.sets.items()}
            auto = {name for name, s in vspec.sets.items() if s.auto}
        else:
            auto = set()
        return _Compiler(topics_path, variants_path, variants, auto).compile(spec)

    @classmethod
    def from_spec(cls, spec: TopicsFile, variants: VariantsFile | None = None,
                  source: str = "<topics>") -> "Matcher":
        """Build from already validated specs (used by the benchmark and tests)."""
        forms = {n: list(s.forms) for n, s in (variants.sets.items() if variants else ())}
        auto = {n for n, s in (variants.sets.items() if variants else ()) if s.auto}
        return _Compiler(pathlib.Path(source), None, forms, auto).compile(spec)

    @property
    def topic_ids(self) -> list[str]:
        return [t.id for t in self._topics]

    def topic_name(self, topic_id: str) -> str:
        for t in self._topics:
            if t.id == topic_id:
                return t.name
        raise KeyError(topic_id)

    def baseline_terms(self) -> dict[str, tuple[str, ...]]:
        """The plain keyword list of each topic (``baseline`` in topics.yaml) for backtests."""
        return {t.id: t.baseline for t in self._topics}

    # ----------------------------------------------------------------- token analysis

    def _lookup(self, tok: str) -> frozenset[int]:
        keys = self._keys
        exact = keys.get("=" + tok)
        if not _ARABIC_WORD_RE.match(tok):
            return frozenset((exact,)) if exact is not None else _EMPTY
        # every (prefix, suffix) of PREFIXES x SUFFIXES around a stem of at least _MIN_STEM letters
        found: set[int] = set()
        n = len(tok)
        top = n - _MIN_STEM
        plens = [lp for lp in range(min(_MAX_PREFIX, top) + 1) if tok[:lp] in _PREFIX_SET]
        slens = [ls for ls in range(min(_MAX_SUFFIX, top) + 1) if tok[n - ls:] in _SUFFIX_SET]
        for lp in plens:
            for ls in slens:
                if lp + ls > top:
                    break
                stem = tok[lp:n - ls]
                k = keys.get(stem)
                if k is not None:
                    found.add(k)
                if ls and stem[-1] == "ت":
                    k = keys.get(stem[:-1] + "ه")
                    if k is not None:
                        found.add(k)
        return frozenset(found) if found else _EMPTY

    def _split_point(self, tok: str) -> int:
        """Index where a glued token splits (before an inner ال), or 0 for no split."""
        if len(tok) < 6 or not _ARABIC_WORD_RE.match(tok):
            return 0
        start = 2
        while True:
            k = tok.find("ال", start)
            if k < 0 or len(tok) - k < 4:
                return 0
            if k >= 2 and (self._lookup(tok[:k]) or self._lookup(tok[k:])):
                return k
            start = k + 1

    def _analyze(self, raw: str) -> tuple[frozenset[int], ...]:
        """Pieces of a raw scan token (a run of word chars and +, see _SCAN_RE)."""
        subs = TOKEN_RE.findall(raw)
        if len(subs) == 1 and subs[0] == raw:
            res = self._analyze_word(raw)
        else:
            res = tuple(p for sub in subs for p in self._analyze_word(sub))
        self._cache[raw] = res
        return res

    def _sub_spans(self, raw: str, start: int) -> list[tuple[int, int]]:
        """Char spans of the pieces of a raw scan token starting at ``start``."""
        spans: list[tuple[int, int]] = []
        for m in TOKEN_RE.finditer(raw):
            tok = m.group(0)
            a = start + m.start()
            if len(self._analyze_word(tok)) == 1:
                spans.append((a, a + len(tok)))
            else:
                k = self._split_point(tok)
                spans.append((a, a + k))
                spans.append((a + k, a + len(tok)))
        return spans

    def _analyze_word(self, tok: str) -> tuple[frozenset[int], ...]:
        res = self._word_cache.get(tok)
        if res is not None:
            return res
        ks = self._lookup(tok)
        if ks:
            res: tuple[frozenset[int], ...] = (ks,)
        else:
            k = self._split_point(tok)
            res = (self._lookup(tok[:k]), self._lookup(tok[k:])) if k else (_EMPTY,)
        self._word_cache[tok] = res
        return res

    # ----------------------------------------------------------------- scanning

    def _analyze_text_word(self, word: str) -> tuple[_Entry, ...]:
        """Scan entries of a whitespace-delimited word: one per piece of its scan tokens (see
        _SCAN_RE), then _SENT_END if the word ends a sentence."""
        cache = self._cache
        entries = self._entries
        res: list[_Entry] = []
        for tok in _SCAN_RE.findall(word):
            pieces = cache.get(tok)
            if pieces is None:
                pieces = self._analyze(tok)
            for piece in pieces:
                e = entries.get(piece)
                if e is None:
                    e = entries[piece] = self._entry(piece)
                res.append(e)
        stripped = word.rstrip(_SENT_CLOSERS)
        if stripped and stripped[-1] in _SENT_MARKS:
            res.append(_SENT_END)
        out = self._text_word_cache[word] = tuple(res)
        return out

    def _line_entries(self, text: str) -> list[_Entry]:
        """Entries of a line, sentence by sentence as split by _SENT_SPLIT_RE (the general case)."""
        out: list[_Entry] = []
        for a, b in _sentence_bounds(text):
            ents = [e for w in text[a:b].split()
                    for e in (self._text_word_cache.get(w) or self._analyze_text_word(w)) if e is not _SENT_END]
            out.extend(ents or (_HOLLOW,))
            out.append(_SENT_END)
        return out

    def _entry(self, piece: frozenset[int]) -> _Entry:
        """(keys, starts) of a piece, () when it has no key; starts: (terms ending, children) of
        the trie nodes the piece starts, one per key of the piece at the root."""
        if not piece:
            return ()
        starts = []
        for k in piece:
            node = self._root.get(k)
            if node is not None:
                starts.append((node.ends, node.children or None))
        return (piece, tuple(starts))

    def _scan(self, lines: list[tuple[int, str, str]]) -> _Doc:
        """lines: (line index, zone, normalized text). Returns sentences and term hits.

        A line is a list of entries (see _analyze_text_word); a sentence end is an entry too,
        which keeps one free position between sentences (sentences never touch in word windows).
        """
        doc = _Doc()
        if len(self._cache) > 300_000 or len(self._text_word_cache) > 300_000:
            self.clear_caches()  # bounded memory on a long-running worker
        wcache = self._text_word_cache
        wget = wcache.__getitem__
        chain = itertools.chain.from_iterable
        compress = itertools.compress
        hits: dict[int, list[_Hit]] = collections.defaultdict(list)
        sentences = doc.sentences
        gpos = 0
        for para, (li, zone, text) in enumerate(lines):
            if "_" in text:  # "_" alone is a scan token without pieces: split as _SENT_SPLIT_RE does
                line = self._line_entries(text)
            else:
                words = text.split()
                try:
                    vals = list(map(wget, words))
                except KeyError:
                    for w in set(words).difference(wcache):
                        self._analyze_text_word(w)
                    vals = list(map(wget, words))
                line = list(chain(vals))
            n = len(line)
            if not n:
                continue
            last = n - 1
            base = gpos  # position of entry i: base + i - shift
            shift = 0  # sentence ends dropped so far (those closing no word: empty sentences)
            sent_start = 0  # entry index and position of the current sentence's first entry
            first = base
            sid = len(sentences)
            nth = 0
            for i in compress(range(n), line):
                e = line[i]
                if not e[0]:  # _SENT_END or _HOLLOW
                    if i > sent_start or e is _HOLLOW:
                        sentences.append(_Sentence(li, nth, text, zone, first, para))
                        nth += 1
                        sid += 1
                        first = base + i + 1 - shift
                    else:
                        shift += 1  # no sentence to end: the entry takes no position
                    sent_start = i + 1
                    continue
                g = base + i - shift
                for ends, children in e[1]:
                    if ends:
                        h = (g, g, sid, para)
                        for term in ends:
                            hits[term].append(h)
                    if children is None or i == last:
                        continue
                    # longer terms: follow the trie one entry at a time (a sentence end has no key)
                    level = (children,)
                    j = i + 1
                    while True:
                        nxt = line[j]
                        if not nxt:
                            break
                        deeper = []
                        for ch in level:
                            for k in nxt[0]:
                                node = ch.get(k)
                                if node is not None:
                                    if node.ends:
                                        h = (g, base + j - shift, sid, para)
                                        for term in node.ends:
                                            hits[term].append(h)
                                    if node.children:
                                        deeper.append(node.children)
                        if not deeper or j == last:
                            break
                        level = deeper
                        j += 1
            if n > sent_start:
                sentences.append(_Sentence(li, nth, text, zone, first, para))
                gpos = base + n - shift + 1
            else:
                gpos = base + n - shift
        doc.hits = dict(hits)
        doc.hit_terms = frozenset(hits)
        return doc

    # ----------------------------------------------------------------- evaluation

    def match(self, text: str, title: str | None = None) -> list[TopicMatch]:
        orig_lines = text.split("\n")
        norm_lines = normalize(text).split("\n")
        if len(norm_lines) != len(orig_lines):  # cannot happen: normalize keeps newlines
            norm_lines = [normalize(x) for x in orig_lines]
        counted: list[tuple[int, str, str]] = []
        if title and title.strip():
            counted.append((-1, "title", normalize(" ".join(title.split()))))
        counted.extend((i, z, norm_lines[i]) for i, z in _zones(norm_lines))
        doc = self._scan(counted)
        if not doc.hits:
            return []
        candidates: set[tuple[int, int]] = set()
        for term in doc.hits:
            candidates.update(self._rule_index.get(term, ()))
        if not candidates:
            return []
        by_topic: dict[int, list[int]] = {}
        for ti, ri in candidates:
            by_topic.setdefault(ti, []).append(ri)
        out: list[TopicMatch] = []
        title_line = (title or "").strip()
        mapped: dict[int, tuple[str, list[int]]] = {}
        spans_of: dict[int, list[tuple[int, int]]] = {}
        bounds_of: dict[int, list[tuple[int, int]]] = {}
        fired_by_sig: dict[tuple, list[_Firing]] = {}  # rules alike (across topics) fire alike
        evidence_of: dict[tuple, tuple[Evidence, ...]] = {}
        for ti in sorted(by_topic):
            topic = self._topics[ti]
            score = 0.0
            firings: list[_Firing] = []
            sigs = []
            for ri in sorted(by_topic[ti]):
                rule = topic.rules[ri]
                fired = fired_by_sig.get(rule.sig)
                if fired is None:
                    fired = fired_by_sig[rule.sig] = _eval_rule(rule, doc)
                if fired:
                    score += rule.weight
                    firings.extend(fired)
                    sigs.append(rule.sig)
            if score >= topic.threshold - 1e-9:
                key = tuple(sigs)
                ev = evidence_of.get(key)
                if ev is None:
                    ev = evidence_of[key] = self._evidence(firings, doc, orig_lines, title_line, mapped,
                                                           spans_of, bounds_of)
                out.append(TopicMatch(topic.id, topic.name, round(score, 6), ev))
        return out

    def _evidence(self, firings: list[_Firing], doc: _Doc, orig_lines: list[str],
                  title: str, mapped: dict[int, tuple[str, list[int]]],
                  spans_of: dict[int, list[tuple[int, int]]],
                  bounds_of: dict[int, list[tuple[int, int]]]) -> tuple[Evidence, ...]:
        # Evidence sentences: those holding a hit of a rule's first group (the key phrase); the
        # phrases shown are all the firing's hits inside those sentences.
        per_sent: dict[int, list[tuple[int, int]]] = {}
        for key_sents, hits in firings:
            for h in hits:
                if h[_SENT] in key_sents:
                    per_sent.setdefault(h[_SENT], []).append((h[_START], h[_END]))
        out: list[Evidence] = []
        seen: set[tuple[str, str]] = set()
        for sid in sorted(per_sent):
            s = doc.sentences[sid]
            orig = title if s.line < 0 else orig_lines[s.line]
            if s.line < 0:
                orig = " ".join(orig.split())
            if s.line not in mapped:
                # s.text is normalize(orig) (normalization keeps lines): often the map is cheap
                idx = index_map(orig, s.text)
                mapped[s.line] = (s.text, idx) if idx is not None else normalize_with_map(orig)
            norm, idx = mapped[s.line]
            bounds = bounds_of.get(s.para)
            if bounds is None:
                bounds = bounds_of[s.para] = _sentence_bounds(s.text)
            start, end = bounds[s.nth]
            spans = spans_of.get(sid)
            if spans is None:
                spans = spans_of[sid] = self._piece_spans(norm, start, end)
            sent_text = _orig_span(orig, idx, start, end)
            phrases: list[str] = []
            for a, b in _merge_spans(per_sent[sid]):
                la, lb = a - s.first_piece, b - s.first_piece
                if 0 <= la < len(spans) and 0 <= lb < len(spans):
                    p = _orig_span(orig, idx, spans[la][0], spans[lb][1])
                    if p and p not in phrases:
                        phrases.append(p)
            key = (s.zone, sent_text)
            if key in seen:
                continue
            seen.add(key)
            out.append(Evidence(sent_text, tuple(phrases), s.zone))
        return tuple(out)

    def _piece_spans(self, norm_line: str, start: int, end: int) -> list[tuple[int, int]]:
        """Char spans (in the normalized line) of each piece of a sentence."""
        spans: list[tuple[int, int]] = []
        append = spans.append
        cache = self._span_cache
        find = norm_line.find
        o = start
        for w in norm_line[start:end].split():  # scan tokens never cross white space
            o = find(w, o)
            rel = cache.get(w)
            if rel is None:
                rel = cache[w] = tuple(sp for m in _SCAN_RE.finditer(w) for sp in self._sub_spans(m.group(), m.start()))
            for x, y in rel:
                append((o + x, o + y))
            o += len(w)
        return spans

    def clear_caches(self) -> None:
        """Forget every per-token analysis (the cold state of a new worker)."""
        self._cache.clear()
        self._word_cache.clear()
        self._span_cache.clear()
        self._text_word_cache.clear()
        self._entries.clear()


_EMPTY: frozenset[int] = frozenset()


def _merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Union of overlapping inclusive piece ranges, in order."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(set(spans)):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _orig_span(orig: str, idx: list[int], a: int, b: int) -> str:
    """Original text behind normalized chars [a, b)."""
    if not idx or a >= b:
        return ""
    a = max(0, min(a, len(idx) - 1))
    b = max(a + 1, min(b, len(idx)))
    return orig[idx[a]: idx[b - 1] + 1].strip()


def _unit(h: _Hit, window: Window) -> int:
    if window == "sentence":
        return h[_SENT]
    if window == "paragraph":
        return h[_PARA]
    return 0


_Firing = tuple[frozenset[int], list[_Hit]]


def _near(a: _Hit, hs: list[_Hit], w: Window) -> list[_Hit]:
    """The hits of ``hs`` inside window ``w`` around ``a`` (in order)."""
    if isinstance(w, int):
        para, start = a[_PARA], a[_START]
        return [h for h in hs if h[_PARA] == para and -w <= h[_START] - start <= w]
    if w == "sentence":
        sent = a[_SENT]
        return [h for h in hs if h[_SENT] == sent]
    if w == "paragraph":
        para = a[_PARA]
        return [h for h in hs if h[_PARA] == para]
    return hs


def _group_hits(g: _Group, doc: _Doc) -> list[_Hit]:
    """Hits of a group's terms, without those overlapping one of its ``unless`` phrases."""
    key = (g.terms, g.unless)
    hs = doc.group_hits.get(key)
    if hs is not None:
        return hs
    dh = doc.hits
    hit_terms = doc.hit_terms
    hs = [h for t in g.terms & hit_terms for h in dh[t]]
    if hs and g.unless and not g.unless.isdisjoint(hit_terms):
        masks: dict[int, list[_Hit]] = {}
        for t in g.unless & hit_terms:
            for u in dh[t]:
                masks.setdefault(u[_SENT], []).append(u)
        if masks:
            hs = [h for h in hs if h[_SENT] not in masks
                  or not any(u[_START] <= h[_END] and h[_START] <= u[_END] for u in masks[h[_SENT]])]
    doc.group_hits[key] = hs
    return hs


def _by_unit(hs: list[_Hit], w: Window) -> dict[int, list[_Hit]] | None:
    """Hits by sentence (window "sentence") or paragraph (a paragraph or a number of words);
    None for "article"."""
    if w == "article":
        return None
    f = _SENT if w == "sentence" else _PARA
    out: dict[int, list[_Hit]] = {}
    for h in hs:
        out.setdefault(h[f], []).append(h)
    return out


def _eval_rule(rule: _Rule, doc: _Doc) -> list[_Firing]:
    """Firings of a rule: (sentences of the first group's hits, all hits inside the window)."""
    hit_terms = doc.hit_terms
    for g in rule.groups:
        if g.terms.isdisjoint(hit_terms):
            return []
    group_hits: list[list[_Hit]] = []
    for g in rule.groups:
        hs = _group_hits(g, doc)
        if not hs:
            return []
        group_hits.append(hs)
    dh = doc.hits
    ex_hits = [[h for t in ex.terms & hit_terms for h in dh[t]] for ex in rule.excludes]
    any_ex = any(ex_hits)
    firings: list[_Firing] = []
    w = rule.window
    int_window = isinstance(w, int)
    unit_field = _SENT if w == "sentence" else _PARA
    rest = [(g.window, hs, _by_unit(hs, w)) for g, hs in zip(rule.groups[1:], group_hits[1:])]
    seen_units: set[int] = set()
    for anchor in group_hits[0]:
        chosen = [anchor]
        u = anchor[unit_field]
        for gw, hs, by_unit in rest:
            near = hs if by_unit is None else by_unit.get(u)
            if near and int_window:
                start = anchor[_START]
                near = [h for h in near if -w <= h[_START] - start <= w]
            if gw is not None and near:
                near = _near(anchor, near, gw)
            if not near:
                break
            chosen.extend(near)
        else:
            if any_ex and _vetoed(rule, ex_hits, chosen):
                continue
            if int_window:
                firings.append((frozenset((anchor[_SENT],)), chosen))
                continue
            unit = _unit(anchor, w)
            if unit in seen_units:
                # same window already fired: add this anchor's hits to it
                for i, (sents, hits) in enumerate(firings):
                    if _unit(hits[0], w) == unit:
                        firings[i] = (sents | {anchor[_SENT]}, hits + chosen)
                        break
                continue
            seen_units.add(unit)
            firings.append((frozenset((anchor[_SENT],)), chosen))
    return firings


def _vetoed(rule: _Rule, ex_hits: list[list[_Hit]], chosen: list[_Hit]) -> bool:
    for ex, hs in zip(rule.excludes, ex_hits):
        if not hs:
            continue
        w = ex.window
        if isinstance(w, int):
            for h in hs:
                if any(h[_PARA] == c[_PARA] and (abs(h[_START] - c[_START]) <= w or abs(h[_END] - c[_END]) <= w
                                                 or abs(h[_START] - c[_END]) <= w or abs(h[_END] - c[_START]) <= w)
                       for c in chosen):
                    return True
        else:
            units = {_unit(c, w) for c in chosen}
            if any(_unit(h, w) in units for h in hs):
                return True
    return False


# --------------------------------------------------------------------------- compiling

_MAX_ALTERNATIVES = 5000


class _Compiler:
    def __init__(self, topics_path: pathlib.Path, variants_path: pathlib.Path | None,
                 variants: dict[str, list[str]], auto: set[str]) -> None:
        self.auto = auto
        self.topics_path = topics_path
        self.variants_path = variants_path
        self.raw_variants = variants
        self.keys: dict[str, int] = {}
        self.root = _Node()
        self.term_ids: dict[str, int] = {}
        self.term_text: list[str] = []
        self.sets: dict[str, list[tuple[str, ...]]] = {}
        self.form_index: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        self._resolve_variants()

    # variant sets -> lists of key sequences
    def _resolve_variants(self) -> None:
        vfile = str(self.variants_path or self.topics_path)
        resolving: set[str] = set()

        def resolve(name: str, key: str) -> list[tuple[str, ...]]:
            if name in self.sets:
                return self.sets[name]
            if name not in self.raw_variants:
                raise ConfigError(vfile, key, f"unknown variant set @{name}")
            if name in resolving:
                raise ConfigError(vfile, key, f"variant set @{name} refers to itself")
            resolving.add(name)
            seqs: list[tuple[str, ...]] = []
            for i, form in enumerate(self.raw_variants[name]):
                fkey = f"sets.{name}.forms[{i}]"
                slots = self._slots(form, fkey, vfile, resolve, expand_literal=False)
                for seq in self._product(slots, fkey, vfile):
                    if seq not in seqs:
                        seqs.append(seq)
            resolving.discard(name)
            self.sets[name] = seqs
            return seqs

        for name in self.raw_variants:
            resolve(name, f"sets.{name}")
        for name, seqs in self.sets.items():
            if name not in self.auto:
                continue
            for seq in seqs:
                self.form_index.setdefault(seq[0], []).append((seq, name))
        for lst in self.form_index.values():
            lst.sort(key=lambda x: -len(x[0]))
        self._resolve = resolve

    def _slots(self, term: str, key: str, file: str, resolve: Any, expand_literal: bool) -> list[list[tuple[str, ...]]]:
        """A term as a list of slots, each a list of alternative key sequences."""
        words = normalize(term).split()
        if not words:
            raise ConfigError(file, key, f"term {term!r} is empty")
        slots: list[list[tuple[str, ...]]] = []
        plain: list[str] = []

        def flush() -> None:
            if not plain:
                return
            seq = tuple(plain)
            i = 0
            while i < len(seq):
                if expand_literal:
                    for form, name in self.form_index.get(seq[i], ()):
                        if seq[i:i + len(form)] == form:
                            slots.append(list(self.sets[name]))
                            i += len(form)
                            break
                    else:
                        slots.append([(seq[i],)])
                        i += 1
                else:
                    slots.append([(seq[i],)])
                    i += 1
            plain.clear()

        for w in words:
            if w.startswith("@"):
                flush()
                name = w[1:]
                if not re.match(r"^[a-z][a-z0-9_]*$", name):
                    raise ConfigError(file, key, f"bad variant reference {w!r} in term {term!r}")
                if name not in self.raw_variants:
                    raise ConfigError(file, key, f"unknown variant set {w!r} in term {term!r}")
                slots.append(list(resolve(name, key)))
                continue
            if w.startswith("="):
                body = TOKEN_RE.findall(w[1:])
                if len(body) != 1:
                    raise ConfigError(file, key, f"exact word {w!r} must be a single word")
                plain.append("=" + body[0])
                continue
            toks = TOKEN_RE.findall(w)
            if not toks:
                continue
            for t in toks:
                k = word_key(t)
                if not k.startswith("=") and len(k) < _MIN_STEM:
                    raise ConfigError(file, key, f"word {t!r} in term {term!r} is too short to match safely (write it as ={t})")
                plain.append(k)
        flush()
        if not slots:
            raise ConfigError(file, key, f"term {term!r} has no words after normalization")
        return slots

    def _product(self, slots: list[list[tuple[str, ...]]], key: str, file: str) -> list[tuple[str, ...]]:
        n = 1
        for s in slots:
            n *= len(s)
        if n > _MAX_ALTERNATIVES:
            raise ConfigError(file, key, f"term expands to {n} alternatives (max {_MAX_ALTERNATIVES})")
        return [tuple(k for part in combo for k in part) for combo in itertools.product(*slots)]

    def _key_id(self, k: str) -> int:
        kid = self.keys.get(k)
        if kid is None:
            kid = self.keys[k] = len(self.keys)
        return kid

    def term(self, text: str, key: str) -> int:
        norm = " ".join(normalize(text).split())
        tid = self.term_ids.get(norm)
        if tid is not None:
            return tid
        file = str(self.topics_path)
        slots = self._slots(text, key, file, self._resolve, expand_literal=True)
        alts = self._product(slots, key, file)
        tid = self.term_ids[norm] = len(self.term_text)
        self.term_text.append(text)
        for seq in alts:
            self._insert(seq, tid)
            if len(seq) > 1 and all(not k.startswith("=") for k in seq):
                self._insert(("".join(seq),), tid)  # بيونغ يانغ written بيونغيانغ
        return tid

    def _insert(self, seq: tuple[str, ...], tid: int) -> None:
        node = self.root
        for k in seq:
            kid = self._key_id(k)
            nxt = node.children.get(kid)
            if nxt is None:
                nxt = node.children[kid] = _Node()
            node = nxt
        if tid not in node.ends:
            node.ends.append(tid)

    def compile(self, spec: TopicsFile) -> Matcher:
        topics: list[_Topic] = []
        for t in spec.topics:
            rules: list[_Rule] = []
            for r in t.rules:
                base = f"topics[{t.id}].rules[{r.id}]"
                groups = []
                for gi, g in enumerate(r.groups):
                    terms = frozenset(self.term(x, f"{base}.groups[{gi}].terms[{i}]") for i, x in enumerate(g.terms))
                    unless = frozenset(self.term(x, f"{base}.groups[{gi}].unless[{i}]") for i, x in enumerate(g.unless))
                    groups.append(_Group(terms, unless, g.window))
                excludes = []
                for ei, e in enumerate(r.exclude):
                    terms = frozenset(self.term(x, f"{base}.exclude[{ei}].terms[{i}]") for i, x in enumerate(e.terms))
                    excludes.append(_Exclude(terms, e.window if e.window is not None else r.window))
                rules.append(_Rule(r.id, r.weight, r.window, groups, excludes))
            topics.append(_Topic(t.id, t.name, t.threshold, rules, tuple(t.baseline)))
        return Matcher(topics, self.keys, self.root, self.term_text)


# --------------------------------------------------------------------------- config helpers


def _load_yaml(path: pathlib.Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), None, "file not found") from None
    except OSError as exc:
        raise ConfigError(str(path), None, f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), None, f"not UTF-8 text (byte {exc.start})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise ConfigError(str(path), None, f"invalid YAML{where}: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(str(path), None, "expected a mapping at the top level")
    return data


def _config_error(path: pathlib.Path, exc: ValidationError, raw: Any) -> ConfigError:
    err = exc.errors()[0]
    key = loc_to_key(tuple(err.get("loc", ())), raw)
    msg = err.get("msg", "invalid")
    if err.get("type") == "extra_forbidden":
        msg = "unknown key"
    more = len(exc.errors()) - 1
    if more > 0:
        msg += f" (and {more} more error{'s' if more > 1 else ''})"
    return ConfigError(str(path), key or None, msg)


def iter_text_files(paths: Iterable[pathlib.Path]) -> Iterable[pathlib.Path]:
    """Files named directly, and the ``.txt`` files of directories (sorted)."""
    for p in paths:
        if p.is_dir():
            yield from sorted(x for x in p.iterdir() if x.is_file() and x.suffix == ".txt")
        else:
            yield p
