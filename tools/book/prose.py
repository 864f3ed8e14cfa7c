"""What a slide shows of a Markdown cell: the cell cut into blocks, its point (the first
sentence, shortened at a clause when long), and the rest, which goes to the speaker notes."""

from __future__ import annotations

import dataclasses
import re

from tools.book.notebooks import OBJECTIVES, bullets_after


@dataclasses.dataclass
class Block:
    kind: str   # heading | paragraph | list | table | math | fence | html
    text: str


def _kind(line: str) -> str:
    stripped = line.strip()
    if re.match(r"#{1,6}\s", stripped):
        return "heading"
    if re.match(r"(?:[-*+]|\d+[.)])\s", stripped):
        return "list"
    if stripped.startswith("|"):
        return "table"
    if stripped.startswith("$$") or stripped.startswith("\\["):
        return "math"
    if stripped.startswith(("```", "~~~")):
        return "fence"
    if stripped.startswith("<"):
        return "html"
    return "paragraph"


def markdown_blocks(text: str) -> list[Block]:
    """A Markdown cell cut at blank lines into blocks, a heading line always a block of its own;
    fenced code and `$$` math stay whole even across blank lines."""
    blocks: list[Block] = []
    current: list[str] = []
    fence = None

    def close():
        if current:
            blocks.append(Block(_kind(current[0]), "\n".join(current)))
            current.clear()

    for line in text.splitlines():
        stripped = line.strip()
        opener = next((mark for mark in ("```", "~~~", "$$") if stripped.startswith(mark)), None)
        if fence:
            current.append(line)
            if stripped.endswith(fence) and (len(stripped) > len(fence) or len(current) > 1):
                fence = None
            continue
        if opener and not (opener == "$$" and stripped.count("$$") >= 2 and len(stripped) > 2):
            close()
            fence = opener
            current.append(line)
            continue
        if not stripped:
            close()
        elif _kind(line) == "heading":
            close()
            blocks.append(Block("heading", stripped))
        else:
            current.append(line)
    close()
    return blocks


ABBREVIATIONS = ("e.g", "i.e", "et al", "vs", "cf", "Fig", "Sec", "Eq", "approx", "resp", "etc")
SENTENCE_END = re.compile(r"[.!?](?:\*\*|\*|_|\)|\"|')*(?=\s+[A-Z0-9*`_(\[\"$\\]|\s*$)")


def first_sentence(paragraph: str) -> str:
    """The first sentence of a Markdown paragraph (its lines joined)."""
    text = " ".join(line.strip() for line in paragraph.splitlines())
    for match in SENTENCE_END.finditer(text):
        before = text[:match.start()]
        if before.endswith(ABBREVIATIONS) or re.search(r"\b[A-Z]$", before):
            continue
        if before.count("`") % 2 or before.count("$") % 2:
            continue  # inside inline code or math
        return text[:match.end()].strip()
    return text.strip()


POINT_WORDS = 40     # a longer first sentence is shortened at a clause (after "...:", ";" or ",")


def _balanced(text: str) -> bool:
    return text.count("`") % 2 == 0 and text.count("$") % 2 == 0 and text.count("**") % 2 == 0 \
        and text.count("(") == text.count(")")


def shorten(sentence: str, max_words: int = POINT_WORDS) -> str:
    """A sentence of more than `max_words` words cut at the last colon or semicolon within them
    that leaves at least 8 words (else at the last comma), ending in an ellipsis."""
    words = sentence.split(" ")
    if len(words) <= max_words:
        return sentence
    for marks in ((":", ";"), (",",)):
        for end in range(max_words, 7, -1):
            head = " ".join(words[:end])
            if head.endswith(marks) and _balanced(head):
                return head[:-1] + " …"
    return sentence


@dataclasses.dataclass
class Abridged:
    shown: str       # Markdown on the slide
    notes: str       # Markdown for the speaker notes ("" when nothing was left out)


def abridge(text: str) -> Abridged:
    """A Markdown cell as a slide shows it: headings, the first sentence (the point), lists,
    tables, equations and code; the paragraphs it shortened or left out go to the notes."""
    shown, notes = [], []
    point = False
    for block in markdown_blocks(text):
        if block.kind != "paragraph":
            shown.append(block.text)
            continue
        if not point:
            point = True
            point_text = shorten(first_sentence(block.text))
            shown.append(point_text)
            if point_text != " ".join(line.strip() for line in block.text.splitlines()).strip():
                notes.append(block.text)
        else:
            notes.append(block.text)
    return Abridged("\n\n".join(shown), "\n\n".join(notes))


def abridge_overview(text: str) -> Abridged:
    """The title cell as the title slide: the title and the learning objectives. The summary,
    prerequisites, lecture slides and run time go to the notes."""
    blocks = markdown_blocks(text)
    title = [block.text for block in blocks if block.kind == "heading" and block.text.startswith("# ")]
    objectives = bullets_after(text, OBJECTIVES)
    if not objectives:
        return abridge(text)
    shown = title + ["**Learning objectives**", "\n".join(f"- {item}" for item in objectives)]
    kept = {OBJECTIVES}
    notes = [block.text for block in blocks
             if block.kind in ("paragraph", "table", "math", "fence", "html") and not block.text.startswith(tuple(kept))]
    return Abridged("\n\n".join(shown), "\n\n".join(notes))


def split_sections(text: str) -> list[str]:
    """A Markdown cell holding several `#`/`##` sections (e.g. Summary and Exercises) cut
    before each heading, so that every section gets its own slide. Headings that follow one
    another (`# Title` then `## Overview`) stay together."""
    pieces, current, in_fence = [], [], False
    for line in text.splitlines():
        if line.strip().startswith("```"):
            in_fence = not in_fence
        content = [kept for kept in current if kept.strip() and not re.match(r"#{1,6}\s", kept)]
        if not in_fence and re.match(r"#{1,2}\s", line) and content:
            pieces.append("\n".join(current).strip("\n"))
            current = []
        current.append(line)
    pieces.append("\n".join(current).strip("\n"))
    return [piece for piece in pieces if piece.strip()] or [text]
