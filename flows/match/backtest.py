"""Backtest of the topic matcher against a labelled folder of texts.

Rules:
- The labels CSV has a ``file`` column, one 0/1 column per topic (named by topic id) and
  optionally a ``why`` column (the seeds' format). Topics of the matcher without a column are
  not scored; a label file without any topic column, a missing text file or a value other than
  0/1 is an error (:class:`flows.errors.ConfigError`). Text files are read with
  :mod:`flows.text.files` (regular files only, size bound, decoded as pages are): a labelled file
  that exists but cannot be read as text is listed in ``skipped`` and not scored.
- For each topic: TP/FP/FN/TN, precision, recall and F1 of the matcher, and of a plain keyword
  baseline scored side by side (the topic's ``baseline`` term list from topics.yaml, substring
  match on the raw text; nothing else).
- Every false positive is listed with the evidence that fired; every false negative with the
  label's ``why``; for the baseline, the keywords found.
- Precision of a topic with no predicted positive is 1.0 (no false alarm), recall of a topic with
  no labelled positive is 1.0; F1 follows from both.
"""

from __future__ import annotations

import csv
import pathlib
from dataclasses import dataclass, field

from flows.errors import ConfigError
from flows.match import Matcher
from flows.text.files import TextFileError, read_text_file

__all__ = ["Scores", "TopicReport", "BacktestReport", "run_backtest", "keyword_baseline"]


@dataclass
class Scores:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, expected: bool, got: bool) -> None:
        if expected and got:
            self.tp += 1
        elif got:
            self.fp += 1
        elif expected:
            self.fn += 1
        else:
            self.tn += 1

    def to_dict(self) -> dict:
        return {
            "tp": self.tp, "fp": self.fp, "fn": self.fn, "tn": self.tn,
            "precision": round(self.precision, 4), "recall": round(self.recall, 4), "f1": round(self.f1, 4),
        }


@dataclass
class TopicReport:
    topic: str
    name: str
    matcher: Scores = field(default_factory=Scores)
    baseline: Scores = field(default_factory=Scores)
    false_positives: list[dict] = field(default_factory=list)
    false_negatives: list[dict] = field(default_factory=list)
    baseline_false_positives: list[dict] = field(default_factory=list)
    baseline_false_negatives: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "topic": self.topic,
            "name": self.name,
            "matcher": self.matcher.to_dict(),
            "baseline": self.baseline.to_dict(),
            "false_positives": self.false_positives,
            "false_negatives": self.false_negatives,
            "baseline_false_positives": self.baseline_false_positives,
            "baseline_false_negatives": self.baseline_false_negatives,
        }


@dataclass
class BacktestReport:
    folder: str
    files: int
    topics: list[TopicReport]
    # labelled files that could not be read as text ({"file", "reason"}); not scored
    skipped: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"folder": self.folder, "files": self.files, "topics": [t.to_dict() for t in self.topics],
                "skipped": self.skipped}

    @property
    def perfect(self) -> bool:
        return all(t.matcher.fp == 0 and t.matcher.fn == 0 for t in self.topics)

    def render(self) -> str:
        """Human table: matcher and baseline side by side, then FP/FN with evidence."""
        lines = [f"backtest: {self.files} files in {self.folder}"
                 + (f" ({len(self.skipped)} skipped: not readable as text)" if self.skipped else ""), ""]
        head = f"{'topic':<22} {'':>2}{'matcher P':>10} {'R':>6} {'F1':>6} {'TP/FP/FN':>10}   {'baseline P':>10} {'R':>6} {'F1':>6} {'TP/FP/FN':>10}"
        lines.append(head)
        lines.append("-" * len(head))
        for t in self.topics:
            m, b = t.matcher, t.baseline
            lines.append(
                f"{t.topic:<22} {'':>2}{m.precision:>10.3f} {m.recall:>6.3f} {m.f1:>6.3f} {f'{m.tp}/{m.fp}/{m.fn}':>10}"
                f"   {b.precision:>10.3f} {b.recall:>6.3f} {b.f1:>6.3f} {f'{b.tp}/{b.fp}/{b.fn}':>10}"
            )
        for t in self.topics:
            if not (t.false_positives or t.false_negatives):
                continue
            lines.append("")
            lines.append(f"[{t.topic}] matcher errors")
            for fp in t.false_positives:
                lines.append(f"  FP {fp['file']}")
                for e in fp["evidence"]:
                    lines.append(f"     {e['zone']}: {e['sentence']}")
                    lines.append(f"       phrases: {' | '.join(e['phrases'])}")
            for fn in t.false_negatives:
                lines.append(f"  FN {fn['file']}" + (f"  (why: {fn['why']})" if fn.get("why") else ""))
        return "\n".join(lines)


def keyword_baseline(text: str, keywords: tuple[str, ...] | list[str]) -> list[str]:
    """Keywords of ``keywords`` found in ``text`` by plain substring match."""
    return [k for k in keywords if k and k in text]


def _read_labels(labels_csv: pathlib.Path, topics: list[str]) -> tuple[list[dict[str, str]], list[str]]:
    try:
        with open(labels_csv, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            rows = list(reader)
            cols = reader.fieldnames or []
    except FileNotFoundError:
        raise ConfigError(str(labels_csv), None, "file not found") from None
    if "file" not in cols:
        raise ConfigError(str(labels_csv), None, "no 'file' column")
    scored = [t for t in topics if t in cols]
    if not scored:
        raise ConfigError(str(labels_csv), None, f"no column for any topic ({', '.join(topics)})")
    for i, row in enumerate(rows, start=2):
        for t in scored:
            if (row.get(t) or "").strip() not in ("0", "1"):
                raise ConfigError(str(labels_csv), f"line {i}.{t}", f"expected 0 or 1, got {row.get(t)!r}")
    return rows, scored


def run_backtest(matcher: Matcher, folder: pathlib.Path, labels_csv: pathlib.Path) -> BacktestReport:
    folder = pathlib.Path(folder)
    rows, scored = _read_labels(pathlib.Path(labels_csv), matcher.topic_ids)
    names = {t: matcher.topic_name(t) for t in scored}
    reports = {t: TopicReport(t, names[t]) for t in scored}
    baseline = matcher.baseline_terms()
    skipped: list[dict] = []
    for i, row in enumerate(rows, start=2):
        name = (row.get("file") or "").strip()
        path = folder / name
        if not name or not path.exists():
            raise ConfigError(str(labels_csv), f"line {i}.file", f"cannot read {name!r} in the folder")
        try:
            text = read_text_file(path)
        except TextFileError as err:  # not text, too big, a FIFO …: named, and the others still scored
            skipped.append({"file": name, "reason": err.reason})
            continue
        got = {m.topic: m for m in matcher.match(text)}
        why = row.get("why", "") or ""
        for t in scored:
            rep = reports[t]
            expected = row[t].strip() == "1"
            hit = t in got
            rep.matcher.add(expected, hit)
            if hit and not expected:
                rep.false_positives.append({"file": name, "why": why, "score": got[t].score,
                                            "evidence": [e.to_dict() for e in got[t].evidence]})
            elif expected and not hit:
                rep.false_negatives.append({"file": name, "why": why})
            kws = keyword_baseline(text, baseline.get(t, ()))
            rep.baseline.add(expected, bool(kws))
            if kws and not expected:
                rep.baseline_false_positives.append({"file": name, "keywords": kws})
            elif expected and not kws:
                rep.baseline_false_negatives.append({"file": name})
    return BacktestReport(str(folder), len(rows) - len(skipped), [reports[t] for t in scored], skipped)
