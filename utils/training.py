"""Training helpers that lecture cells use again and again: histories as tables, the
number of steps a run needs to reach a target, and a per-batch loss recorder."""

from __future__ import annotations

import time

import numpy as np

from utils import validation


def history_table(history, *, decimals: int = 4, every: int = 1):
    """A Keras History (or dict metric -> list) as a pandas DataFrame, one row per epoch.

    decimals: rounding, so the table is stable across runs and readable on a slide.
    every: keep every n-th epoch (and always the last).
    """
    import pandas as pd

    values = history.history if hasattr(history, "history") else history
    if not isinstance(values, dict) or not values:
        raise TypeError(f"history: expected a keras History or a non-empty dict of metric lists, "
                        f"got {type(history).__name__}")
    lengths = {len(v) for v in values.values()}
    if len(lengths) != 1:
        raise ValueError(f"history: expected metrics of equal length, got lengths {sorted(lengths)}")
    decimals = validation.as_int("decimals", decimals, minimum=0, maximum=12)
    every = validation.as_int("every", every, minimum=1)
    table = pd.DataFrame({k: np.asarray(v, dtype=float) for k, v in values.items()})
    table.index = pd.RangeIndex(1, len(table) + 1, name="epoch")
    keep = sorted(set(range(0, len(table), every)) | {len(table) - 1})
    return table.iloc[keep].round(decimals)


def steps_to_target(values, target: float, *, mode: str = "below", smooth: int = 1):
    """Index (1-based count of steps or epochs) at which `values` first reaches `target`.

    values: a sequence of measurements, one per step (or epoch).
    mode: "below" (a loss or error reaching target from above) or "above" (an accuracy).
    smooth: average over a trailing window of this many values first (noisy per-batch losses).
    Returns the count, or None if the target is never reached.
    """
    values = validation.as_array("values", values, ndim=1, dtype_kind="fiu").astype(float)
    target = validation.as_float("target", target)
    validation.as_choice("mode", mode, ("below", "above"))
    smooth = validation.as_int("smooth", smooth, minimum=1)
    if smooth > 1 and len(values) >= smooth:
        cumulative = np.cumsum(np.insert(values, 0, 0.0))
        averaged = (cumulative[smooth:] - cumulative[:-smooth]) / smooth
        values = np.concatenate([np.full(smooth - 1, np.nan), averaged])
    with np.errstate(invalid="ignore"):
        hits = values <= target if mode == "below" else values >= target
    indices = np.flatnonzero(hits)
    return int(indices[0]) + 1 if len(indices) else None


def batch_loss_recorder():
    """A Keras callback that records the training loss after every batch, in `.losses`.

    recorder = training.batch_loss_recorder()
    model.fit(..., callbacks=[recorder]); training.steps_to_target(recorder.losses, 0.5)
    """
    import keras

    class BatchLossRecorder(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.losses: list[float] = []

        def on_train_batch_end(self, batch, logs=None):
            # Keras reports the running mean over the epoch; undo it to get this batch's loss.
            mean = float(logs["loss"])
            if batch == 0:
                self._sum = 0.0
            batch_loss = mean * (batch + 1) - self._sum
            self._sum = mean * (batch + 1)
            self.losses.append(batch_loss)

    return BatchLossRecorder()


class Timer:
    """Timing of a block: `with training.Timer() as t: ...; t.seconds`.

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
    if not callable(function):
        raise TypeError(f"function: expected something to call with no arguments, got {function!r}")
    repeats = validation.as_int("repeats", repeats, minimum=1)
    function()
    wall, cpu = [], []
    for _ in range(repeats):
        with Timer() as timer:
            function()
        wall.append(timer.seconds)
        cpu.append(timer.cpu_seconds)
    return min(wall), min(cpu)


def accuracy(model, x, y, *, batch_size: int = 256) -> float:
    """Top-1 accuracy of a classifier `model` on images x [N, ...] with labels y [N].

    Calls the model directly in inference mode, batch by batch, rather than `model.predict`:
    predict traces a new function for every new model, and evaluating many fresh models in a
    loop then makes TensorFlow warn about retracing.
    """
    x = validation.as_array("x", x, dtype_kind="f", min_size=1)
    y = validation.as_labels("y", y, length=len(x))
    batch_size = validation.as_int("batch_size", batch_size, minimum=1)
    correct = 0
    for start in range(0, len(x), batch_size):
        scores = np.asarray(model(x[start:start + batch_size], training=False))
        correct += int(np.sum(np.argmax(scores, axis=-1) == y[start:start + batch_size]))
    return correct / len(x)
