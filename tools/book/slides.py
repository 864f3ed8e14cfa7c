"""Planning a notebook's slides: what a lecturer projects, and what goes to the speaker notes.

An author's own slideshow metadata (JupyterLab's "Slide Type") is kept as written. Otherwise
the plan follows the notebook's structure:

- every `#`/`##` section is a slide (reveal.js's horizontal axis) that opens on what the
  lecturer talks about: the heading, the section's one-sentence point (the first sentence of its
  text), its tables and equations, and its key figure or table (the first one a code cell of the
  section draws, shown without the code); the title slide shows the learning objectives;
- the building code follows on sub-slides (the vertical axis): a sub-slide per step (a text,
  then its code and output), and a new one whenever the next cell would not fit;
- a code cell too long for one slide continues on the next sub-slide, cut between statements;
  an output too tall for the slide of its code gets a sub-slide of its own;
- prose a slide leaves out (the rest of a paragraph, further paragraphs, the overview's
  summary) goes to the speaker notes of that slide (`S` in reveal.js): nothing is lost.

Heights are estimated in lines of slide text; the deck's script (course-slides.js) scales what
is still too wide or tall, and the browser test checks that nothing is cut off.
"""

from __future__ import annotations

import ast
import base64
import copy
import math
import re
import struct

import nbformat

from tools.book.notebooks import source
from tools.book.prose import Abridged, abridge, abridge_overview, markdown_blocks, split_sections

# Slides are 1280x720 CSS pixels, the shape of a 16:9 projector (reveal.js scales them to the
# screen). With the deck's font sizes (course-slides.css), about this many lines of text fit.
SLIDE_WIDTH, SLIDE_HEIGHT = 1280, 720
SLIDE_LINES = 23.5
PIXELS_PER_LINE = 30.0
TEXT_COLUMNS = 85
CODE_LINE = 0.78           # a line of code, in lines of text
CODE_LINES = 26            # a code cell longer than this continues on the next sub-slide
IMAGE_HEIGHT = 440         # figures on slides are at most this tall (course-slides.css)
AUTHORED, DERIVED = "authored", "derived"


# --------------------------------------------------------------------------- heights

def png_size(data: str) -> tuple[int, int] | None:
    try:
        raw = base64.b64decode(data[:64] + "=" * (-len(data[:64]) % 4))
    except ValueError:
        return None
    if raw[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    width, height = struct.unpack(">II", raw[16:24])
    return width, height


def markdown_lines(text: str) -> float:
    """Estimated height of Markdown on a slide, in lines of text."""
    lines = 0.0
    in_fence = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            in_fence = not in_fence
            lines += 0.5
        elif not stripped:
            lines += 0.4
        elif in_fence:
            lines += CODE_LINE
        elif stripped.startswith("#"):
            lines += 2.0
        elif stripped.startswith("$$"):
            lines += 1.8
        else:
            lines += max(1, math.ceil(len(stripped) / TEXT_COLUMNS))
    return lines


def _image_lines(data: dict, mime: str) -> float:
    image = data[mime]
    image = "".join(image) if isinstance(image, list) else image
    size = png_size(image) if mime == "image/png" else None
    if size is None:
        return IMAGE_HEIGHT / PIXELS_PER_LINE
    width, height = size
    scale = min(1.0, (SLIDE_WIDTH - 80) / max(width, 1), IMAGE_HEIGHT / max(height, 1))
    return height * scale / PIXELS_PER_LINE + 0.5


def output_lines(output) -> float:
    """Estimated height of one output on a slide, in lines of text."""
    kind = output.get("output_type")
    if kind == "stream":
        text = source({"source": output.get("text", "")})
        return sum(CODE_LINE * max(1, math.ceil(len(line) / 110)) for line in text.splitlines()) + 0.5
    if kind == "error":
        return 6.0
    data = output.get("data", {})
    for mime in ("image/png", "image/jpeg", "image/svg+xml"):
        if mime in data:
            return _image_lines(data, mime)
    if "text/html" in data:
        html = source({"source": data["text/html"]})
        if "<table" in html:
            return 1.1 * max(1, html.count("<tr")) + 0.8
        text = source({"source": data.get("text/plain", "")}) or re.sub(r"<[^>]+>", "", html)
        return CODE_LINE * max(1, len(text.strip().splitlines())) + 0.5
    if "text/plain" in data:
        return CODE_LINE * len(source({"source": data["text/plain"]}).splitlines()) + 0.5
    return 0.0


def code_lines(cell) -> float:
    return CODE_LINE * len(source(cell).splitlines()) + 1.0 if source(cell).strip() else 0.0


def cell_lines(cell) -> float:
    """Estimated height of a cell on a slide, in lines of text."""
    if cell.cell_type == "markdown":
        return markdown_lines(source(cell)) + 0.6
    if cell.cell_type == "code":
        hidden = cell.get("metadata", {}).get("transient", {}).get("remove_source")
        return (0.0 if hidden else code_lines(cell)) + sum(output_lines(o) for o in cell.get("outputs", []))
    return 0.0


# --------------------------------------------------------------------------- cutting cells

def split_markdown(text: str, budget: float = SLIDE_LINES) -> list[str]:
    """Markdown too tall for one slide, cut between blocks (a long list between its items;
    never inside a fenced block) into pieces that each fit where possible."""
    blocks = []
    for block in markdown_blocks(text):
        if block.kind == "list" and markdown_lines(block.text) > budget:
            items = re.split(r"\n(?=(?:[-*+]|\d+[.)])\s)", block.text)
            blocks += items
        else:
            blocks.append(block.text)
    pieces, piece = [], []
    for block in blocks:
        if piece and markdown_lines("\n\n".join(piece + [block])) > budget:
            pieces.append("\n\n".join(piece))
            piece = []
        piece.append(block)
    if piece:
        pieces.append("\n\n".join(piece))
    return pieces or [text]


def statement_starts(code: str) -> list[int]:
    """0-based line numbers where a statement starts (any depth; a decorated definition at its
    first decorator), the places a long cell may continue on the next slide. Code that is not
    plain Python (IPython magics) may be cut before any line."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return list(range(len(code.splitlines())))
    starts = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt):
            first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            starts.add(first - 1)
    return sorted(starts)


def split_code(code: str, max_lines: int = CODE_LINES) -> list[str]:
    """Code longer than `max_lines` cut into pieces of at most `max_lines` lines, each cut
    before a statement, after a blank line where there is one in the second half of the piece."""
    lines = code.rstrip("\n").splitlines()
    if len(lines) <= max_lines:
        return [code]
    starts = set(statement_starts(code))
    pieces, begin = [], 0
    while len(lines) - begin > max_lines:
        candidates = [i for i in range(begin + 1, begin + max_lines + 1) if i in starts]
        after_blank = [i for i in candidates if not lines[i - 1].strip() and i - begin >= max_lines // 2]
        cut = (after_blank or candidates or [begin + max_lines])[-1]
        pieces.append("\n".join(lines[begin:cut]).rstrip("\n"))
        begin = cut
        while begin < len(lines) and not lines[begin].strip():
            begin += 1
    pieces.append("\n".join(lines[begin:]))
    return [piece for piece in pieces if piece.strip()]


def _part(cell, suffix: str | None, **changes):
    """A copy of `cell` with `changes`; `suffix` makes its id unique (None: keep the cell's id)."""
    part = copy.deepcopy(cell)
    if cell.get("id") and suffix is not None:
        part["id"] = f"{cell['id']}-{suffix}"
    for key, value in changes.items():
        part[key] = value
    part.setdefault("metadata", nbformat.NotebookNode())
    return part


def output_only(cell, suffix: str, outputs=None):
    """A copy of a code cell that shows its outputs without its code."""
    part = _part(cell, suffix, outputs=copy.deepcopy(cell.outputs if outputs is None else outputs))
    part["metadata"]["transient"] = nbformat.from_dict({**part["metadata"].get("transient", {}), "remove_source": True})
    return part


def split_outputs(cell, budget: float = SLIDE_LINES) -> list:
    """Output-only copies of a cell whose outputs are taller than a slide: outputs grouped while
    they fit, a long printed text cut between its lines."""
    outputs = []
    for output in cell.outputs:
        text = source({"source": output.get("text", "")}).splitlines(keepends=True)
        if output.get("output_type") == "stream" and output_lines(output) > budget:
            per_piece = max(1, int((budget - 1) / CODE_LINE))
            outputs += [nbformat.from_dict({**output, "text": "".join(text[i:i + per_piece])})
                        for i in range(0, len(text), per_piece)]
        else:
            outputs.append(output)
    groups, group = [], []
    for output in outputs:
        if group and sum(map(output_lines, group + [output])) > budget:
            groups.append(group)
            group = []
        group.append(output)
    groups.append(group)
    return [output_only(cell, f"out{index}", group) for index, group in enumerate(groups) if group]


def code_pieces(cell) -> list:
    """A code cell as the cells a deck shows: itself when it fits on a slide; otherwise its code
    in pieces that each fit, its outputs with the last piece or (when too tall) after it."""
    if cell_lines(cell) <= SLIDE_LINES:
        return [cell]
    chunks = split_code(source(cell))
    pieces = [_part(cell, f"part{index}", source=chunk, outputs=[]) if len(chunks) > 1 else
              _part(cell, "code", outputs=[]) for index, chunk in enumerate(chunks)]
    outputs = sum(output_lines(output) for output in cell.outputs)
    if cell.outputs and code_lines(pieces[-1]) + outputs <= SLIDE_LINES:
        pieces[-1]["outputs"] = copy.deepcopy(cell.outputs)
    elif cell.outputs:
        pieces += split_outputs(cell)
    return pieces


# --------------------------------------------------------------------------- the plan

def has_authored_slides(notebook) -> bool:
    return any(cell.get("metadata", {}).get("slideshow", {}).get("slide_type")
               for cell in notebook.cells)


def _is_heading(cell, levels: str = "1,2") -> bool:
    return cell.cell_type == "markdown" and bool(re.match(r"#{%s}\s" % levels, source(cell).lstrip()))


def sections(cells) -> list[list]:
    """Cells grouped by `#`/`##` section; a Markdown cell holding several sections is cut."""
    expanded = []
    for cell in cells:
        pieces = split_sections(source(cell)) if cell.cell_type == "markdown" else [None]
        for index, piece in enumerate(pieces):
            expanded.append(cell if piece is None or len(pieces) == 1 else _part(cell, str(index), source=piece))
    groups: list[list] = []
    for cell in expanded:
        if not groups or _is_heading(cell):
            groups.append([])
        groups[-1].append(cell)
    return groups


def key_output(cells):
    """The section's key figure or table: the first code cell that draws an image or a table."""
    for cell in cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = output.get("data", {})
            if any(mime.startswith("image/") for mime in data) or "<table" in source({"source": data.get("text/html", "")}):
                return cell
    return None


class Deck:
    """The planned cells, and how full the current (sub-)slide is."""

    def __init__(self):
        self.cells: list = []
        self.used: float | None = None      # None: the next cell starts a new sub-slide

    def add(self, cell, slide_type: str | None = None):
        """Add `cell` to the current slide, or start a (sub-)slide with it (when told, or when it
        does not fit)."""
        lines = cell_lines(cell)
        if slide_type is None:
            slide_type = "subslide" if self.used is None or self.used + lines > SLIDE_LINES else "-"
        self.used = lines if slide_type in ("slide", "subslide") else (self.used or 0.0) + lines
        cell.setdefault("metadata", nbformat.NotebookNode())["slideshow"] = nbformat.from_dict({"slide_type": slide_type})
        self.cells.append(cell)

    def notes(self, cell, text: str):
        if text.strip():
            note = _part(cell, "notes", cell_type="markdown", source=text)
            for key in ("outputs", "execution_count"):
                note.pop(key, None)
            note["metadata"]["slideshow"] = nbformat.from_dict({"slide_type": "notes"})
            self.cells.append(note)

    def skip(self, cell):
        cell.setdefault("metadata", nbformat.NotebookNode())["slideshow"] = nbformat.from_dict({"slide_type": "skip"})
        self.cells.append(cell)


def add_markdown(deck: Deck, cell, abridged: Abridged, slide_type: str | None):
    """A Markdown cell, abridged, cut into pieces that fit; the left-out prose as notes."""
    pieces = split_markdown(abridged.shown) if markdown_lines(abridged.shown) > SLIDE_LINES else [abridged.shown]
    for index, piece in enumerate(pieces):
        part = _part(cell, f"slide{index}" if index else None, source=piece)
        deck.add(part, slide_type if index == 0 else "subslide")
        if index == 0:
            deck.notes(cell, abridged.notes)


def open_section(deck: Deck, section: list, title: bool) -> list:
    """The section's first slide: heading, point, tables and equations, the key figure or table.
    Returns the cells that remain for the sub-slides."""
    head, rest = (section[0], section[1:]) if section[0].cell_type == "markdown" else (None, section)
    if head is None:
        return rest
    abridged = abridge_overview(source(head)) if title else abridge(source(head))
    add_markdown(deck, head, abridged, "slide")
    shown_blocks = {block.kind for block in markdown_blocks(abridged.shown)}
    key = key_output(rest)
    if key is not None and not shown_blocks & {"table", "math"}:
        figure = output_only(key, "key", [o for o in key.outputs if o.get("output_type") != "stream"])
        if deck.used + cell_lines(figure) <= SLIDE_LINES:
            deck.add(figure, "-")
    elif shown_blocks <= {"heading"} and not abridged.notes:
        return rest   # a bare heading (Setup): its code may follow on the same slide
    deck.used = None
    return rest


def plan_steps(deck: Deck, cells: list):
    """The section's steps on sub-slides: a text after code (or a `###` heading) starts a step;
    code continues the step while it fits."""
    previous = None
    for cell in cells:
        if cell.cell_type == "code" and not source(cell).strip():
            deck.skip(cell)
            continue
        if cell.cell_type == "markdown":
            new_step = previous == "code" or _is_heading(cell, "3,6")
            add_markdown(deck, cell, abridge(source(cell)), "subslide" if new_step else None)
        elif cell.cell_type == "code":
            for piece in code_pieces(cell):
                deck.add(piece)
        else:
            deck.skip(cell)
        previous = cell.cell_type


def plan_slides(notebook) -> tuple[object, str]:
    """A copy of `notebook` with `slideshow.slide_type` set on every cell (and cells cut, speaker
    notes added, key figures repeated on a section's first slide), and how the plan was made."""
    notebook = copy.deepcopy(notebook)
    if has_authored_slides(notebook):
        return notebook, AUTHORED
    deck = Deck()
    for index, section in enumerate(sections(notebook.cells)):
        rest = open_section(deck, section, title=index == 0)
        plan_steps(deck, rest)
    if deck.cells and deck.cells[0].metadata.slideshow.slide_type != "slide":
        deck.cells[0].metadata.slideshow.slide_type = "slide"
    notebook.cells = deck.cells
    return notebook, DERIVED


def slide_count(notebook) -> tuple[int, int]:
    """(slides, sub-slides) of a planned notebook."""
    types = [cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-") for cell in notebook.cells]
    return types.count("slide"), types.count("subslide")
