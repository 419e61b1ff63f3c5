"""Topic matcher: seeds, zones, variants, look-alikes, evidence and loud config errors."""

from __future__ import annotations

import csv
import pathlib
import shutil

import pytest

from flows.errors import ConfigError
from flows.match import Evidence, Matcher, TopicMatch

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config"
SEEDS = ROOT / "seeds"
TOPICS = ["nk_russia_troops", "two_plus_two", "extended_deterrence"]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.from_config_dir(CONFIG)


def _ids(m: Matcher, text: str, title: str | None = None) -> set[str]:
    return {t.topic for t in m.match(text, title=title)}


def _seed_rows() -> list[dict[str, str]]:
    with open(SEEDS / "labels.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_topic_ids_in_config_order(matcher: Matcher) -> None:
    assert matcher.topic_ids == TOPICS


@pytest.mark.parametrize("row", _seed_rows(), ids=lambda r: r["file"][:3])
def test_seed_decisions(matcher: Matcher, row: dict[str, str]) -> None:
    text = (SEEDS / row["file"]).read_text(encoding="utf-8")
    got = matcher.match(text)
    assert [t.topic for t in got] == [t for t in TOPICS if row[t] == "1"]
    for t in got:
        assert t.evidence, t.topic
        assert t.score >= 1


def test_evidence_is_original_text(matcher: Matcher) -> None:
    text = (SEEDS / "002_536e0786f38f2d02.txt").read_text(encoding="utf-8")
    (ed,) = matcher.match(text)
    assert isinstance(ed, TopicMatch) and ed.topic == "extended_deterrence"
    ev = ed.evidence[0]
    assert isinstance(ev, Evidence)
    assert ev.sentence == "وأكد أوستن مجددًا التزام الولايات المتحدة الصارم بالردع الموسع للدفاع عن كوريا الجنوبية."
    assert "بالردع الموسع" in ev.phrases
    assert ev.zone == "body"
    d = ed.to_dict()
    assert d["topic"] == "extended_deterrence" and d["name"]
    assert d["evidence"][0] == {"sentence": ev.sentence, "phrases": list(ev.phrases), "zone": "body"}


def test_evidence_of_concept_rule_seed_003(matcher: Matcher) -> None:
    text = (SEEDS / "003_efdb9537e2f129eb.txt").read_text(encoding="utf-8")
    (ed,) = matcher.match(text)
    assert any("النطاق الكامل للقدرات العسكرية" in p for e in ed.evidence for p in e.phrases)
    assert all(e.sentence in text for e in ed.evidence)


def test_related_block_does_not_fire(matcher: Matcher) -> None:
    # seed 000's bullets mention "زعيم كوريا الشمالية"; a bullet about troops must not fire either
    text = (
        "الحكومة تعلن خطة جديدة لدعم الزراعة في المحافظات الجنوبية\n\n"
        "أعلنت الحكومة اليوم عن خطة جديدة لدعم المزارعين وتوفير البذور والأسمدة بأسعار مخفضة.\n\n"
        "المصدر: وكالات\n\n"
        "كلمات دلالية: كوريا الشمالية روسيا جنود الردع الموسع 2+2\n\n"
        "إقرأ أيضاً:\n\n"
        "كوريا الشمالية ترسل آلاف الجنود إلى روسيا\n\n"
        "مقالات مشابهة\n\n"
        "  • واشنطن وسول تعقدان اجتماع 2+2 لوزراء الخارجية والدفاع\n"
        "  • تأكيد التزام الولايات المتحدة بالردع الموسع لكوريا الجنوبية\n"
    )
    assert _ids(matcher, text) == set()


def test_title_argument_counts(matcher: Matcher) -> None:
    body = "قال مسؤولون إن المحادثات تناولت ملفات عدة.\n\nوأضافوا أن الاجتماع سيعقد في موعده."
    assert _ids(matcher, body) == set()
    got = matcher.match(body, title="سيئول وواشنطن تعقدان اجتماع 2+2 الأسبوع المقبل")
    assert [t.topic for t in got] == ["two_plus_two"]
    assert got[0].evidence[0].zone == "title"


def _copy_config(tmp_path: pathlib.Path) -> pathlib.Path:
    d = tmp_path / "cfg"
    shutil.copytree(CONFIG, d)
    return d


def test_unknown_key_is_an_error(tmp_path: pathlib.Path) -> None:
    d = _copy_config(tmp_path)
    p = d / "topics.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("    threshold: 1\n", "", 1).replace(
        "  - id: two_plus_two\n", "  - id: two_plus_two\n    treshold: 2\n", 1), encoding="utf-8")
    with pytest.raises(ConfigError) as ei:
        Matcher.from_config_dir(d)
    assert ei.value.file.endswith("topics.yaml")
    assert ei.value.key == "topics[two_plus_two].treshold"
    assert "unknown key" in ei.value.message


def test_unknown_variant_set_names_topic_and_key(tmp_path: pathlib.Path) -> None:
    d = _copy_config(tmp_path)
    p = d / "topics.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace('terms: ["2+2"]', 'terms: ["2+2", "@no_such_set"]', 1),
                 encoding="utf-8")
    with pytest.raises(ConfigError) as ei:
        Matcher.from_config_dir(d)
    assert ei.value.key == "topics[two_plus_two].rules[explicit_format].groups[0].terms[1]"
    assert "no_such_set" in ei.value.message


def test_missing_config_file(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ConfigError) as ei:
        Matcher.from_config_dir(tmp_path)
    assert "not found" in str(ei.value)


# ----------------------------------------------------------------------------- variant data

import yaml  # noqa: E402

from flows.match.schema import TopicsFile, VariantsFile  # noqa: E402

_VARIANTS = VariantsFile.model_validate(yaml.safe_load((CONFIG / "variants.yaml").read_text(encoding="utf-8")))


def _one_set_matcher(name: str) -> Matcher:
    spec = TopicsFile.model_validate({"topics": [{"id": "probe", "name": "probe", "rules": [
        {"id": "r", "window": "sentence", "groups": [{"terms": [f"@{name}"]}]}]}]})
    return Matcher.from_spec(spec, _VARIANTS)


@pytest.mark.parametrize("name", sorted(_VARIANTS.sets))
def test_every_variant_form_is_found(name: str) -> None:
    m = _one_set_matcher(name)
    for form in _VARIANTS.sets[name].forms:
        if form.startswith("@"):
            continue
        texts = [f"قال مسؤول إن {form} في الخبر اليوم."]
        if "\u0621" <= form[0] <= "\u064a":  # Arabic: with an attached clitic too
            texts.append(f"وذكر التقرير أن و{form} أيضا في العنوان.")
        for text in texts:
            got = m.match(f"عنوان الخبر هنا\n{text}")
            assert got and got[0].topic == "probe", (name, form, text)


@pytest.mark.parametrize(
    "term, text, expected",
    [
        ("بيونغ يانغ", "أعلنت بيونجيانج اليوم عن تجربة", True),  # auto set, written as one word
        ("بيونغ يانغ", "أعلنت بيونج يانغ اليوم عن تجربة", True),
        ("كيم جونغ أون", "وقال كيم جونج-أون إن بلاده", True),
        ("كيم جونغ أون", "وقال كيم يونغ أون إن بلاده", True),
        ("سول", "وقالت سيؤول اليوم إن", True),
        ("سول", "وقالت سيئول اليوم إن", True),
        ("الولايات المتحدة", "وقالت الولاياتالمتحدة إن", True),  # glued words
        ("الردع الموسع", "في إطار تعزيزالردع الموسع", True),
        ("2+2", "اجتماع “2+2″ المقبل", True),
        ("2+2", "اجتماع الـ2+2 المقبل", True),
        ("2+2", "مفاوضات 5 + 1 المقبلة", False),
        ("2+2", "صيغة G5 + 1 المقبلة", False),
        ("2+2", "نتيجة 12+2 في الامتحان", False),
        ("جنود", "أرسلت جنودها إلى الجبهة", True),  # suffix
        ("قوات", "نشر لقواتها في روسيا", True),  # clitic + suffix
        ("القوات الكورية الشمالية", "القوات الكورية الجنوبية فقط", False),
        ("عسكريين", "المعدات العسكرية والذخائر", False),
    ],
)
def test_term_tolerance(term: str, text: str, expected: bool) -> None:
    spec = TopicsFile.model_validate({"topics": [{"id": "probe", "name": "probe", "rules": [
        {"id": "r", "window": "sentence", "groups": [{"terms": [term]}]}]}]})
    m = Matcher.from_spec(spec, _VARIANTS)
    assert bool(m.match(f"عنوان الخبر هنا للاختبار\n{text}")) is expected


def test_unless_and_exclude_semantics() -> None:
    spec = TopicsFile.model_validate({"topics": [{"id": "probe", "name": "probe", "rules": [
        {"id": "r", "window": 5, "groups": [
            {"terms": ["قوات"], "unless": ["القوات الروسية"]},
            {"terms": ["كورسك"]}],
         "exclude": [{"terms": ["ذخائر"], "window": "sentence"}]}]}]})
    m = Matcher.from_spec(spec, _VARIANTS)
    assert m.match("عنوان\nوصلت قوات جديدة إلى كورسك اليوم.")
    assert not m.match("عنوان\nوصلت القوات الروسية إلى كورسك اليوم.")  # unless masks the hit
    assert not m.match("عنوان\nوصلت قوات جديدة وذخائر إلى كورسك اليوم.")  # exclusion vetoes
    assert not m.match("عنوان\nوصلت قوات جديدة أمس بعد رحلة طويلة جدا عبر عدة مدن إلى كورسك.")  # > 5 words


def test_weights_and_threshold() -> None:
    spec = TopicsFile.model_validate({"topics": [{"id": "probe", "name": "probe", "threshold": 1.5, "rules": [
        {"id": "a", "weight": 1, "groups": [{"terms": ["كورسك"]}]},
        {"id": "b", "weight": 0.5, "groups": [{"terms": ["جنود"]}]}]}]})
    m = Matcher.from_spec(spec, _VARIANTS)
    assert not m.match("عنوان الخبر\nمعارك في كورسك اليوم.")
    (hit,) = m.match("عنوان الخبر\nجنود في كورسك اليوم.")
    assert hit.score == 1.5


def test_unreachable_threshold_is_an_error(tmp_path: pathlib.Path) -> None:
    d = _copy_config(tmp_path)
    p = d / "topics.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("  - id: two_plus_two\n", "  - id: two_plus_two\n    threshold: 99\n", 1),
                 encoding="utf-8")
    with pytest.raises(ConfigError) as ei:
        Matcher.from_config_dir(d)
    assert ei.value.key == "topics[two_plus_two]" and "never be reached" in ei.value.message


def test_bad_yaml_names_line(tmp_path: pathlib.Path) -> None:
    d = _copy_config(tmp_path)
    (d / "variants.yaml").write_text("sets:\n  a: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError) as ei:
        Matcher.from_config_dir(d)
    assert ei.value.file.endswith("variants.yaml") and "line" in ei.value.message


def test_bullets_without_header_that_read_like_headlines_do_not_fire(matcher: Matcher) -> None:
    text = (
        "الحكومة تناقش الموازنة الجديدة للعام المقبل في جلسة طارئة\n"
        "ناقش مجلس الوزراء مشروع الموازنة العامة للعام المقبل وأقر عددا من البنود.\n"
        "  • كوريا الشمالية ترسل آلاف الجنود إلى روسيا\n"
        "  • سول وواشنطن تعقدان اجتماع 2+2\n"
    )
    assert matcher.match(text) == []


def test_a_matcher_that_has_matched_pickles(matcher: Matcher) -> None:
    """A long-running process sends its (cached, already used) matcher to new extraction
    processes: it must pickle after matching, and the copy decides the same."""
    import pickle

    row = _seed_rows()[0]
    text = (SEEDS / row["file"]).read_text(encoding="utf-8")
    before = matcher.match(text)
    copy = pickle.loads(pickle.dumps(matcher))
    # sent without its per-word caches and the scan's memoized steps: a new process fills its own
    assert matcher._steps and not copy._steps and not copy._text_word_cache and copy._n_steps == 0
    assert [(m.topic, m.score) for m in copy.match(text)] == [(m.topic, m.score) for m in before]
    assert matcher.match(text) == before  # the original keeps its caches and its answers
