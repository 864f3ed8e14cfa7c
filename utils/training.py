"""Training helpers that lecture cells use again and again: histories as tables, steps to a
target, a per-batch loss recorder, accuracy, restarting a compiled model, and stacked MLPs."""

from __future__ import annotations

import functools
import weakref

import numpy as np

from utils import validation


def metric_lists(history, name: str = "history") -> dict:
    """The dict metric -> list of values of a Keras History (a dict given is returned as it is)."""
    values = history.history if hasattr(history, "history") else history
    if not isinstance(values, dict) or not values:
        raise TypeError(f"{name}: expected a keras History or a non-empty dict of metric lists, "
                        f"got {type(history).__name__}")
    return values


def history_table(history, *, decimals: int = 4, every: int = 1):
    """A Keras History (or dict metric -> list) as a pandas DataFrame, one row per epoch.

    decimals: rounding, so the table is stable across runs and readable on a slide.
    every: keep every n-th epoch (and always the last).
    """
    import pandas as pd

    values = metric_lists(history)
    lengths = {len(v) for v in values.values()}
    if len(lengths) != 1:
        raise ValueError(f"history: expected metrics of equal length, got lengths {sorted(lengths)}")
    decimals = validation.as_int("decimals", decimals, minimum=0, maximum=12)
    every = validation.as_int("every", every, minimum=1)
    table = pd.DataFrame({k: np.asarray(v, dtype=float) for k, v in values.items()})
    table.index = pd.RangeIndex(1, len(table) + 1, name="epoch")
    keep = sorted(set(range(0, len(table), every)) | {len(table) - 1})
    return table.iloc[keep].round(decimals)


def steps_to_target(values, target: float, *, mode: str = "below"):
    """Index (1-based count of steps or epochs) at which `values` first reaches `target`.

    values: a sequence of measurements, one per step (or epoch).
    mode: "below" (a loss or error reaching target from above) or "above" (an accuracy).
    Returns the count, or None if the target is never reached.
    """
    values = validation.as_array("values", values, ndim=1, dtype_kind="fiu").astype(float)
    target = validation.as_float("target", target)
    validation.as_choice("mode", mode, ("below", "above"))
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
            total = float(logs["loss"]) * (batch + 1)
            self.losses.append(total - (self._total if batch else 0.0))
            self._total = total

    return BatchLossRecorder()


def accuracy(model, x, y) -> float:
    """Top-1 accuracy of a classifier `model` on images x [N, ...] with labels y [N].

    Calls the model in inference mode, 256 images at a time: `model.predict` would trace a new
    function for every fresh model (and TensorFlow would warn about retracing).
    """
    x = validation.as_array("x", x, dtype_kind="f", min_size=1)
    y = validation.as_labels("y", y, length=len(x))
    correct = 0
    for start in range(0, len(x), 256):
        batch = x[start:start + 256]
        scores = np.asarray(model(batch, training=False))
        if scores.ndim != 2 or scores.shape[1] < 2 or len(scores) != len(batch):
            raise ValueError(f"model: expected outputs [N, C] of C >= 2 class scores, got shape {scores.shape} "
                             f"for {len(batch)} images")
        correct += int(np.sum(np.argmax(scores, axis=-1) == y[start:start + 256]))
    return correct / len(x)


# --- One compiled model, many runs ----------------------------------------------------------
# Used by notebooks 02-07, 09 and 10 to repeat a run over seeds or learning rates.

_FRESH_OPTIMIZER_STATE = weakref.WeakKeyDictionary()


def restart(model, initial, *, learning_rate: float | None = None) -> None:
    """Start a new run on a compiled `model` without tracing its training step again.

    `model` takes the variables of `initial` (same architecture, e.g. built after another seed):
    weights and random layers' seed states. The optimiser goes back to its state before the
    first step, which the first call records: call it before every run, the first included.
    The next `fit` is then the run of `initial` compiled and fitted. `learning_rate` replaces
    the rate for this run (a variable of the traced step: no new trace either).
    """
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        raise ValueError("model: compile it before restarting it")
    if len(initial.variables) != len(model.variables) or any(
            tuple(a.shape) != tuple(b.shape) for a, b in zip(initial.variables, model.variables)):
        raise ValueError("initial: expected a model with the same weights (shapes) as `model`")
    if optimizer not in _FRESH_OPTIMIZER_STATE:
        if optimizer.built and int(optimizer.iterations) > 0:
            raise ValueError("model: it was trained before its first restart, so its optimiser's fresh state is lost")
        optimizer.build(model.trainable_variables)
        _FRESH_OPTIMIZER_STATE[optimizer] = [variable.numpy() for variable in optimizer.variables]
    for variable, value in zip(model.variables, initial.variables):   # weights, and random layers' seed states
        variable.assign(value)
    for variable, value in zip(optimizer.variables, _FRESH_OPTIMIZER_STATE[optimizer]):
        variable.assign(value)
    if learning_rate is not None:
        optimizer.learning_rate = validation.as_float("learning_rate", learning_rate, minimum=0.0)


# --- Several networks trained as one model ------------------------------------------------
# Taught in: notebooks/03_normalization.ipynb (also used by 06, 07, 08, 11 and 12).

def stacked_mlp(num_networks: int, input_dim: int, classes: int, *, depth: int, width: int = 64,
                activation: str = "relu", batch_norm: bool = False, weight_scales=None,
                heads_at=(), blocks: str | None = None, dropout: float = 0.0):
    """`num_networks` (K) independent multilayer perceptrons held in one Keras model: the input
    [N, input_dim] is shared, the output is [N, K, classes] softmax probabilities.

    Every weight tensor has a leading axis of size K, and network k uses only slice k of each:
    a hidden layer is `EinsumDense("nki,kio->nko")`, and BatchNorm (batch_norm=True, before the
    activation as in Ioffe and Szegedy) keeps one mean and variance per network and unit. No
    weight is shared, so with `summed_crossentropy` (or `summed_squared_error`) and a
    per-parameter optimiser (SGD, momentum, Adam) each network trains exactly as it would alone
    on the same batches: K seeds or settings for the price of one traced model.

    Hidden kernels start as N(0, s_k^2) with s_k = weight_scales[k] (default: He, sqrt(2 / fan-in));
    the output layer as N(0, 1 / width). heads_at=(4, 8) adds auxiliary softmax heads (GoogLeNet's)
    after those hidden layers: the model then returns [main, head_1, ...], each [N, K, classes].

    blocks="residual" groups the hidden layers in pairs, x -> act(x + F(x)) with
    F = dense(act(dense(x))) (He et al.'s basic block, without BN); blocks="plain" drops the
    addition, x -> act(F(x)). Block b's layer "block_{b}_gate" holds a `gate` variable, 1 in
    training: set it to 0 to delete the block at test time (the residual branch, or in the plain
    net the block's second layer, whose input then passes through), Veit et al.'s (2016) experiment.

    dropout=0.5 adds `Dropout(0.5)` after every hidden activation, with masks drawn element by
    element, so each network gets its own.
    """
    import keras

    if weight_scales is None:
        weight_scales = [np.sqrt(2 / width)] * num_networks

    def dense(units, stddev, **options):   # [N, K, fan-in] -> [N, K, units]
        return keras.layers.EinsumDense("nki,kio->nko", output_shape=(num_networks, units),
                                        kernel_initializer=keras.initializers.RandomNormal(stddev=stddev), **options)

    def softmax_head(x):
        return dense(classes, np.sqrt(1 / width), bias_axes="ko", activation="softmax")(x)

    inputs = keras.Input((input_dim,))
    x = keras.layers.RepeatVector(num_networks)(inputs)           # [N, K, input_dim]
    hidden, heads = [], []
    for index in range(1, depth + 1):
        layer = dense(width, 1.0, bias_axes=None if batch_norm else "ko")
        hidden.append(layer)
        if blocks and index % 2 == 1:
            block_input = x
        x = layer(x)
        if batch_norm:   # one mean and variance per network and unit: normalise [N, K * width]
            x = keras.layers.Reshape((num_networks * width,))(x)
            x = keras.layers.BatchNormalization()(x)
            x = keras.layers.Reshape((num_networks, width))(x)
        if blocks and index % 2 == 0:
            residual = blocks == "residual"
            gate = _gate_class()(residual, name=f"block_{index // 2}_gate")
            x = gate([block_input if residual else previous, x])
        previous = x = keras.layers.Activation(activation)(x)
        if dropout:
            x = keras.layers.Dropout(dropout)(x)
        if index in heads_at:
            heads.append(softmax_head(x))
    outputs = softmax_head(x)
    model = keras.Model(inputs, [outputs, *heads] if heads else outputs, name="stacked_mlp")
    scales = np.asarray(weight_scales, dtype=np.float32)[:, None, None]
    for layer in hidden:   # unit-variance draws, scaled per network
        layer.kernel.assign(layer.kernel * scales)
    return model


@functools.cache
def _gate_class():
    import keras

    class Gate(keras.layers.Layer):
        """[a, branch] -> a + g * branch (residual) or g * branch + (1 - g) * a (plain); g = 1 in training."""

        def __init__(self, residual, **kwargs):
            super().__init__(**kwargs)
            self.residual = residual

        def build(self, input_shape):
            self.gate = self.add_weight(shape=(), initializer="ones", trainable=False, name="gate")

        def call(self, inputs):
            a, branch = inputs
            return a + self.gate * branch if self.residual else self.gate * branch + (1 - self.gate) * a

    return Gate


def _labels_per_network(y_true, y_pred):
    from keras import ops

    labels = ops.cast(ops.reshape(y_true, (-1, 1)), "int32")
    return ops.broadcast_to(labels, ops.shape(y_pred)[:2])


def summed_crossentropy(y_true, y_pred):
    """Loss for `stacked_mlp` models: labels [N], probabilities [N, K, C] -> [N], the sum over
    the K networks of each one's cross-entropy."""
    import keras
    from keras import ops

    return ops.sum(keras.losses.sparse_categorical_crossentropy(_labels_per_network(y_true, y_pred), y_pred), axis=1)


def summed_squared_error(y_true, y_pred):
    """Loss for `stacked_mlp` models: labels [N], probabilities [N, K, C] -> [N], the sum over
    the K networks of each one's squared error to the one-hot label (the "L2 loss" of slide 56)."""
    from keras import ops

    one_hot = ops.one_hot(_labels_per_network(y_true, y_pred), ops.shape(y_pred)[-1])
    return ops.sum(ops.sum(ops.square(y_pred - one_hot), axis=-1), axis=1)


def per_network(model, x, y, *, training: bool = False) -> dict:
    """Cross-entropy and accuracy of each network of a `stacked_mlp` model on (x, y).

    Returns {"loss": [K], "accuracy": [K]} (NumPy), in inference mode; `training=True` uses
    BatchNorm's batch statistics (the loss the optimiser sees), changing no weight or statistic."""
    x = validation.as_array("x", x, dtype_kind="f", min_size=1)
    y = validation.as_labels("y", y, length=len(x))
    training = validation.as_bool("training", training)
    # Keras updates BatchNorm's moving statistics on a training-mode call: keep them.
    saved = [np.array(weight) for weight in model.non_trainable_weights] if training else []
    batches = []
    for start in range(0, len(x), 512):
        output = model(x[start:start + 512], training=training)   # with auxiliary heads: [main, head_1, ...]
        batches.append(np.asarray(output[0] if isinstance(output, (list, tuple)) else output))
    probabilities = np.concatenate(batches)
    if probabilities.ndim != 3:
        raise ValueError(f"model: expected outputs [N, K, C] of training.stacked_mlp, got shape {probabilities.shape}")
    for weight, value in zip(model.non_trainable_weights, saved):
        weight.assign(value)
    picked = np.take_along_axis(probabilities, y[:, None, None].astype(np.int64), axis=2)[..., 0]
    loss = -np.log(np.clip(picked.astype(np.float64), 1e-12, None)).mean(axis=0)
    accuracy = (probabilities.argmax(axis=-1) == y[:, None]).mean(axis=0)
    return {"loss": loss, "accuracy": accuracy}


def recompute_batchnorm_statistics(model, images) -> None:
    """Set every BatchNorm layer's moving mean and variance to the statistics of `images`.

    After a short training run the moving averages (momentum 0.99) still hold much of their
    initial values (mean 0, variance 1), and inference-mode outputs are off. This replaces them
    by the statistics of one pass over `images` in training mode; no weight changes.
    Taught in: notebooks/03_normalization.ipynb (also used by 12_resnet).
    """
    import keras

    images = validation.as_array("images", images, dtype_kind="f", min_size=1)
    layers = [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.BatchNormalization)]
    momenta = [layer.momentum for layer in layers]
    for layer in layers:
        layer.momentum = 0.0
    try:
        model(images, training=True)
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum
