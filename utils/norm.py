"""Normalisation layers written out in NumPy, and a Keras LRN layer.

Taught in: notebooks/03_normalization.ipynb

- `local_response_normalization(a, n, k, alpha, beta)`: AlexNet's LRN across the channels of
  NHWC arrays, in the deck's convention (n the window size, alpha *not* divided by n).
- `LocalResponseNormalization`: the same as a serialisable Keras layer (for AlexNet models).

Batch, layer, instance and group normalisation are written in the notebook itself (nothing
later needs them in NumPy; `tests/test_norm.py` checks the notebook's functions against Keras).

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

__all__ = ["local_response_normalization", "LocalResponseNormalization", "lrn_tensorflow_parameters",
           "lrn_pytorch_parameters"]


def _lrn_arguments(n, k, alpha, beta):
    """The checked (n, k, alpha, beta): an integer n >= 1 and three floats >= 0."""
    floats = zip(("k", "alpha", "beta"), (k, alpha, beta))
    return validation.as_int("n", n, minimum=1), *(validation.as_float(name, x, minimum=0) for name, x in floats)


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
            raise ValueError(f"LocalResponseNormalization: expected a 4-D input [N, H, W, C] (NHWC), got shape "
                             f"{tuple(input_shape)}")
        super().build(input_shape)

    def call(self, inputs):
        import tensorflow as tf

        # tf.nn.local_response_normalization supports half, bfloat16 and float32.
        outputs = tf.nn.local_response_normalization(
            tf.cast(inputs, "float32"), depth_radius=self.n // 2, bias=self.k, alpha=self.alpha, beta=self.beta)
        return tf.cast(outputs, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"n": self.n, "k": self.k, "alpha": self.alpha, "beta": self.beta})
        return config
