"""Dump every match result of the matcher over the project's texts, to compare two versions.

Rules:
- Texts: every ``.txt`` of the seeds and of tests/data/topics, devset, heldout to heldout5 and stories (sorted
  paths), each matched three ways: without a title, with its first line as the title, and once
  more without a title after every per-token cache was cleared (a cold matcher must agree with a
  warm one).
- One JSON line per (file, way): topics, scores and evidence exactly as ``TopicMatch.to_dict``;
  the last line is the SHA-256 of all the lines before it.
- ``--config DIR`` picks the config (default: the repository's); ``--seeds DIR`` another seeds
  folder; ``--out FILE`` writes the dump; ``--check FILE`` compares with an earlier dump and exits
  1 naming the first differing line.
- A check of behaviour, not a benchmark: it prints no speed figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flows.match import Matcher  # noqa: E402

DATA_SETS = ("topics", "devset", "heldout", "heldout2", "heldout3", "heldout4", "heldout5", "stories")


def text_files(seeds: pathlib.Path) -> list[pathlib.Path]:
    files = sorted(seeds.glob("*.txt"))
    for name in DATA_SETS:
        files.extend(sorted((ROOT / "tests" / "data" / name).rglob("*.txt")))
    return files


def dump_lines(matcher: Matcher, files: list[pathlib.Path]) -> list[str]:
    lines: list[str] = []
    texts = [(f, f.read_text(encoding="utf-8")) for f in files]
    for way in ("plain", "titled", "cold"):
        for f, text in texts:
            if way == "cold":
                matcher.clear_caches()
            title = text.strip().split("\n", 1)[0] if way == "titled" else None
            res = [m.to_dict() for m in matcher.match(text, title=title)]
            rel = f.relative_to(ROOT) if f.is_relative_to(ROOT) else pathlib.Path("seeds", f.name)
            lines.append(json.dumps({"file": str(rel), "way": way, "matches": res},
                                    ensure_ascii=False, sort_keys=True))
    return lines


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", type=pathlib.Path, default=ROOT / "config")
    ap.add_argument("--seeds", type=pathlib.Path, default=ROOT / "seeds")
    ap.add_argument("--out", type=pathlib.Path)
    ap.add_argument("--check", type=pathlib.Path)
    args = ap.parse_args()
    files = text_files(args.seeds)
    lines = dump_lines(Matcher.from_config_dir(args.config), files)
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    lines.append(json.dumps({"sha256": digest, "files": len(files)}))
    fired = sum(1 for ln in lines[:-1] if '"matches": []' not in ln)
    print(f"{len(files)} texts x 3 ways, {fired} with a topic; sha256 {digest}")
    if args.out:
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if args.check:
        old = args.check.read_text(encoding="utf-8").rstrip("\n").split("\n")
        for i, (a, b) in enumerate(zip(old, lines)):
            if a != b:
                print(f"line {i + 1} differs:\n- {a[:2000]}\n+ {b[:2000]}")
                return 1
        if len(old) != len(lines):
            print(f"{len(old)} lines before, {len(lines)} now")
            return 1
        print("identical to", args.check.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
