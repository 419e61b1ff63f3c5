"""The third held-out set's extended-deterrence and troops miss classes and their look-alikes, in
short sentences written for these tests: strategic assets as proof of the nuclear commitment, the
NCG and the nuclear response pledge described without their names, polls on the US nuclear
defense, summary bullets; a negated mention (``around: before_anchor``); troops in "the war" left
unsaid, in Russian offensives, KCNA's overseas units, sloppy casualty counts; 1950 history, shells
and analysts, ports and model numbers that are not troops."""

from __future__ import annotations

import pytest

from flows.match import Matcher
from flows.match.zones import _zones
from tests.match_fixtures import shipped_matcher, topics

ED, TROOPS = "extended_deterrence", "nk_russia_troops"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return shipped_matcher()


@pytest.mark.parametrize("text", [
    # strategic assets as proof of the nuclear commitment
    "خبر من بوسان\n\nرست غواصة الصواريخ الباليستية في بوسان، وقالت واشنطن إنها دليل على التزامها النووي تجاه حليفتها.",
    "خبر من سيول\n\nوصلت الحاملة إلى المياه الكورية، وقال البنتاغون إن ذلك يؤكد الضمانات النووية لسيول.",
    # the NCG described without its name
    "تحليل\n\nأنشأت سيول وواشنطن هيئة ثنائية للتخطيط المشترك للعمليات النووية على شبه الجزيرة.",
    "رأي\n\nحصلت كوريا الجنوبية على آلية مشتركة للتشاور النووي مع الولايات المتحدة.",
    # the nuclear response pledge described
    "رأي\n\nقال البيت الأبيض إن أي هجوم نووي على كوريا الجنوبية سيقابل برد أمريكي ساحق.",
    "رأي\n\nتعهدت واشنطن بأن تعامل أي ضربة نووية ضد الجنوب كأنه هجوم عليها.",
    # polls, the US nuclear commitment or defense
    "استطلاع في سيول\n\nيشك معظم الكوريين الجنوبيين في أن أمريكا ستدافع عنهم بالسلاح النووي.",
    "استطلاع في سيول\n\nتراجعت ثقة الكوريين الجنوبيين في الدفاع النووي الأمريكي عن كوريا الجنوبية.",
    "مقال\n\nيتساءل كثيرون في سيول عن متانة الالتزام النووي الأمريكي تجاه كوريا الجنوبية.",
    # summary bullets without final punctuation
    "ملخص الاجتماع الأمني في سيول\n- تأكيد الالتزام الأمريكي بحماية الجنوب بكل القدرات، بما فيها النووية\n- مناورات مشتركة",
])
def test_extended_deterrence_described(matcher: Matcher, text: str) -> None:
    assert ED in topics(matcher, text)


@pytest.mark.parametrize("text", [
    # a negated mention
    "خبر من واشنطن\n\nأكد البيان التزام الدفاع عن كوريا الجنوبية، من دون الإشارة إلى الردع الموسع.",
    "خبر من واشنطن\n\nخلا ملخص المكالمة مع سيول من أي ذكر للمظلة النووية.",
    # North Korea's threat, NATO, Russia's alliance, South Korea's own submarine, routine port calls
    "بيونغ يانغ (كنا) - قال كيم جونغ أون إن أي هجوم نووي من الولايات المتحدة أو كوريا الجنوبية سيقابل برد نووي.",
    "خبر من بروكسل\n\nبحثت مجموعة التخطيط النووي في حلف الناتو التشاور النووي مع وزير الدفاع الأمريكي وكوريا الجنوبية.",
    "خبر من موسكو\n\nقال بوتين إن أي هجوم نووي على بيلاروسيا سيقابل برد روسي، بينما تراقب كوريا الجنوبية وأمريكا.",
    "خبر من سيول\n\nتبدأ كوريا الجنوبية بناء غواصة نووية بعد موافقة واشنطن، مع التزامها بعدم الانتشار.",
    "خبر من بوسان\n\nرست حاملة الطائرات الأمريكية في بوسان في زيارة روتينية لراحة الطاقم.",
    "خبر من طهران\n\nربطت إيران عودتها إلى التزاماتها النووية بالإفراج عن أموالها في كوريا الجنوبية، متهمة واشنطن.",
    # South Korea's own response, with the US only nearby
    "خبر من سيول\n\nأكد وزير الدفاع الكوري الجنوبي أن أي هجوم نووي سيقابل برد كوري ساحق، فيما تتدرب القوات الأمريكية.",
    "خبر من سيول\n\nقالت سيول إن ردها على أي هجوم نووي من الشمال سيكون ساحقا، بالتنسيق مع الولايات المتحدة.",
])
def test_extended_deterrence_look_alikes(matcher: Matcher, text: str) -> None:
    assert ED not in topics(matcher, text)


def test_a_negation_after_the_phrase_does_not_veto_it(matcher: Matcher) -> None:
    # ``around: before_anchor``: "reaffirmed extended deterrence, without mentioning new details"
    text = "خبر من واشنطن\n\nجدد البيان التزام الردع الموسع لكوريا الجنوبية، دون الإشارة إلى تفاصيل جديدة."
    assert ED in topics(matcher, text)


@pytest.mark.parametrize("text", [
    "خبر من طوكيو\n\nحذر رئيس الوزراء من أن انخراط جنود كوريين شماليين في القتال تطور خطير.",
    "خبر من بروكسل\n\nأبدى الحلف قلقه من مشاركة قوات كورية شمالية في الحرب.",
    "موجز\n- كييف: جنود كوريون شماليون يشاركون في الهجوم الروسي على سومي.",
    "بيونغ يانغ (كنا) - قالت الصحيفة إن وحدات جيشنا التي قاتلت في كورسك أثبتت بطولتها.",
    "بيونغ يانغ (كنا) - كرم الرفيق كيم جونغ أون أبطال الوحدات الخارجية على أراضي الدولة الشقيقة.",
    "خبر عاجل\n\nقتلوا 200 عسكري كوري في منطقة كورسك خلال اسبوع.",
    "خبر عاجل\n\nاوكرانيا اسرت جنديين كوري من الجيش الشمال في كورسك.",
    "مقال\n\nأما كوريا الشمالية فقد وجدت في الحرب فرصة. لم تكتف بإرسال الذخيرة، بل دفعت بفرق من جيشها إلى أرض المعركة في غرب روسيا.",
])
def test_troops_described(matcher: Matcher, text: str) -> None:
    assert TROOPS in topics(matcher, text)


@pytest.mark.parametrize("text", [
    # 1950: the Korean People's Army with Moscow's advisers
    "في مثل هذا اليوم\n\nعام 1950 عبرت قوات كوريا الشمالية خط العرض 38 بمستشارين عسكريين من موسكو.",
    # shells and containers; analysts quoted are not troops
    "خبر من سيول\n\nيقول خبراء عسكريون إن بيونغ يانغ أرسلت آلاف الحاويات من القذائف إلى روسيا.",
    "خبر من سيول\n\nويعزو محللون عسكريون التفوق إلى بيونغ يانغ التي أرسلت قذائف إلى روسيا.",
    # a North Korean port is not a North Korean person
    "خبر من واشنطن\n\nنقلت سفن روسية الذخائر من ميناء راسون الكوري الشمالي إلى مستودعات قرب الجبهة الروسية.",
    # a model number next to "Korean", a military-intelligence hacking group
    "خبر من كييف\n\nأصابت صواريخ هواسونغ-11 كورية الشمالية الصنع مواقع في كييف.",
    "خبر من كييف\n\nسقط صاروخ كيه إن-23 الكوري في كييف أمس.",
    "خبر من كييف\n\nشنت مجموعة قرصنة مرتبطة بالاستخبارات العسكرية الكورية الشمالية هجمات على شركات في أوكرانيا.",
    # another war, a hypothetical war, a domestic drill, a Russian speaker's "our units"
    "وثائق\n\nكشفت وثائق مشاركة طيارين عسكريين من كوريا الشمالية في الحرب فوق فيتنام.",
    "تحليل\n\nستفرض مشاركة قوات كورية شمالية في الحرب، إذا اندلعت مواجهة في شبه الجزيرة، عقيدة جديدة.",
    "بيونغ يانغ (كنا) - أشرف الرفيق كيم جونغ أون على تدريب نفذته وحدات جيشنا على الجبهة الغربية.",
    "خبر من موسكو\n\nقال الرئيس بوتين إن جنودنا حرروا كورسك.\n\nوتلقى برقية تهنئة من كيم جونغ أون.",
])
def test_troops_look_alikes(matcher: Matcher, text: str) -> None:
    assert TROOPS not in topics(matcher, text)


def test_summary_bullets_count_and_headline_bullets_do_not() -> None:
    summary = ["ملخص الاجتماع الامني في سيول", "- تاكيد الالتزام بحمايه الجنوب بكل القدرات", "- مناورات مشتركه في الربيع"]
    assert [z for _, z in _zones(summary)] == ["title", "body", "body"]
    headlines = ["خبر من سيول عن الاجتماع", "- كوريا الشماليه ترسل قوات الي روسيا", "نص الخبر هنا طويل بما يكفي."]
    assert [i for i, _ in _zones(headlines)] == [0, 2]
    short_header = ["خبر من سيول عن الاجتماع", "ابرز النقاط:", "- تاكيد الالتزام بحمايه الجنوب"]
    assert [i for i, _ in _zones(short_header)] == [0, 2]
