"""The course book (`make book`, tools/book.py): overview parsing, claims, slide planning, an
offline site with no reference outside it, and a headless-Chromium check of the index, a
notebook page and a slide deck (no console errors, images shown, math rendered).

The book tests need the offline assets (`make book-assets`, run by `make book` and CI); the
browser test needs Debian's `chromium` (CI installs it) and is skipped without it.
"""

import base64
import html.parser
import io
import os
import pathlib
import re
import shutil
import sys
import urllib.parse

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools import book  # noqa: E402

SHARED_CLAIMS = ROOT.parent / "shared" / "CLAIMS.md"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]


# --------------------------------------------------------------------------- fixtures

def _figure_png() -> str:
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(4, 3), dpi=60)
    axes.plot([0, 1, 2], [0, 1, 4])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


def make_notebook(with_outputs=True):
    """A small notebook in the course's template, with math, a figure and two claims."""
    v4 = nbformat.v4
    cells = [
        v4.new_markdown_cell(
            "# 99 · A test notebook\n\n## Overview\n\nWhat it shows, in one paragraph.\n\n"
            "**Learning objectives.** After this notebook you can\n"
            "- compute $H' = \\lfloor (H + 2p - k) / s \\rfloor + 1$;\n"
            "- read a long objective that wraps\n  onto a second line;\n- plot a curve.\n\n"
            "**Prerequisites:** `00_image_classification.ipynb`.\n\n**Slides:** 20-22 of the lecture.\n\n"
            "**Run time:** about 15 s on a 2-core CPU (measured by `make refresh`)."),
        v4.new_markdown_cell("## Setup"),
        v4.new_code_cell("import utils\n\nutils.set_seed(0)"),
        v4.new_markdown_cell("## 1. Output size\n\nThe output size is\n\n$$H' = \\frac{H + 2p - k}{s} + 1.$$"),
        v4.new_code_cell("# claim C02\nclaims.equal(\"C02\", \"output size\", 5, 5)"),
        v4.new_code_cell("# claim C03\nassert 1 < 2"),
        v4.new_markdown_cell("A figure, after code: a new step."),
        v4.new_code_cell("plots.curve();"),
        v4.new_code_cell(""),
        v4.new_markdown_cell("## Summary\n\nInline math $a^2 + b^2 = c^2$ and \\(x_1\\)."),
        v4.new_markdown_cell("## Exercises\n\n1. Why?"),
    ]
    if with_outputs:
        for count, cell in enumerate(c for c in cells if c.cell_type == "code" and c.source):
            cell.execution_count = count + 1
        cells[4].outputs = [v4.new_output("stream", name="stdout", text="Claim C02 holds: output size 5 == 5\n")]
        cells[7].outputs = [v4.new_output("display_data", data={"image/png": _figure_png(), "text/plain": "<Figure>"})]
    notebook = v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def _assets_or_skip():
    if not (book.DEFAULT_ASSETS / "mathjax" / "es5" / "tex-chtml-full.js").exists():
        pytest.skip("the book's offline assets are not installed: run `make book-assets`")
    return book.DEFAULT_ASSETS


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The real course book, plus a fixture notebook with math and a figure under fixture/."""
    assets = _assets_or_skip()
    out = tmp_path_factory.mktemp("book")
    result = book.build(out, assets)
    source = tmp_path_factory.mktemp("source") / "99_fixture.ipynb"
    nbformat.write(make_notebook(), source)
    result["fixture"] = book.render_notebook(source, out, "notebooks", book._exporters(), slides=True)
    return result


# --------------------------------------------------------------------------- unit

def test_claims_table_lists_c01_to_c40():
    claims = book.load_claims()
    assert [claim.id for claim in claims] == list(book.CLAIM_IDS)
    assert all(claim.statement and claim.measure and claim.slides for claim in claims)


@pytest.mark.skipif(not SHARED_CLAIMS.exists(), reason="../shared/CLAIMS.md is not beside the repository")
def test_claims_table_is_a_faithful_copy_of_the_lecture_list():
    original = [line.strip() for line in SHARED_CLAIMS.read_text().splitlines() if re.match(r"^\|\s*C\d\d\s*\|", line)]
    copied = [line.strip() for line in (book.HERE / "claims.md").read_text().splitlines()
              if re.match(r"^\|\s*C\d\d\s*\|", line)]
    assert copied == original, "tools/book/claims.md differs from ../shared/CLAIMS.md: copy the table again"


def test_load_claims_rejects_a_malformed_row(tmp_path):
    table = tmp_path / "claims.md"
    table.write_text("| C01 | 20 | only three columns |\n")
    with pytest.raises(ValueError, match="4 columns"):
        book.load_claims(table)


def test_read_overview():
    overview = book.read_overview(make_notebook(), pathlib.Path("99_test.ipynb"))
    assert (overview.number, overview.title) == ("99", "A test notebook")
    assert overview.summary == "What it shows, in one paragraph."
    assert overview.objectives == ["compute $H' = \\lfloor (H + 2p - k) / s \\rfloor + 1$;",
                                   "read a long objective that wraps onto a second line;", "plot a curve."]
    assert overview.prerequisites == "`00_image_classification.ipynb`."
    assert overview.slides == "20-22 of the lecture."
    assert overview.run_seconds == 15


def test_read_overview_of_a_notebook_without_the_template():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    overview = book.read_overview(notebook, pathlib.Path("07_something_else.ipynb"))
    assert (overview.number, overview.title, overview.objectives, overview.run_seconds) == \
        ("07", "07 something else", [], None)


@pytest.mark.parametrize("path", book.discover_notebooks(), ids=lambda p: p.name)
def test_every_notebook_gives_the_syllabus_its_entry(path):
    overview = book.read_overview(nbformat.read(path, as_version=4), path)
    assert overview.number == path.name[:2] and overview.title
    assert overview.objectives, "the index lists the learning objectives: no bullet list after **Learning objectives.**"


def test_claim_measurements():
    notebook = make_notebook()
    found = {m.claim: m for m in book.claim_measurements(notebook, "99_test.ipynb", "notebooks/99_test.html")}
    assert found["C02"].status == "holds" and found["C02"].value == "output size 5 == 5"
    assert found["C02"].page.startswith("notebooks/99_test.html#cell-id=")
    assert found["C03"].status == "asserted"
    notebook.cells[4].outputs = [nbformat.v4.new_output(
        "error", ename="ClaimFailed", evalue="Claim C02 failed: output size 4 != 5", traceback=[])]
    failed = {m.claim: m for m in book.claim_measurements(notebook, "x.ipynb", "x.html")}["C02"]
    assert (failed.status, failed.value) == ("failed", "output size 4 != 5")
    unexecuted = make_notebook(with_outputs=False)
    assert {m.status for m in book.claim_measurements(unexecuted, "x.ipynb", "x.html")} == {"not executed"}


def _slide_types(notebook):
    return [cell.metadata.slideshow.slide_type for cell in notebook.cells]


def test_slide_plan_follows_the_sections():
    planned, how = book.plan_slides(make_notebook())
    assert how == book.DERIVED
    assert _slide_types(planned) == [
        "slide",      # title and overview
        "slide", "-",  # Setup and its cell
        "slide", "-", "-",  # section 1: text, then the claim cells with it
        "subslide", "-",  # text after code starts a step; its figure stays with it
        "skip",       # empty cell
        "slide", "slide",  # Summary, Exercises
    ]
    assert book.slide_count(planned) == (5, 1)


def test_slide_plan_splits_what_does_not_fit():
    v4 = nbformat.v4
    long_code = "\n".join(f"x{i} = {i}" for i in range(30))
    paragraphs = "\n\n".join(f"Paragraph {i}. " + "word " * 60 for i in range(12))
    notebook = v4.new_notebook(cells=[
        v4.new_markdown_cell("# 98 · Long\n\n" + paragraphs),
        v4.new_code_cell(long_code), v4.new_code_cell(long_code),
        v4.new_markdown_cell("### A sub-heading"),
    ])
    planned, _ = book.plan_slides(notebook)
    types = _slide_types(planned)
    markdown_pieces = [cell for cell in planned.cells if cell.cell_type == "markdown"][:-1]
    assert len(markdown_pieces) > 1, "a Markdown cell taller than a slide is cut at paragraph breaks"
    assert types[0] == "slide" and set(types[1:len(markdown_pieces)]) == {"subslide"}
    assert "".join(book.source(c) for c in markdown_pieces).count("Paragraph") == 12
    assert types[-2:] == ["subslide", "subslide"], "the second long cell no longer fits; ### starts a sub-slide"
    for piece in markdown_pieces:
        assert book._markdown_lines(book.source(piece)) <= book.SLIDE_LINES


def test_split_markdown_never_cuts_a_code_fence():
    fence = "```python\n" + "\n\n".join(f"line_{i} = {i}" for i in range(80)) + "\n```"
    pieces = book.split_markdown("Intro.\n\n" + fence + "\n\nAfter.", budget=10)
    assert any(piece.startswith("```python") and piece.endswith("```") for piece in pieces)
    assert all(piece.count("```") % 2 == 0 for piece in pieces)


def test_authored_slide_metadata_is_kept():
    notebook = make_notebook()
    notebook.cells[3].metadata["slideshow"] = {"slide_type": "fragment"}
    planned, how = book.plan_slides(notebook)
    assert how == book.AUTHORED
    assert planned.cells[3].metadata.slideshow.slide_type == "fragment"
    assert "slideshow" not in planned.cells[4].metadata
    assert "slideshow" not in notebook.cells[4].metadata, "planning works on a copy"


def test_a_cell_with_two_sections_becomes_two_slides():
    v4 = nbformat.v4
    notebook = v4.new_notebook(cells=[
        v4.new_markdown_cell("# 97 · Title\n\n## Overview\n\nText."),
        v4.new_markdown_cell("## Summary\n\n- a\n\n## Exercises\n\n```python\n## not a heading\n```\n1. b"),
    ])
    planned, _ = book.plan_slides(notebook)
    assert [book.source(cell).splitlines()[0] for cell in planned.cells] == ["# 97 · Title", "## Summary", "## Exercises"]
    assert _slide_types(planned) == ["slide", "slide", "slide"]


@pytest.mark.parametrize("path", book.discover_notebooks(), ids=lambda p: p.name)
def test_every_notebook_has_a_slide_per_section(path):
    notebook = nbformat.read(path, as_version=4)
    planned, how = book.plan_slides(notebook)
    if how == book.AUTHORED:
        pytest.skip("slides planned by the author")
    headings = [line for cell in notebook.cells if cell.cell_type == "markdown"
                for line in book.source(cell).splitlines() if re.match(r"#{1,2}\s", line)]
    starts = []
    for cell in planned.cells:
        lines = book.source(cell).splitlines()
        if cell.cell_type == "markdown" and lines and re.match(r"#{1,2}\s", lines[0]):
            assert cell.metadata.slideshow.slide_type == "slide", f"{lines[0]!r} does not start a slide"
            starts.append(lines[0])
        if cell.cell_type == "code" and cell.outputs:
            assert cell.metadata.slideshow.slide_type != "skip", "a cell with output is on a slide"
    # every section heading starts a slide, except `## Overview` right under the title
    assert [h for h in headings if h.strip() != "## Overview"] == starts


def test_links_between_notebooks_go_to_their_pages():
    html = ('<a href="01_convolution.ipynb#2.-Im2col">see 01</a> <a href="../../notebooks/10_vgg.ipynb">VGG</a> '
            '<a href="00_image_classification.ipynb" download>download</a>')
    missing = set()
    page = book.rewrite_links(html, "../", {"01_convolution", "00_image_classification"}, missing=missing)
    assert '<a href="../notebooks/01_convolution.html#2.-Im2col">see 01</a>' in page
    assert '<span class="course-missing" title="10_vgg.ipynb is not in the course yet">VGG</span>' in page
    assert '<a href="00_image_classification.ipynb" download>download</a>' in page
    assert missing == {"10_vgg"}
    deck = book.rewrite_links(html, "../", {"01_convolution"}, slides=True)
    assert '<a href="../slides/01_convolution.slides.html#2.-Im2col">see 01</a>' in deck
    # a lab has a page but no slides: a deck links to its page
    lab = book.rewrite_links('<a href="01_conv2d_im2col.ipynb">the lab</a>', "../",
                             {"01_conv2d_im2col": ("labs/01_conv2d_im2col/01_conv2d_im2col.html", None)}, slides=True)
    assert lab == '<a href="../labs/01_conv2d_im2col/01_conv2d_im2col.html">the lab</a>'


def test_missing_assets_give_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="make book-assets"):
        book.install_assets(tmp_path / "nowhere", tmp_path / "out")


# --------------------------------------------------------------------------- the built book

class _References(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.references = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value and name in ("src", "href", "data", "poster", "srcset"):
                self.references.append((tag, name, value))


def _external(value: str) -> bool:
    scheme = urllib.parse.urlsplit(value).scheme
    return bool(scheme) and scheme not in ("data", "file") or value.startswith("//")


def test_the_book_has_every_page(built):
    out = built["out"]
    pages = built["pages"]
    assert [page.path for page in pages] == book.discover_notebooks()
    index = (out / "index.html").read_text()
    for page in pages:
        assert (out / page.html).exists() and (out / page.slides).exists() and (out / page.ipynb).exists()
        assert f'href="{page.html}"' in index and f'href="{page.slides}"' in index
        assert _escaped(page.overview.title) in index
        if page.overview.run_seconds is not None:
            assert f"{page.overview.run_seconds} s" in index
    for lab in built["labs"]:
        for page in lab["pages"]:
            assert (out / page.html).exists()
            assert page.html in (out / "labs.html").read_text() and page.html in index
    claims_page = (out / "claims.html").read_text()
    assert all(f'id="{claim_id}"' in claims_page for claim_id in book.CLAIM_IDS)
    for claim_id, measurements in built["measured"].items():
        for m in measurements:
            assert m.page in claims_page
            if m.status == "holds":
                assert _escaped(m.value) in claims_page


def _escaped(text):
    import markupsafe

    return str(markupsafe.escape(text))


def _outside_references(page: pathlib.Path, out: pathlib.Path) -> list:
    parser = _References()
    text = page.read_text(encoding="utf-8")
    parser.feed(text)
    # a hyperlink to a paper is fine offline; anything the page loads must be local
    references = [value for tag, _, value in parser.references if not (tag == "a" and _external(value))]
    references += re.findall(r"url\(\s*['\"]?([^'\")]+)", text)
    references += re.findall(r"import\s*\(?\s*['\"]([^'\"]+)['\"]", text)
    problems = []
    for value in references:
        if value.startswith(("#", "data:", "mailto:")):
            continue
        if _external(value):
            problems.append(f"{page.relative_to(out)}: {value}")
            continue
        target = (page.parent / urllib.parse.unquote(urllib.parse.urlsplit(value).path)).resolve()
        if not target.exists():
            problems.append(f"{page.relative_to(out)}: missing {value}")
    return problems


def test_the_reference_check_catches_a_cdn(tmp_path):
    (tmp_path / "here.css").write_text("")
    page = tmp_path / "page.html"
    page.write_text('<link rel="stylesheet" href="here.css"><a href="https://arxiv.org/abs/1512.03385">paper</a>'
                    '<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"></script>'
                    '<img src="missing.png"><style>@font-face { src: url("//fonts.example/x.woff"); }</style>')
    assert _outside_references(page, tmp_path) == [
        "page.html: https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js", "page.html: missing missing.png",
        "page.html: //fonts.example/x.woff"]


def test_the_book_references_nothing_outside_itself(built):
    """Offline: every script, style sheet, image and font the book loads, and every link
    inside it, resolves to a file in build/book/ (or is an in-page anchor or a data: URI);
    nothing is loaded from a CDN. Hyperlinks to papers and documentation may leave the book."""
    out = built["out"]
    problems = [problem for page in sorted(out.rglob("*.html")) if "assets" not in page.relative_to(out).parts
                for problem in _outside_references(page, out)]
    assert not problems, "\n".join(problems[:20])


def test_slides_follow_the_plan(built):
    fixture = built["fixture"]
    deck = (built["out"] / fixture.slides).read_text()
    assert fixture.num_slides == 5 and fixture.num_subslides == 1
    assert "assets/reveal.js/dist/reveal.js" in deck and "assets/mathjax/tex-chtml-full.js" in deck


# --------------------------------------------------------------------------- in a browser

def _chromium():
    for name in (os.environ.get("COURSE_CHROMIUM", ""), "chromium", "chromium-browser"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    executable = _chromium()
    if executable is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium); .ci/run installs it")
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=executable, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 800})
        outside = []

        def only_local(route):
            url = route.request.url
            if url.startswith(("file:", "data:", "blob:", "about:")):
                route.continue_()
            else:
                outside.append(url)
                route.abort()

        context.route("**/*", only_local)
        context.outside_requests = outside
        yield context
        context.close()


def _open(browser, path: pathlib.Path):
    """Load a page; return it with the console errors, page errors and failed requests."""
    page = browser.new_page()
    problems = []
    page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}")
            if message.type in ("error", "assert") else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: problems.append(f"failed request: {request.url[:120]} {request.failure}"))
    page.goto(path.as_uri(), wait_until="load")
    page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
    page.wait_for_timeout(200)
    return page, problems


IMAGES = """() => [...document.images].map(image => ({src: image.src.slice(0, 40),
    shown: image.complete && image.naturalWidth > 0 && image.naturalHeight > 0}))"""
MATH = """() => ({rendered: document.querySelectorAll("mjx-container").length,
    errors: document.querySelectorAll("mjx-merror").length,
    raw: [...document.querySelectorAll(".jp-RenderedMarkdown, .jp-MarkdownOutput")]
         .map(element => element.innerText).filter(text => /\\$\\$|\\\\\\(|\\$[^$\\s][^$]*\\$/.test(text)).length})"""


def _check_page(browser, path, *, images, math):
    page, problems = _open(browser, path)
    try:
        shown = page.evaluate(IMAGES)
        rendered = page.evaluate(MATH)
    finally:
        page.close()
    assert not problems, f"{path.name}: {problems}"
    assert len(shown) == images and all(image["shown"] for image in shown), f"{path.name}: images {shown}"
    if math:
        assert rendered["rendered"] > 0 and rendered["errors"] == 0 and rendered["raw"] == 0, \
            f"{path.name}: math not rendered by MathJax: {rendered}"
    assert not browser.outside_requests, f"requests outside the book: {browser.outside_requests}"


def _richest(pages):
    return max(pages, key=lambda page: (page.images > 0, page.has_math, page.images))


def test_index_and_claims_pages_in_a_browser(built, browser):
    for name in ("index.html", "claims.html", "labs.html"):
        _check_page(browser, built["out"] / name, images=0, math=False)


def test_a_notebook_page_in_a_browser(built, browser):
    """The fixture notebook (math, a figure), the course notebook with the most figures and math,
    and a lab."""
    labs = [page for lab in built["labs"] for page in lab["pages"]]
    for page in [built["fixture"]] + [_richest(pages) for pages in (built["pages"], labs) if pages]:
        _check_page(browser, built["out"] / page.html, images=page.images, math=page.has_math)


@pytest.mark.parametrize("which", ["fixture", "course"])
def test_a_slide_deck_in_a_browser(built, browser, which):
    if which == "course" and not built["pages"]:
        pytest.skip("no notebooks yet")
    deck = built["fixture"] if which == "fixture" else _richest(built["pages"])
    page, problems = _open(browser, built["out"] / deck.slides)
    try:
        page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=15000)
        total = page.evaluate("() => Reveal.getTotalSlides()")
        notes = page.evaluate("() => Reveal.hasPlugin('notes')")
        page.evaluate("() => Reveal.slide(Reveal.getHorizontalSlides().length - 1)")
        page.keyboard.press("Home")
        cut_off = []
        for _ in range(total):
            slide = page.evaluate("""() => {const s = Reveal.getCurrentSlide();
                return {index: Reveal.getIndices(), tall: s.scrollHeight > Reveal.getConfig().height + 2,
                        scrolls: getComputedStyle(s).overflowY === "auto"}}""")
            if slide["tall"] and not slide["scrolls"]:
                cut_off.append(slide["index"])
            page.keyboard.press("Space")
        last = page.evaluate("() => Reveal.isLastSlide()")
        shown = page.evaluate(IMAGES)
        rendered = page.evaluate(MATH)
    finally:
        page.close()
    assert not problems, f"{deck.slides}: {problems}"
    assert total == deck.num_slides + deck.num_subslides, "every planned slide and sub-slide is in the deck"
    assert notes, "the speaker-notes plugin is loaded (S opens the speaker view)"
    assert last, "space walks through every slide to the last"
    assert not cut_off, f"slides taller than the screen that do not scroll: {cut_off}"
    assert len(shown) == deck.images and all(image["shown"] for image in shown), shown
    if deck.has_math:
        assert rendered["rendered"] > 0 and rendered["errors"] == 0 and rendered["raw"] == 0, rendered
    assert not browser.outside_requests, f"requests outside the book: {browser.outside_requests}"


def test_a_broken_notebook_is_named_in_the_error(tmp_path):
    broken = tmp_path / "03_broken.ipynb"
    broken.write_text("{not json")
    with pytest.raises(ValueError, match="03_broken.ipynb: not a readable notebook"):
        book.render_notebook(broken, tmp_path / "out", "notebooks", book._exporters(), slides=True)


def test_code_needs_no_second_sanitising_pass():
    """The book's templates skip nbconvert's bleach pass over highlighted code (it dominated
    the build time): Pygments' HTML of any code, even code holding markup, is unchanged by it."""
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.strings import clean_html

    highlight = Highlight2HTML()
    sources = ['html = "<script>alert(1)</script>" & "<img src=x onerror=y>"  # <b>not bold</b>',
               "def f(x):\n    return x < 1 and x > 0  # a 'quote' & \"another\"\n",
               "%timeit f(2)\n!echo <tag>"]
    sources += [book.source(cell) for path in book.discover_notebooks()[:3]
                for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
    for source in sources:
        html = highlight(source)
        assert clean_html(html) == html
        assert "<script>" not in html


def test_a_disagreeing_claim_is_not_reported_as_holding():
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("# claim C08\nclaims.less('C08', 'speed-up', 0.6, 6, against_lecture=True)")
    cell.execution_count = 1
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="Claim C08 does not hold here: speed-up 0.6 < 6\n")]
    notebook.cells = [cell]
    (measurement,) = book.claim_measurements(notebook, "02_activations.ipynb", "x.html")
    assert (measurement.status, measurement.value) == ("disagrees", "speed-up 0.6 < 6")
