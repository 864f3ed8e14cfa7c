"""A notebook as a book page and as a reveal.js deck (nbconvert, with the templates in
tools/book/nbconvert/), and the links between notebooks."""

from __future__ import annotations

import copy
import dataclasses
import pathlib
import re
import shutil

from tools import links as launch
from tools.book import BOOK_TITLE, HERE
from tools.book import claims as claims_module
from tools.book import notebooks, slides
from tools.book.assets import mathjax_head


@dataclasses.dataclass
class Page:
    path: pathlib.Path          # source notebook
    name: str                   # stem
    overview: notebooks.Overview
    html: str                   # book-relative URL
    slides: str | None
    ipynb: str
    measurements: list
    launch: dict = dataclasses.field(default_factory=dict)   # "Colab" / "Kaggle" -> URL
    slide_plan: str = ""
    num_slides: int = 0
    num_subslides: int = 0
    images: int = 0
    has_math: bool = False


NO_ALT = re.compile(r"<img(?![^>]*\salt=)")
FOCUSABLE = re.compile(r'<div class="((?:[^"]*\s)?(?:jp-Cell-inputWrapper|jp-OutputArea-output)(?:\s[^"]*)?)"(?![^>]*tabindex)')


def accessible(html: str) -> str:
    """What nbconvert's HTMLExporter adds after rendering: alt text on images that have none,
    and tabindex on every cell's input and output so that the keyboard reaches them."""
    html = NO_ALT.sub('<img alt="No description has been provided for this image"', html)
    return FOCUSABLE.sub(r'<div class="\1" tabindex="0"', html)


def _without_soup(exporter_class):
    """`exporter_class` (nbconvert's HTMLExporter or SlidesExporter) without its last step, a
    BeautifulSoup pass over the whole page that only does what `accessible` does with two
    regular expressions: with the course's heavy pages it took a third of the book's build time.
    The rest is HTMLExporter.from_notebook_node of nbconvert 7 (tests/test_book.py compares)."""
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class Exporter(exporter_class):
        def from_notebook_node(self, nb, resources=None, **kw):
            language = nb.metadata.get("language_info", {})
            lexer = language.get("pygments_lexer", language.get("name", None))
            self.register_filter("highlight_code",
                                 self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            return accessible(html), resources

    Exporter.__name__ = f"Course{exporter_class.__name__}"
    return Exporter


def exporters(fast: bool = True):
    """nbconvert's exporters for a page and for a deck, with the course's templates (`fast`:
    without their BeautifulSoup pass, see `_without_soup`)."""
    from nbconvert import HTMLExporter, SlidesExporter

    if fast:
        HTMLExporter, SlidesExporter = _without_soup(HTMLExporter), _without_soup(SlidesExporter)
    templates = [str(HERE / "nbconvert")]
    page = HTMLExporter(template_name="course_html", extra_template_basedirs=templates)
    deck = SlidesExporter(template_name="course_slides", extra_template_basedirs=templates,
                          reveal_url_prefix="../assets/reveal.js", reveal_theme="white", reveal_transition="none",
                          reveal_number="c/t", reveal_width=str(slides.SLIDE_WIDTH),
                          reveal_height=str(slides.SLIDE_HEIGHT),
                          exclude_input_prompt=True, exclude_output_prompt=True)
    return page, deck


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


def launch_links(path: pathlib.Path) -> dict[str, str]:
    """Colab and Kaggle links of a notebook of the repository (none for a file outside it)."""
    try:
        return {"Open in Colab": launch.colab_url(path), "Open in Kaggle": launch.kaggle_url(path)}
    except (ValueError, FileNotFoundError):
        return {}


@dataclasses.dataclass
class Context:
    """What rendering a notebook needs to know about the rest of the book."""
    exporters: tuple
    known: dict | None = None          # stem -> (page, deck), see rewrite_links
    missing: set | None = None         # collects links to notebooks not in the book
    search: bool = False               # the book has a search page


def _nav_links(page: Page, root: str, extra) -> list[dict]:
    nav = [{"href": f"{root}{page.slides}", "text": "slides"}] if page.slides else []
    nav += [{"href": url, "text": text, "launch": True} for text, url in page.launch.items()]
    nav.append({"href": pathlib.Path(page.ipynb).name, "text": "download the notebook", "download": True})
    return nav + list(extra)


def _resources(page: Page, root: str, nav: list, search: bool) -> dict:
    return {
        "metadata": {"name": page.overview.heading, "path": str(page.path.parent)},
        "course": {"root": root, "book_title": BOOK_TITLE, "links": nav, "search": search,
                   "mathjax_head": mathjax_head(root)},
    }


def render_deck(notebook, page: Page, out: pathlib.Path, context: Context):
    """The notebook's reveal.js deck, planned by slides.plan_slides, into out/slides/."""
    planned, how = slides.plan_slides(notebook)
    page.slide_plan = how
    page.num_slides, page.num_subslides = slides.slide_count(planned)
    resources = _resources(page, "../", [], False)
    deck, _ = context.exporters[1].from_notebook_node(planned, resources=resources)
    deck = rewrite_links(deck, "../", context.known, slides=True, missing=context.missing)
    (out / "slides").mkdir(parents=True, exist_ok=True)
    (out / page.slides).write_text(deck, encoding="utf-8")


def render_notebook(path: pathlib.Path, out: pathlib.Path, folder: str, context: Context, *, slides: bool,
                    links_extra=()) -> Page:
    """Render one notebook to `out/folder/stem.html` (and its deck), copy the .ipynb."""
    notebook = notebooks.without_badges(notebooks.read(path))
    overview = notebooks.read_overview(notebook, path)
    html_url = f"{folder}/{path.stem}.html"
    page = Page(path=path, name=path.stem, overview=overview, html=html_url,
                slides=f"slides/{path.stem}.slides.html" if slides else None, ipynb=f"{folder}/{path.name}",
                measurements=claims_module.claim_measurements(notebook, overview.heading, html_url),
                launch=launch_links(path), images=notebooks.count_images(notebook),
                has_math=notebooks.has_math(notebook))
    known = context.known if context.known is not None else {page.name: (page.html, page.slides)}
    context = dataclasses.replace(context, known=known)
    (out / folder).mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, out / page.ipynb)
    root = "../" * len(pathlib.PurePosixPath(folder).parts)
    resources = _resources(page, root, _nav_links(page, root, links_extra), context.search)
    body, _ = context.exporters[0].from_notebook_node(notebook, resources=copy.deepcopy(resources))
    (out / html_url).write_text(rewrite_links(body, root, known, missing=context.missing), encoding="utf-8")
    if slides:
        render_deck(notebook, page, out, context)
    return page
