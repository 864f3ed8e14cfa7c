"""Training helpers that lecture cells use again and again: histories as tables, the
number of steps a run needs to reach a target, and a per-batch loss recorder."""

from __future__ import annotations

import weakref

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
            mean = float(logs["loss"])
            if batch == 0:
                self._sum = 0.0
            batch_loss = mean * (batch + 1) - self._sum
            self._sum = mean * (batch + 1)
            self.losses.append(batch_loss)

    return BatchLossRecorder()


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
        batch = x[start:start + batch_size]
        scores = np.asarray(model(batch, training=False))
        if scores.ndim != 2 or scores.shape[1] < 2 or len(scores) != len(batch):
            raise ValueError(f"model: expected outputs [N, C] of C >= 2 class scores, got shape {scores.shape} "
                             f"for {len(batch)} images")
        correct += int(np.sum(np.argmax(scores, axis=-1) == y[start:start + batch_size]))
    return correct / len(x)


# --- One compiled model, many runs ----------------------------------------------------------
# Used by notebooks 02, 03, 06, 07 and 12 to repeat a run over seeds or learning rates.

_FRESH_OPTIMIZER_STATE = weakref.WeakKeyDictionary()


def restart(model, initial, *, learning_rate: float | None = None) -> None:
    """Start a new run on a compiled `model` without tracing its training step again.

    `fit` traces the training step the first time it runs (seconds for a deep network, often
    longer than a short run itself), and a new model means a new trace. Restarting instead
    gives `model` the variables of `initial`, a model of the same architecture (for example
    built after another seed; compiled or not, only its variables are read): its weights and the seed states of its random layers
    (dropout, augmentation); and it puts the optimiser back to its state before the first step.
    The next `fit` is then the same run as compiling and fitting a model built like `initial`.
    Call it before every run, the first one included: that call records the optimiser's fresh
    state (step counter, slots and learning rate), which every later call restores.
    `learning_rate` then replaces the rate for this run (a rate given as a number is a
    variable of the traced step, so changing it needs no new trace either).
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
# Taught in: notebooks/03_normalization.ipynb (also used by 07_training_recipe and 11_googlenet).

def stacked_mlp(num_networks: int, input_dim: int, classes: int, *, depth: int, width: int = 64,
                activation: str = "relu", batch_norm: bool = False, weight_scales=None,
                heads_at=(), blocks: str | None = None, dropout: float = 0.0, name: str = "stacked_mlp"):
    """`num_networks` (K) independent multilayer perceptrons held in one Keras model.

    Every weight tensor has a leading axis of size K, and network k uses only slice k of each:
    a hidden layer is `EinsumDense("nki,kio->nko")`, and BatchNorm (batch_norm=True, before the
    activation as in Ioffe and Szegedy) keeps one mean and variance per network and unit. The input [N, input_dim] is shared; the output is [N, K, classes] softmax
    probabilities. Trained with `summed_crossentropy` (or `summed_squared_error`) and a
    per-parameter optimiser (SGD, momentum, Adam), each network gets exactly the gradient it
    would get alone on the same batches, since no weight is shared: K seeds or settings for
    the price of one traced model.

    Hidden kernels start as N(0, s_k^2) with s_k = weight_scales[k] (default: He, sqrt(2 / fan-in));
    the output layer as N(0, 1 / width). heads_at=(4, 8) adds auxiliary softmax heads after those
    hidden layers (GoogLeNet's auxiliary classifiers): the model then returns
    [main, head_1, head_2, ...], each [N, K, classes].

    blocks="residual" groups the hidden layers in pairs, x -> act(x + F(x)) with
    F = dense(act(dense(x))) (the basic block of He et al., without BN); blocks="plain" keeps
    the same layers without the addition, x -> act(F(x)). Each block has a layer named
    "block_{b}_gate" with a `gate` variable, 1 while training: set it to 0 to delete the block
    at test time (the residual branch, or for the plain net the block's second layer, whose
    input then passes through). Deleting blocks is Veit et al.'s (2016) experiment.

    dropout=0.5 adds `Dropout(0.5)` after every hidden activation; its masks are drawn
    element by element, so each network gets its own.
    """
    import keras

    num_networks = validation.as_int("num_networks", num_networks, minimum=1)
    depth = validation.as_int("depth", depth, minimum=1)
    if weight_scales is None:
        weight_scales = [np.sqrt(2 / width)] * num_networks
    weight_scales = np.asarray(weight_scales, dtype=np.float32)
    if weight_scales.shape != (num_networks,):
        raise ValueError(f"weight_scales: expected {num_networks} values, got shape {weight_scales.shape}")

    def dense(units, scale):
        return keras.layers.EinsumDense("nki,kio->nko", output_shape=(num_networks, units),
                                        bias_axes=None if batch_norm else "ko",
                                        kernel_initializer=keras.initializers.RandomNormal(stddev=scale))

    inputs = keras.Input((input_dim,))
    x = keras.layers.RepeatVector(num_networks)(inputs)           # [N, K, input_dim]
    hidden, heads = [], []
    block_input = None
    for index in range(1, depth + 1):
        layer = dense(width, 1.0)
        hidden.append(layer)
        if blocks and index % 2 == 1:
            block_input = x
        x = layer(x)
        if batch_norm:   # one mean and variance per network and unit: normalise [N, K * width]
            x = keras.layers.Reshape((num_networks * width,))(x)
            x = keras.layers.BatchNormalization()(x)
            x = keras.layers.Reshape((num_networks, width))(x)
        if blocks and index % 2 == 0:
            x = _Gate(blocks == "residual", name=f"block_{index // 2}_gate")([block_input if blocks == "residual" else previous, x])
        previous = x = keras.layers.Activation(activation)(x)
        if dropout:
            x = keras.layers.Dropout(dropout)(x)
        if index in heads_at:
            heads.append(keras.layers.EinsumDense("nki,kio->nko", output_shape=(num_networks, classes),
                                                  bias_axes="ko", activation="softmax",
                                                  kernel_initializer=keras.initializers.RandomNormal(
                                                      stddev=np.sqrt(1 / width)))(x))
    outputs = keras.layers.EinsumDense("nki,kio->nko", output_shape=(num_networks, classes), bias_axes="ko",
                                       activation="softmax",
                                       kernel_initializer=keras.initializers.RandomNormal(stddev=np.sqrt(1 / width)))(x)
    model = keras.Model(inputs, [outputs, *heads] if heads else outputs, name=name)
    for layer in hidden:   # unit-variance draws, scaled per network
        layer.kernel.assign(layer.kernel * weight_scales[:, None, None])
    return model


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


def _Gate(residual, name):
    return _gate_class()(residual, name=name)


def _labels_per_network(y_true, y_pred):
    from keras import ops

    labels = ops.cast(ops.reshape(y_true, (-1, 1)), "int32")
    return ops.broadcast_to(labels, ops.shape(y_pred)[:2])


def summed_crossentropy(y_true, y_pred):
    """Loss for `stacked_mlp` models: labels [N], probabilities [N, K, C] -> [N], the sum over
    the K networks of each one's cross-entropy."""
    import keras
    from keras import ops

    labels = _labels_per_network(y_true, y_pred)
    return ops.sum(keras.losses.sparse_categorical_crossentropy(labels, y_pred), axis=1)


def summed_squared_error(y_true, y_pred):
    """Loss for `stacked_mlp` models: labels [N], probabilities [N, K, C] -> [N], the sum over
    the K networks of each one's squared error to the one-hot label (the "L2 loss" of slide 56)."""
    from keras import ops

    one_hot = ops.one_hot(_labels_per_network(y_true, y_pred), ops.shape(y_pred)[-1])
    return ops.sum(ops.sum(ops.square(y_pred - one_hot), axis=-1), axis=1)


def per_network(model, x, y, *, batch_size: int = 512, training: bool = False) -> dict:
    """Cross-entropy and accuracy of each network of a `stacked_mlp` model on (x, y).

    Returns {"loss": [K], "accuracy": [K]} as NumPy arrays, batch by batch, in inference mode;
    `training=True` uses BatchNorm's batch statistics instead (the loss the optimiser sees),
    without changing any weight or moving statistic."""
    x = validation.as_array("x", x, dtype_kind="f", min_size=1)
    y = validation.as_labels("y", y, length=len(x))
    batch_size = validation.as_int("batch_size", batch_size, minimum=1)
    if not isinstance(training, (bool, np.bool_)):
        raise TypeError(f"training: expected a bool, got {type(training).__name__}")
    if training:
        # Keras updates BatchNorm's moving statistics on a training-mode call: keep them.
        saved = [np.array(weight) for weight in model.non_trainable_weights]
    def main_output(batch):   # models with auxiliary heads return [main, head_1, ...]
        output = model(batch, training=bool(training))
        return np.asarray(output[0] if isinstance(output, (list, tuple)) else output)

    probabilities = np.concatenate([main_output(x[start:start + batch_size])
                                    for start in range(0, len(x), batch_size)])
    if probabilities.ndim != 3:
        raise ValueError(f"model: expected outputs [N, K, C] from training.stacked_mlp, got shape {probabilities.shape}")
    if training:
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
