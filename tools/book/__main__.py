"""`python -m tools.book`: build the course book (see tools/book/__init__.py)."""

import argparse
import pathlib
import sys

from tools import book
from tools.book import site


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.book", description=book.__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path,
                        help="notebooks to render (default: every notebooks/NN_*.ipynb)")
    parser.add_argument("--out", type=pathlib.Path, default=book.ROOT / "build" / "book")
    parser.add_argument("--assets", type=pathlib.Path, default=book.DEFAULT_ASSETS,
                        help="node_modules folder holding the mathjax and reveal.js packages")
    args = parser.parse_args(argv)
    try:
        built = site.build(args.out, args.assets, notebook_paths=[p.resolve() for p in args.notebooks] or None)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    measured = sum(1 for values in built.measured.values() if values)
    print(f"book: {len(built.pages)} notebooks, {len(built.labs)} labs, "
          f"{measured}/{len(built.claims)} claims measured -> {built.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
