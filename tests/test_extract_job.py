"""flows.text.extract_job: one page's CPU work, as a worker process runs it (real trafilatura, real matcher)."""

from __future__ import annotations

from flows.match import Matcher
from flows.replay.replay_site import load_items, render_page
from flows.text.extract_job import MAX_TAGS, PageJob, process_page
from tests.conftest import ROOT


def test_a_page_is_matched_where_it_is_extracted_and_the_entry_title_wins() -> None:
    item = next(i for i in load_items(ROOT / "seeds") if i.stem.startswith("000"))
    matcher = Matcher.from_config_dir(ROOT / "config")
    page = render_page(item, "رقيب نيوز", [])
    got = process_page(PageJob(page, "text/html; charset=utf-8", "http://127.0.0.1/a", item.title), matcher)
    assert got.error is None and got.text and got.content_hash and got.fingerprint
    assert [m.topic for m in got.matches] == [m.topic for m in matcher.match(got.text, title=item.title)]
    assert got.matches  # seed 000 is labelled with a topic
    assert got.title is None and got.date is None  # the entry had both: the page's are not computed
    untitled = process_page(PageJob(page, None, None, "", need_date=True), matcher)
    assert untitled.title == item.title  # the page's own title stands in for a missing entry title


def test_a_page_of_too_many_tags_is_refused_unread() -> None:
    cell = b"<td>\xd9\x86\xd8\xb5</td>"
    page = b"<html><body><table><tr>" + cell * (MAX_TAGS // 2 + 1) + b"</tr></table></body></html>"
    got = process_page(PageJob(page, "text/html; charset=utf-8", None, "t"), None)
    assert got.text is None and "more than 50,000 tags" in (got.error or "")
