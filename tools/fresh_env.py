"""The course in environments it was not developed in: `make test-cloud` and `make test-latest`.

cloud   What a student gets from a Colab or Kaggle badge, without the network to GitHub: the
        course's wheel is built here, a clean environment gets only what Colab has by name
        (TensorFlow, Keras, NumPy, pandas, ...; at the versions of requirements.txt), and
        notebook 00 and a lab's student version are executed, copied to a folder outside the
        repository, in a kernel where `utils` is not importable. Their Setup guard must install
        the wheel (COURSE_PACKAGE points it there) and the rest must run; no cell may show
        TensorFlow's C++ log (that kernel has no course config).
latest  The newest releases: a fresh environment on the newest supported Python with the newest
        releases of the direct dependencies (pyproject.toml) the registry serves; every notebook
        and lab solution is executed top to bottom by nbval without comparing outputs (the
        libraries differ), so every claim assertion must hold. The versions used are printed
        and written to build/latest/versions.txt.

    python tools/fresh_env.py cloud  --python python3.13
    python tools/fresh_env.py latest --python python3.13 [pytest arguments]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUILD = ROOT / "build"
# What a Colab kernel has by name, among the course's dependencies (and what runs a kernel).
COLAB_PACKAGES = ("tensorflow", "keras", "numpy", "scipy", "pandas", "matplotlib", "scikit-learn",
                  "scikit-image", "ipykernel", "nbclient", "nbformat")
CLOUD_NOTEBOOKS = ("notebooks/00_image_classification.ipynb",
                   "labs/01_conv2d_im2col/student/01_conv2d_im2col.ipynb")


def run(*command, **kwargs):
    print("+", " ".join(str(part) for part in command), flush=True)
    return subprocess.run([str(part) for part in command], check=True, **kwargs)


def pinned(names) -> list[str]:
    """`name==version` from requirements.txt for each of `names`."""
    pins = dict(line.split("==", 1) for line in (ROOT / "requirements.txt").read_text().split()
                if "==" in line)
    return [f"{name}=={pins[name]}" for name in names]


def create(folder: pathlib.Path, python: str) -> pathlib.Path:
    """A new virtual environment in `folder`; returns its Python."""
    shutil.rmtree(folder, ignore_errors=True)
    run(python, "-m", "venv", folder)
    venv_python = folder / "bin" / "python"
    run(venv_python, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    return venv_python


def build_wheel(out: pathlib.Path) -> pathlib.Path:
    shutil.rmtree(out, ignore_errors=True)
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", out, ROOT)
    (wheel,) = out.glob("*.whl")
    return wheel


EXECUTE = """
import json, sys, nbformat
from nbclient import NotebookClient
path = sys.argv[1]
notebook = nbformat.read(path, as_version=4)
NotebookClient(notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()
streams = [(index, output.get("name"), output.get("text", "")) for index, cell in enumerate(notebook.cells)
           if cell.cell_type == "code" for output in cell.get("outputs", []) if output.output_type == "stream"]
print(json.dumps(streams))
"""
NATIVE_LOG = re.compile(r"^[IWEF]\d{4} |absl::InitializeLog|oneDNN custom operations", re.MULTILINE)


def cloud(python: str) -> None:
    folder = BUILD / "cloud"
    wheel = build_wheel(folder / "dist")
    venv_python = create(folder / "venv", python)
    run(venv_python, "-m", "pip", "install", "--quiet", *pinned(COLAB_PACKAGES))
    probe = subprocess.run([venv_python, "-c", "import utils"], cwd=folder, capture_output=True)
    if probe.returncode == 0:
        raise SystemExit("the clean environment can already import utils: the test would prove nothing")
    work = folder / "run"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    environment["COURSE_PACKAGE"] = str(wheel)
    for relative in CLOUD_NOTEBOOKS:
        copy = work / pathlib.Path(relative).name
        shutil.copy(ROOT / relative, copy)
        print(f"executing {relative} in a kernel without the course (COURSE_PACKAGE={wheel.name})", flush=True)
        result = run(venv_python, "-c", EXECUTE, copy, work, cwd=work, env=environment,
                     capture_output=True, text=True)
        streams = json.loads(result.stdout.strip().splitlines()[-1])
        logged = [f"cell {index}: {text.strip()[:120]}" for index, name, text in streams
                  if name == "stderr" and NATIVE_LOG.search(text)]
        if logged:
            raise SystemExit(f"{relative}: TensorFlow's C++ log reached the notebook:\n" + "\n".join(logged))
    print(f"test-cloud: {len(CLOUD_NOTEBOOKS)} notebooks ran after their Setup guard installed {wheel.name}")


def direct_dependencies() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project["dependencies"] + project["optional-dependencies"]["dev"]


def latest(python: str, pytest_args: list[str]) -> None:
    folder = BUILD / "latest"
    venv_python = create(folder / "venv", python)
    requirements = direct_dependencies()
    run(venv_python, "-m", "pip", "install", "--quiet", "--upgrade", "setuptools", *requirements)
    run(venv_python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "-e", ROOT)
    config = folder / "venv" / "etc" / "ipython"
    config.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "config" / "ipython_kernel_config.py", config)
    names = [re.split(r"[<>=!\[ ]", requirement, maxsplit=1)[0] for requirement in requirements]
    versions = subprocess.run(
        [venv_python, "-c", "import sys, importlib.metadata as m; "
         "print(f'Python {sys.version.split()[0]}'); "
         "[print(f'{n}=={m.version(n)}') for n in sys.argv[1:]]", *names],
        check=True, capture_output=True, text=True).stdout
    (folder / "versions.txt").write_text(versions)
    print("test-latest uses:\n" + versions, flush=True)
    notebooks = sorted(ROOT.glob("notebooks/[0-9][0-9]_*.ipynb")) + sorted(ROOT.glob("labs/*/solution/*.ipynb"))
    run(venv_python, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "--nbval-cell-timeout", "900",
        "-p", "no:cacheprovider", *pytest_args, *notebooks, cwd=ROOT)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tier", choices=("cloud", "latest"))
    parser.add_argument("--python", default=sys.executable, help="the Python of the new environment")
    args, rest = parser.parse_known_args(argv)
    if args.tier == "cloud":
        cloud(args.python)
    else:
        latest(args.python, rest)


if __name__ == "__main__":
    main()
