"""Evidence: the original sentences and phrases behind a firing.

Rules:
- Evidence sentences are those holding a hit of a firing rule's first group (the key phrase);
  the phrases shown are all the firing's hits inside those sentences, merged when they overlap.
- Text is quoted from the original line (not the normalized one) through the normalization's
  index map; the same sentence of the same zone is shown once.
- A sentence longer than MAX_EVIDENCE_CHARS (a page line without punctuation can be 200,000
  characters) is cut to windows of context around its phrases (whole words, at most
  MAX_EVIDENCE_CHARS in all), each cut marked with "…"; the phrases are always kept.
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
                  spans_of: dict[int, tuple[list[tuple[int, int]], bool]],
                  bounds_of: dict[int, list[tuple[int, int]]]) -> tuple[Evidence, ...]:
        # Evidence sentences: those holding a hit of a rule's first group (the key phrase); the
        # phrases shown are all the firing's hits inside those sentences.
        per_sent: dict[int, set[tuple[int, int]]] = {}
        for key_sents, hits in firings:
            if len(key_sents) == 1:  # the common case: one anchor sentence
                for only in key_sents:
                    spans = [(h[_START], h[_END]) for h in hits if h[_SENT] == only]
                    if spans:
                        got = per_sent.get(only)
                        if got is None:
                            per_sent[only] = set(spans)
                        else:
                            got.update(spans)
                continue
            for h in hits:
                sid = h[_SENT]
                if sid in key_sents:
                    got = per_sent.get(sid)
                    if got is None:
                        per_sent[sid] = {(h[_START], h[_END])}
                    else:
                        got.add((h[_START], h[_END]))
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
            merged = _merge_sorted(sorted(per_sent[sid]))
            first = s.first_piece
            # spans of the sentence's pieces up to the last phrase's end (the rest is never read)
            upto = merged[-1][1] - first
            known = spans_of.get(sid)  # (spans, whether they may stop short of the sentence's end)
            if known is None or (upto >= len(known[0]) and known[1]):
                spans = self._piece_spans(norm, start, end, upto)
                known = spans_of[sid] = (spans, len(spans) > upto)
            spans = known[0]
            sent_text = _orig_span(orig, idx, start, end)
            phrases: list[str] = []
            ranges: list[tuple[int, int]] = []
            if idx:
                nsp = len(spans)
                nidx = len(idx)
                for a, b in merged:
                    la, lb = a - first, b - first
                    if 0 <= la < nsp and 0 <= lb < nsp:
                        ca, cb = spans[la][0], spans[lb][1]
                        if ca >= cb:
                            continue
                        if 0 <= ca < nidx and cb <= nidx:  # _orig_range without its clamps
                            stop = idx[cb] if cb < nidx else len(orig)
                            e = idx[cb - 1] + 1
                            while e < stop and not orig[e].isspace():
                                e += 1
                            r = (idx[ca], e)
                        else:
                            r = _orig_range(orig, idx, ca, cb)
                        p = orig[r[0]:r[1]].strip()
                        if p:
                            ranges.append(r)
                            if p not in phrases:
                                phrases.append(p)
            if len(sent_text) > MAX_EVIDENCE_CHARS and ranges:
                sent_text = _windows(orig, _orig_range(orig, idx, start, end), ranges)
            key = (s.zone, sent_text)
            if key in seen:
                continue
            seen.add(key)
            out.append(Evidence(sent_text, tuple(phrases), s.zone))
        return tuple(out)


MAX_EVIDENCE_CHARS = 600
_MIN_CONTEXT = 40


def _orig_range(orig: str, idx: list[int], a: int, b: int) -> tuple[int, int]:
    """Original char range [start, end) behind normalized chars [a, b); marks that normalization
    dropped right after the last char (a final hamza, tashkeel) belong to it."""
    a = max(0, min(a, len(idx) - 1))
    b = max(a + 1, min(b, len(idx)))
    end = idx[b - 1] + 1
    stop = idx[b] if b < len(idx) else len(orig)
    while end < stop and not orig[end].isspace():
        end += 1
    return idx[a], end


def _windows(orig: str, sent: tuple[int, int], phrases: list[tuple[int, int]]) -> str:
    """The parts of a long sentence around its phrases, "…" where text is cut."""
    lo, hi = sent
    while lo < hi and orig[lo].isspace():
        lo += 1
    while hi > lo and orig[hi - 1].isspace():
        hi -= 1
    budget = MAX_EVIDENCE_CHARS
    kept: list[tuple[int, int]] = []
    for a, b in sorted(phrases):  # phrases first, as many as fit
        if b - a > budget:
            break
        kept.append((a, b))
        budget -= b - a
    if not kept:
        a = phrases[0][0]
        kept, budget = [(a, min(a + MAX_EVIDENCE_CHARS, hi))], 0
    ctx = max(_MIN_CONTEXT, budget // (2 * len(kept)))
    parts: list[list[int]] = []
    for a, b in kept:
        a, b = max(lo, a - ctx), min(hi, b + ctx)
        if parts and a <= parts[-1][1]:
            parts[-1][1] = max(parts[-1][1], b)
        else:
            parts.append([a, b])
    out: list[str] = []
    for a, b in parts:
        # whole words only: move a cut inside the text to the next white space
        if a > lo:
            sp = orig.find(" ", a, kept[0][0] if a < kept[0][0] else a)
            a = sp + 1 if sp >= 0 else a
        if b < hi:
            sp = orig.rfind(" ", a, b)
            b = sp if sp > a else b
        out.append(orig[a:b].strip())
    text = " … ".join(out)
    if parts[0][0] > lo:
        text = "…" + text
    if parts[-1][1] < hi:
        text += "…"
    return text


def _merge_sorted(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Union of overlapping inclusive piece ranges given in order, in order."""
    out: list[tuple[int, int]] = []
    for a, b in spans:
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _orig_span(orig: str, idx: list[int], a: int, b: int) -> str:
    """Original text behind normalized chars [a, b)."""
    if not idx or a >= b:
        return ""
    start, end = _orig_range(orig, idx, a, b)
    return orig[start:end].strip()
