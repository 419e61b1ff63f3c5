"""The archive page over HTTP (a real uvicorn server on loopback, a state filled by a real cycle):
alerts listed, search, signed feedback (forged and expired refused, nothing recorded), the missed
form through the address guard, untrusted text escaped, and no secret in any answer."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx
import pytest

from flows.alerts import feedback_links as fl
from flows.replay.httpserve import free_port
from flows.store.feedback import FeedbackLog
from flows.web.serve import start_archive_thread
from tests.archive_fixtures import MISSED_PATH, alerted, filled_copy, shared_site

FEEDBACK_KEY = "archive-test-key-7b1e0c5d9a2f4e68"
MAIL_PASSWORD = "Pa55-word-of-the-mailbox"


@pytest.fixture
def page(tmp_path: Path, config_dir: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(fl.KEY_ENV, FEEDBACK_KEY)
    site = shared_site()
    (config_dir / "alerts.yaml").write_text(
        f"channels:\n  - name: mail\n    url: 'mailto://analyst:{MAIL_PASSWORD}@127.0.0.1:1?from=raqib@example.org&to=desk@example.org'\n",
        encoding="utf-8")
    settings = config_dir / "settings.yaml"
    settings.write_text(settings.read_text(encoding="utf-8")
                        + f"\nallow_hosts: ['{site.base_url.split('//', 1)[1]}']\n"
                        + "feedback:\n  base_url: https://raqib.example.org\n", encoding="utf-8")
    store = filled_copy(tmp_path / "state", config_dir)
    port = free_port()
    server = start_archive_thread(config_dir, tmp_path / "state", port=port)
    bodies: list[str] = []

    class Page:
        base = f"http://127.0.0.1:{port}"
        log = FeedbackLog(store)
        fired = alerted(store)
        missed_url = site.base_url + MISSED_PATH

        def get(self, path: str, **kw) -> httpx.Response:
            r = httpx.get(self.base + path, **kw)
            bodies.append(r.text + str(r.headers))
            return r

        def post(self, path: str, data: dict[str, str], **kw) -> httpx.Response:
            r = httpx.post(self.base + path, data=data, **kw)
            bodies.append(r.text + str(r.headers))
            return r

    yield Page()
    server.should_exit = True
    # No answer (body or header) of the whole test carried a secret.
    for body in bodies:
        assert FEEDBACK_KEY not in body and MAIL_PASSWORD not in body
    store.close()


def test_alerts_listed_by_day_and_topic_with_outlets_and_headers(page) -> None:
    r = page.get("/")
    assert r.status_code == 200
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert r.headers["referrer-policy"] == "same-origin"
    cards = re.findall(r'<article class="card alert" id="a-(\d+)-([a-z_]+)"', r.text)
    assert {(int(i), t) for i, t in cards} == {(i, t) for (_, t), i in page.fired.items()}
    assert len(cards) == 7 and '<html lang="ar" dir="rtl">' in r.text
    assert r.text.count("<mark>") >= 7 and "رقيب نيوز" in r.text  # evidence marked, outlets named
    assert '<rect ' in r.text and 'data-count="3"' in r.text  # the chart: 3 extended_deterrence alerts today
    assert "<script" not in r.text


def test_search_by_word_and_topic(page) -> None:
    # The Farsi yeh spelling of seed 002 is found by the ordinary spelling, after normalization.
    r = page.get("/", params={"q": "الولايات المتحدة الصارم"})
    found = set(re.findall(r'id="a-\d+-([a-z_]+)"', r.text))
    assert found == {"extended_deterrence"}
    r = page.get("/", params={"topic": "two_plus_two"})
    assert set(re.findall(r'id="a-\d+-([a-z_]+)"', r.text)) == {"two_plus_two"}
    # A word of the article body only (not in a headline or evidence) finds its alerts too.
    r = page.get("/", params={"q": "بالاستثمارات"})
    assert set(re.findall(r'id="a-\d+-([a-z_]+)"', r.text)) == {"two_plus_two", "nk_russia_troops"}
    r = page.get("/", params={"q": "كلمةلاتوجد"})
    assert 'class="card alert"' not in r.text


def _signed(item: int, topic: str, verdict: str, life: float = 3600, now: float | None = None) -> dict[str, str]:
    return fl.sign_params(FEEDBACK_KEY.encode(), item, [topic], verdict, life, now=now)


def test_link_from_an_alert_confirms_then_records_once(page) -> None:
    item = page.fired[("000_9873b17401ff2de5", "nk_russia_troops")]
    params = _signed(item, "nk_russia_troops", "relevant")
    confirm = page.get("/feedback", params=params)
    assert confirm.status_code == 200 and 'id="confirm"' in confirm.text
    assert page.log.judgments() == []  # following a link (a mail scanner does) records nothing
    for _ in range(2):
        done = page.post("/feedback", {**params, "src": "link"})
        assert done.status_code == 200
    rows = page.log.judgments()
    assert [(j.item_id, j.topic, j.verdict, j.source) for j in rows] == [(item, "nk_russia_troops", "relevant", "link")]
    assert "100٪ (1/1)" in page.get("/").text


def test_forged_expired_and_cross_site_are_refused_and_record_nothing(page) -> None:
    item = page.fired[("002_536e0786f38f2d02", "extended_deterrence")]
    good = _signed(item, "extended_deterrence", "not-relevant")
    forged = [
        {**good, "v": "relevant"},  # the verdict changed under the signature
        {**good, "i": str(item + 1)},
        {**good, "s": good["s"][:-2] + ("AA" if good["s"][-2:] != "AA" else "BB")},
        fl.sign_params(b"another-key-of-32-bytes-length!!", item, ["extended_deterrence"], "relevant", 3600),
        _signed(item, "extended_deterrence", "relevant", life=60, now=time.time() - 3600),  # expired
        {k: v for k, v in good.items() if k != "s"},
    ]
    for params in forged:
        assert page.get("/feedback", params=params).status_code == 403
        r = page.post("/feedback", {**params, "src": "page"})
        assert r.status_code == 403, params
    r = page.post("/feedback", {**good, "src": "page"}, headers={"Origin": "http://evil.example.org"})
    assert r.status_code == 403
    r = page.post("/feedback", {**good, "src": "page"}, headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403
    assert page.log.judgments() == []
    ok = page.post("/feedback", {**good, "src": "page"})
    assert ok.status_code == 303 and ok.headers["location"] == f"./#a-{item}-extended_deterrence"
    assert [j.verdict for j in page.log.judgments()] == ["not-relevant"]


def test_missed_form_fetches_through_the_guard(page) -> None:
    html = page.get("/").text
    fields = dict(re.findall(r'<input type="hidden" name="([eistv])" value="([^"]*)">',
                             html.split('id="missed"', 1)[1]))
    assert fields["v"] == "missed" and fields["i"] == "0"
    r = page.post("/missed", {**fields, "url": page.missed_url, "topic": "nk_russia_troops"})
    assert r.status_code == 200, r.text
    rows = page.log.judgments()
    assert [(j.url, j.topic, j.verdict, j.source) for j in rows] == [(page.missed_url, "nk_russia_troops", "missed", "page")]
    # Not allowed by the guard: the cloud metadata address. Refused with the reason, nothing recorded.
    r = page.post("/missed", {**fields, "url": "http://169.254.169.254/latest/meta-data/", "topic": "nk_russia_troops"})
    assert r.status_code == 400 and "address guard" in r.text
    forged = page.post("/missed", {**fields, "s": "x" * 43, "url": page.missed_url, "topic": "two_plus_two"})
    assert forged.status_code == 403
    assert len(page.log.judgments()) == 1


def test_untrusted_titles_links_and_evidence_are_inert(page) -> None:
    store = page.log.store
    feed = store.sync_feeds([("evil", "https://evil.example.org/rss", "Evil <b>feed</b>")])[0]
    store.add_items(feed.id, [{"key": "x1", "link": "javascript:alert(1)",
                               "title": "<script>alert(1)</script> \u202eتقرير\nسطر"}])
    item = next(i for i in store.pending_items() if i.feed_id == feed.id)
    evidence = [{"sentence": 'قوات <img src=x onerror="alert(2)"> روسيا', "phrases": ["روسيا"]}]
    store.finish_item(item.id, state="done", content_hash="h-evil", text_="t", sitename="<i>site</i>",
                      topics=["nk_russia_troops"], alerts_=[("nk_russia_troops", "n", 1.0, evidence)], deliveries=[])
    html = page.get("/").text
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html and "&lt;img src=x" in html
    assert 'href="javascript:' not in html
    assert "<i>site</i>" not in html and "&lt;i&gt;site&lt;/i&gt;" in html
    assert "<b>feed</b>" not in html
    # One line, no bidi override: a title cannot reorder what it shows or forge a line.
    assert "\u202e" not in html and "تقرير سطر" in html


def test_links_in_the_page_carry_no_secret(page) -> None:
    html = page.get("/").text
    for value in re.findall(r'(?:href|value|action)="([^"]*)"', html):
        assert FEEDBACK_KEY not in value and MAIL_PASSWORD not in value
    links = fl.alert_links(__import__("flows.config", fromlist=["FeedbackSettings"]).FeedbackSettings(
        base_url="https://raqib.example.org"), 1, ["two_plus_two"])
    assert links and all(FEEDBACK_KEY not in u and MAIL_PASSWORD not in u for u in links.values())
    assert json.dumps(links).count("https://raqib.example.org/feedback?") == 2


def test_raqib_archive_serves_the_page_alone_and_refuses_a_bad_config(tmp_path: Path, config_dir: Path) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "RAQIB_"))}
    root = Path(__file__).resolve().parent.parent
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "archive", "--config", str(config_dir),
                             "--state", str(tmp_path / "state"), "--port", str(port)],
                            cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.3)
        assert r.status_code == 200 and "لا تنبيهات" in r.text
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    (config_dir / "settings.yaml").write_text("feedback:\n  base_url: ftp://x\n", encoding="utf-8")
    bad = subprocess.run([sys.executable, "-m", "flows.cli", "archive", "--config", str(config_dir),
                          "--state", str(tmp_path / "state"), "--port", str(port)],
                         cwd=root, env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "settings.yaml" in bad.stderr and "feedback.base_url" in bad.stderr
