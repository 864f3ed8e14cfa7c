"""Checks for Lab 02 (activation derivatives and vanishing gradients). References:
tf.GradientTape on keras.activations and on the Keras models themselves."""

import keras
import numpy as np
import tensorflow as tf

from utils.labcheck import CheckFailed, call, compare, compare_number, require_value, case_rng

# (activation, hidden layers, seed, batch normalisation after each hidden layer)
NORM_MODELS = [("sigmoid", 6, 1, False), ("relu", 4, 2, False), ("tanh", 3, 3, False),
               ("relu", 2, 4, True)]

# exactly 0, tiny, moderate and saturating inputs, both signs
POINTS = np.array([-12.0, -5.0, -2.5, -1.0, -0.3, -1e-3, 0.0, 1e-3, 0.3, 1.0, 2.5, 5.0, 12.0],
                  dtype=np.float32)
AT_ZERO = ("at exactly 0 TensorFlow uses the left-hand slope (0 for ReLU, the negative slope "
           "for leaky ReLU).")


def _tape_derivative(activation, x):
    x = tf.Variable(x)
    with tf.GradientTape() as tape:
        y = activation(x)
    return tape.gradient(y, x).numpy()


def check_derivatives(sigmoid_derivative, tanh_derivative, relu_derivative,
                      leaky_relu_derivative):
    """Each derivative at POINTS (and on a 2-D batch) against tf.GradientTape."""
    batch = case_rng(20).normal(scale=3.0, size=(4, 5)).astype(np.float32)
    sigmoid = lambda v: 1 / (1 + np.exp(-v.astype(np.float64)))  # noqa: E731
    mistakes = {
        "sigmoid_derivative": lambda x, s: {
            "the derivative is written with x where sigmoid(x) belongs: sigmoid(x) * (1 - x).":
            sigmoid(x) * (1 - x)},
        "tanh_derivative": lambda x, s: {
            "tanh(x) is not squared: the derivative is 1 - tanh(x)**2.": 1 - np.tanh(x)},
        "relu_derivative": lambda x, s: {
            "your ReLU derivative is 1 at x = 0; TensorFlow takes the left-hand slope there, 0.":
            (x >= 0).astype(np.float32)},
        "leaky_relu_derivative": lambda x, s: {
            "your leaky ReLU derivative is 1 at x = 0; TensorFlow takes the left-hand slope "
            "there, the negative slope.": np.where(x >= 0, 1.0, s),
            "the slopes are swapped: the negative slope belongs to x < 0.":
            np.where(x > 0, s, 1.0)},
    }
    cases = [
        ("sigmoid_derivative", sigmoid_derivative, keras.activations.sigmoid, (),
         "write it with sigmoid(x) itself: sigmoid'(x) = sigmoid(x) * (1 - sigmoid(x))."),
        ("tanh_derivative", tanh_derivative, keras.activations.tanh, (),
         "d tanh(x) / dx = 1 - tanh(x)**2."),
        ("relu_derivative", relu_derivative, keras.activations.relu, (), AT_ZERO),
        ("leaky_relu_derivative", leaky_relu_derivative, None, (0.1, 0.3), AT_ZERO),
    ]
    for name, function, activation, slopes, hint in cases:
        for x in (np.asarray(POINTS, np.float32), batch):
            for slope in slopes or (None,):
                args = (x.copy(),) if slope is None else (x.copy(), slope)
                case = f"x of shape {list(x.shape)}" + (f", negative_slope {slope}" if slope else "")
                if slope is not None:
                    activation = lambda v, s=slope: keras.activations.leaky_relu(v, negative_slope=s)  # noqa: E731
                got = call(name, function, *args, case=case, numpy_only=True)
                compare(f"{name}(x)", got, _tape_derivative(activation, x), case=case,
                        atol=1e-5, hint=hint, mistakes=mistakes[name](x, slope))
    return "4 derivatives agree with tf.GradientTape, including at 0 and in saturation"


def _dense_layers(model):
    return [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]


def _reference_norms(model, x, y):
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    kernels = [layer.kernel for layer in _dense_layers(model)]
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=False))
    return np.array([float(tf.norm(g)) for g in tape.gradient(loss, kernels)])


def _test_model(activation, depth, seed, batchnorm=False):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(12,))
    hidden = inputs
    for _ in range(depth):
        hidden = keras.layers.Dense(16, activation=activation)(hidden)
        if batchnorm:  # a layer with trainable weights that are not Dense kernels
            hidden = keras.layers.BatchNormalization()(hidden)
    outputs = keras.layers.Dense(5, activation="softmax")(hidden)
    return keras.Model(inputs, outputs)


def check_gradient_norms(gradient_norms):
    """gradient_norms(model, x, y) -> [num_dense_layers] L2 norms of d loss / d kernel,
    first layer first, against the same quantity from tf.GradientTape."""
    rng = case_rng(21)
    for activation, depth, seed, batchnorm in NORM_MODELS:
        model = _test_model(activation, depth, seed, batchnorm)
        x = rng.normal(size=(32, 12)).astype(np.float32)
        y = rng.integers(0, 5, size=32)
        case = f"a {depth + 1}-layer {activation} MLP" + (" with BatchNormalization" if batchnorm else "")
        got = call("gradient_norms", gradient_norms, model, x, y, case=case, no_course_utils=True)
        expected = _reference_norms(model, x, y)
        compare("gradient_norms(model, x, y)", got, expected, case=case, mistakes={
                    "the norms are in reverse order; the input side comes first.": expected[::-1]},
                rtol=1e-3, atol=1e-7,
                hint="one number per Dense layer, input side first: the L2 norm (square root "
                     "of the sum of squares) of the gradient of the mean cross-entropy with "
                     "respect to that layer's kernel (not its bias).")
    return f"{len(NORM_MODELS)} models agree with tf.GradientTape"


def check_ratios(ratio_sigmoid, ratio_relu, sigmoid_model, relu_model, x, y):
    """ratio = gradient norm of the first Dense layer / that of the last, per model."""
    for name, value, model in (("ratio_sigmoid", ratio_sigmoid, sigmoid_model),
                               ("ratio_relu", ratio_relu, relu_model)):
        require_value(name, value)
        norms = _reference_norms(model, x, y)
        compare_number(name, value, norms[0] / norms[-1], rtol=1e-3, atol=0.0,
                       hint="first (input-side) layer's norm divided by the last (output) "
                            "layer's norm, from gradient_norms on the digits batch.")
    if not ratio_sigmoid < ratio_relu:
        raise CheckFailed("ratio_sigmoid should be smaller than ratio_relu here.")
    return f"ratio_sigmoid {ratio_sigmoid:.2e} < ratio_relu {ratio_relu:.2e}"
