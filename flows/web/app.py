"""The archive page as a Starlette app: alerts, feedback buttons, the "missed" form, feed health.

Rules:
- everything from feeds and pages is untrusted: every template autoescapes, evidence is escaped
  before its phrases are wrapped in <mark>, and a headline links only to an http(s) URL; a strict
  Content-Security-Policy (no script at all, styles and forms from this origin only) and
  `Referrer-Policy: same-origin` (a signed URL never leaks to an article's site) on every answer;
- a judgment is recorded only from a POST whose fields carry a valid, unexpired signature
  (`flows.alerts.feedback_links`): the page's buttons and the "missed" form are signed when the
  page is rendered, and a link from an alert (GET) only shows a confirmation button, so a mail
  scanner that follows links records nothing; a POST from another origin (Origin or
  Sec-Fetch-Site says so) is refused; a refusal is HTTP 403 and nothing is written;
- no secret reaches a response: the key signs, it is never rendered; channel URLs are never read;
- binds 127.0.0.1 unless told otherwise (`raqib archive --host`); behind a reverse proxy the page
  works under any path prefix (every link and form action is relative).
"""

from __future__ import annotations

import html
import logging
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qs, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from flows.alerts import feedback_links as fl
from flows.alerts.safe import FILTERS, clean, http_link
from flows.config import Settings
from flows.judgments import JudgmentError, judge_item, judge_url
from flows.store.feedback import FeedbackLog
from flows.store.state import Store
from flows.web import queries
from flows.web.chart import alerts_chart

HERE = Path(__file__).parent
PAGE_FORM_LIFETIME_S = 24 * 3600  # the buttons of a rendered page stay valid a day
MAX_FORM_BYTES = 16 * 1024
VERDICT_NAMES = {"relevant": "ذو صلة", "not-relevant": "ليس ذا صلة", "missed": "فائت"}
FEED_STATES = {"ok": "يعمل", "error": "يتعثر", "dead": "متوقف", "new": "لم يُجلب بعد"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "same-origin",  # never to an article's site; Origin stays meaningful
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
_log = logging.getLogger("raqib.web")

_TEMPLATES = Environment(loader=FileSystemLoader(HERE / "templates"),
                         autoescape=select_autoescape(enabled_extensions=("html.j2",), default=True))
_TEMPLATES.filters.update(FILTERS)  # `clean`: one line, no bidi controls (flows.alerts.safe)


def highlight(sentence: str, phrases: list[str]) -> Markup:
    """The sentence escaped, each phrase (longest first, one pass) wrapped in <mark>."""
    wanted = sorted({p for p in phrases if p and p in sentence}, key=len, reverse=True)
    if not wanted:
        return Markup(html.escape(sentence))
    out, last = [], 0
    for m in re.finditer("|".join(re.escape(p) for p in wanted), sentence):
        out += [html.escape(sentence[last:m.start()]), f"<mark>{html.escape(m.group(0))}</mark>"]
        last = m.end()
    out.append(html.escape(sentence[last:]))
    return Markup("".join(out))


def safe_href(url: str | None) -> str | None:
    """``url`` as a link when it is an absolute http(s) URL with a host, else None (shown as text)."""
    return http_link(url) if url else None


@dataclass
class Archive:
    store: Store
    settings: Settings
    topics: list[tuple[str, str]]  # (id, name) in config order
    key: bytes

    @property
    def topic_ids(self) -> list[str]:
        return [t for t, _ in self.topics]

    @property
    def names(self) -> dict[str, str]:
        return dict(self.topics)


def _page(template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    return HTMLResponse(_TEMPLATES.get_template(template).render(**ctx), status_code=status, headers=SECURITY_HEADERS)


def _message(heading: str, detail: str = "", status: int = 200, kind: str = "ok", **ctx: Any) -> HTMLResponse:
    return _page("message.html.j2", status, heading=heading, detail=detail, kind=kind, **ctx)


def _refused(reason: str) -> HTMLResponse:
    return _message("لم يُسجَّل شيء", f"الرابط أو النموذج غير صالح أو انتهت صلاحيته ({reason}).", 403, "refused")


def _cross_site(request: Request) -> bool:
    """True when the browser says the POST comes from another site (Sec-Fetch-Site, else Origin).
    A client that sends neither (curl) is judged by the signature alone."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return origin == "null" or urlsplit(origin).netloc != request.headers.get("host", "")


async def _form(request: Request) -> dict[str, str] | None:
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    try:
        parsed = parse_qs(body.decode("utf-8"), max_num_fields=20, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        return None
    return {k: v[0] for k, v in parsed.items()}


def build_app(archive: Archive) -> Starlette:
    def render_index(params: dict[str, str]) -> HTMLResponse:
        q = params.get("q", "")[:200]
        topic = params.get("topic", "") if params.get("topic", "") in archive.topic_ids else ""
        try:
            days = max(1, min(365, int(params.get("days", "14"))))
        except ValueError:
            days = 14
        views, total = queries.recent_alerts(archive.store, days=days, query=q, topic=topic)
        for v in views:
            v.href = safe_href(v.url)  # type: ignore[attr-defined]
            v.evidence = [highlight(clean(e.get("sentence", "")), [clean(p) for p in e.get("phrases", [])])
                          for e in v.evidence]
            v.forms = [  # type: ignore[attr-defined]
                {"label": VERDICT_NAMES[verdict], "css": css,
                 "fields": fl.sign_params(archive.key, v.item_id, [v.topic], verdict, PAGE_FORM_LIFETIME_S)}
                for verdict, css in (("relevant", "yes"), ("not-relevant", "no"))]
        span, counts = queries.daily_counts(archive.store, 14)
        return _page(
            "archive.html.j2", q=q, topic=topic, days=days, topics=[{"id": t, "name": n} for t, n in archive.topics],
            names=archive.names, groups=queries.by_day(views, archive.topic_ids), total=total, shown=len(views),
            chart=alerts_chart(span, counts, archive.names, archive.topic_ids), span_days=len(span),
            precision=FeedbackLog(archive.store).precision(30), feeds=queries.feed_health(archive.store),
            verdict_names=VERDICT_NAMES, feed_states=FEED_STATES,
            missed_fields=fl.sign_params(archive.key, 0, [], "missed", PAGE_FORM_LIFETIME_S))

    async def index(request: Request) -> Response:
        return await run_in_threadpool(render_index, dict(request.query_params))

    async def css(_request: Request) -> Response:
        return Response((HERE / "archive.css").read_bytes(), media_type="text/css; charset=utf-8",
                        headers={**SECURITY_HEADERS, "Cache-Control": "max-age=3600"})

    def confirm_page(params: dict[str, str]) -> HTMLResponse:
        try:
            signed = fl.verify(archive.key, params)
        except fl.LinkError as err:
            return _refused(str(err))
        item = FeedbackLog(archive.store).item(signed.item_id)
        if item is None or not signed.topics or signed.verdict == "missed":
            return _refused("no such alert")
        fields = {k: params[k] for k in ("i", "t", "v", "e", "s")}
        return _message("تأكيد التقييم", confirm={
            "title": clean(item["title"] or ""), "topic_names": [archive.names.get(t, t) for t in signed.topics],
            "fields": fields, "label": f"تأكيد: {VERDICT_NAMES[signed.verdict]}"})

    async def feedback_get(request: Request) -> Response:
        return await run_in_threadpool(confirm_page, dict(request.query_params))

    def record(form: dict[str, str]) -> Response:
        try:
            signed = fl.verify(archive.key, form)
        except fl.LinkError as err:
            return _refused(str(err))
        if signed.verdict == "missed" or not signed.topics or any(t not in archive.topic_ids for t in signed.topics):
            return _refused("not a judgment of an alert")
        source = "page" if form.get("src") == "page" else "link"
        try:
            judge_item(FeedbackLog(archive.store), signed.item_id, signed.topics, signed.verdict, source)
        except JudgmentError as err:
            return _refused(str(err))
        if source == "page":
            return RedirectResponse(f"./#a-{signed.item_id}-{signed.topics[0]}", status_code=303,
                                    headers=SECURITY_HEADERS)
        return _message("شكراً، سُجّل تقييمك", f"{VERDICT_NAMES[signed.verdict]}: "
                        + "، ".join(archive.names.get(t, t) for t in signed.topics))

    def form_post(handle: Callable[[dict[str, str]], Response]) -> Callable[[Request], Awaitable[Response]]:
        """A POST endpoint: same-site requests with a form only, handled off the event loop."""
        async def endpoint(request: Request) -> Response:
            if _cross_site(request):
                return _refused("cross-site request")
            form = await _form(request)
            if form is None:
                return _refused("not a form")
            return await run_in_threadpool(handle, form)
        return endpoint

    def report_missed(form: dict[str, str]) -> Response:
        try:
            signed = fl.verify(archive.key, form)
        except fl.LinkError as err:
            return _refused(str(err))
        if signed.verdict != "missed" or signed.item_id != 0:
            return _refused("not the missed-article form")
        try:
            got = judge_url(FeedbackLog(archive.store), archive.settings, archive.topic_ids,
                            url=form.get("url", ""), topic=form.get("topic", ""), verdict="missed", source="page")
        except JudgmentError as err:
            return _message("لم يُسجَّل الخبر الفائت", str(err), 400, "refused")
        return _message("شكراً، سُجّل الخبر الفائت", f"{got.title or got.url} — {archive.names.get(form['topic'])}")


    return Starlette(routes=[
        Route("/", index), Route("/archive.css", css),
        Route("/feedback", feedback_get, methods=["GET"]), Route("/feedback", form_post(record), methods=["POST"]),
        Route("/missed", form_post(report_missed), methods=["POST"]),
    ])


def open_archive(config_dir: Path, state_dir: Path) -> Archive:
    """The archive over ``state_dir`` with ``config_dir``'s settings and topics; `ConfigError` when
    they are bad. Without a configured key the page signs with a key of this process only (its
    buttons work; links in alerts need the configured key)."""
    from flows.config import validate_file
    from flows.match import Matcher

    settings = validate_file(Path(config_dir) / "settings.yaml", Settings)
    assert isinstance(settings, Settings)
    matcher = Matcher.from_config_dir(Path(config_dir))
    try:
        key = fl.feedback_key(settings.feedback)
    except fl.FeedbackKeyError as err:
        _log.warning("%s: the page signs its buttons with a key of this process only", err)
        key = secrets.token_bytes(32)
    return Archive(Store.open(Path(state_dir)), settings,
                   [(t, matcher.topic_name(t)) for t in matcher.topic_ids], key)
