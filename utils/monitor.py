"""Watching a training run: the update / weight ratio per layer, as a Keras callback.

The lecture's rule of thumb (slide 61): the size of one step's update of a layer's weights,
relative to the size of those weights, should be around 1e-3 (between about 1e-4 and 1e-2).
Much smaller and the learning rate is too low; much larger and it is too high.

    ratios = monitor.UpdateRatio()
    model.fit(..., callbacks=[ratios])
    ratios.table()            # median ratio per layer
    ratios.ratios["dense"]    # one value per recorded step

Taught in: notebooks/07_training_recipe.ipynb
"""

from __future__ import annotations

import keras
import numpy as np

from utils import validation


class UpdateRatio(keras.callbacks.Callback):
    """Records ||W_after - W_before|| / ||W_before|| for every layer's kernel, per step.

    A "kernel" is the main weight of a layer (Dense, Conv2D, ...): trainable, at least
    2-D. Biases and BatchNorm parameters are left out, as in the lecture's plot.

    every: record every n-th training step (copying the weights costs time).
    Attributes: `ratios`, a dict layer name -> list of floats, one per recorded step;
    `steps`, the global step numbers (1-based) of those records.
    """

    def __init__(self, every: int = 1):
        super().__init__()
        self.every = validation.as_int("every", every, minimum=1)
        self.ratios: dict[str, list[float]] = {}
        self.steps: list[int] = []
        self._step = 0
        self._before = None

    def _kernels(self):
        kernels = []
        for layer in self.model.layers:
            for weight in layer.trainable_weights:
                if len(weight.shape) >= 2:
                    kernels.append((layer.name, weight))
                    break
        return kernels

    def on_train_batch_begin(self, batch, logs=None):
        self._step += 1
        if self._step % self.every == 0 or self._step == 1:
            # float64, so that the norms of a diverging run's huge weights do not overflow
            self._before = [(name, np.array(weight.numpy(), dtype=np.float64))
                            for name, weight in self._kernels()]
        else:
            self._before = None

    def on_train_batch_end(self, batch, logs=None):
        if self._before is None:
            return
        current = dict((name, weight) for name, weight in self._kernels())
        for name, before in self._before:
            after = current[name].numpy().astype(np.float64)
            norm = np.linalg.norm(before)
            ratio = float(np.linalg.norm(after - before) / norm) if norm > 0 else float("nan")
            self.ratios.setdefault(name, []).append(ratio)
        self.steps.append(self._step)
        self._before = None

    def table(self, *, decimals: int = 6):
        """A pandas DataFrame, one row per layer: median, min and max of the ratio."""
        import pandas as pd

        decimals = validation.as_int("decimals", decimals, minimum=0, maximum=12)
        if not self.ratios:
            raise ValueError("no ratios recorded yet: pass the callback to model.fit first")
        rows = {name: {"median": float(np.nanmedian(values)), "min": float(np.nanmin(values)),
                       "max": float(np.nanmax(values))} for name, values in self.ratios.items()}
        table = pd.DataFrame.from_dict(rows, orient="index")
        table.index.name = "layer"
        return table.round(decimals)
