"""Writing `config/feeds.yaml` for `raqib feeds add` and `raqib feeds import`.

Rules:
- the file is edited round-trip (ruamel.yaml): the operator's comments, order and spacing stay;
  new feeds are appended to `feeds:` as block entries (`url`, then `name` when known);
- a feed already listed (same URL, or the same key as `flows.config.FeedConfig` derives it) is
  skipped, never listed twice;
- the edited text is validated by the config schema before it replaces the file, and the file is
  replaced atomically (a temporary file renamed over it), so a failed edit leaves it as it was.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from flows.config import FeedConfig, FeedsFile, validate_file
from flows.errors import ConfigError


@dataclass(frozen=True)
class NewFeed:
    url: str
    name: str | None = None


def _yaml() -> YAML:
    y = YAML()  # round-trip mode
    y.preserve_quotes = True
    y.width = 4096  # never fold a long URL or name
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def add_feeds(path: Path, new: list[NewFeed]) -> tuple[list[NewFeed], list[NewFeed]]:
    """Append ``new`` feeds to the feeds file at ``path``; returns (added, already listed)."""
    y = _yaml()
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    doc = y.load(text) if text.strip() else None
    if doc is None:
        doc = CommentedMap()
    if not isinstance(doc, CommentedMap):
        raise ConfigError(str(path), None, "must be a mapping at the top level")
    seq = doc.get("feeds")
    if seq is None:
        seq = CommentedSeq()
        doc["feeds"] = seq
    if not isinstance(seq, CommentedSeq):
        raise ConfigError(str(path), "feeds", "must be a list")
    seq.fa.set_block_style()  # `feeds: []` becomes a block list once it has entries
    urls: set[str] = set()
    keys: set[str] = set()
    for f in seq:
        if isinstance(f, dict) and isinstance(f.get("url"), str):
            urls.add(str(f["url"]))
            keys.add(str(f["id"]) if f.get("id") else FeedConfig(url=str(f["url"])).key)
    added: list[NewFeed] = []
    skipped: list[NewFeed] = []
    for feed in new:
        key = FeedConfig(url=feed.url).key
        if feed.url in urls or key in keys:
            skipped.append(feed)
            continue
        entry = CommentedMap()
        entry["url"] = feed.url
        if feed.name:
            entry["name"] = feed.name
        seq.append(entry)
        urls.add(feed.url)
        keys.add(key)
        added.append(feed)
    if not added:
        return added, skipped
    out = io.StringIO()
    y.dump(doc, out)
    _replace_validated(path, out.getvalue())
    return added, skipped


def _replace_validated(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".feeds-", suffix=".yaml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        try:
            validate_file(Path(tmp), FeedsFile)
        except ConfigError as err:  # name the real file, not the temporary one
            raise ConfigError(str(path), err.key, err.message) from None
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
