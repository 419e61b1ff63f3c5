"""Benchmark of the topic matcher: articles per second on one core, with 3, 30 and 300 topics.

Rules:
- Corpus: the seeds and the own test set (tests/data/topics), matched in a loop.
- 30 and 300 topics are synthetic copies of the three configured topics:
  ``same`` copies keep every term (so every copy fires: evaluation cost grows with topics),
  ``distinct`` copies add a made-up word to every term (a bigger index, only 3 topics can fire).
- ``warm``: the per-token analysis caches are kept between articles (steady state of a running
  pipeline); ``cold``: every cache is cleared before every article (worst case).
- The last line is the issue's target figure: the five seeds (real-length articles, each one
  matching a topic) with the three configured topics.
- Rates are articles per CPU second of this process (``time.process_time``; one thread, so one
  core): on a machine shared with other jobs, wall-clock rates measure the scheduler as much as the
  matcher.
- Prints figures only; it is not a timed test.  Usage: python bench/bench_match.py [--seconds S]
"""

from __future__ import annotations

import argparse
import copy
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from flows.match import Matcher  # noqa: E402
from flows.match.schema import TopicsFile, VariantsFile  # noqa: E402


def corpus() -> list[str]:
    files = sorted((ROOT / "seeds").glob("*.txt")) + sorted((ROOT / "tests" / "data" / "topics").glob("*.txt"))
    return [f.read_text(encoding="utf-8") for f in files]


def synthetic(raw: dict, n_topics: int, mode: str) -> dict:
    base = raw["topics"]
    out = copy.deepcopy(raw)
    out["topics"] = []
    i = 0
    while len(out["topics"]) < n_topics:
        t = copy.deepcopy(base[i % len(base)])
        k = i // len(base)
        if k:
            t["id"] = f"{t['id']}_copy{k}"
            if mode == "distinct":
                tag = f"زائفه{k}"
                for r in t["rules"]:
                    for g in r["groups"]:
                        g["terms"] = [f"{x} {tag}" for x in g["terms"]]
        out["topics"].append(t)
        i += 1
    return out


def clear_caches(m: Matcher) -> None:
    if hasattr(m, "clear_caches"):
        m.clear_caches()
    else:  # older matchers: the two token caches
        m._cache.clear()
        m._word_cache.clear()


def measure(m: Matcher, texts: list[str], seconds: float, cold: bool) -> tuple[float, int]:
    n = 0
    start = time.process_time()
    deadline = start + seconds
    while True:
        for t in texts:
            if cold:
                clear_caches(m)
            m.match(t)
            n += 1
        if time.process_time() >= deadline:
            break
    return n / (time.process_time() - start), n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--config", type=pathlib.Path, default=ROOT / "config")
    args = ap.parse_args()
    raw = yaml.safe_load((args.config / "topics.yaml").read_text(encoding="utf-8"))
    vraw = yaml.safe_load((args.config / "variants.yaml").read_text(encoding="utf-8"))
    variants = VariantsFile.model_validate(vraw)
    texts = corpus()
    chars = sum(len(t) for t in texts) / len(texts)
    print(f"corpus: {len(texts)} articles, {chars:.0f} chars on average; {args.seconds:g} CPU s per figure"
          " (rates: articles per CPU second)")
    print(f"{'topics':>7} {'copies':>9} {'load s':>7} {'warm art/s':>11} {'cold art/s':>11}")
    for n in (3, 30, 300):
        for mode in (("same",) if n == 3 else ("same", "distinct")):
            spec = TopicsFile.model_validate(synthetic(raw, n, mode))
            t0 = time.perf_counter()
            m = Matcher.from_spec(spec, variants)
            load = time.perf_counter() - t0
            for t in texts:  # warm the token cache once
                m.match(t)
            warm, _ = measure(m, texts, args.seconds, cold=False)
            cold, _ = measure(m, texts, args.seconds, cold=True)
            print(f"{n:>7} {mode if n > 3 else '-':>9} {load:>7.2f} {warm:>11.0f} {cold:>11.0f}")
    seeds = [f.read_text(encoding="utf-8") for f in sorted((ROOT / "seeds").glob("*.txt"))]
    m = Matcher.from_spec(TopicsFile.model_validate(raw), variants)
    for t in seeds:
        m.match(t)
    warm, _ = measure(m, seeds, args.seconds, cold=False)
    cold, _ = measure(m, seeds, args.seconds, cold=True)
    avg = sum(len(t) for t in seeds) / len(seeds)
    print(f"seeds (real length): {warm:.0f} art/s warm, {cold:.0f} art/s cold"
          f"  ({len(seeds)} articles, {avg:.0f} chars on average, every one matching a topic; 3 topics)")


if __name__ == "__main__":
    main()
