"""The matcher: compiled topics and :meth:`Matcher.match` (zones, scan, rules, evidence).

Rules:
- ``match`` normalizes the text once, keeps the counted lines (:mod:`flows.match.zones`), scans
  them for term hits (:mod:`flows.match.scan`), evaluates only the rules each of whose groups has
  a hit term, found with set operations over the hit terms (:mod:`flows.match.rules`), scores
  each topic (the sum of the weights of its rules that fired; it fires when the score reaches its
  threshold) and quotes evidence (:mod:`flows.match.evidence`).  Rules alike across topics are
  evaluated once per article.
- Loading is loud: any invalid field, unknown key, unknown variant set or term that normalizes
  to nothing raises :class:`flows.errors.ConfigError` naming file, topic and key.
"""

from __future__ import annotations

import hashlib
import pathlib
import threading

from pydantic import ValidationError

from flows.errors import ConfigError
from flows.match.compiler import _Compiler
from flows.match.knowledge import DEFAULT_KNOWLEDGE, load_knowledge
from flows.match.evidence import _EvidenceBuilder
from flows.match.loading import _config_error, _load_yaml
from flows.match.model import _Entry, _Node, _Rule, _Topic
from flows.match.results import Evidence, TopicMatch
from flows.match.rules import _Firing, _eval_rule
from flows.match.scan import _Scanner
from flows.match.schema import TopicsFile, VariantsFile
from flows.match.zones import _zones
from flows.text.normalize import normalize

# Compiled matchers by (config folder, hash of its YAML files and of raqib's own knowledge file).
_BUILT: dict[tuple[str, str], "Matcher"] = {}
_BUILT_LOCK = threading.Lock()


def _config_key(config_dir: pathlib.Path) -> tuple[str, str]:
    digest = hashlib.sha256()
    for path in [*sorted(config_dir.glob("*.yaml")), DEFAULT_KNOWLEDGE]:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        digest.update(str(path).encode() + b"\0" + data + b"\0")
    return str(config_dir.resolve()), digest.hexdigest()

__all__ = ["Matcher"]


class Matcher(_Scanner, _EvidenceBuilder):
    """Compiled topics; :meth:`match` is pure and thread-safe apart from a token cache."""

    def __init__(self, topics: list[_Topic], keys: dict[str, int], root: _Node, term_text: list[str]) -> None:
        self._topics = topics
        self._keys = keys
        self._root_letters = tuple(frozenset(k[1:]) for k in keys if k.startswith("~"))
        self._has_roots = bool(self._root_letters)
        self._root = root.children
        self._term_text = term_text
        self._cache: dict[str, tuple[frozenset[int], ...]] = {}
        self._word_cache: dict[str, tuple[frozenset[int], ...]] = {}
        self._span_cache: dict[str, tuple[tuple[int, int], ...]] = {}
        self._text_word_cache: dict[str, tuple[_Entry, ...]] = {}
        self._entries: dict[frozenset[int], _Entry] = {}
        # (trie nodes, keys of a piece) -> _Scanner._step of them, for terms of three words or more
        self._steps: dict[tuple[tuple[_Node, ...], frozenset[int]], tuple] = {}
        self._n_steps = 0  # memoized steps (bounds the memory with the caches)
        # every rule in (topic, rule) order: (topic index, rule, number of its sig: rules alike share it)
        sig_no: dict[tuple, int] = {}
        self._flat_rules: list[tuple[int, _Rule, int]] = [
            (ti, r, sig_no.setdefault(r.sig, len(sig_no))) for ti, t in enumerate(topics) for r in t.rules]
        # term id -> numbers (in _flat_rules) of the rules using it in a group: lets match() look
        # only at rules with hits
        index: dict[int, set[int]] = {}
        for n, (_, r, _) in enumerate(self._flat_rules):
            for g in r.groups:
                for term in g.terms:
                    index.setdefault(term, set()).add(n)
        self._rule_index = {k: frozenset(v) for k, v in index.items()}
        self._group_terms = frozenset(index)
        # prefilter: a rule fires only if each of its groups has a hit term (_eval_rule's first
        # test); groups are numbered by their term sets, a rule needs the numbers of its groups
        set_no: dict[frozenset[int], int] = {}
        self._rule_needs = [frozenset(set_no.setdefault(g.terms, len(set_no)) for g in r.groups)
                            for _, r, _ in self._flat_rules]
        sets_of: dict[int, set[int]] = {}
        for terms, no in set_no.items():
            for term in terms:
                sets_of.setdefault(term, set()).add(no)
        self._sets_of_term = {k: frozenset(v) for k, v in sets_of.items()}

    def __getstate__(self) -> dict[str, object]:
        """Pickled (sent to an extraction process) without the per-word caches: they hold views
        of trie nodes that do not pickle, and a new process fills its own."""
        state = self.__dict__.copy()
        for name in self._CACHES:
            state[name] = {}
        state["_n_steps"] = 0
        return state

    # ----------------------------------------------------------------- loading

    @classmethod
    def from_config_dir(cls, config_dir: pathlib.Path) -> "Matcher":
        """The matcher of ``config_dir``. Compiled once per process for the same files (by content):
        a command validates the config and then runs the cycle, each asking for it."""
        config_dir = pathlib.Path(config_dir)
        key = _config_key(config_dir)
        with _BUILT_LOCK:
            hit = _BUILT.get(key)
        if hit is not None:
            return hit
        built = cls._from_files(config_dir)
        with _BUILT_LOCK:
            if len(_BUILT) >= 4:
                _BUILT.pop(next(iter(_BUILT)))
            _BUILT[key] = built
        return built

    @classmethod
    def _from_files(cls, config_dir: pathlib.Path) -> "Matcher":
        topics_path = config_dir / "topics.yaml"
        raw = _load_yaml(topics_path)
        try:
            spec = TopicsFile.model_validate(raw)
        except ValidationError as exc:
            raise _config_error(topics_path, exc, raw) from None
        vspec: VariantsFile | None = None
        variants_path: pathlib.Path | None = None
        if spec.variants:
            variants_path = config_dir / spec.variants
            vraw = _load_yaml(variants_path)
            try:
                vspec = VariantsFile.model_validate(vraw)
            except ValidationError as exc:
                raise _config_error(variants_path, exc, vraw) from None
        knowledge_path: pathlib.Path | None = None
        if spec.knowledge:
            knowledge_path = config_dir / spec.knowledge
            if not knowledge_path.exists() and spec.knowledge == "knowledge.yaml":
                knowledge_path = DEFAULT_KNOWLEDGE  # a config directory without one uses raqib's own
        return cls._build(spec, topics_path, vspec, variants_path, knowledge_path, lazy_roles=False)

    @classmethod
    def from_spec(cls, spec: TopicsFile, variants: VariantsFile | None = None,
                  source: str = "<topics>", knowledge: pathlib.Path | None = None) -> "Matcher":
        """Build from already validated specs (used by the benchmark and tests); the knowledge file
        is ``knowledge`` or, when the spec names one, raqib's own."""
        if knowledge is None and spec.knowledge:
            knowledge = DEFAULT_KNOWLEDGE
        return cls._build(spec, pathlib.Path(source), variants, None, knowledge, lazy_roles=True)

    @classmethod
    def _build(cls, spec: TopicsFile, topics_path: pathlib.Path, vspec: VariantsFile | None,
               variants_path: pathlib.Path | None, knowledge_path: pathlib.Path | None,
               lazy_roles: bool) -> "Matcher":
        """Compile; with ``lazy_roles`` a role (whose titles may name variant sets) is compiled only
        when a rule names it, so specs with variant sets of their own can use the knowledge."""
        forms = {n: list(s.forms) for n, s in (vspec.sets.items() if vspec else ())}
        auto = {n for n, s in (vspec.sets.items() if vspec else ()) if s.auto}
        origins: dict[str, tuple[str, list[str]]] = {}
        lazy: frozenset[str] = frozenset()
        if knowledge_path is not None:
            ksets, kauto, kkeys = load_knowledge(knowledge_path)
            for name in ksets:
                if name in forms:
                    raise ConfigError(str(knowledge_path), kkeys[name][0].split(".")[0] + "." + name,
                                      f"id {name!r} is also a variant set of {variants_path or 'the variants'}")
            forms.update(ksets)
            auto |= kauto
            origins = {n: (str(knowledge_path), k) for n, k in kkeys.items()}
            if lazy_roles:
                lazy = frozenset(ksets) - kauto
        typos = frozenset(n for n, s in (vspec.sets.items() if vspec else ()) if s.typos)
        return _Compiler(topics_path, variants_path, forms, auto, origins, lazy, typos).compile(spec)

    @property
    def topic_ids(self) -> list[str]:
        return [t.id for t in self._topics]

    def topic_name(self, topic_id: str) -> str:
        for t in self._topics:
            if t.id == topic_id:
                return t.name
        raise KeyError(topic_id)

    def baseline_terms(self) -> dict[str, tuple[str, ...]]:
        """The plain keyword list of each topic (``baseline`` in topics.yaml) for backtests."""
        return {t.id: t.baseline for t in self._topics}

    # ----------------------------------------------------------------- evaluation

    def _live_rules(self, hit_terms: frozenset[int]) -> list[int]:
        """Numbers (in _flat_rules, in order) of the rules each of whose groups has a hit term: the
        others cannot fire (set operations over the hit terms, no rule evaluated)."""
        hit = hit_terms & self._group_terms
        if not hit:
            return []
        sets_hit = frozenset().union(*map(self._sets_of_term.__getitem__, hit))
        needs = self._rule_needs
        return sorted(n for n in frozenset().union(*map(self._rule_index.__getitem__, hit)) if needs[n] <= sets_hit)

    def match(self, text: str, title: str | None = None) -> list[TopicMatch]:
        orig_lines = text.split("\n")
        norm_lines = normalize(text).split("\n")
        if len(norm_lines) != len(orig_lines):  # cannot happen: normalize keeps newlines
            norm_lines = [normalize(x) for x in orig_lines]
        counted: list[tuple[int, str, str]] = []
        if title and title.strip():
            counted.append((-1, "title", normalize(" ".join(title.split()))))
        counted.extend((i, z, norm_lines[i]) for i, z in _zones(norm_lines))
        doc = self._scan(counted)
        if not doc.hits:
            return []
        live = self._live_rules(doc.hit_terms)
        if not live:
            return []
        out: list[TopicMatch] = []
        title_line = (title or "").strip()
        mapped: dict[int, tuple[str, list[int]]] = {}
        spans_of: dict[int, tuple[list[tuple[int, int]], bool]] = {}
        bounds_of: dict[int, list[tuple[int, int]]] = {}
        fired_by_sig: dict[int, list[_Firing]] = {}  # rules alike (across topics) fire alike
        evidence_of: dict[tuple[int, ...], tuple[Evidence, ...]] = {}
        flat = self._flat_rules
        topics = self._topics
        cur = -1  # the topic whose rules are being summed
        score = 0.0
        firings: list[_Firing] = []
        sigs: list[int] = []
        for n in [*live, -1]:  # -1: past the last topic
            ti, rule, sig = flat[n] if n >= 0 else (-1, None, -1)
            if ti != cur:
                if cur >= 0 and score >= topics[cur].threshold - 1e-9:
                    topic = topics[cur]
                    key = tuple(sigs)
                    ev = evidence_of.get(key)
                    if ev is None:
                        ev = evidence_of[key] = self._evidence(firings, doc, orig_lines, title_line, mapped,
                                                               spans_of, bounds_of)
                    out.append(TopicMatch(topic.id, topic.name, round(score, 6), ev))
                if rule is None:
                    break
                cur = ti
                score = 0.0
                firings = []
                sigs = []
            fired = fired_by_sig.get(sig)
            if fired is None:
                fired = fired_by_sig[sig] = _eval_rule(rule, doc)
            if fired:
                score += rule.weight
                firings.extend(fired)
                sigs.append(sig)
        return out
