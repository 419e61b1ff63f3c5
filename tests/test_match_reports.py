"""Short reports written the ways outlets write them: each sentence alone in the body (after a
headline) and as the headline itself, with the topic it must (or must not) fire."""

from __future__ import annotations

import pathlib

import pytest

from flows.match import Matcher

CONFIG = pathlib.Path(__file__).resolve().parents[1] / "config"

CASES = [
 ("nk_russia_troops", True, "زيلينسكي: أسرنا جنديين من كوريا الشمالية في كورسك"),
 ("nk_russia_troops", True, "كوريا الشمالية تعترف لأول مرة بإرسال قوات إلى روسيا"),
 ("nk_russia_troops", True, "كيم جونغ أون يكرم الجنود الذين قاتلوا في كورسك"),
 ("nk_russia_troops", True, "بيونغيانغ تنشر 3000 عسكري إضافي في روسيا"),
 ("nk_russia_troops", True, "الاستخبارات الكورية الجنوبية: مقتل 100 جندي كوري شمالي في المعارك مع القوات الأوكرانية"),
 ("nk_russia_troops", True, "مرتزقة كيم جونغ أون يقاتلون في كورسك"),
 ("nk_russia_troops", True, "سيول: بيونغ يانغ سترسل 6 آلاف مهندس عسكري إلى كورسك"),
 ("nk_russia_troops", True, "البنتاغون: نحو 8 آلاف جندي كوري شمالي وصلوا إلى منطقة كورسك الحدودية"),
 ("nk_russia_troops", True, "كوريا الشمالية ترسل مزيدا من الجنود لدعم روسيا في حربها على أوكرانيا"),
 ("nk_russia_troops", True, "أوكرانيا تعرض تبادل أسيرين كوريين شماليين مع روسيا"),
 ("nk_russia_troops", True, "وقالت المخابرات إن بيونغ يانغ نشرت نحو 10 آلاف جندي في روسيا"),
 ("nk_russia_troops", False, "وفد عسكري روسي يزور بيونغ يانغ لبحث التعاون"),
 ("nk_russia_troops", False, "كوريا الشمالية ترسل ملايين القذائف إلى روسيا"),
 ("nk_russia_troops", False, "جنود أوكرانيون يستخدمون صواريخ كورية شمالية استولوا عليها من الروس"),
 ("two_plus_two", True, "سيول وواشنطن تعقدان اجتماع 2+2 في واشنطن الجمعة"),
 ("two_plus_two", True, "اجتماع الـ\"2 + 2\" الكوري-الأمريكي يبحث التهديد النووي"),
 ("two_plus_two", True, "وزيرا الخارجية والدفاع الأمريكيان يزوران سيول لإجراء محادثات 2+2"),
 ("two_plus_two", True, "اجتماع وزراء خارجية ودفاع كوريا الجنوبية والولايات المتحدة في واشنطن"),
 ("two_plus_two", True, "تأجيل المحادثات الأمنية 2+2 بين سيئول وواشنطن إلى موعد لاحق"),
 ("two_plus_two", True, "بلينكن وأوستن يجريان محادثات مع بارك جين ولي جونغ سوب في واشنطن"),
 ("two_plus_two", True, "عقد وزيرا خارجية ودفاع البلدين اجتماعهما الوزاري المشترك في سيول، بمشاركة وزير الخارجية الأمريكي ووزير الدفاع الأمريكي"),
 ("two_plus_two", False, "عقد وزيرا الدفاع الأمريكي والكوري الجنوبي اجتماعا في سيول"),
 ("two_plus_two", False, "اجتماع 2+2 بين الولايات المتحدة واليابان في طوكيو يبحث كوريا الجنوبية"),
 ("extended_deterrence", True, "أكدت واشنطن التزامها بالردع الموسّع لكوريا الجنوبية"),
 ("extended_deterrence", True, "المظلة النووية الأمريكية تحمي كوريا الجنوبية"),
 ("extended_deterrence", True, "عقدت مجموعة التشاور النووي بين سيول وواشنطن اجتماعها الثالث"),
 ("extended_deterrence", True, "إعلان واشنطن الذي وقعه بايدن ويون سوك يول عام 2023 يعزز الردع"),
 ("extended_deterrence", True, "أكد البلدان التزامهما بتعزيز الردع الممتد في شبه الجزيرة الكورية"),
 ("extended_deterrence", True, "وصلت غواصة نووية أمريكية إلى بوسان في استعراض للردع الموسع لسيول"),
 ("extended_deterrence", False, "الردع النووي لكوريا الشمالية يتعزز بصاروخ جديد"),
 ("extended_deterrence", False, "تعهد الناتو بتعزيز الردع الموسع لأوروبا في مواجهة روسيا"),
 ("nk_russia_troops", True, "تقرير: الجيش الروسي يدمج وحدات كورية شمالية في صفوفه قرب كورسك"),
 ("nk_russia_troops", True, "الكرملين ينفي وجود جنود كوريين شماليين على أراضيه"),
 ("nk_russia_troops", True, "سقوط أول قتيل كوري شمالي في الحرب الأوكرانية"),
 ("nk_russia_troops", True, "بيونغ يانغ تبدأ سحب قواتها من روسيا"),
 ("nk_russia_troops", True, "كوريون شماليون يقاتلون إلى جانب القوات الروسية في كورسك"),
 ("nk_russia_troops", True, "تدريب الجنود الكوريين الشماليين في الشرق الأقصى الروسي قبل نقلهم إلى الجبهة"),
 ("nk_russia_troops", True, "صور تظهر جنودا من كوريا الشمالية في منطقة بريمورسكي الروسية"),
 ("nk_russia_troops", False, "روسيا ترسل مستشارين عسكريين إلى كوريا الشمالية"),
 ("nk_russia_troops", False, "كوريا الشمالية ترسل عمالا إلى مواقع البناء في روسيا"),
 ("nk_russia_troops", False, "مناورات عسكرية مشتركة بين روسيا وكوريا الشمالية في بحر اليابان"),
 ("nk_russia_troops", False, "الجنود الكوريون الجنوبيون يشاركون في تدريبات مع القوات الأمريكية"),
 ("two_plus_two", True, "كوريا الجنوبية والولايات المتحدة تتفقان على عقد اجتماع 2+2 في الربع الأول"),
 ("two_plus_two", True, "أعلنت الخارجية الكورية أن اجتماع 2+2 مع واشنطن سيعقد الشهر المقبل"),
 ("two_plus_two", True, "المحادثات الوزارية 2+2 بين كوريا وأمريكا تنطلق اليوم"),
 ("two_plus_two", False, "الهند والولايات المتحدة تعقدان حوار 2+2 في نيودلهي"),
 ("two_plus_two", False, "نائبا وزيري الخارجية والدفاع في كوريا والولايات المتحدة يعقدان حوار 2+2"),
 ("two_plus_two", False, "لقاء بين وزير الخارجية الكوري الجنوبي ونظيره الأمريكي في واشنطن"),
 ("extended_deterrence", True, "سيول تطالب واشنطن بمزيد من الضمانات بشأن الردع الموسع"),
 ("extended_deterrence", True, "الاجتماع الأول لمجموعة التشاور النووية بين كوريا الجنوبية والولايات المتحدة"),
 ("extended_deterrence", True, "تحليل: هل تكفي المظلة النووية الأمريكية لطمأنة سيول؟"),
 ("extended_deterrence", True, "التزمت الولايات المتحدة بالدفاع عن كوريا الجنوبية باستخدام النطاق الكامل لقدراتها بما فيها النووية"),
 ("extended_deterrence", False, "اليابان تطلب تعزيز الردع الموسع الأمريكي لها في مواجهة الصين"),
 ("extended_deterrence", False, "كوريا الشمالية: قوة الردع النووي لدينا جاهزة للرد على كوريا الجنوبية"),
 ("extended_deterrence", False, "الولايات المتحدة وكوريا الجنوبية تتعهدان بردع أي عدوان من الشمال"),
]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.from_config_dir(CONFIG)


@pytest.mark.parametrize("topic, expected, sentence", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_report(matcher: Matcher, topic: str, expected: bool, sentence: str) -> None:
    in_body = matcher.match("خبر\n" + sentence + " وفق ما أفادت به وكالات الأنباء اليوم.")
    as_title = matcher.match(sentence + "\nوأضاف المصدر أن التفاصيل ستعلن لاحقا في بيان رسمي.")
    assert (topic in {t.topic for t in in_body}) is expected
    assert (topic in {t.topic for t in as_title}) is expected


def test_hash_is_any_number(matcher: Matcher) -> None:
    from flows.match.schema import TopicsFile

    spec = TopicsFile.model_validate({"knowledge": None, "variants": None, "topics": [{"id": "p", "name": "p", "rules": [
        {"id": "r", "groups": [{"terms": ["# جندي"]}]}]}]})
    m = Matcher.from_spec(spec)
    assert m.match("خبر\nوصل 3000 جندي إلى المنطقة.")
    assert m.match("خبر\nوصل ٢٥٠ جندي إلى المنطقة.")
    assert not m.match("خبر\nوصل آلاف الجنود إلى المنطقة.")
