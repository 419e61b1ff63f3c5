"""The `raqib` command: run, serve, replay, status (and match, backtest from `flows.match.cli`).

Rules:
- config is validated before Prefect starts: a bad config or argument exits 2 with a message
  naming the file and key, and no secret;
- exit 0 when the run completed, even if some feeds failed (they are reported);
- with `--json`, stdout holds only JSON lines (one object a line); logs and progress go to stderr;
- every error text printed (`_fail`, feed failures, log records, an unexpected exception's
  traceback) goes through `flows.redact.redact` first: no password or token reaches the terminal.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from flows.cli_feedback import register as register_feedback_commands
from flows.cli_feeds import register as register_feed_commands
from flows.cli_ops import register as register_ops_commands
from flows.cli_status import status as status_command
from flows.cli_common import CONFIG_OPT, JSON_OPT, NOTIFY_OPT, STATE_OPT, fail
from flows.match.cli import register as register_topic_commands
from flows.errors import ConfigError
from flows.redact import RedactingFormatter, redact

if TYPE_CHECKING:  # the stages are imported by the commands that use them, as below
    from flows.config import Config
    from flows.store.state import Store

# Plain help (rich_markup_mode=None): flags read `--json`, values `--config DIR`.
# Tracebacks with locals would print config values (channel URLs): main() prints a redacted one.
app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode=None,
                  help="raqib (رقيب): watch Arabic news feeds for your topics and alert by email or chat.")


def _setup_logging(verbose: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    root = logging.getLogger("raqib")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False


def _term(text: object) -> str:
    """Feed or page text for the terminal: one line, no controls (ESC) or bidi controls, no secret."""
    from flows.alerts.safe import clean

    return clean(redact(str(text if text is not None else "")))


_fail = fail


def _validate(config: Path, notify: list[str] | None) -> "Config":
    """Load config and topics now, so errors stop us before Prefect starts."""
    from flows.config import load_config
    from flows.match import Matcher

    from flows.store.dburl import DATABASE_URL_ENV, check_driver, normalize

    try:
        if os.environ.get(DATABASE_URL_ENV, "").strip():
            check_driver(normalize(os.environ[DATABASE_URL_ENV]))
        cfg = load_config(config, extra_notify_urls=notify)
        Matcher.from_config_dir(config)
    except ConfigError as err:
        _fail(f"config error: {err}")
        raise AssertionError("unreachable") from None
    return cfg


def _hint_no_feeds(cfg: "Config") -> None:
    if not cfg.feeds:
        typer.echo(f"raqib: no feeds in {cfg.config_dir / 'feeds.yaml'}: add one with `raqib feeds add URL` "
                   "(a site or a feed), `raqib feeds import FILE.opml`, or a `- url:` entry under `feeds:`", err=True)


def open_store(state: Path, *, must_exist: bool = False) -> "Store":
    """The state database; errors (missing driver, a state folder that is not there) exit 2.

    ``must_exist``: commands that only read (status) refuse a state folder that does not exist
    instead of creating an empty database in it."""
    from flows.store.dburl import DATABASE_URL_ENV
    from flows.store.state import Store

    if must_exist and not os.environ.get(DATABASE_URL_ENV, "").strip() and not (state / "raqib.db").is_file():
        where = f"{state}: no such state folder" if not state.is_dir() else f"{state}: no raqib.db in this state folder"
        _fail(f"{where} (give --state DIR or set RAQIB_STATE, or RAQIB_DATABASE_URL)")
    try:
        return Store.open(state)
    except ConfigError as err:
        _fail(f"config error: {err}")
        raise AssertionError("unreachable") from None


def _export_notify(notify: list[str] | None) -> None:
    # Extra URLs travel by environment, never as flow parameters (those are stored by Prefect).
    if notify:
        from flows.config import NOTIFY_URLS_ENV

        os.environ[NOTIFY_URLS_ENV] = " ".join([*os.environ.get(NOTIFY_URLS_ENV, "").split(), *notify])


def _run_flow(config: Path, state: Path, as_json: bool, feeds: list[dict[str, Any]] | None = None,
              ignore_age: bool = False, allow_hosts: list[str] | None = None,
              all_feeds: bool = False) -> dict[str, Any]:
    """One cycle: a Prefect flow run when a server is there (`flows.runtime.prefect_api`), else the
    same cycle in this process without importing Prefect."""
    from flows.alerts import notify as notify_mod
    from flows.runtime import prefect_api

    if as_json:
        notify_mod.console_stream = sys.stderr
    params = dict(config_dir=str(config), state_dir=str(state), feeds=feeds, ignore_age=ignore_age,
                  allow_hosts=allow_hosts, all_feeds=all_feeds)
    if prefect_api(state) is None:
        from flows.cycle import ingest_cycle

        return ingest_cycle(**params)
    from flows.ingest import ingest

    return ingest(**params)


def _print_result(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        for alert in result["alerts_list"]:
            sys.stdout.write(json.dumps(alert, ensure_ascii=False) + "\n")
        sys.stdout.flush()
        return
    for f in result["feeds_list"]:
        if f["status"] == "error":
            typer.echo(f"feed failed: {_term(f['feed'])}: {_term(f['error'])}", err=True)
    from flows.summary import run_line

    typer.echo(f"\n{run_line(result)}.")


@app.command()
def run(config: Path = CONFIG_OPT, state: Path = STATE_OPT, as_json: bool = JSON_OPT,
        notify: Optional[list[str]] = NOTIFY_OPT,
        all_feeds: bool = typer.Option(False, "--all", metavar="", help="Poll every feed now, not only the ones due.")) -> None:
    """Run one ingest cycle now over the configured feeds that are due (all of them with --all)."""
    _setup_logging()
    _hint_no_feeds(_validate(config, notify))
    _export_notify(notify)
    _print_result(_run_flow(config, state, as_json, all_feeds=all_feeds), as_json)


@app.command()
def replay(folder: Path = typer.Argument(Path("seeds"), metavar="DIR", show_default=False,
                                         help="Folder of captured .txt articles (default: ./seeds)."),
           config: Path = CONFIG_OPT, state: Path = STATE_OPT, as_json: bool = JSON_OPT,
           notify: Optional[list[str]] = NOTIFY_OPT) -> None:
    """Serve DIR's .txt files as a local news site and feed, and run the pipeline on it."""
    _setup_logging()
    if not folder.is_dir():
        _fail(f"{folder}: not a directory")
    if not any(folder.glob("*.txt")):
        _fail(f"{folder}: no .txt files to replay")
    _validate(config, notify)
    _export_notify(notify)
    from flows.replay.httpserve import StaticServer
    from flows.replay.replay_site import build_site

    def skipped(err: Exception) -> None:  # a bad file is named and the replay goes on without it
        typer.echo(f"raqib: {redact(str(err))}", err=True)

    with StaticServer() as server:
        try:
            routes = build_site(folder, server.base_url, on_error=skipped)
        except ValueError as err:
            _fail(str(err))
        if len(routes) <= 1:  # the feed alone: every file was refused
            _fail(f"{folder}: no readable .txt files to replay")
        server.routes.update(routes)
        feed = {"url": f"{server.base_url}/feed.xml", "name": f"replay:{folder.resolve().name}",
                "id": f"replay-{folder.resolve().name}"}
        logging.getLogger("raqib").info("replaying %s at %s", folder, feed["url"])
        # The address guard lets article links reach this replay server, and nothing else local.
        result = _run_flow(config, state, as_json, feeds=[feed], ignore_age=True,
                           allow_hosts=[server.base_url.split("//", 1)[1]])
    _print_result(result, as_json)


@app.command("digest")
def digest_now(config: Path = CONFIG_OPT, state: Path = STATE_OPT) -> None:
    """Send today's digest to every digest channel now (once per channel and day)."""
    _setup_logging()
    _validate(config, None)
    from flows.runtime import prefect_api

    if prefect_api(state) is None:
        from flows.cycle import digest_run as digest
    else:
        from flows.ingest import digest
    sent = digest(config_dir=str(config), state_dir=str(state))
    from flows.cli_status import explain_digest

    for line in explain_digest(config, state, sent):
        typer.echo(line)


# `raqib status` lives in flows.cli_status (registered below).


@app.command()
def rematch(config: Path = CONFIG_OPT, state: Path = STATE_OPT, as_json: bool = JSON_OPT) -> None:
    """Re-run the current topics over the items in the state; show which alerts a change would add
    or remove, before it goes live. Nothing is written or sent."""
    from flows.match import Matcher

    try:
        matcher = Matcher.from_config_dir(config)
    except ConfigError as err:
        _fail(f"config error: {err}")
    store = open_store(state, must_exist=True)
    try:
        rows = store.matched_items()
        from flows.cli_feedback import judged_changes_in, print_judged_changes

        judged = judged_changes_in(store, matcher)
    finally:
        store.close()
    added = removed = 0
    for row in rows:
        now = {m.topic: m for m in matcher.match(row["text"], title=row["title"] or None)}
        before = set(row["alerted"])
        for topic in sorted(set(now) - before):
            added += 1
            ev = [e.to_dict() for e in now[topic].evidence]
            _emit(as_json, {"change": "add", "topic": topic, "title": row["title"], "url": row["link"],
                            "feed": row["feed"], "evidence": ev},
                  f"+ {topic}: {_term(row['title'])} ({_term(row['link'])})\n    {_term(ev[0]['sentence']) if ev else ''}")
        for topic in sorted(before - set(now)):
            removed += 1
            _emit(as_json, {"change": "remove", "topic": topic, "title": row["title"], "url": row["link"],
                            "feed": row["feed"]}, f"- {topic}: {_term(row['title'])} ({_term(row['link'])})")
    if not as_json:
        from flows.summary import plural

        typer.echo(f"{plural(len(rows), 'item')} re-matched: {plural(added, 'alert')} would be added, {removed} removed.")
    print_judged_changes(judged, as_json)


def _emit(as_json: bool, obj: dict[str, Any], text_line: str) -> None:
    if as_json:
        sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    else:
        typer.echo(text_line)


def _start_local_server(state: Path, port: int) -> subprocess.Popen[bytes]:
    """Start `prefect server start` on loopback (scheduled runs do not fire on the ephemeral one)."""
    import httpx

    log_path = Path(state) / "prefect-server.log"
    exe = shutil.which("prefect") or str(Path(sys.executable).parent / "prefect")
    proc = subprocess.Popen([exe, "server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui"],
                            stdout=open(log_path, "ab"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            _fail(f"prefect server exited with {proc.returncode}; see {log_path}", 1)
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                os.environ["PREFECT_API_URL"] = url
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.terminate()
    _fail(f"prefect server did not become healthy in 120 s; see {log_path}", 1)
    raise AssertionError("unreachable")


@app.command()
def serve(config: Path = CONFIG_OPT, state: Path = STATE_OPT,
          port: int = typer.Option(4200, "--port", metavar="N", help="Port of the local Prefect server started when PREFECT_API_URL is unset."),
          interval: Optional[float] = typer.Option(None, "--interval", metavar="MIN",
                                                   help="Minutes between runs (default: settings.yaml interval_minutes, 1)."),
          host: str = typer.Option("127.0.0.1", "--host", metavar="ADDR", help="Address of the archive page (default loopback only)."),
          archive_port: int = typer.Option(8470, "--archive-port", metavar="N", help="Port of the archive page (0: no page).")) -> None:
    """Serve the scheduled `ingest` (interval) and `digest` (cron) deployments until stopped,
    and the alert archive page beside them."""
    _setup_logging()
    cfg = _validate(config, None)
    _hint_no_feeds(cfg)
    settings = cfg.settings
    if archive_port:
        from flows.web.serve import start_archive_thread

        try:  # the page is secondary: alerts go on without it
            start_archive_thread(config, state, host, archive_port)
            typer.echo(f"archive page on http://{host}:{archive_port}/", err=True)
        except (RuntimeError, ConfigError) as err:
            typer.echo(f"raqib: archive page not started: {err}", err=True)
    from datetime import timedelta

    from flows.runtime import prepare_prefect_env

    minutes = interval or settings.interval_minutes
    prepare_prefect_env(state)
    # The runner looks for due runs every 10 s by default: up to 10 s added to every alert's latency.
    os.environ.setdefault("PREFECT_RUNNER_POLL_FREQUENCY", "2")
    proc = None
    if not os.environ.get("PREFECT_API_URL"):
        proc = _start_local_server(state, port)
        typer.echo(f"started a local Prefect server at {os.environ['PREFECT_API_URL']}", err=True)
    from flows.summary import RUN_LINES_ENV, stamp

    os.environ[RUN_LINES_ENV] = "1"  # every run, here and in the runner's subprocesses, prints its line
    try:
        from prefect import serve as prefect_serve
        from prefect.schedules import Cron

        from flows.ingest import digest, ingest

        params = {"config_dir": str(config.resolve()), "state_dir": str(state.resolve())}
        typer.echo(f"{stamp()} serving raqib-ingest every {minutes:g} min and raqib-digest at "
                   f"'{settings.digest_cron}' {settings.digest_timezone}; one line per run (Ctrl-C stops)", err=True)
        # The first cycle now, not one interval later: a new deployment's first scheduled run
        # comes a minute or two after the start.
        try:
            ingest(**params)
        except Exception as exc:  # the schedule retries; serving must still start
            typer.echo(f"{stamp()} run failed: {exc.__class__.__name__}: {exc}", err=True)
        prefect_serve(
            ingest.to_deployment(name="raqib-ingest", interval=timedelta(minutes=minutes), parameters=params),
            digest.to_deployment(name="raqib-digest", parameters=params,
                                 schedules=[Cron(settings.digest_cron, timezone=settings.digest_timezone)]),
            print_starting_message=False,
        )
    finally:
        if proc is not None:
            proc.terminate()


# match and backtest live beside the matcher; feeds in flows.cli_feeds, prune in flows.cli_ops.
register_topic_commands(app)
register_feedback_commands(app)  # feedback add / export, and the archive page
register_feed_commands(app)
register_ops_commands(app)
app.command("status")(status_command)


def main() -> None:
    try:
        app()
    except Exception:  # not one of ours: show where, with every secret the text may hold hidden
        import traceback

        sys.stderr.write(redact(traceback.format_exc()))
        sys.exit(1)


if __name__ == "__main__":
    main()
