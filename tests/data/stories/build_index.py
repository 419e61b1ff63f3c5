"""Rebuild pairs.csv from docs.csv (run after adding a document: python build_index.py).

Relations: same event and same report letter -> same_report; same event, other report ->
same_event; other event -> different_event. ``note`` marks the hard cases named in README.md.
"""

from __future__ import annotations

import csv
from itertools import combinations
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Events written from one template for another period (another year, another trading day).
TEMPLATE_TWINS = {frozenset(p) for p in (("e05", "e21"), ("e19", "e20"), ("e16", "e22"))}


def main() -> None:
    with open(HERE / "docs.csv", encoding="utf-8") as f:
        docs = list(csv.DictReader(f))
    with open(HERE / "pairs.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["a", "b", "relation", "note"])
        for a, b in combinations(docs, 2):
            if a["event"] == b["event"]:
                rel = "same_report" if a["report"] == b["report"] else "same_event"
                note = b["kind"] if rel == "same_report" else ""
            else:
                rel = "different_event"
                note = "template_other_period" if frozenset((a["event"], b["event"])) in TEMPLATE_TWINS else ""
            w.writerow([a["id"], b["id"], rel, note])


if __name__ == "__main__":
    main()
