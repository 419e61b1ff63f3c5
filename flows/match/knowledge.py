"""The knowledge file (config/knowledge.yaml): who holds which office, as data, for the topic language.

Rules:
- ``roles``: an office (``us_foreign_minister``, ``kr_defense_minister`` …) with its country and
  the title phrases outlets use for it (they may use variant sets: ``وزير الخارجية @us_adj``).
- ``people``: a person or body with its country, its offices (role and term: ``from`` / ``to``,
  ``to`` absent while in office) and its Arabic spellings (several per name).
- ``spelling``: classes of interchangeable letter groups in transliterated names (تش/ج/ش for
  ch/j, غ/ج/ق for g, …).  Every spelling of a person also yields the generated variants: each
  occurrence of a member of a class replaced by the other members (at most MAX_GENERATED
  variants per spelling, the given spelling first); a three-word name (Korean) also yields its
  given name glued (يون بيونغسي).  Hamza/alef forms, ى/ي, ة/ه and the article need no class:
  normalization and word keys take care of them.
- In a rule, ``@person_id`` stands for every spelling of the person; ``@role_id`` for every title
  phrase of the office and every spelling of every holder, whoever held it when.  A literal
  spelling of a person written in a term is expanded to all of them (like ``auto`` sets).
- Validated by pydantic: unknown keys are refused, ids are ``[a-z][a-z0-9_]*``, a person's role
  must be a known role, a term must not end before it starts; an id that is also a variant set
  is refused.  Errors name the file and the key (``people.blinken.offices[0].role``).
"""

from __future__ import annotations

import datetime
import functools
import itertools
import pathlib
import re

from pydantic import Field, ValidationError, field_validator, model_validator

from flows.errors import ConfigError
from flows.match.loading import _config_error, _load_yaml
from flows.match.schema import ID_PATTERN, _Strict
from flows.text.normalize import normalize

__all__ = ["KnowledgeFile", "knowledge_sets", "load_knowledge", "generated_spellings", "DEFAULT_KNOWLEDGE",
           "MAX_GENERATED"]

MAX_GENERATED = 48
# raqib's own knowledge file: used when a config directory has none.
DEFAULT_KNOWLEDGE = pathlib.Path(__file__).resolve().parents[2] / "config" / "knowledge.yaml"


class RoleSpec(_Strict):
    description: str = Field(min_length=1)
    country: str = Field(pattern=ID_PATTERN)
    titles: list[str] = Field(default_factory=list)


class OfficeSpec(_Strict):
    role: str = Field(pattern=ID_PATTERN)
    start: datetime.date = Field(alias="from")
    end: datetime.date | None = Field(default=None, alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> "OfficeSpec":
        if self.end is not None and self.end < self.start:
            raise ValueError(f"term ends ({self.end}) before it starts ({self.start})")
        return self


class PersonSpec(_Strict):
    name: str = Field(min_length=1)  # in Latin letters, for people reading the file
    country: str = Field(pattern=ID_PATTERN)
    offices: list[OfficeSpec] = Field(default_factory=list)
    spellings: list[str] = Field(min_length=1)


class SpellingClass(_Strict):
    letters: list[str] = Field(min_length=2)
    note: str | None = None


class KnowledgeFile(_Strict):
    version: int = Field(default=1, ge=1, le=1)
    spelling: list[SpellingClass] = Field(default_factory=list)
    roles: dict[str, RoleSpec] = Field(default_factory=dict)
    people: dict[str, PersonSpec] = Field(default_factory=dict)

    @field_validator("roles", "people")
    @classmethod
    def _ids(cls, items: dict) -> dict:
        for k in items:
            if not re.match(ID_PATTERN, k):
                raise ValueError(f"id {k!r} must match {ID_PATTERN}")
        return items

    @model_validator(mode="after")
    def _known_roles(self) -> "KnowledgeFile":
        both = set(self.roles) & set(self.people)
        if both:
            raise ValueError(f"id {sorted(both)[0]!r} is both a role and a person")
        return self


def role_errors(k: KnowledgeFile) -> list[tuple[str, str]]:
    """(key, message) for every office naming an unknown role."""
    out = []
    for pid, p in k.people.items():
        for i, o in enumerate(p.offices):
            if o.role not in k.roles:
                out.append((f"people.{pid}.offices[{i}].role", f"unknown role {o.role!r}"))
    return out


def _word_variants(word: str, classes: list[list[str]]) -> list[str]:
    """A word with every member of a spelling class replaced by the others (original first)."""
    parts: list[list[str]] = []
    i = 0
    first: dict[str, int] = {}
    for ci, c in enumerate(classes):
        for m in c:
            first.setdefault(m, ci)  # a letter group in two classes belongs to the first
    members = sorted(first.items(), key=lambda x: -len(x[0]))
    while i < len(word):
        for m, ci in members:
            if m and word.startswith(m, i):
                parts.append([m] + [x for x in classes[ci] if x != m])
                i += len(m)
                break
        else:
            parts.append([word[i]])
            i += 1
    out: list[str] = []
    for combo in itertools.product(*parts):
        out.append("".join(combo))
        if len(out) >= MAX_GENERATED:
            break
    return out


def generated_spellings(spelling: str, classes: list[list[str]]) -> list[str]:
    """The spelling and its generated variants (normalized; at most MAX_GENERATED in all)."""
    words = normalize(spelling).replace("-", " ").split()
    norm_classes = [[normalize(x) for x in c] for c in classes]
    per_word = [_word_variants(w, norm_classes) for w in words]
    out: dict[str, None] = {" ".join(words): None}
    for combo in itertools.product(*per_word):
        out[" ".join(combo)] = None
        if len(out) >= MAX_GENERATED:
            break
    if len(words) == 3:  # Korean names: the given name also written as one word
        out.update(dict.fromkeys([f"{c[0]} {c[1]}{c[2]}" for c in itertools.islice(itertools.product(*per_word), 8)]))
    return list(out)


def knowledge_sets(k: KnowledgeFile) -> tuple[dict[str, list[str]], set[str], dict[str, list[str]]]:
    """Variant sets made from the knowledge: one per person (its spellings and their generated
    variants; expanded when written literally) and one per role (its titles and its holders).
    Returns (sets, the auto sets, the key in the knowledge file of each form of each set)."""
    classes = [c.letters for c in k.spelling]
    sets: dict[str, list[str]] = {}
    keys: dict[str, list[str]] = {}
    for pid, p in k.people.items():
        forms: dict[str, str] = {}
        for i, s in enumerate(p.spellings):
            for g in generated_spellings(s, classes):
                forms.setdefault(g, f"people.{pid}.spellings[{i}]")
        sets[pid] = list(forms)
        keys[pid] = list(forms.values())
    for rid, r in k.roles.items():
        holders = [pid for pid, p in k.people.items() if any(o.role == rid for o in p.offices)]
        sets[rid] = list(r.titles) + [f"@{pid}" for pid in holders]
        keys[rid] = [f"roles.{rid}.titles[{i}]" for i in range(len(r.titles))] + [f"people.{pid}" for pid in holders]
    return sets, set(k.people), keys


def load_knowledge(path: pathlib.Path) -> tuple[dict[str, list[str]], set[str], dict[str, list[str]]]:
    """:func:`knowledge_sets` of a knowledge file, validated (cached while the file is unchanged)."""
    path = pathlib.Path(path)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        stamp = -1
    return _load_knowledge(path, stamp)


@functools.lru_cache(maxsize=8)
def _load_knowledge(path: pathlib.Path, stamp: int) -> tuple[dict[str, list[str]], set[str], dict[str, list[str]]]:
    raw = _load_yaml(path)
    try:
        spec = KnowledgeFile.model_validate(raw)
    except ValidationError as exc:
        raise _config_error(path, exc, raw) from None
    errors = role_errors(spec)
    if errors:
        raise ConfigError(str(path), errors[0][0], errors[0][1])
    return knowledge_sets(spec)
