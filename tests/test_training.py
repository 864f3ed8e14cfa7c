import numpy as np
import pytest

import utils
from utils import training


def test_history_table_rounds_and_indexes_epochs():
    table = training.history_table({"loss": [1.23456, 0.5], "accuracy": [0.1, 0.9]}, decimals=2)
    assert list(table.index) == [1, 2] and table.index.name == "epoch"
    assert table.loc[1, "loss"] == 1.23


def test_history_table_every_keeps_last():
    table = training.history_table({"loss": list(range(10))}, every=4)
    assert list(table.index) == [1, 5, 9, 10]


def test_history_table_errors():
    with pytest.raises(TypeError, match="history"):
        training.history_table([1, 2])
    with pytest.raises(ValueError, match="equal length"):
        training.history_table({"loss": [1, 2], "val_loss": [1]})


def test_steps_to_target():
    assert training.steps_to_target([3, 2, 1, 0.5], 1.0) == 3
    assert training.steps_to_target([0.1, 0.5, 0.9], 0.8, mode="above") == 3
    assert training.steps_to_target([3, 2, 2], 1.0) is None
    with pytest.raises(ValueError, match="mode"):
        training.steps_to_target([1.0], 0.5, mode="up")
    with pytest.raises(ValueError, match="values"):
        training.steps_to_target(np.zeros((2, 2)), 0.5)


def test_batch_loss_recorder_recovers_per_batch_losses():
    import keras

    import utils

    utils.set_seed(0)
    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    y = x @ np.array([[1.0], [2.0], [-1.0]], dtype="float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    recorder = training.batch_loss_recorder()
    model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0, callbacks=[recorder])
    assert len(recorder.losses) == 8
    # the per-batch losses average back to the epoch loss Keras reports
    history = model.history.history["loss"]
    np.testing.assert_allclose(np.mean(recorder.losses[4:]), history[-1], rtol=1e-4)


def test_accuracy_and_timer():
    class Fixed:
        def __call__(self, x, training):
            assert training is False
            return np.eye(3)[[0, 1, 2, 0]][: len(x)]

    assert training.accuracy(Fixed(), np.zeros((4, 2), "float32"), np.array([0, 1, 1, 0])) == 0.75
    with pytest.raises(ValueError, match="y: expected 4 labels"):
        training.accuracy(Fixed(), np.zeros((4, 2), "float32"), np.array([0, 1]))


# --- stacked_mlp: K networks in one model train exactly as K separate Keras networks ---------

def _separate_copy(stacked, k, depth, width, activation):
    """Network k of a stacked_mlp, as a plain Keras MLP with the same weights."""
    import keras

    layers = [layer for layer in stacked.layers if isinstance(layer, keras.layers.EinsumDense)]
    inputs = keras.Input((layers[0].kernel.shape[1],))
    x = inputs
    dense_layers = []
    for index, layer in enumerate(layers):
        last = index == len(layers) - 1
        dense = keras.layers.Dense(layer.kernel.shape[2], activation="softmax" if last else activation)
        x = dense(x)
        dense.kernel.assign(layer.kernel[k])
        dense.bias.assign(layer.bias[k])
        dense_layers.append(dense)
    return keras.Model(inputs, x), dense_layers


def test_stacked_mlp_trains_each_network_as_if_alone():
    import keras

    from utils import training

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 6)).astype(np.float32), rng.integers(0, 3, 32)
    utils.set_seed(0)
    stacked = training.stacked_mlp(3, 6, 3, depth=2, width=5, weight_scales=[0.1, 1.0, 10.0])
    copies = [_separate_copy(stacked, k, 2, 5, "relu") for k in range(3)]
    probabilities = np.asarray(stacked(x))
    for k, (copy, _) in enumerate(copies):
        np.testing.assert_allclose(probabilities[:, k], np.asarray(copy(x)), rtol=1e-5, atol=1e-6)
    stacked.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), loss=training.summed_crossentropy)
    stacked.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    einsum = [layer for layer in stacked.layers if isinstance(layer, keras.layers.EinsumDense)]
    for k, (copy, dense_layers) in enumerate(copies):
        copy.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), loss="sparse_categorical_crossentropy")
        copy.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
        for stacked_layer, dense in zip(einsum, dense_layers):
            np.testing.assert_allclose(np.asarray(stacked_layer.kernel[k]), np.asarray(dense.kernel), rtol=1e-4, atol=1e-5)
    losses = training.per_network(stacked, x, y)["loss"]
    expected = [float(keras.losses.sparse_categorical_crossentropy(y, copy(x)).numpy().mean()) for copy, _ in copies]
    np.testing.assert_allclose(losses, expected, rtol=1e-4)


def test_stacked_mlp_squared_error_and_gates():
    from utils import training

    y = np.array([0, 2])
    probabilities = np.array([[[0.7, 0.2, 0.1], [1 / 3, 1 / 3, 1 / 3]], [[0.1, 0.1, 0.8], [0.0, 0.0, 1.0]]], np.float32)
    expected = [(0.3 ** 2 + 0.2 ** 2 + 0.1 ** 2) + (4 / 9 + 1 / 9 + 1 / 9), (0.01 + 0.01 + 0.04) + 0.0]
    np.testing.assert_allclose(np.asarray(training.summed_squared_error(y, probabilities)), expected, rtol=1e-5)
    utils.set_seed(0)
    model = training.stacked_mlp(2, 4, 3, depth=4, width=4, blocks="residual")
    x = np.random.default_rng(1).normal(size=(5, 4)).astype(np.float32)
    before = np.asarray(model(x))
    gate = model.get_layer("block_2_gate").gate
    gate.assign(0.0)
    assert not np.allclose(np.asarray(model(x)), before)
    gate.assign(1.0)
    np.testing.assert_allclose(np.asarray(model(x)), before)


def test_recompute_batchnorm_statistics_equals_the_batch_statistics():
    import keras

    from utils import training

    images = np.random.default_rng(2).normal(3.0, 2.0, size=(64, 4, 4, 2)).astype(np.float32)
    inputs = keras.Input((4, 4, 2))
    model = keras.Model(inputs, keras.layers.BatchNormalization()(inputs))
    training.recompute_batchnorm_statistics(model, images)
    layer = model.layers[-1]
    np.testing.assert_allclose(np.asarray(layer.moving_mean), images.mean(axis=(0, 1, 2)), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(layer.moving_variance), images.var(axis=(0, 1, 2)), rtol=1e-4)
    assert layer.momentum == 0.99
    with pytest.raises(ValueError, match="images"):
        training.recompute_batchnorm_statistics(model, np.zeros((0, 4, 4, 2), np.float32))


def test_stacked_mlp_dropout_is_per_network_and_off_at_inference():
    import keras

    x = np.random.default_rng(0).standard_normal((64, 5)).astype(np.float32)
    utils.set_seed(0)
    with_dropout = training.stacked_mlp(3, 5, 4, depth=2, width=16, dropout=0.5)
    without = training.stacked_mlp(3, 5, 4, depth=2, width=16)
    without.set_weights(with_dropout.get_weights())
    assert sum(isinstance(layer, keras.layers.Dropout) for layer in with_dropout.layers) == 2
    np.testing.assert_allclose(with_dropout(x, training=False), without(x, training=False), rtol=1e-6)
    # In training, each network (and each unit) draws its own mask: outputs differ between networks
    # that share their weights.
    with_dropout.set_weights([np.repeat(w[:1], 3, axis=0) if w.ndim and w.shape[0] == 3 else w
                              for w in with_dropout.get_weights()])
    outputs = np.asarray(with_dropout(x, training=True))
    assert not np.allclose(outputs[:, 0], outputs[:, 1])
    inference = np.asarray(with_dropout(x, training=False))
    np.testing.assert_allclose(inference[:, 0], inference[:, 1], rtol=1e-6)


def _small_bn_network(seed):
    import keras
    utils.set_seed(seed)
    inputs = keras.Input((6,))
    x = keras.layers.Dense(8)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.Dropout(0.3)(x)          # its masks must follow the seed too
    return keras.Model(inputs, keras.layers.Dense(3)(x))


@pytest.mark.parametrize("optimizer", ["sgd_momentum", "adam"])
def test_restart_is_the_same_run_as_a_fresh_model(optimizer):
    """A restarted model (trained on another seed before) ends a run with the weights, BatchNorm
    statistics, dropout masks (hence losses) of a model built, compiled and fitted afresh after
    the same seed."""
    import keras
    make = {"sgd_momentum": lambda: keras.optimizers.SGD(0.1, momentum=0.9),
            "adam": lambda: keras.optimizers.Adam(0.01)}[optimizer]
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 6)).astype("float32"), rng.integers(0, 3, 40)

    def run(model, seed):
        utils.set_seed(seed)
        return model.fit(x, y, epochs=3, batch_size=8, verbose=0).history["loss"]

    reused = _small_bn_network(0)
    reused.compile(optimizer=make(), loss="sparse_categorical_crossentropy")
    for seed in (0, 1):
        training.restart(reused, _small_bn_network(seed))
        reused_losses = run(reused, seed)
        fresh = _small_bn_network(seed)
        fresh.compile(optimizer=make(), loss="sparse_categorical_crossentropy")
        fresh_losses = run(fresh, seed)
        np.testing.assert_allclose(reused_losses, fresh_losses, rtol=1e-5)
        for a, b in zip(reused.weights, fresh.weights):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    assert int(reused.optimizer.iterations) == int(fresh.optimizer.iterations) == 15


def test_restart_errors():
    import keras
    uncompiled = _small_bn_network(0)
    with pytest.raises(ValueError, match="model: compile"):
        training.restart(uncompiled, _small_bn_network(1))
    model = _small_bn_network(0)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    other = keras.Sequential([keras.Input((6,)), keras.layers.Dense(3)])
    with pytest.raises(ValueError, match="initial: expected"):
        training.restart(model, other)
    model.fit(np.zeros((4, 6), "float32"), np.zeros(4, int), verbose=0)
    with pytest.raises(ValueError, match="fresh state is lost"):
        training.restart(model, _small_bn_network(1))


def test_restart_with_a_learning_rate_is_a_fresh_run_at_that_rate():
    import keras
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(40, 6)).astype("float32"), rng.integers(0, 3, 40)
    reused = _small_bn_network(0)
    reused.compile(optimizer=keras.optimizers.SGD(0.5, momentum=0.9), loss="sparse_categorical_crossentropy")
    for learning_rate in (0.5, 0.01):
        utils.set_seed(3)
        training.restart(reused, _small_bn_network(3), learning_rate=learning_rate)
        reused_losses = reused.fit(x, y, epochs=2, batch_size=8, verbose=0).history["loss"]
        fresh = _small_bn_network(3)
        fresh.compile(optimizer=keras.optimizers.SGD(learning_rate, momentum=0.9), loss="sparse_categorical_crossentropy")
        utils.set_seed(3)
        np.testing.assert_allclose(reused_losses, fresh.fit(x, y, epochs=2, batch_size=8, verbose=0).history["loss"],
                                   rtol=1e-5)
