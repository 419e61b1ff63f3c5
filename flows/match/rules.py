"""Rule evaluation over a scanned document.

Rules:
- A group's hits are its terms' hits minus those overlapping one of its ``unless`` phrases.
- A rule fires when every group has a hit inside one window (sentence, paragraph, article, or
  N words around the first group's hit in the same paragraph); a group's own window tightens
  it around the anchor.  An ``exclude`` term in its window (the unit, or N words of any chosen
  phrase in the same paragraph, or of the anchor's hit with ``around: anchor``) vetoes the firing;
  a sentence or paragraph exclusion counts the units of every chosen phrase, or with ``around:
  anchor`` the anchor's unit only (an article rule: "the phrase's own paragraph names no other ally");
  ``around: before_anchor`` counts only exclusion phrases that start before the anchor's hit.
- A firing is (sentences of its anchors, all its hits, each at least once); anchors of one window
  merge into one firing (number windows fire per anchor).
"""

from __future__ import annotations

from flows.match.model import _Doc, _END, _Group, _Hit, _PARA, _Rule, _SENT, _START
from flows.match.schema import Window

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


def _by_unit(g: _Group, hs: list[_Hit], w: Window, doc: _Doc) -> dict[int, list[_Hit]] | None:
    """A group's hits by sentence (window "sentence") or paragraph (a paragraph or a number of
    words); None for "article". Cached in the document (groups recur across rules)."""
    if w == "article":
        return None
    f = _SENT if w == "sentence" else _PARA
    key = (g.terms, g.unless, f)
    out = doc.unit_hits.get(key)
    if out is None:
        out = doc.unit_hits[key] = {}
        for h in hs:
            out.setdefault(h[f], []).append(h)
    return out


def _term_hits(terms: frozenset[int], doc: _Doc) -> list[_Hit]:
    """Hits of any of ``terms`` (an exclusion's), cached in the document."""
    hs = doc.term_hits.get(terms)
    if hs is None:
        dh = doc.hits
        hs = doc.term_hits[terms] = [h for t in terms & doc.hit_terms for h in dh[t]]
    return hs


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
    ex_hits = [_term_hits(ex.terms, doc) for ex in rule.excludes]
    any_ex = any(ex_hits)
    firings: list[_Firing] = []
    w = rule.window
    int_window = isinstance(w, int)
    unit_field = _SENT if w == "sentence" else _PARA
    rest = [(g.window, hs, _by_unit(g, hs, w, doc)) for g, hs in zip(rule.groups[1:], group_hits[1:])]
    # in a unit window without group windows, every anchor of one unit gets the same other hits:
    # an anchor of a unit that fired only adds itself (and its sentence) to the unit's firing
    same_rest = not int_window and all(gw is None for gw, _, _ in rest)
    unit_firing: dict[int, int] = {}  # unit -> index of its firing
    for anchor in group_hits[0]:
        if same_rest and not any_ex:
            i = unit_firing.get(_unit(anchor, w))
            if i is not None:
                sents, hits = firings[i]
                if anchor[_SENT] not in sents:
                    firings[i] = (sents | {anchor[_SENT]}, hits)
                hits.append(anchor)
                continue
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
            i = unit_firing.get(unit)
            if i is not None:
                # same window already fired: add this anchor's hits to it
                sents, hits = firings[i]
                firings[i] = (sents | {anchor[_SENT]}, hits)
                if same_rest:
                    hits.append(anchor)
                else:
                    hits.extend(chosen)
                continue
            unit_firing[unit] = len(firings)
            firings.append((frozenset((anchor[_SENT],)), chosen))
    return firings


def _before(h: _Hit, a: _Hit, w: Window) -> bool:
    """``h`` starts before the anchor ``a`` and lies in its window (N words before it, or its unit)."""
    if h[_START] >= a[_START]:
        return False
    if isinstance(w, int):
        return h[_PARA] == a[_PARA] and a[_START] - h[_END] <= w
    if w == "sentence":
        return h[_SENT] == a[_SENT]
    if w == "paragraph":
        return h[_PARA] == a[_PARA]
    return True


def _vetoed(rule: _Rule, ex_hits: list[list[_Hit]], chosen: list[_Hit]) -> bool:
    for ex, hs in zip(rule.excludes, ex_hits):
        if not hs:
            continue
        w = ex.window
        if ex.around == "before_anchor":
            a = chosen[0]
            if any(_before(h, a, w) for h in hs):
                return True
            continue
        if isinstance(w, int):
            near = chosen[:1] if ex.around == "anchor" else chosen
            paras = {c[_PARA] for c in near}
            for h in hs:
                if h[_PARA] not in paras:
                    continue  # only phrases of the same paragraph count
                if any(h[_PARA] == c[_PARA] and (abs(h[_START] - c[_START]) <= w or abs(h[_END] - c[_END]) <= w
                                                 or abs(h[_START] - c[_END]) <= w or abs(h[_END] - c[_START]) <= w)
                       for c in near):
                    return True
        elif w == "article":
            return True  # an exclusion hit anywhere in the article
        else:
            f = _SENT if w == "sentence" else _PARA
            rw = rule.window
            if ex.around == "anchor" or (f == _PARA and rw != "article") or rw == "sentence":
                u = chosen[0][f]  # every chosen hit shares the anchor's unit
                if any(h[f] == u for h in hs):
                    return True
            else:
                units = {c[f] for c in chosen}
                if any(h[f] in units for h in hs):
                    return True
    return False
