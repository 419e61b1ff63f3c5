"""What one cycle did: per-feed poll outcomes, the alerts it wrote, and the cycle's counts.

Plain data, shared by the stages of `flows.pipeline` and `flows.process`, reported by the CLI and
by the Prefect flows' artifacts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class FeedOutcome:
    feed: str
    url: str
    status: str  # new | not_modified | unchanged | error
    entries: int = 0
    new_items: int = 0
    error: str | None = None
    warning: str | None = None
    # Feed health, for operator notices: consecutive failed polls before and after this one.
    feed_id: int = 0
    errors_before: int = 0
    errors: int = 0
    was_dead: bool = False


@dataclass
class AlertRecord:
    topic: str
    topic_name: str
    url: str | None
    title: str
    feed: str
    published: str | None
    evidence: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CycleReport:
    feeds: list[FeedOutcome] = field(default_factory=list)
    processed: int = 0
    duplicates: int = 0
    same_story: int = 0
    page_failures: int = 0
    alerts: list[AlertRecord] = field(default_factory=list)
    # Messages queued by this cycle: one per (article, channel), naming all its topics.
    messages: int = 0
    sent: int = 0
    send_failures: int = 0

    @property
    def feed_errors(self) -> int:
        return sum(1 for f in self.feeds if f.status == "error")

    @property
    def new_items(self) -> int:
        return sum(f.new_items for f in self.feeds)
