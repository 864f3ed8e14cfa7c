"""The Setup guard of every notebook and lab (tools/setup_guard.py) and its cloud badges.

What it does in a kernel without the course is tested here with the package lookup made to
fail; `make test-cloud` runs it for real: a clean environment, the course's wheel, notebook 00
and a lab's student version.
"""

import os
import subprocess
import sys
import textwrap

import nbformat
import pytest

from tools import links, setup_guard

WITHOUT_COURSE = textwrap.dedent("""
    import importlib.metadata
    def version(name):
        raise importlib.metadata.PackageNotFoundError(name)
    importlib.metadata.version = version
""")


def run_guard(prelude="", **environment):
    env = {key: value for key, value in os.environ.items()
           if key not in ("COURSE_PACKAGE", "KAGGLE_KERNEL_RUN_TYPE")}
    return subprocess.run([sys.executable, "-c", prelude + setup_guard.guard()], capture_output=True, text=True,
                          env=env | environment, timeout=120)


def test_every_notebook_and_lab_has_the_current_guard_and_badges():
    assert setup_guard.main(["--check"]) == 0, "run: python tools/setup_guard.py"
    for path in setup_guard.notebooks():
        notebook = nbformat.read(path, as_version=4)
        assert setup_guard.setup_cell(notebook).source.startswith(setup_guard.guard() + "\n\n"), path
        assert links.colab_url(setup_guard.badge_target(path)) in notebook.cells[0].source, path


def test_lab_badges_open_the_student_version():
    path = next(path for path in setup_guard.notebooks() if path.parent.name == "solution")
    target = setup_guard.badge_target(path)
    assert target.parent.name == "student" and target.is_file()


def test_applying_twice_changes_nothing(tmp_path):
    source = setup_guard.notebooks()[0]
    copy = tmp_path / source.name
    copy.write_bytes(source.read_bytes())
    original = nbformat.read(copy, as_version=4)
    for cell in original.cells[:3]:  # strip what apply() writes, then apply it twice
        cell.source = setup_guard.BADGE_LINE.sub("", cell.source)
    setup = setup_guard.setup_cell(original)
    setup.source = setup.source.split(setup_guard.LAST_LINE + "\n", 1)[1].lstrip("\n")
    nbformat.write(original, copy)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(setup_guard, "badge_target", lambda path: source)
        assert setup_guard.apply(copy) is True
        assert setup_guard.apply(copy) is False
    assert nbformat.read(copy, as_version=4).cells[0].source == nbformat.read(source, as_version=4).cells[0].source


def test_guard_does_nothing_where_the_course_is_installed():
    result = run_guard(COURSE_PACKAGE="/nonexistent/wheel.whl")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and "pip" not in result.stderr


def test_guard_outside_the_cloud_names_the_command():
    result = run_guard(WITHOUT_COURSE)
    assert result.returncode != 0
    assert "ModuleNotFoundError" in result.stderr and "make setup" in result.stderr


FAKE_PIP = textwrap.dedent("""
    import subprocess
    subprocess.run = lambda command, check: print("RUN", *command)
""")
COLAB = "import sys, types\nsys.modules['google.colab'] = types.ModuleType('google.colab')\n"


@pytest.mark.parametrize("prelude, environment", [(COLAB, {}), ("", {"KAGGLE_KERNEL_RUN_TYPE": "Interactive"})],
                         ids=["colab", "kaggle"])
def test_guard_in_colab_or_kaggle_installs_the_course_from_the_repository(prelude, environment):
    result = run_guard(WITHOUT_COURSE + FAKE_PIP + prelude, **environment)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["RUN", sys.executable, "-m", "pip", "install", "--quiet",
                                     "git+" + links.repository_url()]


def test_guard_installs_COURSE_PACKAGE_when_given():
    # pip is really called; the wheel named does not exist, so pip fails and says which.
    result = run_guard(WITHOUT_COURSE, COURSE_PACKAGE="/nonexistent/course.whl")
    assert "CalledProcessError" in result.stderr and "/nonexistent/course.whl" in result.stderr


def test_readme_badges_open_the_first_notebook():
    first = sorted(setup_guard.ROOT.glob("notebooks/[0-9][0-9]_*.ipynb"))[0]
    readme = setup_guard.README.read_text()
    assert links.colab_url(first) in readme and links.kaggle_url(first) in readme
    assert setup_guard.readme_badges(check=True) is False
