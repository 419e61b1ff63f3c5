"""The report classes the held-out set showed (troops never called troops, 2+2 by titles only,
extended deterrence through strategic assets or indirect pledges) and their look-alikes, in short
sentences written for these tests; and ``around: anchor`` for sentence/paragraph exclusions."""

from __future__ import annotations

import pathlib

import pytest

from flows.match import Matcher
from tests.match_fixtures import CONFIG, shipped_matcher, topics


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return shipped_matcher()


@pytest.mark.parametrize("text", [
    "خبر عاجل من كييف\n\nقالت مصادر إن جنود كوريا ش. وصلوا إلى الجبهة الروسية أمس.",
    "خبر من سيول\n\nسيول (يونهاب) - قالت هيئة الأركان إن قوات الشمال انتقلت إلى منطقة كورسك الشهر الماضي.",
    "خبر من سيول\n\nسيول = قالت الاستخبارات الوطنية أن الجيش الشمالي تم نقله إلى روسيا في الشتاء.",
    "خبر من كييف\n\nقالت الاستخبارات إن عناصر كورية شمالية تقاتل على محور كورسك منذ أسابيع.",
    "خبر من كييف\n\nأفاد ضابط بأن أطقم مدفعية كورية شمالية تعمل في مواقع داخل مقاطعة بيلغورود.",
    "خبر من موسكو\n\nبث التلفزيون الروسي مشاهد للرفاق الكوريين في الخطوط الأمامية إلى جانب وحدات روسية.",
    "خبر من بيونغ يانغ\n\nكرم الزعيم كيم جونغ أون الجنود الذين سقطوا في ساحة القتال خارج البلاد.",
    "خبر من هيسان\n\nتلقت أسر في كوريا الشمالية نبأ وفاة أبنائها الذين أرسلوا في مهمة بالخارج.",
    "خبر من كورسك\n\nيشكو الضباط الروس من صعوبة التفاهم مع المقاتلين القادمين من بيونغ يانغ.",
])
def test_troops_without_the_word(matcher: Matcher, text: str) -> None:
    assert "nk_russia_troops" in topics(matcher, text)


@pytest.mark.parametrize("text", [
    "خبر من أوكرانيا\n\nنقلت القيادة الشمالية الأوكرانية قوات الشمال إلى منطقة كورسك للدفاع عنها.",
    "خبر من سيول\n\nسيول (يونهاب) - رصد الجيش سحب جنود كوريين شماليين من المنطقة منزوعة السلاح قرب الجبهة، وسط تقارب مع روسيا.",
    "خبر من بيونغ يانغ\n\nكرم كيم جونغ أون جنودا سقطوا في الحرب الكورية عام 1953 بحضور وفد روسي.",
    "خبر من تشونغجين\n\nتنتظر أسر كورية شمالية أبناءها الذين أرسلوا للعمل في مواقع البناء في فلاديفوستوك.",
    "خبر من موسكو\n\nأرسلت كوريا الشمالية فرقة فنية إلى موسكو للمشاركة في مهرجان ثقافي روسي.",
    "خبر من موسكو\n\nأرسلت بيونغ يانغ اللواء كيم إلى روسيا لحضور عرض عسكري في الساحة الحمراء.",
    "خبر من موسكو\n\nضباط روس يدربون الجيش الكوري الشمالي على الطائرات المسيرة في بيونغ يانغ.",
])
def test_troops_look_alikes(matcher: Matcher, text: str) -> None:
    assert "nk_russia_troops" not in topics(matcher, text)


@pytest.mark.parametrize("text", [
    "لقاء في واشنطن\n\nيجتمع كبار الدبلوماسيين وقادة الدفاع في سيول وواشنطن في اجتماع مشترك الشهر المقبل.",
    "لقاء في واشنطن\n\nالتقى وزير الخارجية الكوري الجنوبي ووزير الدفاع الكوري الجنوبي بنظيريهما الأمريكيين في واشنطن.",
    "تحليل\n\nتعيش سيول قلقا من الرسوم الجمركية.\n\nوتستعد العاصمتان لعقد اجتماع بصيغة 2+2 في الربيع.",
    "... وبحث الوزراء الأربعة ملف الرسوم على الصلب.\n\nوقال بلينكن إن أوستن سيبقى في سيول يوما إضافيا.",
])
def test_two_plus_two_by_titles_and_article_context(matcher: Matcher, text: str) -> None:
    assert "two_plus_two" in topics(matcher, text)


@pytest.mark.parametrize("text", [
    "لقاء في لندن\n\nعقد وزير الخارجية الكوري الجنوبي اجتماع 2+2 في لندن مع وزير الدفاع البريطاني ونظيره.",
    "حوار جديد\n\nسيول وواشنطن تطلقان حوار 2+2 حول سلاسل الإمداد والرقائق.",
    "سيرة\n\nوخلال مسيرته كان ضمن الوفد الكوري في اجتماع 2+2 مع الولايات المتحدة.",
    "اجتماع تحضيري\n\nعقد مديرون عامون من سيول وواشنطن اجتماعا بصيغة 2+2 على مستوى المديرين العامين.",
    "... وبحث الوزراء الأربعة في طوكيو ملف بحر الصين الجنوبي.\n\nوقال بلينكن إن أوستن سيتوجه بعدها إلى سيول.",
    "... وبحث الوزراء الأربعة ملف تايوان، فيما قال وزير الدفاع الياباني إن بلاده ستزيد إنفاقها.\n\n"
    "وكان بلينكن وأوستن قد وصلا من سيول.",
    "... وبحث الوزراء الأربعة ملف تايوان.\n\nوكان بلينكن وأوستن قد التقيا نظيريهما اليابانيين بعد وصولهما من سيول.",
])
def test_two_plus_two_look_alikes(matcher: Matcher, text: str) -> None:
    assert "two_plus_two" not in topics(matcher, text)


@pytest.mark.parametrize("text", [
    "زيارة\n\nرست غواصة أمريكية نووية في جيجو، في خطوة تظهر التزام الولايات المتحدة بالدفاع عن كوريا الجنوبية.",
    "تحليل\n\nتتكرر في كوريا الجنوبية المطالبة بالقنبلة.\n\nويرى آخرون أن الغطاء النووي الأمريكي يكفي.",
    "تصريح\n\nقال الوزير إن بلاده ستدافع عن كوريا الجنوبية بكل الوسائل التقليدية منها والنووية.",
    "استطلاع\n\nلا يثق كثيرون بأن الولايات المتحدة ستفي بوعدها بالدفاع عن الجنوب بأسلحتها النووية.",
    "تمرين\n\nأجرت سيول وواشنطن تمرينا على الرادع الموسع الأمريكي.",
])
def test_extended_deterrence_indirect(matcher: Matcher, text: str) -> None:
    assert "extended_deterrence" in topics(matcher, text)


@pytest.mark.parametrize("text", [
    "زيارة\n\nرست غواصة أمريكية نووية في اسكتلندا، في خطوة تظهر الالتزام الأمريكي بالدفاع عن حلفاء الناتو مثل كوريا الجنوبية.",
    "تهديد\n\nقال كيم جونغ أون إنه سيستخدم كل الوسائل بما فيها النووية ضد كوريا الجنوبية دفاعا عن البلاد.",
    "ماكرون\n\nتحدث ماكرون عن المظلة النووية الفرنسية لأوروبا.\n\nوتتابع كوريا الجنوبية النقاش.",
])
def test_extended_deterrence_look_alikes(matcher: Matcher, text: str) -> None:
    assert "extended_deterrence" not in topics(matcher, text)


def _one_rule(tmp_path: pathlib.Path, around: str) -> Matcher:
    cfg = tmp_path / around
    cfg.mkdir()
    (cfg / "variants.yaml").write_bytes((CONFIG / "variants.yaml").read_bytes())
    (cfg / "topics.yaml").write_text(f"""version: 1
topics:
  - id: t
    name: t
    rules:
      - id: r
        window: article
        groups:
          - terms: [المظلة النووية]
          - terms: [سيول]
        exclude:
          - terms: [اليابان]
            window: paragraph
            around: {around}
""", encoding="utf-8")
    return Matcher.from_config_dir(cfg)


def test_unit_exclusion_around_anchor_counts_the_anchors_unit_only(tmp_path: pathlib.Path) -> None:
    text = "عنوان طويل هنا\n\nتتابع سيول واليابان النقاش عن كثب.\n\nوتراهن الحكومة على المظلة النووية منذ عقود."
    # default: the paragraph of any chosen phrase (سيول's paragraph names Japan) vetoes
    assert topics(_one_rule(tmp_path, "phrases"), text) == set()
    # around: anchor: only the umbrella's own paragraph counts
    anchored = _one_rule(tmp_path, "anchor")
    assert topics(anchored, text) == {"t"}
    assert topics(anchored, "عنوان طويل هنا\n\nتتابع سيول النقاش.\n\nوتراهن اليابان على المظلة النووية منذ عقود.") == set()


def test_a_line_starting_with_the_verb_share_is_prose_not_a_share_button(matcher: Matcher) -> None:
    body = "شارك كيم جونغ أون في تكريم جنود قتلوا في منطقة كورسك الروسية خلال معارك الشتاء."
    assert "nk_russia_troops" in topics(matcher, f"عنوان طويل للخبر هنا\n\n{body}")
    # a share line stays furniture
    share = "شارك: جنود كوريون شماليون في كورسك"
    assert "nk_russia_troops" not in topics(matcher, f"عنوان طويل للخبر هنا\n\n{share}")


# The classes the second held-out set's misses showed (tests/data/heldout2/README.md), in sentences
# written for these tests: each look-alike fired before its rule was fixed.
@pytest.mark.parametrize("text", [
    "خبر من واشنطن\n\nفرضت وزارة الخزانة عقوبات على عدد من الأفراد والكيانات في روسيا وكوريا الشمالية بتهمة تسهيل صفقات السلاح.",
    "خبر من موسكو\n\nزار وفد من سفارة كوريا الشمالية في روسيا مقبرة للجنود السوفييت الذين قاتلوا عام 1945.",
    "خبر من كييف\n\nنشرت كتيبة أوكرانية مقطع فيديو يظهر جنودها يطلقون النار من مدفع من صنع كوريا الشمالية، قالوا إنهم استولوا عليه من القوات الروسية في منطقة خاركيف.",
    "خبر من كييف\n\nنشر فوج أوكراني صورا تظهر عناصره يشغلون راجمة من صنع كوريا الشمالية، وقالوا إنهم غنموها من الجيش الروسي في منطقة زابوريجيا.",
])
def test_troops_second_set_look_alikes(matcher: Matcher, text: str) -> None:
    assert "nk_russia_troops" not in topics(matcher, text)


def test_troops_in_a_kursk_front_town(matcher: Matcher) -> None:
    text = "خبر من كييف\n\nقالت الاستخبارات الأوكرانية إن جنودا من كوريا الشمالية يقاتلون قرب بلدة سودجا منذ أسابيع."
    assert "nk_russia_troops" in topics(matcher, text)


@pytest.mark.parametrize("text", [
    "زيارة إلى واشنطن\n\nوصل وزير الخارجية الكوري الجنوبي إلى واشنطن في أول زيارة منذ أن حضر سلفه اجتماع 2+2 هناك العام الماضي.",
])
def test_two_plus_two_predecessor_background(matcher: Matcher, text: str) -> None:
    assert "two_plus_two" not in topics(matcher, text)


def test_one_letter_abbreviation_ends_no_sentence(matcher: Matcher) -> None:
    # "ك. الشمالية": the abbreviation's full stop used to end the sentence before الشمالية
    text = "خبر من كييف\n\nقالت الاستخبارات إن لواء جديدا من قوات ك. الشمالية وصل إلى مقاطعة كورسك الأسبوع الماضي."
    assert "nk_russia_troops" in topics(matcher, text)


def test_sentence_ends_after_a_date_letter_and_a_full_stop() -> None:
    from flows.match.model import _sentence_bounds

    text = "وقعت الحرب عام 1950 م. وقال الباحث إن ك. الشمالية تغيرت."
    bounds = _sentence_bounds(text)
    assert [text[a:b] for a, b in bounds] == ["وقعت الحرب عام 1950 م", "وقال الباحث إن ك. الشمالية تغيرت."]


# The US pledge to use its nuclear weapons for the South, said with a pronoun or a verb (the third
# held-out set's misses), and North Korea's own weapons "to defend it", which stay negative.
@pytest.mark.parametrize("text", [
    "تصريح أمريكي\n\nقال متحدث باسم الخارجية الأمريكية إن واشنطن ستحمي كوريا الجنوبية بأسلحتها النووية إذا تعرضت لهجوم.",
    "تحليل\n\nتعتمد كوريا الجنوبية على حليفها.\n\nفهي تستند إلى ضمانة بأن الولايات المتحدة ستستخدم قدراتها النووية للدفاع عنها عند الضرورة.",
])
def test_extended_deterrence_as_a_nuclear_defense_pledge(matcher: Matcher, text: str) -> None:
    assert "extended_deterrence" in topics(matcher, text)


def test_north_koreas_own_weapons_to_defend_it_are_not_ours(matcher: Matcher) -> None:
    text = ("بيان من بيونغ يانغ\n\nقالت كوريا الشمالية إن أسلحتها النووية للدفاع عنها في وجه الولايات المتحدة"
            " وحليفتها كوريا الجنوبية.")
    assert "extended_deterrence" not in topics(matcher, text)
