"""The US–South Korea 2+2 named in passing (the four ministers, a four-way ministerial meeting,
one side's ministers heading to it, titles instead of names, a title over a bulleted summary) and
its look-alikes (a past meeting recalled by a later one, the format described between any two
countries, one side's pair alone, the four meeting separately, another pair's counterparts), in
short texts written for these tests."""

from __future__ import annotations

import pathlib

import pytest

from flows.match import Matcher
from flows.match.zones import _zones

CONFIG = pathlib.Path(__file__).resolve().parents[1] / "config"
TOPIC = "two_plus_two"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.from_config_dir(CONFIG)


def _fires(m: Matcher, text: str) -> bool:
    return TOPIC in {t.topic for t in m.match(text)}


@pytest.mark.parametrize("text", [
    # the four ministers / a four-way meeting, the two countries named in the article
    "نتائج اللقاء\n\nقال متحدث إن الوزراء الأربعة اتفقوا على تعزيز الردع التقليدي في شبه الجزيرة.\n\n"
    "وتعقد الجولة المقبلة في سيول بعد أن استضافت واشنطن هذه الجولة.",
    "قراءة في عام\n\nعقد البلدان في الخريف اجتماعا وزاريا رباعيا لوزيري الخارجية والدفاع، وخرج بتعهدات جديدة.\n\n"
    "وتراجعت شعبية الرئيس الكوري الجنوبي بعد أسابيع، فيما انشغلت واشنطن بالانتخابات.",
    "موسكو ترد\n\nانتقدت موسكو تصريحات الوزراء الأمريكيين والكوريين الجنوبيين في ختام محادثاتهم الرباعية.",
    # one side heading to it, the other side as "the two ministers"
    "قبل السفر\n\nقال وزير الخارجية الكوري الجنوبي قبل سفره برفقة وزير الدفاع إن اللقاء مع الوزيرين الأمريكيين سيكون مثمرا.",
    "قبل السفر\n\nيتوجه وزير الخارجية الأمريكي برفقة وزير الدفاع الأمريكي إلى سيول لعقد اجتماع مع الوزيرين الكوريين الجنوبيين.",
    # both Korean ministers in the meeting's sentence, both US ministers earlier in the article
    "جولة آسيوية\n\nوصل بلينكن وأوستن إلى المنطقة صباح اليوم.\n\nوعقد الوزيران لاحقا اجتماعا مع بارك جين ولي جونغ-سوب في سيول.",
    # both nationalities in one phrase: a third capital next to it is the one reacting
    "خبر\n\nنددت بكين باجتماع وزراء الخارجية والدفاع الأمريكيين والكوريين الجنوبيين في سيول.",
    # titles instead of names
    "خبر من سيول\n\nرأس الدبلوماسية الأمريكية وسيد البنتاغون يلتقيان نظيريهما الكوريين في سيول لبحث التحالف.",
    # a title over a list alone: the list is the body
    "ما الذي اتفق عليه الوزراء الأربعة في سيول؟\n• فريق عمل مشترك للأمن السيبراني\n• عقد الجولة المقبلة في واشنطن",
    # machine translation: the conjunction written apart
    "خبر\n\nوزير الخارجية جو هيون و وزير الدفاع آن غيو-باك يحضران الاجتماع مع وزيري الخارجية و الدفاع الامريكيين.",
])
def test_two_plus_two_named_in_passing(matcher: Matcher, text: str) -> None:
    assert _fires(matcher, text)


@pytest.mark.parametrize("text", [
    # a past meeting recalled by a later one (the SCM, a visit)
    "في ختام الاجتماع الأمني التشاوري بين وزيري دفاع البلدين في سيول قال وزير الدفاع الأمريكي إن اجتماع "
    "وزراء الخارجية والدفاع الذي عقد في مارس الماضي مهد لنتائج اليوم.",
    "زيارة\n\nوصل وزير الدفاع الأمريكي إلى سيول.\n\nوتعود آخر محادثات رباعية لوزراء خارجية ودفاع البلدين إلى عام 2024.",
    "زيارة\n\nبدأ وزير الدفاع الأمريكي زيارة إلى سيول.\n\nوكان وزيرا الخارجية والدفاع في البلدين قد التقيا في "
    "عهد الإدارة السابقة في واشنطن.",
    # the format between any two countries
    "ما هي صيغة 2+2؟\n\nتعتمد دول عديدة صيغة 2+2 التي تجمع وزيري الخارجية والدفاع في بلدين لبحث الأمن.",
    # one side's pair alone
    "خبر من سيول\n\nعقد وزيرا الخارجية والدفاع الكوريان الجنوبيان اجتماعا مشتركا في سيول مع قادة الأحزاب.",
    # the four ministers never met together
    "زيارة\n\nالتقى بلينكن نظيره بارك جين، فيما عقد أوستن محادثات منفصلة مع لي جونغ-سوب، ولم يجتمع الوزراء الأربعة في جلسة واحدة.",
    # another pair's counterparts (Korea–Australia)
    "خبر من ملبورن\n\nالتقى تشو تاي-يول ووزير الدفاع شين وون-سيك بنظيريهما الأستراليين بيني وونغ وريتشارد "
    "مارلز في الاجتماع السادس لوزراء الخارجية والدفاع بين البلدين.",
    # the Korean foreign minister with his defense colleague and another country's two ministers (a
    # guard for kr_fm_with_defense_meets_us_pair, which takes "the two ministers" by nationality)
    "خبر\n\nقال وزير الخارجية الكوري الجنوبي إنه سيتوجه برفقة وزير الدفاع إلى طوكيو للقاء الوزيرين اليابانيين.",
    # another pair's four ministers; the Korean ministers meeting each other; four cabinet ministers;
    # a third country added to both nationalities (guards for the rules that read "the four ministers")
    "اجتماع في طوكيو\n\nاجتمع وزراء خارجية ودفاع اليابان والولايات المتحدة في طوكيو.\n\n"
    "وقال الوزراء الأربعة إن التعاون مع سيول ضروري، وأشادوا بالموقف الكوري الجنوبي.",
    "تحليل\n\nوصل وزير الخارجية الأمريكي إلى سيول، والتقى وزير الدفاع الأمريكي بنظيره في اليوم التالي.\n\n"
    "وعقد وزير الخارجية الكوري الجنوبي اجتماعا مع وزير الدفاع الكوري الجنوبي لبحث الميزانية.",
    "أخبار من سيول\n\nقدم الوزراء الأربعة المتهمون في قضية الأحكام العرفية استقالاتهم إلى الرئيس الكوري الجنوبي، "
    "فيما قالت واشنطن إنها تتابع الوضع.",
    "خبر\n\nاجتمع وزراء الخارجية والدفاع الأمريكيين والكوريين الجنوبيين واليابانيين في هاواي.",
])
def test_two_plus_two_look_alikes(matcher: Matcher, text: str) -> None:
    assert not _fires(matcher, text)


def test_a_list_under_a_body_is_still_furniture() -> None:
    # the points count only when they are the whole body: under prose they read as other headlines
    alone = ["عنوان الملخص هنا اليوم", "• النقطة الأولى في القائمة", "• النقطة الثانية في القائمة"]
    assert _zones(alone) == [(0, "title"), (1, "body"), (2, "body")]
    under_prose = ["عنوان الخبر هنا اليوم", "نص الخبر الأول في سطر طويل.", "• عنوان خبر آخر هنا"]
    assert _zones(under_prose) == [(0, "title"), (1, "body")]
