"""Execute notebooks in a fresh kernel: shared by `make refresh`, `make bench` and the tests."""

from __future__ import annotations

import pathlib
import threading
import time

import nbformat
import psutil
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parents[1]
IGNORE_TAG = "nbval-ignore-output"
SKIP_TAG = "nbval-skip"


class _PeakMemory(threading.Thread):
    """Polls the memory of this process's children (the kernel and anything it starts) and
    keeps the peak of their sum, plus their CPU seconds. Memory is the proportional set size
    (PSS): pages shared between processes, such as TensorFlow's library loaded by a kernel
    and its worker processes, are counted once in total rather than once per process."""

    def __init__(self, interval: float = 0.1):
        super().__init__(daemon=True)
        self.interval = interval
        self.peak_bytes = 0
        self.cpu_seconds: dict[int, float] = {}
        self._stop_event = threading.Event()

    def run(self):
        me = psutil.Process()
        while not self._stop_event.is_set():
            total = 0
            for child in me.children(recursive=True):
                try:
                    try:
                        total += child.memory_full_info().pss
                    except (AttributeError, psutil.AccessDenied):
                        total += child.memory_info().rss
                    times = child.cpu_times()
                    self.cpu_seconds[child.pid] = times.user + times.system
                except psutil.Error:
                    pass
            self.peak_bytes = max(self.peak_bytes, total)
            self._stop_event.wait(self.interval)

    def stop(self):
        self._stop_event.set()
        self.join()


def execute(path, *, timeout: int = 900, measure: bool = False):
    """Run every cell of the notebook at `path` top to bottom in a fresh kernel, with the
    notebook's folder as working directory. Returns (notebook, stats) where stats has
    `seconds` and, with measure=True, `peak_mb` and `cpu_seconds`."""
    path = pathlib.Path(path).resolve()
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}},
                            record_timing=False)
    monitor = _PeakMemory() if measure else None
    if monitor:
        monitor.start()
    start = time.perf_counter()
    try:
        client.execute()
    finally:
        seconds = time.perf_counter() - start
        if monitor:
            monitor.stop()
    stats = {"seconds": seconds}
    if monitor:
        stats["peak_mb"] = monitor.peak_bytes / 2**20
        stats["cpu_seconds"] = sum(monitor.cpu_seconds.values())
    return notebook, stats


def checked_outputs(notebook) -> list:
    """The outputs nbval compares: code cells without the ignore/skip tags, images dropped
    (nbval skips them too), execution counts and metadata dropped, and consecutive chunks of
    one stream joined (nbval coalesces them too: how the kernel splits a stream into messages
    depends on timing, not on what was printed)."""
    result = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & {IGNORE_TAG, SKIP_TAG}:
            continue
        outputs = []
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                if outputs and outputs[-1][0] == output.name:
                    outputs[-1] = (output.name, outputs[-1][1] + output.text)
                else:
                    outputs.append((output.name, output.text))
            elif output.output_type in ("display_data", "execute_result"):
                data = {k: v for k, v in output.data.items() if not k.startswith("image/")}
                outputs.append(("data", data))
            elif output.output_type == "error":
                outputs.append(("error", output.ename, output.evalue))
        result.append((index, outputs))
    return result
