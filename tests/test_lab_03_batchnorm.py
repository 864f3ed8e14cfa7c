"""Lab 03: each checker rejects plausible wrong answers (built on the lab's solution)."""

import numpy as np
import pytest

from test_lab_framework import (assert_hidden_cases_pass, assert_mistake_named, assert_rejected,
                                assert_shortcut_rejected, solution_namespace)

LAB = "03_batchnorm"


@pytest.fixture(scope="module")
def solution():
    return solution_namespace(LAB)


def _axes(x):
    return tuple(range(x.ndim - 1))


def test_batchnorm_train_rejects(solution):
    def unbiased_variance(x, gamma, beta, epsilon):
        mean, var = x.mean(axis=_axes(x)), x.var(axis=_axes(x), ddof=1)
        return gamma * (x - mean) / np.sqrt(var + epsilon) + beta, mean, var

    def epsilon_outside_sqrt(x, gamma, beta, epsilon):
        mean, var = x.mean(axis=_axes(x)), x.var(axis=_axes(x))
        return gamma * (x - mean) / (np.sqrt(var) + epsilon) + beta, mean, var

    def statistics_over_batch_axis_only(x, gamma, beta, epsilon):
        mean, var = x.mean(axis=0), x.var(axis=0)
        return gamma * (x - mean) / np.sqrt(var + epsilon) + beta, mean, var

    def per_example_layer_norm(x, gamma, beta, epsilon):
        axes = tuple(range(1, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True)
        y = gamma * (x - mean) / np.sqrt(var + epsilon) + beta
        return y, x.mean(axis=_axes(x)), x.var(axis=_axes(x))

    def forgets_beta(x, gamma, beta, epsilon):
        y, mean, var = solution["batchnorm_train"](x, gamma, beta, epsilon)
        return y - beta, mean, var

    assert_rejected(LAB, "batchnorm_train", unbiased_variance, r"batch_var.*divides by n - 1")
    assert_rejected(LAB, "batchnorm_train", epsilon_outside_sqrt, r"y has wrong values.*outside the square root")
    assert_rejected(LAB, "batchnorm_train", statistics_over_batch_axis_only, r"batch_mean has the wrong shape.*\[2, 3, 4, 6\]")
    assert_rejected(LAB, "batchnorm_train", per_example_layer_norm, r"y has wrong values")
    assert_rejected(LAB, "batchnorm_train", forgets_beta, r"y has wrong values")


def test_update_moving_rejects(solution):
    def momentum_swapped(moving_mean, moving_var, batch_mean, batch_var, momentum):
        return (moving_mean * (1 - momentum) + batch_mean * momentum,
                moving_var * (1 - momentum) + batch_var * momentum)

    def replaces_with_batch(moving_mean, moving_var, batch_mean, batch_var, momentum):
        return batch_mean, batch_var

    def averages_std_not_variance(moving_mean, moving_var, batch_mean, batch_var, momentum):
        return (moving_mean * momentum + batch_mean * (1 - momentum),
                moving_var * momentum + np.sqrt(batch_var) * (1 - momentum))

    assert_rejected(LAB, "update_moving", momentum_swapped, r"new moving_mean has wrong values.*momentum 0.99")
    assert_rejected(LAB, "update_moving", replaces_with_batch, r"new moving_mean has wrong values")
    assert_rejected(LAB, "update_moving", averages_std_not_variance, r"new moving_var has wrong values")


def test_batchnorm_inference_rejects(solution):
    def uses_batch_statistics(x, gamma, beta, moving_mean, moving_var, epsilon):
        return solution["batchnorm_train"](x, gamma, beta, epsilon)[0]

    def divides_by_variance(x, gamma, beta, moving_mean, moving_var, epsilon):
        return gamma * (x - moving_mean) / (moving_var + epsilon) + beta

    def drops_epsilon(x, gamma, beta, moving_mean, moving_var, epsilon):
        return gamma * (x - moving_mean) / np.sqrt(moving_var) + beta

    def unbiased_batch_variance(x, gamma, beta, moving_mean, moving_var, epsilon):
        mean, var = x.mean(axis=_axes(x)), x.var(axis=_axes(x), ddof=1)
        return gamma * (x - mean) / np.sqrt(var + epsilon) + beta

    for wrong in (uses_batch_statistics, divides_by_variance, drops_epsilon, unbiased_batch_variance):
        assert_rejected(LAB, "batchnorm_inference", wrong, r"y has wrong values.*moving statistics")


def test_batchnorm_backward_rejects(solution):
    right = solution["batchnorm_backward"]

    def statistics_as_constants(grad_y, x, gamma, epsilon):
        _, grad_gamma, grad_beta = right(grad_y, x, gamma, epsilon)
        return grad_y * gamma / np.sqrt(x.var(axis=_axes(x)) + epsilon), grad_gamma, grad_beta

    def only_mean_path(grad_y, x, gamma, epsilon):
        _, grad_gamma, grad_beta = right(grad_y, x, gamma, epsilon)
        g = grad_y * gamma
        return (g - g.mean(axis=_axes(x))) / np.sqrt(x.var(axis=_axes(x)) + epsilon), grad_gamma, grad_beta

    def gamma_gradient_with_raw_x(grad_y, x, gamma, epsilon):
        grad_x, _, grad_beta = right(grad_y, x, gamma, epsilon)
        return grad_x, (grad_y * x).sum(axis=_axes(x)), grad_beta

    def beta_gradient_averaged(grad_y, x, gamma, epsilon):
        grad_x, grad_gamma, _ = right(grad_y, x, gamma, epsilon)
        return grad_x, grad_gamma, grad_y.mean(axis=_axes(x))

    assert_rejected(LAB, "batchnorm_backward", statistics_as_constants, r"grad_x has wrong values.*depend on x")
    assert_rejected(LAB, "batchnorm_backward", only_mean_path, r"grad_x has wrong values")
    assert_rejected(LAB, "batchnorm_backward", gamma_gradient_with_raw_x, r"grad_gamma has wrong values")
    assert_rejected(LAB, "batchnorm_backward", beta_gradient_averaged, r"grad_beta has wrong values")


# ------------------------------------------------- shortcuts, boundaries and named mistakes

def test_library_shortcuts_are_rejected(solution):
    import keras

    from utils import norm

    def keras_layer(x, gamma, beta, epsilon):
        layer = keras.layers.BatchNormalization(epsilon=epsilon)
        y = layer(x, training=True)
        return np.asarray(y), x.mean(axis=_axes(x)), x.var(axis=_axes(x))

    def course_lrn(x, gamma, beta, epsilon):   # any call into the course's utils is refused
        y = norm.local_response_normalization(x.reshape(1, 1, -1, x.shape[-1]).astype(np.float32))
        return y.reshape(x.shape), x.mean(axis=_axes(x)), x.var(axis=_axes(x))

    assert_shortcut_rejected(LAB, "batchnorm_train", keras_layer)
    assert_shortcut_rejected(LAB, "batchnorm_train", course_lrn)
    # and the answer itself is not there to import: batch norm is written in notebook 03 only
    assert not any(hasattr(norm, name) for name in ("batch_norm", "batch_norm_inference", "group_norm"))


def test_boundary_single_channel(solution):
    right = solution["batchnorm_train"]

    def squeezes(x, gamma, beta, epsilon):
        y, mean, var = right(x, gamma, beta, epsilon)
        return y.squeeze(), mean, var  # np.squeeze drops the channel axis of a 1-channel batch

    assert_rejected(LAB, "batchnorm_train", squeezes, r"wrong shape for x \[1, 4, 4, 1\]")


def test_known_mistakes_are_named(solution):
    def unbiased_variance(x, gamma, beta, epsilon):
        mean, var = x.mean(axis=_axes(x)), x.var(axis=_axes(x), ddof=1)
        return gamma * (x - mean) / np.sqrt(var + epsilon) + beta, mean, var

    def epsilon_outside_sqrt(x, gamma, beta, epsilon):
        mean, var = x.mean(axis=_axes(x)), x.var(axis=_axes(x))
        return gamma * (x - mean) / (np.sqrt(var) + epsilon) + beta, mean, var

    def momentum_swapped(moving_mean, moving_var, batch_mean, batch_var, momentum):
        return (moving_mean * (1 - momentum) + batch_mean * momentum,
                moving_var * (1 - momentum) + batch_var * momentum)

    def uses_batch_statistics(x, gamma, beta, moving_mean, moving_var, epsilon):
        return solution["batchnorm_train"](x, gamma, beta, epsilon)[0]

    message = assert_mistake_named(LAB, "batchnorm_train", unbiased_variance,
                                   r"your variance divides by n - 1; batch norm uses the biased")
    assert "ddof" not in message and "np." not in message
    assert_mistake_named(LAB, "batchnorm_train", epsilon_outside_sqrt, r"epsilon is added outside the square root")
    assert_mistake_named(LAB, "update_moving", momentum_swapped, r"momentum weighs the new batch")
    assert_mistake_named(LAB, "batchnorm_inference", uses_batch_statistics, r"batch's own statistics")


def test_hidden_cases_pass_on_the_solution():
    assert_hidden_cases_pass(LAB)
