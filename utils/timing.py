"""Timing a block of code: wall-clock and CPU seconds (notebooks 00, 01, 06, 08, 14, 15)."""

from __future__ import annotations

import time

import numpy as np

from utils import validation


class Timer:
    """`with timing.Timer() as t: ...`, then `t.seconds` (wall-clock) and `t.cpu_seconds` (CPU time of
    the whole process, all threads, over the same block)."""

    def __enter__(self):
        self.seconds = self.cpu_seconds = None
        self._start, self._start_cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.cpu_seconds = time.process_time() - self._start_cpu
        self.seconds = time.perf_counter() - self._start


def best_seconds(function, repeats: int = 15) -> tuple[float, float]:
    """(wall, CPU) seconds of `function()`: the minimum of each (the run least disturbed by other
    programs) over `repeats` calls, after one warm-up call. CPU time counts every thread of the process."""
    repeats = validation.as_int("repeats", repeats, minimum=1)
    function()
    timers = []
    for _ in range(repeats):
        with Timer() as timer:
            function()
        timers.append(timer)
    return min(timer.seconds for timer in timers), min(timer.cpu_seconds for timer in timers)


def each(function, *iterables) -> tuple[list, np.ndarray]:
    """(results, seconds [N]) of `function(*args)` for each `args` of `zip(*iterables, strict=True)`.
    The first item also runs once untimed before, so tracing a `tf.function` is not counted."""
    calls = list(zip(*iterables, strict=True))
    if calls:
        function(*calls[0])
    results, seconds = [], []
    for args in calls:
        start = time.perf_counter()
        results.append(function(*args))
        seconds.append(time.perf_counter() - start)
    return results, np.array(seconds)
