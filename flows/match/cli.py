"""``raqib match`` and ``raqib backtest``: the topic matcher from the command line.

Rules:
- ``--config DIR`` defaults to ``$RAQIB_CONFIG`` when set, else ``config`` (relative to cwd).
- ``match PATH...``: PATH is a text file or a directory (its ``.txt`` files, sorted). Prints per
  file the topics and their evidence; with ``--json`` one JSON object a line on stdout only:
  ``{"path", "topics": [ids], "evidence": {topic: [evidence dicts]}}`` (``ensure_ascii=False``).
- ``backtest DIR --labels FILE.csv``: precision/recall/F1 per topic for the matcher and the
  keyword baseline side by side, FP/FN listed with evidence; ``--json`` prints the report dict.
- Errors go to stderr: a bad config or labels file exits 2 (file and key named), a missing path
  exits 2 too. A file that cannot be read as text (not a regular file, over the size bound,
  binary: ``flows.text.files``) is named on stderr and skipped; the others are still matched,
  and the command exits 1 at the end. Nothing here imports prefect.
"""

from __future__ import annotations

import json
import os
import pathlib
from typing import List, Optional

import typer

from flows.errors import ConfigError

__all__ = ["register", "default_config_dir"]


def default_config_dir() -> pathlib.Path:
    return pathlib.Path(os.environ.get("RAQIB_CONFIG") or "config")


def _fail(message: str, code: int = 2) -> None:
    from flows.redact import redact

    typer.echo(f"raqib: {redact(message)}", err=True)
    raise typer.Exit(code)


def _warn(message: str) -> None:
    from flows.redact import redact

    typer.echo(f"raqib: {redact(message)}", err=True)


def _load(config: Optional[pathlib.Path]):
    from flows.match import Matcher

    try:
        return Matcher.from_config_dir(config or default_config_dir())
    except ConfigError as exc:
        _fail(str(exc))


def register(app: typer.Typer) -> None:
    """Add the ``match`` and ``backtest`` commands to ``app``."""

    @app.command("match")
    def match_cmd(
        paths: List[pathlib.Path] = typer.Argument(..., metavar="PATH", help="Text files or directories of .txt files."),
        config: Optional[pathlib.Path] = typer.Option(None, "--config", metavar="DIR", help="Config directory (default: $RAQIB_CONFIG, else ./config)."),
        as_json: bool = typer.Option(False, "--json", metavar="", help="One JSON object a line."),
    ) -> None:
        """Match text files against the watch topics and show the evidence."""
        from flows.text.files import TextFileError, iter_text_files

        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            _fail(f"no such file or directory: {', '.join(missing)}")
        matcher = _load(config)
        refused: list[TextFileError] = []

        def report(err: TextFileError) -> None:
            refused.append(err)
            _warn(str(err))

        for path, text in iter_text_files(paths, report):
            results = matcher.match(text)
            if as_json:
                obj = {
                    "path": str(path),
                    "topics": [r.topic for r in results],
                    "evidence": {r.topic: [e.to_dict() for e in r.evidence] for r in results},
                }
                typer.echo(json.dumps(obj, ensure_ascii=False))
                continue
            typer.echo(f"{path}: {', '.join(r.topic for r in results) if results else '-'}")
            for r in results:
                typer.echo(f"  {r.topic} ({r.name}) score={r.score:g}")
                for e in r.evidence:
                    typer.echo(f"    [{e.zone}] {e.sentence}")
                    typer.echo(f"      phrases: {' | '.join(e.phrases)}")
        if refused:
            raise typer.Exit(1)

    @app.command("backtest")
    def backtest_cmd(
        folder: pathlib.Path = typer.Argument(..., metavar="DIR", help="Directory of labelled .txt files."),
        labels: pathlib.Path = typer.Option(..., "--labels", metavar="FILE.csv", help="CSV: file, one 0/1 column per topic, why."),
        config: Optional[pathlib.Path] = typer.Option(None, "--config", metavar="DIR", help="Config directory (default: $RAQIB_CONFIG, else ./config)."),
        as_json: bool = typer.Option(False, "--json", metavar="", help="Print the report as JSON."),
    ) -> None:
        """Precision/recall/F1 per topic, matcher vs keyword baseline, with FP/FN evidence."""
        from flows.match.backtest import run_backtest

        if not folder.is_dir():
            _fail(f"not a directory: {folder}")
        if not labels.is_file():
            _fail(f"no such labels file: {labels}")
        matcher = _load(config)
        try:
            report = run_backtest(matcher, folder, labels)
        except ConfigError as exc:
            _fail(str(exc))
        for problem in report.skipped:
            _warn(f"{problem['file']}: {problem['reason']}")
        if as_json:
            typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        else:
            typer.echo(report.render())
        if report.skipped:
            raise typer.Exit(1)
