"""`make book`: render the course to build/book/, a static site that works with no network.

    build/book/index.html            the syllabus: order, title, objectives, measured run time
    build/book/notebooks/NN_x.html   every notebook as a page, with its committed outputs, launch
                                     links (Colab, Kaggle) and the notebook to download
    build/book/slides/NN_x.slides.html  every notebook as reveal.js slides, with speaker notes
    build/book/labs.html, labs/...   the self-paced labs (student versions)
    build/book/claims.html           the lecture's claims C01-C46: statement, where measured, value
    build/book/search.html           search over notebooks, labs and claims (a prebuilt index,
                                     search-index.js, so it works from file://)
    build/book/assets/               MathJax and reveal.js, copied from the npm packages that
                                     `make book-assets` installs (package-lock.json here)

Nothing is executed: the pages show the outputs committed with each notebook (nbval checks
that they are fresh). The modules, one job each:

    notebooks.py  reading a notebook: its overview (title, objectives, ...), finding notebooks and labs
    claims.py     the lecture's claims table and what each notebook measured about them
    prose.py      what a slide shows of a Markdown cell (its point) and what goes to the notes
    slides.py     planning a notebook's slides (sections, steps, what fits, cells cut to fit)
    pages.py      rendering a notebook page and its deck with nbconvert; links between notebooks
    search.py     the search index
    site.py       assets, the site's own pages, and `build`, which puts it all together

    .venv/bin/python -m tools.book [--out build/book] [--assets DIR] [notebooks ...]
"""

import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent
DEFAULT_ASSETS = ROOT / ".venv" / "book-assets" / "node_modules"
BOOK_TITLE = "Elements of Convolutional Neural Networks, in Keras and TensorFlow"
