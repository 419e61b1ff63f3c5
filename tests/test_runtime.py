"""One-shot commands use Prefect only when a server is there: without one, the same cycle runs
and Prefect is never imported; with one, the run is a flow run on that server (its UI shows it).
Real subprocesses, a real `prefect server start`, the seeds on a real loopback site."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from flows.replay.httpserve import Route, StaticServer, free_port
from flows.runtime import LOCAL_API_URL, server_healthy
from tests.conftest import ROOT

# Runs the command in-process and reports whether Prefect got imported along the way.
_PROBE = """
import json, sys
from flows.cli import app
try:
    app(sys.argv[1:], standalone_mode=False)
finally:
    sys.stderr.write("\\nPREFECT_IMPORTED=" + json.dumps("prefect" in sys.modules) + "\\n")
"""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_") and k != "RAQIB_PREFECT"}
    env.update(extra)
    return env


def test_health_probe_tells_a_prefect_server_from_anything_else() -> None:
    with StaticServer({"/api/health": Route("application/json", b"true")}) as fake_prefect, \
            StaticServer({"/": Route("text/html", b"<p>hi</p>")}) as other:
        assert server_healthy(fake_prefect.base_url + "/api")
        assert not server_healthy(other.base_url + "/api")  # 404
    t0 = time.monotonic()
    assert not server_healthy(f"http://127.0.0.1:{free_port()}/api")  # nothing listens
    assert time.monotonic() - t0 < 1


def test_replay_without_a_server_never_imports_prefect(tmp_path: Path) -> None:
    if server_healthy(LOCAL_API_URL):
        pytest.skip(f"a Prefect server answers at {LOCAL_API_URL}: one-shot commands would use it")
    res = subprocess.run([sys.executable, "-c", _PROBE, "replay", "--json", "--state", str(tmp_path / "state")],
                         cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "PREFECT_IMPORTED=false" in res.stderr
    assert len([json.loads(line) for line in res.stdout.splitlines() if line.strip()]) == 7
    assert not (tmp_path / "state" / "prefect").exists()  # no ephemeral server's database either


def test_prefect_can_be_asked_for_without_a_server(tmp_path: Path) -> None:
    """RAQIB_PREFECT=on: the flow runs on Prefect's ephemeral server, as before this choice existed."""
    res = subprocess.run([sys.executable, "-c", _PROBE, "digest", "--state", str(tmp_path / "state")],
                         cwd=ROOT, env=_env(RAQIB_PREFECT="on"), capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "PREFECT_IMPORTED=true" in res.stderr and "no digest sent" in res.stdout


@pytest.mark.slow
def test_with_a_server_the_run_is_a_flow_run_with_its_artifact(tmp_path: Path) -> None:
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    server = subprocess.Popen([str(Path(sys.executable).parent / "prefect"), "server", "start", "--host", "127.0.0.1",
                               "--port", str(port), "--no-ui"],
                              env=_env(PREFECT_HOME=str(tmp_path / "prefect-home"),
                                       PREFECT_SERVER_ANALYTICS_ENABLED="false"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while not server_healthy(api, timeout=1):
            assert server.poll() is None and time.monotonic() < deadline, "prefect server did not start"
            time.sleep(0.5)
        res = subprocess.run([sys.executable, "-c", _PROBE, "replay", "--json", "--state", str(tmp_path / "state")],
                             cwd=ROOT, env=_env(PREFECT_API_URL=api), capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr[-3000:]
        assert "PREFECT_IMPORTED=true" in res.stderr
        assert len([line for line in res.stdout.splitlines() if line.strip()]) == 7
        runs = httpx.post(f"{api}/flow_runs/filter", json={}, timeout=10).json()
        assert [r["state_type"] for r in runs] == ["COMPLETED"]
        assert httpx.get(f"{api}/flows/{runs[0]['flow_id']}", timeout=10).json()["name"] == "ingest"
        tasks = httpx.post(f"{api}/task_runs/filter", json={}, timeout=10).json()
        assert {t["name"].rsplit("-", 1)[0] for t in tasks} >= {"poll-feeds", "process-items", "deliver-alerts"}
        arts = httpx.post(f"{api}/artifacts/filter", json={}, timeout=10).json()
        assert [a["key"] for a in arts] == ["ingest-summary"]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
