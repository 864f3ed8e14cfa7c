"""One source for the code a notebook teaches: the notebook.

A notebook writes the idea it teaches in its own cells. Two things reach that code from
outside the notebook, and neither keeps a second, hand-edited copy:

- **Saved cells** (as d2l's `#@save`). A code cell whose first line is

      #@save utils/conv.py

  is needed by a later notebook too, so it is copied into that module of `utils`, between

      # ---- saved from notebooks/NN_topic.ipynb by tools/saved_cells.py: edit the notebook, not this block ----
      # ---- end of saved cells ----

  in notebook order, each cell without its marker line. The rest of the module (docstring,
  imports) is written by hand. `python tools/saved_cells.py` rewrites the blocks;
  `--check` only reports the modules that differ, and `tests/test_saved_cells.py` fails then.
- **Definitions for tests.** `definitions(notebook, "im2col", "conv2d")` executes the notebook's
  imports (the import statements of its code cells) and its top-level `def`/`class`
  statements, nothing else, and returns the named ones. So a test
  compares the notebook's own function with TensorFlow, without the function living in
  `utils` (where a lab could import its answer).
"""

from __future__ import annotations

import argparse
import ast
import pathlib
import re
import sys
import types

import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[1]
MARKER = re.compile(r"#@save (utils/[\w/]+\.py)\s*$")
BEGIN = "# ---- saved from {notebook} by tools/saved_cells.py: edit the notebook, not this block ----"
END = "# ---- end of saved cells ----"


def _code_cells(notebook: pathlib.Path):
    return [cell.source for cell in nbformat.read(notebook, as_version=4).cells if cell.cell_type == "code"]


def saved_cells(notebook: pathlib.Path) -> dict[str, list[str]]:
    """{module path: [cell source without the marker line, ...]} for one notebook's #@save cells."""
    saved: dict[str, list[str]] = {}
    for source in _code_cells(notebook):
        first, _, rest = source.partition("\n")
        match = MARKER.match(first)
        if match:
            saved.setdefault(match.group(1), []).append(rest.strip("\n"))
    return saved


def block(notebook_name: str, sources: list[str]) -> str:
    """The text between (and including) the markers for `sources` saved from `notebook_name`."""
    return "\n".join([BEGIN.format(notebook=notebook_name), "", "\n\n\n".join(sources), "", END])


def _block_pattern(notebook_name: str) -> re.Pattern:
    return re.compile(re.escape(BEGIN.format(notebook=notebook_name)) + r".*?" + re.escape(END), re.DOTALL)


def expected_modules(root: pathlib.Path = ROOT) -> dict[pathlib.Path, str]:
    """{module file: its text with every saved block as the notebooks have it}."""
    expected: dict[pathlib.Path, str] = {}
    for notebook in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        notebook_name = f"notebooks/{notebook.name}"
        for module, sources in saved_cells(notebook).items():
            path = root / module
            text = expected.get(path) or (path.read_text() if path.exists() else "")
            new_block = block(notebook_name, sources)
            pattern = _block_pattern(notebook_name)
            if pattern.search(text):
                text = pattern.sub(lambda _: new_block, text, count=1)
            else:
                text = text.rstrip("\n") + ("\n\n\n" if text.strip() else "") + new_block
            expected[path] = text if text.endswith("\n") else text + "\n"
    return expected


def orphan_blocks(root: pathlib.Path = ROOT) -> list[str]:
    """Saved blocks in utils that no notebook saves any more (the cells were unmarked or moved)."""
    saving = {(f"notebooks/{notebook.name}", module)
              for notebook in (root / "notebooks").glob("[0-9][0-9]_*.ipynb") for module in saved_cells(notebook)}
    begin = re.compile(re.escape(BEGIN).replace(re.escape("{notebook}"), r"(\S+)"))
    return [f"{path.relative_to(root)}: block from {notebook_name}"
            for path in sorted((root / "utils").rglob("*.py"))
            for notebook_name in begin.findall(path.read_text())
            if (notebook_name, str(path.relative_to(root))) not in saving]


def check(root: pathlib.Path = ROOT) -> list[str]:
    """The modules whose saved blocks differ from their notebooks' cells (empty when all agree)."""
    differing = [str(path.relative_to(root)) for path, text in expected_modules(root).items()
                 if not path.exists() or path.read_text() != text]
    return differing + orphan_blocks(root)


def write(root: pathlib.Path = ROOT) -> list[str]:
    """Rewrite every module whose saved blocks differ; return their paths."""
    changed = []
    for path, text in expected_modules(root).items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            changed.append(str(path.relative_to(root)))
    return changed


def definitions(notebook: str | pathlib.Path, *names: str) -> types.SimpleNamespace:
    """The notebook's own definitions of `names` (functions or classes), for a test to call.

    Runs the notebook's import statements, then every top-level `def`/`class` of its code
    cells, in notebook order (so the helpers a definition calls come along). Nothing else of
    the notebook runs: no training, no printing.
    """
    path = pathlib.Path(notebook)
    path = path if path.is_absolute() else ROOT / path
    imports, definitions_found = [], []
    for source in _code_cells(path):
        try:
            tree = ast.parse(source)
        except SyntaxError:  # an IPython magic; it defines nothing a test needs
            continue
        imports += [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
        definitions_found += [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    missing = set(names) - {node.name for node in definitions_found}
    if missing:
        raise LookupError(f"{path.name} defines no {sorted(missing)}")
    namespace: dict = {"__name__": f"notebook_{path.stem}"}
    exec(compile(ast.Module(body=imports + definitions_found, type_ignores=[]), str(path), "exec"), namespace)
    return types.SimpleNamespace(**{name: namespace[name] for name in names})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report the modules that differ")
    args = parser.parse_args(argv)
    if args.check:
        differing = check()
        for module in differing:
            print(f"differs from its notebook's #@save cells: {module}")
        return 1 if differing else 0
    for module in write():
        print(f"rewrote {module}")
    for orphan in orphan_blocks():
        print(f"no notebook saves this block any more (delete it): {orphan}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
