"""Backtest report and the `match` / `backtest` commands (typer CliRunner)."""

from __future__ import annotations

import json
import pathlib
import shutil

import pytest
import typer
from typer.testing import CliRunner

from flows.match.backtest import keyword_baseline, run_backtest
from flows.match.cli import register
from flows.match import Matcher

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config"
SEEDS = ROOT / "seeds"
OWN = ROOT / "tests" / "data" / "topics"
DEVSET = ROOT / "tests" / "data" / "devset"
# Labels of the development set the matcher disagrees with, each with the reason; the tests below
# check that these are its only errors (so a new error, or a fixed one, fails them). None now: the
# one there was (d188, an opinion column labelled "no troops" that states North Korea has soldiers
# in the war in Ukraine) was relabelled to the convention of the held-out sets, where a topic stated
# once in a long piece counts.
DEVSET_DISPUTED: dict[tuple[str, str], str] = {}


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.from_config_dir(CONFIG)


@pytest.fixture()
def app() -> typer.Typer:
    a = typer.Typer()
    register(a)
    return a


runner = CliRunner()


def test_seeds_backtest_perfect_and_beats_baseline(matcher: Matcher) -> None:
    rep = run_backtest(matcher, SEEDS, SEEDS / "labels.csv")
    assert rep.files == 5
    assert [t.topic for t in rep.topics] == matcher.topic_ids
    assert rep.perfect
    for t in rep.topics:
        assert t.matcher.f1 == 1.0
    # the three decisions a keyword list cannot make (README of the seeds)
    assert sum(t.baseline.fn + t.baseline.fp for t in rep.topics) >= 3


def test_own_set_perfect(matcher: Matcher) -> None:
    rep = run_backtest(matcher, OWN, OWN / "labels.csv")
    assert rep.files >= 80
    for t in rep.topics:
        assert t.matcher.tp >= 10, t.topic
        assert (t.matcher.precision, t.matcher.recall) == (1.0, 1.0), rep.render()


# The texts measured here (later additions to the set are measured by running the backtest).
DEVSET_MEASURED = {"d": 245, "h": 339}


def _devset_labels(tmp_path: pathlib.Path, prefixes: str) -> pathlib.Path:
    """The development set's labels restricted to the measured files whose names start with one of
    ``prefixes`` (d001…d245, h001…h339)."""
    lines = (DEVSET / "labels.csv").read_text(encoding="utf-8").splitlines()

    def measured(row: str) -> bool:
        head = row.split("_", 1)[0]
        return head[:1] in prefixes and head[1:].isdigit() and int(head[1:]) <= DEVSET_MEASURED.get(head[:1], 0)

    out = tmp_path / "labels.csv"
    out.write_text("\n".join([lines[0]] + [x for x in lines[1:] if measured(x)]) + "\n", encoding="utf-8")
    return out


@pytest.mark.skipif(not (DEVSET / "labels.csv").exists(), reason="development set not merged")
def test_devset_first_batch_perfect_per_topic(matcher: Matcher, tmp_path: pathlib.Path) -> None:
    # the first 245 texts (d*): precision and recall 1.0 per topic, the disputed label read raqib's way
    rep = run_backtest(matcher, DEVSET, _devset_labels(tmp_path, "d"))
    assert rep.files >= 200
    errors = set()
    for t in rep.topics:
        assert t.matcher.tp >= 40, t.topic
        errors |= {(t.topic, x["file"]) for x in t.false_positives + t.false_negatives}
        disputed_fp = sum(1 for (topic, _f) in DEVSET_DISPUTED if topic == t.topic)
        assert t.matcher.fn == 0, rep.render()
        assert t.matcher.fp == disputed_fp, rep.render()
    assert errors == set(DEVSET_DISPUTED), rep.render()


@pytest.mark.skipif(not (DEVSET / "labels.csv").exists(), reason="development set not merged")
def test_devset_whole_only_the_disputed_label(matcher: Matcher, tmp_path: pathlib.Path) -> None:
    # the whole set (d*, and h* including the batches h177-h241 and h242-h339 written for the
    # held-out sets' miss classes): every decision right but the disputed label
    rep = run_backtest(matcher, DEVSET, _devset_labels(tmp_path, "dh"))
    assert rep.files >= 580
    errors = set()
    for t in rep.topics:
        assert t.matcher.tp >= 100, t.topic
        errors |= {(t.topic, x["file"]) for x in t.false_positives + t.false_negatives}
    assert errors == set(DEVSET_DISPUTED), rep.render()


# Sets nobody wrote rules for, each measured once unseen (their READMEs): raised to what the rules
# reached after their misses were read (development figures now, not generalisation), a change of
# the rules must not lower them.
HELDOUT_FLOORS = {
    "heldout": (239, {"nk_russia_troops": (1.0, 1.0), "two_plus_two": (1.0, 0.98), "extended_deterrence": (1.0, 1.0)}),
    "heldout2": (223, {"nk_russia_troops": (1.0, 1.0), "two_plus_two": (0.94, 0.98), "extended_deterrence": (1.0, 1.0)}),
    "heldout3": (205, {"nk_russia_troops": (1.0, 1.0), "two_plus_two": (1.0, 1.0), "extended_deterrence": (1.0, 1.0)}),
    "heldout4": (267, {"nk_russia_troops": (1.0, 1.0), "two_plus_two": (1.0, 1.0), "extended_deterrence": (1.0, 1.0)}),
    "heldout5": (122, {"nk_russia_troops": (1.0, 1.0), "two_plus_two": (1.0, 1.0), "extended_deterrence": (1.0, 1.0)}),
}


@pytest.mark.parametrize("name", sorted(HELDOUT_FLOORS))
def test_heldout_set_not_below_its_floor(matcher: Matcher, name: str) -> None:
    folder = ROOT / "tests" / "data" / name
    files, floor = HELDOUT_FLOORS[name]
    rep = run_backtest(matcher, folder, folder / "labels.csv")
    assert rep.files == files
    for t in rep.topics:
        p, r = floor[t.topic]
        assert t.matcher.precision >= p and t.matcher.recall >= r, rep.render()


def test_false_positive_listed_with_evidence(matcher: Matcher, tmp_path: pathlib.Path) -> None:
    shutil.copy(SEEDS / "000_9873b17401ff2de5.txt", tmp_path / "a.txt")
    (tmp_path / "labels.csv").write_text(
        "file,nk_russia_troops,two_plus_two,extended_deterrence,why\na.txt,0,1,1,deliberately wrong\n",
        encoding="utf-8",
    )
    rep = run_backtest(matcher, tmp_path, tmp_path / "labels.csv")
    troops, tpt, ed = rep.topics
    assert troops.matcher.fp == 1 and troops.false_positives[0]["file"] == "a.txt"
    assert troops.false_positives[0]["evidence"][0]["phrases"]
    assert ed.matcher.fn == 1 and ed.false_negatives[0]["why"] == "deliberately wrong"
    assert tpt.matcher.tp == 1
    text = rep.render()
    assert "FP a.txt" in text and "FN a.txt" in text
    d = rep.to_dict()
    assert d["topics"][0]["matcher"]["precision"] == 0.0
    assert json.dumps(d, ensure_ascii=False)


def test_keyword_baseline_is_plain_substring() -> None:
    assert keyword_baseline("اجتماع (2+2) في سول", ["2+2", "كورسك"]) == ["2+2"]
    assert keyword_baseline("اجتماع ٢+٢", ["2+2"]) == []


def test_bad_label_value(matcher: Matcher, tmp_path: pathlib.Path) -> None:
    from flows.errors import ConfigError

    (tmp_path / "a.txt").write_text("نص", encoding="utf-8")
    (tmp_path / "labels.csv").write_text("file,two_plus_two\na.txt,yes\n", encoding="utf-8")
    with pytest.raises(ConfigError) as ei:
        run_backtest(matcher, tmp_path, tmp_path / "labels.csv")
    assert ei.value.key == "line 2.two_plus_two"


def test_cli_match_json(app: typer.Typer) -> None:
    res = runner.invoke(app, ["match", str(SEEDS), "--config", str(CONFIG), "--json"])
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in res.stdout.splitlines()]
    assert len(lines) == 5
    first = lines[0]
    assert first["path"].endswith("000_9873b17401ff2de5.txt")
    assert first["topics"] == ["nk_russia_troops", "two_plus_two"]
    assert first["evidence"]["two_plus_two"][0]["phrases"]
    assert "كوريا" in res.stdout  # ensure_ascii=False


def test_cli_match_human(app: typer.Typer) -> None:
    res = runner.invoke(app, ["match", str(SEEDS / "003_efdb9537e2f129eb.txt"), "--config", str(CONFIG)])
    assert res.exit_code == 0, res.output
    assert "extended_deterrence" in res.stdout and "النطاق الكامل للقدرات العسكرية" in res.stdout


def test_cli_missing_path(app: typer.Typer, tmp_path: pathlib.Path) -> None:
    res = runner.invoke(app, ["match", str(tmp_path / "nope.txt"), "--config", str(CONFIG)])
    assert res.exit_code == 2
    assert "nope.txt" in res.output


def test_cli_bad_config_exit_2(app: typer.Typer, tmp_path: pathlib.Path) -> None:
    cfg = tmp_path / "cfg"
    shutil.copytree(CONFIG, cfg)
    p = cfg / "topics.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("window: paragraph", "window: chapter", 1), encoding="utf-8")
    res = runner.invoke(app, ["match", str(SEEDS), "--config", str(cfg)])
    assert res.exit_code == 2
    assert "topics.yaml" in res.output and "topics[two_plus_two].rules[explicit_format].window" in res.output


def test_cli_config_from_env(app: typer.Typer, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAQIB_CONFIG", str(tmp_path / "missing"))
    res = runner.invoke(app, ["match", str(SEEDS)])
    assert res.exit_code == 2 and "missing" in res.output
    monkeypatch.setenv("RAQIB_CONFIG", str(CONFIG))
    res = runner.invoke(app, ["match", str(SEEDS), "--json"])
    assert res.exit_code == 0


def test_cli_backtest(app: typer.Typer) -> None:
    res = runner.invoke(app, ["backtest", str(SEEDS), "--labels", str(SEEDS / "labels.csv"), "--config", str(CONFIG)])
    assert res.exit_code == 0, res.output
    assert "baseline" in res.stdout and "two_plus_two" in res.stdout
    res = runner.invoke(app, ["backtest", str(SEEDS), "--labels", str(SEEDS / "labels.csv"), "--config", str(CONFIG), "--json"])
    d = json.loads(res.stdout)
    assert {t["topic"]: t["matcher"]["f1"] for t in d["topics"]} == {
        "nk_russia_troops": 1.0, "two_plus_two": 1.0, "extended_deterrence": 1.0}
    assert all("baseline" in t for t in d["topics"])
