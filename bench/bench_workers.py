"""CPU of the extraction processes alone: the pool a cycle starts, N corpus pages through it.

Usage (from the repository root):  .venv/bin/python bench/bench_workers.py [N_PAGES] [TREE]

What `flows.process.process_pending` does with its extraction processes, without the rest of a
cycle (feeds, downloads, the database, deliveries), whose CPU on a shared machine hides theirs:
a pool of 2 started as the cycle starts it (`_start_pool`: fork server, worker modules
preloaded), the corpus pages (`bench/corpus.py`) sent `JOB_PAGES` to a job, then shut down. Prints
one JSON line: CPU milliseconds per page of the workers (with the fork server's own, counted with
the children it reaped) and of this process (sending the jobs, reading the results). TREE: measure
the ``flows`` of another checkout (``git archive`` a commit into a folder), alternating runs of the
two; a tree from before `_start_pool` gets the spawned pool its `process_pending` made.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
ROOT = Path(sys.argv[2]).resolve() if len(sys.argv) > 2 else HERE
sys.path[:0] = [str(ROOT), str(HERE)] if ROOT != HERE else [str(ROOT)]


def main() -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from flows import process
    from flows.text.extract_job import init_worker

    assert Path(process.__file__).is_relative_to(ROOT), process.__file__
    sys.path.insert(0, str(HERE))  # this checkout's corpus and /proc reader, whatever the tree
    for name in [m for m in sys.modules if m == "bench" or m.startswith("bench.")]:
        del sys.modules[name]
    from bench import corpus
    from bench.run_all import _live_children_cpu
    from flows.match import Matcher
    from flows.text.extract_job import PageJob, process_batch

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    pages = list(corpus.build(n, 20, "http://127.0.0.1:9")[2].values())
    matcher = Matcher.from_config_dir(ROOT / "config")
    jobs = [[PageJob(b, "text/html; charset=utf-8", None, "t") for b in pages[i:i + process.JOB_PAGES]]
            for i in range(0, n, process.JOB_PAGES)]
    c0, live0, me0, t0 = os.times(), _live_children_cpu(), time.process_time(), time.perf_counter()
    if hasattr(process, "_start_pool"):
        pool = process._start_pool(2, matcher)
    else:
        pool = ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=init_worker, initargs=(matcher,))
    done = sum(len(f.result()) for f in [pool.submit(process_batch, j) for j in jobs])
    pool.shutdown()
    wall = time.perf_counter() - t0
    me = time.process_time() - me0
    c1, live1 = os.times(), _live_children_cpu(wait=5.0)
    workers = ((c1.children_user + c1.children_system) - (c0.children_user + c0.children_system)
               + sum(v - live0.get(pid, 0.0) for pid, v in live1.items()))
    print(json.dumps({"pages": done, "job_pages": process.JOB_PAGES, "workers_cpu_ms_per_page": round(workers / n * 1000, 2),
                      "this_process_cpu_ms_per_page": round(me / n * 1000, 2), "wall_s": round(wall, 2)}))


if __name__ == "__main__":
    main()
