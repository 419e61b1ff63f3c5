"""CPU time of the matcher on the seeds, warm, for one or more project trees side by side.

Rules:
- Each tree (a directory holding ``flows/`` and ``config/``, e.g. this worktree and an exported
  older commit) is matched in a child process of its own, so each imports its own code.
- The trees take turns, round after round, so the load of a shared machine falls on all alike.
- Figures are CPU seconds (``time.process_time``) per 1,000 articles and articles per CPU second:
  the median over the rounds. Prints figures only; it is not a timed test.
- Usage: python bench/bench_match_cpu.py [TREE ...] [--rounds R] [--passes P]
  (default TREE: this tree).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]

CHILD = r"""
import json, pathlib, sys, time
root = pathlib.Path(sys.argv[1]); passes = int(sys.argv[2])
sys.path.insert(0, str(root))
from flows.match import Matcher
m = Matcher.from_config_dir(root / "config")
texts = [f.read_text(encoding="utf-8") for f in sorted((root / "seeds").glob("*.txt"))]
for t in texts:
    m.match(t)
t0 = time.process_time()
for _ in range(passes):
    for t in texts:
        m.match(t)
print(json.dumps({"cpu": time.process_time() - t0, "n": passes * len(texts)}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("trees", nargs="*", type=pathlib.Path, default=[ROOT])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--passes", type=int, default=400)
    args = ap.parse_args()
    per: dict[pathlib.Path, list[float]] = {t: [] for t in args.trees}
    for _ in range(args.rounds):
        for tree in args.trees:
            out = subprocess.run([sys.executable, "-c", CHILD, str(tree), str(args.passes)],
                                 check=True, capture_output=True, text=True).stdout
            d = json.loads(out.strip().splitlines()[-1])
            per[tree].append(d["cpu"] / d["n"])
    base = None
    for tree, xs in per.items():
        med = statistics.median(xs)
        base = base or med
        print(f"{str(tree):<40} {med * 1000 * 1000:8.1f} CPU ms/1000 art  {1 / med:8.0f} art/CPU s"
              f"  ({med / base:.3f}x the first tree; {len(xs)} rounds)")


if __name__ == "__main__":
    main()
