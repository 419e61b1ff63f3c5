"""The matcher's shortcuts give what the plain algorithm gives, on every text of the data sets.

Each shortcut (memoized trie steps, the zoning pre-test, ...) is checked against a plain
re-statement of its rule, over the seeds and tests/data/{topics,devset,heldout,heldout2..5,stories}.
"""

from __future__ import annotations

import collections
import pathlib
import random
import re

import pytest

from flows.match import Matcher
from flows.match import zones as zmod
from flows.text.normalize import normalize

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = [ROOT / "seeds", *(ROOT / "tests" / "data" / d for d in ("topics", "devset", "heldout", "heldout2", "heldout3", "heldout4", "heldout5", "stories"))]


def _texts() -> list[str]:
    return [f.read_text(encoding="utf-8") for d in DATA for f in sorted(d.rglob("*.txt"))]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    out = _texts()
    assert len(out) > 800
    return out


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.from_config_dir(ROOT / "config")


# ----------------------------------------------------------------- zones


def _zones_plain(norm_lines: list[str]) -> list[tuple[int, str]]:
    """The zoning rules of flows.match.zones, every pattern tested on every line."""
    out: list[tuple[int, str]] = []
    tail = False
    have_title = False
    summary = False
    points: list[int] = []
    for i, line in enumerate(norm_lines):
        s = line.strip()
        if not s:
            continue
        ntok = len(s.split())
        m = zmod._RELATED_RE.match(s)
        if m:
            if not m.group(1).strip():
                tail = True
            continue
        if zmod._SOURCE_RE.match(s) or zmod._TAGS_RE.match(s):
            tail = True
            continue
        ends = re.search(r"[.!؟?…:]\W*$", s) is not None
        if tail:
            if ntok >= zmod._LONG_PROSE and ends and not zmod._BULLET_RE.match(s):
                tail = False
            else:
                continue
        if not zmod._BULLET_RE.match(s):  # a line that opens a summary's bullet points
            summary = re.search(r"^\W*(?:ملخص|خلاصه|ابرز|اهم|في نقاط)\b|:\W*$", s) is not None
        if zmod._FURNITURE_RE.match(s) or ntok < 3:
            continue
        if zmod._BULLET_RE.match(s) and not ends and not summary:
            if have_title:
                points.append(i)  # headline-like: the body only when nothing else is
            continue
        out.append((i, "body" if have_title else "title"))
        have_title = True
    if len(out) == 1:
        out += [(i, "body") for i in points]
    return out


def test_zones_equal_every_pattern_on_every_line(texts: list[str]) -> None:
    furniture = ["المصدر: وكالة", "كلمات دلالية: كوريا", "إقرأ أيضاً:", "اقرأ أيضا: خبر عن شيء", "  • عنوان خبر آخر هنا",
                 "• جملة طويلة تنتهي بنقطة.", "الرئيسية", "تابعونا على", "الكاتب : فلان", "- ذات صلة", "Related",
                 "tags: a b c", "شارك هذا الخبر الان", "كلمة", "كلمتان فقط", "ثلاث كلمات هنا"]
    rng = random.Random(3)
    docs = [normalize(t).split("\n") for t in texts]
    lines = [ln for d in docs for ln in d]
    for _ in range(300):  # lines of the data sets and page furniture, shuffled together
        docs.append([normalize(rng.choice(furniture)) if rng.random() < 0.4 else rng.choice(lines)
                     for _ in range(rng.randint(1, 30))])
    for d in docs:
        assert zmod._zones(d) == _zones_plain(d)


# ----------------------------------------------------------------- scan


def _hits_plain(m: Matcher, lines: list[tuple[int, str, str]]) -> dict[int, list[tuple[int, int, int, int]]]:
    """Term hits by walking the trie from every piece, one key at a time (no memo)."""
    m._scan(lines)  # analyses every word (the entries are the scan's own: the walk is under test)
    hits: dict[int, list[tuple[int, int, int, int]]] = collections.defaultdict(list)
    gpos = 0
    sid = 0
    for para, (_, _, text) in enumerate(lines):
        line = (m._line_entries(text) if "_" in text
                else [e for w in text.split() for e in m._text_word_cache[w]])
        # positions as the scan numbers them: a sentence end takes one position after a sentence
        pos: list[int | None] = []
        sent_of: list[int] = []
        g = gpos
        sent_start = 0
        for i, e in enumerate(line):
            if e and not e[0]:
                if i > sent_start or len(e) == 3:
                    pos.append(g)
                    g += 1
                    sid += 1
                else:
                    pos.append(None)
                sent_start = i + 1
            else:
                pos.append(g)
                g += 1
            sent_of.append(sid)
        if len(line) > sent_start:
            sid += 1
            gpos = g + 1
        else:
            gpos = g
        for i, e in enumerate(line):
            if not e or not e[0]:
                continue
            for k in e[0]:
                node = m._root.get(k)
                if node is None:
                    continue
                level = [node]
                j = i
                while level:
                    for nd in level:
                        for t in nd.ends:
                            hits[t].append((pos[i], pos[j], sent_of[i], para))
                    j += 1
                    if j >= len(line) or not line[j] or not line[j][0]:
                        break
                    level = [c for nd in level for kk in line[j][0] for c in [nd.children.get(kk)] if c is not None]
    return hits


def test_memoized_trie_steps_find_every_hit(matcher: Matcher, texts: list[str]) -> None:
    for text in texts:
        nl = normalize(text).split("\n")
        lines = [(i, z, nl[i]) for i, z in zmod._zones(nl)]
        got = matcher._scan(lines).hits
        want = _hits_plain(matcher, lines)
        assert {t: sorted(h) for t, h in got.items()} == {t: sorted(h) for t, h in want.items()}


# ----------------------------------------------------------------- rule prefilter


def test_prefilter_never_drops_a_rule_that_fires(matcher: Matcher, texts: list[str]) -> None:
    """_live_rules keeps every rule whose evaluation fires (and the topics come out the same)."""
    from flows.match.rules import _eval_rule

    dropped = kept = 0
    for text in texts:
        nl = normalize(text).split("\n")
        doc = matcher._scan([(i, z, nl[i]) for i, z in zmod._zones(nl)])
        live = set(matcher._live_rules(doc.hit_terms))
        for n, (_, rule, _) in enumerate(matcher._flat_rules):
            if n in live:
                kept += 1
            else:
                dropped += 1
                assert not _eval_rule(rule, doc), (rule.id, text[:80])
    assert dropped > kept > 0  # it does drop rules, and keeps some
