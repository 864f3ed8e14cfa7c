"""Lab 02: each checker rejects plausible wrong answers (built on the lab's solution)."""

import re

import numpy as np
import pytest
import tensorflow as tf

from test_lab_framework import (assert_hidden_cases_pass, assert_mistake_named, assert_rejected,
                                assert_shortcut_rejected, run_check, solution_namespace)

LAB = "02_activations"


@pytest.fixture(scope="module")
def solution():
    return solution_namespace(LAB)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def test_derivatives_reject(solution):
    right = [solution[name] for name in ("sigmoid_derivative", "tanh_derivative",
                                         "relu_derivative", "leaky_relu_derivative")]

    def with_wrong(index, function):
        functions = list(right)
        functions[index] = function
        return functions

    def sigmoid_derivative_of_input(x):  # x (1 - x) with the pre-activation
        return x * (1 - x)

    def sigmoid_without_chain(x):  # s(x) (1 + s(x))
        return _sigmoid(x) * (1 + _sigmoid(x))

    def tanh_not_squared(x):
        return 1 - np.tanh(x)

    def relu_one_at_zero(x):
        return (x >= 0).astype(x.dtype)

    def relu_returns_relu(x):
        return np.maximum(x, 0)

    def leaky_fixed_slope(x, negative_slope):
        return np.where(x > 0, 1.0, 0.01).astype(x.dtype)

    def leaky_one_at_zero(x, negative_slope):
        return np.where(x >= 0, 1.0, negative_slope).astype(x.dtype)

    def derivatives_check(*functions):
        return functions

    cases = [(0, sigmoid_derivative_of_input, "sigmoid_derivative"),
             (0, sigmoid_without_chain, "sigmoid_derivative"),
             (1, tanh_not_squared, "tanh_derivative"),
             (2, relu_one_at_zero, r"relu_derivative.*1 at x = 0"),
             (2, relu_returns_relu, "relu_derivative"),
             (3, leaky_fixed_slope, r"leaky_relu_derivative.*negative_slope 0.1"),
             (3, leaky_one_at_zero, r"leaky_relu_derivative.*1 at x = 0")]
    for index, wrong, expect in cases:
        functions = with_wrong(index, wrong)
        assert_rejected(LAB, "derivatives", functions[0], expect, *functions[1:])


def test_gradient_norms_reject(solution):
    right = solution["gradient_norms"]

    def reversed_order(model, x, y):
        return right(model, x, y)[::-1]

    def weight_norms(model, x, y):
        return np.array([float(tf.norm(layer.kernel)) for layer in model.layers if hasattr(layer, "kernel")])

    def includes_biases(model, x, y):
        import keras
        loss_fn = keras.losses.SparseCategoricalCrossentropy()
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x))
        return np.array([float(tf.norm(g)) for g in tape.gradient(loss, model.trainable_weights)])

    def l1_norms(model, x, y):
        import keras
        loss_fn = keras.losses.SparseCategoricalCrossentropy()
        kernels = [layer.kernel for layer in model.layers if isinstance(layer, keras.layers.Dense)]
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x))
        return np.array([float(tf.reduce_sum(tf.abs(g))) for g in tape.gradient(loss, kernels)])

    def summed_loss(model, x, y):
        return right(model, x, y) * len(y)

    assert_rejected(LAB, "gradient_norms", reversed_order, "wrong values")
    assert_rejected(LAB, "gradient_norms", weight_norms, "wrong values")
    assert_rejected(LAB, "gradient_norms", includes_biases, r"wrong shape.*expected \(7,\), got \(14,\)")
    assert_rejected(LAB, "gradient_norms", l1_norms, "wrong values")
    assert_rejected(LAB, "gradient_norms", summed_loss, "wrong values")


def test_ratios_reject(solution):
    s = solution
    args = (s["sigmoid_model"], s["relu_model"], s["x_batch"], s["y_batch"])
    norms_sigmoid = s["gradient_norms"](s["sigmoid_model"], s["x_batch"], s["y_batch"])
    norms_relu = s["gradient_norms"](s["relu_model"], s["x_batch"], s["y_batch"])

    def check(ratio_sigmoid, ratio_relu, expect):
        passed, message = run_check(LAB, "ratios", ratio_sigmoid, ratio_relu, *args)
        assert not passed and re.search(expect, message), message

    # inverted ratios; models swapped; second layer instead of first; last-but-one layer
    check(norms_sigmoid[-1] / norms_sigmoid[0], norms_relu[-1] / norms_relu[0], "ratio_sigmoid is wrong")
    check(norms_relu[0] / norms_relu[-1], norms_sigmoid[0] / norms_sigmoid[-1], "ratio_sigmoid is wrong")
    check(norms_sigmoid[1] / norms_sigmoid[-1], norms_relu[1] / norms_relu[-1], "ratio_sigmoid is wrong")
    check(norms_sigmoid[0] / norms_sigmoid[-1], norms_relu[0] / norms_relu[-2], "ratio_relu is wrong")


# ------------------------------------------------- shortcuts, boundaries and named mistakes

def test_library_shortcuts_and_boundaries(solution):
    import keras
    import tensorflow as tf

    right = [solution[name] for name in ("sigmoid_derivative", "tanh_derivative",
                                         "relu_derivative", "leaky_relu_derivative")]

    def tape_sigmoid_derivative(x):
        v = tf.Variable(x)
        with tf.GradientTape() as tape:
            y = keras.activations.sigmoid(v)
        return tape.gradient(y, v).numpy()

    assert_shortcut_rejected(LAB, "derivatives", tape_sigmoid_derivative, *right[1:])

    def every_other_trainable_weight(model, x, y):
        # the kernels as model.trainable_weights[::2]: right until a layer that is not Dense
        # has trainable weights (batch normalisation)
        import keras as k
        kernels = model.trainable_weights[::2]
        with tf.GradientTape() as tape:
            loss = k.losses.SparseCategoricalCrossentropy()(y, model(x, training=False))
        grads = tape.gradient(loss, kernels)
        return np.array([float(tf.norm(g)) for g in grads[:len(solution["gradient_norms"](model, x, y))]])

    assert_rejected(LAB, "gradient_norms", every_other_trainable_weight, r"with BatchNormalization")


def test_known_mistakes_are_named(solution):
    right = [solution[name] for name in ("sigmoid_derivative", "tanh_derivative",
                                         "relu_derivative", "leaky_relu_derivative")]

    def relu_one_at_zero(x):
        return (x >= 0).astype(x.dtype)

    def reversed_order(model, x, y):
        return solution["gradient_norms"](model, x, y)[::-1]

    message = assert_mistake_named(LAB, "derivatives", right[0], r"ReLU derivative is 1 at x = 0",
                                   right[1], relu_one_at_zero, right[3])
    assert "np." not in message and "return" not in message  # names the mistake, gives no code
    assert_mistake_named(LAB, "gradient_norms", reversed_order, r"reverse order")


def test_hidden_cases_pass_on_the_solution():
    assert_hidden_cases_pass(LAB)
