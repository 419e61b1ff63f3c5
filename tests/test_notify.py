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


def test_three_arabic_topic_names_and_a_long_headline_reach_the_mail_server(smtp_sink) -> None:
    names = ["قوات كورية شمالية لروسيا", "اجتماع 2+2 الوزاري الأمريكي الكوري الجنوبي", "الردع الأمريكي الموسع لكوريا الجنوبية"]
    topics = [TopicEvidence(f"t{i}", n, MSG.topics[0].evidence) for i, n in enumerate(names)]
    msg = AlertMessage("وزيرا الخارجية الكوري الجنوبي والأمريكي يناقشان نشر القوات الكورية الشمالية في روسيا " * 2,
                       MSG.url, MSG.outlets, MSG.published, topics)
    ch = Channel(name="mail", url=smtp_sink.url(), topics="all", format="email")
    assert send(ch, render(msg, "email")) is True
    html = smtp_sink.messages[0].get_body(("html",)).get_content()
    assert all(n in html for n in names)  # the body names every topic the subject may shorten


def test_plain_part_has_one_quote_a_line_and_the_headline_once(smtp_sink) -> None:
    title = MSG.title
    ev = [{"sentence": title, "phrases": ["روسيا"]},
          {"sentence": "الجملة الأولى عن نشر القوات في روسيا.", "phrases": ["روسيا"]},
          {"sentence": "الجملة الثانية عن القوات في روسيا.", "phrases": ["روسيا"]}]
    msg = AlertMessage(title, MSG.url, MSG.outlets, MSG.published,
                       [TopicEvidence("nk_russia_troops", "قوات كورية شمالية لروسيا", ev),
                        TopicEvidence("two_plus_two", "اجتماع 2+2", [{"sentence": "جملة ثالثة عن الاجتماع.", "phrases": []}])])
    ch = Channel(name="mail", url=smtp_sink.url(), topics="all", format="email")
    assert send(ch, render(msg, "email")) is True
    mail = smtp_sink.messages[0]
    plain = mail.get_body(("plain",)).get_content()
    lines = [line.strip() for line in plain.splitlines() if line.strip()]
    quotes = [line for line in lines if line.startswith(">")]
    assert quotes == ["> الجملة الأولى عن نشر القوات في روسيا.", "> الجملة الثانية عن القوات في روسيا.",
                      "> جملة ثالثة عن الاجتماع."]
    assert sum(title in line for line in lines) == 1  # the headline once, not again as a quote
    assert "قوات كورية شمالية لروسيا (في العنوان)" in lines
    html = mail.get_body(("html",)).get_content()
    assert "<mark>روسيا</mark>" in html.split("</h1>")[0]  # the headline carries its marks


def test_an_english_channel_gets_english_labels(smtp_sink) -> None:
    ch = Channel(name="mail", url=smtp_sink.url(), topics="all", format="email", language="en")
    assert send(ch, render(MSG, "email", ch.language)) is True
    mail = smtp_sink.messages[0]
    assert str(mail["subject"]).startswith("raqib: ")
    html = mail.get_body(("html",)).get_content()
    assert "Read the full article" in html and "اقرأ الخبر كاملاً" not in html
