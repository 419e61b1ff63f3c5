"""2+2 written every way, and the forms that describe the meeting without the number."""

from __future__ import annotations

import pathlib

import pytest

from flows.match import Matcher

CONFIG = pathlib.Path(__file__).resolve().parents[1] / "config"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.from_config_dir(CONFIG)


def _fires(m: Matcher, body: str) -> bool:
    return "two_plus_two" in {t.topic for t in m.match(f"خبر من سيول اليوم\n{body}")}


@pytest.mark.parametrize("token", [
    "2+2", "(2+2)", "“2+2”", "«2+2»", "[2+2]", "2 + 2", "٢+٢", "۲+۲", "２＋２", "२+२", "2 زائد 2",
    "اثنين زائد اثنين", "إثنين + إثنين", "اثنان زائد اثنان", "الاثنين زائد الاثنين", "اثنين واثنين",
    "2 و2", "2و2", "2 plus 2", "الـ2+2",
])
def test_token_every_way(matcher: Matcher, token: str) -> None:
    assert _fires(matcher, f"تستضيف سيول الأسبوع المقبل اجتماع {token} بين كوريا الجنوبية والولايات المتحدة.")


@pytest.mark.parametrize("body", [
    "ناقش الطالب مسألة 12+2 وكوريا الجنوبية في الصف.",  # arithmetic, another number
    "قال المدرب إن كوريا الجنوبية فازت 2 + 2 في الشوطين.",  # no meeting word next to it
    "عقدت اليابان والولايات المتحدة اجتماع 2+2 في طوكيو وناقشتا كوريا الجنوبية.",  # another pair
    "فشلت محادثات 2+2 التجارية بين كوريا الجنوبية والولايات المتحدة بشأن الرسوم الجمركية.",
])
def test_token_look_alikes(matcher: Matcher, body: str) -> None:
    assert not _fires(matcher, body)


@pytest.mark.parametrize("body", [
    "عقد وزراء الخارجية والدفاع في كوريا الجنوبية والولايات المتحدة اجتماعهم السادس في واشنطن.",
    "انطلق في سيول الاجتماع الرباعي لوزيري الخارجية والدفاع الأمريكيين ونظيريهما الكوريين الجنوبيين.",
    "أجرى وزير الخارجية الأمريكي ووزير الدفاع الأمريكي محادثات رباعية مع وزيري الخارجية والدفاع الكوريين الجنوبيين.",
    "التقت وزيرة الخارجية الأمريكية ووزير الدفاع الأمريكي نظيريهما الكوريين الجنوبيين في سيول.",
])
def test_descriptive_forms(matcher: Matcher, body: str) -> None:
    assert _fires(matcher, body)


@pytest.mark.parametrize("body", [
    "عقد نائبا وزيري الخارجية والدفاع في كوريا الجنوبية والولايات المتحدة حوارا في واشنطن.",
    "التقى وزير الدفاع الأمريكي نظيره الكوري الجنوبي في سيول لبحث التدريبات.",
    "اجتمع وزراء خارجية الحوار الرباعي، الولايات المتحدة واليابان والهند وأستراليا، لبحث كوريا الجنوبية.",
])
def test_descriptive_look_alikes(matcher: Matcher, body: str) -> None:
    assert not _fires(matcher, body)
