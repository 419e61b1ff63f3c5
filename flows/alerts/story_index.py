"""The story window: the fingerprints of recent items, and the lookup of a new article among them.

Rules:
- the index holds, per row, a consistent sample of its stems: the ``SAMPLE`` lowest stem ids
  (stored first, so loading a window decodes only them); a row's full fingerprint is parsed only
  when it is a candidate. A copy of a report shares its share of stems with the sample too;
- an inverted index maps each sampled stem id to the rows holding it; a lookup takes the query's
  ``RARE_TERMS`` stems with the shortest posting lists (the words that tell this report from
  the window's others: names, places, figures' nouns) — fewer when their lists reach
  ``SCAN_BUDGET`` rows — counts the rows they hit, and compares
  only the ``MAX_CANDIDATES`` rows hit most — never the whole window; a stem held by more than
  ``MAX_POSTING`` rows is not counted (too common to tell a report, and the bound on the cost). A row sharing none of those
  stems shares little of the report and cannot be its copy;
- the best same report wins (highest similarity, then the oldest); without one, the best update
  (same event); rows of an older fingerprint version are skipped when loading.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from flows.alerts.stories import DIFFERENT, SAME_EVENT, SAME_REPORT, Fingerprint, Query, anchor_sets

RARE_TERMS = 24
MAX_CANDIDATES = 40
MIN_HITS = 2
SAMPLE = 36  # a multiple of 3: 36 ids are 144 bytes, 192 base64 characters
# A stem in more rows than this is too common to tell a report (and would cost the lookup
# its length): it is not counted, so the cost stays bounded whatever the window holds.
MAX_POSTING = 2_000
# Row ids counted per lookup, at most (once MIN_TERMS_SCANNED stems were counted).
SCAN_BUDGET = 4_000
MIN_TERMS_SCANNED = 6


@dataclass(frozen=True)
class StoryMatch:
    relation: str  # SAME_REPORT or SAME_EVENT
    story_id: int
    item_id: int
    similarity: float


class StoryIndex:
    """Fingerprints of the items processed within the story window, parsed once per cycle."""

    def __init__(self) -> None:
        # (item id, story id, fingerprint or its stored form); a stored one parsed when first compared
        self._rows: list[tuple[int, int, Fingerprint | str]] = []
        self._parsed: dict[int, Fingerprint | None] = {}
        # row -> its (telling figures, lead countries), kept once a lookup needed them
        self._sets: dict[int, tuple[set[str], set[str]]] = {}
        self._postings: defaultdict[int, list[int]] = defaultdict(list)

    def __len__(self) -> int:
        return len(self._rows)

    @classmethod
    def load(cls, rows: list[tuple[int, int, str]]) -> "StoryIndex":
        index = cls()
        for item_id, story_id, text_fp in rows:
            try:
                sample = Fingerprint.stored_sample(text_fp, SAMPLE)
            except ValueError:  # an older fingerprint version: not comparable, skip it
                continue
            index._add(item_id, story_id or item_id, text_fp, sample)
        return index

    def add(self, item_id: int, story_id: int, fp: Fingerprint) -> None:
        self._add(item_id, story_id, fp, fp.terms[:SAMPLE])

    def _add(self, item_id: int, story_id: int, fp: Fingerprint | str, sample: tuple[int, ...]) -> None:
        row = len(self._rows)
        self._rows.append((item_id, story_id, fp))
        postings = self._postings
        for t in sample:
            postings[t].append(row)  # one hash lookup per stem: loading is bound by them

    def _fingerprint(self, row: int) -> Fingerprint | None:
        fp = self._rows[row][2]
        if not isinstance(fp, str):
            return fp
        if row not in self._parsed:
            try:
                self._parsed[row] = Fingerprint.from_str(fp)
            except ValueError:  # damaged in storage: never a match
                self._parsed[row] = None
        return self._parsed[row]

    def candidates(self, fp: Fingerprint) -> list[int]:
        """Rows worth comparing with ``fp``: most hits among its rarest stems first."""
        # The query's stems' posting lists, in its stem order stably sorted by length (rarest first).
        present = sorted([p for p in map(self._postings.get, fp.terms) if p and len(p) <= MAX_POSTING],
                         key=len)
        hits: Counter[int] = Counter()
        scanned = used = 0
        for rows in present[:RARE_TERMS]:
            length = len(rows)
            if used >= MIN_TERMS_SCANNED and scanned + length > SCAN_BUDGET:
                break  # the rarer stems are the telling ones: enough of them were counted
            hits.update(rows)
            scanned += length
            used += 1
        need = min(MIN_HITS, used)
        return [row for row, n in hits.most_common(MAX_CANDIDATES) if n >= need]

    def match(self, fp: Fingerprint) -> StoryMatch | None:
        """The story ``fp`` is a copy of, or else the one it updates, or None."""
        if fp.empty:
            return None
        best: dict[str, tuple[float, int]] = {}
        query = Query(fp)  # the query's sets, built once for all its candidates
        for row in self.candidates(fp):
            other = self._fingerprint(row)
            if other is None:
                continue
            sets = self._sets.get(row)
            if sets is None:  # a row compared once is usually compared again (its story's copies)
                sets = self._sets[row] = anchor_sets(other)
            relation, sim = query.relation(other, sets)
            if relation != DIFFERENT:
                key = (sim, -row)
                if relation not in best or key > best[relation]:
                    best[relation] = key
        for relation in (SAME_REPORT, SAME_EVENT):
            if relation in best:
                sim, neg_row = best[relation]
                item_id, story_id, _ = self._rows[-neg_row]
                return StoryMatch(relation, story_id, item_id, sim)
        return None

    def story_of(self, fp: Fingerprint) -> int | None:
        """The story ``fp`` is a copy of (same report), or None."""
        found = self.match(fp)
        return found.story_id if found and found.relation == SAME_REPORT else None
