"""Graded mode: the otter master of every lab has a public and hidden tests per exercise;
`tools/labs.py --grade` (make grade) grades planted submissions into the expected CSV; the
student release (make release) and the course's wheel hold no solution and no hidden case."""

from __future__ import annotations

import csv
import pathlib
import sys
import zipfile

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools import labs as labs_tool  # noqa: E402

LAB = "04_max_pooling"  # the quickest lab to execute: graded four times below

# otter's local runner uses a pandas keyword that pandas deprecates: not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore::Warning:otter.*")


@pytest.mark.parametrize("folder", labs_tool.lab_dirs(), ids=lambda f: f.name)
def test_every_exercise_has_public_and_hidden_tests(folder):
    master = labs_tool.build_master(folder)
    questions = [c.source for c in master.cells if c.cell_type == "raw" and c.source.startswith("# BEGIN QUESTION")]
    names = [name for _, name, _ in labs_tool.check_cells(nbformat.read(labs_tool.solution_path(folder), as_version=4))]
    assert [q.split("name: ")[1].split("\n")[0] for q in questions] == names
    tests = [c.source for c in master.cells if c.cell_type == "code" and "BEGIN TEST CONFIG" in c.source]
    for name in names:
        mine = [t for t in tests if f"checks.check_{name}," in t or f"checks.check_{name})" in t]
        assert sum("hidden: false" in t for t in mine) == 1, name
        assert sum("hidden: true" in t for t in mine) >= 1, name
    assert "generate: true" in master.cells[-1].source


def _submission(source: pathlib.Path, replacements: dict[str, str]) -> nbformat.NotebookNode:
    """The solution notebook with code appended to the cells defining the given functions."""
    notebook = nbformat.read(source, as_version=4)
    for cell in notebook.cells:
        for function, extra in replacements.items():
            if cell.cell_type == "code" and cell.source.startswith(f"def {function}("):
                cell.source += "\n\n" + extra
    return notebook


SHORTCUT = '''import tensorflow as tf

def max_pool_forward(x, pool_size, stride):
    return tf.nn.max_pool2d(x, pool_size, stride, "VALID").numpy()'''

# right on every public case; wrong for a 1x1 window with stride 2 (which still subsamples),
# a case only the hidden ones visit
OVERFITTED = '''_max_pool_forward = max_pool_forward

def max_pool_forward(x, pool_size, stride):
    if pool_size == 1:  # "a 1x1 window pools nothing"
        return x
    return _max_pool_forward(x, pool_size, stride)'''


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Four planted submissions of lab 04 graded by otter's local runner (executes each)."""
    submissions = tmp_path_factory.mktemp("submissions")
    folder = labs_tool.LABS / LAB
    (submissions / "alice").mkdir()
    nbformat.write(nbformat.read(labs_tool.solution_path(folder), as_version=4),
                   submissions / "alice" / f"{LAB}.ipynb")
    nbformat.write(nbformat.read(labs_tool.student_path(folder), as_version=4), submissions / "bob.ipynb")
    nbformat.write(_submission(labs_tool.solution_path(folder), {"max_pool_forward": SHORTCUT}),
                   submissions / "carol.ipynb")
    nbformat.write(_submission(labs_tool.solution_path(folder), {"max_pool_forward": OVERFITTED}),
                   submissions / "dave.ipynb")
    (submissions / "notes.ipynb").write_text("{}")  # not a lab: skipped
    work = tmp_path_factory.mktemp("work")
    path = work / "grades.csv"
    labs_tool.grade(submissions, path, work)  # what `make grade SUBMISSIONS=...` runs
    with open(path) as handle:
        rows = list(csv.DictReader(handle))
    return {(row["student"], row["exercise"]): row for row in rows}, rows, work


@pytest.mark.slow
@pytest.mark.parametrize("student, exercise, public, hidden", [
    ("alice", "max_pool_forward", 1, 1), ("alice", "max_pool_backward", 1, 1),
    ("bob", "max_pool_forward", 0, 0), ("bob", "max_pool_backward", 0, 0),
    ("carol", "max_pool_forward", 0, 0), ("carol", "max_pool_backward", 1, 1),
    ("dave", "max_pool_forward", 1, 0.5), ("dave", "max_pool_backward", 1, 1),
])
def test_grades_of_planted_submissions(graded, student, exercise, public, hidden):
    row = graded[0][(student, exercise)]
    assert row["lab"] == LAB
    assert float(row["public"]) == public and float(row["hidden"]) == hidden
    assert float(row["points"]) == public + hidden and float(row["possible"]) == 2


@pytest.mark.slow
def test_grades_csv_has_one_row_per_student_and_exercise(graded):
    rows = graded[1]
    assert list(rows[0]) == ["student", "lab", "exercise", "public", "hidden", "points", "possible"]
    assert len(rows) == 8 and {row["student"] for row in rows} == {"alice", "bob", "carol", "dave"}


@pytest.mark.slow
def test_autograder_zip_carries_the_hidden_cases(graded):
    path = graded[2] / f"{LAB}-autograder.zip"  # the one the grading above used
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        tests = "".join(archive.read(n).decode() for n in names if n.startswith("tests/"))
        environment = archive.read("environment.yml").decode()
    assert {"run_autograder", "otter_config.json", "tests/max_pool_forward.py"} <= set(names)
    assert "'hidden': True" in tests and "variant=2, CASES=[((1, 2, 2, 1), 2, 2)" in tests
    assert "cnn-elements-course @ git+https://github.com/" in environment  # Gradescope installs the course
    assert not any(n.endswith(".ipynb") for n in names)  # no solution in the zip


def _hidden_literals() -> list[tuple[str, str]]:
    """(lab, text) of every hidden case's data: what must not reach students."""
    found = []
    for folder in labs_tool.lab_dirs():
        for cases in labs_tool.hidden_cases(folder).values():
            for case in cases:
                found += [(folder.name, repr(value)) for key, value in case.items()
                          if key != "variant" and len(repr(value)) >= 12]
    return found


def test_release_and_wheel_hold_no_solution_and_no_hidden_case(tmp_path):
    out = labs_tool.release(tmp_path / "release")
    files = [p for p in out.rglob("*") if p.is_file()]
    wheels = [p for p in files if p.suffix == ".whl"]
    assert len(wheels) == 1
    for folder in labs_tool.lab_dirs():
        assert (out / "labs" / folder.name / f"{folder.name}.ipynb").is_file()
        assert (out / "labs" / folder.name / "checks.py").is_file()
    assert not [p for p in files if "solution" in p.parts or p.name == labs_tool.HIDDEN_FILE]
    texts = {str(p): p.read_text() for p in files if p.suffix in (".py", ".ipynb", ".md")}
    with zipfile.ZipFile(wheels[0]) as archive:
        names = archive.namelist()
        texts |= {f"wheel:{n}": archive.read(n).decode() for n in names if n.endswith(".py")}
    assert all(f"utils/labs/{f.name}/checks.py" in names for f in labs_tool.lab_dirs())
    assert not [n for n in names if n.endswith((".ipynb", labs_tool.HIDDEN_FILE))]
    leaks = [(lab, literal, where) for lab, literal in _hidden_literals() for where, text in texts.items()
             if literal in text]
    assert not leaks
    for where, text in texts.items():
        assert "BEGIN TEST CONFIG" not in text, where
        if not where.endswith(".md"):  # the README explains the markers
            assert "BEGIN SOLUTION" not in text, where
