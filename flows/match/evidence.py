"""Evidence: the original sentences and phrases behind a firing.

Rules:
- Evidence sentences are those holding a hit of a firing rule's first group (the key phrase);
  the phrases shown are all the firing's hits inside those sentences, merged when they overlap.
- Text is quoted from the original line (not the normalized one) through the normalization's
  index map; the same sentence of the same zone is shown once.
"""

from __future__ import annotations

from flows.match.model import _Doc, _END, _SENT, _START, _sentence_bounds
from flows.match.rules import _Firing
from flows.match.results import Evidence
from flows.text.normalize import index_map, normalize_with_map


class _EvidenceBuilder:
    """Evidence building of :class:`flows.match.Matcher` (needs ``_piece_spans``)."""

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
