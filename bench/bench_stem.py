"""Stemmer comparison for the matcher: accuracy on word families of the topics and speed.

Rules:
- Families are written for this benchmark (inflections the topics need: verbs in every person and
  tense, broken and sound plurals, nisba adjectives, clitics).  A stemmer is right on a family
  when it gives every member the same stem ("recall"), and right on a pair of different
  families when it keeps them apart ("separation": look-alikes that must not merge).
- Speed: distinct words per second, one core, no cache.
- Candidates: nltk's ISRI stemmer, tashaphyne's light stemmer (stem and root), qalsadi's
  lemmatizer, and raqib's own clitic/suffix keys (flows.match.words) for reference.
- Prints figures only.  Usage: python bench/bench_stem.py
"""

from __future__ import annotations

import itertools
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flows.text.normalize import normalize  # noqa: E402

FAMILIES: dict[str, list[str]] = {
    "send": ["أرسل", "يرسل", "أرسلت", "ترسل", "أرسلوا", "يرسلون", "سترسل", "إرسال", "وإرسال", "بإرسال", "أرسلتها"],
    "deploy": ["نشر", "ينشر", "نشرت", "تنشر", "نشروا", "ونشر", "بنشر", "نشرها"],
    "soldier": ["جندي", "جنود", "الجنود", "الجنديين", "جنودها", "والجنود", "للجنود", "جنديا"],
    "fighter": ["مقاتل", "مقاتلين", "مقاتلون", "المقاتلين", "مقاتليها", "والمقاتلين"],
    "troops": ["قوات", "القوات", "قواتها", "لقوات", "والقوات", "بقوات"],
    "killed": ["قتل", "قتلوا", "قتلى", "مقتل", "القتلى", "يقتل"],
    "captured": ["أسر", "أسرى", "الأسرى", "أسير", "أسيرين", "أسرت"],
    "korean": ["كوري", "الكوري", "الكورية", "كوريين", "الكوريين", "كوريون", "والكورية"],
    "american": ["أمريكي", "الأمريكي", "الأمريكية", "الأمريكيين", "أمريكيون", "والأمريكي"],
    "minister": ["وزير", "الوزير", "وزيرة", "وزيرا", "وزيري", "وزراء", "الوزراء", "ووزير", "لوزراء"],
    "deterrence": ["ردع", "الردع", "بالردع", "للردع", "والردع", "ردعا"],
    "extended": ["موسع", "الموسع", "الموسعة", "موسعا"],
    "meeting": ["اجتماع", "الاجتماع", "اجتماعات", "الاجتماعات", "اجتماعا", "باجتماع"],
    "umbrella": ["مظلة", "المظلة", "بالمظلة", "مظلتها"],
    "nuclear": ["نووي", "النووي", "النووية", "نووية", "والنووية"],
}
# pairs that must stay apart (look-alikes): the topics would fire on the wrong word otherwise
APART = [("minister", "meeting"), ("soldier", "troops"), ("killed", "fighter"), ("send", "deploy"),
         ("korean", "american"), ("extended", "meeting")]
EXTRA_APART = [("وزارة", "minister"), ("جند", "soldier"), ("نشرة", "deploy"), ("رسالة", "send"),
               ("قتال", "killed"), ("سرير", "captured"), ("ردعه", None)]


def _stemmers() -> dict[str, object]:
    out: dict[str, object] = {}
    try:
        from nltk.stem.isri import ISRIStemmer

        isri = ISRIStemmer()
        out["nltk ISRI (root)"] = isri.stem
        out["nltk ISRI (suffix+prefix only)"] = lambda w: isri.pre32(isri.suf32(w))
    except ImportError:
        pass
    try:
        from tashaphyne.stemming import ArabicLightStemmer

        light = ArabicLightStemmer()

        def t_stem(w: str) -> str:
            light.light_stem(w)
            return light.get_stem()

        def t_root(w: str) -> str:
            light.light_stem(w)
            return light.get_root()

        out["tashaphyne stem"] = t_stem
        out["tashaphyne root"] = t_root
    except ImportError:
        pass
    try:
        import qalsadi.lemmatizer

        lem = qalsadi.lemmatizer.Lemmatizer()
        out["qalsadi lemma"] = lambda w: normalize(lem.lemmatize(w) or w)
    except ImportError:
        pass
    from flows.match.words import PREFIXES, SUFFIXES, word_key

    def raqib_key(w: str) -> str:
        # the shortest stem left by one prefix and one suffix of raqib's lists (reference only)
        n = normalize(w)
        best = word_key(n)
        for p, s in itertools.product(PREFIXES, SUFFIXES):
            if n.startswith(p) and n.endswith(s) and len(n) - len(p) - len(s) >= 3:
                stem = n[len(p):len(n) - len(s)] if s else n[len(p):]
                if len(stem) < len(best):
                    best = stem
        return best

    out["raqib clitic keys (reference)"] = raqib_key
    return out


def main() -> None:
    words = sorted({w for f in FAMILIES.values() for w in f})
    print(f"{len(FAMILIES)} families, {len(words)} words; {len(APART)} family pairs that must stay apart")
    print(f"{'stemmer':<32} {'families whole':>15} {'pairs apart':>12} {'words/s':>10}")
    for name, stem in _stemmers().items():
        stems = {w: normalize(stem(normalize(w))) for w in words}
        whole = sum(1 for f in FAMILIES.values() if len({stems[w] for w in f}) == 1)
        fam_stems = {k: {stems[w] for w in f} for k, f in FAMILIES.items()}
        apart = sum(1 for a, b in APART if not (fam_stems[a] & fam_stems[b]))
        t0 = time.perf_counter()
        n = 0
        while time.perf_counter() - t0 < 1.0:
            for w in words:
                stem(normalize(w))
            n += len(words)
        rate = n / (time.perf_counter() - t0)
        print(f"{name:<32} {whole:>7}/{len(FAMILIES):<7} {apart:>5}/{len(APART):<6} {rate:>10.0f}")


if __name__ == "__main__":
    main()
