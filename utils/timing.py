"""Timing a block of code: wall-clock and CPU seconds (notebooks 00, 01, 06, 08, 14, 15)."""

from __future__ import annotations

import time

import numpy as np

from utils import validation


class Timer:
    """Timing of a block: `with timing.Timer() as t: ...; t.seconds`.

    `seconds` is wall-clock time; `cpu_seconds` is the CPU time of the whole process
    (`time.process_time`, all threads) over the same block.
    """

    def __enter__(self):
        self.seconds = self.cpu_seconds = None
        self._start, self._start_cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.cpu_seconds = time.process_time() - self._start_cpu
        self.seconds = time.perf_counter() - self._start
        return False


def best_seconds(function, repeats: int = 15) -> tuple[float, float]:
    """(wall, CPU) seconds of `function()`: the minimum of each over `repeats` calls, after one warm-up call.

    The minimum is the run least disturbed by other programs. CPU time counts every thread of
    the process, including BLAS or TensorFlow threads still spinning from an earlier call.
    """
    repeats = validation.as_int("repeats", repeats, minimum=1)
    function()
    timers = []
    for _ in range(repeats):
        with Timer() as timer:
            function()
        timers.append(timer)
    return min(timer.seconds for timer in timers), min(timer.cpu_seconds for timer in timers)


def each(function, *iterables) -> tuple[list, np.ndarray]:
    """`function(*args)` for each `args` of `zip(*iterables)`, as `map` does, and the wall-clock
    seconds of each call: (results, seconds [N]).

    The first item is run one extra time, untimed, before every item is timed: tracing a
    `tf.function` (or filling any cache) then does not count in the first item's time. The
    iterables must have the same length (a ValueError otherwise, as `zip(strict=True)`).
    """
    calls = list(zip(*iterables, strict=True))
    if calls:
        function(*calls[0])
    results, seconds = [], []
    for args in calls:
        start = time.perf_counter()
        results.append(function(*args))
        seconds.append(time.perf_counter() - start)
    return results, np.array(seconds)
