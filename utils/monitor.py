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
    """`ratios`: layer name -> ||W_after - W_before|| / ||W_before|| at each step, of each layer's kernel
    (its first trainable weight of at least 2-D; no biases or BatchNorm parameters)."""

    def __init__(self):
        super().__init__()
        self.ratios: dict[str, list[float]] = {}

    def _kernels(self) -> dict:
        kernels = {layer.name: next((weight for weight in layer.trainable_weights if len(weight.shape) >= 2), None)
                   for layer in self.model.layers}
        return {name: kernel for name, kernel in kernels.items() if kernel is not None}

    def on_train_batch_begin(self, batch, logs=None):
        # float64, so that the norms of a diverging run's huge weights do not overflow
        self._before = {name: np.array(weight.numpy(), dtype=np.float64) for name, weight in self._kernels().items()}

    def on_train_batch_end(self, batch, logs=None):
        for name, weight in self._kernels().items():
            before = self._before[name]
            norm = np.linalg.norm(before)
            step = np.linalg.norm(weight.numpy().astype(np.float64) - before)
            self.ratios.setdefault(name, []).append(float(step / norm) if norm > 0 else float("nan"))

    def table(self):
        """A pandas DataFrame, one row per layer: median, min and max of the ratio (6 decimals)."""
        import pandas as pd

        if not self.ratios:
            raise ValueError("no ratios recorded yet: pass the callback to model.fit first")
        rows = {name: {"median": float(np.nanmedian(values)), "min": float(np.nanmin(values)),
                       "max": float(np.nanmax(values))} for name, values in self.ratios.items()}
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("layer").round(6)
