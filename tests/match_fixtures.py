"""Shared by the tests of rule classes: the shipped config's matcher (compiled once per process)
and which topics a text fires."""

from __future__ import annotations

import functools
from pathlib import Path

from flows.match import Matcher

CONFIG = Path(__file__).resolve().parent.parent / "config"


@functools.lru_cache(maxsize=1)
def shipped_matcher() -> Matcher:
    return Matcher.from_config_dir(CONFIG)


def topics(m: Matcher, text: str) -> set[str]:
    """The topic ids ``m`` fires on ``text``."""
    return {t.topic for t in m.match(text)}
