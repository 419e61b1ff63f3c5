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
