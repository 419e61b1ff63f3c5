"""`raqib feedback add` and `raqib feedback export`: analysts' judgments from the command line.

Rules:
- `add URL --topic T --verdict relevant|not-relevant|missed` records one judgment (idempotent);
  a URL raqib never stored is fetched through the address guard; a refusal exits 1 with the
  reason and records nothing; a bad topic or verdict exits 2;
- `export DIR` writes the judged articles and DIR/labels.csv for `raqib backtest`;
- only `settings.yaml` and the topics are read: channel secrets are not needed here. No Prefect.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

from flows.errors import ConfigError

feedback_app = typer.Typer(add_completion=False, no_args_is_help=True,
                           help="Analysts' judgments: record one, or export them for a backtest.")

CONFIG_OPT = typer.Option(Path(os.environ.get("RAQIB_CONFIG", "config")), "--config", help="Config directory.")
STATE_OPT = typer.Option(Path(os.environ.get("RAQIB_STATE", "state")), "--state", help="State directory.")


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"raqib: {message}", err=True)
    raise typer.Exit(code)


def load_settings_and_topics(config: Path):
    """(Settings, topic ids in config order) or exit 2 naming the file and key."""
    from flows.config import Settings, validate_file
    from flows.match import Matcher

    try:
        settings = validate_file(config / "settings.yaml", Settings)
        matcher = Matcher.from_config_dir(config)
    except ConfigError as err:
        _fail(f"config error: {err}")
        raise AssertionError("unreachable") from None
    return settings, list(matcher.topic_ids)


@feedback_app.command("add")
def add(url: str = typer.Argument(..., help="The article's URL."),
        topic: str = typer.Option(..., "--topic", help="A topic id of config/topics.yaml."),
        verdict: str = typer.Option(..., "--verdict", help="relevant, not-relevant or missed."),
        config: Path = CONFIG_OPT, state: Path = STATE_OPT) -> None:
    """Record a judgment of an article for a topic (a missed article is fetched and extracted)."""
    from flows.judgments import JudgmentError, judge_url
    from flows.store.feedback import VERDICTS, FeedbackLog
    from flows.store.state import Store

    if verdict not in VERDICTS:
        _fail(f"--verdict must be one of {', '.join(VERDICTS)}")
    settings, topics = load_settings_and_topics(config)
    if topic not in topics:
        _fail(f"--topic {topic!r} is not a topic of {config / 'topics.yaml'} ({', '.join(topics)})")
    store = Store.open(state)
    try:
        got = judge_url(FeedbackLog(store), settings, topics, url=url, topic=topic, verdict=verdict, source="cli")
    except JudgmentError as err:
        _fail(f"{url}: {err}; nothing recorded", 1)
        raise AssertionError("unreachable") from None
    finally:
        store.close()
    what = {"added": "recorded", "unchanged": "already recorded, unchanged", "replaced": "recorded (replaces the earlier verdict)"}
    typer.echo(f"{verdict} for {topic}: {got.title or url} — {what[got.status]}"
               + (" (article fetched)" if got.fetched else ""))


@feedback_app.command("export")
def export_cmd(folder: Path = typer.Argument(..., help="Directory to write NAME.txt files and labels.csv into."),
               config: Path = CONFIG_OPT, state: Path = STATE_OPT) -> None:
    """Write every judged article's text and labels.csv, for `raqib backtest DIR --labels DIR/labels.csv`."""
    from flows.judgments import export
    from flows.store.feedback import FeedbackLog
    from flows.store.state import Store

    _, topics = load_settings_and_topics(config)
    store = Store.open(state)
    try:
        done = export(FeedbackLog(store), folder, topics)
    finally:
        store.close()
    for url in done.skipped:
        typer.echo(f"skipped (no text stored): {url}", err=True)
    typer.echo(f"{done.files} article(s) and labels.csv written to {folder} "
               f"(topics: {', '.join(done.topics) or 'none'})")


def archive(config: Path = CONFIG_OPT, state: Path = STATE_OPT,
            host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (default loopback only)."),
            port: int = typer.Option(8470, "--port", help="Port of the archive page.")) -> None:
    """Serve the alert archive page alone (recent alerts, feedback buttons, feed health)."""
    from flows.web.app import open_archive

    try:
        open_archive(config, state).store.close()  # fail now, with exit 2, on a bad config
    except ConfigError as err:
        _fail(f"config error: {err}")
    from flows.web.serve import run_archive

    typer.echo(f"archive page on http://{host}:{port}/", err=True)
    run_archive(config, state, host, port)


def precision_rows(store) -> list[dict]:
    """Precision as judged per topic over 30 days, for `raqib status`."""
    from flows.store.feedback import FeedbackLog

    return FeedbackLog(store).precision(30)


def print_precision(console, rows: list[dict]) -> None:
    if not rows:
        console.print("precision as judged (30 days): no judgment yet")
        return
    from rich.table import Table

    table = Table(title="precision as judged (30 days)")
    for col in ("topic", "relevant", "not relevant", "precision", "missed"):
        table.add_column(col)
    for r in rows:
        prec = f"{r['precision']:.0%} ({r['relevant']}/{r['judged']})" if r["precision"] is not None else "-"
        table.add_row(r["topic"], str(r["relevant"]), str(r["not_relevant"]), prec, str(r["missed"]))
    console.print(table)


def judged_changes_in(store, matcher) -> list[dict]:
    """For `raqib rematch`: the analysts' judgments the current topics would fix or break."""
    from flows.judgments import judged_changes
    from flows.store.feedback import FeedbackLog

    return judged_changes(FeedbackLog(store), matcher)


def print_judged_changes(changes: list[dict], as_json: bool) -> None:
    import json
    import sys

    for c in changes:
        if as_json:
            obj = {"judged": c["change"], **{k: v for k, v in c.items() if k != "change"}}
            sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
        else:
            now = "alerts now" if c["alerts_now"] else "no longer alerts"
            typer.echo(f"{c['change']}: {c['topic']} judged {c['verdict']}, {now}: {c['title']} ({c['url']})")
    if not as_json:
        fixes = sum(c["change"] == "fix" for c in changes)
        typer.echo(f"judged alerts: {fixes} fixed, {len(changes) - fixes} broken by the current topics.")


def register(app: typer.Typer) -> None:
    app.add_typer(feedback_app, name="feedback")
    app.command("archive")(archive)
