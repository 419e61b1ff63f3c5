"""The story window: the fingerprints of recent items, and the lookup of a new article among them.

Rules:
- an inverted index maps each stem id to the rows holding it; a lookup takes the query's
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

from collections import Counter
from dataclasses import dataclass

from flows.alerts.stories import SAME_EVENT, SAME_REPORT, Fingerprint, compare

RARE_TERMS = 24
MAX_CANDIDATES = 40
MIN_HITS = 2
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
        self._rows: list[tuple[int, int, Fingerprint]] = []  # (item id, story id, fingerprint)
        self._postings: dict[int, list[int]] = {}

    def __len__(self) -> int:
        return len(self._rows)

    @classmethod
    def load(cls, rows: list[tuple[int, int, str]]) -> "StoryIndex":
        index = cls()
        for item_id, story_id, text_fp in rows:
            try:
                index.add(item_id, story_id or item_id, Fingerprint.from_str(text_fp))
            except ValueError:  # an older fingerprint version: not comparable, skip it
                continue
        return index

    def add(self, item_id: int, story_id: int, fp: Fingerprint) -> None:
        row = len(self._rows)
        self._rows.append((item_id, story_id, fp))
        postings = self._postings
        for t in fp.terms:
            got = postings.get(t)
            if got is None:
                postings[t] = [row]
            else:
                got.append(row)

    def candidates(self, fp: Fingerprint) -> list[int]:
        """Rows worth comparing with ``fp``: most hits among its rarest stems first."""
        postings = self._postings
        present = [(len(p), p) for p in (postings.get(t) for t in fp.terms) if p and len(p) <= MAX_POSTING]
        present.sort(key=lambda x: x[0])
        hits: Counter[int] = Counter()
        scanned = used = 0
        for length, rows in present[:RARE_TERMS]:
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
        for row in self.candidates(fp):
            verdict = compare(fp, self._rows[row][2])
            if verdict.relation in (SAME_REPORT, SAME_EVENT):
                key = (verdict.similarity, -row)
                if verdict.relation not in best or key > best[verdict.relation]:
                    best[verdict.relation] = key
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
