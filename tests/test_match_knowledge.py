"""The knowledge file: validation, generated spellings, roles and people in rules."""

from __future__ import annotations

import pathlib
import shutil

import pytest
import yaml

from flows.errors import ConfigError
from flows.match import Matcher
from flows.match.knowledge import KnowledgeFile, generated_spellings
from flows.text.normalize import normalize

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config"
KNOWLEDGE = yaml.safe_load((CONFIG / "knowledge.yaml").read_text(encoding="utf-8"))
SPEC = KnowledgeFile.model_validate(KNOWLEDGE)


def _config(tmp_path: pathlib.Path, topics: list[dict] | None = None, knowledge: dict | None = None) -> pathlib.Path:
    d = tmp_path / "config"
    shutil.copytree(CONFIG, d)
    if topics is not None:
        (d / "topics.yaml").write_text(yaml.safe_dump({"version": 1, "topics": topics}, allow_unicode=True),
                                       encoding="utf-8")
    if knowledge is not None:
        (d / "knowledge.yaml").write_text(yaml.safe_dump(knowledge, allow_unicode=True), encoding="utf-8")
    return d


def _one_rule(*groups: list[str], window: str = "sentence") -> list[dict]:
    return [{"id": "probe", "name": "probe", "rules": [
        {"id": "r", "window": window, "groups": [{"terms": g} for g in groups]}]}]


# ----------------------------------------------------------------------------- the data

OFFICE_HOLDERS = {
    "us_foreign_minister": ["clinton", "kerry", "tillerson", "pompeo", "blinken", "rubio"],
    "us_defense_minister": ["gates", "panetta", "hagel", "carter", "mattis", "esper", "austin", "hegseth"],
    "kr_foreign_minister": ["yu_myung_hwan", "kim_sung_hwan", "yun_byung_se", "kang_kyung_wha", "chung_eui_yong",
                            "park_jin", "cho_tae_yul", "cho_hyun"],
    "kr_defense_minister": ["kim_tae_young", "kim_kwan_jin", "han_min_koo", "song_young_moo", "jeong_kyeong_doo",
                            "suh_wook", "lee_jong_sup", "shin_won_sik", "kim_yong_hyun", "ahn_gyu_back"],
    "nk_leader": ["kim_il_sung", "kim_jong_il", "kim_jong_un"],
}


@pytest.mark.parametrize("role", sorted(OFFICE_HOLDERS))
def test_every_office_holder_since_2009_is_known_in_order(role: str) -> None:
    holders = sorted((p.offices[0].start, pid) for pid, p in SPEC.people.items() if p.offices[0].role == role)
    assert [pid for _, pid in holders] == OFFICE_HOLDERS[role]
    for pid in OFFICE_HOLDERS[role]:
        assert len(SPEC.people[pid].spellings) >= 2, pid


def test_terms_follow_one_another() -> None:
    for role in OFFICE_HOLDERS:
        terms = sorted((o.start, o.end) for p in SPEC.people.values() for o in p.offices if o.role == role)
        for (s1, e1), (s2, _) in zip(terms, terms[1:]):
            assert e1 is not None and e1 <= s2, (role, s1, s2)


@pytest.mark.parametrize("spelling, variant", [
    ("تشو تاي يول", "جو تاي يول"),      # ch / j
    ("هيغسيث", "هيجسيث"),               # g
    ("هيغسيث", "هيقسيث"),
    ("يون بيونغ سي", "يون بيونج سي"),   # -ng
    ("يون بيونغ سي", "يون بيونغسي"),    # Korean given name glued
    ("كيم يونغ هيون", "كيم يونج هيون"),
])
def test_generated_spellings(spelling: str, variant: str) -> None:
    classes = [c.letters for c in SPEC.spelling]
    assert normalize(variant) in generated_spellings(spelling, classes)


# ----------------------------------------------------------------------------- roles in rules


@pytest.fixture(scope="module")
def role_matcher(tmp_path_factory: pytest.TempPathFactory) -> Matcher:
    topics = [{"id": r, "name": r, "rules": [{"id": "r", "window": "sentence", "groups": [{"terms": [f"@{r}"]}]}]}
              for r in ("us_foreign_minister", "us_defense_minister", "kr_foreign_minister", "kr_defense_minister")]
    return Matcher.from_config_dir(_config(tmp_path_factory.mktemp("roles"), topics))


@pytest.mark.parametrize("sentence, role", [
    ("وصل وزير الخارجية الأمريكي إلى المنطقة", "us_foreign_minister"),
    ("وصل وزير الخارجية الأميركي إلى المنطقة", "us_foreign_minister"),
    ("وصلت وزيرة الخارجية الأمريكية إلى المنطقة", "us_foreign_minister"),
    ("قال رئيس الدبلوماسية الأمريكية إن المحادثات جيدة", "us_foreign_minister"),
    ("قال وزير خارجية الولايات المتحدة إن المحادثات جيدة", "us_foreign_minister"),
    ("قالت هيلاري كلينتون إن المحادثات جيدة", "us_foreign_minister"),
    ("قال تيليرسون إن المحادثات جيدة", "us_foreign_minister"),
    ("وقال الوزير بلينكين للصحفيين", "us_foreign_minister"),
    ("وقال وزير الحرب الأمريكي للصحفيين", "us_defense_minister"),
    ("وقال رئيس البنتاجون للصحفيين", "us_defense_minister"),
    ("وقال الوزير هيجسيث للصحفيين", "us_defense_minister"),
    ("وقال آش كارتر للصحفيين", "us_defense_minister"),
    ("وقال ليون بانيتا للصحفيين", "us_defense_minister"),
    ("والتقى وزير الخارجية الكوري الجنوبي بنظيره", "kr_foreign_minister"),
    ("والتقت وزيرة الخارجية الكورية الجنوبية كانغ كيونغ وها بنظيرها", "kr_foreign_minister"),
    ("والتقى جو تاي يول بنظيره", "kr_foreign_minister"),
    ("والتقى يون بيونغسي بنظيره", "kr_foreign_minister"),
    ("وقال وزير دفاع كوريا الجنوبية للصحفيين", "kr_defense_minister"),
    ("وقال وزير الدفاع في سيئول للصحفيين", "kr_defense_minister"),
    ("وقال جيونغ كيونغ-دو للصحفيين", "kr_defense_minister"),
    ("وقال الوزير سوه ووك للصحفيين", "kr_defense_minister"),
    ("وقال آن جيو باك للصحفيين", "kr_defense_minister"),
    ("وقال أن كيو بيك للصحفيين", "kr_defense_minister"),
    # machine translation of "Secretary of State / of Defense", the Maghreb's "كاتب الدولة"
    ("وقال سكرتير الدولة الأمريكي للصحفيين", "us_foreign_minister"),
    ("وقال كاتب الدولة الأمريكي للخارجية للصحفيين", "us_foreign_minister"),
    ("وقال سكرتير الدفاع الأمريكي للصحفيين", "us_defense_minister"),
    ("وقال قائد البنتاغون للصحفيين", "us_defense_minister"),
])
def test_role_matches_titles_and_holders(role_matcher: Matcher, sentence: str, role: str) -> None:
    got = {t.topic for t in role_matcher.match(f"عنوان الخبر هنا\n{sentence} اليوم.")}
    assert got == {role}


def test_other_countries_ministers_are_not_the_role(role_matcher: Matcher) -> None:
    for s in ("وقال وزير الخارجية الياباني للصحفيين", "وقال وزير الدفاع الروسي للصحفيين",
              "وقال وزير الخارجية الكوري الشمالي للصحفيين"):
        assert role_matcher.match(f"عنوان الخبر هنا\n{s} اليوم.") == [], s


# ----------------------------------------------------------------------------- loud errors


@pytest.mark.parametrize("term", ["@us_forein_minister", "@no_such_person", "وزير @kr_defence_minister"])
def test_unknown_role_person_or_variant_in_a_rule_names_file_topic_and_key(tmp_path: pathlib.Path, term: str) -> None:
    d = _config(tmp_path, _one_rule(["سيول"], [term]))
    with pytest.raises(ConfigError) as ei:
        Matcher.from_config_dir(d)
    assert ei.value.file.endswith("topics.yaml")
    assert ei.value.key == "topics[probe].rules[r].groups[1].terms[0]"
    assert "unknown variant set, role or person" in ei.value.message


def _broken(change) -> dict:
    k = yaml.safe_load((CONFIG / "knowledge.yaml").read_text(encoding="utf-8"))
    change(k)
    return k


@pytest.mark.parametrize("change, key, words", [
    (lambda k: k["people"]["blinken"].update(nickname="x"), "people.blinken.nickname", "unknown key"),
    (lambda k: k["people"]["blinken"]["offices"][0].update(role="us_foriegn_minister"),
     "people.blinken.offices[0].role", "unknown role"),
    (lambda k: k["people"]["kerry"]["offices"][0].update({"to": "2012-01-01"}),
     "people.kerry.offices[0]", "before it starts"),
    (lambda k: k["people"]["austin"].update(spellings=[]), "people.austin.spellings", "at least 1"),
    (lambda k: k["roles"]["kr_president"].update(titles=["رئيس @no_such_set"]),
     "roles.kr_president.titles[0]", "unknown variant set"),
    (lambda k: k["people"].update(seoul={"name": "x", "country": "kr", "spellings": ["سول"]}),
     "people.seoul", "also a variant set"),
])
def test_bad_knowledge_names_file_and_key(tmp_path: pathlib.Path, change, key: str, words: str) -> None:
    d = _config(tmp_path, knowledge=_broken(change))
    with pytest.raises(ConfigError) as ei:
        Matcher.from_config_dir(d)
    assert ei.value.file.endswith("knowledge.yaml")
    assert ei.value.key == key, ei.value
    assert words in ei.value.message, ei.value


def test_config_dir_without_knowledge_uses_raqibs_own(tmp_path: pathlib.Path) -> None:
    d = _config(tmp_path)
    (d / "knowledge.yaml").unlink()
    m = Matcher.from_config_dir(d)
    assert m.match("لقاء وزراء\nالتقى بلينكن وأوستن مع نظيريهما الكوريين في سول اليوم لبحث التعاون.")


# ----------------------------------------------------------------------------- roots (~word)


@pytest.mark.parametrize("term, text, expected", [
    ("~جندي", "قتل عشرات الجنديين في المعركة", True),
    ("~جندي", "وصل آلاف المجندين إلى الجبهة", True),
    ("~جندي", "وقال الجنود إنهم تلقوا الأوامر", True),
    ("~أرسل", "وكانت بيونغ يانغ يرسلون دفعات جديدة", True),
    ("~أرسل", "أعلن عن إرسال دفعة جديدة", True),
    ("~أرسل", "أرسلتها الحكومة أمس", True),
    ("~جندي", "وقال القائد إنهم تلقوا الأوامر", False),
    ("جندي", "وصل آلاف المجندين إلى الجبهة", False),  # without ~ only clitics and suffixes
])
def test_root_terms_match_inflections(term: str, text: str, expected: bool) -> None:
    from flows.match.schema import TopicsFile

    spec = TopicsFile.model_validate({"knowledge": None, "variants": None, "topics": _one_rule([term])})
    got = Matcher.from_spec(spec).match(f"عنوان الخبر هنا\n{text}.")
    assert bool(got) is expected


def test_root_term_must_be_one_arabic_word(tmp_path: pathlib.Path) -> None:
    d = _config(tmp_path, _one_rule(["~ab"]))
    with pytest.raises(ConfigError) as ei:
        Matcher.from_config_dir(d)
    assert ei.value.key == "topics[probe].rules[r].groups[0].terms[0]" and "root word" in ei.value.message
