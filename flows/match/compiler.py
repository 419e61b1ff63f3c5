"""Compiling topics: terms to key sequences in one trie, rules to the compiled model.

Rules:
- A term is split into normalized words; ``@set`` inserts a variant set; in ``auto`` sets a form
  written literally in a term is expanded to the whole set; ``=word`` is exact; ``~word`` is any
  word of the same root (:mod:`flows.text.stem`); ``#`` is any number in digits.
- A word too short to match safely (fewer than 2 letters as a key) must be written ``=word``.
- Compiling is linear in the size of the expansion: sequences are de-duplicated with dicts and
  literal forms are found by looking up each slice length (never by comparing with every form).
- Bounds (refused with file, topic and key named): a term or a variant set that expands to more
  than _MAX_ALTERNATIVES (5,000) key sequences; more than _MAX_TOTAL_SEQUENCES (2,000,000) key
  sequences for the whole config.
- Multi-word all-Arabic sequences are also indexed as one glued word (بيونغيانغ).
- Unknown or self-referencing variant sets stop the load with file and key.
"""

from __future__ import annotations

import itertools
import pathlib
import re
from typing import TYPE_CHECKING, Any

from flows.errors import ConfigError
from flows.match.model import _Exclude, _Group, _Node, _Rule, _Topic
from flows.match.schema import TopicsFile
from flows.match.words import _ARABIC_WORD_RE, _MIN_STEM, typo_keys, word_key
from flows.text.stem import root
from flows.text.normalize import TOKEN_RE, normalize

if TYPE_CHECKING:
    from flows.match.matcher import Matcher

_MAX_ALTERNATIVES = 5000
_MAX_TOTAL_SEQUENCES = 2_000_000


class _Compiler:
    def __init__(self, topics_path: pathlib.Path, variants_path: pathlib.Path | None,
                 variants: dict[str, list[str]], auto: set[str],
                 origins: dict[str, tuple[str, list[str]]] | None = None, lazy: frozenset[str] = frozenset(),
                 typos: frozenset[str] = frozenset()) -> None:
        self.typos = typos  # sets whose forms also match with one typo
        self.auto = auto
        self.lazy = lazy  # sets compiled only when a term names them
        # set name -> (file, key of each form) for sets that come from another file (knowledge)
        self.origins = origins or {}
        self.topics_path = topics_path
        self.variants_path = variants_path
        self.raw_variants = variants
        self.keys: dict[str, int] = {}
        self.root = _Node()
        self.term_ids: dict[str, int] = {}
        self.raw_ids: dict[str, int] = {}
        self.term_text: list[str] = []
        self.sets: dict[str, list[tuple[str, ...]]] = {}
        self.form_index: dict[tuple[str, ...], str] = {}  # form of an auto set -> set name
        self.form_lens: dict[str, tuple[int, ...]] = {}  # first key -> lengths of forms, longest first
        self.total = 0
        self._resolve_variants()

    # variant sets -> lists of key sequences
    def _resolve_variants(self) -> None:
        vfile = str(self.variants_path or self.topics_path)
        resolving: set[str] = set()

        def resolve(name: str, key: str) -> list[tuple[str, ...]]:
            if name in self.sets:
                return self.sets[name]
            if name not in self.raw_variants:
                raise ConfigError(vfile, key, f"unknown variant set, role or person @{name}")
            if name in resolving:
                raise ConfigError(vfile, key, f"variant set @{name} refers to itself")
            resolving.add(name)
            seen: dict[tuple[str, ...], None] = {}
            sfile, skeys = self.origins.get(name, (vfile, None))
            for i, form in enumerate(self.raw_variants[name]):
                fkey = skeys[i] if skeys else f"sets.{name}.forms[{i}]"
                slots = self._slots(form, fkey, sfile, resolve, expand_literal=False)
                seen.update(dict.fromkeys(self._product(slots, fkey, sfile)))
                if len(seen) > _MAX_ALTERNATIVES:
                    raise ConfigError(sfile, fkey, f"variant set @{name} expands to more than "
                                      f"{_MAX_ALTERNATIVES} sequences")
            if name in self.typos:
                for seq in [s for s in seen if len(s) > 1]:  # a phrase: the other words anchor the typo
                    for i, k in enumerate(seq):
                        for tk in typo_keys(k):
                            seen.setdefault(seq[:i] + (tk,) + seq[i + 1:])
                if len(seen) > _MAX_ALTERNATIVES:
                    raise ConfigError(sfile, f"sets.{name}.typos", f"variant set @{name} with typos expands to "
                                      f"more than {_MAX_ALTERNATIVES} sequences")
            resolving.discard(name)
            seqs = self.sets[name] = list(seen)
            return seqs

        for name in self.raw_variants:
            if name not in self.lazy:
                resolve(name, f"sets.{name}")
        for name, seqs in self.sets.items():
            if name not in self.auto:
                continue
            for seq in seqs:
                self.form_index.setdefault(seq, name)
        lens: dict[str, set[int]] = {}
        for seq in self.form_index:
            lens.setdefault(seq[0], set()).add(len(seq))
        self.form_lens = {k: tuple(sorted(v, reverse=True)) for k, v in lens.items()}
        self._resolve = resolve

    def _slots(self, term: str, key: str, file: str, resolve: Any, expand_literal: bool) -> list[list[tuple[str, ...]]]:
        """A term as a list of slots, each a list of alternative key sequences."""
        words = normalize(term).split()
        if not words:
            raise ConfigError(file, key, f"term {term!r} is empty")
        slots: list[list[tuple[str, ...]]] = []
        plain: list[str] = []

        def flush() -> None:
            if not plain:
                return
            seq = tuple(plain)
            i = 0
            while i < len(seq):
                if expand_literal:
                    for n in self.form_lens.get(seq[i], ()):
                        name = self.form_index.get(seq[i:i + n])
                        if name is not None:
                            slots.append(self.sets[name])
                            i += n
                            break
                    else:
                        slots.append([(seq[i],)])
                        i += 1
                else:
                    slots.append([(seq[i],)])
                    i += 1
            plain.clear()

        for w in words:
            if w.startswith("@"):
                flush()
                name = w[1:]
                if not re.match(r"^[a-z][a-z0-9_]*$", name):
                    raise ConfigError(file, key, f"bad variant reference {w!r} in term {term!r}")
                if name not in self.raw_variants:
                    raise ConfigError(file, key, f"unknown variant set, role or person {w!r} in term {term!r}")
                slots.append(resolve(name, key))
                continue
            if w == "#":
                plain.append("#")
                continue
            if w.startswith("~"):
                body = TOKEN_RE.findall(w[1:])
                if len(body) != 1 or not _ARABIC_WORD_RE.match(body[0]) or len(body[0]) < 3:
                    raise ConfigError(file, key, f"root word {w!r} must be one Arabic word of 3 letters or more")
                plain.append("~" + root(body[0]))
                continue
            if w.startswith("="):
                body = TOKEN_RE.findall(w[1:])
                if len(body) != 1:
                    raise ConfigError(file, key, f"exact word {w!r} must be a single word")
                plain.append("=" + body[0])
                continue
            toks = TOKEN_RE.findall(w)
            if not toks:
                continue
            for t in toks:
                k = word_key(t)
                if not k.startswith("=") and len(k) < _MIN_STEM:
                    raise ConfigError(file, key, f"word {t!r} in term {term!r} is too short to match safely (write it as ={t})")
                plain.append(k)
        flush()
        if not slots:
            raise ConfigError(file, key, f"term {term!r} has no words after normalization")
        return slots

    def _product(self, slots: list[list[tuple[str, ...]]], key: str, file: str) -> list[tuple[str, ...]]:
        n = 1
        for s in slots:
            n *= len(s)
        if n > _MAX_ALTERNATIVES:
            raise ConfigError(file, key, f"term expands to {n} alternatives (max {_MAX_ALTERNATIVES})")
        return [tuple(k for part in combo for k in part) for combo in itertools.product(*slots)]

    def _key_id(self, k: str) -> int:
        kid = self.keys.get(k)
        if kid is None:
            kid = self.keys[k] = len(self.keys)
        return kid

    def term(self, text: str, key: str) -> int:
        tid = self.raw_ids.get(text)  # the same term in many rules and topics: normalized once
        if tid is not None:
            return tid
        norm = " ".join(normalize(text).split())
        tid = self.term_ids.get(norm)
        if tid is not None:
            self.raw_ids[text] = tid
            return tid
        file = str(self.topics_path)
        slots = self._slots(text, key, file, self._resolve, expand_literal=True)
        alts = self._product(slots, key, file)
        self.total += len(alts)
        if self.total > _MAX_TOTAL_SEQUENCES:
            raise ConfigError(file, key, f"the topics expand to more than {_MAX_TOTAL_SEQUENCES} "
                              "key sequences in all")
        tid = self.term_ids[norm] = self.raw_ids[text] = len(self.term_text)
        self.term_text.append(text)
        for seq in alts:
            self._insert(seq, tid)
            if len(seq) > 1 and all(not k.startswith(("=", "~", "#")) for k in seq):
                self._insert(("".join(seq),), tid)  # بيونغ يانغ written بيونغيانغ
        return tid

    def _insert(self, seq: tuple[str, ...], tid: int) -> None:
        node = self.root
        for k in seq:
            kid = self._key_id(k)
            nxt = node.children.get(kid)
            if nxt is None:
                nxt = node.children[kid] = _Node()
            node = nxt
        if not node.ends or node.ends[-1] != tid:  # a term's sequences are inserted one after another
            node.ends.append(tid)

    def compile(self, spec: TopicsFile) -> "Matcher":
        from flows.match.matcher import Matcher

        topics: list[_Topic] = []
        for t in spec.topics:
            rules: list[_Rule] = []
            for r in t.rules:
                base = f"topics[{t.id}].rules[{r.id}]"
                groups = []
                for gi, g in enumerate(r.groups):
                    terms = frozenset(self.term(x, f"{base}.groups[{gi}].terms[{i}]") for i, x in enumerate(g.terms))
                    unless = frozenset(self.term(x, f"{base}.groups[{gi}].unless[{i}]") for i, x in enumerate(g.unless))
                    groups.append(_Group(terms, unless, g.window))
                excludes = []
                for ei, e in enumerate(r.exclude):
                    terms = frozenset(self.term(x, f"{base}.exclude[{ei}].terms[{i}]") for i, x in enumerate(e.terms))
                    excludes.append(_Exclude(terms, e.window if e.window is not None else r.window, e.around))
                rules.append(_Rule(r.id, r.weight, r.window, groups, excludes))
            topics.append(_Topic(t.id, t.name, t.threshold, rules, tuple(t.baseline)))
        return Matcher(topics, self.keys, self.root, self.term_text)
