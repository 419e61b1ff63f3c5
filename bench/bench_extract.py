"""Time per step per page of processing one article, beside bare ``trafilatura.extract``.

Usage (from the repository root):  .venv/bin/python bench/bench_extract.py [N_PAGES]

The pages are the benchmark corpus (`bench/corpus.py`, ~60-85 KB realistic pages). One process,
warmed; each step is timed on its own over the same pages, CPU milliseconds per page (median of
the pages), so the steps of `flows.text.extract_job.process_page` can be compared with what
bare trafilatura costs. Steps marked (off) are not run by the cycle any more: they are timed to
show what they would cost.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _per_page(fn: Callable[[Any], Any], inputs: list[Any]) -> float:
    times = []
    for x in inputs:
        t0 = time.process_time()
        fn(x)
        times.append(time.process_time() - t0)
    return statistics.median(times) * 1000


def main() -> None:
    import trafilatura
    from htmldate import find_date
    from trafilatura import bare_extraction
    from trafilatura.metadata import examine_meta, extract_author, extract_meta_json, extract_sitename, extract_title
    from trafilatura.utils import load_html

    from bench import corpus
    from flows.alerts.stories import fingerprint
    from flows.match import Matcher
    from flows.text import extract as ex
    from flows.text.extract_job import PageJob, content_hash, process_page

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    _routes, _arts, pages = corpus.build(n, 1, "http://127.0.0.1:9")
    html = [b.decode("utf-8") for b in pages.values()]
    matcher = Matcher.from_config_dir(ROOT / "config")
    for h in html[:3]:  # warm lazy imports and caches
        trafilatura.extract(h)
        process_page(PageJob(h.encode(), "text/html; charset=utf-8", None, "t"), matcher)
    protected = [ex._protect_nbsp(h) for h in html]
    trees = [ex._load_html(h) for h in protected]
    docs = [bare_extraction(ex._load_html(h), **ex.EXTRACT_SETTINGS) for h in protected]
    texts = [ex.render_xml(d.body) for d in docs]
    today = datetime.now().strftime("%Y-%m-%d")
    rows = [
        ("bare trafilatura.extract (the baseline)", _per_page(trafilatura.extract, html)),
        ("decode_html (bytes to str)", _per_page(lambda b: ex.decode_html(b, "text/html; charset=utf-8"),
                                                 list(pages.values()))),
        ("no-break-space guard", _per_page(ex._protect_nbsp, html)),
        ("trafilatura's load_html (lxml.html's Python class lookup; off)", _per_page(load_html, protected)),
        ("_load_html (the one parse: lxml's C class lookup)", _per_page(ex._load_html, protected)),
        ("bare_extraction on a load_html tree (off)",
         _per_page(lambda h: bare_extraction(load_html(h), **ex.EXTRACT_SETTINGS), protected)
         - _per_page(load_html, protected)),
        ("bare_extraction on an _load_html tree (XML, no metadata)",
         _per_page(lambda h: bare_extraction(ex._load_html(h), **ex.EXTRACT_SETTINGS), protected)
         - _per_page(ex._load_html, protected)),
        ("render_xml", _per_page(lambda d: ex.render_xml(d.body), docs)),
        ("metadata: examine_meta + JSON-LD (title, sitename)",
         _per_page(lambda t: extract_meta_json(t, examine_meta(t)), trees)),
        ("metadata: extract_title (off unless the entry has no title)", _per_page(extract_title, trees)),
        ("metadata: extract_sitename (only when meta tags lack it)", _per_page(extract_sitename, trees)),
        ("metadata: htmldate find_date (off unless the entry has no date)",
         _per_page(lambda t: find_date(t, original_date=True, extensive_search=False, max_date=today), trees)),
        ("metadata: extract_author (off)", _per_page(extract_author, trees)),
        ("content hash (normalize + sha256)", _per_page(content_hash, texts)),
        ("story fingerprint", _per_page(fingerprint, texts)),
        ("match (3 topics)", _per_page(matcher.match, texts)),
        ("process_page: the whole step of the cycle's workers",
         _per_page(lambda h: process_page(PageJob(h.encode(), "text/html; charset=utf-8", None, "t"), matcher), html)),
    ]
    kb = corpus.sizes(pages)
    print(f"{len(html)} pages, {kb[0] / 1024:.0f}-{kb[2] / 1024:.0f} KB (median {kb[1] / 1024:.0f} KB); CPU ms per page (median):")
    base = rows[0][1]
    for label, ms in rows:
        print(f"  {label:66s} {ms:7.2f} ms  {ms / base:5.2f} × bare")


if __name__ == "__main__":
    main()
