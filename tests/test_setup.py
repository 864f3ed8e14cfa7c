"""`make setup` is idempotent: once it has run, make considers it up to date (so `make test`
and `make lab` start at once), and `make test` runs both halves of the suite."""

import pathlib
import shutil
import subprocess

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
