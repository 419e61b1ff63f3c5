"""Arabic roots for the matcher's morphological terms (``~word``), from nltk's ISRI stemmer.

Rules:
- :func:`root` gives the ISRI root of one normalized Arabic word (جنود, جندي, الجنديين, مجندين →
  جند; أرسل, يرسلون, إرسال → رسل).  Words of fewer than 3 letters are their own root.
- ISRI was chosen by measured accuracy and speed on the topics' word families
  (``bench/bench_stem.py``; figures in README).  nltk's ISRI module is loaded on first use only,
  with the two small modules it needs and without the rest of nltk (whose import costs about a
  second), so configs without ``~`` terms never pay for it and the others pay little.
- Results are cached per word (bounded); the matcher caches per word too.
- ISRI only deletes letters, apart from its own normalization (short vowels dropped, an initial
  hamza on alef made a bare alef): :func:`may_have_root` tells, without ISRI, whether a word can
  have one of some roots, so the matcher stems only the words that could match a ``~`` term.
"""

from __future__ import annotations

import functools

__all__ = ["root", "may_have_root"]

_stemmer = None


def _load_isri_alone():
    """nltk's ISRI stemmer class from its three modules (stem/isri.py, redos.py, stem/api.py, which
    import only the standard library and ``regex``), without running nltk's package ``__init__``
    (most of nltk: about a second of start-up).  Nothing is put in ``sys.modules``: the modules'
    own ``from nltk ...`` imports are answered by a private ``__import__``."""
    import builtins
    import importlib.util
    import pathlib
    import types

    spec = importlib.util.find_spec("nltk")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("nltk is not installed")
    base = pathlib.Path(list(spec.submodule_search_locations)[0])
    fake_nltk = types.SimpleNamespace()
    loaded: dict[str, types.ModuleType] = {}

    def private_import(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and name == "nltk":
            return fake_nltk
        if level == 0 and name in loaded:
            return loaded[name]
        if level == 0 and name.startswith("nltk"):
            raise ImportError(f"{name} is not one of the ISRI stemmer's modules")
        return builtins.__import__(name, globals, locals, fromlist, level)

    own_builtins = dict(vars(builtins), __import__=private_import)

    def load(dotted: str, rel: str) -> types.ModuleType:
        mod = types.ModuleType("_raqib_" + dotted.replace(".", "_"))
        mod.__dict__["__builtins__"] = own_builtins
        mod.__file__ = str(base / rel)
        code = compile((base / rel).read_text(encoding="utf-8"), mod.__file__, "exec")
        exec(code, mod.__dict__)
        loaded[dotted] = mod
        return mod

    fake_nltk.redos = load("nltk.redos", "redos.py")
    load("nltk.stem.api", "stem/api.py")
    return load("nltk.stem.isri", "stem/isri.py").ISRIStemmer


def _isri():
    global _stemmer
    if _stemmer is None:
        try:
            cls = _load_isri_alone()
        except Exception:  # another nltk layout: the ordinary import (slower, same stemmer)
            from nltk.stem.isri import ISRIStemmer as cls
        _stemmer = cls()
    return _stemmer


@functools.lru_cache(maxsize=200_000)
def root(word: str) -> str:
    """The root of a normalized Arabic word (the word itself when shorter than 3 letters)."""
    if len(word) < 3:
        return word
    return _isri().stem(word)


# characters that ISRI's own normalization changes or drops: then a root may hold a letter the word lacks
_ISRI_CHANGES = frozenset("\u0622\u0623\u0625" + "".join(chr(c) for c in range(0x064B, 0x0653)))


def may_have_root(word: str, root_letters: tuple[frozenset[str], ...]) -> bool:
    """False when ``root(word)`` is surely none of the roots whose letter sets are ``root_letters``
    (a root's letters are all letters of the word); True otherwise."""
    letters = set(word)
    if not letters.isdisjoint(_ISRI_CHANGES):
        return True
    for r in root_letters:
        if r <= letters:
            return True
    return False
