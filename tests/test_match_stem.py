"""Roots for ``~word`` terms: the letter filter that spares ISRI on most words never hides a root."""

from __future__ import annotations

import pathlib

from flows.text.normalize import TOKEN_RE, normalize
from flows.text.stem import may_have_root, root

DATA = pathlib.Path(__file__).parent / "data"


def test_a_root_holds_only_letters_of_its_word() -> None:
    words = {w for f in sorted(DATA.rglob("*.txt")) for w in TOKEN_RE.findall(normalize(f.read_text(encoding="utf-8")))}
    assert len(words) > 1000
    for w in words:
        assert may_have_root(w, (frozenset(root(w)),)), w


def test_words_without_the_root_letters_are_filtered() -> None:
    letters = (frozenset(root("جنود")), frozenset(root("ارسل")))
    assert may_have_root("الجنديين", letters) and may_have_root("يرسلون", letters)
    assert not may_have_root("كوريا", letters) and not may_have_root("واشنطن", letters)
    assert may_have_root("أكثر", letters)  # an initial hamza: ISRI changes it, so no filtering
