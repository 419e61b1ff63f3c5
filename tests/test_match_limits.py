"""Matcher limits: compiling stays linear, expansions past the bounds are refused with their key,
and evidence around a phrase in a huge line is a window, not the line."""

from __future__ import annotations

import pytest

from flows.errors import ConfigError
from flows.match import Matcher
from flows.match import compiler as compiler_mod
from flows.match import evidence as evidence_mod
from flows.match.schema import TopicsFile, VariantsFile


def _spec(topics: list[dict]) -> TopicsFile:
    return TopicsFile.model_validate({"topics": topics})


def _topic(tid: str, *groups: list[str]) -> dict:
    return {"id": tid, "name": tid, "rules": [{"id": "r", "window": "sentence",
                                               "groups": [{"terms": g} for g in groups]}]}


def _variants(sets: dict[str, list[str]], auto: bool = False) -> VariantsFile:
    return VariantsFile.model_validate({"sets": {k: {"forms": v, "auto": auto} for k, v in sets.items()}})


def test_big_variant_set_with_duplicates_compiles_and_matches() -> None:
    # 4,900 distinct forms, each listed twice: de-duplication must not compare every pair
    forms = [f"شكل{i} اسم{j}" for i in range(70) for j in range(70)] * 2
    m = Matcher.from_spec(_spec([_topic("big", ["@big"])]), _variants({"big": forms}))
    assert [t.topic for t in m.match("عنوان الخبر هنا\nقال التقرير إن شكل69 اسم3 في الخبر.")] == ["big"]
    assert m.match("عنوان الخبر هنا\nقال التقرير إن شكل70 اسم3 في الخبر.") == []


def test_literal_form_of_a_big_auto_set_expands() -> None:
    forms = [f"شكل{i} اسم{j}" for i in range(70) for j in range(70)]
    m = Matcher.from_spec(_spec([_topic("big", ["قال شكل5 اسم5"])]), _variants({"big": forms}, auto=True))
    assert m.match("عنوان الخبر هنا\nوقال شكل60 اسم61 في الخبر.")


def test_variant_set_past_the_bound_is_refused_with_its_key() -> None:
    forms = [f"شكل{i} اسم{j}" for i in range(80) for j in range(80)]  # 6,400 sequences
    with pytest.raises(ConfigError) as ei:
        Matcher.from_spec(_spec([_topic("big", ["@big"])]), _variants({"big": forms}))
    assert "sets.big.forms[5000]" in str(ei.value)
    assert "more than 5000" in str(ei.value)


def test_term_past_the_bound_is_refused_with_topic_and_key() -> None:
    sets = {"a": [f"الف{i}" for i in range(100)], "b": [f"باء{i}" for i in range(100)]}
    with pytest.raises(ConfigError) as ei:
        Matcher.from_spec(_spec([_topic("t", ["سول"], ["@a @b"])]), _variants(sets))
    assert "topics[t].rules[r].groups[1].terms[0]" in str(ei.value)
    assert "10000 alternatives" in str(ei.value)


def test_total_expansion_bound_names_the_term_that_crosses_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compiler_mod, "_MAX_TOTAL_SEQUENCES", 250)
    sets = {"a": [f"الف{i}" for i in range(100)]}
    with pytest.raises(ConfigError) as ei:
        Matcher.from_spec(_spec([_topic("t1", ["@a"]), _topic("t2", ["@a كلمه"]), _topic("t3", ["@a اخرى"])]),
                          _variants(sets))
    assert "topics[t3].rules[r].groups[0].terms[0]" in str(ei.value)


def test_twenty_thousand_one_rule_topics_load_and_match() -> None:
    n = 20_000
    spec = _spec([_topic(f"t{i}", [f"كلمه{i} خاصه"], ["@seoul"]) for i in range(n)])
    m = Matcher.from_spec(spec, _variants({"seoul": ["سول", "سيول", "سيئول"]}))
    assert len(m.topic_ids) == n
    got = m.match("عنوان الخبر هنا\nورد في سيئول أن كلمه12345 خاصه ظهرت اليوم.")
    assert [t.topic for t in got] == ["t12345"]


# ----------------------------------------------------------------------------- evidence cap


def test_evidence_in_a_huge_line_is_a_window_around_the_phrases() -> None:
    m = Matcher.from_spec(_spec([_topic("t", ["الردع الموسع"], ["سيول"])]), _variants({}))
    filler = "كلام عادي بلا علامات " * 10_000  # ~210,000 characters, no sentence end
    text = "عنوان الخبر هنا\n" + filler + "أكدت سيول أهمية الردع الموسع اليوم " + filler
    (got,) = m.match(text)
    (ev,) = got.evidence
    assert len(ev.sentence) <= evidence_mod.MAX_EVIDENCE_CHARS + 2
    assert "أكدت سيول أهمية الردع الموسع اليوم" in ev.sentence
    assert ev.sentence.startswith("…") and ev.sentence.endswith("…")
    assert set(ev.phrases) == {"الردع الموسع", "سيول"}


def test_evidence_phrases_far_apart_are_kept_with_a_cut_between() -> None:
    m = Matcher.from_spec(_spec([_topic("t", ["الردع الموسع"], ["سيول"])]), _variants({}))
    filler = "كلام عادي بلا علامات " * 5_000
    text = "عنوان الخبر هنا\nأكدت سيول اليوم " + filler + "أهمية الردع الموسع للحلفاء"
    (got,) = m.match(text)
    (ev,) = got.evidence
    assert len(ev.sentence) <= evidence_mod.MAX_EVIDENCE_CHARS + 10
    assert ev.sentence.startswith("أكدت سيول اليوم")
    assert ev.sentence.endswith("أهمية الردع الموسع للحلفاء")
    assert " … " in ev.sentence


def test_short_evidence_sentences_are_whole() -> None:
    m = Matcher.from_spec(_spec([_topic("t", ["الردع الموسع"], ["سيول"])]), _variants({}))
    (got,) = m.match("عنوان الخبر هنا\nأكدت سيول أهمية الردع الموسع. جملة أخرى هنا.")
    assert got.evidence[0].sentence == "أكدت سيول أهمية الردع الموسع"
