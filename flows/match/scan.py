"""Scanning: text words to term hits, with per-word caches.

Rules:
- Lines are split at white space; each word is analysed once (cached across articles until
  :meth:`clear_caches`, or when a cache passes 300,000 words): its scan tokens (runs of word
  characters and ``+``), their pieces (letters, digits, ``+``; a glued token that matches nothing
  is split before an inner ال), the trie nodes each piece starts, and whether it ends a sentence.
- One trie of word keys holds the terms of every topic, so the cost grows with the hits, not with
  the number of topics; a sentence end is an entry without keys (sentences never touch in word
  windows).
- The walk of a multi-word term is memoized: a step (trie nodes, keys of the next piece) gives
  the terms ending there and the nodes that go on, computed once (kept with the word caches, and
  cleared with them or after 300,000 steps).
- A ``#`` term word matches any number written in digits (``# جندي``: 3000 جندي).
- A ``~word`` term word matches every word with the same root (:mod:`flows.text.stem`); roots are
  computed only when the config has such a term, and only for words holding every letter of one
  of the terms' roots.
- Char spans of pieces are computed for evidence only.
"""

from __future__ import annotations

import collections
import itertools

from flows.text.normalize import TOKEN_RE
from flows.text.stem import may_have_root, root
from flows.match.model import (_Doc, _is_initial, _Entry, _HOLLOW, _Hit, _Node, _SCAN_RE, _SENT_CLOSERS, _SENT_END, _SENT_MARKS,
                               _Sentence, _EMPTY, _sentence_bounds)
from flows.match.words import _ARABIC_WORD_RE, _MAX_PREFIX, _MAX_SUFFIX, _MIN_STEM, _PREFIX_SET, _SUFFIX_SET


class _Scanner:
    """Token analysis and scanning of :class:`flows.match.Matcher` (needs ``_keys``, ``_root`` and
    the caches set by its constructor)."""

    def _lookup(self, tok: str) -> frozenset[int]:
        keys = self._keys
        exact = keys.get("=" + tok)
        if not _ARABIC_WORD_RE.match(tok):
            num = keys.get("#") if tok.isdigit() else None  # "#": any number
            if num is not None:
                return frozenset((exact, num)) if exact is not None else frozenset((num,))
            return frozenset((exact,)) if exact is not None else _EMPTY
        # every (prefix, suffix) of PREFIXES x SUFFIXES around a stem of at least _MIN_STEM letters
        found: set[int] = set() if exact is None else {exact}  # =word: this very word
        # a ~word term: the word's root (cached with the word's analysis), only for words that hold
        # every letter of some term's root (the others cannot have it: ISRI only deletes letters)
        if self._has_roots and may_have_root(tok, self._root_letters):
            k = keys.get("~" + root(tok))
            if k is not None:
                found.add(k)
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
        if stripped and stripped[-1] in _SENT_MARKS and not _is_initial(word):
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
        """(keys, ends, steps, nodes) of a piece, () when it has no key: of the trie nodes its keys
        start at the root, the terms ending there (one-word terms, once per node) and those with
        children; steps (None when there are none) memoizes _step(nodes, keys of the next piece)."""
        if not piece:
            return ()
        ends: list[int] = []
        nodes: list[_Node] = []
        for k in piece:
            node = self._root.get(k)
            if node is not None:
                ends.extend(node.ends)
                if node.children:
                    nodes.append(node)
        return (piece, tuple(ends), {} if nodes else None, tuple(nodes))

    @staticmethod
    def _step(state: tuple[_Node, ...], keys: frozenset[int]) -> tuple:
        """One step of the trie walk: from the nodes ``state`` along every key of a piece, (the terms
        ending there, once per node reached, and the nodes that go on), or () when it reaches none."""
        ends: list[int] = []
        deeper: list[_Node] = []
        for node in state:
            ch = node.children
            for k in keys:
                nxt = ch.get(k)
                if nxt is not None:
                    ends.extend(nxt.ends)
                    if nxt.children:
                        deeper.append(nxt)
        return (tuple(ends), tuple(deeper)) if ends or deeper else ()

    def _scan(self, lines: list[tuple[int, str, str]]) -> _Doc:
        """lines: (line index, zone, normalized text). Returns sentences and term hits.

        A line is a list of entries (see _analyze_text_word); a sentence end is an entry too,
        which keeps one free position between sentences (sentences never touch in word windows).
        """
        doc = _Doc()
        if len(self._cache) > 300_000 or len(self._text_word_cache) > 300_000 or self._n_steps > 300_000:
            self.clear_caches()  # bounded memory on a long-running worker
        wcache = self._text_word_cache
        wget = wcache.__getitem__
        chain = itertools.chain.from_iterable
        compress = itertools.compress
        hits: dict[int, list[_Hit]] = collections.defaultdict(list)
        steps = self._steps
        sentences = doc.sentences
        gpos = 0
        for para, (li, zone, text) in enumerate(lines):
            if "_" in text:  # "_" alone is a scan token without pieces: split as _SENT_SPLIT_RE does
                line = self._line_entries(text)
            else:
                words = text.split()
                try:
                    line = list(chain(map(wget, words)))
                except KeyError:  # a word seen for the first time: analyse the new ones, then again
                    for w in set(words).difference(wcache):
                        self._analyze_text_word(w)
                    line = list(chain(map(wget, words)))
            n = len(line)
            if not n:
                continue
            line.append(())  # past the last entry: a piece without keys, which continues no term
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
                ends = e[1]
                if ends:
                    h = (g, g, sid, para)
                    for term in ends:
                        hits[term].append(h)
                memo = e[2]
                if memo is None:
                    continue
                nxt = line[i + 1]
                if not nxt:
                    continue
                # longer terms: one memoized step per following piece (the common case: the next
                # word continues no term, one dict look-up)
                keys = nxt[0]
                step = memo.get(keys)
                if step is None:
                    step = memo[keys] = self._step(e[3], keys)
                    self._n_steps += 1
                if not step:
                    continue
                ends, state = step
                j = i + 1
                while True:
                    if ends:
                        h = (g, base + j - shift, sid, para)
                        for term in ends:
                            hits[term].append(h)
                    if not state:
                        break
                    j += 1
                    nxt = line[j]
                    if not nxt:
                        break
                    k = (state, nxt[0])
                    step = steps.get(k)
                    if step is None:
                        step = steps[k] = self._step(*k)
                        self._n_steps += 1
                    if not step:
                        break
                    ends, state = step
            if n > sent_start:
                sentences.append(_Sentence(li, nth, text, zone, first, para))
                gpos = base + n - shift + 1
            else:
                gpos = base + n - shift
        doc.hits = dict(hits)
        doc.hit_terms = frozenset(hits)
        return doc

    # ----------------------------------------------------------------- evaluation

    def _piece_spans(self, norm_line: str, start: int, end: int, upto: int = -1) -> list[tuple[int, int]]:
        """Char spans (in the normalized line) of each piece of a sentence; with ``upto`` >= 0, it may
        stop once the spans of pieces 0..upto are known."""
        spans: list[tuple[int, int]] = []
        append = spans.append
        cache = self._span_cache
        find = norm_line.find
        o = start
        stop = upto if upto >= 0 else len(norm_line)  # a sentence has fewer pieces than characters
        for w in norm_line[start:end].split():  # scan tokens never cross white space
            o = find(w, o)
            rel = cache.get(w)
            if rel is None:
                rel = cache[w] = tuple(sp for m in _SCAN_RE.finditer(w) for sp in self._sub_spans(m.group(), m.start()))
            for x, y in rel:
                append((o + x, o + y))
            o += len(w)
            if len(spans) > stop:
                break
        return spans

    # Every per-token cache and the memoized steps: what a new worker starts without.
    _CACHES = ("_cache", "_word_cache", "_span_cache", "_text_word_cache", "_entries", "_steps")

    def clear_caches(self) -> None:
        """Forget every per-token analysis (the cold state of a new worker)."""
        for name in self._CACHES:
            getattr(self, name).clear()
        self._n_steps = 0
