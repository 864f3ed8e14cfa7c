"""Every lab: the solution passes every check, the untouched student version fails each check
with the "not filled in yet" message (no crash), the committed student version is what
`tools/labs.py` generates, and the notebook has the lab template. Also unit tests of
utils.labcheck. The wrong answers each checker must reject are in tests/test_lab_NN_*.py.

The notebooks are executed in this process (cell by cell, in a fresh namespace), which is
much faster than a kernel per notebook; nbval runs the solutions in a kernel as well.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import pathlib
import re
import sys

import nbformat
import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools import labs as labs_tool  # noqa: E402
from utils import labcheck  # noqa: E402

LAB_DIRS = labs_tool.lab_dirs()
LAB_NAMES = [folder.name for folder in LAB_DIRS]


def execute_in_process(path: pathlib.Path) -> tuple[dict, str]:
    """Run every code cell of the notebook at `path`, in order, in one fresh namespace,
    with the notebook's folder as working directory. Returns (namespace, printed text).
    An exception in any cell propagates, naming the cell."""
    notebook = nbformat.read(path, as_version=4)
    namespace = {"__name__": "__main__"}
    printed = io.StringIO()
    previous = os.getcwd()
    os.chdir(path.parent)
    try:
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            code = compile(cell.source, f"{path.name} cell {index}", "exec")
            with contextlib.redirect_stdout(printed):
                exec(code, namespace)  # noqa: S102 - the lab's own notebook
    finally:
        os.chdir(previous)
    return namespace, printed.getvalue()


@functools.cache
def solution_namespace(lab_name: str) -> dict:
    """The namespace of the executed solution notebook (cached for the whole test run)."""
    folder = labs_tool.LABS / lab_name
    return execute_in_process(labs_tool.solution_path(folder))[0]


def run_check(lab_name: str, check_name: str, *args):
    """Run one checker of a lab on `args` through a fresh Lab; return (passed, message)."""
    namespace = solution_namespace(lab_name)
    checker = getattr(namespace["checks"], f"check_{check_name}")
    lab = labcheck.Lab("test", checks=[check_name])
    with contextlib.redirect_stdout(io.StringIO()):
        lab.check(check_name, checker, *args)
    return lab.results[check_name]


def assert_rejected(lab_name: str, check_name: str, wrong, expect: str, *extra):
    """The checker must fail on `wrong` with a message containing `expect` (a regex) and
    never with the "not filled in" message."""
    passed, message = run_check(lab_name, check_name, wrong, *extra)
    if os.environ.get("LAB_MUTANT_LOG"):  # a tally of planted wrong answers, for reports
        with open(os.environ["LAB_MUTANT_LOG"], "a") as log:
            log.write(f"{lab_name}\t{check_name}\t{wrong.__name__}\t{not passed}\t"
                      f"{message.replace(chr(10), ' | ')[:600]}\n")
    assert not passed, f"{check_name} accepted a wrong answer ({wrong.__name__})"
    assert labcheck.NOT_FILLED not in message, message
    assert re.search(expect, message, re.S), f"message {message!r} does not match {expect!r}"
    return message


SHORTCUT = r"called (TensorFlow|Keras|SciPy|scikit-image|OpenCV|pycocotools|the course's `utils` package)"


def assert_shortcut_rejected(lab_name: str, check_name: str, wrong, *extra):
    """A library shortcut (the framework's or the course's version of what the exercise asks
    the student to write) must fail, with a message naming the library."""
    return assert_rejected(lab_name, check_name, wrong, SHORTCUT, *extra)


def assert_hidden_cases_pass(lab_name: str):
    """Every hidden case of the lab (labs/NN/hidden_cases.py) passes on the lab's solution,
    and each one is a case the public check does not already run."""
    namespace = solution_namespace(lab_name)
    hidden = labs_tool.hidden_cases(labs_tool.LABS / lab_name)
    notebook = nbformat.read(labs_tool.solution_path(labs_tool.LABS / lab_name), as_version=4)
    cells = labs_tool.check_cells(notebook)
    assert sorted(hidden) == sorted(name for _, name, _ in cells)
    for _, name, arguments in cells:
        for case in hidden[name]:
            assert case, f"{name}: an empty hidden case repeats the public one"
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                passed = eval(f"labcheck.grade({arguments}, **case)",  # noqa: S307
                              {**namespace, "case": case})
            assert passed is True, f"{name} {case}: {printed.getvalue()}"


def assert_mistake_named(lab_name: str, check_name: str, wrong, words: str, *extra):
    """The checker must reject `wrong` and name the known mistake (regex `words`)."""
    return assert_rejected(lab_name, check_name, wrong,
                           re.escape(labcheck.LOOKS_LIKE) + ".*" + words, *extra)


@pytest.mark.parametrize("lab_name", LAB_NAMES)
def test_solution_passes_every_check(lab_name):
    namespace = solution_namespace(lab_name)
    lab = namespace["lab"]
    assert set(lab.results) == set(lab.names), "some checks never ran"
    failed = {name: message for name, (passed, message) in lab.results.items() if not passed}
    assert not failed


@pytest.mark.parametrize("lab_name", LAB_NAMES)
def test_student_version_fails_each_check_clearly(lab_name):
    folder = labs_tool.LABS / lab_name
    namespace, printed = execute_in_process(labs_tool.student_path(folder))
    lab = namespace["lab"]
    assert set(lab.results) == set(lab.names), "some checks never ran"
    for name, (passed, message) in lab.results.items():
        assert not passed, f"check {name} passes on the untouched student version"
        assert labcheck.NOT_FILLED in message, f"check {name}: unclear message {message!r}"
        assert "YOUR CODE HERE" in message
    assert f"0 of {len(lab.names) - len(lab.bonus)} checks passed" in printed


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("lab_name", LAB_NAMES)
def test_student_version_is_up_to_date(lab_name):
    folder = labs_tool.LABS / lab_name
    committed = nbformat.read(labs_tool.student_path(folder), as_version=4)
    assert labs_tool.sources(committed) == labs_tool.sources(labs_tool.build_student(folder)), (
        f"labs/{lab_name}/student is stale: run `python tools/labs.py`")
    for cell in committed.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None


@pytest.mark.parametrize("lab_name", LAB_NAMES)
def test_lab_follows_the_template(lab_name):
    folder = labs_tool.LABS / lab_name
    solution = nbformat.read(labs_tool.solution_path(folder), as_version=4)
    student = nbformat.read(labs_tool.student_path(folder), as_version=4)
    first = solution.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith(f"# Lab {lab_name[:2]} · ")
    for part in ("## Overview", "**Learning objectives.**", "**Prerequisites:**",
                 "**Estimated time:**", "**Run time:**"):
        assert part in first.source, part
    assert re.search(r"\*\*Estimated time:\*\* \d+ minutes", first.source)
    code = [cell for cell in solution.cells if cell.cell_type == "code"]
    assert f'labcheck.load_checks("{lab_name}")' in code[0].source
    assert code[-1].source.strip() == "lab.summary()"
    # every exercise cell is fenced and followed by its check cell
    namespace = solution_namespace(lab_name)
    exercises = [i for i, cell in enumerate(solution.cells)
                 if cell.cell_type == "code" and "# YOUR CODE HERE" in cell.source]
    assert len(exercises) >= 2
    checked = []
    for index in exercises:
        source = solution.cells[index].source
        assert source.count("# YOUR CODE HERE") == source.count("# END OF YOUR CODE")
        assert "SOLUTION" in source
        following = solution.cells[index + 1]
        match = re.match(r'lab\.check\("(\w+)"', following.source)
        assert following.cell_type == "code" and match, f"no check after cell {index}"
        checked.append(match.group(1))
    assert checked == namespace["lab"].names
    # the student version has the fences and no solution
    student_code = "\n".join(cell.source for cell in student.cells)
    assert student_code.count("# YOUR CODE HERE") >= len(exercises)
    assert student_code.count("# YOUR CODE HERE") == student_code.count("# END OF YOUR CODE")
    assert "SOLUTION" not in student_code
    assert "ASSIGNMENT CONFIG" not in student_code


def test_every_lab_has_a_test_of_wrong_answers():
    for lab_name in LAB_NAMES:
        assert (ROOT / "tests" / f"test_lab_{lab_name}.py").is_file(), lab_name


def test_solutions_are_executed_for_nbval():
    for folder in LAB_DIRS:
        notebook = nbformat.read(labs_tool.solution_path(folder), as_version=4)
        counts = [cell.execution_count for cell in notebook.cells if cell.cell_type == "code"]
        assert counts == list(range(1, len(counts) + 1)), f"{folder.name}: not executed in order"


# ------------------------------------------------------------------ utils.labcheck itself

def test_compare_reports_shape_then_worst_value():
    with pytest.raises(labcheck.CheckFailed, match=r"wrong shape for case A: expected \(2, 3\), got \(3, 2\)"):
        labcheck.compare("y", np.zeros((3, 2)), np.zeros((2, 3)), case="case A")
    got = np.zeros((2, 3))
    got[1, 2] = 5.0
    with pytest.raises(labcheck.CheckFailed, match=r"1 of 6 entries differ; the worst at index \(1, 2\): expected 0, got 5"):
        labcheck.compare("y", got, np.zeros((2, 3)))
    with pytest.raises(labcheck.CheckFailed, match="NaN"):
        labcheck.compare("y", np.full(2, np.nan), np.zeros(2))
    labcheck.compare("y", np.ones(3) + 1e-7, np.ones(3))


def test_placeholders_and_exceptions_become_clear_failures():
    with pytest.raises(labcheck.CheckFailed, match=labcheck.NOT_FILLED):
        labcheck.call("f", lambda: ...)
    with pytest.raises(labcheck.CheckFailed, match=labcheck.NOT_FILLED):
        labcheck.require_value("ratio", ...)
    with pytest.raises(labcheck.CheckFailed, match="raised ZeroDivisionError on case 1"):
        labcheck.call("f", lambda: 1 / 0, case="case 1")
    with pytest.raises(labcheck.CheckFailed, match="should be a function"):
        labcheck.call("f", 3)
    with pytest.raises(labcheck.CheckFailed, match="first difference at position 1: expected 2, got 3"):
        labcheck.compare_sequence("keep", [1, 3], [1, 2])
    with pytest.raises(labcheck.CheckFailed, match="expected 0.5, got 0.25"):
        labcheck.compare_number("ap", 0.25, 0.5)


def test_lab_records_and_summarises(capsys):
    lab = labcheck.Lab("demo", checks=["a", "b", "c"], bonus=["c"])

    def failing():
        raise labcheck.CheckFailed("wrong", "look here")

    lab.check("a", lambda: "fine")
    lab.check("b", failing)
    lab.summary()
    out = capsys.readouterr().out
    assert "PASSED a: fine" in out and "FAILED b: wrong\n  Hint: look here" in out
    assert "demo: 1 of 2 checks passed" in out and "not run c (bonus)" in out
    lab.check("b", lambda: 1 / 0)
    assert lab.results["b"] == (False, "the check stopped with ZeroDivisionError: division by zero")


def test_lab_rejects_bad_arguments():
    with pytest.raises(TypeError, match="title"):
        labcheck.Lab("", checks=["a"])
    with pytest.raises(TypeError, match="checks"):
        labcheck.Lab("t", checks=[])
    with pytest.raises(ValueError, match="distinct"):
        labcheck.Lab("t", checks=["a", "a"])
    with pytest.raises(ValueError, match="bonus"):
        labcheck.Lab("t", checks=["a"], bonus=["b"])
    lab = labcheck.Lab("t", checks=["a"])
    with pytest.raises(ValueError, match="name"):
        lab.check("zzz", lambda: None)
    with pytest.raises(ValueError, match="lab_name"):
        labcheck.load_checks("no_such_lab")


@pytest.mark.parametrize("call, words", [
    (lambda: labcheck.compare("y", np.ones(3) + 0j, np.ones(3)), r"y should hold real numbers.*complex"),
    (lambda: labcheck.compare("dy", np.array([True, False]), np.array([1.0, 0.0])),
     r"dy should hold numbers.*float64.*boolean"),
    (lambda: labcheck.compare("matches", np.array([0.0, -1.0]), np.array([0, -1])),
     r"matches should hold integers.*int64.*float64"),
    (lambda: labcheck.compare("is_tp", np.array([2, 0]), np.array([True, False])),
     r"is_tp should hold True/False.*2"),
    (lambda: labcheck.compare_sequence("kept indices", np.array([1.0, 2.0]), [1, 2]),
     r"kept indices should hold integers.*float64"),
    (lambda: labcheck.compare_number("ap", "0.5", 0.5), r"ap should hold numbers.*'0\.5'"),
    (lambda: labcheck.compare_number("ap", 0.5 + 0j, 0.5), r"ap should hold real numbers.*complex"),
])
def test_answers_of_the_wrong_kind_are_rejected(call, words):
    with pytest.raises(labcheck.CheckFailed, match=words) as failure:
        call()
    assert isinstance(failure.value, TypeError)  # a WrongType: catchable as TypeError too


def test_answers_of_the_right_kind_in_other_forms_still_pass():
    labcheck.compare("y", [1, 2], np.array([1.0, 2.0]))  # integers where floats are expected
    labcheck.compare("is_tp", np.array([1, 0]), np.array([True, False]))  # 0/1 flags
    labcheck.compare_sequence("kept indices", [], [])  # an empty list is float to NumPy
    labcheck.compare_sequence("kept indices", np.array([3, 1], np.int32), [3, 1])
    assert labcheck.compare_number("ap", np.float32(0.5), 0.5) == 0.5


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_compare_number_reports_nan_and_inf_answers(value):
    with pytest.raises(labcheck.CheckFailed, match=f"ap is wrong: expected 0.5, got {value}"):
        labcheck.compare_number("ap", value, 0.5)


# ------------------------------------------- shortcuts, named mistakes, graded variants

def test_numpy_only_names_the_library_whatever_the_entry_point():
    import tensorflow as tf

    from utils import norm

    def via_tensorflow(x):
        return tf.reduce_max(x).numpy()

    def via_an_alias(x):
        return np.asarray(tf.math.reduce_max(x))

    def via_the_course(x):
        return norm.local_response_normalization(np.reshape(x, (1, 1, 1, -1)).astype(np.float32)).max()

    def plain_numpy(x):
        return x.max()

    for function, library in ((via_tensorflow, "TensorFlow"), (via_an_alias, "TensorFlow"),
                              (via_the_course, "the course's `utils` package")):
        with pytest.raises(labcheck.CheckFailed, match=f"called {re.escape(library)} in `{function.__name__}`"):
            labcheck.call("f", function, np.ones((2, 1)), numpy_only=True)
    assert labcheck.call("f", plain_numpy, np.ones((2, 1)), numpy_only=True) == 1.0
    # Keras exercises: the frameworks are fine, the course's utils are not
    assert labcheck.call("f", via_tensorflow, np.ones((2, 1)), no_course_utils=True) == 1.0
    with pytest.raises(labcheck.CheckFailed, match="course's `utils`"):
        labcheck.call("f", via_the_course, np.ones((2, 1)), no_course_utils=True)
    with pytest.raises(TypeError, match="numpy_only"):
        labcheck.call("f", plain_numpy, np.ones(2), numpy_only="yes")


def test_compare_names_a_known_mistake_without_code():
    expected = np.array([1.0, 2.0, 3.0])
    with pytest.raises(labcheck.CheckFailed) as failure:
        labcheck.compare("y", expected * 2, expected, hint="general hint",
                         mistakes={"this doubles y.": expected * 2, "never": lambda: 1 / 0})
    assert failure.value.hint == f"{labcheck.LOOKS_LIKE} this doubles y."
    with pytest.raises(labcheck.CheckFailed) as failure:
        labcheck.compare("y", expected * 3, expected, hint="general hint", mistakes={"x": expected * 2})
    assert failure.value.hint == "general hint"
    with pytest.raises(labcheck.CheckFailed) as failure:
        labcheck.compare_number("ap", 0.25, 0.5, mistakes={"halved": 0.25})
    assert failure.value.hint == f"{labcheck.LOOKS_LIKE} halved"
    with pytest.raises(TypeError, match="mistakes must be a dict"):
        labcheck.compare("y", expected * 2, expected, mistakes=[expected])


def test_grade_runs_other_cases_and_restores_the_checker(capsys):
    checks = labcheck.load_checks("04_max_pooling")

    def forward(x, pool_size, stride):
        return np.lib.stride_tricks.sliding_window_view(x, (pool_size, pool_size), axis=(1, 2))[
            :, ::stride, ::stride].max(axis=(-2, -1))

    public = checks.CASES
    assert labcheck.grade(checks.check_max_pool_forward, forward, variant=3,
                          CASES=[((1, 2, 2, 1), 2, 2)]) is True
    assert checks.CASES is public and labcheck._variant is None
    assert labcheck.grade(checks.check_max_pool_forward, lambda x, p, s: forward(x, p, s) + 1) is False
    assert "FAILED: max_pool_forward(x) has wrong values" in capsys.readouterr().out
    with pytest.raises(ValueError, match=r"cases \['SHAPES'\] are not constants"):
        labcheck.grade(checks.check_max_pool_forward, forward, SHAPES=[])
    with pytest.raises(TypeError, match="variant"):
        labcheck.grade(checks.check_max_pool_forward, forward, variant=-1)
    with pytest.raises(TypeError, match="checker"):
        labcheck.grade("check_max_pool_forward", forward)


def test_case_rng_draws_other_cases_only_in_a_graded_variant():
    first = labcheck.case_rng(5).normal(size=3)
    assert np.array_equal(first, np.random.default_rng(5).normal(size=3))
    labcheck._variant = 1
    try:
        assert not np.array_equal(labcheck.case_rng(5).normal(size=3), first)
    finally:
        labcheck._variant = None
    with pytest.raises(TypeError, match="seed"):
        labcheck.case_rng(-1)
