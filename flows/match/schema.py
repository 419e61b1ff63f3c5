"""Pydantic models of the topic language (config/topics.yaml) and the variant data (variants.yaml).

Rules:
- Every model forbids unknown keys (``extra="forbid"``): a typo is an error, never ignored.
- A window is ``sentence``, ``paragraph``, ``article`` or a positive number of words.
- Ids are lower-case ``[a-z][a-z0-9_]*``; topic ids and rule ids within a topic are unique.
- Weights and thresholds are positive; a topic whose rules cannot reach its threshold is an error.
- :func:`loc_to_key` turns a pydantic error location into a readable key such as
  ``topics[two_plus_two].rules[explicit].groups[0].terms[3]``.
The semantics (how terms, groups, windows, exclusions match) live in :mod:`flows.match`.
"""

from __future__ import annotations

import re
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, field_validator, model_validator

ID_PATTERN = r"^[a-z][a-z0-9_]*$"

Window = Union[Literal["sentence", "paragraph", "article"], PositiveInt]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GroupSpec(_Strict):
    """One group of alternative terms; a rule needs a hit of every group inside its window.

    ``unless``: look-alike phrases; a hit of this group that overlaps a match of one of them is
    discarded (e.g. "قوات" inside "القوات الروسية").
    ``window`` (not on the first group): a tighter window between this group's hit and the
    first group's hit, on top of the rule's window.
    """

    terms: list[str] = Field(min_length=1)
    unless: list[str] = Field(default_factory=list)
    window: Window | None = None
    label: str | None = None


class ExcludeSpec(_Strict):
    """Look-alike vetoes: a rule's hit is dropped when one of ``terms`` occurs in the same window.

    ``window`` defaults to the rule's window; a number means "within N words of any of the
    rule's phrases" (same paragraph), or of the anchor's phrase only with ``around: anchor``;
    ``sentence`` / ``paragraph`` mean the unit of any of the rule's phrases, or of the anchor's
    phrase only with ``around: anchor``. ``around: before_anchor`` counts only phrases that start
    before the anchor's hit (in its N words, or its sentence / paragraph): a negation ("without
    mentioning …") vetoes the phrase it governs, not one it follows.
    """

    terms: list[str] = Field(min_length=1)
    window: Window | None = None
    around: Literal["phrases", "anchor", "before_anchor"] = "phrases"
    label: str | None = None


def _unique_ids(specs: list[Any], what: str) -> list[Any]:
    """Refuse two specs with the same ``id`` (the second one is named)."""
    seen: set[str] = set()
    for spec in specs:
        if spec.id in seen:
            raise ValueError(f"duplicate {what} id {spec.id!r}")
        seen.add(spec.id)
    return specs


class RuleSpec(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    weight: float = Field(default=1.0, gt=0)
    window: Window = "sentence"
    groups: list[GroupSpec] = Field(min_length=1)
    exclude: list[ExcludeSpec] = Field(default_factory=list)
    note: str | None = None

    @field_validator("groups")
    @classmethod
    def _first_group_has_no_window(cls, groups: list[GroupSpec]) -> list[GroupSpec]:
        if groups and groups[0].window is not None:
            raise ValueError("the first group is the anchor: it cannot have its own window")
        return groups


class TopicSpec(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1)
    # Display names per language code (`ar`, `en`): messages use their channel's language, else `name`.
    names: dict[str, str] = Field(default_factory=dict)
    description: str | None = None
    threshold: float = Field(default=1.0, gt=0)
    rules: list[RuleSpec] = Field(min_length=1)
    baseline: list[str] = Field(default_factory=list)

    @field_validator("names")
    @classmethod
    def _language_names(cls, names: dict[str, str]) -> dict[str, str]:
        for lang, text in names.items():
            if not re.fullmatch(r"[a-z]{2}", lang):
                raise ValueError(f"{lang!r} is not a two-letter language code (ar, en)")
            if not text.strip():
                raise ValueError(f"the {lang} name is empty")
        return names

    @field_validator("rules")
    @classmethod
    def _unique_rule_ids(cls, rules: list[RuleSpec]) -> list[RuleSpec]:
        return _unique_ids(rules, "rule")

    @model_validator(mode="after")
    def _reachable(self) -> "TopicSpec":
        total = sum(r.weight for r in self.rules)
        if total < self.threshold:
            raise ValueError(
                f"threshold {self.threshold} can never be reached (rule weights sum to {total})"
            )
        return self


class TopicsFile(_Strict):
    version: Literal[1] = 1
    variants: str | None = "variants.yaml"
    knowledge: str | None = "knowledge.yaml"
    topics: list[TopicSpec] = Field(min_length=1)

    @field_validator("topics")
    @classmethod
    def _unique_topic_ids(cls, topics: list[TopicSpec]) -> list[TopicSpec]:
        return _unique_ids(topics, "topic")


class VariantSet(_Strict):
    """Forms that mean the same thing. ``auto``: a form written literally in a term is expanded
    to the whole set (use it for spelling variants, not for broader sets like "Russia")."""

    description: str | None = None
    auto: bool = False
    typos: bool = False  # also match each form with one look-alike letter typo (flows.match.words)
    forms: list[str] = Field(min_length=1)


class VariantsFile(_Strict):
    version: Literal[1] = 1
    sets: dict[str, VariantSet] = Field(default_factory=dict)

    @field_validator("sets")
    @classmethod
    def _set_names(cls, sets: dict[str, VariantSet]) -> dict[str, VariantSet]:
        import re

        for name in sets:
            if not re.match(ID_PATTERN, name):
                raise ValueError(f"variant set name {name!r} must match {ID_PATTERN}")
        return sets


def loc_to_key(loc: tuple[Any, ...], raw: Any) -> str:
    """Readable key for a pydantic error location, naming topics and rules by their ids."""
    parts: list[str] = []
    node = raw
    i = 0
    while i < len(loc):
        item = loc[i]
        if isinstance(item, int):
            label: str = str(item)
            if isinstance(node, list) and 0 <= item < len(node):
                child = node[item]
                if isinstance(child, dict) and isinstance(child.get("id"), str) and parts and parts[-1] in ("topics", "rules"):
                    label = child["id"]
                node = child
            else:
                node = None
            if parts:
                parts[-1] = f"{parts[-1]}[{label}]"
            else:
                parts.append(f"[{label}]")
        else:
            item_s = str(item)
            # pydantic puts union member names ("literal['sentence',...]", "int") into locations
            if item_s.startswith(("literal[", "int", "constrained-int", "function-")) and i > 0:
                i += 1
                continue
            parts.append(item_s)
            node = node.get(item_s) if isinstance(node, dict) else None
        i += 1
    return ".".join(parts)
