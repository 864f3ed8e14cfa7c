"""Normalisation layers written out in NumPy, and a Keras LRN layer.

Taught in: notebooks/03_normalization.ipynb

All arrays are NHWC (`[N, H, W, C]`, channels last, as in Keras); statistics are over every
axis but the last unless a function says otherwise.

- `local_response_normalization(a, n, k, alpha, beta)`: AlexNet's LRN across channels, in the
  deck's convention (n the window size, alpha *not* divided by n).
- `LocalResponseNormalization`: the same as a serialisable Keras layer (for AlexNet models).
- `batch_norm` / `batch_norm_inference` / `update_moving_statistics`: Algorithm 1 of Ioffe and
  Szegedy (2015) in training mode, its inference form with moving statistics, and the moving
  average Keras keeps.
- `group_norm`: group normalisation (Wu and He, 2018); `groups=1` is layer normalisation over
  (H, W, C) and `groups=C` is instance normalisation.

Parameter mapping for LRN (window of n channels centred on channel i):

    deck / AlexNet          TensorFlow tf.nn.local_response_normalization   PyTorch nn.LocalResponseNorm
    n (window size)         depth_radius = n // 2                            size = n
    k                       bias = k                                         k = k
    alpha                   alpha = alpha                                    alpha = alpha * n
    beta                    beta = beta                                      beta = beta
"""

from __future__ import annotations

import keras
import numpy as np

from utils import validation

__all__ = [
    "local_response_normalization",
    "LocalResponseNormalization",
    "lrn_tensorflow_parameters",
    "lrn_pytorch_parameters",
    "batch_norm",
    "batch_norm_inference",
    "update_moving_statistics",
    "group_norm",
]


def _lrn_arguments(n, k, alpha, beta):
    n = validation.as_int("n", n, minimum=1)
    k = validation.as_float("k", k, minimum=0)
    alpha = validation.as_float("alpha", alpha, minimum=0)
    beta = validation.as_float("beta", beta, minimum=0)
    return n, k, alpha, beta


def local_response_normalization(a, n=5, k=2.0, alpha=1e-4, beta=0.75):
    """Local response normalisation across channels (Krizhevsky et al. 2012, section 3.3).

    a: [N, H, W, C] floats (NHWC) -> b of the same shape, with

        b[..., i] = a[..., i] / (k + alpha * sum_{j=max(0, i-n//2)}^{min(C-1, i+n//2)} a[..., j]**2) ** beta

    n: window size in channels (AlexNet: 5; an odd n gives a window of exactly n channels),
    k, alpha, beta: AlexNet's 2, 1e-4, 0.75. alpha multiplies the plain sum (TensorFlow's
    convention); PyTorch's `LocalResponseNorm` divides its alpha by n, so pass alpha * n there.
    Computed in float64 and returned in the input's dtype.
    """
    a = validation.as_images("a", a)
    n, k, alpha, beta = _lrn_arguments(n, k, alpha, beta)
    channels = a.shape[-1]
    radius = min(n // 2, channels)  # a wider window sees no more channels
    # Zero-pad the channels by the radius and add the 2 radius + 1 shifted copies: each window
    # sum sees only its own channels (a running cumsum would carry a NaN, or the rounding
    # error of a huge value, into every later channel).
    squares = np.pad(np.square(a.astype(np.float64)), [(0, 0)] * 3 + [(radius, radius)])
    window_sum = sum(squares[..., shift:shift + channels] for shift in range(2 * radius + 1))
    return (a / (k + alpha * window_sum) ** beta).astype(a.dtype)


def lrn_tensorflow_parameters(n=5, k=2.0, alpha=1e-4, beta=0.75) -> dict:
    """Keyword arguments for `tf.nn.local_response_normalization` equal to the deck's (n, k, alpha, beta)."""
    n, k, alpha, beta = _lrn_arguments(n, k, alpha, beta)
    return {"depth_radius": n // 2, "bias": k, "alpha": alpha, "beta": beta}


def lrn_pytorch_parameters(n=5, k=2.0, alpha=1e-4, beta=0.75) -> dict:
    """Keyword arguments for PyTorch's `nn.LocalResponseNorm` equal to the deck's (n, k, alpha, beta).

    PyTorch averages the squares over its window (alpha / size), so its alpha is alpha * n. Its
    window is channels [i - size//2, i + (size - 1)//2], which matches ours only for odd n.
    """
    n, k, alpha, beta = _lrn_arguments(n, k, alpha, beta)
    if n % 2 == 0:
        raise ValueError(f"n: PyTorch's window equals the deck's only for odd n, got {n}")
    return {"size": n, "alpha": alpha * n, "beta": beta, "k": k}


@keras.saving.register_keras_serializable(package="utils")
class LocalResponseNormalization(keras.layers.Layer):
    """AlexNet's local response normalisation as a Keras layer, in the deck's convention.

    Input and output: [N, H, W, C] (channels last). Parameters as in
    `local_response_normalization`: n (window size in channels), k, alpha (not divided by n),
    beta; AlexNet uses n=5, k=2, alpha=1e-4, beta=0.75. No trainable weights. Runs
    `tf.nn.local_response_normalization(depth_radius=n // 2, bias=k, alpha=alpha, beta=beta)`.

        x = keras.layers.Conv2D(96, 11, strides=4, activation="relu")(inputs)
        x = utils.norm.LocalResponseNormalization(n=5, k=2.0, alpha=1e-4, beta=0.75)(x)
    """

    def __init__(self, n=5, k=2.0, alpha=1e-4, beta=0.75, **kwargs):
        super().__init__(**kwargs)
        self.n, self.k, self.alpha, self.beta = _lrn_arguments(n, k, alpha, beta)

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(
                f"LocalResponseNormalization: expected a 4-D input [N, H, W, C] (NHWC), got shape {tuple(input_shape)}"
            )
        super().build(input_shape)

    def call(self, inputs):
        import tensorflow as tf

        if keras.backend.backend() != "tensorflow":  # pragma: no cover (the course runs TensorFlow)
            raise RuntimeError("LocalResponseNormalization needs the TensorFlow backend")
        dtype = inputs.dtype
        # tf.nn.local_response_normalization supports half, bfloat16 and float32.
        outputs = tf.nn.local_response_normalization(
            tf.cast(inputs, "float32"), depth_radius=self.n // 2, bias=self.k, alpha=self.alpha, beta=self.beta
        )
        return tf.cast(outputs, dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"n": self.n, "k": self.k, "alpha": self.alpha, "beta": self.beta})
        return config


def _norm_parameters(name, value, channels):
    array = validation.as_array(name, value, ndim=1, dtype_kind="fiu", layout="[C]", finite=True)
    if array.shape[0] != channels:
        raise ValueError(f"{name}: expected shape ({channels},) to match the {channels} channels of x, got {array.shape}")
    return array.astype(np.float64)


def _features(x):
    x = validation.as_array("x", x, ndim=(2, 3, 4, 5), dtype_kind="f", layout="[N, ..., C] (channels last)",
                            finite=True)
    if x.shape[0] < 1:
        raise ValueError(f"x: expected at least one example, got shape {x.shape}")
    return x


def batch_norm(x, gamma, beta, eps=1e-3, *, return_statistics=False):
    """Batch normalisation, training mode (Algorithm 1 of Ioffe and Szegedy 2015).

    x: [N, C] or [N, H, W, C] (any rank >= 2, channels last); gamma, beta: [C].
    One mean and one (biased) variance per channel over every axis but the last:

        mu = mean(x), var = mean((x - mu)**2), y = gamma * (x - mu) / sqrt(var + eps) + beta

    eps: 1e-3 as in `keras.layers.BatchNormalization`. Returns y (input dtype); with
    `return_statistics=True`, returns (y, mean [C], variance [C]).
    """
    x = _features(x)
    channels = x.shape[-1]
    gamma = _norm_parameters("gamma", gamma, channels)
    beta = _norm_parameters("beta", beta, channels)
    eps = validation.as_float("eps", eps, minimum=0, exclusive_minimum=True)
    return_statistics = validation.as_bool("return_statistics", return_statistics)
    axes = tuple(range(x.ndim - 1))
    values = x.astype(np.float64)
    mean = values.mean(axis=axes)
    variance = np.square(values - mean).mean(axis=axes)
    y = (gamma * (values - mean) / np.sqrt(variance + eps) + beta).astype(x.dtype)
    if return_statistics:
        return y, mean, variance
    return y


def batch_norm_inference(x, gamma, beta, moving_mean, moving_variance, eps=1e-3):
    """Batch normalisation, inference mode: the same affine map for every example.

    x: [N, ..., C]; gamma, beta, moving_mean, moving_variance: [C].
    y = gamma * (x - moving_mean) / sqrt(moving_variance + eps) + beta.
    """
    x = _features(x)
    channels = x.shape[-1]
    gamma = _norm_parameters("gamma", gamma, channels)
    beta = _norm_parameters("beta", beta, channels)
    moving_mean = _norm_parameters("moving_mean", moving_mean, channels)
    moving_variance = _norm_parameters("moving_variance", moving_variance, channels)
    if np.any(moving_variance < 0):
        raise ValueError("moving_variance: expected values >= 0")
    eps = validation.as_float("eps", eps, minimum=0, exclusive_minimum=True)
    y = gamma * (x.astype(np.float64) - moving_mean) / np.sqrt(moving_variance + eps) + beta
    return y.astype(x.dtype)


def update_moving_statistics(moving_mean, moving_variance, batch_mean, batch_variance, momentum=0.99):
    """One step of the moving averages Keras keeps in `BatchNormalization` (training mode).

    moving <- momentum * moving + (1 - momentum) * batch, for the mean and the (biased) variance.
    All arrays [C]. Returns (new_moving_mean, new_moving_variance).
    """
    moving_mean = validation.as_array("moving_mean", moving_mean, ndim=1, dtype_kind="fiu", finite=True)
    channels = moving_mean.shape[0]
    moving_variance = _norm_parameters("moving_variance", moving_variance, channels)
    batch_mean = _norm_parameters("batch_mean", batch_mean, channels)
    batch_variance = _norm_parameters("batch_variance", batch_variance, channels)
    momentum = validation.as_fraction("momentum", momentum, allow_one=True)
    new_mean = momentum * moving_mean.astype(np.float64) + (1 - momentum) * batch_mean
    new_variance = momentum * moving_variance + (1 - momentum) * batch_variance
    return new_mean, new_variance


def group_norm(x, gamma, beta, groups, eps=1e-3):
    """Group normalisation (Wu and He 2018) on channels-last x.

    x: [N, ..., C]; gamma, beta: [C]; groups divides C. For each example and each group of
    C / groups consecutive channels, mean and variance over the spatial axes and the group's
    channels; then the per-channel gamma and beta, as in batch norm.
    groups=1 is layer normalisation over (H, W, C) (`keras.layers.LayerNormalization(axis=(1, 2, 3))`),
    groups=C is instance normalisation. Equal to `keras.layers.GroupNormalization(groups, epsilon=eps)`.
    """
    x = _features(x)
    channels = x.shape[-1]
    gamma = _norm_parameters("gamma", gamma, channels)
    beta = _norm_parameters("beta", beta, channels)
    groups = validation.as_int("groups", groups, minimum=1)
    if channels % groups:
        raise ValueError(f"groups: expected a divisor of the {channels} channels of x, got {groups}")
    eps = validation.as_float("eps", eps, minimum=0, exclusive_minimum=True)
    values = x.astype(np.float64).reshape(x.shape[:-1] + (groups, channels // groups))
    axes = tuple(range(1, x.ndim - 1)) + (x.ndim,)
    mean = values.mean(axis=axes, keepdims=True)
    variance = np.square(values - mean).mean(axis=axes, keepdims=True)
    normalised = ((values - mean) / np.sqrt(variance + eps)).reshape(x.shape)
    return (gamma * normalised + beta).astype(x.dtype)
