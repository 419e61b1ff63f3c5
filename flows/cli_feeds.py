"""`raqib feeds …`: the feed list in and out — add by site, import and export OPML, list with health.

Rules:
- `add` and `import` write `config/feeds.yaml` keeping its comments (`flows.feeds_file`), skip
  feeds already listed, and say what they added and skipped;
- `add URL` fetches through the bounded fetch and the address guard (`settings.allow_hosts`
  applies), so a URL typed by the operator reaches only public hosts unless allowed;
- `export` writes OPML 2.0 on stdout (or `--output FILE`) and nothing else there;
- `list` reads the state database only if it exists (it never creates one) and shows each
  feed's health beside it: last poll with its zone, status, consecutive errors, next poll.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from flows.cli_common import CONFIG_OPT, JSON_OPT, STATE_OPT, fail
from flows.errors import ConfigError

feeds_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                        help="The feed list: add a site's feeds, import or export OPML, list with health.")


def _load(config: Path) -> Any:
    from flows.config import load_config

    try:
        return load_config(config)
    except ConfigError as err:
        fail(f"config error: {err}")


def _write(config: Path, new: list[Any]) -> None:
    from flows.feeds_file import add_feeds

    try:
        added, skipped = add_feeds(config / "feeds.yaml", new)
    except ConfigError as err:
        fail(f"config error: {err}")
    for f in added:
        typer.echo(f"added: {f.url}" + (f" ({f.name})" if f.name else ""))
    for f in skipped:
        typer.echo(f"already listed: {f.url}")
    typer.echo(f"{len(added)} added, {len(skipped)} already listed, in {config / 'feeds.yaml'}")


@feeds_app.command("add")
def add(url: str = typer.Argument(..., metavar="URL", help="A feed, or a site's home or article page."),
        config: Path = CONFIG_OPT,
        name: Optional[str] = typer.Option(None, "--name", metavar="TEXT", help="The outlet's name (default: the feed's title)."),
        every: bool = typer.Option(False, "--all", metavar="", help="Add every feed found, not only the first.")) -> None:
    """Find the feed(s) of URL (<link rel="alternate">, common feed paths) and add to feeds.yaml."""
    from flows.feeds_file import NewFeed
    from flows.sources.discover import discover
    from flows.sources.fetch import FetchError, make_client
    from flows.sources.guard import make_guard

    cfg = _load(config)
    if not url.lower().startswith(("http://", "https://")):
        fail(f"{url}: not an http:// or https:// URL")
    limits = cfg.settings.limits
    with make_client(limits, cfg.settings.user_agent) as client:
        try:
            found = discover(client, url, limits, make_guard(cfg.settings.allow_hosts))
        except FetchError as err:
            fail(f"cannot fetch {url}: {err.reason}", 1)
    if not found:
        fail(f"{url}: no RSS or Atom feed found (no <link rel=\"alternate\"> feed, none at the common paths)", 1)
    chosen = found if every else found[:1]
    for other in found[len(chosen):]:
        typer.echo(f"also found: {other.url}" + (f" ({other.title})" if other.title else "") + " (add it with --all)")
    _write(config, [NewFeed(f.url, name or f.title) for f in chosen])


@feeds_app.command("import")
def import_opml(file: Path = typer.Argument(..., metavar="FILE.opml", help="An OPML export of an RSS reader."),
                config: Path = CONFIG_OPT) -> None:
    """Add the feeds of an OPML file (Miniflux, FreshRSS, Feedly, Inoreader exports) to feeds.yaml."""
    from flows.feeds_file import NewFeed
    from flows.sources.opml import parse_opml

    _load(config)
    try:
        feeds, rejected = parse_opml(file.read_bytes())
    except OSError as exc:
        fail(f"{file}: cannot read: {exc.strerror or exc}")
    except ValueError as exc:
        fail(f"{file}: {exc}")
    for url, reason in rejected:
        typer.echo(f"raqib: {file}: skipped {url!r}: {reason}", err=True)
    if not feeds:
        fail(f"{file}: no feed outlines (outline elements with an xmlUrl)")
    _write(config, [NewFeed(f.url, f.name) for f in feeds])


@feeds_app.command("export")
def export_opml(config: Path = CONFIG_OPT,
                output: Optional[Path] = typer.Option(None, "--output", "-o", metavar="FILE",
                                                      help="Write to FILE instead of stdout.")) -> None:
    """Write the configured feeds as OPML 2.0, for any RSS reader."""
    from flows.sources.opml import OpmlFeed, render_opml

    cfg = _load(config)
    data = render_opml([OpmlFeed(f.url, f.name) for f in cfg.feeds])
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        output.write_bytes(data)
        typer.echo(f"{len(cfg.feeds)} feeds written to {output}", err=True)


@feeds_app.command("list")
def list_feeds(config: Path = CONFIG_OPT, state: Path = STATE_OPT, as_json: bool = JSON_OPT) -> None:
    """The configured feeds with their health: last poll, status, errors, next poll."""
    from flows.store.dburl import DATABASE_URL_ENV
    from flows.summary import stamp

    cfg = _load(config)
    health: dict[str, dict[str, Any]] = {}
    if os.environ.get(DATABASE_URL_ENV, "").strip() or (state / "raqib.db").is_file():
        from flows.store.state import Store

        try:
            store = Store.open(state)
        except ConfigError as err:
            fail(f"config error: {err}")
        try:
            health = {r["key"]: r for r in store.feed_rows()}
        finally:
            store.close()
    rows = []
    for f in cfg.feeds:
        h = health.get(f.key)
        if h is None:
            rows.append({"name": f.label, "url": f.url, "health": "not polled yet"})
            continue
        errors = int(h["consecutive_errors"] or 0)
        word = "dead" if h["dead"] else ("failing" if errors else "ok")
        rows.append({"name": f.label, "url": f.url, "health": word, "errors": errors,
                     "last_poll": stamp(h["last_polled_at"]) if h["last_polled_at"] else None,
                     "next_poll": stamp(h["next_poll_at"]) if h["next_poll_at"] else None,
                     "last_error": h["last_error"]})
    if as_json:
        for r in rows:
            sys.stdout.write(json.dumps(r, ensure_ascii=False) + "\n")
        return
    if not rows:
        typer.echo(f"no feeds in {config / 'feeds.yaml'}: add one with `raqib feeds add URL`")
        return
    for r in rows:
        line = f"{r['health']:<14} {r['name']}  <{r['url']}>"
        if r.get("last_poll"):
            line += f"\n               last poll {r['last_poll']}, next {r['next_poll'] or '-'}"
            if r.get("errors"):
                line += f", {r['errors']} failed polls in a row: {(r['last_error'] or '')[:120]}"
        typer.echo(line)


def register(app: typer.Typer) -> None:
    app.add_typer(feeds_app, name="feeds")
