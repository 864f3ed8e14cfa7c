"""One source for the code a notebook teaches (CONTRIBUTING.md, "One source: the notebook"):
the `#@save` cells of the notebooks equal their copies in `utils`, and a test can load a
notebook's own definitions."""

import pathlib
import sys

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools import saved_cells  # noqa: E402


def test_every_saved_cell_equals_its_copy_in_utils():
    assert saved_cells.check() == [], "run `python tools/saved_cells.py` after editing a #@save cell"


def _course(tmp_path, cells):
    """A course of one notebook with the given code cells and a hand-written utils module head."""
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "utils").mkdir()
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    nbformat.write(notebook, tmp_path / "notebooks" / "01_topic.ipynb")
    (tmp_path / "utils" / "topic.py").write_text('"""Head written by hand."""\n\nimport numpy as np\n')
    return tmp_path


def test_a_copy_that_differs_from_its_cell_is_caught(tmp_path):
    root = _course(tmp_path, ["import numpy as np", "#@save utils/topic.py\ndef double(x):\n    return 2 * x",
                              "print(double(2))", "#@save utils/topic.py\nHALF = 0.5"])
    assert saved_cells.check(root) == ["utils/topic.py"]  # not written yet
    assert saved_cells.write(root) == ["utils/topic.py"]
    module = (root / "utils" / "topic.py").read_text()
    assert module.startswith('"""Head written by hand."""\n\nimport numpy as np\n')  # the head is kept
    assert "def double(x):\n    return 2 * x\n\n\nHALF = 0.5\n" in module and "print" not in module
    assert saved_cells.check(root) == [] and saved_cells.write(root) == []

    (root / "utils" / "topic.py").write_text(module.replace("2 * x", "x + x"))  # edited in utils
    assert saved_cells.check(root) == ["utils/topic.py"]
    saved_cells.write(root)
    assert saved_cells.check(root) == []

    notebook = nbformat.read(root / "notebooks" / "01_topic.ipynb", as_version=4)
    notebook.cells[3].source = "HALF = 0.5"  # no longer saved: the block in utils is an orphan
    notebook.cells[1].source = "def double(x):\n    return 2 * x"
    nbformat.write(notebook, root / "notebooks" / "01_topic.ipynb")
    assert saved_cells.check(root) == ["utils/topic.py: block from notebooks/01_topic.ipynb"]


def test_definitions_runs_the_imports_and_definitions_only(tmp_path):
    root = _course(tmp_path, [
        "import numpy as np",
        "def helper(x):\n    return np.asarray(x) + 1\n\n\ndef answer(x):\n    return helper(x) * 2\n\n\nprint(answer(1))",
        "raise RuntimeError('training would run here')",
        "%timeit answer(1)",
        "def unrelated():\n    pass",
    ])
    code = saved_cells.definitions(root / "notebooks" / "01_topic.ipynb", "answer")
    assert code.answer([1, 2]).tolist() == [4, 6]
    with pytest.raises(LookupError, match="missing"):
        saved_cells.definitions(root / "notebooks" / "01_topic.ipynb", "missing")
