"""`make bench`: run each notebook in a fresh kernel and write wall time, CPU time and peak
memory per notebook to build/bench/ (Markdown and CSV), with the machine described."""

from __future__ import annotations

import argparse
import csv
import os
import pathlib
import platform
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from tools import nbrun  # noqa: E402

BUDGET_SECONDS = 120
BUDGET_MB = 2048


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        import psutil

        memory = f", {psutil.virtual_memory().total / 2**30:.0f} GiB RAM"
    except ImportError:
        pass
    return f"{os.cpu_count()} cores ({model}){memory}, Python {platform.python_version()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("notebooks", nargs="+", type=pathlib.Path)
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("build/bench"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for path in args.notebooks:
        print(f"running {path} ...", flush=True)
        _, stats = nbrun.execute(path, measure=True)
        within = stats["seconds"] < BUDGET_SECONDS and stats["peak_mb"] < BUDGET_MB
        rows.append({"notebook": path.name, "wall_s": f"{stats['seconds']:.1f}",
                     "cpu_s": f"{stats['cpu_seconds']:.1f}", "peak_mb": f"{stats['peak_mb']:.0f}",
                     "within_budget": "yes" if within else "NO"})
        print(f"  {rows[-1]}", flush=True)
    total = sum(float(r["wall_s"]) for r in rows)
    with open(args.out / "notebooks.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    lines = [f"# Notebook benchmark", "", f"Machine: {machine()}", "",
             f"Budgets: under {BUDGET_SECONDS} s wall and {BUDGET_MB} MB peak memory per notebook.", "",
             "| notebook | wall (s) | CPU (s) | peak memory (MB) | within budget |",
             "|---|---:|---:|---:|---|"]
    lines += [f"| {r['notebook']} | {r['wall_s']} | {r['cpu_s']} | {r['peak_mb']} | {r['within_budget']} |"
              for r in rows]
    lines += ["", f"Total wall time: {total:.1f} s over {len(rows)} notebooks."]
    (args.out / "notebooks.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if all(r["within_budget"] == "yes" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
