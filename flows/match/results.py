"""Public results of the matcher: a topic that fired and the evidence for it.

Rules:
- Evidence holds the original sentence (as published, not normalized), the original phrases that
  fired in it and its zone ("title" or "body"); ``to_dict`` is the JSON shape of ``raqib match``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Evidence", "TopicMatch"]


@dataclass(frozen=True)
class Evidence:
    sentence: str
    phrases: tuple[str, ...]
    zone: str

    def to_dict(self) -> dict:
        return {"sentence": self.sentence, "phrases": list(self.phrases), "zone": self.zone}


@dataclass(frozen=True)
class TopicMatch:
    topic: str
    name: str
    score: float
    evidence: tuple[Evidence, ...]

    def to_dict(self) -> dict:
        return {
            "topic": self.topic,
            "name": self.name,
            "score": self.score,
            "evidence": [e.to_dict() for e in self.evidence],
        }
