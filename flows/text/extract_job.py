"""The CPU-bound part of processing one page, as a pure function a process pool can run.

Rules: takes the decoded HTML and the URL, returns plain values (picklable): the article text
in the seeds' shape, the site name, the content hash and the story fingerprint, or an error
reason. Never raises: a hostile page becomes an error string. Imports only the pure stages, so
a spawned worker starts quickly and holds no database or network handle.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

from flows.text.extract import extract_article
from flows.text.normalize import normalize
from flows.alerts.stories import fingerprint


class Extracted(NamedTuple):
    text: str | None
    sitename: str | None
    error: str | None
    content_hash: str | None
    fingerprint: str | None


def content_hash(text: str) -> str:
    """sha256 of the normalized text with whitespace squashed: a re-published copy hashes alike."""
    squashed = " ".join(normalize(text).split())
    return hashlib.sha256(squashed.encode("utf-8")).hexdigest()


def extract_page(html: str, url: str | None) -> Extracted:
    try:
        article = extract_article(html, url)
    except Exception as err:  # a hostile page must not take the run down
        return Extracted(None, None, f"extraction failed: {err.__class__.__name__}", None, None)
    if article is None or not article.text.strip():
        return Extracted(None, None, "no article text found on the page", None, None)
    return Extracted(article.text, article.sitename, None, content_hash(article.text),
                     fingerprint(article.text).to_str())
