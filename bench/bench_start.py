"""What a one-shot command costs as a user runs it: `raqib replay` of the seeds on a fresh state,
and `raqib run` over a feed that has not changed, with no Prefect server and with one.

Usage (from the repository root):  .venv/bin/python bench/bench_start.py [--server] [--repeat N]

Each command is a subprocess (`raqib …`, environment without PREFECT_*), timed from start to
exit. The feed is the seeds served on loopback (`flows.replay`); `run` polls it with `--all`
(the second and later polls find it unchanged: 304) and without (nothing due: no request).
``--server`` also starts `prefect server start` on a free loopback port and repeats the runs
with `PREFECT_API_URL` pointing at it (the flow run then shows in that server's UI).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flows.replay.httpserve import StaticServer, free_port  # noqa: E402
from flows.replay.replay_site import build_site  # noqa: E402

RAQIB = str(Path(sys.executable).parent / "raqib")


def _timed(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    t0 = time.monotonic()
    res = subprocess.run([RAQIB, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    took = time.monotonic() - t0
    if res.returncode != 0:
        raise RuntimeError(f"raqib {' '.join(args)} failed:\n{res.stderr[-3000:]}")
    return took, res


def start_server(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A real `prefect server start` on a free loopback port; returns (process, API URL)."""
    from flows.runtime import server_healthy

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(tmp / "prefect-home")
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    proc = subprocess.Popen([str(Path(sys.executable).parent / "prefect"), "server", "start", "--host", "127.0.0.1",
                             "--port", str(port), "--no-ui"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server_healthy(url, timeout=1):
            return proc, url
        if proc.poll() is not None:
            raise RuntimeError("prefect server exited")
        time.sleep(0.5)
    proc.terminate()
    raise RuntimeError("prefect server did not become healthy in 180 s")


def measure(tmp: Path, api_url: str | None = None, repeat: int = 1) -> dict[str, float]:
    """Seconds per command (best of ``repeat``): replay on a fresh state, run --all over an
    unchanged feed, run with nothing due."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_") and k != "RAQIB_PREFECT"}
    if api_url:
        env["PREFECT_API_URL"] = api_url
    out: dict[str, float] = {}
    with StaticServer() as site:
        site.routes.update(build_site(ROOT / "seeds", site.base_url))
        host = site.base_url.split("//", 1)[1]
        cfg = tmp / "config"
        shutil.copytree(ROOT / "config", cfg, dirs_exist_ok=True)
        (cfg / "feeds.yaml").write_text(f"feeds:\n  - url: {site.base_url}/feed.xml\n    name: seeds\n",
                                        encoding="utf-8")
        (cfg / "settings.yaml").write_text(f"max_age_hours: 0\nallow_hosts: ['{host}']\n", encoding="utf-8")
        for k in range(repeat):
            took, res = _timed(["replay", str(ROOT / "seeds"), "--json", "--config", str(cfg), "--state", str(tmp / f"replay-{k}")],
                               env, tmp)
            alerts = [ln for ln in res.stdout.splitlines() if ln.strip()]
            if len(alerts) != 7:
                raise RuntimeError(f"replay printed {len(alerts)} alerts, not 7")
            out["replay_fresh_s"] = min(out.get("replay_fresh_s", 1e9), took)
        state = tmp / "run-state"
        out["run_first_s"], _ = _timed(["run", "--all", "--json", "--config", str(cfg), "--state", str(state)], env, tmp)
        for k in range(repeat):
            before = len(site.paths_requested())
            took, _ = _timed(["run", "--all", "--json", "--config", str(cfg), "--state", str(state)], env, tmp)
            if site.paths_requested()[before:] != ["/feed.xml"]:
                raise RuntimeError(f"unchanged run requested {site.paths_requested()[before:]}")
            out["run_unchanged_s"] = min(out.get("run_unchanged_s", 1e9), took)
            took, _ = _timed(["run", "--json", "--config", str(cfg), "--state", str(state)], env, tmp)
            out["run_nothing_due_s"] = min(out.get("run_nothing_due_s", 1e9), took)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", action="store_true", help="also measure with a running Prefect server")
    ap.add_argument("--repeat", type=int, default=1, help="best of N for each command")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="raqib-start-"))
    try:
        rows = {"no server": measure(tmp / "plain", repeat=args.repeat)}
        if args.server:
            proc, url = start_server(tmp)
            try:
                rows["server running"] = measure(tmp / "server", api_url=url, repeat=args.repeat)
            finally:
                os.killpg(proc.pid, 15)
                proc.wait(timeout=30)
        for label, r in rows.items():
            print(f"{label:15s} replay (fresh) {r['replay_fresh_s']:.2f} s | run (first) {r['run_first_s']:.2f} s | "
                  f"run --all, feed unchanged {r['run_unchanged_s']:.2f} s | run, nothing due {r['run_nothing_due_s']:.2f} s")
        print(json.dumps(rows))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
