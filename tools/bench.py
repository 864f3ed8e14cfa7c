"""`make bench`: run each notebook in a fresh kernel and write, to build/bench/ (Markdown and
CSV), its wall time, CPU time and peak memory, the suite's totals against the budgets, and
speed measurements the notebooks make on this machine:

- the wall-time ratio of im2col convolution (notebook 01's `conv2d`) to `tf.nn.conv2d` on a
  mid-size layer, printed by notebook 01: the textbook version and the faster of it and the
  blocked one;
- the training throughput (images/s) of notebook 00's small CNN, printed by notebook 00.

They are read from the outputs of the run being measured (their cells are nbval-ignored in
the committed notebooks, since they vary), with the machine described: cores, CPU model,
memory, load, library versions.

    make bench                      every notebook
    make bench NB=notebooks/01_convolution.ipynb
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import importlib.metadata
import os
import pathlib
import platform
import re
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from tools import nbrun  # noqa: E402

BUDGET_SECONDS = 90           # per notebook, wall, on 2 idle cores
BUDGET_MB = 2048              # per notebook, peak resident memory
SUITE_BUDGET_SECONDS = 8 * 60   # the whole `make test`


@dataclasses.dataclass(frozen=True)
class Metric:
    key: str
    name: str
    notebook: str
    pattern: str
    unit: str
    note: str


METRICS = (
    Metric("im2col_vs_tf_conv2d", "fastest im2col conv2d / tf.nn.conv2d, wall time", "01_convolution.ipynb",
           r"closest im2col to tf\.nn\.conv2d: [^:]*: ([0-9.]+)x in wall time", "x",
           "batch 32, 32x32x64 -> 64 channels, 3x3, 'same'; the faster of the textbook im2col and the "
           "blocked one (2 images at a time); lower is better, 1.0 = as fast as TensorFlow"),
    Metric("textbook_im2col_vs_tf_conv2d", "textbook im2col conv2d / tf.nn.conv2d, wall time",
           "01_convolution.ipynb", r"textbook im2col: ([0-9.]+)x", "x",
           "the same layer, whole patch matrix and one NumPy matrix product"),
    Metric("cnn_training_throughput", "training throughput, notebook 00's small CNN", "00_image_classification.ipynb",
           r"Training throughput: ([0-9.]+) images/s", "images/s",
           "one epoch of model.fit on 2700 32x32x3 patches, batch 64, after a warm-up"),
)


def machine() -> dict:
    model = platform.processor() or "unknown CPU"
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    description = {"cpu": model, "cores": f"{os.cpu_count()} logical", "memory": "unknown",
                   "os": f"{platform.system()} {platform.release()}", "python": platform.python_version()}
    try:
        import psutil

        description["memory"] = f"{psutil.virtual_memory().total / 2**30:.0f} GiB"
        description["cores"] += f" ({psutil.cpu_count(logical=False)} physical)"
    except ImportError:
        pass
    for package in ("tensorflow", "keras", "numpy"):
        try:
            description[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            pass
    return description


def load_average() -> str:
    try:
        return "/".join(f"{value:.1f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def printed_text(notebook) -> str:
    return "".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                   for output in cell.get("outputs", []) if output.get("output_type") == "stream")


def extract(metric: Metric, text: str) -> float | None:
    """The last number the notebook printed for `metric`, or None."""
    found = re.findall(metric.pattern, text)
    return float(found[-1]) if found else None


def report(rows, metrics, description, loads) -> tuple[str, list]:
    """Markdown report and the summary rows (quantity, value, unit, note)."""
    total_wall = sum(float(r["wall_s"]) for r in rows)
    total_cpu = sum(float(r["cpu_s"]) for r in rows)
    peak = max(float(r["peak_mb"]) for r in rows)
    summary = [
        ("notebooks", len(rows), "", ""),
        ("suite wall time", f"{total_wall:.1f}", "s", f"budget {SUITE_BUDGET_SECONDS} s for all of make test"),
        ("suite CPU time", f"{total_cpu:.1f}", "s", "kernel processes, user + system"),
        ("largest peak memory", f"{peak:.0f}", "MB", f"budget {BUDGET_MB} MB per notebook"),
    ]
    for metric in metrics:
        value = metric["value"]
        summary.append((metric["name"], "not measured" if value is None else f"{value:g}", metric["unit"],
                        metric["note"]))
    lines = ["# Notebook benchmark", "",
             "Machine: " + "; ".join(f"{key}: {value}" for key, value in description.items()) + ".",
             f"Load average (1/5/15 min) at start {loads[0]}, at end {loads[1]}: with load above the "
             f"core count the machine was shared and wall times are inflated; CPU times are not.", "",
             f"Budgets: under {BUDGET_SECONDS} s wall and {BUDGET_MB} MB peak memory per notebook "
             f"(2 idle cores); the whole suite under {SUITE_BUDGET_SECONDS // 60} minutes.", "",
             "| notebook | wall (s) | CPU (s) | peak memory (MB) | within budget |",
             "|---|---:|---:|---:|---|"]
    lines += [f"| {r['notebook']} | {r['wall_s']} | {r['cpu_s']} | {r['peak_mb']} | {r['within_budget']} |"
              for r in rows]
    within = total_wall < SUITE_BUDGET_SECONDS
    lines += [f"| **total ({len(rows)} notebooks)** | **{total_wall:.1f}** | **{total_cpu:.1f}** | "
              f"max {peak:.0f} | {'yes' if within else 'NO'} |", "",
              "| measurement | value | notebook | conditions |", "|---|---:|---|---|"]
    for metric in metrics:
        value = metric["value"]
        shown = f"{value:g} {metric['unit']}" if value is not None else metric["missing"]
        lines.append(f"| {metric['name']} | {shown} | {metric['notebook']} | {metric['note']} |")
    return "\n".join(lines) + "\n", summary


def write(out: pathlib.Path, rows, printed, description, loads) -> tuple[str, list]:
    """Write notebooks.md, notebooks.csv and summary.csv for the notebooks run so far."""
    metrics = []
    for metric in METRICS:
        value = extract(metric, printed[metric.notebook]) if metric.notebook in printed else None
        missing = ("not run (notebook not in this benchmark)" if metric.notebook not in printed
                   else f"not found: the notebook printed no line matching `{metric.pattern}`")
        metrics.append({**dataclasses.asdict(metric), "value": value, "missing": missing})
    markdown, summary = report(rows, metrics, description, loads)
    with open(out / "notebooks.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with open(out / "summary.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["quantity", "value", "unit", "note"])
        writer.writerows(summary)
        writer.writerows([(f"machine: {key}", value, "", "") for key, value in description.items()])
    (out / "notebooks.md").write_text(markdown)
    return markdown, metrics


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="+", type=pathlib.Path)
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("build/bench"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    description = machine()
    load_start = load_average()
    rows, printed = [], {}
    for path in args.notebooks:
        print(f"running {path} ...", flush=True)
        notebook, stats = nbrun.execute(path, measure=True)
        printed[path.name] = printed_text(notebook)
        within = stats["seconds"] < BUDGET_SECONDS and stats["peak_mb"] < BUDGET_MB
        rows.append({"notebook": path.name, "wall_s": f"{stats['seconds']:.1f}",
                     "cpu_s": f"{stats['cpu_seconds']:.1f}", "peak_mb": f"{stats['peak_mb']:.0f}",
                     "within_budget": "yes" if within else "NO"})
        print(f"  {rows[-1]}", flush=True)
        # after every notebook, so that an interrupted run still leaves its report
        markdown, metrics = write(args.out, rows, printed, description, (load_start, load_average()))
    print(markdown)
    found_all = all(m["value"] is not None for m in metrics if m["notebook"] in printed)
    return 0 if found_all and all(r["within_budget"] == "yes" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
