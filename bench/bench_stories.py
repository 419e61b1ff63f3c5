"""Benchmark of flows.alerts.stories: the written set of rewrites, pairs built from the seeds, cost.

Figures: on ``tests/data/stories`` (texts written for raqib) the same-report pairs recognised, the
different reports of one event merged (and marked as updates), the pairs of different events
merged; on pairs built from the seeds precision and recall; the fingerprint's cost per article; the
lookup's cost with 1,000, 10,000 and 100,000 items in the story window.

Rules:
- positives, for each seed: a syndicated copy (new headline, dateline, another outlet's footer and
  related-headlines block), a trimmed rewrite keeping about 65% of the paragraphs, and a lightly
  edited copy (about 6% of the words substituted, paragraphs reordered, tashkeel and tatweel added);
- negatives: every pair of different seeds (000 vs 001 is the same event, two reports), every
  pair of syndicated copies of different seeds (same outlet footer on both), and each seed against
  a different report on the same event written for this bench (``OTHER_REPORTS``);
- variants are built programmatically from the seeds with a fixed random seed; every extra text
  here (headlines, footers, the other reports) was written for this project.

Run: ``python bench/bench_stories.py`` from the repository root.
"""

from __future__ import annotations

import csv
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flows.alerts.stories import SAME_EVENT, SAME_REPORT, SAME_REPORT_AT, Fingerprint, compare, fingerprint  # noqa: E402
from flows.alerts.story_index import StoryIndex  # noqa: E402

SEEDS = ROOT / "seeds"
RNG_SEED = 20241101

# Headlines, footers and reports below were written for this bench.
NEW_HEADLINES = {
    "000": "واشنطن وسول تعقدان جولة جديدة من محادثات وزراء الخارجية والدفاع الأسبوع المقبل",
    "001": "قلق أمريكي كوري جنوبي من انتشار جنود بيونغ يانغ على الأراضي الروسية",
    "002": "أوستن ونظيره الكوري الجنوبي يبحثان هاتفياً أولويات الأمن في شبه الجزيرة",
    "003": "بلينكن يلتقي مسؤولاً أمنياً كورياً جنوبياً ويحذر من دعم بيونغ يانغ لموسكو",
    "004": "بايدن ومون يعلنان تحالفاً أقوى في أول لقاء بينهما بالبيت الأبيض",
}
DATELINE = "واشنطن - (وكالة الأنباء العربية الموحدة) - "
OTHER_FOOTER = """المصدر: وكالة الأنباء العربية الموحدة

كلمات دلالية: الولايات المتحدة كوريا الجنوبية تحالف دفاع

مقالات ذات صلة

  • ارتفاع أسعار الذهب في الأسواق المحلية مع بداية تعاملات الأسبوع
  • منتخب الشباب يبدأ معسكره التدريبي استعداداً للبطولة القارية
  • الأرصاد تتوقع طقساً معتدلاً نهاراً وبارداً ليلاً على معظم المناطق

الأكثر قراءة

  • افتتاح معرض الكتاب بمشاركة أكثر من ثلاثمئة دار نشر
  • البنك المركزي يبقي على أسعار الفائدة دون تغيير"""

OTHER_REPORTS = {
    "000": """وفد كوري جنوبي يتوجه إلى واشنطن قبل محادثات الوزراء

قال مسؤول في وزارة الدفاع في سول إن الوزير سيغادر مساء الثلاثاء على رأس وفد عسكري رفيع، وإن جدول الزيارة يتضمن لقاءات منفصلة مع قادة في البنتاغون قبل الجلسة المشتركة.

وأوضح المسؤول، الذي طلب عدم نشر اسمه، أن الجانب الكوري سيطرح ملف تبادل المعلومات عن تحركات الجيش الشمالي، وأن خبراء من الطرفين أعدوا مسودة البيان الختامي خلال الأيام الماضية.

ويرى محللون في سول أن توقيت اللقاء قبل أيام من الانتخابات الأمريكية يمنحه أهمية خاصة، إذ يسعى البلدان إلى تثبيت ما اتفقا عليه في السنوات الأخيرة أياً كانت الإدارة المقبلة.

وتشير تقديرات أجهزة الاستخبارات إلى أن بيونغ يانغ نقلت عدة آلاف من عناصرها إلى أقصى الشرق الروسي للتدريب، وهو ما سيكون على رأس جدول الأعمال.""",
    "001": """البنتاغون: الجنود الكوريون الشماليون في روسيا أهداف مشروعة إذا دخلوا القتال

أعلن وزير الدفاع الأمريكي في ختام لقائه نظيره الكوري الجنوبي أن واشنطن تتابع بدقة تحرك وحدات من الجيش الكوري الشمالي نحو مناطق القتال، محذراً من أن مشاركتها في الحرب ستكون لها عواقب.

وقال الوزير الكوري الجنوبي في المؤتمر الصحفي إن بلاده قد تعيد النظر في سياستها بشأن تزويد كييف بالسلاح إذا تأكد انخراط هذه القوات في المعارك، مضيفاً أن سول لن تقف مكتوفة الأيدي.

وتناول الوزيران أيضاً ترتيبات المناورات المشتركة للعام المقبل وتقاسم تكاليف بقاء القوات الأمريكية في شبه الجزيرة، دون أن يعلنا تفاصيل جديدة.

ومن المنتظر أن يصدر بيان مشترك مفصل خلال الساعات المقبلة يتضمن التزامات الطرفين في مجال الردع.""",
    "002": """سول: الوزير شين بحث مع أوستن هاتفياً خطط التدريبات المشتركة

ذكرت وزارة الدفاع الكورية الجنوبية في بيان صباح الخميس أن الوزير شين وونسيك أجرى اتصالاً هاتفياً استمر نحو نصف ساعة مع نظيره الأمريكي، تناول خلاله جدول التدريبات المقبلة.

وأضاف البيان أن الوزير شين أطلع الجانب الأمريكي على تقييم بلاده لإطلاق الصواريخ الأخير من الشمال، وأن الطرفين اتفقا على تعزيز تبادل بيانات الإنذار المبكر في الوقت الفعلي.

كما ناقش الوزيران الاجتماع المقبل لمجموعة التشاور النووي، ودعا شين نظيره إلى زيارة سول في أقرب فرصة.

وقالت الوزارة إن المكالمة جرت في أجواء ودية وإن الجانبين عبرا عن الرضا عن مستوى التنسيق القائم.""",
    "003": """مستشار الأمن القومي الكوري الجنوبي يختتم زيارته إلى واشنطن

اختتم مستشار الأمن القومي لكوريا الجنوبية زيارة إلى العاصمة الأمريكية استمرت ثلاثة أيام، التقى خلالها مسؤولين في البيت الأبيض ووزارة الخارجية وأعضاء في الكونغرس.

وقال المستشار للصحفيين قبيل مغادرته إن المحادثات ركزت على نقل الأسلحة من بيونغ يانغ إلى موسكو، وعلى ضرورة منع أي تعاون تقني قد يساعد الشمال على تطوير صواريخه.

وأشار إلى أن الجانبين تطرقا كذلك إلى الأوضاع في غزة ولبنان وإلى أمن الملاحة في البحر الأحمر، مؤكداً أن سول مستعدة للمساهمة في الجهود الإنسانية.

وأضاف أن الحوار الدفاعي الذي عقد في سول الشهر الماضي مهد لهذه الزيارة ووضع أسس خطة عمل مشتركة للعام المقبل.""",
    "004": """قمة بايدن ومون تنتهي بإلغاء القيود على مدى الصواريخ الكورية الجنوبية

أعلن الرئيسان الأمريكي والكوري الجنوبي في مؤتمر صحفي مشترك إنهاء الإرشادات التي كانت تحد من مدى الصواريخ التي تطورها سول منذ عقود، في خطوة وصفها مسؤولون بأنها تاريخية.

وكشف البيت الأبيض أن الجانبين اتفقا على شراكة لإنتاج اللقاحات، على أن تزود الولايات المتحدة الجيش الكوري الجنوبي بجرعات تكفي لأكثر من نصف مليون جندي.

وعين الرئيس الأمريكي مبعوثاً خاصاً للملف الكوري الشمالي، وقال إنه مستعد للقاء زعيم الشمال إذا توافرت شروط معينة، بينما رحب مون بهذا الموقف.

وتعهدت شركات كورية جنوبية كبرى باستثمارات تتجاوز ثلاثين مليار دولار في مصانع للبطاريات والرقائق داخل الولايات المتحدة.""",
}

# Lightly edited copies: word substitutions an editor might make (written for this bench).
SUBSTITUTES = ["كذلك", "أيضاً", "الأمريكية", "الجانبين", "خلال", "حيث", "وفق", "نحو", "عدة", "جديدة",
               "المسؤولين", "الرسمية", "الحالي", "الماضي", "البارز"]
_HARAKAT = ["\u064e", "\u064f", "\u0650", "\u0652"]  # fatha, damma, kasra, sukun
_CUT_RE = re.compile(r"^\s*(المصدر|كلمات دلالية|إقرأ أيضاً|مقالات مشابهة|مقالات ذات صلة|\(انتهى\))")


def seed_texts() -> dict[str, str]:
    return {p.name[:3]: p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))}


def split_seed(text: str) -> tuple[str, list[str]]:
    """(title, body paragraphs) of a seed, cut before its outlet footer; independent of flows.alerts.stories."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if len(lines[0].split()) <= 2:  # breadcrumb
        lines = lines[1:]
    title, rest = lines[0], lines[1:]
    body: list[str] = []
    for ln in rest:
        if _CUT_RE.match(ln):
            break
        body.append(ln)
    return title, body


def syndicated(key: str, text: str) -> str:
    _, body = split_seed(text)
    return "\n\n".join([NEW_HEADLINES[key], DATELINE + body[0], *body[1:], OTHER_FOOTER])


def trimmed(text: str, rng: random.Random, keep: float = 0.65) -> str:
    title, body = split_seed(text)
    n = max(2, round(len(body) * keep))
    kept = sorted([0, *rng.sample(range(1, len(body)), n - 1)])  # the lede stays
    return "\n\n".join([title, *(body[i] for i in kept)])


def _diacritize(word: str, rng: random.Random) -> str:
    out = []
    for ch in word:
        out.append(ch)
        if "\u0621" <= ch <= "\u064a" and rng.random() < 0.35:
            out.append(rng.choice(_HARAKAT))
    if len(word) > 4 and rng.random() < 0.05:
        out.insert(2, "\u0640")  # tatweel
    return "".join(out)


def edited(text: str, rng: random.Random, rate: float = 0.06) -> str:
    title, body = split_seed(text)
    paras = []
    for p in body:
        words = p.split()
        for i in range(len(words)):
            if rng.random() < rate:
                words[i] = rng.choice(SUBSTITUTES)
        paras.append(" ".join(_diacritize(w, rng) if rng.random() < 0.3 else w for w in words))
    rest = paras[1:]
    rng.shuffle(rest)
    return "\n\n".join([title, paras[0], *rest])


@dataclass(frozen=True)
class Pair:
    kind: str
    a_name: str
    b_name: str
    a: str
    b: str
    same: bool


def build_pairs() -> list[Pair]:
    rng = random.Random(RNG_SEED)
    seeds = seed_texts()
    pairs: list[Pair] = []
    for k, t in seeds.items():
        pairs.append(Pair("syndicated", k, f"{k}/syndicated", t, syndicated(k, t), True))
        pairs.append(Pair("trimmed", k, f"{k}/trimmed", t, trimmed(t, rng), True))
        pairs.append(Pair("edited", k, f"{k}/edited", t, edited(t, rng), True))
    keys = sorted(seeds)
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            pairs.append(Pair("seed-vs-seed", a, b, seeds[a], seeds[b], False))
            pairs.append(Pair("syndicated-vs-syndicated", f"{a}/syndicated", f"{b}/syndicated",
                              syndicated(a, seeds[a]), syndicated(b, seeds[b]), False))
    for k, t in seeds.items():
        pairs.append(Pair("same-event-other-report", k, f"{k}/other", t, OTHER_REPORTS[k], False))
    return pairs


SET = ROOT / "tests" / "data" / "stories"


def eval_set() -> tuple[dict[str, str], list[dict[str, str]]]:
    """The written evaluation set: texts by id, and every pair with its relation."""
    docs = {p.stem: p.read_text(encoding="utf-8") for p in sorted((SET / "docs").glob("*.txt"))}
    with open(SET / "pairs.csv", encoding="utf-8") as f:
        return docs, list(csv.DictReader(f))


def set_figures(docs: dict[str, str], pairs: list[dict[str, str]]) -> dict[str, object]:
    """Recall, merges and updates on the set (the targets of tests/test_stories.py)."""
    fps = {k: fingerprint(v) for k, v in docs.items()}
    out: dict[str, object] = {}
    for rel in ("same_report", "same_event", "different_event"):
        got = [compare(fps[r["a"]], fps[r["b"]]) for r in pairs if r["relation"] == rel]
        out[rel] = (len(got), sum(v.relation == SAME_REPORT for v in got), sum(v.relation == SAME_EVENT for v in got))
    return out


def _window(fps: list[Fingerprint], size: int, rng: random.Random) -> StoryIndex:
    """A window of ``size`` synthetic items, each of about as many stems as a real article, drawn
    from a Zipf-like vocabulary of 300,000 stems (rank r with probability ~1/r). Its head is the
    real stems found in 3 or more of ``fps`` (common words, by document frequency); the other
    real stems (names, places, the rarer words) sit at random ranks, like any other word; the
    real fingerprints are in the window once each (the lookups' true matches)."""
    df: dict[int, int] = {}
    for fp in fps:
        for t in fp.terms:
            df[t] = df.get(t, 0) + 1
    head = sorted((t for t in df if df[t] >= 3), key=lambda t: -df[t])
    vocab = list(head)
    seen = set(df)
    while len(vocab) < 300_000 - (len(df) - len(head)):
        t = rng.getrandbits(32)
        if t not in seen:
            seen.add(t)
            vocab.append(t)
    for t in df:
        if df[t] < 3:
            vocab.insert(rng.randrange(len(head), len(vocab)), t)
    index = StoryIndex()
    for i, fp in enumerate(fps):
        index.add(i, i, fp)
    lengths = [len(fp.terms) for fp in fps]
    for i in range(size - len(fps)):
        want = lengths[i % len(lengths)]
        terms = {vocab[int(len(vocab) ** rng.random()) - 1] for _ in range(want)}
        index.add(10_000_000 + i, 10_000_000 + i, Fingerprint(tuple(sorted(terms)), (), (), ()))
    return index


def lookup_cost(fps: list[Fingerprint], queries: list[tuple[Fingerprint, int]]) -> list[tuple[int, float, float, int]]:
    """(window size, CPU ms per lookup, rows compared per lookup, queries that found their original)
    at 1k, 10k and 100k items; ``queries`` are (rewrite, row of its original in ``fps``)."""
    rows = []
    for size in (1_000, 10_000, 100_000):
        index = _window(fps, size, random.Random(RNG_SEED))
        compared = sum(len(index.candidates(q)) for q, _ in queries) / len(queries)
        found = 0
        for q, want in queries:
            got = index.match(q)
            found += got is not None and got.relation == SAME_REPORT and got.item_id == want
        t0 = time.process_time()
        reps = 3
        for _ in range(reps):
            for q, _ in queries:
                index.match(q)
        ms = (time.process_time() - t0) / (reps * len(queries)) * 1000
        rows.append((size, ms, compared, found))
    return rows


def main() -> None:
    pairs = build_pairs()
    rows = []
    for p in pairs:
        v = compare(fingerprint(p.a), fingerprint(p.b))
        rows.append((p, v.similarity, v.relation == SAME_REPORT))
    print(f"{'kind':<26} {'a':<16} {'b':<22} {'expect':<6} {'sim':>6}  verdict")
    for p, s, v in rows:
        mark = "ok" if v == p.same else "WRONG"
        print(f"{p.kind:<26} {p.a_name:<16} {p.b_name:<22} {'same' if p.same else 'diff':<6} {s:6.3f}  {mark}")
    tp = sum(1 for p, _, v in rows if p.same and v)
    fp = sum(1 for p, _, v in rows if not p.same and v)
    fn = sum(1 for p, _, v in rows if p.same and not v)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    print()
    print(f"seed pairs: {len(rows)}; same report at similarity >= {SAME_REPORT_AT} without a figure or country conflict")
    print(f"  precision {precision:.3f}  recall {recall:.3f}  (tp {tp}, fp {fp}, fn {fn})")

    docs, set_pairs = eval_set()
    figs = set_figures(docs, set_pairs)
    n, same, upd = figs["same_report"]
    print(f"written set (tests/data/stories, {len(docs)} texts):")
    print(f"  same-report pairs recognised: {same} of {n} ({same / n:.3f})")
    n, same, upd = figs["same_event"]
    print(f"  different reports of one event merged: {same} of {n} ({same / n:.1%}); marked as update: {upd}")
    n, same, upd = figs["different_event"]
    print(f"  pairs of different events merged: {same} of {n}; marked as update: {upd}")

    texts = list(seed_texts().values())
    written = list(docs.values())
    for name, group in (("seeds", texts), ("written set", written)):
        for t in group:  # warm the stemmer's cache as a running pipeline has it
            fingerprint(t)
        reps = 20
        t0 = time.process_time()  # CPU time: other processes on a shared machine inflate wall time
        for _ in range(reps):
            for t in group:
                fingerprint(t)
        per = (time.process_time() - t0) / (reps * len(group)) * 1000
        avg = sum(map(len, group)) / len(group)
        print(f"fingerprint(): {per:.3f} ms CPU per article on the {name} ({avg:.0f} characters on average)")
    # The window holds the seeds and each report's original (version 0); the rewrites look it up.
    originals = {k: v for k, v in docs.items() if k.endswith("0")}
    order = list(originals)
    fps = [fingerprint(t) for t in texts] + [fingerprint(originals[k]) for k in order]
    row_of = {k[:-1]: len(texts) + i for i, k in enumerate(order)}
    queries = [(fingerprint(t), row_of[k[:-1]]) for k, t in docs.items()
               if not k.endswith("0") and k[:-1] in row_of]
    print(f"story lookup in the window (synthetic items, see _window; {len(queries)} rewrites look up their original):")
    for size, ms, compared, found in lookup_cost(fps, queries):
        print(f"  {size:>7,} items: {ms:.3f} ms CPU per lookup, {compared:.1f} rows compared, "
              f"{found} of {len(queries)} found their original")


if __name__ == "__main__":
    main()
