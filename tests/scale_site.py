"""Many small Arabic news sites on one loopback server, for the scale tests and the bench.

Rules:
- site i lives under ``/s{i}/``: ``/s{i}/feed.xml`` (RSS 2.0 by `flows.replay.replay_site`) and one page
  per item; every text is different (random words from a vocabulary of its own: a few neutral words
  and made-up ones, and figures of its own), so no item is a duplicate or the same story as another — a shared vocabulary
  would make every text look like a rewrite of the others to the story decision;
- every ``match_every``-th item carries one sentence that fires a topic (`TRIGGERS`), so the
  alerts expected are known: ``Site.expected`` maps each item's headline to its topic or None;
- ``delay`` seconds are spent before each answer, so concurrent workers really overlap.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler

from flows.replay.httpserve import Handler, Route
from flows.replay.replay_site import REPLAY_EPOCH, ReplayItem, article_path, render_feed, render_page

TRIGGERS = {
    "nk_russia_troops": "كوريا الشمالية أرسلت آلاف الجنود إلى روسيا للقتال إلى جانب قواتها في أوكرانيا، "
                        "حسبما أفاد مسؤولون أمريكيون.",
    "extended_deterrence": "وأكد وزير الدفاع الأمريكي التزام الولايات المتحدة الصارم بالردع الموسع لكوريا الجنوبية.",
}

WORDS = ("الطقس المطر الرياح الحرارة الزراعة القمح الموسم السوق الأسعار التجارة الميناء السفن الطريق الجسر "
         "المدينة القرية الحديقة المكتبة المدرسة الجامعة الطلاب المعلم الكتاب المعرض الفنان اللوحة المسرح "
         "الموسيقى الفريق المباراة الملعب الجمهور البطولة الكأس المدرب اللاعب الهدف الشوط النادي الصيف الشتاء "
         "الربيع الخريف البحر النهر الجبل الوادي الصحراء النخيل الزيتون البرتقال الخبز الحليب المطعم السياحة "
         "الفندق الرحلة القطار الحافلة المطار المسافرون الكهرباء الماء الطاقة الشمس المصنع العمال الإنتاج "
         "التصدير الاستيراد المزارع الحصاد الري السد البلدية المهرجان التراث المتحف الحرف الأسواق الشارع "
         "أعلن قال أضاف أوضح أكد أشار توقع افتتح شارك استقبل نظم أطلق بدأ انتهى ارتفع انخفض استمر تحسن "
         "اليوم أمس غدا صباحا مساء خلال بعد قبل مع في على من إلى عن حول نحو لدى بين جديد كبير صغير واسع "
         "المحلي الوطني السنوي الأول الثاني الأخير الجديدة الكبرى").split()


@dataclass
class Site:
    routes: dict[str, Route | Handler] = field(default_factory=dict)
    feed_urls: list[str] = field(default_factory=list)
    expected: dict[str, str | None] = field(default_factory=dict)  # headline -> topic or None


LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"


def _vocabulary(rng: random.Random) -> list[str]:
    """An item's own words: 12 neutral ones and 30 made up of 4-6 random letters."""
    made_up = ["".join(rng.choice(LETTERS) for _ in range(rng.randint(4, 6))) for _ in range(30)]
    return rng.sample(WORDS, 12) + made_up


def _paragraph(rng: random.Random, n: int, vocabulary: list[str]) -> str:
    return " ".join(rng.choice(vocabulary) for _ in range(n)) + "."


def _text(rng: random.Random, headline: str, trigger: str | None) -> str:
    vocabulary = _vocabulary(rng)
    paras = [_paragraph(rng, rng.randint(22, 30), vocabulary) for _ in range(4)]
    # Figures of its own, as real reports' names and figures are: a story rule may lean on them.
    paras.append(f"وبلغ عدد الزوار {rng.randint(1000, 99999)} والتذاكر {rng.randint(1000, 99999)}.")
    if trigger:
        paras.insert(1, trigger)
    return "\n\n".join([headline, *paras]) + "\n"


def delayed(route: Route, seconds: float) -> Handler:
    def answer(h: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        h.send_response(route.status)
        h.send_header("Content-Type", route.content_type)
        h.send_header("Content-Length", str(len(route.body)))
        h.end_headers()
        h.wfile.write(route.body)

    return answer


def build_sites(base_url: str, n_sites: int, items_per_site: int, *, match_every: int = 3, delay: float = 0.0,
                seed: int = 7, first: int = 0) -> Site:
    """Routes for ``n_sites`` sites of ``items_per_site`` items each, under ``base_url``."""
    rng = random.Random(seed)
    out = Site()
    topics = list(TRIGGERS)
    n = 0
    for i in range(first, first + n_sites):
        items: list[ReplayItem] = []
        for j in range(items_per_site):
            topic = topics[n // match_every % len(topics)] if n % match_every == 0 else None
            headline = f"نشرة الموقع {i} رقم {j}: " + " ".join(rng.choice(WORDS) for _ in range(4))
            text = _text(rng, headline, TRIGGERS[topic] if topic else None)
            items.append(ReplayItem(stem=f"a{i}_{j}", title=headline, text=text,
                                    published=REPLAY_EPOCH - timedelta(hours=j)))
            out.expected[headline] = topic
            n += 1
        site_base = f"{base_url}/s{i}"
        feed = Route("application/rss+xml; charset=utf-8", render_feed(items, site_base, f"موقع {i}"))
        out.routes[f"/s{i}/feed.xml"] = delayed(feed, delay) if delay else feed
        for item in items:
            page = Route("text/html; charset=utf-8", render_page(item, f"موقع {i}", []))
            out.routes[f"/s{i}{article_path(item)}"] = delayed(page, delay) if delay else page
        out.feed_urls.append(f"{site_base}/feed.xml")
    return out
