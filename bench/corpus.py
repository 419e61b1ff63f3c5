"""A deterministic corpus of realistic Arabic news pages for the benchmarks (bench/run_all.py).

Rules:
- paragraphs come from the project's own texts: ``seeds/*.txt`` and ``tests/data/topics/*.txt``
  (lines of at least eight words); headlines are the files' headlines;
- one article in ten (``ON_TOPIC_SHARE``) samples the whole pool, which is mostly on the watch
  topics and fires them; the others sample only paragraphs that fire no topic on their own (as in a
  real feed, where most articles are about something else);
- article i takes 12-30 paragraphs sampled from its pool (so from several texts), shuffled,
  with about 8% of the words swapped for other words of the pool: every article has its own content
  hash and its own story fingerprint; ``random.Random(RNG_SEED)`` makes the corpus identical on
  every run;
- the page is ``flows.replay.replay_site.render_page`` (header, nav, breadcrumb, byline, share buttons,
  related headlines, footer) plus what real news pages carry around it: inline CSS and scripts,
  JSON-LD, a mega menu, "most read" / "latest" headline blocks and a link-heavy footer, so that a
  page weighs 60-90 KB; all of it is boilerplate that the extraction drops;
- feeds are RSS 2.0 from ``flows.replay.replay_site.render_feed``: ``n_feeds`` feeds, article i in feed
  ``i % n_feeds``, published ``now - i minutes`` (new, within ``max_age_hours``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from flows.replay.httpserve import Route
from flows.replay.replay_site import ReplayItem, article_path, headline_of, render_feed, render_page

ROOT = Path(__file__).resolve().parent.parent
RNG_SEED = 20250307
ON_TOPIC_SHARE = 0.1
SITE = "بوابة الأخبار العربية"

_SECTIONS = ["سياسة", "اقتصاد", "رياضة", "ثقافة", "تكنولوجيا", "صحة", "منوعات", "رأي", "فيديو", "صور",
             "محليات", "عربي ودولي", "حوادث", "تعليم", "سيارات", "عقارات", "فن", "مرأة", "أسواق", "طقس"]


def _texts() -> list[str]:
    files = sorted((ROOT / "seeds").glob("*.txt")) + sorted((ROOT / "tests" / "data" / "topics").glob("*.txt"))
    return [f.read_text(encoding="utf-8") for f in files]


def paragraph_pool() -> tuple[list[str], list[str]]:
    """(paragraphs of at least eight words, headlines) of the project's texts."""
    paras: list[str] = []
    heads: list[str] = []
    for text in _texts():
        head = headline_of(text)
        heads.append(head)
        for line in text.splitlines():
            line = line.strip()
            if len(line.split()) >= 8 and line != head and not line.startswith(("المصدر", "كلمات دلالية")):
                paras.append(line)
    return paras, heads


@dataclass(frozen=True)
class Article:
    stem: str
    title: str
    text: str
    feed: int


def articles(n: int, n_feeds: int, seed: int = RNG_SEED) -> list[Article]:
    from flows.match import Matcher

    rng = random.Random(seed)
    paras, heads = paragraph_pool()
    matcher = Matcher.from_config_dir(ROOT / "config")
    neutral = [p for p in paras if not matcher.match(p)]
    vocab = sorted({w for p in paras for w in p.split() if len(w) > 2})
    out = []
    for i in range(n):
        pool = paras if rng.random() < ON_TOPIC_SHARE else neutral
        chosen = rng.sample(pool, min(len(pool), rng.randint(12, 30)))
        body = []
        for p in chosen:
            words = p.split()
            for k in range(len(words)):
                if rng.random() < 0.08:
                    words[k] = rng.choice(vocab)
            body.append(" ".join(words))
        # a headline: a known one with a few words swapped, plus a serial to keep it unique
        hw = rng.choice(heads).split()
        for k in range(len(hw)):
            if rng.random() < 0.25:
                hw[k] = rng.choice(vocab)
        title = " ".join(hw) + f" ({i + 1})"
        out.append(Article(f"f{i % n_feeds:03d}-a{i:05d}", title, title + "\n\n" + "\n\n".join(body) + "\n",
                           i % n_feeds))
    return out


def _lorem_script(rng: random.Random, n_bytes: int) -> str:
    """Inline JavaScript of about n_bytes (ad tags, analytics, consent: what pages inline)."""
    parts = []
    size = 0
    k = 0
    while size < n_bytes:
        name = f"w{rng.randrange(1 << 30):x}"
        chunk = (f"  (function(){{var {name}=window.{name}||[];{name}.push({{'slot':'div-gpt-ad-{k}',"
                 f"'sizes':[[300,250],[728,90]],'targeting':{{'section':'news','pos':{k}}}}});"
                 f"if(document.readyState!=='loading'){{{name}.init&&{name}.init();}}"
                 f"else{{document.addEventListener('DOMContentLoaded',function(){{{name}.init&&{name}.init();}});}}}})();\n")
        parts.append(chunk)
        size += len(chunk)
        k += 1
    return "".join(parts)


def _css(rng: random.Random, n_bytes: int) -> str:
    parts = []
    size = 0
    while size < n_bytes:
        c = f".c{rng.randrange(1 << 20):x}{{margin:{rng.randrange(20)}px;padding:{rng.randrange(9)}px;color:#{rng.randrange(1 << 24):06x};font-family:'Noto Kufi Arabic',Tahoma,sans-serif}}\n"
        parts.append(c)
        size += len(c)
    return "".join(parts)


def _link_list(rng: random.Random, cls: str, title: str, heads: list[str], n: int) -> str:
    lis = "\n".join(
        f'        <li class="card"><a href="/news/{rng.randrange(10**7)}"><img src="/img/{rng.randrange(10**6)}.jpg" '
        f'alt="" loading="lazy"><span class="t">{h}</span></a><time>منذ {rng.randrange(1, 59)} دقيقة</time></li>'
        for h in rng.sample(heads, min(n, len(heads))))
    return f'  <aside class="{cls}">\n    <h3>{title}</h3>\n    <ul>\n{lis}\n    </ul>\n  </aside>\n'


def page(article: Article, heads: list[str], rng: random.Random, related: list[ReplayItem]) -> bytes:
    item = ReplayItem(stem=article.stem, title=article.title, text=article.text,
                      published=datetime.now(timezone.utc).replace(microsecond=0))
    html = render_page(item, SITE, related).decode("utf-8")
    head_extra = (
        f"  <style>\n{_css(rng, rng.randint(5000, 10000))}  </style>\n"
        f'  <script type="application/ld+json">{{"@context":"https://schema.org","@type":"NewsArticle",'
        f'"headline":"{article.title}","inLanguage":"ar"}}</script>\n'
        f"  <script>\n{_lorem_script(rng, rng.randint(10000, 20000))}  </script>\n"
    )
    menu = "\n".join(
        f'    <li class="menu-item"><a href="/section/{i}">{s}</a><ul class="sub">'
        + "".join(f'<li><a href="/section/{i}/{j}">{s} {j}</a></li>' for j in range(1, rng.randint(4, 9)))
        + "</ul></li>" for i, s in enumerate(_SECTIONS))
    top = f'  <nav class="mega-menu"><ul>\n{menu}\n  </ul></nav>\n  <div class="ticker"><marquee>' + \
        " · ".join(rng.sample(heads, 8)) + "</marquee></div>\n"
    side = (_link_list(rng, "most-read", "الأكثر قراءة", heads, rng.randint(8, 14))
            + _link_list(rng, "latest", "آخر الأخبار", heads, rng.randint(10, 20))
            + _link_list(rng, "video", "فيديو", heads, rng.randint(5, 9))
            + _link_list(rng, "section-more", "المزيد من الأقسام", heads, rng.randint(30, 50))
            + _link_list(rng, "opinion", "مقالات الرأي", heads, rng.randint(10, 20)))
    foot = '  <div class="footer-links">' + " ".join(
        f'<a href="/tag/{rng.randrange(10**5)}">{w}</a>' for w in rng.sample(heads, 20)) + "</div>\n" + \
        f"  <script>\n{_lorem_script(rng, rng.randint(4000, 9000))}  </script>\n"
    html = html.replace("</head>", head_extra + "</head>", 1)
    html = html.replace('  <nav class="breadcrumb"', top + '  <nav class="breadcrumb"', 1)
    html = html.replace("  </main>", "  </main>\n" + side, 1)
    html = html.replace("</body>", foot + "</body>", 1)
    return html.encode("utf-8")


def build(n: int, n_feeds: int, base_url: str, seed: int = RNG_SEED) -> tuple[dict[str, Route], list[Article],
                                                                                      dict[str, bytes]]:
    """(routes for StaticServer: /feeds/NNN.xml and the pages; the articles; page bytes by path)."""
    arts = articles(n, n_feeds, seed)
    _, heads = paragraph_pool()
    rng = random.Random(seed + 1)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    items = [ReplayItem(a.stem, a.title, a.text, now - timedelta(minutes=i)) for i, a in enumerate(arts)]
    routes: dict[str, Route] = {}
    pages: dict[str, bytes] = {}
    for i, (a, it) in enumerate(zip(arts, items)):
        related = [items[(i + k) % len(items)] for k in (1, 2, 3, 4)]
        body = page(a, heads, rng, related)
        pages[article_path(it)] = body
        routes[article_path(it)] = Route("text/html; charset=utf-8", body)
    for f in range(n_feeds):
        mine = [it for a, it in zip(arts, items) if a.feed == f]
        routes[feed_path(f)] = Route("application/rss+xml; charset=utf-8", render_feed(mine, base_url, SITE))
    return routes, arts, pages


def feed_path(f: int) -> str:
    return f"/feeds/{f:03d}.xml"


def sizes(pages: dict[str, bytes]) -> tuple[int, int, int]:
    v = sorted(len(b) for b in pages.values())
    return v[0], v[len(v) // 2], v[-1]

