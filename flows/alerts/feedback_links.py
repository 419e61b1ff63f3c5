"""Signed feedback links: an analyst's relevant / not-relevant click, unforgeable and expiring.

Rules:
- a link carries only the item id, topic ids, the verdict, an expiry (Unix seconds) and an
  HMAC-SHA256 over exactly those four (a versioned, newline-separated message, so no field can
  bleed into another); nothing else: no secret, no title, no URL of the article;
- the key comes from the environment (`RAQIB_FEEDBACK_KEY`), else from the Prefect Secret block
  named in `settings.feedback.key_secret`; it is at least 16 bytes and never printed;
- verification compares signatures in constant time (`hmac.compare_digest`) and refuses an
  expired, malformed or forged link with `LinkError` (the page answers 403 and records nothing);
- the archive page's "missed" form is signed the same way (item 0, no topic, verdict `missed`),
  so a POST from another site cannot plant a judgment.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
import time
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlencode

from flows.config import FeedbackSettings

KEY_ENV = "RAQIB_FEEDBACK_KEY"
MIN_KEY_BYTES = 16
LINK_VERDICTS = ("relevant", "not-relevant", "missed")
_TOPIC = re.compile(r"[A-Za-z0-9_.-]{1,200}")
_log = logging.getLogger("raqib.feedback")
_warned = False


class LinkError(Exception):
    """A link or form token that must be refused (forged, expired or malformed)."""


class FeedbackKeyError(Exception):
    """No usable signing key is configured."""


@dataclass(frozen=True)
class SignedJudgment:
    item_id: int
    topics: tuple[str, ...]
    verdict: str
    expires: int


def feedback_key(settings: FeedbackSettings) -> bytes:
    """The signing key, from RAQIB_FEEDBACK_KEY or the configured Prefect Secret block."""
    raw = os.environ.get(KEY_ENV, "").strip()
    if not raw and settings.key_secret:
        from flows.secrets import read_prefect_secret  # imports prefect: only when configured

        try:
            raw = read_prefect_secret(settings.key_secret)
        except Exception as exc:
            raise FeedbackKeyError(f"cannot read the feedback key from Prefect Secret block "
                            f"{settings.key_secret!r} ({exc.__class__.__name__})") from None
    if not raw:
        raise FeedbackKeyError(f"no feedback key: set {KEY_ENV} or settings.yaml feedback.key_secret")
    key = raw.encode("utf-8")
    if len(key) < MIN_KEY_BYTES:
        raise FeedbackKeyError(f"the feedback key is shorter than {MIN_KEY_BYTES} bytes")
    return key


def _message(item_id: int, topics: str, verdict: str, expires: int) -> bytes:
    return f"raqib-feedback-v1\n{item_id}\n{topics}\n{verdict}\n{expires}".encode("utf-8")


def signature(key: bytes, item_id: int, topics: tuple[str, ...] | list[str], verdict: str, expires: int) -> str:
    digest = hmac.new(key, _message(item_id, ",".join(topics), verdict, expires), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign_params(key: bytes, item_id: int, topics: tuple[str, ...] | list[str], verdict: str,
                lifetime_s: float, now: float | None = None) -> dict[str, str]:
    """The query (or form) fields of a signed judgment: i, t, v, e, s."""
    if verdict not in LINK_VERDICTS:
        raise ValueError(f"unknown verdict {verdict!r}")
    for t in topics:
        if not _TOPIC.fullmatch(t):
            raise ValueError(f"not a topic id: {t!r}")
    expires = int((now if now is not None else time.time()) + lifetime_s)
    return {"i": str(item_id), "t": ",".join(topics), "v": verdict, "e": str(expires),
            "s": signature(key, item_id, topics, verdict, expires)}


def link(base_url: str, params: Mapping[str, str]) -> str:
    return f"{base_url.rstrip('/')}/feedback?{urlencode(params)}"


def verify(key: bytes, params: Mapping[str, str], now: float | None = None) -> SignedJudgment:
    """The judgment a link or form carries; `LinkError` when forged, expired or malformed."""
    try:
        item_id = int(params.get("i", ""))
        expires = int(params.get("e", ""))
    except ValueError:
        raise LinkError("malformed link") from None
    topics_raw, verdict, sig = params.get("t", ""), params.get("v", ""), params.get("s", "")
    topics = tuple(t for t in topics_raw.split(",") if t) if topics_raw else ()
    if verdict not in LINK_VERDICTS or any(not _TOPIC.fullmatch(t) for t in topics) or item_id < 0:
        raise LinkError("malformed link")
    good = signature(key, item_id, topics, verdict, expires)
    # Compare before looking at the expiry, and always in constant time.
    if not hmac.compare_digest(good.encode("ascii"), sig.encode("ascii", "replace")):
        raise LinkError("bad signature")
    if expires < (now if now is not None else time.time()):
        raise LinkError("link expired")
    return SignedJudgment(item_id, topics, verdict, expires)


def alert_links(settings: FeedbackSettings, item_id: int, topics: list[str]) -> dict[str, str] | None:
    """{"relevant": url, "not_relevant": url} for an alert, or None when feedback is not set up
    (no base URL) or the key is missing (logged, and the alert goes out without links)."""
    if not settings.base_url or not topics:
        return None
    try:
        key = feedback_key(settings)
    except FeedbackKeyError as err:
        global _warned
        if not _warned:  # once per process, not once per message
            _log.warning("alerts go out without feedback links: %s", err)
            _warned = True
        return None
    life = settings.link_days * 86400
    return {name: link(settings.base_url, sign_params(key, item_id, topics, verdict, life))
            for name, verdict in (("relevant", "relevant"), ("not_relevant", "not-relevant"))}
