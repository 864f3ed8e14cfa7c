"""The book as a site: its own pages (index, labs, claims, search), and `build`, which renders
every notebook and lab and puts the book together."""

from __future__ import annotations

import dataclasses
import pathlib
import re

import jinja2

from tools.book import BOOK_TITLE, DEFAULT_ASSETS, HERE, ROOT, claims, notebooks, pages, search
from tools.book.assets import install_assets, mathjax_head

SITE_PAGES = ("index.html", "labs.html", "claims.html", "search.html")


@dataclasses.dataclass
class Lab:
    name: str
    pages: list
    readme: str


@dataclasses.dataclass
class Book:
    out: pathlib.Path
    pages: list                 # the notebooks' Page, in course order
    labs: list                  # Lab
    claims: list
    measured: dict              # claim id -> [Measurement]
    missing_links: list         # notebooks linked to that are not in the book


def environment() -> jinja2.Environment:
    """Jinja for the site's own pages, with a `markdown` filter (nbconvert's renderer)."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE / "site")),
                             autoescape=jinja2.select_autoescape(["html", "j2"]),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)

    def markdown(text: str, inline: bool = False):
        rendered = markdown2html_mistune(text or "")
        if inline:
            rendered = re.sub(r"^<p>(.*)</p>\s*$", r"\1", rendered.strip(), flags=re.S)
        return jinja2.utils.markupsafe.Markup(rendered)

    env.filters["markdown"] = markdown
    return env


def known_pages(notebook_paths, labs) -> dict:
    """Every notebook and lab of the book: stem -> (page, deck)."""
    known = {path.stem: (f"notebooks/{path.stem}.html", f"slides/{path.stem}.slides.html") for path in notebook_paths}
    for folder, student_notebooks in labs:
        for path in student_notebooks:
            known.setdefault(path.stem, (f"labs/{folder.name}/{path.stem}.html", None))
    return known


def _neighbours(paths, position: int) -> list[dict]:
    links = []
    if position > 0:
        links.append({"href": f"{paths[position - 1].stem}.html", "text": "← previous"})
    if position + 1 < len(paths):
        links.append({"href": f"{paths[position + 1].stem}.html", "text": "next →"})
    return links


def render_notebooks(paths, out, context, root) -> list:
    rendered = []
    for position, path in enumerate(paths):
        print(f"rendering {path.relative_to(root) if path.is_relative_to(root) else path}", flush=True)
        rendered.append(pages.render_notebook(path, out, "notebooks", context, slides=True,
                                              links_extra=_neighbours(paths, position)))
    return rendered


def render_labs(labs, out, context) -> list[Lab]:
    entries = []
    for folder, student_notebooks in labs:
        rendered = [pages.render_notebook(path, out, f"labs/{folder.name}", context, slides=False,
                                          links_extra=[{"href": "../../labs.html", "text": "all labs"}])
                    for path in student_notebooks]
        readme = folder / "README.md"
        entries.append(Lab(folder.name, rendered, readme.read_text(encoding="utf-8") if readme.exists() else ""))
    return entries


def search_entries(out: pathlib.Path, book: Book) -> list:
    entries = []
    for page in book.pages:
        entries += search.page_entries((out / page.html).read_text(encoding="utf-8"), page.html,
                                       page.overview.heading, "notebook")
    for lab in book.labs:
        for page in lab.pages:
            entries += search.page_entries((out / page.html).read_text(encoding="utf-8"), page.html,
                                           page.overview.heading, "lab")
    return entries + search.claim_entries(book.claims, book.measured)


def render_site_pages(out: pathlib.Path, book: Book, known: dict, missing: set, root: pathlib.Path) -> None:
    labs_readme = root / "labs" / "README.md"
    context = {
        "book_title": BOOK_TITLE, "root": "", "mathjax_head": mathjax_head(""),
        "pages": book.pages, "labs": book.labs, "claims": book.claims, "measured": book.measured,
        "total_run_seconds": sum(page.overview.run_seconds or 0 for page in book.pages),
        "labs_readme": labs_readme.read_text(encoding="utf-8") if labs_readme.exists() else "",
        **claims.summary(book.claims, book.measured),
    }
    env = environment()
    for name in SITE_PAGES:
        text = env.get_template(name + ".j2").render(**context)
        (out / name).write_text(pages.rewrite_links(text, "", known, missing=missing), encoding="utf-8")


def build(out: pathlib.Path, assets: pathlib.Path = DEFAULT_ASSETS, notebook_paths=None, labs=None,
          claims_table: pathlib.Path = HERE / "claims.md", root: pathlib.Path = ROOT) -> Book:
    """Render the whole book into `out`: the notebooks (default: every notebooks/NN_*.ipynb of
    `root`) and labs (default: labs/*/), the site's pages, the search index. Returns what was built."""
    out = pathlib.Path(out)
    paths = notebooks.discover_notebooks(root) if notebook_paths is None else [pathlib.Path(p) for p in notebook_paths]
    labs = notebooks.discover_labs(root) if labs is None else labs
    out.mkdir(parents=True, exist_ok=True)
    install_assets(pathlib.Path(assets), out)
    known, missing = known_pages(paths, labs), set()
    context = pages.Context(pages.exporters(), known, missing, search=True)
    rendered = render_notebooks(paths, out, context, root)
    lab_entries = render_labs(labs, out, context)
    claim_list = claims.load_claims(claims_table)
    measured = claims.collect(claim_list, rendered + [page for lab in lab_entries for page in lab.pages])
    book = Book(out, rendered, lab_entries, claim_list, measured, [])
    search.write_index(search_entries(out, book), out / "search-index.js")
    render_site_pages(out, book, known, missing, root)
    if missing:
        print(f"note: links to notebooks not in the course yet, shown as text: {', '.join(sorted(missing))}")
    book.missing_links = sorted(missing)
    return book

