"""Local text files (flows.text.files) through the real `raqib match` / `backtest` / `replay`.

A FIFO named like a text file, a file over the size bound, a binary file and a windows-1256 file
sit beside good ones: the bad ones are named on stderr, the good ones are still matched.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from flows.text.files import MAX_TEXT_FILE_BYTES, TextFileError, read_text_file
from tests.test_cli import ROOT, raqib

TROOPS = "تقرير\nأرسلت كوريا الشمالية آلاف الجنود إلى روسيا للقتال في كورسك، بحسب مسؤولين.\n"
OTHER = "خبر\nافتتحت البلدية حديقة عامة جديدة في وسط المدينة صباح اليوم.\n"

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo (POSIX)")


def hostile_folder(root: Path) -> Path:
    d = root / "texts"
    d.mkdir()
    (d / "a_utf8.txt").write_text(TROOPS, encoding="utf-8")
    (d / "b_cp1256.txt").write_bytes(TROOPS.encode("cp1256"))
    (d / "c_binary.txt").write_bytes(bytes(range(256)) * 64)
    with open(d / "d_huge.txt", "wb") as fh:  # sparse: 100 MB on paper, nothing on disk
        fh.truncate(100 * 1024 * 1024)
    if hasattr(os, "mkfifo"):
        os.mkfifo(d / "e_fifo.txt")
    (d / "f_other.txt").write_text(OTHER, encoding="utf-8")
    return d


@needs_fifo
def test_match_skips_bad_files_by_name_and_goes_on(tmp_path: Path) -> None:
    d = hostile_folder(tmp_path)
    res = raqib("match", str(d), "--config", str(ROOT / "config"), "--json", timeout=120)
    assert res.returncode == 1, res.stderr
    got = {Path(o["path"]).name: o["topics"] for o in map(json.loads, res.stdout.splitlines())}
    assert got == {"a_utf8.txt": ["nk_russia_troops"], "b_cp1256.txt": ["nk_russia_troops"], "f_other.txt": []}
    err = res.stderr
    assert "c_binary.txt" in err and "binary" in err
    assert "d_huge.txt" in err and "100.0 MiB" in err and "limit" in err
    assert "e_fifo.txt" in err and "FIFO" in err


@needs_fifo
def test_a_fifo_named_directly_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "x.txt"
    os.mkfifo(fifo)
    res = raqib("match", str(fifo), "--config", str(ROOT / "config"), timeout=60)
    assert res.returncode == 1 and "x.txt" in res.stderr and "not a regular file" in res.stderr


def test_size_bound_is_configurable_and_named(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_text(TROOPS * 10, encoding="utf-8")
    assert read_text_file(f) .startswith("تقرير")
    with pytest.raises(TextFileError, match="limit"):
        read_text_file(f, max_bytes=100)
    res = raqib("match", str(f), "--config", str(ROOT / "config"), env_extra={"RAQIB_MAX_TEXT_FILE_BYTES": "100"})
    assert res.returncode == 1 and "a.txt" in res.stderr and "RAQIB_MAX_TEXT_FILE_BYTES" in res.stderr
    assert MAX_TEXT_FILE_BYTES == 8 * 1024 * 1024  # the bound README documents


@pytest.mark.parametrize("codec", ["utf-8", "utf-8-sig", "utf-16", "cp1256"])
def test_text_files_decode_as_pages_do(tmp_path: Path, codec: str) -> None:
    f = tmp_path / "a.txt"
    f.write_bytes(TROOPS.encode(codec))
    assert read_text_file(f) == TROOPS


def test_backtest_scores_the_readable_files_and_names_the_others(tmp_path: Path) -> None:
    d = hostile_folder(tmp_path)
    labels = d / "labels.csv"
    labels.write_text("file,nk_russia_troops,why\na_utf8.txt,1,t\nb_cp1256.txt,1,t\nc_binary.txt,0,x\n"
                      "d_huge.txt,0,x\nf_other.txt,0,o\n", encoding="utf-8")
    res = raqib("backtest", str(d), "--labels", str(labels), "--config", str(ROOT / "config"), "--json",
                timeout=120)
    assert res.returncode == 1, res.stderr
    report = json.loads(res.stdout)
    assert report["files"] == 3
    assert {s["file"] for s in report["skipped"]} == {"c_binary.txt", "d_huge.txt"}
    (topic,) = [t for t in report["topics"] if t["topic"] == "nk_russia_troops"]
    assert "c_binary.txt" in res.stderr and "d_huge.txt" in res.stderr
    assert json.dumps(topic).count("f_other.txt") == 0  # no false positive


@pytest.mark.slow
@needs_fifo
def test_replay_goes_on_past_bad_files(tmp_path: Path) -> None:
    folder = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", folder, ignore=shutil.ignore_patterns("*.csv", "*.md"))
    first = sorted(folder.glob("*.txt"))[0]
    first.write_bytes(first.read_text(encoding="utf-8").encode("cp1256"))  # an Arabic legacy encoding
    (folder / "zz_binary.txt").write_bytes(bytes(range(256)) * 64)
    os.mkfifo(folder / "zz_fifo.txt")
    res = raqib("replay", str(folder), "--json", "--state", str(tmp_path / "state"), timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    alerts = [json.loads(x) for x in res.stdout.splitlines() if x.strip()]
    assert len(alerts) == 7  # every labelled alert, the windows-1256 seed's included
    assert "zz_binary.txt" in res.stderr and "zz_fifo.txt" in res.stderr
