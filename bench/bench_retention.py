"""Database size per 100,000 items, before and after retention (`raqib prune`), on SQLite.

    .venv/bin/python bench/bench_retention.py [--items 100000] [--chars 5000]

Fills a fresh state database the way the cycle leaves it: N finished items of one feed, each
with an article text of about ``--chars`` characters (seed paragraphs in random order, fixed
seed; Arabic is ~2 bytes a character in UTF-8), a feed summary, a content hash and a story
fingerprint; 1 % of them alerted (an alert and a sent message). All were polled 31–60 days ago,
so all are past the default 30-day retention. Prints one JSON object: file sizes before and after
the prune, the time it took, what it removed and what it kept.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flows.alerts.stories import fingerprint  # noqa: E402
from flows.config import Settings  # noqa: E402
from flows.store.retention import _file_size, prune  # noqa: E402
from flows.store.schema import alerts, items, outbox, utcnow  # noqa: E402
from flows.store.state import Store  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--chars", type=int, default=5000)
    args = ap.parse_args()
    rnd = random.Random(13)
    paragraphs = [p.strip() for f in sorted((ROOT / "seeds").glob("*.txt"))
                  for p in f.read_text(encoding="utf-8").split("\n") if len(p.strip()) > 80]
    fp = fingerprint("\n".join(paragraphs)).to_str()
    tmp = Path(tempfile.mkdtemp(prefix="raqib-retention-"))
    store = Store.open(tmp)
    (feed,) = store.sync_feeds([("bench", "https://news.example.org/rss.xml", "bench")])
    now = utcnow()
    chunk = 2000
    alerted: list[int] = []
    for start in range(0, args.items, chunk):
        rows = []
        for i in range(start, min(start + chunk, args.items)):
            text, n = [], 0
            while n < args.chars:
                p = rnd.choice(paragraphs)
                text.append(p)
                n += len(p) + 2
            body = "\n\n".join(text)
            rows.append({"id": i + 1, "feed_id": feed.id, "key": f"https://news.example.org/a/{i}", "link":
                         f"https://news.example.org/a/{i}", "title": text[0][:120], "summary": text[0][:400],
                         "published_at": now - timedelta(days=31 + i % 30), "polled_at": now - timedelta(days=31 + i % 30),
                         "state": "done", "attempts": 1, "content_hash": hashlib.sha256(body.encode()).hexdigest(),
                         "text": body, "topics": "[]", "matched_at": now - timedelta(days=31 + i % 30),
                         "fingerprint": fp, "story_id": i + 1})
            if i % 100 == 0:
                alerted.append(i + 1)
        with store.engine.begin() as conn:
            conn.execute(items.insert(), rows)
    with store.engine.begin() as conn:
        conn.execute(alerts.insert(), [{"item_id": i, "topic": "two_plus_two", "topic_name": "2+2", "score": 1.0,
                                        "evidence": "[]", "created_at": now} for i in alerted])
        conn.execute(outbox.insert(), [{"item_id": i, "channel": "mail", "topics": '["two_plus_two"]',
                                        "status": "sent", "attempts": 1, "created_at": now, "sent_at": now}
                                       for i in alerted])
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").all()
    before = _file_size(store)
    t0 = time.monotonic()
    report = prune(store, Settings())
    took = time.monotonic() - t0
    after = _file_size(store)
    store.close()
    scale = 100_000 / args.items
    print(json.dumps({
        "items": args.items, "chars_per_text": args.chars, "alerted": len(alerted),
        "bytes_before": before, "bytes_after": after,
        "mb_per_100k_before": round(before * scale / 1e6, 1), "mb_per_100k_after": round(after * scale / 1e6, 1),
        "prune_seconds": round(took, 1), "texts_dropped": report.texts_dropped,
        "items_removed": report.items_removed, "keys_kept": report.keys_kept,
    }))


if __name__ == "__main__":
    main()
