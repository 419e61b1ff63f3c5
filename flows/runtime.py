"""Process-wide settings that must be in place before Prefect is imported.

Rules: embedded by default (Prefect's ephemeral server, its home under the state directory,
no telemetry); a `PREFECT_API_URL` or `PREFECT_HOME` set by the operator always wins.
"""

from __future__ import annotations

import os
from pathlib import Path


def prepare_prefect_env(state_dir: Path) -> None:
    state_dir = Path(state_dir).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_HOME", str(state_dir / "prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_ENABLED", "true")
    # Prefect's own console logs go to stderr; raqib's --json output owns stdout.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_LOGGING_LOGGERS_RAQIB_LEVEL", "INFO")
