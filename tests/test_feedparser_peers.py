"""feedparser's own test feeds through raqib's poll stage, beside feedparser alone.

The feeds are feedparser's (its sdist's ``tests/`` folder, for the installed version), fetched
at test time with pip into pytest's cache and never copied into this project; offline, the test
skips and says why. Each ``.xml`` file is given with the HTTP headers its ``Header:`` comment
lines name (as feedparser's own test server sends them) to `flows.sources.poll.parse_feed` and
to `feedparser.parse`. No entry feedparser reads may be lost, except an entry whose key repeats an
earlier one in the same feed: raqib keeps the first (an item is remembered by its key, and a feed
that repeats a guid means one article). The files where that happens are listed in
`REPEATED_KEYS`, with the reason. A file feedparser reads as a feed is never refused, and the
feed titles agree (except where raqib reads an undeclared non-UTF-8 body as windows-1256).
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import tarfile
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest

from flows.sources.poll import _undeclared_arabic, parse_feed

FEEDPARSER = version("feedparser")
HEADER = re.compile(rb"^Header:\s+([^:]+):(.+)$", re.MULTILINE)
BASE = "http://127.0.0.1:8097/"  # the host feedparser's own suite serves these files from

# file -> why its entries repeat a key (raqib keeps the first entry of each key).
_SAME_TEXT = ("two entries with no guid and no link and the same title and summary: keyed by a hash of "
              "those, which is all raqib reads of a linkless entry, so there is nothing to tell apart")
REPEATED_KEYS: dict[str, str] = {
    "wellformed/node_precedence/atom10_id.xml": "both entries carry the same <id> (the file tests which "
                                                "<id> wins): one guid, one article",
    "wellformed/node_precedence/atom10_title.xml": _SAME_TEXT,
    "wellformed/node_precedence/atom10_arbitrary_element.xml": _SAME_TEXT,
    "wellformed/lang/entry_content_xml_lang_blank_3.xml": _SAME_TEXT,
}


def _sdist(cache_dir: Path) -> Path:
    name = f"feedparser-{FEEDPARSER}.tar.gz"
    target = cache_dir / name
    if target.exists():
        return target
    cmd = [sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps", "--quiet",
           "-d", str(cache_dir), f"feedparser=={FEEDPARSER}"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"cannot fetch feedparser {FEEDPARSER}'s sdist for its test feeds ({exc.__class__.__name__})")
    if done.returncode != 0 or not target.exists():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1][:200]
        pytest.skip(f"cannot fetch feedparser {FEEDPARSER}'s sdist for its test feeds (offline?): {last}")
    return target


@pytest.fixture(scope="module")
def peer_feeds(request: pytest.FixtureRequest) -> dict[str, bytes]:
    """Path inside the sdist's tests/ -> bytes, for every .xml test feed."""
    sdist = _sdist(Path(request.config.cache.mkdir("feedparser-peers")))
    out: dict[str, bytes] = {}
    with tarfile.open(sdist) as tar:
        for member in tar.getmembers():
            parts = member.name.split("/", 2)
            if member.isfile() and len(parts) == 3 and parts[1] == "tests" and member.name.endswith(".xml"):
                fh = tar.extractfile(member)
                if fh is not None:
                    out[parts[2]] = fh.read()
    assert len(out) > 1000, f"only {len(out)} test feeds in {sdist.name}"
    return out


def _headers(body: bytes) -> dict[str, str]:
    return {k.decode("utf-8").strip().lower(): v.decode("utf-8").strip() for k, v in HEADER.findall(body)}


def _text(title: str | None) -> str:
    # Markup in a title may hold relative URIs that feedparser resolves against a Content-Location
    # raqib does not hand it (it would rewrite relative guids, the items' keys); the text is the same.
    return re.sub(r"<[^>]*>", "", title or "").strip()


def _redecoded(body: bytes, headers: dict[str, str]) -> bool:
    """True when raqib reads this body as windows-1256 (undeclared and not UTF-8), as it must for
    Arabic sites: its titles then differ from feedparser's windows-1252 guess on purpose."""
    return _undeclared_arabic(body, headers) is not body


def _key(entry: feedparser.FeedParserDict) -> str:
    # The documented rule (flows/sources/poll.py): guid, else link, else title + summary.
    for field in ("id", "link"):
        value = (entry.get(field) or "").strip()
        if value:
            return value[:1000]
    basis = (entry.get("title") or "") + "\n" + (entry.get("summary") or "")
    return "sha256:" + hashlib.sha256(basis.encode("utf-8", "replace")).hexdigest()


def test_every_feedparser_test_feed_keeps_its_entries(peer_feeds: dict[str, bytes]) -> None:
    lost: dict[str, str] = {}
    repeated: dict[str, int] = {}
    crashed: dict[str, str] = {}
    bad_links: dict[str, str] = {}
    titles: dict[str, str] = {}
    read = 0
    for path, body in sorted(peer_feeds.items()):
        headers = _headers(body)
        alone = feedparser.parse(body, response_headers=headers)
        keys = [_key(e) for e in alone.entries]
        distinct = list(dict.fromkeys(keys))
        if len(distinct) < len(keys):
            repeated[path] = len(keys) - len(distinct)
        try:
            entries, _title, _warning = parse_feed(body, headers, url=BASE + "tests/" + path)
        except ValueError as exc:
            if alone.entries or alone.get("version"):  # feedparser read a feed here
                lost[path] = f"{len(alone.entries)} entries, version {alone.get('version')!r}, raqib says: {exc}"
            continue
        except Exception as exc:  # a crash of the poll stage on a peer's feed is a finding
            crashed[path] = f"{exc.__class__.__name__}: {exc}"[:300]
            continue
        read += len(entries)
        if _text(_title) != _text(alone.feed.get("title")) and not _redecoded(body, headers):
            titles[path] = f"{_title!r} != {alone.feed.get('title')!r}"
        if len(entries) != len(distinct):
            lost[path] = f"feedparser {len(distinct)} distinct entries, raqib {len(entries)}"
        for entry in entries:
            if entry.link and urlsplit(entry.link).scheme.lower() not in ("http", "https") \
                    and entry.link not in {(e.get("link") or "").strip() for e in alone.entries}:
                bad_links[path] = entry.link  # a link raqib made that is not http(s)
    assert not crashed, crashed
    assert not lost, lost
    assert not bad_links, bad_links
    assert not titles, titles
    assert set(repeated) == set(REPEATED_KEYS), {p: n for p, n in repeated.items() if p not in REPEATED_KEYS}
    assert read > 1000, read
