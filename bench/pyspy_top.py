"""Summarize a py-spy raw (folded) profile: where one process spent its samples.

Usage: .venv/bin/python bench/pyspy_top.py bench/results/cycle.main.pyspy.txt [N]

Rules: a record is ``frame;frame ... count``, one a line; with ``--subprocesses`` it starts
with ``process PID:"cmd";`` (a command line may hold newlines), and a child process's records
nest their own ``process`` element under their parent's: they are left out here (the main
process alone is summarized). Prints the stages of the cycle (by the functions in each sample's
stack), then the top N functions by inclusive and by self samples.
"""

from __future__ import annotations

import collections
import re
import sys

# (stage, names that mark it): the first stage one of whose names is in a sample's stack.
STAGES = (("poll", ("poll_all",)), ("page downloads", ("polite_download", "_download")),
          ("deliveries", ("deliver", "Deliver")),
          ("extraction pool I/O", ("_ExecutorManagerThread", "Queue._feed", "ProcessPoolExecutor")),
          ("decisions and writes", ("process_pending",)))
_PROCESS = re.compile(r'\n(?=process \d+:")')
_NESTED = re.compile(r';(?=process \d+:")')
_WHERE = re.compile(r" \((?:.*/)?([^/:]+):\d+\)$")


def summarize(text: str) -> tuple[int, collections.Counter, collections.Counter, collections.Counter]:
    stages: collections.Counter = collections.Counter()
    incl: collections.Counter = collections.Counter()
    self_: collections.Counter = collections.Counter()
    total = 0
    nested = text.startswith("process ")  # recorded with --subprocesses
    for rec in _PROCESS.split(text.strip()) if nested else text.splitlines():
        stack, _, n = rec.rpartition(" ")
        if not n.isdigit() or len(_NESTED.split(stack)) > 1:
            continue
        frames = [_WHERE.sub(r" \1", f) for f in (stack.partition('";')[2] if nested else stack).split(";")]
        count = int(n)
        total += count
        names = " ".join(f.split(" ")[0] for f in frames)
        stages[next((s for s, marks in STAGES if any(m in names for m in marks)), "other")] += count
        for f in set(frames):
            incl[f] += count
        if frames:
            self_[frames[-1]] += count
    return total, stages, incl, self_


def main() -> None:
    path = sys.argv[1]
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    with open(path, encoding="utf-8", errors="replace") as fh:
        total, stages, incl, self_ = summarize(fh.read())
    print(f"{total} samples in the main process")
    for name, n in stages.most_common():
        print(f"{n:7d} {100 * n / max(total, 1):5.1f} %  {name}")
    for title, counter in (("inclusive", incl), ("self", self_)):
        print(f"--- {title}")
        for name, n in counter.most_common(top):
            print(f"{n:7d} {100 * n / max(total, 1):5.1f} %  {name}")


if __name__ == "__main__":
    main()
