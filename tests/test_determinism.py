"""Seeds are fixed: a notebook executed twice in fresh kernels gives identical checked outputs."""

import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools import nbrun  # noqa: E402

NOTEBOOK = ROOT / "notebooks" / "00_image_classification.ipynb"


@pytest.mark.slow
def test_notebook_00_twice_gives_identical_checked_outputs():
    first, _ = nbrun.execute(NOTEBOOK)
    second, _ = nbrun.execute(NOTEBOOK)
    a, b = nbrun.checked_outputs(first), nbrun.checked_outputs(second)
    assert len(a) > 5, "too few checked cells to say anything"
    for (index, outputs_a), (_, outputs_b) in zip(a, b):
        assert outputs_a == outputs_b, f"cell {index} differs between two runs"
