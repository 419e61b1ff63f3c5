"""Cost of ``flows.alerts.stories.fingerprint`` beside two faster MinHash layouts (proposals, not used by raqib).

- ``current``: 128 (a·x+b) mod p permutations of one 64-bit blake2b per shingle (pure Python);
- ``sliced``: per shingle, blake2b digests (64 bytes = 16 32-bit values each, 8 personalisations)
  give the 128 hash values; the minima per position are taken by ``map(min, zip(*rows))`` in C;
- ``oph``: one-permutation hashing: one 64-bit blake2b per shingle, its top 7 bits pick one of 128
  bins, the bin keeps the minimum of the low 32 bits; empty bins are filled from the next bin
  (rotation densification). O(shingles) instead of O(128·shingles).
Both alternatives need a new fingerprint version (stored ``m1`` fingerprints do not compare).
Shown: ms per article on one core, and how far their similarity estimate is from the current one
on pairs of bench articles that share paragraphs (mean absolute difference).

Run: ``python bench/bench_fingerprint.py`` from the repository root.
"""

from __future__ import annotations

import hashlib
import random
import struct
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flows.alerts.stories import NUM_HASHES, Fingerprint, _shingles, fingerprint, similarity  # noqa: E402

_MASK32 = (1 << 32) - 1
_PERSON = [f"raqib-{k}".encode() for k in range(NUM_HASHES // 16)]
_UNPACK16 = struct.Struct(">16I").unpack


def sliced(text: str) -> Fingerprint:
    sh = _shingles(text)
    if not sh:
        return Fingerprint((_MASK32,) * NUM_HASHES, 0)
    rows = []
    for s in sh:
        row: tuple[int, ...] = ()
        for p in _PERSON:
            row += _UNPACK16(hashlib.blake2b(s, digest_size=64, person=p).digest())
        rows.append(row)
    return Fingerprint(tuple(map(min, zip(*rows))), len(sh))


def oph(text: str) -> Fingerprint:
    sh = _shingles(text)
    if not sh:
        return Fingerprint((_MASK32,) * NUM_HASHES, 0)
    bins = [_MASK32 + 1] * NUM_HASHES
    for s in sh:
        h = int.from_bytes(hashlib.blake2b(s, digest_size=8).digest(), "big")
        b = h >> 57  # top 7 bits: 128 bins
        v = h & _MASK32
        if v < bins[b]:
            bins[b] = v
    out = []
    for i in range(NUM_HASHES):  # densify: an empty bin borrows the next non-empty one (circular)
        j = i
        while bins[j % NUM_HASHES] > _MASK32:
            j += 1
        out.append(bins[j % NUM_HASHES])
    return Fingerprint(tuple(out), len(sh))


def main() -> None:
    from bench import corpus

    arts = corpus.articles(200, 1)
    texts = [a.text for a in arts]
    rng = random.Random(1)
    # pairs sharing content: an article and a copy with a third of its paragraphs dropped and others added
    pairs = []
    for t in texts[:60]:
        paras = t.split("\n\n")
        keep = [p for p in paras if rng.random() > 0.33]
        other = rng.choice(texts).split("\n\n")[1:6]
        pairs.append((t, "\n\n".join(keep + other)))
    print(f"{'layout':>8} {'ms/article':>11} {'mean |Δ similarity| vs current':>32}")
    base = None
    for name, fn in (("current", fingerprint), ("sliced", sliced), ("oph", oph)):
        t0 = time.perf_counter()
        for t in texts:
            fn(t)
        ms = (time.perf_counter() - t0) / len(texts) * 1000
        sims = [similarity(fn(a), fn(b)) for a, b in pairs]
        if base is None:
            base = sims
        diff = sum(abs(x - y) for x, y in zip(sims, base)) / len(sims)
        print(f"{name:>8} {ms:>11.2f} {diff:>32.3f}")


if __name__ == "__main__":
    main()
