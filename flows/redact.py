"""Secrets out of text a person or a log will see: one function, :func:`redact`, for every message.

Rules:
- in every ``scheme://`` URL found in the text, the userinfo loses its password (``user:***@``; a
  userinfo with no ``:`` is a token for several apprise services and becomes ``***@``);
- query parameters whose name says secret (``pass``, ``password``, ``pwd``, ``token``, ``secret``,
  ``key``, ``apikey``, ``auth``, ``sig`` …) keep their name and lose their value;
- in apprise URLs (any scheme but http/https), the host and path parts that look like tokens
  (16 characters or more with a digit, a dotted name with a 24-character label, or a ``bot:token``
  pair) become ``***``: Telegram,
  Slack, Discord, Mattermost, Gotify, Pushbullet … carry their secret there;
- outside URLs, ``password: x`` / ``token=x`` style pairs lose their value;
- the result names what was hidden by ``***`` only: never a prefix or a length of the secret.

:func:`redact_url` is the database-URL form (SQLAlchemy's own rendering, password hidden).
"""

from __future__ import annotations

import logging
import re

__all__ = ["redact", "redact_url", "MASK", "RedactingFormatter"]

MASK = "***"

# A URL runs to whitespace or a quote/bracket that commonly ends one in a message.
_URL_RE = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://(?P<rest>[^\s'\"<>`]*)")
# userinfo: everything before the last '@' that comes before the first '/', '?' or '#'.
_USERINFO_RE = re.compile(r"^(?P<userinfo>[^/?#]*)@")
_SECRET_NAME = r"[A-Za-z0-9_\-]*(?:pass|pwd|token|secret|key|auth|sig|credential|session|cookie)[A-Za-z0-9_\-]*"
_QUERY_SECRET_RE = re.compile(rf"(?P<name>[?&;]{_SECRET_NAME}=)(?P<value>[^&#;]*)", re.IGNORECASE)
_PAIR_SECRET_RE = re.compile(
    r"(?P<name>\b(?:password|passwd|pwd|passphrase|secret|token|api[_-]?key|apikey|access[_-]?key)\b\s*[:=]\s*)"
    r"(?P<q>['\"]?)(?P<value>[^\s'\",;]+)",
    re.IGNORECASE,
)
_PLAIN_WEB = {"http", "https"}


def _tokenish(part: str) -> bool:
    """A host or path part that is more likely a credential than a name."""
    if not part or part.startswith("#"):
        return False
    if "." in part:  # a host name, unless a label is token-long (Pushbullet's o.<token>)
        return any(len(label) >= 24 and any(c.isdigit() for c in label) for label in part.split("."))
    if ":" in part:  # telegram's bot_id:token, or host:port
        head, _, tail = part.partition(":")
        return not tail.isdigit() and (len(tail) >= 8 or _tokenish(head))
    return len(part) >= 16 and any(c.isdigit() for c in part)


def _redact_one(m: re.Match[str]) -> str:
    scheme, rest = m.group("scheme"), m.group("rest")
    u = _USERINFO_RE.match(rest)
    prefix = ""
    if u:
        userinfo = u.group("userinfo")
        user, colon, _ = userinfo.partition(":")
        prefix = (f"{user}:{MASK}@" if colon else f"{MASK}@")
        rest = rest[u.end():]
    rest = _QUERY_SECRET_RE.sub(lambda q: q.group("name") + MASK, rest)
    if scheme.lower() not in _PLAIN_WEB:
        path, sep, query = rest.partition("?")
        parts = path.split("/")
        parts = [MASK if _tokenish(p) else p for p in parts]
        rest = "/".join(parts) + sep + query
    return f"{scheme}://{prefix}{rest}"


def redact(text: str) -> str:
    """``text`` with the credentials it may hold replaced by ``***`` (see the module rules)."""
    if not text:
        return text
    out = _URL_RE.sub(_redact_one, text) if "://" in text else text
    return _PAIR_SECRET_RE.sub(lambda p: p.group("name") + p.group("q") + MASK, out)


class RedactingFormatter(logging.Formatter):
    """A log formatter whose every line (message, arguments, traceback) goes through :func:`redact`."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def redact_url(url: str) -> str:
    """A database URL safe to print (password hidden)."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database URL>"
