"""What every `raqib` command shares: its options' wording and its one error prefix.

Rules: defaults are written once ("default: $RAQIB_CONFIG, else ./config"); flags show as flags
and values by a metavar (`--config DIR`, `--json`); every error goes to stderr as `raqib: …`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import typer

from flows.redact import redact

CONFIG_OPT = typer.Option(Path(os.environ.get("RAQIB_CONFIG", "config")), "--config", metavar="DIR", show_default=False,
                          help="Config directory (default: $RAQIB_CONFIG, else ./config).")
STATE_OPT = typer.Option(Path(os.environ.get("RAQIB_STATE", "state")), "--state", metavar="DIR", show_default=False,
                         help="State directory: SQLite database, Prefect home (default: $RAQIB_STATE, else ./state).")
JSON_OPT = typer.Option(False, "--json", metavar="", help="One JSON object a line on stdout; logs on stderr.")
NOTIFY_OPT = typer.Option(None, "--notify", metavar="URL", help="Extra apprise URL for all topics (repeatable).")


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"raqib: {redact(message)}", err=True)
    raise typer.Exit(code)
