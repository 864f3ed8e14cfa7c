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
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import pathlib
import sys
import tempfile

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
    args = parser.parse_args(argv)
    folders = lab_dirs(args.labs)
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
