"""Watching a training run: the update / weight ratio per layer, as a Keras callback.

The lecture's rule of thumb (slide 61): the size of one step's update of a layer's weights,
relative to the size of those weights, should be around 1e-3 (between about 1e-4 and 1e-2).
Much smaller and the learning rate is too low; much larger and it is too high.

    ratios = monitor.UpdateRatio()
    model.fit(..., callbacks=[ratios])
    ratios.table()            # median ratio per layer
    ratios.ratios["dense"]    # one value per training step

Taught in: notebooks/07_training_recipe.ipynb
"""

from __future__ import annotations

import keras
import numpy as np


class UpdateRatio(keras.callbacks.Callback):
    """Records ||W_after - W_before|| / ||W_before|| for every layer's kernel, at every step.

    A "kernel" is the main weight of a layer (Dense, Conv2D, ...): its first trainable weight
    of at least 2-D. Biases and BatchNorm parameters are left out, as in the lecture's plot.
    Attribute `ratios`: a dict layer name -> list of floats, one per training step.
    """

    def __init__(self):
        super().__init__()
        self.ratios: dict[str, list[float]] = {}

    def _kernels(self) -> dict:
        kernels = {}
        for layer in self.model.layers:
            kernel = next((weight for weight in layer.trainable_weights if len(weight.shape) >= 2), None)
            if kernel is not None:
                kernels[layer.name] = kernel
        return kernels

    def on_train_batch_begin(self, batch, logs=None):
        # float64, so that the norms of a diverging run's huge weights do not overflow
        self._before = {name: np.array(weight.numpy(), dtype=np.float64) for name, weight in self._kernels().items()}

    def on_train_batch_end(self, batch, logs=None):
        for name, weight in self._kernels().items():
            before = self._before[name]
            norm = np.linalg.norm(before)
            after = weight.numpy().astype(np.float64)
            ratio = float(np.linalg.norm(after - before) / norm) if norm > 0 else float("nan")
            self.ratios.setdefault(name, []).append(ratio)

    def table(self):
        """A pandas DataFrame, one row per layer: median, min and max of the ratio (6 decimals)."""
        import pandas as pd

        if not self.ratios:
            raise ValueError("no ratios recorded yet: pass the callback to model.fit first")
        rows = {name: {"median": float(np.nanmedian(values)), "min": float(np.nanmin(values)),
                       "max": float(np.nanmax(values))} for name, values in self.ratios.items()}
        table = pd.DataFrame.from_dict(rows, orient="index")
        table.index.name = "layer"
        return table.round(6)
