"""Story text: the article body without its page furniture, normalized, one paragraph per line.

Rules:
- The body is the article without its furniture: the title (the first non-blank line when it
  is headline-like: at most 25 words, no final full stop; after a one- or two-word breadcrumb),
  the ``المصدر`` / ``كلمات دلالية`` lines, ``  • `` bullets, and the related-headlines blocks
  (the header "إقرأ أيضاً", "مقالات مشابهة", "مقالات ذات صلة" or "الأكثر قراءة", or a bare
  "المصدر" credits header, and the short lines, at most 25 words, that follow it).
- Text is normalized with ``flows.text.normalize.normalize`` (diacritics, tatweel, hamza/alef, teh
  marbuta, Farsi letters), so added tashkeel or another spelling of a hamza changes nothing.
"""

from __future__ import annotations

import hashlib
import re

import Stemmer  # pystemmer: the Snowball Arabic stemmer, in C

from flows.text.normalize import normalize as _normalize

__all__ = ["body_text", "body_lines", "report_terms", "term_hash", "lead_countries", "report_paragraphs"]

# Lines after a related-headlines header are headlines while they stay this short (in words).
_HEADLINE_MAX_WORDS = 25
_WORD_RE = re.compile(r"[^\W_]+")
_BULLET_RE = re.compile(r"^\s*[•·▪◦\-–*]\s+")
# A bare "المصدر" line opens the credits block of some sites (writer, site, "published first on").
_BLOCK_HEADERS = tuple(_normalize(h) for h in ("إقرأ أيضاً", "اقرأ أيضا", "مقالات مشابهة", "مقالات ذات صلة",
                                                "الأكثر قراءة", "أخبار ذات صلة", "المصدر"))
_DROP_PREFIXES = tuple(_normalize(h) for h in ("المصدر", "كلمات دلالية", "الكلمات الدلالية", "الوسوم"))


def _clean(line: str) -> str:
    return line.strip().rstrip(":：").strip()


def _is_headline(line: str) -> bool:
    c = line.strip()
    return len(_WORD_RE.findall(c)) <= _HEADLINE_MAX_WORDS and not c.endswith((".", "؟", "!", "…"))


def _body_lines(text: str, normalized: str | None = None) -> list[str]:
    """Normalized paragraphs of the article body (furniture removed, see the module rules);
    ``normalized``: ``normalize(text)``, when the caller has it already."""
    lines = (_normalize(text) if normalized is None else normalized).split("\n")  # normalize never adds or removes a newline
    nonblank = [i for i, ln in enumerate(lines) if ln.strip()]
    skip: set[int] = set()
    if nonblank:
        # A one- or two-word first line is a breadcrumb ("الرئيسية"); the title follows it.
        first = nonblank[0]
        if len(_WORD_RE.findall(lines[first])) <= 2 and len(nonblank) > 1:
            skip.add(first)
            first = nonblank[1]
        if _is_headline(lines[first]):  # some pages start with the lede itself: keep it then
            skip.add(first)
    out: list[str] = []
    in_block = False
    for i, ln in enumerate(lines):
        c = _clean(ln)
        if not c or i in skip:
            continue
        if c in _BLOCK_HEADERS:
            in_block = True
            continue
        if _BULLET_RE.match(ln) or c.startswith(_DROP_PREFIXES):
            continue
        if in_block:
            if len(_WORD_RE.findall(c)) <= _HEADLINE_MAX_WORDS:
                continue
            in_block = False  # a long paragraph: the article goes on after the block
        out.append(c)
    return out


def body_text(text: str) -> str:
    """The normalized body the fingerprint is computed on, one paragraph per line (for debugging)."""
    return "\n".join(_body_lines(text))


body_lines = _body_lines  # the public name


# -- what a report says: content stems and the figures it carries ---------------------------------

_STEMMER = Stemmer.Stemmer("arabic")
_TOKEN_RE = re.compile(r"[^\W\d_]+|\d+(?:[.,:]\d+)*")
_THOUSANDS_RE = re.compile(r"^\d{1,3}(?:,\d{3})+$")
# An agency dateline opening the lead: "سول - (وكالة ...) - ".
_DATELINE_RE = re.compile(r"^[^\W\d_]+(?: [^\W\d_]+)?\s*[-–]\s*\([^()]{2,60}\)\s*[-–]?\s*")
# Function words and reporting verbs: they say how a report is worded, not what it says.
_STOP = frozenset(_normalize(w) for w in """
في من على إلى الى عن مع أن ان إن الذي التي الذين اللذين اللتين وقد قد كان كانت يكون تكون هذا هذه
ذلك تلك هناك بعد قبل حتى أو او ثم كما بين منذ خلال عند لدى لم لن لا ما هو هي هم هما نحو أي كل بعض
غير إذا اذا إذ حيث وفق وفقا بحسب حسب لـ يوم اليوم أيضا كذلك فقط سوى إلا الا عبر أمس لها له لهم
فيه فيها منه منها عليه عليها إليه اليه إنه انه أنه بأن بان وأن وان وإن فيما بينما كل جميع كافة
قال قالت يقول تقول أضاف أضافت يضيف أوضح أوضحت أكد أكدت يؤكد أشار أشارت ذكر ذكرت أفاد أفادت أعلن
أعلنت صرح صرحت بين بينت مؤكدا مشيرا مضيفا لافتا موضحا مبينا معتبرا تم يتم قام قامت يقوم تقوم
بيان البيان وكالة وكالات الأنباء للأنباء أنباء المصدر مصدر مصادر هذا وقد الى وذلك التي والتي
قرابة حوالي زهاء تقريبا يقارب أكثر أقل الأقل يزيد يقل عقب إثر غداة أعقاب أثناء غضون طوال القادم
المنصرم السابق الجاري الحالي الحالية ضمن لصالح بشأن حول إزاء تجاه وسط إطار صعيد جانب جهته جانبه
""".split())
# Words outlets swap for one another when they rewrite a report (one group, one meaning): each
# word's stem stands for the group's first. General news wording, not any one text's.
_SYNONYM_GROUPS = (
    "أرسل بعث أوفد", "جندي عسكري مقاتل", "جنود عسكريين مقاتلين", "قتيل ضحية مصرع وفاة حتفه",
    "قتلى ضحايا وفيات", "مصاب جريح", "مصابين جرحى", "إصابة جروح", "أدان ندد استنكر شجب",
    "إدانة تنديد استنكار شجب", "انتهاك خرق", "ينتهك يخرق", "هجوم اعتداء عدوان", "بداية مطلع بدء",
    "نهاية ختام آخر", "اختتم أنهى", "انطلق افتتح بدأ", "ارتفع صعد زاد قفز", "ارتفاع صعود زيادة نمو",
    "انخفض تراجع هبط نزل", "انخفاض تراجع هبوط", "اجتماع لقاء", "مؤتمر ندوة", "تصريح إفادة إحاطة",
    "مبنى بناية عمارة", "منزل بيت مسكن", "منازل بيوت مساكن", "أنقاض ركام حطام", "انهيار سقوط",
    "انهار سقط", "سكان أهالي", "مساعدات معونات", "مساعدة عون", "تجاوز تخطى فاق", "كبير ضخم",
    "شديد حاد", "سريع عاجل فوري", "فورا عاجلا", "تعزيز تقوية", "واصل استمر", "مواصلة استمرار",
    "محادثات مباحثات", "ناقش بحث تناول", "اتفاق اتفاقية", "مزور مزيف", "زي بزة", "أزياء بزات",
    "وثائق أوراق", "قاعدة معسكر", "قواعد معسكرات", "تدريب تدريبات", "طالب دعا ناشد", "طالبت دعت ناشدت",
    "أفاد ذكر", "رجح توقع", "توقعات تقديرات", "حصيلة عدد", "نازحين مهجرين", "نزوح تهجير", "بلاد دولة",
    "حذر نبه", "تحذير تنبيه", "أسفر خلف", "جراء نتيجة بسبب", "نحو باتجاه", "مخيم معسكر",
)
# Number words an outlet writes for figures another writes in digits.
_NUMBER_WORDS = {_normalize(w): v for w, v in (
    ("واحد", 1), ("واحدة", 1), ("اثنان", 2), ("اثنين", 2), ("اثنتين", 2), ("ثلاث", 3), ("ثلاثة", 3),
    ("أربع", 4), ("أربعة", 4), ("خمس", 5), ("خمسة", 5), ("ست", 6), ("ستة", 6), ("سبع", 7), ("سبعة", 7),
    ("ثماني", 8), ("ثمانية", 8), ("تسع", 9), ("تسعة", 9), ("عشرين", 20),
    ("عشرون", 20), ("ثلاثين", 30), ("مئة", 100), ("مائة", 100), ("ألف", 1000), ("ألفي", 2000),
    ("ألفين", 2000), ("مليون", 10 ** 6), ("مليار", 10 ** 9))}
# "بالمئة" is the percent sign, not a hundred; عشر/عشرة are left out: mostly ordinals (الثانية عشرة).
_PERCENT = frozenset(_normalize(w) for w in ("بالمئة", "بالمائة", "المئة", "المائة", "بالمئه"))
# A multiplier after a figure: "3 آلاف" = 3000, "2.7 مليون" = 2700000.
_MULTIPLIERS = {_normalize(w): v for w, v in (
    ("ألف", 1000), ("آلاف", 1000), ("ألفا", 1000), ("مليون", 10 ** 6), ("ملايين", 10 ** 6),
    ("مليار", 10 ** 9), ("مليارات", 10 ** 9), ("تريليون", 10 ** 12))}
_CLITICS = ("وال", "بال", "لل", "ال", "و", "ب", "ل")


# Every number word with its clitics, so a word costs one lookup.
_NUMBER_FORMS = {p + w: v for w, v in _NUMBER_WORDS.items() for p in ("",) + _CLITICS}
for _w in _PERCENT:
    _NUMBER_FORMS.pop(_w, None)


def _number_word(word: str) -> int | None:
    return _NUMBER_FORMS.get(word)


def _figure(token: str) -> float | str:
    if _THOUSANDS_RE.match(token):
        return float(token.replace(",", ""))
    if ":" in token:  # a time of day stays as written ("h": the fingerprint's parts are ":"-separated)
        return token.replace(":", "h")
    try:
        return float(token.replace(",", "."))
    except ValueError:
        return token


def _canonical(value: float | str) -> str:
    if isinstance(value, str):
        return value
    return str(int(value)) if value == int(value) else f"{value:g}"


def _plain_stem(word: str) -> str:
    # Snowball strips the clitics and affixes outlets vary; غ/ج is the usual variance in
    # transliterated names (جونغ / جونج, سامسونغ / سامسونج).
    return _STEMMER.stemWord(word).replace("غ", "ج")


_SYNONYM_STEMS = {_plain_stem(_normalize(w)): _plain_stem(_normalize(group.split()[0]))
                  for group in _SYNONYM_GROUPS for w in group.split()[1:]}


def _stem(word: str) -> str:
    stem = _plain_stem(word)
    return _SYNONYM_STEMS.get(stem, stem)


def term_hash(stem: str) -> int:
    """A stem's stable 32-bit id (stored fingerprints are compared across processes)."""
    return int.from_bytes(hashlib.blake2b(stem.encode("utf-8"), digest_size=4).digest(), "big")


# Word -> stem id (or _STOPWORD, _FIGURE), kept across articles: news repeats its words, and the
# stemmer and the hash cost far more than a dict lookup. Cleared when it grows too large.
_WORD_IDS: dict[str, int] = {}
_WORD_IDS_MAX = 200_000


_STOPWORD = -1
_FIGURE = -2  # a figure, a number word or a multiplier: read with its neighbours


def _word_id(w: str) -> int:
    if w[0].isdigit() or w in _NUMBER_FORMS or w in _MULTIPLIERS:
        h = _FIGURE
    elif len(w) > 1 and w not in _STOP and w not in _PERCENT:
        h = term_hash(_stem(w))
    else:
        h = _STOPWORD
    if len(_WORD_IDS) >= _WORD_IDS_MAX:
        _WORD_IDS.clear()
    _WORD_IDS[w] = h
    return h


def _read_figures(words: list[str], hs: list[int], figures: set[str]) -> None:
    """Add the figures of one paragraph: digits, number words, times of day, with their multipliers."""
    n = len(words)
    for j, w in enumerate(words):
        if hs[j] != _FIGURE:
            continue
        if w in _MULTIPLIERS and j > 0 and (words[j - 1][0].isdigit() or _number_word(words[j - 1])):
            continue  # the multiplier of the figure before it
        value: float | str | None = _figure(w) if w[0].isdigit() else _number_word(w)
        if value is None:  # a multiplier alone
            continue
        if not isinstance(value, str) and j + 1 < n and words[j + 1] in _MULTIPLIERS:
            value *= _MULTIPLIERS[words[j + 1]]
        figures.add(_canonical(value))


def report_paragraphs(text: str, normalized: str | None = None) -> list[str]:
    """The normalized body paragraphs (every line when nothing but furniture), dateline removed;
    ``normalized``: ``normalize(text)``, when the caller has it already."""
    paras = _body_lines(text, normalized) or [c for c in (_normalize(ln).strip() for ln in text.splitlines()) if c]
    if paras:
        paras[0] = _DATELINE_RE.sub("", paras[0])
    return paras


def report_terms(text: str | list[str]) -> tuple[set[int], set[int], set[str]]:
    """(content stem ids of the body, of its lead paragraph, the figures it carries)."""
    paras = report_paragraphs(text) if isinstance(text, str) else text
    terms: set[int] = set()
    lead: set[int] = set()
    figures: set[str] = set()
    ids = _WORD_IDS
    for i, para in enumerate(paras):
        words = _TOKEN_RE.findall(para)
        hs = [ids.get(w) for w in words]
        if None in hs:
            hs = [_word_id(w) if h is None else h for h, w in zip(hs, words)]
        (lead if i == 0 else terms).update([h for h in hs if h >= 0])  # the lead joins the body below
        if _FIGURE in hs:
            _read_figures(words, hs, figures)
    terms |= lead
    return terms, lead, figures


# -- who a lead is about: the countries its lead names ------------------------------------------

# Country names, adjectives and capitals reduced to one base each (after clitics and the
# adjective endings are stripped); Korea needs its second word. Capitals shared with another
# meaning (عمان is also Oman) are left out.
_COUNTRY_BASES = {_normalize(k): v for k, v in (
    ("أردن", "JO"), ("مصر", "EG"), ("قاهر", "EG"), ("يابان", "JP"), ("طوكيو", "JP"), ("روس", "RU"),
    ("روسيا", "RU"), ("موسكو", "RU"), ("كرملين", "RU"), ("صين", "CN"), ("بكين", "CN"), ("ترك", "TR"),
    ("تركيا", "TR"), ("أنقر", "TR"), ("سعود", "SA"), ("رياض", "SA"), ("أمريك", "US"), ("أميرك", "US"),
    ("واشنطن", "US"), ("سودان", "SD"), ("خرطوم", "SD"), ("تونس", "TN"), ("قطر", "QA"), ("دوح", "QA"),
    ("إمارات", "AE"), ("أوكران", "UA"), ("أوكرانيا", "UA"), ("كييف", "UA"), ("إسرائيل", "IL"),
    ("فلسطين", "PS"), ("غز", "PS"), ("يمن", "YE"), ("عراق", "IQ"), ("بغداد", "IQ"), ("سوري", "SY"),
    ("سوريا", "SY"), ("دمشق", "SY"), ("لبنان", "LB"), ("بيروت", "LB"), ("إيران", "IR"), ("طهران", "IR"),
    ("جزائر", "DZ"), ("مغرب", "MA"), ("ليبيا", "LY"), ("ليب", "LY"), ("كويت", "KW"), ("بحرين", "BH"),
    ("فرنس", "FR"), ("فرنسا", "FR"), ("باريس", "FR"), ("بريطاني", "GB"), ("بريطانيا", "GB"),
    ("لندن", "GB"), ("ألمانيا", "DE"), ("ألمان", "DE"), ("برلين", "DE"), ("هند", "IN"),
    ("سول", "KR"), ("سيول", "KR"), ("بيونج", "KP"), ("بيونغ", "KP"), ("بيونغيانغ", "KP"))}
_KOREA = (_normalize("كوري"), _normalize("كوريا"))
_KOREA_CLITICS = ("وال", "بال", "لل", "ال", "و", "ب", "ل")
_ADJ_ENDINGS = tuple(_normalize(e) for e in ("يين", "يون", "ية", "ي", "ة", "ا"))


# Every form of a base (clitics before it, an adjective ending after it), so a word costs one lookup.
_COUNTRY_FORMS = {p + b + e: code for b, code in _COUNTRY_BASES.items()
                  for p in ("", "وال", "بال", "فال", "لل", "ال", "و", "ب", "ل") for e in ("",) + _ADJ_ENDINGS}


def lead_countries(text: str | list[str]) -> set[str]:
    """Countries named in the lead paragraph (codes), e.g. {"JO", "PS"} for a Jordanian statement."""
    paras = report_paragraphs(text) if isinstance(text, str) else text
    if not paras:
        return set()
    words = _WORD_RE.findall(paras[0])
    found: set[str] = set()
    for i, w in enumerate(words):
        code = _COUNTRY_FORMS.get(w)
        if code is not None:
            found.add(code)
            continue
        if "كوري" not in w or i + 1 == len(words):
            continue
        stripped = next((w[len(p):] for p in _KOREA_CLITICS if w.startswith(p)), w)
        if stripped.startswith(_KOREA):
            nxt = words[i + 1]
            if "جنوب" in nxt:
                found.add("KR")
            elif "شمال" in nxt:
                found.add("KP")
    return found
