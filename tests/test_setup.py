"""`make setup` is idempotent: once it has run, make considers it up to date (so `make test`
and `make lab` start at once), `make test` runs both halves of the suite, and `make setup`
picks a supported Python (3.11, 3.12 or 3.13) or says clearly why it cannot."""

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def test_setup_is_up_to_date_after_it_ran():
    result = subprocess.run(["make", "-q", "setup"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, "make setup would run again: .venv is out of date with requirements.txt"


def test_make_test_runs_unit_tests_and_nbval():
    dry_run = subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True).stdout
    assert "unit" in dry_run and "nbval" in dry_run
    plan = subprocess.run(["make", "-n", "nbval"], cwd=ROOT, capture_output=True, text=True).stdout
    assert "--nbval" in plan and "notebooks/00_image_classification.ipynb" in plan


def test_ci_calls_make_test():
    assert "make test" in (ROOT / ".ci" / "run").read_text()


# The Makefile's choice of Python (3.11, 3.12 or 3.13), checked with stand-in interpreters:
# scripts that run this test's Python but report another version. Nothing is installed.
FIXTURES = ("Makefile", "requirements.txt", "pyproject.toml", "config/ipython_kernel_config.py")


def fake_python(path: pathlib.Path, version: str | None) -> pathlib.Path:
    """An executable at `path` that answers `-c CODE` like Python `version` (x.y), or, without a
    version, fails the way a pyenv shim of a version pyenv has not selected does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if version is None:
        path.write_text("#!/bin/sh\necho \"pyenv: $(basename \"$0\"): command not found\" >&2\nexit 127\n")
    else:
        major, minor = map(int, version.split("."))
        path.write_text(
            f"#!{sys.executable} -S\n"
            "import sys\n"
            f"sys.version_info = ({major}, {minor}, 0, 'final', 0)\n"
            "exec(sys.argv[sys.argv.index('-c') + 1])\n"
        )
    path.chmod(0o755)
    return path


@pytest.fixture
def course(tmp_path):
    """A directory holding the Makefile and the files `make setup` depends on, without .venv."""
    for name in FIXTURES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def make(course, *args, path=None):
    env = dict(os.environ)
    env.pop("PYTHON", None)
    env.pop("MAKEFLAGS", None)
    if path is not None:
        env["PATH"] = str(path)
    return subprocess.run([shutil.which("make"), "--no-print-directory", *args], cwd=course,
                          env=env, capture_output=True, text=True, timeout=60)


NEEDED = "Python 3.11, 3.12 or 3.13 is needed (found: "


def test_an_unsupported_python_is_rejected_with_a_clear_message(course):
    python310 = fake_python(course / "bin" / "python3.10", "3.10")
    result = make(course, "-n", "setup", f"PYTHON={python310}")
    assert result.returncode != 0
    assert f"{NEEDED}{python310} is 3.10); install one or pass PYTHON=/path/to/python3.x" in result.stderr
    assert "pip install" not in result.stdout


def test_a_python_that_does_not_run_is_rejected(course):
    shim = fake_python(course / "shims" / "python3.13", None)
    result = make(course, "-n", "setup", f"PYTHON={shim}")
    assert result.returncode != 0 and f"{NEEDED}{shim} does not run)" in result.stderr


def test_without_a_supported_python_on_path_make_setup_says_what_it_found(course):
    bin_ = course / "bin"
    fake_python(bin_ / "python3", "3.10")
    fake_python(bin_ / "python3.13", None)
    result = make(course, "-n", "setup", path=bin_)
    assert result.returncode != 0
    assert f"{NEEDED}python3.13 does not run, python3 is 3.10)" in result.stderr


def test_the_newest_supported_python_that_runs_is_chosen(course):
    bin_ = course / "bin"
    fake_python(bin_ / "python3.13", None)  # a pyenv shim of a version not selected
    fake_python(bin_ / "python3.12", "3.12")
    fake_python(bin_ / "python3.11", "3.11")
    fake_python(bin_ / "python3", "3.11")
    plan = make(course, "-n", "setup", path=bin_)
    assert plan.returncode == 0, plan.stderr
    assert "python3.12 -m venv .venv" in plan.stdout
    # python3 is the last resort, and only when it is supported.
    for name in ("python3.13", "python3.12", "python3.11"):
        (bin_ / name).unlink()
    plan = make(course, "-n", "setup", path=bin_)
    assert plan.returncode == 0 and "python3 -m venv .venv" in plan.stdout


def test_an_existing_venv_keeps_its_python_unless_another_is_asked_for(course):
    fake_python(course / ".venv" / "bin" / "python", "3.12")
    (course / ".venv" / ".setup-done").write_text("3.12\n")
    newest = fake_python(course / "bin" / "python3.13", "3.13")
    assert make(course, "-q", "setup", path=newest.parent).returncode == 0, "a 3.12 .venv is kept"
    assert make(course, "-q", "setup", f"PYTHON={newest}").returncode == 1
    plan = make(course, "-n", "setup", f"PYTHON={newest}")
    assert plan.returncode == 0, plan.stderr
    assert "rebuilding it with Python 3.13" in plan.stdout and f"{newest} -m venv .venv" in plan.stdout
    assert "! -name book-assets" in plan.stdout, "the book's assets do not depend on Python"
