"""Re-execute notebooks in place in a fresh kernel (`make refresh`, or `make refresh NB=...`).

Outputs are never edited by hand: this is how a notebook's committed outputs are made. It
also writes the measured run time into the notebook's Overview line `**Run time:** ...`.
"""

from __future__ import annotations

import argparse
import pathlib
import re
import sys

import nbformat

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from tools import nbrun  # noqa: E402

RUN_TIME = re.compile(r"\*\*Run time:\*\*[^\n]*")
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def normalise_metadata(notebook) -> None:
    """The same notebook metadata everywhere: the python3 kernel (nbval and JupyterLab start
    the course's environment from it), no editor-specific keys."""
    for key in ("jupytext", "widgets", "toc", "varInspector"):
        notebook.metadata.pop(key, None)
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)


def describe_run_time(seconds: float) -> str:
    rounded = max(5, 5 * round(seconds / 5))
    return f"**Run time:** about {rounded} s on a 2-core CPU (measured by `make refresh`)."


def refresh(path: pathlib.Path) -> float:
    notebook, stats = nbrun.execute(path)
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and RUN_TIME.search(cell.source):
            cell.source = RUN_TIME.sub(describe_run_time(stats["seconds"]), cell.source, count=1)
            break
    normalise_metadata(notebook)
    nbformat.write(notebook, path)
    return stats["seconds"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("notebooks", nargs="+", type=pathlib.Path)
    args = parser.parse_args()
    for path in args.notebooks:
        print(f"executing {path} ...", flush=True)
        seconds = refresh(path)
        print(f"  done in {seconds:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
