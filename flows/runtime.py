"""Process-wide settings that must be in place before Prefect is imported, and the choice of
whether a one-shot command runs through Prefect at all.

Rules:
- a one-shot command (`raqib run`, `replay`, `digest`) reports to a Prefect server only when one
  is there: `PREFECT_API_URL` set by the operator (environment, or the active profile under
  `PREFECT_HOME`), or a server answering `/api/health` at `LOCAL_API_URL` (where `raqib serve`
  starts its own) within `PROBE_TIMEOUT` seconds. Otherwise it runs the same cycle without
  Prefect, which it never imports. `RAQIB_PREFECT=off` never uses Prefect, `RAQIB_PREFECT=on`
  always does (Prefect's temporary ephemeral server when no server is there, seconds to start);
- Prefect's home goes under the state directory, with no telemetry; a `PREFECT_API_URL` or
  `PREFECT_HOME` set by the operator always wins.
"""

from __future__ import annotations

import json
import os
import tomllib
import urllib.request
from pathlib import Path

LOCAL_API_URL = "http://127.0.0.1:4200/api"  # `raqib serve`'s default server
PROBE_TIMEOUT = 0.5
MODE_ENV = "RAQIB_PREFECT"


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


def server_healthy(api_url: str, timeout: float = PROBE_TIMEOUT) -> bool:
    """True when a Prefect server answers ``GET {api_url}/health`` with ``true`` in time."""
    try:
        with urllib.request.urlopen(api_url.rstrip("/") + "/health", timeout=timeout) as resp:  # noqa: S310
            return resp.status == 200 and json.loads(resp.read(64) or b"null") is True
    except (OSError, ValueError):
        return False


def _profile_api_url() -> str | None:
    """`PREFECT_API_URL` of the active profile in ``$PREFECT_HOME/profiles.toml``, read without Prefect."""
    home = os.environ.get("PREFECT_HOME")
    path = Path(home).expanduser() / "profiles.toml" if home else Path.home() / ".prefect" / "profiles.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    active = os.environ.get("PREFECT_PROFILE") or data.get("active")
    url = data.get("profiles", {}).get(active or "", {}).get("PREFECT_API_URL")
    return url if isinstance(url, str) and url else None


def prefect_api(state_dir: Path) -> str | None:
    """Where a one-shot command's flow run should go: a Prefect API URL, ``"ephemeral"``, or None
    (run without Prefect). Sets up Prefect's environment when the answer is not None."""
    mode = os.environ.get(MODE_ENV, "auto").strip().lower()
    if mode == "off":
        return None
    prepare_prefect_env(state_dir)
    url = os.environ.get("PREFECT_API_URL") or _profile_api_url()
    if url:
        return url
    if server_healthy(LOCAL_API_URL):
        os.environ["PREFECT_API_URL"] = LOCAL_API_URL
        return LOCAL_API_URL
    return "ephemeral" if mode == "on" else None
