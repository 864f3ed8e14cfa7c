"""The first lines of every notebook's and lab's Setup cell, and the cloud badges of its title.

A notebook opened alone (Colab, Kaggle, a clone without `make`) has no `utils`. The guard at
the top of its Setup cell does nothing where the course is installed (`make setup`, so nbval
and offline CI never touch the network); in Colab or Kaggle it installs the course and its
declared dependencies into the running kernel; anywhere else it stops with the command to run.
`COURSE_PACKAGE` (a wheel, a folder, a requirement) overrides what it installs: the tests use
it to install a locally built wheel in a clean environment.

Both the guard and the badges are made here from the repository's one address (tools/links.py);
tests/test_course.py checks that every notebook and lab carries them as generated.

    python tools/setup_guard.py          write them into every notebook and lab solution
    python tools/setup_guard.py --check  exit 1 if one is missing or stale
"""

from __future__ import annotations

import argparse
import pathlib
import re
import sys

import nbformat

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from tools import links  # noqa: E402

ROOT = links.ROOT
DISTRIBUTION = "cnn-elements-course"
FIRST_LINE = "# Colab or Kaggle: install the course into this kernel (elsewhere `make setup` did it)."
LAST_LINE = "    importlib.invalidate_caches()"
BADGE_LINE = re.compile(r"^\[!\[Open In Colab\].*$\n?", re.MULTILINE)


def guard() -> str:
    """The guard's source: the lines every Setup cell starts with."""
    return f'''{FIRST_LINE}
import importlib, importlib.metadata, os, subprocess, sys
try:
    importlib.metadata.version("{DISTRIBUTION}")
except importlib.metadata.PackageNotFoundError:
    if not ("google.colab" in sys.modules or "KAGGLE_KERNEL_RUN_TYPE" in os.environ or "COURSE_PACKAGE" in os.environ):
        raise ModuleNotFoundError("The course is not installed in this Python. In the repository's folder, run "
                                  "`make setup` and open the notebooks with `make lab` (or: pip install -e .)") from None
    package = os.environ.get("COURSE_PACKAGE", "git+{links.repository_url()}")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", package], check=True)
{LAST_LINE}'''


def notebooks() -> list[pathlib.Path]:
    """Every notebook a reader opens: the course's notebooks and the labs' single sources."""
    return sorted(ROOT.glob("notebooks/[0-9][0-9]_*.ipynb")) + sorted(ROOT.glob("labs/*/solution/*.ipynb"))


def badge_target(path: pathlib.Path) -> pathlib.Path:
    """What the badges open: the notebook itself, or for a lab its student version."""
    if path.parent.name == "solution":
        return path.parent.parent / "student" / path.name
    return path


def setup_cell(notebook):
    """The first code cell (the Setup cell)."""
    return next(cell for cell in notebook.cells if cell.cell_type == "code")


def with_guard(source: str) -> str:
    """`source` with the current guard at its top (an older guard is replaced)."""
    if source.startswith(FIRST_LINE):
        source = source.split(LAST_LINE + "\n", 1)[1].lstrip("\n")
    return guard() + "\n\n" + source


def with_badges(source: str, path: pathlib.Path) -> str:
    """The title cell with the badges on the line after the title (older badges replaced)."""
    title, _, rest = BADGE_LINE.sub("", source).partition("\n")
    return f"{title}\n\n{links.badges_markdown(badge_target(path))}\n\n{rest.lstrip(chr(10))}"


def apply(path: pathlib.Path, check: bool = False) -> bool:
    """Write the guard and badges into `path`; return whether it changed (or would)."""
    notebook = nbformat.read(path, as_version=4)
    cell, title = setup_cell(notebook), notebook.cells[0]
    new_setup, new_title = with_guard(cell.source), with_badges(title.source, path)
    changed = (new_setup, new_title) != (cell.source, title.source)
    if changed and not check:
        cell.source, title.source = new_setup, new_title
        nbformat.write(notebook, path)
    return changed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a notebook is not up to date")
    args = parser.parse_args(argv)
    stale = [path for path in notebooks() if apply(path, check=args.check)]
    for path in stale:
        print(f"{'stale' if args.check else 'updated'}: {path.relative_to(ROOT)}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
