"""trafilatura's own test pages through raqib's extraction, beside trafilatura's own text.

The check (tests/glue.py): every word boundary of trafilatura's plain-text output is one in
raqib's rendering of the same extraction — no word of ours is two or more of its words glued
("Su Mo Tu" → "SuMoTu"), which would hide topic terms from the matcher.

Pages, fetched at test time and cached in pytest's cache (``.pytest_cache/d/raqib-peers/``):
- always: the HTML test resources of trafilatura's source distribution for the installed version
  (``pip download --no-binary :all: --no-deps trafilatura==<version>``);
- when ``RAQIB_TRAFILATURA_REPO`` names trafilatura's git repository (a URL or a local clone; `.ci/run`
  sets its public URL): the ~1,000 evaluation pages of its ``tests/cache`` and ``tests/eval`` (a
  shallow clone; about five minutes on two cores). A failed clone is a warning and the sdist's
  pages are still checked.
Skipped with the reason when the sdist cannot be fetched (offline, no package index).
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
import tarfile
import warnings
from importlib.metadata import version
from pathlib import Path

import pytest
from lxml import etree

from flows.text.extract import EXTRACT_SETTINGS, decode_html, extract_article, render_xml
from tests.glue import glued_words, words as word_list

TRAFILATURA = version("trafilatura")
REPO_ENV = "RAQIB_TRAFILATURA_REPO"


def _sdist_pages(cache: Path) -> list[tuple[str, bytes]]:
    tarballs = sorted(cache.glob(f"trafilatura-{TRAFILATURA}.tar.gz"))
    if not tarballs:
        res = subprocess.run([sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps",
                              "--disable-pip-version-check", "-q", f"trafilatura=={TRAFILATURA}", "-d", str(cache)],
                             capture_output=True, text=True, timeout=600)
        tarballs = sorted(cache.glob(f"trafilatura-{TRAFILATURA}.tar.gz"))
        if res.returncode != 0 or not tarballs:
            tail = (res.stderr or res.stdout).strip().splitlines()[-1:] or ["no output"]
            pytest.skip(f"cannot fetch trafilatura {TRAFILATURA}'s sdist for its test pages (offline?): {tail[0]}")
    pages: list[tuple[str, bytes]] = []
    with tarfile.open(tarballs[0]) as tar:
        for m in tar.getmembers():
            if not m.isfile() or "/tests/" not in m.name:
                continue
            if m.name.endswith((".html", ".htm")):
                pages.append((m.name.split("/tests/", 1)[1], tar.extractfile(m).read()))  # type: ignore[union-attr]
            elif m.name.endswith((".html.gz", ".htm.gz")):
                data = gzip.decompress(tar.extractfile(m).read())  # type: ignore[union-attr]
                pages.append((m.name.split("/tests/", 1)[1], data))
    return pages


def _repo_pages(cache: Path, source: str) -> list[tuple[str, bytes]]:
    clone = cache / "trafilatura-repo"
    if not (clone / ".git").exists():
        try:
            res = subprocess.run(["git", "clone", "-q", "--depth", "1", source, str(clone)],
                                 capture_output=True, text=True, timeout=1800)
            problem = res.stderr.strip()[-300:] if res.returncode != 0 else ""
        except (OSError, subprocess.TimeoutExpired) as exc:
            problem = f"{exc.__class__.__name__}: {exc}"
        if problem:  # offline: the sdist's pages are still checked
            shutil.rmtree(clone, ignore_errors=True)
            warnings.warn(f"{REPO_ENV}: cannot clone trafilatura's repository, its evaluation pages are "
                          f"not checked this run: {problem}", stacklevel=1)
            return []
    pages = []
    for sub in ("cache", "eval"):
        for p in sorted((clone / "tests" / sub).glob("*")):
            if p.is_file():
                pages.append((f"{sub}/{p.name}", p.read_bytes()))
    return pages


@pytest.fixture(scope="module")
def peer_pages(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, bytes]]:
    store = getattr(request.config, "cache", None)  # None under -p no:cacheprovider: fetch afresh
    cache = Path(store.mkdir("raqib-peers")) if store is not None else tmp_path_factory.mktemp("raqib-peers")
    pages = _sdist_pages(cache)
    source = os.environ.get(REPO_ENV, "").strip()
    if source:
        pages += _repo_pages(cache, source)
    assert pages, "the sdist holds no test page: the fetch or the layout changed"
    return pages


def _theirs(html: str) -> str:
    import trafilatura

    return trafilatura.extract(html, **{**EXTRACT_SETTINGS, "output_format": "txt"}) or ""


def test_no_word_boundary_of_trafilatura_is_lost(peer_pages: list[tuple[str, bytes]]) -> None:
    glued: dict[str, list[tuple[str, list[str]]]] = {}
    compared = 0
    for name, body in peer_pages:
        html = decode_html(body, None)
        theirs = _theirs(html)
        article = extract_article(html)
        ours = article.text if article else ""
        if theirs and ours:
            compared += 1
        found = glued_words(theirs, ours)
        if found:
            glued[name] = found
    # the check is not vacuous: most pages give text on both sides
    assert compared >= len(peer_pages) // 2, f"only {compared} of {len(peer_pages)} pages compared"
    report = "; ".join(f"{name}: {len(g)} glued, e.g. {g[0][0]!r} = {' '.join(g[0][1])!r}"
                       for name, g in sorted(glued.items())[:20])
    assert not glued, f"{sum(map(len, glued.values()))} glued words on {len(glued)} pages: {report}"


# ---------------------------------------------------------------- the check and the renderer, by hand


def test_the_check_finds_glued_words() -> None:
    assert glued_words("Su Mo Tu We\nOne two.", "SuMoTuWe One two.") == [("SuMoTuWe", ["Su", "Mo", "Tu", "We"])]
    assert glued_words("قوات كورية", "قواتكورية") == [("قواتكورية", ["قوات", "كورية"])]
    assert glued_words("Wal\xadcott and co", "Walcott and co") == []  # a soft hyphen is no boundary
    assert glued_words("a b", "a b") == []


@pytest.mark.parametrize("xml, words", [
    # a calendar: a table inside a cell
    ("<body><table><row><cell><table><row><cell>Su</cell><cell>Mo</cell></row><row><cell>1</cell>"
     "<cell>2</cell></row></table></cell><cell>آخر</cell></row></table></body>", "Su Mo 1 2 آخر"),
    # a heading inside a list item
    ("<body><list><item><head>Eigentum</head>Der Wagen gehört Ihnen.</item></list></body>",
     "Eigentum Der Wagen gehört Ihnen"),
    # a list inside a paragraph, a table inside a paragraph
    ("<body><p>قبل<list><item>أول</item><item>ثان</item></list>بعد</p></body>", "قبل أول ثان بعد"),
    ("<body><p>نص<table><row><cell>خلية</cell><cell>أخرى</cell></row></table>تال</p></body>", "نص خلية أخرى تال"),
    # cells and rows outside a table; a paragraph inside a cell; text after a nested list
    ("<body><p><row><cell>a</cell><cell>b</cell></row></p></body>", "a b"),
    ("<body><table><row><cell><p>x</p><p>y</p></cell></row></table></body>", "x y"),
    ("<body><list><item>one<list><item>two</item></list>three</item></list></body>", "one two three"),
    # a heading as a direct child of a list is kept, not dropped
    ("<body><list><head>عنوان</head><item>بند</item></list></body>", "عنوان بند"),
])
def test_nested_elements_keep_their_word_boundaries(xml: str, words: str) -> None:
    out = render_xml(etree.fromstring(xml))
    assert glued_words(words, out) == []
    assert sorted(word_list(out)) == sorted(words.split())  # every word once (a nested list goes underneath)


def test_a_nested_table_is_rendered_once() -> None:
    xml = ("<body><table><row><cell><table><row><cell>inner</cell></row></table></cell>"
           "<cell>outer</cell></row></table></body>")
    assert render_xml(etree.fromstring(xml)).split().count("inner") == 1
