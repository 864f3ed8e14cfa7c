"""Every notebook follows the template of CONTRIBUTING.md and is committed executed, in order."""

import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _load(path):
    return json.loads(path.read_text())


def _source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _headings(notebook, level):
    marker = "#" * level + " "
    found = []
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            found += [line[len(marker):].strip() for line in _source(cell).splitlines()
                      if line.startswith(marker)]
    return found


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found in notebooks/"
    assert NOTEBOOKS[0].name == "00_image_classification.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_opening_follows_the_template(path):
    notebook = _load(path)
    first = notebook["cells"][0]
    assert first["cell_type"] == "markdown", "the first cell must be Markdown (title and Overview)"
    text = _source(first)
    number = path.name[:2]
    assert re.match(rf"# {number} · \S", text), f"the first line must be the H1 '# {number} · Title'"
    for part in ("## Overview", "**Learning objectives.**", "**Prerequisites:**", "**Slides:**", "**Run time:**"):
        assert part in text, f"the Overview must contain {part!r}"
    assert re.search(r"\*\*Run time:\*\* about \d+ s", text), "run the notebook with `make refresh` to measure its run time"
    # Setup: a Markdown '## Setup' cell, then one code cell with the imports and the seed.
    titles = [_source(c).strip() for c in notebook["cells"][:4]]
    assert "## Setup" in titles, "the second section must be '## Setup'"
    setup = notebook["cells"][titles.index("## Setup") + 1]
    setup_source = _source(setup)
    assert setup["cell_type"] == "code" and "import utils" in setup_source and "set_seed(" in setup_source, \
        "the cell after '## Setup' must import utils and call utils.set_seed"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_sections_are_in_the_fixed_order(path):
    sections = _headings(_load(path), 2)
    assert sections[:2] == ["Overview", "Setup"], f"sections start {sections[:2]}, expected Overview, Setup"
    assert sections[-2:] == ["Summary", "Exercises"], f"sections end {sections[-2:]}, expected Summary, Exercises"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_executed_in_order_without_errors(path):
    notebook = _load(path)
    code = [c for c in notebook["cells"] if c["cell_type"] == "code" and _source(c).strip()]
    counts = [c.get("execution_count") for c in code]
    assert None not in counts, f"{counts.count(None)} code cell(s) never executed: run `make refresh NB={path.relative_to(ROOT)}`"
    assert counts == list(range(1, len(code) + 1)), \
        f"cells executed out of order or not in one fresh run ({counts}): run `make refresh`"
    for cell in code:
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", f"a committed cell raised {output.get('ename')}"
    assert notebook["metadata"].get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_claim_cells_assert(path):
    for cell in _load(path)["cells"]:
        source = _source(cell)
        tags = re.findall(r"#\s*claim (C\d\d)", source)
        if not tags:
            continue
        assert cell["cell_type"] == "code", f"claim tag {tags} outside a code cell"
        assert "claims." in source or re.search(r"^\s*assert\b", source, re.M), \
            f"the cell tagged {tags} must assert its measurement (utils.claims or assert)"
        printed = "".join(_source({"source": o.get("text", "")}) for o in cell.get("outputs", [])
                          if o["output_type"] == "stream")
        for tag in tags:
            if "claims." in source:
                verdicts = (f"Claim {tag} holds", f"Claim {tag} does not hold here", f"Claim {tag} is inconclusive at",
                            f"Claim {tag} computed")
                assert any(verdict in printed for verdict in verdicts), \
                    f"the committed output does not show 'Claim {tag} holds' (or 'does not hold here', " \
                    f"'is inconclusive at N pairs', 'computed')"
