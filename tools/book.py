"""`make book`: render the course to build/book/, a static site that works with no network.

    build/book/index.html            the syllabus: order, title, objectives, measured run time
    build/book/notebooks/NN_x.html   every notebook as a page, with its committed outputs
    build/book/notebooks/NN_x.ipynb  the notebook itself, to download
    build/book/slides/NN_x.slides.html  every notebook as reveal.js slides
    build/book/labs.html, labs/...   the self-paced labs (student versions)
    build/book/claims.html           the lecture's claims C01-C46: statement, where measured, value
    build/book/assets/               MathJax and reveal.js, copied from the npm packages that
                                     `make book-assets` installs (tools/book/package-lock.json)

Nothing is executed: the pages show the outputs committed with each notebook (nbval checks
that they are fresh). Slides are derived from the notebook's structure unless the author set
slideshow metadata: one slide per `##` section, a sub-slide per step (text, then its code and
figure), and a new sub-slide whenever the next cell would not fit on the screen.

    .venv/bin/python tools/book.py [--out build/book] [--assets DIR] [notebooks ...]
"""

from __future__ import annotations

import argparse
import base64
import copy
import dataclasses
import math
import pathlib
import re
import shutil
import struct
import sys

import jinja2
import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[1]
HERE = ROOT / "tools" / "book"
DEFAULT_ASSETS = ROOT / ".venv" / "book-assets" / "node_modules"
BOOK_TITLE = "Elements of Convolutional Neural Networks, in Keras and TensorFlow"
CLAIM_IDS = tuple(f"C{number:02d}" for number in range(1, 47))

CLAIM_TAG = re.compile(r"#\s*claim (C\d\d)\b")
CLAIM_HOLDS = re.compile(r"^Claim (C\d\d) holds: (.+)$", re.M)
# An honest disagreement with the lecture, asserted with utils.claims(..., against_lecture=True).
CLAIM_DISAGREES = re.compile(r"^Claim (C\d\d) does not hold here: (.+)$", re.M)
# Paired comparisons that neither confirm nor refute the lecture at the standard of evidence,
# and closed-form facts (a count computed, not a claim that could fail): utils.claims.paired / computed.
CLAIM_INCONCLUSIVE = re.compile(r"^Claim (C\d\d) is inconclusive at \d+ pairs: (.+)$", re.M)
CLAIM_COMPUTED = re.compile(r"^Claim (C\d\d) computed: (.+)$", re.M)
CLAIM_FAILED = re.compile(r"Claim (C\d\d) failed: ([^\n]+)")
TITLE = re.compile(r"^#\s+(?:(\d\d)\s*·\s*)?(.+?)\s*$", re.M)
RUN_TIME = re.compile(r"\*\*Run time:\*\*\s*(.+)")
RUN_SECONDS = re.compile(r"about\s+(\d+)\s*s\b")

# Slides are 1280x800 CSS pixels (reveal.js scales them to the screen). With the font sizes of
# nbconvert's reveal template, about this many lines of text fit on one slide.
SLIDE_WIDTH, SLIDE_HEIGHT = 1280, 800
SLIDE_LINES = 30.0
PIXELS_PER_LINE = 25.0
TEXT_COLUMNS = 90
AUTHORED, DERIVED = "authored", "derived"


# --------------------------------------------------------------------------- reading notebooks

def source(cell) -> str:
    text = cell.get("source", "")
    return "".join(text) if isinstance(text, list) else text


def _block_after(text: str, label: str) -> str:
    """The paragraph that starts with the bold `label` (without the label), up to a blank line."""
    match = re.search(re.escape(label) + r"[ \t]*(.*?)(?:\n[ \t]*\n|\Z)", text, re.S)
    return match.group(1).strip() if match else ""


def _bullets_after(text: str, label: str) -> list[str]:
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


def read_overview(notebook, path: pathlib.Path) -> Overview:
    """Title, objectives, prerequisites, lecture slides and measured run time from the first
    Markdown cell (the template of CONTRIBUTING.md). Missing parts stay empty."""
    stem = path.stem
    number = stem[:2] if stem[:2].isdigit() else ""
    first = next((cell for cell in notebook.cells if cell.cell_type == "markdown"), None)
    text = source(first) if first is not None else ""
    overview = Overview(number=number, title=stem.replace("_", " "))
    title = TITLE.search(text)
    if title:
        overview.number = title.group(1) or number
        overview.title = title.group(2).strip()
    section = text.split("## Overview", 1)[1] if "## Overview" in text else ""
    paragraphs = [part.strip() for part in re.split(r"\n[ \t]*\n", section) if part.strip()]
    if paragraphs and not paragraphs[0].startswith("**"):
        overview.summary = paragraphs[0]
    overview.objectives = _bullets_after(text, "**Learning objectives.**")
    overview.prerequisites = _block_after(text, "**Prerequisites:**")
    overview.slides = _block_after(text, "**Slides:**")
    overview.estimated_time = _block_after(text, "**Estimated time:**")
    run_time = RUN_TIME.search(text)
    if run_time:
        overview.run_time = run_time.group(1).strip()
        seconds = RUN_SECONDS.search(overview.run_time)
        overview.run_seconds = int(seconds.group(1)) if seconds else None
    return overview


@dataclasses.dataclass
class Measurement:
    claim: str
    notebook: str          # file name, e.g. 01_convolution.ipynb
    page: str              # book-relative URL of the measuring cell
    status: str            # holds | disagrees | inconclusive | computed | failed | asserted | not executed
    value: str


def _text_outputs(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(source({"source": output.get("text", "")}))
        elif output.get("output_type") == "error":
            parts.append(f"{output.get('ename')}: {output.get('evalue')}")
    return "".join(parts)


def claim_measurements(notebook, name: str, page: str) -> list[Measurement]:
    """Every `# claim Cnn` tag in a code cell, with what the committed outputs say about it."""
    found = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        tags = list(dict.fromkeys(CLAIM_TAG.findall(source(cell))))
        if not tags:
            continue
        printed = _text_outputs(cell)
        holds = {claim: value.strip() for claim, value in CLAIM_HOLDS.findall(printed)}
        disagrees = {claim: value.strip() for claim, value in CLAIM_DISAGREES.findall(printed)}
        failed = {claim: value.strip() for claim, value in CLAIM_FAILED.findall(printed)}
        inconclusive = {claim: value.strip() for claim, value in CLAIM_INCONCLUSIVE.findall(printed)}
        computed = {claim: value.strip() for claim, value in CLAIM_COMPUTED.findall(printed)}
        anchor = f"{page}#cell-id={cell.get('id', '')}" if cell.get("id") else page
        for claim in tags:
            if claim in holds:
                status, value = "holds", holds[claim]
            elif claim in disagrees:
                status, value = "disagrees", disagrees[claim]
            elif claim in inconclusive:
                status, value = "inconclusive", inconclusive[claim]
            elif claim in computed:
                status, value = "computed", computed[claim]
            elif claim in failed:
                status, value = "failed", failed[claim]
            elif cell.get("execution_count") is None:
                status, value = "not executed", ""
            elif any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
                status, value = "failed", printed.strip().splitlines()[-1] if printed.strip() else "error"
            else:
                status, value = "asserted", "checked by an assert (no value printed)"
            found.append(Measurement(claim, name, anchor, status, value))
    return found


@dataclasses.dataclass
class Claim:
    id: str
    slides: str
    statement: str
    measure: str


def load_claims(path: pathlib.Path = HERE / "claims.md") -> list[Claim]:
    """The lecture's claims from the Markdown table `| id | slide | claim | measure |`."""
    claims = []
    for line in pathlib.Path(path).read_text(encoding="utf-8").splitlines():
        if not re.match(r"^\|\s*C\d\d\s*\|", line):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4:
            raise ValueError(f"{path}: expected 4 columns in {line!r}")
        claims.append(Claim(*cells))
    return claims


# --------------------------------------------------------------------------- slides

def _png_size(data: str) -> tuple[int, int] | None:
    try:
        raw = base64.b64decode(data[:64] + "=" * (-len(data[:64]) % 4))
    except ValueError:
        return None
    if raw[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    width, height = struct.unpack(">II", raw[16:24])
    return width, height


def _markdown_lines(text: str) -> float:
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
            lines += 0.9
        elif stripped.startswith("#"):
            lines += 1.8
        else:
            lines += max(1, math.ceil(len(stripped) / TEXT_COLUMNS))
    return lines


def _output_lines(output) -> float:
    kind = output.get("output_type")
    if kind == "stream":
        return min(0.75 * len(source({"source": output.get("text", "")}).splitlines()), SLIDE_LINES)
    if kind == "error":
        return 6.0
    data = output.get("data", {})
    for mime in ("image/png", "image/jpeg"):
        if mime in data:
            image = data[mime]
            image = "".join(image) if isinstance(image, list) else image
            size = _png_size(image) if mime == "image/png" else None
            if size is None:
                return 12.0
            width, height = size
            scale = min(1.0, (SLIDE_WIDTH - 160) / max(width, 1))
            return height * scale / PIXELS_PER_LINE + 0.5
    if "text/html" in data:
        html = source({"source": data["text/html"]})
        return 1.0 * max(1, html.count("<tr")) + 0.5
    if "text/plain" in data:
        return 0.75 * len(source({"source": data["text/plain"]}).splitlines())
    return 0.0


def cell_lines(cell) -> float:
    """Estimated height of a cell on a slide, in lines of text."""
    if cell.cell_type == "markdown":
        return _markdown_lines(source(cell)) + 0.6
    if cell.cell_type == "code":
        return (0.75 * len(source(cell).splitlines()) + 1.0
                + sum(_output_lines(output) for output in cell.get("outputs", [])))
    return 0.0


def split_markdown(text: str, budget: float = SLIDE_LINES) -> list[str]:
    """A Markdown cell too tall for one slide, cut at blank lines (never inside a fenced
    block) into pieces that each fit where possible."""
    blocks, current, in_fence = [], [], False
    for line in text.splitlines():
        if line.strip().startswith("```"):
            in_fence = not in_fence
        if not line.strip() and not in_fence and current:
            blocks.append("\n".join(current))
            current = []
        elif line.strip() or current:
            current.append(line)
    if current:
        blocks.append("\n".join(current))
    pieces, piece = [], []
    for block in blocks:
        candidate = piece + [block]
        if piece and _markdown_lines("\n\n".join(candidate)) > budget:
            pieces.append("\n\n".join(piece))
            piece = [block]
        else:
            piece = candidate
    if piece:
        pieces.append("\n\n".join(piece))
    return pieces or [text]


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


def has_authored_slides(notebook) -> bool:
    return any(cell.get("metadata", {}).get("slideshow", {}).get("slide_type")
               for cell in notebook.cells)


def plan_slides(notebook) -> tuple[object, str]:
    """A copy of `notebook` with `slideshow.slide_type` set on every cell, and how the plan was
    made. An author's own slideshow metadata is kept as written. Otherwise:

    - the title cell, every `#`/`##` section: a new slide (reveal.js's horizontal axis); a
      Markdown cell with several sections is cut before each;
    - inside a section, a new sub-slide (vertical axis) for every `###` heading, for every
      explanation that follows code (a new step: its text, then its code and figure), and
      whenever the next cell would overflow the screen; a Markdown cell taller than a slide
      is cut at paragraph breaks;
    - a code cell's output (a figure, a table) always stays on the slide of its code;
    - empty code cells are skipped.
    """
    notebook = copy.deepcopy(notebook)
    if has_authored_slides(notebook):
        return notebook, AUTHORED
    cells = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            pieces = [part for section in split_sections(source(cell))
                      for part in (split_markdown(section) if _markdown_lines(section) > SLIDE_LINES else [section])]
            for index, piece in enumerate(pieces):
                part = copy.deepcopy(cell)
                part.source = piece
                if index:
                    part["id"] = f"{cell.get('id', 'cell')}-{index}"
                    part["metadata"]["course_continued"] = True
                cells.append(part)
        else:
            cells.append(cell)
    used = 0.0
    previous = None
    for index, cell in enumerate(cells):
        text = source(cell).lstrip()
        lines = cell_lines(cell)
        if cell.cell_type == "code" and not text.strip():
            slide_type = "skip"
        elif index == 0 or (cell.cell_type == "markdown" and re.match(r"#{1,2}\s", text)):
            slide_type = "slide"
        elif cell.cell_type == "markdown" and re.match(r"#{3,6}\s", text):
            slide_type = "subslide"
        elif cell.cell_type == "markdown" and previous == "code":
            slide_type = "subslide"
        elif used + lines > SLIDE_LINES:
            slide_type = "subslide"
        else:
            slide_type = "-"
        if slide_type in ("slide", "subslide"):
            used = lines
        elif slide_type == "-":
            used += lines
        if slide_type != "skip":
            previous = cell.cell_type
        cell.setdefault("metadata", {})["slideshow"] = {"slide_type": slide_type}
    notebook.cells = cells
    return notebook, DERIVED


def slide_count(notebook) -> tuple[int, int]:
    """(slides, sub-slides) of a planned notebook."""
    types = [cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-") for cell in notebook.cells]
    return types.count("slide"), types.count("subslide")


# --------------------------------------------------------------------------- assets

def install_assets(node_modules: pathlib.Path, out: pathlib.Path) -> None:
    """Copy MathJax 3 (CommonHTML output, its fonts and extensions) and reveal.js 5 (dist and
    the speaker-notes plugin) from the npm packages into the book's assets/ folder."""
    node_modules = pathlib.Path(node_modules)
    mathjax, reveal = node_modules / "mathjax", node_modules / "reveal.js"
    missing = [p for p in (mathjax / "es5" / "tex-chtml-full.js", reveal / "dist" / "reveal.js") if not p.exists()]
    if missing:
        raise FileNotFoundError(
            f"MathJax and reveal.js are not installed under {node_modules} (missing {missing[0]}); "
            "run `make book-assets` once (it installs them from the npm registry)")
    assets = out / "assets"
    unused = shutil.ignore_patterns("*svg*", "mml-*", "tex-mml-*", "node-main.js", "*-speech.js", "*.map")
    shutil.copytree(mathjax / "es5", assets / "mathjax", ignore=unused, dirs_exist_ok=True)
    shutil.copy2(mathjax / "LICENSE", assets / "mathjax" / "LICENSE")
    shutil.copytree(reveal / "dist", assets / "reveal.js" / "dist", ignore=shutil.ignore_patterns("*.map", "*.esm.js"),
                    dirs_exist_ok=True)
    shutil.copytree(reveal / "plugin" / "notes", assets / "reveal.js" / "plugin" / "notes",
                    ignore=shutil.ignore_patterns("*.esm.js"), dirs_exist_ok=True)
    shutil.copy2(reveal / "LICENSE", assets / "reveal.js" / "LICENSE")
    for name in ("course.css", "course-slides.css"):
        shutil.copy2(HERE / "site" / name, assets / name)


def mathjax_head(root: str) -> str:
    """The MathJax 3 configuration (the delimiters Jupyter uses) and the local script."""
    return f"""<script>
window.MathJax = {{
  tex: {{
    inlineMath: [["$", "$"], ["\\\\(", "\\\\)"]],
    displayMath: [["$$", "$$"], ["\\\\[", "\\\\]"]],
    processEscapes: true,
    processEnvironments: true,
    tags: "ams"
  }},
  options: {{ ignoreHtmlClass: "tex2jax_ignore", processHtmlClass: "tex2jax_process" }}
}};
</script>
<script id="MathJax-script" src="{root}assets/mathjax/tex-chtml-full.js"></script>"""


# --------------------------------------------------------------------------- rendering

@dataclasses.dataclass
class Page:
    path: pathlib.Path          # source notebook
    name: str                   # stem
    overview: Overview
    html: str                   # book-relative URL
    slides: str | None
    ipynb: str
    measurements: list
    slide_plan: str = ""
    num_slides: int = 0
    num_subslides: int = 0
    images: int = 0
    has_math: bool = False


def _exporters():
    from nbconvert import HTMLExporter, SlidesExporter

    templates = [str(HERE / "nbconvert")]
    page = HTMLExporter(template_name="course_html", extra_template_basedirs=templates)
    slides = SlidesExporter(template_name="course_slides", extra_template_basedirs=templates,
                            reveal_url_prefix="../assets/reveal.js", reveal_theme="white", reveal_transition="none", reveal_number="c/t",
                            reveal_width=str(SLIDE_WIDTH), reveal_height=str(SLIDE_HEIGHT),
                            exclude_input_prompt=True, exclude_output_prompt=True)
    return page, slides


def _count_images(notebook) -> int:
    return sum(1 for cell in notebook.cells for output in cell.get("outputs", [])
               if any(mime.startswith("image/") for mime in output.get("data", {})))


MATH = re.compile(r"(?<![\\$])\$[^$\n]+\$|\$\$.+?\$\$|\\\(|\\\[|\\begin\{", re.S)


def _has_math(notebook) -> bool:
    return any(cell.cell_type == "markdown" and MATH.search(source(cell)) for cell in notebook.cells)


NOTEBOOK_LINK = re.compile(r'<a href="(?:[^"#]*/)?(\d\d_[A-Za-z0-9_]+)\.ipynb(#[^"]*)?">(.*?)</a>', re.S)


def rewrite_links(html: str, root: str, known, *, slides: bool = False, missing=None) -> str:
    """Links between notebooks are written by file name (`[...](10_vgg.ipynb)`); in the book
    they go to that notebook's page (from a slide deck: to its slides, when it has some).
    `known` maps a notebook's stem to its page and deck (paths from the book's root, the deck
    None for labs), or is a set of course-notebook stems. A link to a notebook that is not in
    the book (yet) is kept as plain text, so the book has no broken link. Download links
    (`<a href=... download>`) are left alone."""
    if not isinstance(known, dict):
        known = {stem: (f"notebooks/{stem}.html", f"slides/{stem}.slides.html") for stem in known}

    def replace(match):
        stem, fragment, text = match.group(1), match.group(2) or "", match.group(3)
        if stem not in known:
            if missing is not None:
                missing.add(stem)
            return f'<span class="course-missing" title="{stem}.ipynb is not in the course yet">{text}</span>'
        page, deck = known[stem]
        target = deck if slides and deck else page
        return f'<a href="{root}{target}{fragment}">{text}</a>'

    return NOTEBOOK_LINK.sub(replace, html)


def render_notebook(path: pathlib.Path, out: pathlib.Path, folder: str, exporters, *, slides: bool,
                    links_extra=(), known=None, missing=None) -> Page:
    """Render one notebook to `out/folder/stem.html` (and its slides), copy the .ipynb.
    `known`: the notebooks in the book, for links between them (see `rewrite_links`)."""
    page_exporter, slides_exporter = exporters
    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception as error:  # nbformat raises several kinds for a broken file
        raise ValueError(f"{path}: not a readable notebook ({error})") from error
    overview = read_overview(notebook, path)
    stem = path.stem
    heading = f"{overview.number} · {overview.title}" if overview.number else overview.title
    (out / folder).mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, out / folder / path.name)
    html_url = f"{folder}/{stem}.html"
    slides_url = f"slides/{stem}.slides.html" if slides else None
    root = "../" * len(pathlib.PurePosixPath(folder).parts)
    if known is None:
        known = {stem: (html_url, slides_url)}
    links = [{"href": path.name, "text": "download the notebook", "download": True}]
    if slides_url:
        links.insert(0, {"href": f"{root}{slides_url}", "text": "slides"})
    links += list(links_extra)
    resources = {
        "metadata": {"name": heading, "path": str(path.parent)},
        "course": {"root": root, "book_title": BOOK_TITLE, "links": links, "mathjax_head": mathjax_head(root)},
    }
    body, _ = page_exporter.from_notebook_node(notebook, resources=copy.deepcopy(resources))
    body = rewrite_links(body, root, known, missing=missing)
    (out / html_url).write_text(body, encoding="utf-8")
    page = Page(path=path, name=stem, overview=overview, html=html_url, slides=slides_url,
                ipynb=f"{folder}/{path.name}", measurements=claim_measurements(notebook, heading, html_url),
                images=_count_images(notebook), has_math=_has_math(notebook))
    if slides:
        planned, how = plan_slides(notebook)
        page.slide_plan = how
        page.num_slides, page.num_subslides = slide_count(planned)
        resources["course"].update(links=[], root="../", mathjax_head=mathjax_head("../"))
        deck, _ = slides_exporter.from_notebook_node(planned, resources=copy.deepcopy(resources))
        deck = rewrite_links(deck, "../", known, slides=True, missing=missing)
        (out / "slides").mkdir(parents=True, exist_ok=True)
        (out / slides_url).write_text(deck, encoding="utf-8")
    return page


def discover_notebooks(root: pathlib.Path = ROOT) -> list[pathlib.Path]:
    return sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def discover_labs(root: pathlib.Path = ROOT) -> list[tuple[pathlib.Path, list[pathlib.Path]]]:
    """Each lab folder in labs/ with its student notebooks (not solutions, not grader files)."""
    labs_dir = root / "labs"
    found = []
    if not labs_dir.is_dir():
        return found
    hidden = {"solution", "solutions", "autograder", ".ipynb_checkpoints"}
    for folder in sorted(p for p in labs_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        notebooks = sorted(p for p in folder.rglob("*.ipynb") if not hidden & set(p.relative_to(folder).parts[:-1]))
        if notebooks:
            found.append((folder, notebooks))
    return found


def _site_environment() -> jinja2.Environment:
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE / "site")),
                                     autoescape=jinja2.select_autoescape(["html", "j2"]),
                                     undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)

    def markdown(text: str, inline: bool = False):
        rendered = markdown2html_mistune(text or "")
        if inline:
            rendered = re.sub(r"^<p>(.*)</p>\s*$", r"\1", rendered.strip(), flags=re.S)
        return jinja2.utils.markupsafe.Markup(rendered)

    environment.filters["markdown"] = markdown
    return environment


def build(out: pathlib.Path, assets: pathlib.Path = DEFAULT_ASSETS, notebooks=None, labs=None,
          claims_table: pathlib.Path = HERE / "claims.md", root: pathlib.Path = ROOT) -> dict:
    """Render the whole book into `out`. Returns what was built (pages, labs, claims)."""
    out = pathlib.Path(out)
    notebooks = discover_notebooks(root) if notebooks is None else [pathlib.Path(p) for p in notebooks]
    labs = discover_labs(root) if labs is None else labs
    out.mkdir(parents=True, exist_ok=True)
    install_assets(pathlib.Path(assets), out)
    exporters = _exporters()
    known = {path.stem: (f"notebooks/{path.stem}.html", f"slides/{path.stem}.slides.html") for path in notebooks}
    for folder, student_notebooks in labs:
        for path in student_notebooks:
            known.setdefault(path.stem, (f"labs/{folder.name}/{path.stem}.html", None))
    missing: set = set()
    pages = []
    for position, path in enumerate(notebooks):
        print(f"rendering {path.relative_to(root) if path.is_relative_to(root) else path}", flush=True)
        neighbours = []
        if position > 0:
            neighbours.append({"href": f"{notebooks[position - 1].stem}.html", "text": "← previous"})
        if position + 1 < len(notebooks):
            neighbours.append({"href": f"{notebooks[position + 1].stem}.html", "text": "next →"})
        pages.append(render_notebook(path, out, "notebooks", exporters, slides=True, links_extra=neighbours,
                                     known=known, missing=missing))
    lab_entries = []
    for folder, student_notebooks in labs:
        rendered = [render_notebook(path, out, f"labs/{folder.name}", exporters, slides=False,
                                    links_extra=[{"href": "../../labs.html", "text": "all labs"}],
                                    known=known, missing=missing)
                    for path in student_notebooks]
        readme = folder / "README.md"
        lab_entries.append({"name": folder.name, "pages": rendered,
                            "readme": readme.read_text(encoding="utf-8") if readme.exists() else ""})
    claims = load_claims(claims_table)
    measured: dict[str, list[Measurement]] = {claim.id: [] for claim in claims}
    for page in pages + [p for entry in lab_entries for p in entry["pages"]]:
        for measurement in page.measurements:
            measured.setdefault(measurement.claim, []).append(measurement)
    labs_readme = root / "labs" / "README.md"
    context = {
        "book_title": BOOK_TITLE, "root": "", "mathjax_head": mathjax_head(""),
        "pages": pages, "labs": lab_entries, "claims": claims, "measured": measured,
        "num_measured": sum(1 for claim in claims if measured[claim.id]),
        "num_holding": sum(1 for claim in claims
                           if measured[claim.id] and all(m.status in ("holds", "asserted", "computed") for m in measured[claim.id])),
        "num_disagreeing": sum(1 for claim in claims
                               if any(m.status == "disagrees" for m in measured[claim.id])),
        "total_run_seconds": sum(page.overview.run_seconds or 0 for page in pages),
        "labs_readme": labs_readme.read_text(encoding="utf-8") if labs_readme.exists() else "",
    }
    environment = _site_environment()
    for name in ("index.html", "labs.html", "claims.html"):
        text = environment.get_template(name + ".j2").render(**context)
        (out / name).write_text(rewrite_links(text, "", known, missing=missing), encoding="utf-8")
    if missing:
        print(f"note: links to notebooks not in the course yet, shown as text: {', '.join(sorted(missing))}")
    return {"pages": pages, "labs": lab_entries, "claims": claims, "measured": measured, "out": out,
            "missing_links": sorted(missing)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path,
                        help="notebooks to render (default: every notebooks/NN_*.ipynb)")
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "build" / "book")
    parser.add_argument("--assets", type=pathlib.Path, default=DEFAULT_ASSETS,
                        help="node_modules folder holding the mathjax and reveal.js packages")
    args = parser.parse_args(argv)
    try:
        book = build(args.out, args.assets, notebooks=[p.resolve() for p in args.notebooks] or None)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    measured = sum(1 for values in book["measured"].values() if values)
    print(f"book: {len(book['pages'])} notebooks, {len(book['labs'])} labs, "
          f"{measured}/{len(book['claims'])} claims measured -> {book['out'] / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
