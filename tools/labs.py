"""Generate the student versions of the labs from their single-source solutions.

Each lab lives in `labs/NN_topic/`:

    checks.py                     the checkers the notebook calls (via utils.labcheck)
    solution/NN_topic.ipynb       the single source: solution code between
                                  `# BEGIN SOLUTION` / `# END SOLUTION`, executed, with outputs
    student/NN_topic.ipynb        generated: what students open (no solutions, no outputs)

The student version is made by otter-grader's `otter assign` (the raw `# ASSIGNMENT CONFIG`
cell at the end of each solution sets it up); this tool runs it in a temporary folder,
keeps only the student notebook, gives its cells stable ids and drops otter's metadata so
the committed file only changes when the source does.

    python tools/labs.py                    regenerate every student version
    python tools/labs.py --check            exit 1 if a committed student version is stale
    python tools/labs.py --execute          also re-execute the solutions (like make refresh)
    python tools/labs.py labs/01_conv2d_im2col   one lab

Graded mode (otter-grader, without Docker):

    python tools/labs.py --autograder build/autograder    an otter autograder zip per lab
    python tools/labs.py --grade submissions/ --csv grades.csv
                                            grade every notebook under submissions/
    python tools/labs.py --release build/release          the student release

Each lab's `hidden_cases.py` lists, per check, the hidden cases (other seeds, shapes,
boundary cases) that only grading runs: `otter assign` turns the lab's check cells into
public tests and these into hidden tests of the autograder zip. `hidden_cases.py` ships
nowhere a student gets it: not in the wheel (pyproject.toml packages only `checks.py`) and
not in the release.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import csv
import io
import logging
import pathlib
import re
import runpy
import shutil
import subprocess
import sys
import tempfile
import zipfile

import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[1]
LABS = ROOT / "labs"


def lab_dirs(paths=None) -> list[pathlib.Path]:
    """The lab folders: `labs/NN_topic/` with `solution/NN_topic.ipynb`."""
    if paths:
        folders = [pathlib.Path(p).resolve() for p in paths]
    else:
        folders = sorted(p for p in LABS.iterdir() if p.is_dir() and p.name[:2].isdigit())
    for folder in folders:
        if not solution_path(folder).is_file():
            raise SystemExit(f"{folder}: expected {solution_path(folder)}")
    return folders


def solution_path(folder: pathlib.Path) -> pathlib.Path:
    return folder / "solution" / f"{folder.name}.ipynb"


def student_path(folder: pathlib.Path) -> pathlib.Path:
    return folder / "student" / f"{folder.name}.ipynb"


def build_student(folder: pathlib.Path):
    """Run `otter assign` on the lab's solution and return the cleaned student notebook."""
    from otter.assign import main as otter_assign

    source = solution_path(folder)
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        # otter assign writes next to its input; give it a copy without outputs
        notebook = nbformat.read(source, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        master = work / source.name
        nbformat.write(notebook, master)
        quiet = io.StringIO()
        logging.getLogger("otter").setLevel(logging.WARNING)
        with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            otter_assign(str(master), str(work / "dist"), no_pdfs=True, no_run_tests=True)
        student = nbformat.read(work / "dist" / "student" / source.name, as_version=4)
    student.metadata.pop("otter", None)
    for index, cell in enumerate(student.cells):
        cell.id = f"cell-{index:02d}"
        cell.metadata.pop("otter", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    leftovers = [c.source for c in student.cells
                 if "BEGIN SOLUTION" in c.source or "END SOLUTION" in c.source
                 or "ASSIGNMENT CONFIG" in c.source]
    if leftovers:
        raise RuntimeError(f"{folder.name}: solution markers left in the student version")
    return student


# ------------------------------------------------------------------------ graded mode

HIDDEN_FILE = "hidden_cases.py"
PUBLIC_POINTS = 1.0
HIDDEN_POINTS = 1.0  # shared among an exercise's hidden cases
CHECK_CELL = re.compile(r'^lab\.check\("(\w+)",\s*(.*)\)\s*$', re.S)


def hidden_cases(folder: pathlib.Path) -> dict[str, list[dict]]:
    """The lab's hidden cases: {check name: [keyword arguments of labcheck.grade, ...]}."""
    path = folder / HIDDEN_FILE
    if not path.is_file():
        raise SystemExit(f"{path}: missing (every lab has hidden cases for grading)")
    cases = runpy.run_path(str(path))["HIDDEN"]
    if not isinstance(cases, dict):
        raise SystemExit(f"{path}: HIDDEN must be a dict {{check name: [cases]}}")
    return cases


def check_cells(notebook) -> list[tuple[int, str, str]]:
    """(cell index, check name, the checker and its arguments as source) of every
    `lab.check(...)` cell."""
    found = []
    for index, cell in enumerate(notebook.cells):
        match = CHECK_CELL.match(cell.source.strip()) if cell.cell_type == "code" else None
        if match:
            found.append((index, match.group(1), match.group(2)))
    return found


def _raw(text: str):
    return nbformat.v4.new_raw_cell(text)


def _test_cell(source: str, *, hidden: bool, points: float):
    config = (f'""" # BEGIN TEST CONFIG\nhidden: {str(hidden).lower()}\npoints: {points:g}\n'
              f'""" # END TEST CONFIG\n')
    cell = nbformat.v4.new_code_cell(config + source)
    # the expected output of an ok-format test: grade(...) returns True
    cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "True"},
                                           execution_count=1)]
    return cell


def _literal(value) -> str:
    """Python source for a hidden case's value (NaN and infinities included)."""
    if isinstance(value, float) and value != value or value in (float("inf"), float("-inf")):
        return f"float('{value}')"
    if isinstance(value, (list, tuple)):
        items = ", ".join(_literal(item) for item in value)
        return f"[{items}]" if isinstance(value, list) else f"({items}{',' if len(value) == 1 else ''})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


def build_master(folder: pathlib.Path):
    """The otter master notebook for grading: the lab's solution with every exercise cell and
    its check cell in a question, whose tests are the public check and the hidden cases."""
    notebook = nbformat.read(solution_path(folder), as_version=4)
    hidden = hidden_cases(folder)
    checks = check_cells(notebook)
    names = [name for _, name, _ in checks]
    missing = [name for name in names if not hidden.get(name)]
    unknown = [name for name in hidden if name not in names]
    if missing or unknown:
        raise SystemExit(f"{folder / HIDDEN_FILE}: no hidden cases for {missing}; "
                         f"unknown checks {unknown}")
    cells = []
    starts = {index - 1: name for index, name, _ in checks}
    ends = {index: (name, arguments) for index, name, arguments in checks}
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if index in starts:
            cells.append(_raw(f"# BEGIN QUESTION\nname: {starts[index]}\n"
                              f"points: {PUBLIC_POINTS + HIDDEN_POINTS:g}\ncheck_cell: false"))
        if cell.cell_type == "raw" and "ASSIGNMENT CONFIG" in cell.source:
            cell.source = (cell.source.replace("generate: false", "generate: true")
                           + "\nrequirements: requirements.txt")
        cells.append(cell)
        if index in ends:
            name, arguments = ends[index]
            cells.append(_raw("# BEGIN TESTS"))
            cells.append(_test_cell(f"labcheck.grade({arguments})", hidden=False,
                                    points=PUBLIC_POINTS))
            each = HIDDEN_POINTS / len(hidden[name])
            for case in hidden[name]:
                keywords = ", ".join(f"{key}={_literal(value)}" for key, value in case.items())
                cells.append(_test_cell(f"labcheck.grade({arguments}, {keywords})", hidden=True,
                                        points=each))
            cells.append(_raw("# END TESTS"))
            cells.append(_raw("# END QUESTION"))
    notebook.cells = cells
    return notebook


def build_autograder(folder: pathlib.Path, out: pathlib.Path) -> pathlib.Path:
    """Run `otter assign` on the lab's grading master; copy its autograder zip to
    `out/NN_topic-autograder.zip` and return that path."""
    from otter.assign import main as otter_assign

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        master = work / f"{folder.name}.ipynb"
        nbformat.write(build_master(folder), master)
        # the grading environment (Gradescope's image) installs the course from its repository
        sys.path.insert(0, str(ROOT))
        from tools import links

        (work / "requirements.txt").write_text(
            f"cnn-elements-course @ git+{links.repository_url()}@main\n")
        quiet = io.StringIO()
        logging.getLogger("otter").setLevel(logging.WARNING)
        with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            otter_assign(str(master), str(work / "dist"), no_pdfs=True, no_run_tests=True)
        zips = sorted((work / "dist" / "autograder").glob("*.zip"))
        if len(zips) != 1:
            raise RuntimeError(f"{folder.name}: otter assign made {len(zips)} autograder zips")
        target = out / f"{folder.name}-autograder.zip"
        shutil.copy(zips[0], target)
    return target


def lab_of(notebook_path: pathlib.Path) -> str | None:
    """The lab a submitted notebook belongs to: the folder its Setup cell loads checks from."""
    try:
        notebook = nbformat.read(notebook_path, as_version=4)
    except Exception:
        return None
    for cell in notebook.cells:
        match = re.search(r'labcheck\.load_checks\("(\d\d_\w+)"\)', cell.source)
        if match:
            return match.group(1)
    return None


def grade(submissions: pathlib.Path, csv_path: pathlib.Path, work: pathlib.Path) -> list[dict]:
    """Grade every notebook under `submissions` (a student's name is the notebook's path
    without the lab: `alice.ipynb`, `alice/03_batchnorm.ipynb`) with otter's local runner,
    and write one CSV row per student, lab and exercise: public and hidden points."""
    from otter.run import main as otter_run

    notebooks = sorted(p for p in submissions.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    if not notebooks:
        raise SystemExit(f"no notebooks under {submissions}")
    autograders, rows = {}, []
    for path in notebooks:
        lab = lab_of(path)
        relative = path.relative_to(submissions)
        student = (str(relative.parent) if relative.stem == lab and relative.parent.parts
                   else str(relative.with_suffix("")))
        if lab is None or not (LABS / lab).is_dir():
            print(f"skipped {relative}: not a notebook of a lab")
            continue
        if lab not in autograders:
            autograders[lab] = build_autograder(LABS / lab, work)
        quiet = io.StringIO()
        with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet), \
                tempfile.TemporaryDirectory() as tmp:
            results = otter_run(str(path), autograder=str(autograders[lab]), output_dir=tmp,
                                no_logo=True)
        for question, result in results.to_dict().items():
            public = [case for case in result["test_case_results"] if not case["test_case"]["hidden"]]
            hidden = [case for case in result["test_case_results"] if case["test_case"]["hidden"]]
            points = lambda cases: sum(case["test_case"]["points"] for case in cases if case["passed"])  # noqa: E731
            rows.append({"student": student, "lab": lab, "exercise": question,
                         "public": round(points(public), 4), "hidden": round(points(hidden), 4),
                         "points": round(result["score"], 4), "possible": result["possible"]})
        print(f"graded {relative} ({lab}): {results.total:g} of {results.possible:g}")
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with open(csv_path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["student"])
        writer.writeheader()
        writer.writerows(rows)
    return rows


def release(out: pathlib.Path, *, wheel: bool = True) -> pathlib.Path:
    """The student release in `out`: for each lab its student notebook and checks.py (in
    labs/NN_topic/), labs/README.md and the course's wheel (the checks as package data);
    no solution, no hidden case. Returns `out`."""
    if out.exists():
        shutil.rmtree(out)
    for folder in lab_dirs():
        target = out / "labs" / folder.name
        target.mkdir(parents=True)
        shutil.copy(student_path(folder), target / student_path(folder).name)
        shutil.copy(folder / "checks.py", target / "checks.py")
        for data in sorted(folder.glob("data/*")):  # a lab's own data files, if any
            (target / "data").mkdir(exist_ok=True)
            shutil.copy(data, target / "data" / data.name)
    shutil.copy(LABS / "README.md", out / "labs" / "README.md")
    if wheel:
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                        "--no-build-isolation", "--wheel-dir", str(out), str(ROOT)],
                       check=True, cwd=ROOT)
    return out


def sources(notebook) -> list[tuple[str, str]]:
    """What a stale check compares: each cell's type and source."""
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


def is_stale(folder: pathlib.Path) -> bool:
    target = student_path(folder)
    if not target.is_file():
        return True
    return sources(nbformat.read(target, as_version=4)) != sources(build_student(folder))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("labs", nargs="*", help="lab folders (default: all of labs/)")
    parser.add_argument("--check", action="store_true",
                        help="only report stale student versions; exit 1 if any")
    parser.add_argument("--execute", action="store_true",
                        help="re-execute each solution notebook in place first")
    parser.add_argument("--autograder", metavar="DIR", type=pathlib.Path,
                        help="write each lab's otter autograder zip (public + hidden tests) to DIR")
    parser.add_argument("--grade", metavar="DIR", type=pathlib.Path,
                        help="grade the submitted notebooks under DIR (otter, no Docker)")
    parser.add_argument("--csv", type=pathlib.Path, default=ROOT / "build" / "grades.csv",
                        help="where --grade writes its CSV (default build/grades.csv)")
    parser.add_argument("--release", metavar="DIR", type=pathlib.Path,
                        help="write the student release to DIR (emptied first)")
    args = parser.parse_args(argv)
    if args.grade:
        rows = grade(args.grade, args.csv, ROOT / "build" / "autograder")
        print(f"wrote {args.csv} ({len(rows)} rows)")
        return 0
    if args.release:
        release(args.release)
        print(f"wrote the student release to {args.release}")
        return 0
    folders = lab_dirs(args.labs)
    if args.autograder:
        for folder in folders:
            print(f"wrote {build_autograder(folder, args.autograder)}")
        return 0
    if args.check:
        stale = [f.name for f in folders if is_stale(f)]
        for name in stale:
            print(f"stale: labs/{name}/student/{name}.ipynb (run: python tools/labs.py)")
        print(f"{len(folders) - len(stale)} of {len(folders)} student versions up to date")
        return 1 if stale else 0
    for folder in folders:
        if args.execute:
            sys.path.insert(0, str(ROOT))
            from tools import refresh

            seconds = refresh.refresh(solution_path(folder))
            print(f"executed {solution_path(folder).relative_to(ROOT)} in {seconds:.1f} s")
        target = student_path(folder)
        target.parent.mkdir(exist_ok=True)
        nbformat.write(build_student(folder), target)
        print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
