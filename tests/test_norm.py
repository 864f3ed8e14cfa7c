"""utils.norm against TensorFlow and Keras (LRN, the LRN layer), and notebook 03's own batch norm
(training and inference) and group norm against Keras."""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from tools.saved_cells import definitions  # noqa: E402
from utils import norm  # noqa: E402

notebook = definitions("notebooks/03_normalization.ipynb", "batch_norm", "batch_norm_inference",
                       "update_moving_statistics", "group_norm")


def test_lrn_equals_tensorflow_on_random_cases():
    rng = np.random.default_rng(0)
    for _ in range(40):
        shape = tuple(int(v) for v in rng.integers(1, 6, size=3)) + (int(rng.integers(1, 20)),)
        a = (rng.standard_normal(shape) * rng.uniform(0.1, 20)).astype(np.float32)
        n = int(rng.integers(1, 10))
        k, alpha, beta = float(rng.uniform(0.5, 3)), float(10 ** rng.uniform(-5, -1)), float(rng.uniform(0.25, 1))
        got = norm.local_response_normalization(a, n=n, k=k, alpha=alpha, beta=beta)
        expected = tf.nn.local_response_normalization(a, **norm.lrn_tensorflow_parameters(n, k, alpha, beta)).numpy()
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_lrn_defaults_are_alexnet_and_the_formula_holds_at_one_pixel():
    a = np.random.default_rng(1).standard_normal((1, 1, 1, 8)).astype(np.float64) * 30
    got = norm.local_response_normalization(a)
    channel = 0  # window clipped at the edge: channels 0..2
    expected = a[0, 0, 0, 0] / (2.0 + 1e-4 * np.sum(a[0, 0, 0, 0:3] ** 2)) ** 0.75
    assert got[0, 0, 0, channel] == pytest.approx(expected, rel=1e-12)
    expected = a[0, 0, 0, 4] / (2.0 + 1e-4 * np.sum(a[0, 0, 0, 2:7] ** 2)) ** 0.75
    assert got[0, 0, 0, 4] == pytest.approx(expected, rel=1e-12)


def test_pytorch_mapping_divides_alpha_by_n():
    assert norm.lrn_pytorch_parameters(5, 2.0, 1e-4, 0.75) == {"size": 5, "alpha": 5e-4, "beta": 0.75, "k": 2.0}
    assert norm.lrn_tensorflow_parameters(5, 2.0, 1e-4, 0.75) == {"depth_radius": 2, "bias": 2.0, "alpha": 1e-4,
                                                                   "beta": 0.75}
    with pytest.raises(ValueError, match="odd"):
        norm.lrn_pytorch_parameters(4)


def test_lrn_layer_matches_the_function_and_survives_saving(tmp_path):
    inputs = keras.Input((6, 6, 12))
    outputs = norm.LocalResponseNormalization(n=3, k=1.0, alpha=1e-2, beta=0.5)(keras.layers.Conv2D(12, 3)(inputs))
    model = keras.Model(inputs, outputs)
    x = np.random.default_rng(2).standard_normal((2, 6, 6, 12)).astype(np.float32)
    features = keras.Model(inputs, model.layers[1].output)(x).numpy()
    expected = norm.local_response_normalization(features, n=3, k=1.0, alpha=1e-2, beta=0.5)
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-5, atol=1e-6)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), rtol=1e-6)
    layer = loaded.layers[-1]
    assert isinstance(layer, norm.LocalResponseNormalization)
    assert (layer.n, layer.k, layer.alpha, layer.beta) == (3, 1.0, 1e-2, 0.5)
    clone = norm.LocalResponseNormalization.from_config(layer.get_config())
    assert clone.get_config()["n"] == 3


def test_lrn_layer_trains_and_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n"):
        norm.LocalResponseNormalization(n=0)
    with pytest.raises(TypeError, match="n"):
        norm.LocalResponseNormalization(n=2.5)
    with pytest.raises(ValueError, match="NHWC"):
        norm.LocalResponseNormalization()(keras.Input((5, 3)))
    inputs = keras.Input((4, 4, 3))
    outputs = keras.layers.Dense(1)(keras.layers.Flatten()(norm.LocalResponseNormalization()(inputs)))
    model = keras.Model(inputs, outputs)
    model.compile("sgd", "mse")
    model.fit(np.ones((4, 4, 4, 3), np.float32), np.ones((4, 1), np.float32), verbose=0)


def _keras_batch_norm(x, gamma, beta, mean, variance, training, momentum=0.99):
    layer = keras.layers.BatchNormalization(epsilon=1e-3, momentum=momentum)
    layer.build(x.shape)
    layer.set_weights([gamma, beta, mean, variance])
    out = layer(x, training=training).numpy()
    return out, layer.moving_mean.numpy(), layer.moving_variance.numpy()


def test_batch_norm_equals_keras_in_training_and_inference():
    rng = np.random.default_rng(3)
    for _ in range(25):
        channels = int(rng.integers(1, 9))
        shape = (int(rng.integers(2, 9)),) + tuple(int(v) for v in rng.integers(1, 6, size=int(rng.integers(0, 3)))) + (channels,)
        x = (rng.standard_normal(shape) * rng.uniform(0.1, 10) + rng.uniform(-5, 5)).astype(np.float32)
        gamma = rng.uniform(0.5, 2, channels).astype(np.float32)
        beta = rng.standard_normal(channels).astype(np.float32)
        moving_mean = rng.standard_normal(channels).astype(np.float32)
        moving_variance = rng.uniform(0.5, 2, channels).astype(np.float32)
        expected, new_mean, new_variance = _keras_batch_norm(x, gamma, beta, moving_mean, moving_variance, True)
        y, mean, variance = notebook.batch_norm(x, gamma, beta, return_statistics=True)
        np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-4)
        assert mean.shape == variance.shape == (channels,)
        got_mean, got_variance = notebook.update_moving_statistics(moving_mean, moving_variance, mean, variance, 0.99)
        np.testing.assert_allclose(got_mean, new_mean, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(got_variance, new_variance, rtol=1e-4, atol=1e-5)
        expected, _, _ = _keras_batch_norm(x, gamma, beta, moving_mean, moving_variance, False)
        got = notebook.batch_norm_inference(x, gamma, beta, moving_mean, moving_variance)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_batch_norm_training_output_is_standardised_per_channel():
    x = np.random.default_rng(4).standard_normal((16, 5, 5, 3)) * 7 + 3
    y = notebook.batch_norm(x, np.ones(3), np.zeros(3), eps=1e-8)
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), 0, atol=1e-10)
    np.testing.assert_allclose(y.std(axis=(0, 1, 2)), 1, atol=1e-6)


@pytest.mark.parametrize("groups", [1, 2, 3, 6])
def test_group_norm_equals_keras(groups):
    rng = np.random.default_rng(groups)
    x = (rng.standard_normal((3, 5, 4, 6)) * 4 + 1).astype(np.float32)
    gamma, beta = rng.uniform(0.5, 2, 6).astype(np.float32), rng.standard_normal(6).astype(np.float32)
    layer = keras.layers.GroupNormalization(groups=groups, epsilon=1e-3)
    layer.build(x.shape)
    layer.set_weights([gamma, beta])
    np.testing.assert_allclose(notebook.group_norm(x, gamma, beta, groups), layer(x).numpy(), rtol=1e-4, atol=1e-4)
    if groups == 1:
        layer_norm = keras.layers.LayerNormalization(axis=(1, 2, 3), epsilon=1e-3)
        layer_norm.build(x.shape)
        np.testing.assert_allclose(notebook.group_norm(x, np.ones(6), np.zeros(6), 1), layer_norm(x).numpy(),
                                   rtol=1e-4, atol=1e-4)


def test_bad_inputs():
    x = np.zeros((4, 3, 3, 2), np.float32)
    with pytest.raises(ValueError, match="NHWC"):
        norm.local_response_normalization(np.zeros((3, 3, 2), np.float32))
    with pytest.raises(TypeError, match="a: expected a floating point"):
        norm.local_response_normalization(x.astype(np.int64))
    with pytest.raises(ValueError, match="n"):
        norm.local_response_normalization(x, n=0)
    with pytest.raises(ValueError, match="beta"):
        norm.local_response_normalization(x, beta=-1.0)


def _lrn_by_windows(a, n=5, k=2.0, alpha=1e-4, beta=0.75):
    """The docstring's formula, one explicit window per channel, in float64."""
    a = np.asarray(a, np.float64)
    radius, channels = n // 2, a.shape[-1]
    sums = np.stack([np.sum(a[..., max(0, i - radius):i + radius + 1] ** 2, axis=-1) for i in range(channels)], -1)
    return a / (k + alpha * sums) ** beta


def test_lrn_keeps_a_nan_inside_its_window():
    a = np.random.default_rng(2).standard_normal((2, 3, 3, 16))
    a[0, 1, 1, 0] = np.nan
    got = norm.local_response_normalization(a)
    expected = _lrn_by_windows(a)
    assert np.isnan(got[0, 1, 1]).tolist() == [True] * 3 + [False] * 13  # channels 0..2 see channel 0
    np.testing.assert_allclose(got, expected, rtol=1e-12)  # NaN where expected is NaN, equal elsewhere
    # TensorFlow's CPU kernel multiplies by a band matrix, so NaN * 0 spreads to every channel;
    # where it has no NaN, it agrees
    tf_result = tf.nn.local_response_normalization(a.astype(np.float32), depth_radius=2, bias=2.0, alpha=1e-4,
                                                   beta=0.75).numpy()
    finite = np.isfinite(tf_result)
    np.testing.assert_allclose(got[finite], tf_result[finite], rtol=1e-5)


def test_lrn_has_no_cancellation_next_to_huge_values():
    a = np.random.default_rng(3).standard_normal((1, 2, 2, 16)) * 100
    a[..., 0] = 1e10  # its square, 1e20, used to swamp the later windows' running sums
    got = norm.local_response_normalization(a)
    np.testing.assert_allclose(got, _lrn_by_windows(a), rtol=1e-12)
    expected = tf.nn.local_response_normalization(a.astype(np.float32), depth_radius=2, bias=2.0, alpha=1e-4,
                                                  beta=0.75).numpy()
    np.testing.assert_allclose(norm.local_response_normalization(a.astype(np.float32)), expected, rtol=1e-5)


def test_lrn_window_wider_than_the_channels():
    a = np.random.default_rng(4).standard_normal((1, 2, 2, 4))
    np.testing.assert_allclose(norm.local_response_normalization(a, n=10**9),  # no 10^9-channel padding
                               norm.local_response_normalization(a, n=7), rtol=1e-15)
