import time

import numpy as np
import pytest

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
    # smoothing: a single dip below target does not count
    assert training.steps_to_target([2, 0.5, 2, 0.6, 0.6, 0.6], 1.0, smooth=3) == 6
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
    assert training.accuracy(Fixed(), np.zeros((4, 2), "float32"), np.array([0, 1, 1, 0]), batch_size=4) == 0.75
    with pytest.raises(ValueError, match="y: expected 4 labels"):
        training.accuracy(Fixed(), np.zeros((4, 2), "float32"), np.array([0, 1]))
    with training.Timer() as timer:
        pass
    assert timer.seconds >= 0 and timer.cpu_seconds >= 0


def test_best_seconds_takes_the_minimum_after_a_warm_up():
    calls = []
    durations = iter([0.2, 0.03, 0.01, 0.02])  # the first call is the warm-up and is not counted

    def sleeper():
        calls.append(1)
        time.sleep(next(durations))

    wall, cpu = training.best_seconds(sleeper, repeats=3)
    assert len(calls) == 4
    assert 0.01 <= wall < 0.02  # the shortest counted call, not the 0.2 s warm-up
    assert 0 <= cpu < 0.01  # sleeping uses no CPU

    def spin():
        end = time.process_time() + 0.02
        while time.process_time() < end:
            pass

    wall, cpu = training.best_seconds(spin, repeats=2)
    assert cpu >= 0.02 and wall >= 0.015
    with pytest.raises(TypeError, match="function"):
        training.best_seconds(0.5)
    with pytest.raises(ValueError, match="repeats"):
        training.best_seconds(spin, repeats=0)
