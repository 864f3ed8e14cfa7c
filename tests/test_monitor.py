"""utils.monitor: the update / weight ratio callback against a GradientTape step."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import utils
from utils import monitor


def _model():
    inputs = keras.Input((6,))
    hidden = keras.layers.Dense(5, activation="tanh", name="hidden")(inputs)
    outputs = keras.layers.Dense(3, name="output")(hidden)
    return keras.Model(inputs, outputs)


def test_update_ratio_equals_learning_rate_times_gradient_over_weights():
    utils.set_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 6)).astype(np.float32)
    y = rng.integers(0, 3, size=16)
    model = _model()
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    learning_rate = 0.05
    # reference: plain SGD moves W by learning_rate * gradient, so the ratio is
    # learning_rate * ||g|| / ||W||, with the gradient from tf.GradientTape
    with tf.GradientTape() as tape:
        value = loss(y, model(x, training=True))
    kernels = [model.get_layer("hidden").kernel, model.get_layer("output").kernel]
    gradients = tape.gradient(value, kernels)
    expected = [learning_rate * np.linalg.norm(g) / np.linalg.norm(w.numpy())
                for g, w in zip(gradients, kernels)]

    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss=loss)
    ratios = monitor.UpdateRatio()
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0, callbacks=[ratios])
    assert list(ratios.ratios) == ["hidden", "output"]
    np.testing.assert_allclose([ratios.ratios["hidden"][0], ratios.ratios["output"][0]], expected,
                               rtol=1e-4)


def test_update_ratio_table():
    utils.set_seed(1)
    x = np.random.default_rng(1).normal(size=(64, 6)).astype(np.float32)
    y = np.arange(64) % 3
    model = _model()
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    ratios = monitor.UpdateRatio()
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[ratios])  # 16 steps
    assert all(len(values) == 16 for values in ratios.ratios.values())
    table = ratios.table()
    assert list(table.index) == ["hidden", "output"]
    assert list(table.columns) == ["median", "min", "max"]
    assert np.all(table["min"] <= table["median"]) and np.all(table["median"] <= table["max"])
    assert np.all(table["median"] > 0)


def test_update_ratio_table_before_fit():
    with pytest.raises(ValueError, match="no ratios"):
        monitor.UpdateRatio().table()
