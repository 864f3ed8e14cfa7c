"""Where the parameters live and where the compute lives: a per-layer table of a Keras model,
and a scope to build full-size models for counting without allocating their weights.

Taught in: notebooks/10_vgg.ipynb (used again in 09, 11 and 12).
"""

from __future__ import annotations

import contextlib
import math

import numpy as np


def _output_shape(layer):
    try:
        output = layer.output
    except (AttributeError, ValueError):
        return None
    if isinstance(output, (list, tuple)):
        return None
    return tuple(output.shape)


def layer_macs(layer) -> int:
    """Multiply-accumulates of one layer for one image (batch size 1).

    Conv2D (and GroupedConv2D): H' * W' * k_h * k_w * (C_in / groups) * C_out (output positions times the weights
    each one uses). DepthwiseConv2D: H' * W' * k_h * k_w * C_in * depth_multiplier.
    Dense: (positions) * units_in * units_out. Every other layer counts 0 (pooling, activations,
    normalisation and additions are cheap next to these). One multiply-add is two FLOPs.
    """
    import keras

    from utils.models.layers import GroupedConv2D

    out_shape = _output_shape(layer)
    if out_shape is None or not layer.weights:
        return 0
    # An axis of unknown length (None: the number of regions of a detector head) counts once.
    positions = math.prod(int(d) for d in out_shape[1:-1] if d is not None) if len(out_shape) > 2 else 1
    if isinstance(layer, GroupedConv2D):
        return int(positions * sum(math.prod(conv.kernel.shape) for conv in layer.convolutions))
    kinds = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D, keras.layers.DepthwiseConv2D,
             keras.layers.Dense)
    return int(positions * math.prod(layer.kernel.shape)) if isinstance(layer, kinds) else 0


def _layers(model):
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.Model) and not isinstance(layer, keras.Sequential):
            yield from _layers(layer)
        else:
            yield layer


def count_macs(model) -> int:
    """Multiply-accumulates of a whole model for one image: the sum of `layer_macs`."""
    return int(sum(layer_macs(layer) for layer in _layers(model)))


def layer_table(model, *, weighted_only: bool = True):
    """A pandas DataFrame with one row per layer: name, type, output shape, parameters,
    multiply-adds (see `layer_macs`) and each layer's share of the model's parameters and MACs.

    model: a built Keras functional model. weighted_only: keep only layers that have weights
    (convolutions, dense, normalisation), which is where parameters and compute live.
    """
    import pandas as pd

    rows = []
    for layer in _layers(model):
        if weighted_only and not layer.weights:
            continue
        shape = _output_shape(layer)
        rows.append([layer.name, type(layer).__name__, "x".join(str(d) for d in shape[1:]) if shape else "",
                     int(layer.count_params()) if layer.built else 0, layer_macs(layer)])
    table = pd.DataFrame(rows, columns=["layer", "type", "output shape", "parameters", "multiply-adds"])
    for column, share in (("parameters", "% params"), ("multiply-adds", "% MACs")):
        table[share] = np.round(100 * table[column] / max(int(table[column].sum()), 1), 1)
    return table.set_index("layer")


@contextlib.contextmanager
def shapes_only():
    """Build models whose weights are never allocated, to count and inspect full-size networks.

        with models.shapes_only():
            vgg = models.vgg16()            # or keras.applications.VGG16(weights=None)
            parameters = vgg.count_params()
            table = models.layer_table(vgg)

    Inside, Keras creates every variable with its shape but defers its initial value (a
    `keras.StatelessScope` with `initialize_variables=False`), so VGG-16's 138M weights cost no
    memory (allocated, they take 553 MB, and about 1.4 GB at the peak of initialisation). On
    exit the deferred variables are dropped with `keras.backend.clear_session()`: the models
    built inside can be counted, tabulated and plotted, but never called on data.
    """
    import keras

    try:
        with keras.StatelessScope(initialize_variables=False):
            yield
    finally:
        keras.backend.clear_session()
