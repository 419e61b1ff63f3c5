"""Topic display names per language, for messages: `names: {ar: …, en: …}` in topics.yaml.

Rules: a channel's language picks the name; a topic without a name in that language keeps the
name its alert was stored with (`name`); the file is read once per change (mtime), only its
`id`, `name` and `names` keys (the matcher validates the whole file at start).
"""

from __future__ import annotations

from pathlib import Path
from threading import Lock

import yaml

from flows.yamlsafe import SAFE_LOADER

_cache: dict[Path, tuple[float, dict[str, dict[str, str]]]] = {}
_lock = Lock()


def topic_names(config_dir: Path) -> dict[str, dict[str, str]]:
    """{topic id: {language: name}} from ``config_dir``/topics.yaml ({} when unreadable)."""
    path = Path(config_dir) / "topics.yaml"
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return {}
    with _lock:
        hit = _cache.get(path)
        if hit and hit[0] == mtime:
            return hit[1]
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}
    except (OSError, yaml.YAMLError):
        return {}
    out: dict[str, dict[str, str]] = {}
    for t in data.get("topics") or [] if isinstance(data, dict) else []:
        if isinstance(t, dict) and isinstance(t.get("id"), str) and isinstance(t.get("names"), dict):
            out[t["id"]] = {str(k): str(v) for k, v in t["names"].items()}
    with _lock:
        _cache[path] = (mtime, out)
    return out


def display_name(config_dir: Path, topic: str, language: str, stored: str) -> str:
    return topic_names(config_dir).get(topic, {}).get(language) or stored
