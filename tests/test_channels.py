"""Real deliveries through flows.alerts.notify.send: MQTT broker, Mattermost webhook, SMTP (all loopback).

The MQTT test needs a broker: it runs when RAQIB_TEST_MQTT_HOST names one (port 1883).
"""

from __future__ import annotations

import json
import os
import threading
import uuid

import pytest

from flows.config import Channel
from flows.alerts.notify import AlertMessage, TopicEvidence, render, send

# A realistic alert built from a sentence of seed 001.
SENTENCE = ("وقالت وزارة الخارجية في سيئول اليوم الجمعة إن الوزيرين أعربا عن القلق إزاء تعميق التعاون "
            "العسكري بين روسيا وكوريا الشمالية، بما في ذلك نشر كوريا الشمالية لقواتها في روسيا.")
PHRASES = ["نشر كوريا الشمالية لقواتها", "روسيا"]
MSG = AlertMessage(
    title="وزيرا الخارجية الكوري الجنوبي والأمريكي يناقشان نشر القوات الكورية الشمالية في روسيا",
    url="http://127.0.0.1:8000/articles/001.html?id=1&src=feed",
    outlets=["وكالة يونهاب"],
    published="2024-11-01 04:01 UTC",
    topics=[TopicEvidence("nk_russia_troops", "قوات كورية شمالية في روسيا",
                          [{"sentence": SENTENCE, "phrases": PHRASES}])],
)

MQTT_HOST = os.environ.get("RAQIB_TEST_MQTT_HOST", "").strip()


@pytest.mark.mqtt
@pytest.mark.skipif(not MQTT_HOST, reason="set RAQIB_TEST_MQTT_HOST to a Mosquitto broker (port 1883) to run")
def test_mqtt_message_arrives_intact() -> None:
    import paho.mqtt.client as mqtt

    topic = f"raqib/test-{uuid.uuid4().hex}"
    subscribed, got = threading.Event(), threading.Event()
    received: list[bytes] = []

    def on_connect(client, userdata, flags, reason_code, properties) -> None:
        client.subscribe(topic, qos=1)

    def on_subscribe(client, userdata, mid, reason_codes, properties) -> None:
        subscribed.set()

    def on_message(client, userdata, message) -> None:
        received.append(message.payload)
        got.set()

    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"raqib-test-{uuid.uuid4().hex[:8]}")
    sub.on_connect, sub.on_subscribe, sub.on_message = on_connect, on_subscribe, on_message
    sub.connect(MQTT_HOST, 1883, keepalive=30)
    sub.loop_start()
    try:
        assert subscribed.wait(10), "no SUBACK from the broker"
        ch = Channel(name="mqtt", url=f"mqtt://{MQTT_HOST}:1883/{topic}", topics="all", format="text")
        assert send(ch, render(MSG, "text")) is True
        assert got.wait(10), "the message never arrived on the topic"
    finally:
        sub.loop_stop()
        sub.disconnect()
    assert len(received) == 1
    payload = received[0].decode("utf-8")  # raises if the Arabic bytes were mangled
    assert MSG.title in payload
    assert SENTENCE in payload
    assert MSG.url in payload


def test_mattermost_webhook_gets_markdown_with_linked_headline(webhook) -> None:
    token = "raqibtesttoken0123456789ab"
    ch = Channel(name="desk-chat", url=f"mmost://127.0.0.1:{webhook.port}/{token}", topics="all", format="chat")
    assert send(ch, render(MSG, "chat")) is True
    assert len(webhook.posts) == 1
    path, body = webhook.posts[0]
    assert path == f"/hooks/{token}"  # apprise's webhook mode: plain http to /hooks/<token>
    text = json.loads(body)["text"]
    assert f"[{MSG.title}]({MSG.url})" in text
    assert "قوات كورية شمالية في روسيا" in text
    assert SENTENCE in text and "وكالة يونهاب" in text


def test_mattermost_down_is_a_failure_not_an_exception() -> None:
    from flows.replay.httpserve import free_port

    ch = Channel(name="desk-chat", url=f"mmost://127.0.0.1:{free_port()}/tok", topics="all", format="chat")
    assert send(ch, render(MSG, "chat")) is False


def test_email_is_rtl_html_with_plain_alternative(smtp_sink) -> None:
    ch = Channel(name="analysts-mail", url=smtp_sink.url(), topics="all", format="email")
    assert send(ch, render(MSG, "email")) is True
    assert len(smtp_sink.messages) == 1
    m = smtp_sink.messages[0]
    assert m.get_content_type() == "multipart/alternative"
    kinds = [p.get_content_type() for p in m.iter_parts()]
    assert "text/plain" in kinds and "text/html" in kinds

    subject = str(m["subject"])
    assert MSG.title in subject and "قوات كورية شمالية في روسيا" in subject

    html = m.get_body(("html",)).get_content()
    assert 'dir="rtl"' in html
    # The headline is a link to the article (the URL's & escaped in the attribute).
    href = MSG.url.replace("&", "&amp;")
    assert f'<a href="{href}"' in html
    assert f">{MSG.title}</a>" in html
    assert "<mark>نشر كوريا الشمالية لقواتها</mark> في <mark>روسيا</mark>" in html
    assert "بين <mark>روسيا</mark> وكوريا" in html  # every occurrence, not only the first

    plain = m.get_body(("plain",)).get_content()
    assert MSG.title in plain and "<mark>" not in plain


def test_overlapping_phrases_are_marked_once() -> None:
    msg = AlertMessage(MSG.title, MSG.url, MSG.outlets, MSG.published,
                       [TopicEvidence("t", "t", [{"sentence": SENTENCE,
                                                  "phrases": ["نشر كوريا الشمالية لقواتها في روسيا", "روسيا"]}])])
    html = render(msg, "email").body
    assert "<mark>نشر كوريا الشمالية لقواتها في روسيا</mark>." in html
    assert "<mark><mark>" not in html and "</mark></mark>" not in html


def test_email_plain_part_carries_the_article_url(smtp_sink) -> None:
    ch = Channel(name="analysts-mail", url=smtp_sink.url(), topics="all", format="email")
    assert send(ch, render(MSG, "email")) is True
    plain = smtp_sink.messages[0].get_body(("plain",)).get_content()
    assert MSG.url in plain
