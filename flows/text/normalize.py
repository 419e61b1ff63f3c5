"""Arabic text normalization for topic matching.

Rules, in order (pyarabic first, own code only where it falls short):

1. Diacritics: ``araby.strip_tashkeel`` (harakat, tanween, shadda, sukun) and
   ``araby.strip_tatweel`` (kashida ـ).
2. Own character table (pyarabic leaves these alone or treats them differently):
   Farsi yeh ی (U+06CC) and alef maqsura ى → ي; Farsi kaf ک (U+06A9) → ك; the superscript
   alef ٰ is dropped; every Default_Ignorable_Code_Point (Unicode's DerivedCoreProperties: soft
   hyphen, ZWSP/ZWNJ/ZWJ, LRM/RLM/ALM, bidi embeddings and isolates, word joiner and invisible
   operators, CGJ, Mongolian and other fillers, variation selectors, BOM, tag characters …) is
   dropped, so invisible characters inside a word cannot hide it; Arabic-Indic ٠-٩, Persian ۰-۹
   and every other script's decimal digits → 0-9; fullwidth/small/heavy plus signs → +.
   Presentation forms (ﻻ, ﺍ …) are folded with NFKC, only when present.
3. Hamza and alef: ``araby.normalize_hamza(method="tasheel")`` (أ إ آ → ا, ؤ → و, ئ → ي), then
   ``araby.normalize_alef`` (ٱ → ا). ``normalize_alef`` would also turn ى into ا; that is why ى
   was already mapped to ي in step 2. A bare hamza ء is dropped (outlets write وزراء and وزرا).
4. Teh marbuta: ``araby.normalize_teh`` (ة → ه).
5. Latin is lowercased ("Pyongyang" → "pyongyang").
6. A full stop (or ؟ ! ؛) glued to the next word gets a space ("المتحدة.وقال" → "المتحدة. وقال");
   decimals such as 2.5 are left alone.

Steps 1-5 are per character (context free), so :func:`normalize_with_map` can return, for every
output character, the index of the input character it came from; evidence uses it to show
original sentences and phrases.  Newlines are never added or removed, so lines of the input and
of the output correspond one to one.

Token helpers: :data:`TOKEN_RE` finds word tokens (runs of letters, runs of digits) and the ``+``
sign, so "2+2" and "الـ2+2" hold the three tokens 2 + 2 while "G5 + 1" is g 5 + 1, never 2 + 2.
"""

from __future__ import annotations

import itertools
import re
import unicodedata

import pyarabic.araby as araby

__all__ = ["normalize", "normalize_with_map", "index_map", "tokens", "TOKEN_RE"]

_OWN_TABLE: dict[int, str | None] = {
    0x06CC: "ي",  # Farsi yeh
    0x0649: "ي",  # alef maqsura
    0x06A9: "ك",  # Farsi kaf (keheh)
    0x06AA: "ك",  # swash kaf
    0x0670: None,  # superscript (dagger) alef
    # Combining maddah and hamza above/below (decomposed آ أ إ ؤ ئ): hamza folding turns the
    # composed letters into their bare base anyway, so the mark is dropped (else pyarabic reads it
    # as a letter of its own and a decomposed أرسلت hides as اارسلت).
    0x0653: None,
    0x0654: None,
    0x0655: None,
    0x0621: None,  # bare hamza (applied after pyarabic; see _post)
}
for _i in range(10):
    _OWN_TABLE[0x0660 + _i] = str(_i)  # Arabic-Indic
    _OWN_TABLE[0x06F0 + _i] = str(_i)  # Persian / extended Arabic-Indic

_PRE_TABLE = {k: v for k, v in _OWN_TABLE.items() if k != 0x0621}

# Default_Ignorable_Code_Point, from Unicode's DerivedCoreProperties.txt (stable since Unicode 6;
# tests/test_normalize.py checks it against the `regex` module's \p{Default_Ignorable_Code_Point}).
# Invisible when rendered, so a publisher can put them inside a word: they are dropped, one
# character to none (the index map stays a drop-only map).
_IGNORABLE_BMP = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
)
_IGNORABLE_ASTRAL = "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff"
IGNORABLE_RE = _IGNORABLE_RE = re.compile(f"[{_IGNORABLE_BMP}{_IGNORABLE_ASTRAL}]")

# Decimal digits of any other script (fullwidth, Devanagari, Bengali, …) -> 0-9; plus signs
# (fullwidth, small, heavy) -> "+": "٢+٢", "２＋２" and "२+२" all read 2+2.
_OTHER_DIGIT_RE = re.compile(r"(?![0-9])\d|[\uff0b\ufe62\u2795]")


def _ascii_digit(m: re.Match[str]) -> str:
    c = m.group(0)
    return "+" if c in "\uff0b\ufe62\u2795" else str(unicodedata.decimal(c))


_PRESENTATION_RE = re.compile("[\ufb50-\ufdff\ufe70-\ufefe]")
# A sentence mark glued to a following letter (not a decimal point between digits).
_GLUED_STOP_RE = re.compile(r"[.!؟؛?](?=[^\W\d_])")

TOKEN_RE = re.compile(r"[^\W\d_]+|\d+|\+")


_TASHKEEL_RE = re.compile("[" + "".join(araby.TASHKEEL) + "]")
_PRE_ITEMS = tuple((chr(k), v or "") for k, v in _PRE_TABLE.items())

# Characters outside these blocks (ASCII but A-Z, Latin-1 punctuation, Arabic, general
# punctuation) may be presentation forms or have a lower case; a text without them needs neither.
_NOT_PLAIN_RE = re.compile("[^\x00-\x40\x5b-\x7f\xa0-\xbf\u0600-\u06ff\u2000-\u206f]")
# The same blocks without their ignorable characters: one scan finds a text that is plain and free
# of ignorables (the common case), which then skips both checks below.
_SUSPECT_RE = re.compile(
    "[^\x00-\x40\x5b-\x7f\xa0-\xac\xae-\xbf\u0600-\u061b\u061d-\u06ff\u2000-\u200a\u2010-\u2029\u202f-\u205f]"
)


def _chars(text: str) -> str:
    """Steps 1-5: context-free character normalization.

    Each pyarabic call is guarded by a cheap presence test (its result is the same; pyarabic's
    own checks are Python loops over every character, too slow for every article).
    """
    first = _SUSPECT_RE.search(text)
    if first is None:
        plain = True
    else:
        # the distinct suspect characters decide which whole-text passes are needed (a Latin
        # capital only needs lower(); the digit and ignorable regexes cost ~30 ns a character)
        odd = set(_SUSPECT_RE.findall(text, first.start()))
        plain = not any(_NOT_PLAIN_RE.match(c) for c in odd)
        if any(_IGNORABLE_RE.match(c) for c in odd):
            text = _IGNORABLE_RE.sub("", text)
        if not plain:
            digits = any(_OTHER_DIGIT_RE.match(c) for c in odd)
            if any(_PRESENTATION_RE.match(c) for c in odd):
                text = _PRESENTATION_RE.sub(_nfkc, text)
                digits = True  # whatever NFKC made
            if digits:
                text = _OTHER_DIGIT_RE.sub(_ascii_digit, text)
    m = _TASHKEEL_RE.search(text)
    if m:
        # pyarabic from the first mark on: its is_vocalized() loop then stops at once
        text = text[: m.start()] + araby.strip_tashkeel(text[m.start():])
    if "\u0640" in text:
        text = araby.strip_tatweel(text)
    for c, r in _PRE_ITEMS:
        if c in text:
            text = text.replace(c, r)
    text = araby.normalize_hamza(text, method="tasheel")  # a few str.replace calls
    if "\u0671" in text:
        text = araby.normalize_alef(text)
    if "\u0629" in text:
        text = text.replace("\u0629", "\u0647")  # araby.normalize_teh (a regex sub of ة by ه)
    if "\u0621" in text:
        text = text.replace("\u0621", "")
    return text if plain else text.lower()


def _nfkc(m: re.Match[str]) -> str:
    return unicodedata.normalize("NFKC", m.group(0))


def normalize(text: str) -> str:
    """Normalize ``text`` for matching (length may change; newlines are preserved)."""
    text = _chars(text)
    if "." in text or "؟" in text or "!" in text or "؛" in text or "?" in text:
        text = _GLUED_STOP_RE.sub(_space_after, text)
    return text


def _space_after(m: re.Match[str]) -> str:
    return m.group(0) + " "


_CHAR_CACHE: dict[str, str] = {}

# Characters whose normalization is not one character: presentation forms (NFKC may expand them),
# U+0130 (lowercases to two characters) and the capital sigma (str.lower() makes it final sigma by
# context); and the characters that are dropped (marks, kashida, controls, ء).  In a text free of
# the first kind each character gives one character or nothing, and _chars() of the whole text
# equals the per-character mapping.
_EXPANDING_RE = re.compile("[\ufb50-\ufdff\ufe70-\ufefe\u0130\u03a3]")
_DROPPED_RE = re.compile(
    "[\u0640" + "".join(araby.TASHKEEL) + "".join(chr(k) for k, v in _OWN_TABLE.items() if not v)
    + _IGNORABLE_BMP + "]"
)


def normalize_with_map(text: str) -> tuple[str, list[int]]:
    """Like :func:`normalize`, plus, for each output character, the index of its source character.

    Slower than :func:`normalize`; used only to show evidence in the original text.
    """
    s = ""
    idx: list[int] = []
    if _EXPANDING_RE.search(text) is None:
        # the common case: every character gives one character or is dropped
        s = _chars(text)
        n = len(text)
        last = 0
        for m in _DROPPED_RE.finditer(text):
            d = m.start()
            idx.extend(range(last, d))
            last = d + 1
        idx.extend(range(last, n))
        if len(idx) != len(s):  # an ignorable above U+FFFF; the per-character mapping is the reference
            idx = []
    if not idx and text:
        cc = _CHAR_CACHE
        for c in set(text).difference(cc):
            cc[c] = _chars(c)
        outs = [cc[c] for c in text]
        lens = set(map(len, outs))
        if lens <= {1}:
            idx = list(range(len(text)))
        elif lens <= {0, 1}:
            idx = list(itertools.compress(range(len(text)), map(len, outs)))
        else:
            idx = []
            for i, o in enumerate(outs):
                idx.extend([i] * len(o))
        s = "".join(outs)
    if "." in s or "؟" in s or "!" in s or "؛" in s or "?" in s:
        parts: list[str] = []
        new_idx: list[int] = []
        last = 0
        for m in _GLUED_STOP_RE.finditer(s):
            end = m.end()
            parts.append(s[last:end])
            new_idx.extend(idx[last:end])
            parts.append(" ")
            new_idx.append(idx[end - 1])
            last = end
        parts.append(s[last:])
        new_idx.extend(idx[last:])
        s = "".join(parts)
        idx = new_idx
    return s, idx


def index_map(text: str, normalized: str) -> list[int] | None:
    """The index list of ``normalize_with_map(text)`` given ``normalized == normalize(text)``, when
    it is cheap to get: no character of ``text`` expands and no space was added after a glued stop
    (then normalization only drops characters).  None otherwise: call normalize_with_map.
    """
    if _EXPANDING_RE.search(text) is not None:
        return None
    idx: list[int] = []
    last = 0
    for m in _DROPPED_RE.finditer(text):
        d = m.start()
        idx.extend(range(last, d))
        last = d + 1
    idx.extend(range(last, len(text)))
    if len(idx) != len(normalized):
        return None
    return idx


def tokens(text: str) -> list[str]:
    """Word tokens of already-normalized text (letters/digits runs and ``+``)."""
    return TOKEN_RE.findall(text)
