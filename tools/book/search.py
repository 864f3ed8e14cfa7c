"""The book's search index: every section of every notebook and lab page, and every claim,
written as a script (search-index.js) that search.html loads with a <script> tag, so the
search works from file:// where a page may not fetch() a JSON file."""

from __future__ import annotations

import dataclasses
import html
import json
import pathlib
import re

HEADING = re.compile(r'<h([1-3]) id="([^"]+)"[^>]*>(.*?)</h\1>', re.S)
HIDDEN = re.compile(r"<(script|style|nav|head)\b.*?</\1>", re.S | re.I)
INLINE = re.compile(r"</?(?:span|a|b|i|em|strong|code|sub|sup)\b[^>]*>")   # no word break
TAG = re.compile(r"<[^>]+>")
MAX_TEXT = 6000   # characters of a section kept for the search (its start, where the point is)


@dataclasses.dataclass
class Entry:
    kind: str       # notebook | lab | claim
    title: str
    url: str        # from the book's root, with the section's anchor
    text: str


def plain(fragment: str) -> str:
    """HTML as searchable text: no markup, no pilcrow of the heading anchors, spaces collapsed."""
    text = html.unescape(TAG.sub(" ", INLINE.sub("", fragment))).replace("¶", " ")
    return re.sub(r"\s+", " ", text).strip()


def page_entries(page_html: str, url: str, title: str, kind: str) -> list[Entry]:
    """One entry per `#`-`###` section of a rendered page (the text before the first heading too)."""
    body = HIDDEN.sub(" ", page_html)
    headings = list(HEADING.finditer(body))
    entries = []
    starts = [0] + [match.start() for match in headings]
    ends = [match.start() for match in headings] + [len(body)]
    for index, (start, end) in enumerate(zip(starts, ends)):
        match = headings[index - 1] if index else None
        text = plain(body[match.end() if match else start:end])
        if not text and match is None:
            continue
        section = plain(match.group(3)) if match else ""
        entries.append(Entry(kind, f"{title} › {section}" if section and section != title else title,
                             f"{url}#{match.group(2)}" if match else url, text[:MAX_TEXT]))
    return entries


def claim_entries(claims, measured) -> list[Entry]:
    entries = []
    for claim in claims:
        found = measured.get(claim.id, [])
        where = " ".join(f"{m.notebook}: {m.status} {m.value}" for m in found)
        entries.append(Entry("claim", f"{claim.id}: {plain(claim.statement)}", f"claims.html#{claim.id}",
                             plain(f"{claim.statement} {claim.measure} slides {claim.slides} {where}")))
    return entries


def write_index(entries: list[Entry], path: pathlib.Path) -> None:
    data = json.dumps([dataclasses.asdict(entry) for entry in entries], ensure_ascii=False, separators=(",", ":"))
    path.write_text(f"window.COURSE_SEARCH_INDEX = {data};\n", encoding="utf-8")
