"""Normalization rules (flows.text.normalize), each checked against real pyarabic."""

from __future__ import annotations

import pathlib

import pytest

from flows.text.normalize import normalize, normalize_with_map, tokens

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("الْعَرَبِيَّةُ", "العربيه"),  # tashkeel + teh marbuta
        ("كـــوريا", "كوريا"),  # tatweel
        ("أحمد إيران آسيا ٱلله", "احمد ايران اسيا الله"),  # alef forms
        ("مسؤول سيئول", "مسوول سييول"),  # hamza on waw / yeh
        ("وزراء", "وزرا"),  # bare hamza dropped
        ("إلى مستشفى", "الي مستشفي"),  # alef maqsura -> yeh (not alef)
        ("کوریا الشمالیة", "كوريا الشماليه"),  # Farsi kaf and yeh in whole words
        ("الولایات", "الولايات"),
        ("٢+٢ و۲۰۲۴", "2+2 و2024"),  # Arabic-Indic and Persian digits
        ("كوريا\u200cالشمالية\u200b", "كورياالشماليه"),  # ZWNJ / ZWSP dropped
        ("Pyongyang KIM", "pyongyang kim"),
        ("المتحدة.وقال", "المتحده. وقال"),  # no space after a full stop
        ("بلغ 2.5 مليون", "بلغ 2.5 مليون"),  # decimal untouched
        ("ﻻ", "لا"),  # presentation form
        ("الرحمٰن", "الرحمن"),  # superscript alef dropped
    ],
)
def test_rules(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_newlines_preserved_and_map_consistent() -> None:
    for f in sorted((ROOT / "seeds").glob("*.txt")):
        text = f.read_text(encoding="utf-8")
        norm = normalize(text)
        assert norm.count("\n") == text.count("\n")
        mapped, idx = normalize_with_map(text)
        assert mapped == norm
        assert len(idx) == len(mapped)
        assert idx == sorted(idx)
        assert all(0 <= i < len(text) for i in idx)


def test_map_points_back_to_original() -> None:
    raw = "قالَ: إن کوریا.وأرسلت ٣ آلاف"
    norm, idx = normalize_with_map(raw)
    start = norm.index("كوريا")
    assert raw[idx[start]: idx[start + 4] + 1] == "کوریا"
    start = norm.index("وارسلت")
    assert raw[idx[start]: idx[start + 5] + 1] == "وأرسلت"


def test_tokens_split_plus_sign() -> None:
    assert tokens(normalize("اجتماع “2+2″ و G5 + 1")) == ["اجتماع", "2", "+", "2", "و", "g", "5", "+", "1"]
    assert tokens(normalize("الـ2+2")) == ["ال", "2", "+", "2"]


def test_idempotent() -> None:
    raw = (ROOT / "seeds" / "001_1a712498a06baaf9.txt").read_text(encoding="utf-8")
    once = normalize(raw)
    assert normalize(once) == once


# Invisible characters a publisher can put inside a word (ZWSP, ZWNJ, LRM … were handled before).
INVISIBLE = {
    "word joiner U+2060": "\u2060",
    "Arabic letter mark U+061C": "\u061c",
    "combining grapheme joiner U+034F": "\u034f",
    "Mongolian vowel separator U+180E": "\u180e",
    "variation selector U+FE0F": "\ufe0f",
    "variation selector-17 U+E0100": "\U000e0100",
    "invisible times U+2062": "\u2062",
    "invisible separator U+2063": "\u2063",
    "invisible plus U+2064": "\u2064",
    "Hangul filler U+3164": "\u3164",
    "tag characters U+E0041 U+E007F": "\U000e0041\U000e007f",
}

TROOPS = "تقرير\nأرسلت كوريا الشمالية آلاف الجنود إلى روسيا للقتال في كورسك، بحسب مسؤولين.\n"


def _hide(text: str, mark: str) -> str:
    """``mark`` inside every word the topic needs (between the word's 2nd and 3rd letters)."""
    for word in ("أرسلت", "كوريا", "الشمالية", "الجنود", "روسيا", "للقتال", "كورسك"):
        text = text.replace(word, word[:2] + mark + word[2:])
    return text


@pytest.mark.parametrize("name", list(INVISIBLE))
def test_invisible_characters_inside_words_do_not_hide_a_topic(name: str) -> None:
    from flows.match import Matcher

    matcher = Matcher.from_config_dir(ROOT / "config")
    hidden = _hide(TROOPS, INVISIBLE[name])
    assert normalize(hidden) == normalize(TROOPS)
    got = {t.topic: t for t in matcher.match(hidden)}
    assert "nk_russia_troops" in got
    ev = got["nk_russia_troops"].evidence[0]
    # Evidence quotes the text as published, invisible characters included.
    assert ev.sentence == hidden.split("\n")[1]
    assert _hide("كوريا الشمالية", INVISIBLE[name]) in ev.phrases
    norm, idx = normalize_with_map(hidden)
    assert norm == normalize(hidden) and len(idx) == len(norm)
    assert all(hidden[i] not in INVISIBLE[name] for i in idx)


def test_ignorable_set_is_unicodes_default_ignorable_code_points() -> None:
    regex = pytest.importorskip("regex", reason="the regex module (a trafilatura dependency) gives the property")
    from flows.text.normalize import _IGNORABLE_RE

    prop = regex.compile(r"\p{Default_Ignorable_Code_Point}")
    for cp in range(0x110000):
        c = chr(cp)
        assert bool(_IGNORABLE_RE.match(c)) == bool(prop.match(c)), f"U+{cp:04X}"


def test_decomposed_hamza_and_madda_do_not_hide_a_topic() -> None:
    """A publisher's text in Unicode's decomposed form (ا + U+0654 for أ, ا + U+0653 for آ …) reads
    like the composed one: the matcher fires and the evidence quotes the text as published."""
    import unicodedata

    from flows.match import Matcher

    decomposed = unicodedata.normalize("NFD", TROOPS)
    assert decomposed != TROOPS and "\u0654" in decomposed and "\u0653" in decomposed
    assert normalize(decomposed) == normalize(TROOPS)
    got = {t.topic: t for t in Matcher.from_config_dir(ROOT / "config").match(decomposed)}
    assert "nk_russia_troops" in got
    assert got["nk_russia_troops"].evidence[0].sentence == decomposed.split("\n")[1]
    norm, idx = normalize_with_map(decomposed)
    assert norm == normalize(decomposed) and len(idx) == len(norm)
    assert all(decomposed[i] not in "\u0653\u0654\u0655" for i in idx)


def _chars_every_pass(text: str) -> str:
    """Steps 1-5 with every whole-text pass run unconditionally (the reference for _chars)."""
    import pyarabic.araby as araby

    from flows.text import normalize as n

    plain = n._NOT_PLAIN_RE.search(text) is None
    text = n._IGNORABLE_RE.sub("", text)
    if not plain:
        text = n._PRESENTATION_RE.sub(n._nfkc, text)
        text = n._OTHER_DIGIT_RE.sub(n._ascii_digit, text)
    text = araby.strip_tatweel(araby.strip_tashkeel(text))
    for c, r in n._PRE_ITEMS:
        text = text.replace(c, r)
    text = araby.normalize_alef(araby.normalize_hamza(text, method="tasheel"))
    text = text.replace("\u0629", "\u0647").replace("\u0621", "")
    return text if plain else text.lower()


def test_guarded_passes_equal_every_pass() -> None:
    """_chars skips a whole-text pass when no character needs it (a Latin capital needs only
    lower()); on random mixes of every kind of character it equals running every pass."""
    import random

    from flows.text.normalize import _chars

    kinds = ["كوريا الشمالية", "أإآؤئء", "\u064e\u0651ـ", "ىیکٰ", "٢٣۴", "KIM Pyongyang", "ÀÉ", "ΣΑ",
             "２３＋﹢➕", "५६", "ﻻﺍﷺ", "\u200c\u200b\u00ad\u061c\ufeff\u034f", "\U000e0041\U0001d173",
             "2.5 م", " ", "\n", "İ"]
    rng = random.Random(7)
    for _ in range(3000):
        text = "".join(rng.choice(rng.choice(kinds)) for _ in range(rng.randint(0, 12)))
        assert _chars(text) == _chars_every_pass(text), repr(text)
