"""Reading a notebook of the course: its cells' text, its overview (the template of
CONTRIBUTING.md), and where the notebooks and labs are."""

from __future__ import annotations

import dataclasses
import pathlib
import re

import nbformat

from tools.book import ROOT

TITLE = re.compile(r"^#\s+(?:(\d\d)\s*·\s*)?(.+?)\s*$", re.M)
RUN_TIME = re.compile(r"\*\*Run time:\*\*\s*(.+)")
RUN_SECONDS = re.compile(r"about\s+(\d+)\s*s\b")
OBJECTIVES = "**Learning objectives.**"


def source(cell) -> str:
    text = cell.get("source", "")
    return "".join(text) if isinstance(text, list) else text


def read(path: pathlib.Path):
    """The notebook at `path`; a broken file is named in the error."""
    try:
        return nbformat.read(path, as_version=4)
    except Exception as error:  # nbformat raises several kinds for a broken file
        raise ValueError(f"{path}: not a readable notebook ({error})") from error


def block_after(text: str, label: str) -> str:
    """The paragraph that starts with the bold `label` (without the label), up to a blank line."""
    match = re.search(re.escape(label) + r"[ \t]*(.*?)(?:\n[ \t]*\n|\Z)", text, re.S)
    return match.group(1).strip() if match else ""


def bullets_after(text: str, label: str) -> list[str]:
    """The Markdown list that follows `label` (its own line is an introduction, e.g. "After
    this notebook you can"); items may wrap onto indented lines."""
    start = text.find(label)
    if start < 0:
        return []
    items: list[str] = []
    for line in text[start + len(label):].splitlines()[1:]:
        bullet = re.match(r"^\s{0,3}(?:[-*+]|\d+[.)])\s+(.*)", line)
        if bullet:
            items.append(bullet.group(1).strip())
        elif items and line.startswith((" ", "\t")) and line.strip():
            items[-1] += " " + line.strip()
        elif items or line.lstrip().startswith(("**", "#")):
            break
    return items


@dataclasses.dataclass
class Overview:
    number: str
    title: str
    summary: str = ""
    objectives: list = dataclasses.field(default_factory=list)
    prerequisites: str = ""
    slides: str = ""
    run_time: str = ""
    run_seconds: int | None = None
    estimated_time: str = ""

    @property
    def heading(self) -> str:
        return f"{self.number} · {self.title}" if self.number else self.title


def first_markdown(notebook) -> str:
    first = next((cell for cell in notebook.cells if cell.cell_type == "markdown"), None)
    return source(first) if first is not None else ""


def read_overview(notebook, path: pathlib.Path) -> Overview:
    """Title, objectives, prerequisites, lecture slides and measured run time from the first
    Markdown cell (the template of CONTRIBUTING.md). Missing parts stay empty."""
    stem = pathlib.Path(path).stem
    text = first_markdown(notebook)
    overview = Overview(number=stem[:2] if stem[:2].isdigit() else "", title=stem.replace("_", " "))
    title = TITLE.search(text)
    if title:
        overview.number = title.group(1) or overview.number
        overview.title = title.group(2).strip()
    section = text.split("## Overview", 1)[1] if "## Overview" in text else ""
    paragraphs = [part.strip() for part in re.split(r"\n[ \t]*\n", section) if part.strip()]
    if paragraphs and not paragraphs[0].startswith("**"):
        overview.summary = paragraphs[0]
    overview.objectives = bullets_after(text, OBJECTIVES)
    overview.prerequisites = block_after(text, "**Prerequisites:**")
    overview.slides = block_after(text, "**Slides:**")
    overview.estimated_time = block_after(text, "**Estimated time:**")
    run_time = RUN_TIME.search(text)
    if run_time:
        overview.run_time = run_time.group(1).strip()
        seconds = RUN_SECONDS.search(overview.run_time)
        overview.run_seconds = int(seconds.group(1)) if seconds else None
    return overview


# A badge: a link whose only content is an image from the web ("Open in Colab"). The book
# shows its own launch links and loads nothing from the web, so it drops badges.
BADGE = re.compile(r"[ \t]*\[!\[[^\]]*\]\(https?://[^)\s]+\)\]\([^)\s]+\)")


def without_badges(notebook):
    """`notebook` with the badges of its Markdown cells removed (in place; returned)."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and BADGE.search(source(cell)):
            text = BADGE.sub("", source(cell))
            cell.source = re.sub(r"\n[ \t]*\n([ \t]*\n)+", "\n\n", text).strip("\n")
    return notebook


def count_images(notebook) -> int:
    return sum(1 for cell in notebook.cells for output in cell.get("outputs", [])
               if any(mime.startswith("image/") for mime in output.get("data", {})))


MATH = re.compile(r"(?<![\\$])\$[^$\n]+\$|\$\$.+?\$\$|\\\(|\\\[|\\begin\{", re.S)


def has_math(notebook) -> bool:
    return any(cell.cell_type == "markdown" and MATH.search(source(cell)) for cell in notebook.cells)


def discover_notebooks(root: pathlib.Path = ROOT) -> list[pathlib.Path]:
    return sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def discover_labs(root: pathlib.Path = ROOT) -> list[tuple[pathlib.Path, list[pathlib.Path]]]:
    """Each lab folder in labs/ with its student notebooks (not solutions, not grader files)."""
    labs_dir = root / "labs"
    if not labs_dir.is_dir():
        return []
    hidden = {"solution", "solutions", "autograder", ".ipynb_checkpoints"}
    found = []
    for folder in sorted(p for p in labs_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        notebooks = sorted(p for p in folder.rglob("*.ipynb") if not hidden & set(p.relative_to(folder).parts[:-1]))
        if notebooks:
            found.append((folder, notebooks))
    return found
