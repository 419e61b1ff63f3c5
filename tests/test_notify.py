from __future__ import annotations

import json

from flows.config import Channel
from flows.alerts.notify import AlertMessage, TopicEvidence, check_url, render, send

MSG = AlertMessage(
    title="وزيرا الخارجية يبحثان نشر القوات الكورية الشمالية في روسيا",
    url="http://127.0.0.1/articles/x.html",
    outlets=["وكالة تجريبية"],
    published="2026-11-01 08:00 UTC",
    topics=[TopicEvidence("nk_russia_troops", "قوات كورية شمالية في روسيا",
                          [{"sentence": "نشر كوريا الشمالية لقواتها في روسيا.", "phrases": ["نشر", "روسيا"]}])],
)


def test_email_arrives_with_arabic_subject_and_rtl_html(smtp_sink) -> None:
    ch = Channel(name="mail", url=smtp_sink.url(), topics="all", format="email")
    assert send(ch, render(MSG, "email")) is True
    assert len(smtp_sink.messages) == 1
    m = smtp_sink.messages[0]
    assert MSG.title in str(m["subject"])
    assert "قوات كورية شمالية في روسيا" in str(m["subject"])
    html_part = m.get_body(("html",))
    plain_part = m.get_body(("plain",))
    assert html_part is not None and plain_part is not None
    html = html_part.get_content()
    assert 'dir="rtl"' in html and 'lang="ar"' in html
    assert "<mark>روسيا</mark>" in html
    assert MSG.url in html


def test_json_webhook_receives_one_message(webhook) -> None:
    ch = Channel(name="hook", url=f"json://127.0.0.1:{webhook.port}/alerts", topics="all", format="chat")
    assert send(ch, render(MSG, "chat")) is True
    posts = webhook.json_posts()
    assert len(posts) == 1
    assert MSG.title in posts[0]["message"] and MSG.url in posts[0]["message"]
    assert "قوات كورية شمالية في روسيا" in posts[0]["title"]


def test_channel_down_returns_false() -> None:
    from flows.replay.httpserve import free_port

    ch = Channel(name="hook", url=f"json://127.0.0.1:{free_port()}/x", topics="all", format="chat")
    assert send(ch, render(MSG, "chat")) is False


def test_check_url() -> None:
    assert check_url("json://127.0.0.1:8080/x") is None
    assert check_url("console://") is None
    problem = check_url("bogus://user:s3cr3t@host")
    assert problem and "s3cr3t" not in problem
    assert check_url("just text") is not None


def test_channel_topic_filter() -> None:
    ch = Channel(name="c", url="console://", topics=["two_plus_two"], format="text")
    assert MSG.for_channel(ch) is None
    ch2 = Channel(name="c", url="console://", topics=["nk_russia_troops"], format="text")
    assert MSG.for_channel(ch2) is not None
    assert json.dumps(render(MSG, "text").body, ensure_ascii=False).count("روسيا") >= 1


def test_long_arabic_headline_still_reaches_the_mail_server(smtp_sink) -> None:
    long_title = "تستضيف الولايات المتحدة الاجتماع السادس لوزراء الخارجية والدفاع " * 5
    msg = AlertMessage(long_title.strip(), MSG.url, MSG.outlets, MSG.published, MSG.topics)
    ch = Channel(name="mail", url=smtp_sink.url(), topics="all", format="email")
    assert send(ch, render(msg, "email")) is True
    assert len(smtp_sink.messages) == 1
    assert str(smtp_sink.messages[0]["subject"]).endswith("…")
    assert long_title.strip() in smtp_sink.messages[0].get_body(("html",)).get_content()
