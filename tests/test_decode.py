"""Charset decoding of pages and files (flows.text.extract.decode_html / decode_undeclared)."""

from __future__ import annotations

import pathlib

import pytest

from flows.text.extract import decode_html, decode_undeclared

PAGES = pathlib.Path(__file__).parent / "data" / "pages"
ARABIC = "افتتاح مكتبة عامة جديدة في حي الزيتون، وقال المدير إن «الكتّاب» سيلتقون القرّاء كل أسبوع."
GERMAN = ("Die Stadtbibliothek öffnet am Montag ihre Türen. Über dreißig Lesesäle, große Fenster und "
          "ruhige Ecken für Schüler warten auf die Besucher; der Eintritt ist für alle frei.")
RUSSIAN = ("Городская библиотека откроется в понедельник. Более тридцати читальных залов, большие окна "
           "и тихие уголки для школьников ждут посетителей; вход свободный для всех.")


def _page(body: str, head_extra: str = "", meta: str = "") -> str:
    return (f"<!doctype html><html><head><title>t</title>{head_extra}{meta}</head>"
            f"<body><article><p>{body}</p></article></body></html>")


def test_meta_charset_late_in_a_long_head_is_found() -> None:
    script = "<script>var x = '" + "a" * 6000 + "';</script>"
    body = _page(RUSSIAN, head_extra=script, meta='<meta charset="koi8-r">').encode("koi8-r")
    assert body.index(b"<meta") > 2048
    assert RUSSIAN in decode_html(body, "text/html")


def test_meta_after_the_head_is_not_a_declaration() -> None:
    # a <meta> quoted in the body (an article about HTML) does not decide the page's charset
    html = _page(ARABIC + ' &lt;meta charset="koi8-r"&gt; <meta charset="koi8-r">')
    assert ARABIC in decode_html(html.encode("utf-8"), None)


@pytest.mark.parametrize("text,codec", [(GERMAN, "cp1252"), (RUSSIAN, "cp1251")], ids=["cp1252", "cp1251"])
def test_undeclared_non_arabic_page_is_not_read_as_windows_1256(text: str, codec: str) -> None:
    body = _page(text).encode(codec)
    assert text in decode_html(body, None)
    assert text in decode_undeclared(text.encode(codec))


def test_undeclared_arabic_is_still_windows_1256() -> None:
    assert ARABIC in decode_html(_page(ARABIC).encode("cp1256"), None)
    assert decode_undeclared(ARABIC.encode("cp1256")) == ARABIC


@pytest.mark.parametrize("codec", ["utf-32", "utf-16", "utf-8-sig"])
def test_byte_order_marks(codec: str) -> None:
    assert decode_undeclared(ARABIC.encode(codec)) == ARABIC
    assert ARABIC in decode_html(_page(ARABIC).encode(codec), None)


def test_undeclared_never_raises() -> None:
    for body in (b"", bytes(range(256)) * 8, b"\x00\xff" * 100, b"\xc3"):
        assert isinstance(decode_undeclared(body), str)
