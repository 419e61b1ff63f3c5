"""Side-by-side benchmark of two versions of the matcher on the seeds (warm caches, one core).

Rules:
- Each version is a source tree (e.g. ``git archive COMMIT | tar -x -C DIR``); a worker process
  imports ``flows`` from that tree, compiles its ``config`` with ``Matcher.from_config_dir``,
  matches the seeds once to warm the caches, then measures.
- CPU time (default): the versions run alternately, ``--runs`` times each, every run matching the
  seeds in a loop for ``--seconds`` of ``time.process_time()``; it prints each run's articles per
  CPU second and the ratio of the medians (new / old).  CPU time is not wall-clock: other jobs on
  the machine slow it much less, but alternating runs still differ by a few per cent.
- ``--callgrind N``: instructions instead (valgrind's callgrind, deterministic): each version runs
  0 and N rounds of the seeds, and the difference of the "Collected" counts, divided by the
  ``5 * N`` matches, is the instructions per article.
- Prints figures only; it is not a timed test.
  Usage: python bench/bench_match_ab.py OLD_TREE NEW_TREE [--runs R] [--seconds S] [--callgrind N]
"""

from __future__ import annotations

import argparse
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile
import time


def _worker(root: pathlib.Path, seconds: float, rounds: int) -> None:
    sys.path.insert(0, str(root))
    from flows.match import Matcher

    m = Matcher.from_config_dir(root / "config")
    seeds = [f.read_text(encoding="utf-8") for f in sorted((root / "seeds").glob("*.txt"))]
    for t in seeds:
        m.match(t)
    if rounds >= 0:
        for _ in range(rounds):
            for t in seeds:
                m.match(t)
        return
    n = 0
    start = time.process_time()
    while time.process_time() - start < seconds:
        for t in seeds:
            m.match(t)
        n += len(seeds)
    print(n / (time.process_time() - start))


def _run(root: pathlib.Path, seconds: float) -> float:
    out = subprocess.run([sys.executable, __file__, "--worker", str(root), "--seconds", str(seconds)],
                         check=True, capture_output=True, text=True).stdout
    return float(out.split()[-1])


def _instructions(root: pathlib.Path, rounds: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        res = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/cg.out",
                              sys.executable, __file__, "--worker", str(root), "--rounds", str(rounds)],
                             check=True, capture_output=True, text=True)
    m = re.search(r"Collected : (\d+)", res.stderr)
    if m is None:
        raise SystemExit("callgrind printed no instruction count:\n" + res.stderr[-2000:])
    return int(m.group(1))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("old", type=pathlib.Path, nargs="?")
    ap.add_argument("new", type=pathlib.Path, nargs="?")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=1.5)
    ap.add_argument("--callgrind", type=int, default=0, metavar="N")
    ap.add_argument("--worker", type=pathlib.Path, help=argparse.SUPPRESS)
    ap.add_argument("--rounds", type=int, default=-1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        _worker(args.worker.resolve(), args.seconds, args.rounds)
        return
    if args.old is None or args.new is None:
        ap.error("give the OLD and NEW source trees")
    trees = {"old": args.old.resolve(), "new": args.new.resolve()}
    if args.callgrind:
        per: dict[str, float] = {}
        for name, root in trees.items():
            base, full = _instructions(root, 0), _instructions(root, args.callgrind)
            per[name] = (full - base) / (5 * args.callgrind)
            print(f"{name}: {per[name]:,.0f} instructions per article "
                  f"(0 rounds {base:,}, {args.callgrind} rounds {full:,})")
        print(f"instructions new / old: {per['new'] / per['old']:.3f}")
        return
    rates: dict[str, list[float]] = {"old": [], "new": []}
    for i in range(args.runs):
        for name in (("old", "new") if i % 2 == 0 else ("new", "old")):
            rates[name].append(_run(trees[name], args.seconds))
    for name, rs in rates.items():
        print(f"{name}: " + " ".join(f"{r:.0f}" for r in rs) + f" art/CPU s (median {statistics.median(rs):.0f})")
    print(f"CPU time new / old: {statistics.median(rates['old']) / statistics.median(rates['new']):.3f}"
          f" (art/s new / old {statistics.median(rates['new']) / statistics.median(rates['old']):.3f})")


if __name__ == "__main__":
    main()
