"""The nbval harness itself: a notebook that imports TensorFlow (whose C++ log writes to the
process's stderr), shows figures behind a trailing `;` and prints memory addresses passes
nbval after being executed by the same tool as `make refresh`; a changed output fails it."""

import pathlib
import subprocess
import sys

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools import nbrun  # noqa: E402

CELLS = [
    "import utils\nimport tensorflow as tf\nutils.set_seed(0)\nprint(float(tf.reduce_sum(tf.ones(3))))",
    "from utils import plots\nplots.training_curves({'loss': [2.0, 1.0]});",
    "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot([1, 2]);",
    "print(object())",
    "import random\nprint(random.random())",
]


def _nbval(path):
    command = [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-p", "no:cacheprovider",
               "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg"), str(path), "-q"]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)


@pytest.mark.slow
def test_nbval_harness(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "harness.ipynb"
    nbformat.write(notebook, path)
    executed, _ = nbrun.execute(path)
    # no TensorFlow log and no duplicated figures in the committed outputs
    assert not any(o.get("name") == "stderr" for c in executed.cells for o in c.outputs)
    assert [len(c.outputs) for c in executed.cells[1:3]] == [1, 1]
    nbformat.write(executed, path)
    result = _nbval(path)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "5 passed" in result.stdout

    # the harness is not blind: a changed output fails the cell that changed
    executed.cells[0].outputs[0]["text"] = "4.0\n"
    nbformat.write(executed, path)
    result = _nbval(path)
    assert result.returncode != 0 and "1 failed" in result.stdout, result.stdout[-3000:]
