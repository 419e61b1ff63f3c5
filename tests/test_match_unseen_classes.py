"""Classes that the fourth and fifth held-out sets showed after the third detection round, in
short texts written for these tests: civilians killed by a North Korean missile, a hypothetical
question and the North's pilots in wars decades ago are not troops; "عسكري شمالي" is; another
pair's 2+2 "between the two countries" with one of them named only in the sentence, and a meeting
recalled "in Washington last month" or "of 2021, which …" are not the news; the meeting named with
both countries attached is the news even when a third country welcomes it; extended deterrence
with the South named only as "الكورية" or by its ports, the Washington Declaration's signing,
"every category of military capabilities"; the allies' warning that North Korean nuclear use "would
mean the end of the regime" (not Iran's, not Pyongyang's own threats), the NCG as "الهيئة الاستشارية
النووية", North Koreans killed or fighting "beside the Russians"."""

from __future__ import annotations

import pytest

from flows.match import Matcher
from tests.match_fixtures import shipped_matcher, topics

ED, TROOPS, TWO = "extended_deterrence", "nk_russia_troops", "two_plus_two"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return shipped_matcher()


@pytest.mark.parametrize("text, topic", [
    ("تقرير من كييف\nوقالت السلطات إن صاروخا من طراز كيه إن-23 الكوري الشمالي سقط على حي في كييف، ما أدى إلى مقتل 9 أشخاص.", TROOPS),
    ("تقرير من كييف\nوقال الوزير إن كل شحنة صواريخ ترسلها بيونغ يانغ إلى روسيا تعني مزيدا من القتلى المدنيين.", TROOPS),
    ("تحليل\nويتساءل باحثون في سيول: إذا توثق الحلف بين موسكو وكوريا الشمالية، هل يمكن أن يرسل كيم قوات للقتال في الخارج", TROOPS),
    ("تحليل\nوقد أرسلت بيونغ يانغ طيارين إلى فيتنام في الستينيات، ثم إلى مصر، لكنها لم ترسل قوات إلى روسيا من قبل.", TROOPS),
    ("خبر\nوتعقد أستراليا وكوريا الجنوبية اجتماع 2+2 بين البلدين كل عامين، بالتناوب بين سيول وإحدى المدن الأسترالية.", TWO),
    ("خبر\nوكانت قضية الجنود قد هيمنت على اجتماع وزراء الخارجية والدفاع الكوريين والأمريكيين في واشنطن الشهر الماضي.", TWO),
    ("إيران\nوقال المسؤول إن أي هجوم نووي إيراني سيعني نهاية النظام في طهران، كما قيل لكوريا الشمالية من قبل.", ED),
    ("تهديد\nوهدد كيم جونغ أون بأن قواته النووية ستجعل من أي استفزاز نهاية نظام الدمى في سيول.", ED),
    ("تحليل\nوغاب ملف الرسوم عن اجتماع وزراء الخارجية والدفاع في البلدين عام 2021 الذي ركز على الأمن، قبل أن يتصدر اليوم.", TWO),
])
def test_look_alikes_stay_out(matcher: Matcher, text: str, topic: str) -> None:
    assert topic not in topics(matcher, text)


@pytest.mark.parametrize("text, topic", [
    ("تقديرات\nوتقول سيول إن نحو ثمانية آلاف عسكري شمالي ما زالوا منتشرين في الأراضي الروسية.", TROOPS),
    ("ترحيب ياباني\nرحب المتحدث باسم الحكومة اليابانية بنتائج اجتماع وزراء الخارجية والدفاع في الولايات المتحدة وكوريا الجنوبية الذي عقد أمس في واشنطن.", TWO),
    ("غواصة في جيجو\nرست غواصة أمريكية في قاعدة جيجو، وقالت وزارة الدفاع الكورية إن الزيارة تجسد الالتزام الأمريكي بحماية الجنوب بجميع القدرات بما فيها النووية.", ED),
    ("زيارة\nوهذه ثالث زيارة لغواصة استراتيجية منذ توقيع إعلان واشنطن بين الرئيسين في جيجو.", ED),
    ("بيان\nوقال البيان إن أي استخدام للأسلحة النووية من جانب كوريا الشمالية سيؤدي إلى نهاية النظام.", ED),
    ("اجتماع\nوعقدت الهيئة الاستشارية النووية بين سيول وواشنطن اجتماعها الرابع في البنتاغون.", ED),
    ("كورسك\nوقتل عشرات الكوريين الشماليين في غارة بطائرات مسيرة أوكرانية على مواقعهم في كورسك.", TROOPS),
    ("الحرب\nويقاتل الكوريون الشماليون إلى جانب الروس منذ الخريف الماضي في أوكرانيا.", TROOPS),
    ("بيان\nوأكد الوزير الأمريكي في سيول أن بلاده ستدافع عن حليفتها كوريا الجنوبية بكل فئات القدرات العسكرية بما فيها النووية.", ED),
])
def test_the_class_fires(matcher: Matcher, text: str, topic: str) -> None:
    assert topic in topics(matcher, text)


def test_a_trilateral_inside_the_phrase_is_not_the_meeting(matcher: Matcher) -> None:
    text = "اجتماع\nعقد وزراء الخارجية والدفاع في الولايات المتحدة وكوريا الجنوبية واليابان اجتماعا في طوكيو أمس."
    assert TWO not in topics(matcher, text)
