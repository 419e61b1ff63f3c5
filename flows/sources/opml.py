"""OPML: the feed lists every RSS reader imports and exports (Miniflux, FreshRSS, Feedly, Inoreader).

Rules:
- `parse_opml` reads OPML 1.0/2.0 bytes: every `<outline>` with an `xmlUrl`, at any depth (readers
  nest feeds in category outlines), in document order; the name is `title`, else `text`;
- a file that is not OPML, or declares entities (a DOCTYPE: no reader writes one, and entity
  expansion is how XML files blow up), is refused with a `ValueError` saying why;
- outlines whose `xmlUrl` is not http(s) are returned as rejected with the reason, not dropped
  silently; the caller reports them and imports the rest;
- `render_opml` writes OPML 2.0 (UTF-8), one `<outline type="rss">` per feed, escaped by the XML
  serializer, so any feed name round-trips.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime


@dataclass(frozen=True)
class OpmlFeed:
    url: str
    name: str | None


def parse_opml(data: bytes) -> tuple[list[OpmlFeed], list[tuple[str, str]]]:
    """(feeds, rejected) from OPML bytes; rejected holds (xmlUrl, reason)."""
    if re.search(rb"<!DOCTYPE|<!ENTITY", data[:4096], re.IGNORECASE):
        raise ValueError("refusing an OPML file with a DOCTYPE or entity declarations")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ValueError(f"not valid XML: {exc}") from None
    if root.tag.lower() != "opml" or root.find("body") is None:
        raise ValueError(f"not an OPML file (root element <{root.tag}>, no <body>)")
    feeds: list[OpmlFeed] = []
    rejected: list[tuple[str, str]] = []
    seen: set[str] = set()
    for node in root.find("body").iter("outline"):  # type: ignore[union-attr]
        url = (node.get("xmlUrl") or node.get("xmlurl") or "").strip()
        if not url:
            continue  # a category
        if not re.match(r"^https?://[^\s/]+", url, re.IGNORECASE):
            rejected.append((url, "not an http:// or https:// URL"))
            continue
        if url in seen:
            continue
        seen.add(url)
        name = (node.get("title") or node.get("text") or "").strip() or None
        feeds.append(OpmlFeed(url, name))
    return feeds, rejected


def render_opml(feeds: list[OpmlFeed], title: str = "raqib feeds", now: datetime | None = None) -> bytes:
    """OPML 2.0 for ``feeds``."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(now or datetime.now(timezone.utc))
    body = ET.SubElement(root, "body")
    for f in feeds:
        name = f.name or f.url
        ET.SubElement(body, "outline", type="rss", text=name, title=name, xmlUrl=f.url)
    ET.indent(root)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode").encode("utf-8") + b"\n"
