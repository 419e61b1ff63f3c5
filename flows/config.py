"""The one config schema: `config/feeds.yaml`, `config/alerts.yaml`, `config/settings.yaml`.

Rules:
- every file is validated by a pydantic model with unknown keys forbidden; any error stops the
  load with a `ConfigError` naming the file and the key path (never a secret value);
- `feeds.yaml` and `alerts.yaml` are required to exist only when they are referenced; a missing
  file means "none" (no feeds, no channels: alerts go to the console sink);
- an apprise URL can be written in the file (`url`), named by an environment variable (`url_env`)
  or by a Prefect Secret block (`url_secret`), so that passwords stay out of files;
- `RAQIB_NOTIFY_URLS` (whitespace separated apprise URLs) adds channels for all topics;
- topics are validated by the matcher (`flows.match.Matcher.from_config_dir`).
"""

from __future__ import annotations

import hashlib
import os
from datetime import datetime
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from flows.errors import ConfigError
from flows.yamlsafe import SAFE_LOADER

NOTIFY_URLS_ENV = "RAQIB_NOTIFY_URLS"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FeedConfig(_Strict):
    url: str
    name: str | None = None
    # A stable identity for the state database; derived from the URL when absent.
    id: str | None = None
    enabled: bool = True

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        if not re.match(r"^https?://[^\s/]+", v):
            raise ValueError("must be an http:// or https:// URL")
        return v

    @property
    def key(self) -> str:
        if self.id:
            return self.id
        return "feed-" + hashlib.sha256(self.url.encode()).hexdigest()[:16]

    @property
    def label(self) -> str:
        return self.name or self.url


class FeedsFile(_Strict):
    feeds: list[FeedConfig] = Field(default_factory=list)


class ChannelConfig(_Strict):
    name: str
    url: str | None = None
    url_env: str | None = None
    url_secret: str | None = None
    # Topic ids this channel receives; "all" (the default) receives every topic.
    topics: list[str] | Literal["all"] = "all"
    # email: HTML message with a plain part; chat: short markdown; text: plain.
    format: Literal["auto", "email", "chat", "text"] = "auto"
    # immediate: one message per story as it is found; digest: the day's stories on the digest
    # schedule; both: the two.
    mode: Literal["immediate", "digest", "both"] = "immediate"
    # The language of the messages' labels and topic names (topics.yaml `names`); Arabic by default.
    language: Literal["ar", "en"] = "ar"

    @field_validator("name")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", v):
            raise ValueError("must be 1-64 letters, digits, '_', '.' or '-'")
        return v


class AlertsFile(_Strict):
    channels: list[ChannelConfig] = Field(default_factory=list)
    # Where operator notices (feed died / recovered, channel failing) go; a channel name.
    operator_channel: str | None = None


class Limits(_Strict):
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0
    max_feed_bytes: int = 10 * 1024 * 1024
    max_page_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    max_entries_per_feed: int = 200
    fetch_concurrency: int = 8
    retries: int = 2
    # Processes extracting pages: 0 = one per core when a cycle has a full batch of pending items
    # (a spawned worker costs ~1 s to start), 1 = extract in the run's own thread.
    extract_processes: int = Field(0, ge=0)
    # Requests at once to one host (host:port), per worker process: politeness toward each site.
    per_host_concurrency: int = Field(2, ge=1)


class Polling(_Strict):
    """When each feed is polled again, and how long a worker may hold a claim.

    A feed's interval halves after a poll that brought new items and doubles after one that did
    not, within [min, max]; errors push the next poll out exponentially (Retry-After honoured).
    """

    min_interval_minutes: float = Field(5.0, gt=0)
    # 15 minutes: every healthy feed is read at least this often, so an alert comes within minutes
    # even from a feed that had been quiet for days; raise it only for feeds that can wait.
    max_interval_minutes: float = Field(15.0, gt=0)
    # A claim (feed lease, item or outbox claim) left by a dead worker is free again after this.
    lease_seconds: float = Field(600.0, gt=0)
    # A feed due within this many seconds counts as due now: a scheduled run that starts a moment
    # before the feed's next poll would otherwise skip it and leave it for the run after.
    due_grace_seconds: float = Field(15.0, ge=0)


class FeedbackSettings(_Strict):
    """Analysts' feedback links in alerts and the archive page (`flows.alerts.feedback_links`)."""

    # The archive page's address as analysts reach it (e.g. https://raqib.example.org); alerts carry
    # signed relevant / not-relevant links to it only when this is set.
    base_url: str | None = None
    # Days a link in an alert stays valid.
    link_days: float = Field(30.0, gt=0)
    # A Prefect Secret block holding the signing key, when the key is not in RAQIB_FEEDBACK_KEY.
    key_secret: str | None = None

    @field_validator("base_url")
    @classmethod
    def _http_base(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^https?://[^\s/?#]+(/[^\s?#]*)?$", v):
            raise ValueError("must be an http:// or https:// URL without query or fragment")
        return v.rstrip("/") if v else v


class Settings(_Strict):
    # Minutes between ingest runs of the scheduled deployment. A run only looks for due feeds (each
    # has its own interval, `polling`) and costs little when none is: a due feed waits at most this.
    interval_minutes: float = 1.0
    limits: Limits = Field(default_factory=Limits)
    # Items older than this many hours are recorded but not alerted (0: no limit).
    max_age_hours: float = 72.0
    # Copies of one report (wire copy, trimmed or edited rewrites) seen within this window are one
    # story: one alert, listing every outlet.
    story_window_hours: float = 48.0
    # Items polled longer ago than this lose their article text, and their rows go unless an alert
    # names them; their keys are kept, so they are never new again (0: keep everything).
    retention_days: float = Field(30.0, ge=0)
    # The digest deployment: a cron expression in `digest_timezone`, covering `digest_hours`.
    digest_cron: str = "0 7 * * *"
    digest_timezone: str = "Asia/Seoul"
    digest_hours: float = 24.0
    # A feed failing this many polls in a row is dead (still retried, shown in status, announced).
    dead_after_errors: int = 10
    # A channel failing this many sends in one cycle is announced on the operator channel.
    channel_failures_to_announce: int = 3
    # Delivery attempts before an outbox entry is dead.
    max_delivery_attempts: int = 8
    user_agent: str = "raqib/0.1 (+news monitoring)"
    # Hosts ("host" or "host:port") that article links may reach although they are not public.
    allow_hosts: list[str] = Field(default_factory=list)
    polling: Polling = Field(default_factory=Polling)
    feedback: FeedbackSettings = Field(default_factory=FeedbackSettings)


class Channel(BaseModel):
    """A resolved channel: holds the secret URL, so it is never logged or stored."""

    model_config = ConfigDict(frozen=True)

    name: str
    url: str
    topics: list[str] | Literal["all"]
    format: Literal["email", "chat", "text"]
    mode: Literal["immediate", "digest", "both"] = "immediate"
    language: Literal["ar", "en"] = "ar"

    def wants(self, topic: str) -> bool:
        return self.topics == "all" or topic in self.topics

    @property
    def immediate(self) -> bool:
        return self.mode in ("immediate", "both")

    @property
    def digest(self) -> bool:
        return self.mode in ("digest", "both")

    def __repr__(self) -> str:  # keep the URL (and its password) out of reprs and tracebacks
        return (f"Channel(name={self.name!r}, topics={self.topics!r}, format={self.format!r}, mode={self.mode!r}, "
                f"language={self.language!r})")

    __str__ = __repr__


class Config(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    config_dir: Path
    feeds: list[FeedConfig]
    channels: list[Channel]
    operator_channel: str | None
    settings: Settings


def _read_yaml(path: Path) -> Any:
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), None, f"cannot read: {exc.__class__.__name__}: {exc}") from None
    try:
        return yaml.load(raw, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise ConfigError(str(path), None, f"not valid YAML{_yaml_where(exc)}") from None


def _yaml_where(exc: yaml.YAMLError) -> str:
    """Line, column and PyYAML's problem, without its snippet: the snippet quotes the line, which may
    hold a channel URL with its password, cut anywhere (redaction cannot recognise half a URL)."""
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or exc.__class__.__name__
    context = getattr(exc, "context", None)
    cmark = getattr(exc, "context_mark", None)
    if context and cmark is not None:
        context += f" from line {cmark.line + 1}, column {cmark.column + 1}"
    return f"{where}: {problem}" + (f" ({context})" if context else "")


def _key_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def validate_file(path: Path, model: type[BaseModel]) -> BaseModel:
    """Load one YAML file into ``model``; errors name the file and the key path, not the value."""
    data = _read_yaml(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(str(path), None, "must be a mapping at the top level")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        msg = first["msg"].replace("Extra inputs are not permitted", "unknown key")
        raise ConfigError(str(path), _key_path(first["loc"]), msg + more) from None


def _resolve_url(ch: ChannelConfig, file: str, idx: int) -> str:
    given = [k for k in ("url", "url_env", "url_secret") if getattr(ch, k)]
    key = f"channels[{idx}]"
    if len(given) != 1:
        raise ConfigError(file, key, "give exactly one of url, url_env, url_secret")
    if ch.url:
        return ch.url
    if ch.url_env:
        value = os.environ.get(ch.url_env, "").strip()
        if not value:
            raise ConfigError(file, f"{key}.url_env", f"environment variable {ch.url_env} is not set")
        return value
    from flows.secrets import read_prefect_secret  # imports prefect: only when asked for

    try:
        return read_prefect_secret(ch.url_secret or "")
    except Exception as exc:  # the block may not exist or the API may be unreachable
        raise ConfigError(file, f"{key}.url_secret", f"cannot read Prefect Secret block: {exc.__class__.__name__}") from None


def _format_for(url: str, wanted: str) -> Literal["email", "chat", "text"]:
    if wanted != "auto":
        return wanted  # type: ignore[return-value]
    scheme = url.split(":", 1)[0].lower()
    if scheme in ("mailto", "mailtos", "email", "ses", "sendgrid", "mailgun", "sparkpost", "smtp2go"):
        return "email"
    if scheme == "console":
        return "text"
    return "chat"


def _missing_config_dir(config_dir: Path) -> str:
    msg = "config directory does not exist"
    if not config_dir.is_absolute():
        msg += f" (relative to the working directory {Path.cwd()})"
        if not os.environ.get("RAQIB_HOME"):
            # Prefect workers run the flow in $RAQIB_HOME (prefect.yaml's pull step).
            msg += "; RAQIB_HOME is not set: export RAQIB_HOME=<the raqib checkout> before `prefect worker start`"
    return msg


def _check_channel_topics(channels: list[ChannelConfig], topics_file: Path, file: str) -> None:
    """A channel naming a topic that does not exist would silently receive nothing: refuse it."""
    listed = [(i, ch) for i, ch in enumerate(channels) if ch.topics != "all"]
    if not listed:
        return
    data = _read_yaml(topics_file)  # the matcher validates the file itself; only the ids are read here
    topics = data.get("topics") if isinstance(data, dict) else None
    known = [t["id"] for t in topics or [] if isinstance(t, dict) and isinstance(t.get("id"), str)]
    for i, ch in listed:
        for topic in ch.topics:
            if topic not in known:
                raise ConfigError(file, f"channels[{i}] ({ch.name}).topics",
                                  f"unknown topic id {topic!r}; {topics_file.name} has: {', '.join(known) or 'none'}")


def load_config(config_dir: Path, extra_notify_urls: list[str] | None = None) -> Config:
    """Read and validate every config file of ``config_dir``; check apprise URLs."""
    from flows.alerts.notify import check_url  # apprise is only needed once channels exist

    config_dir = Path(config_dir)
    if not config_dir.is_dir():
        raise ConfigError(str(config_dir), None, _missing_config_dir(config_dir))
    feeds_file = config_dir / "feeds.yaml"
    alerts_file = config_dir / "alerts.yaml"
    settings_file = config_dir / "settings.yaml"
    feeds = validate_file(feeds_file, FeedsFile)
    alerts = validate_file(alerts_file, AlertsFile)
    settings = validate_file(settings_file, Settings)
    assert isinstance(feeds, FeedsFile) and isinstance(alerts, AlertsFile) and isinstance(settings, Settings)

    seen: set[str] = set()
    for i, feed in enumerate(feeds.feeds):
        if feed.key in seen:
            raise ConfigError(str(feeds_file), f"feeds[{i}]", "duplicate feed (same url or id)")
        seen.add(feed.key)

    channels: list[Channel] = []
    for i, ch in enumerate(alerts.channels):
        url = _resolve_url(ch, str(alerts_file), i)
        problem = check_url(url)
        if problem:
            raise ConfigError(str(alerts_file), f"channels[{i}] ({ch.name})", problem)
        channels.append(Channel(name=ch.name, url=url, topics=ch.topics, format=_format_for(url, ch.format),
                                mode=ch.mode, language=ch.language))
    _check_channel_topics(alerts.channels, config_dir / "topics.yaml", str(alerts_file))
    env_urls = os.environ.get(NOTIFY_URLS_ENV, "").split()
    for j, url in enumerate([*env_urls, *(extra_notify_urls or [])]):
        source = NOTIFY_URLS_ENV if j < len(env_urls) else "--notify"
        problem = check_url(url)
        if problem:
            raise ConfigError(source, f"url #{j + 1}", problem)
        channels.append(Channel(name=f"extra-{j + 1}", url=url, topics="all", format=_format_for(url, "auto")))
    names = [c.name for c in channels]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ConfigError(str(alerts_file), "channels", f"duplicate channel names: {sorted(dup)}")
    if alerts.operator_channel and alerts.operator_channel not in names:
        raise ConfigError(str(alerts_file), "operator_channel", f"no channel named {alerts.operator_channel!r}")
    if not channels:
        channels.append(Channel(name="console", url="console://", topics="all", format="text"))
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(settings.digest_timezone)
    except Exception:
        raise ConfigError(str(settings_file), "digest_timezone", "unknown time zone") from None
    from cronsim import CronSim, CronSimError  # Prefect's own cron parser dependency

    try:
        CronSim(settings.digest_cron, datetime.now())
    except CronSimError as exc:
        raise ConfigError(str(settings_file), "digest_cron", f"not a cron expression: {exc}") from None
    return Config(
        config_dir=config_dir,
        feeds=[f for f in feeds.feeds if f.enabled],
        channels=channels,
        operator_channel=alerts.operator_channel,
        settings=settings,
    )
