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


def test_the_isri_module_loaded_alone_is_nltks_stemmer() -> None:
    import subprocess
    import sys

    # a fresh interpreter: the stemmer loads without importing the nltk package
    code = ("import sys; from flows.text.stem import root; r = root('الجنديين'); "
            "print(r, any(m == 'nltk' or m.startswith('nltk.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=pathlib.Path(__file__).parents[1]).stdout.split()
    assert out == ["جند", "False"]
    from nltk.stem.isri import ISRIStemmer

    full = ISRIStemmer()
    words = sorted({w for f in sorted(DATA.rglob("*.txt"))[:200]
                    for w in TOKEN_RE.findall(normalize(f.read_text(encoding="utf-8"))) if len(w) >= 3})
    assert len(words) > 500
    assert [root(w) for w in words] == [full.stem(w) for w in words]
