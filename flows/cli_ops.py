"""`raqib prune`: the operator's maintenance commands, apart from the run commands in `flows.cli`.

Rules: like every command, config errors exit 2 with `raqib: config error: …`; a state folder
that does not exist is an error, never a new empty database; `--json` prints one object.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from flows.cli_common import CONFIG_OPT, JSON_OPT, STATE_OPT, fail
from flows.errors import ConfigError


def _mb(n: int | None) -> str:
    return "-" if n is None else f"{n / 1e6:,.1f} MB"


def prune(config: Path = CONFIG_OPT, state: Path = STATE_OPT, as_json: bool = JSON_OPT) -> None:
    """Apply retention now: old article texts and unreferenced old items go (their keys stay, so
    they are never new again); alerts and the story window stay; SQLite gives the space back."""
    from flows.cli import open_store
    from flows.config import load_config
    from flows.store.retention import prune as run_prune

    try:
        settings = load_config(config).settings
    except ConfigError as err:
        fail(f"config error: {err}")
    store = open_store(state, must_exist=True)
    try:
        report = run_prune(store, settings)
    finally:
        store.close()
    if as_json:
        sys.stdout.write(json.dumps(report.to_dict()) + "\n")
        return
    if report.cutoff == "off":
        typer.echo("retention is off (retention_days: 0): nothing pruned")
        return
    typer.echo(f"pruned items polled before {report.cutoff.replace('T', ' ').replace('Z', ' UTC')}: "
               f"{report.texts_dropped} article texts dropped, {report.items_removed} item rows removed "
               f"(their keys kept); database {_mb(report.bytes_before)} -> {_mb(report.bytes_after)}")


def register(app: typer.Typer) -> None:
    app.command("prune")(prune)
