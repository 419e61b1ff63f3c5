"""Secrets out of messages (flows.redact): URL userinfo, secret query values, apprise tokens."""

from __future__ import annotations

import pytest

from flows.errors import ConfigError
from flows.redact import redact, redact_url

SECRETS = [
    ("mailtos://analyst:Secr3tPw@smtp.example.org?to=desk@example.org", "Secr3tPw"),
    ("https://reader:Secr3tPw@feeds.example.org/rss", "Secr3tPw"),
    ("json://127.0.0.1:8080/hook?password=Secr3tPw&x=1", "Secr3tPw"),
    ("ntfy://ntfy.example.org/topic?token=tk_9f8e7d6c5b4a3210", "tk_9f8e7d6c5b4a3210"),
    ("mmost://chat.example.org/8fq3n1x9c7byxkd0a2r4t6u8w1", "8fq3n1x9c7byxkd0a2r4t6u8w1"),
    ("tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/987654", "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"),
    ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#desk", "TIiajkdnlazkcOXrIdevi7FQ"),
    ("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js", "JHMHI8qBe7bk2ZwO5U711o3dV_js"),
    ("pbul://o.gn5kj6nfhv736I7jC3cj3QLRiyhgl98b", "gn5kj6nfhv736I7jC3cj3QLRiyhgl98b"),
    ("mqtt://raqib:Secr3tPw@broker.example.org:1883/alerts", "Secr3tPw"),
    ("postgresql+psycopg://raqib:Secr3tPw@db.example.org/raqib", "Secr3tPw"),
]


@pytest.mark.parametrize("url,secret", SECRETS, ids=[u.split(":", 1)[0] for u, _ in SECRETS])
def test_secret_parts_are_hidden_anywhere_in_a_message(url: str, secret: str) -> None:
    for text in (url, f"channels[0] (desk): cannot use '{url}' now", f"url: {url}\n  ^"):
        out = redact(text)
        assert secret not in out, out
        assert "***" in out


def test_non_secret_parts_stay_readable() -> None:
    out = redact("feed https://news.example.org/rss/world.xml?page=2 failed; mailto://desk@example.org")
    assert "https://news.example.org/rss/world.xml?page=2" in out
    assert redact("mmost://127.0.0.1:8065/hooks") == "mmost://127.0.0.1:8065/hooks"
    assert redact("mailtos://analyst:pw@smtp.example.org").startswith("mailtos://analyst:***@smtp.example.org")
    assert redact("plain text, nothing hidden: here") == "plain text, nothing hidden: here"


def test_password_pairs_outside_urls() -> None:
    assert "hunter2" not in redact("password: hunter2")
    assert "hunter2" not in redact("api_key='hunter2'")


def test_config_error_message_is_redacted_whoever_built_it() -> None:
    err = ConfigError("alerts.yaml", "channels[0]", "bad URL mailtos://u:Secr3tPw@h.example.org")
    assert "Secr3tPw" not in str(err) and "Secr3tPw" not in err.message


def test_database_url_form() -> None:
    assert "Secr3tPw" not in redact_url("postgresql+psycopg://raqib:Secr3tPw@db.example.org/raqib")


def test_log_lines_are_redacted() -> None:
    import io
    import logging

    from flows.redact import RedactingFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter("%(levelname)s %(message)s"))
    log = logging.getLogger("raqib.test.redact")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("feed %s failed", "https://reader:Secr3tPw@feeds.example.org/rss")
        try:
            raise ValueError("mailtos://u:Secr3tPw@h.example.org")
        except ValueError:
            log.exception("boom")
    finally:
        log.removeHandler(handler)
    out = stream.getvalue()
    assert "Secr3tPw" not in out and out.count("***") >= 2 and "ValueError" in out
