"""Lab 04: each checker rejects plausible wrong answers (built on the lab's solution)."""

import numpy as np
import pytest

from test_lab_framework import (assert_hidden_cases_pass, assert_mistake_named, assert_rejected,
                                assert_shortcut_rejected, solution_namespace)

LAB = "04_max_pooling"


@pytest.fixture(scope="module")
def solution():
    return solution_namespace(LAB)


def test_forward_rejects(solution):
    windows = solution["gather_windows"]

    def average_pooling(x, pool_size, stride):
        return windows(x, pool_size, stride).mean(axis=3)

    def mixes_channels(x, pool_size, stride):
        pooled = windows(x, pool_size, stride).max(axis=3)
        return np.broadcast_to(pooled.max(axis=-1, keepdims=True), pooled.shape)

    def ceil_output_size(x, pool_size, stride):
        height, width = x.shape[1:3]
        pad_h = (-(height - pool_size)) % stride
        pad_w = (-(width - pool_size)) % stride
        x = np.pad(x, [(0, 0), (0, pad_h), (0, pad_w), (0, 0)], constant_values=-np.inf)
        return windows(x, pool_size, stride).max(axis=3)

    def stride_equals_pool_size(x, pool_size, stride):
        return windows(x, pool_size, pool_size).max(axis=3)

    assert_rejected(LAB, "max_pool_forward", average_pooling, r"wrong values")
    assert_rejected(LAB, "max_pool_forward", mixes_channels, r"wrong values")
    assert_rejected(LAB, "max_pool_forward", ceil_output_size, r"wrong shape.*pool_size 3, stride 2")
    assert_rejected(LAB, "max_pool_forward", stride_equals_pool_size, r"wrong shape")


def _route(x, grad_output, pool_size, stride, weights, accumulate=True):
    """Scatter grad_output * weights[..., k, :] back to window offset k."""
    out_h, out_w = grad_output.shape[1:3]
    grad_x = np.zeros_like(x)
    for row in range(pool_size):
        for column in range(pool_size):
            part = grad_output * weights[:, :, :, row * pool_size + column, :]
            target = (slice(None), slice(row, row + stride * out_h, stride),
                      slice(column, column + stride * out_w, stride), slice(None))
            if accumulate:
                grad_x[target] += part
            else:
                grad_x[target] = np.where(part != 0, part, grad_x[target])
    return grad_x


def test_backward_rejects(solution):
    windows = solution["gather_windows"]

    def every_tied_maximum(x, grad_output, pool_size, stride):
        w = windows(x, pool_size, stride)
        return _route(x, grad_output, pool_size, stride, (w == w.max(axis=3, keepdims=True)).astype(x.dtype))

    def last_tied_maximum(x, grad_output, pool_size, stride):
        w = windows(x, pool_size, stride)
        last = w.shape[3] - 1 - w[:, :, :, ::-1].argmax(axis=3)
        one_hot = (np.arange(w.shape[3])[None, None, None, :, None] == last[:, :, :, None, :])
        return _route(x, grad_output, pool_size, stride, one_hot.astype(x.dtype))

    def overwrites_overlaps(x, grad_output, pool_size, stride):
        w = windows(x, pool_size, stride)
        one_hot = np.arange(w.shape[3])[None, None, None, :, None] == w.argmax(axis=3)[:, :, :, None, :]
        return _route(x, grad_output, pool_size, stride, one_hot.astype(x.dtype), accumulate=False)

    def spreads_like_average_pooling(x, grad_output, pool_size, stride):
        w = windows(x, pool_size, stride)
        return _route(x, grad_output, pool_size, stride, np.full(w.shape, 1.0 / pool_size**2, x.dtype))

    def returns_output_shaped_gradient(x, grad_output, pool_size, stride):
        return grad_output

    assert_rejected(LAB, "max_pool_backward", every_tied_maximum, r"with ties.*first one \(row-major\)")
    assert_rejected(LAB, "max_pool_backward", last_tied_maximum, r"with ties")
    assert_rejected(LAB, "max_pool_backward", overwrites_overlaps, r"pool_size 3, stride 2.*added up")
    assert_rejected(LAB, "max_pool_backward", spreads_like_average_pooling, r"wrong values")
    assert_rejected(LAB, "max_pool_backward", returns_output_shaped_gradient, r"wrong shape")


# ------------------------------------------------- shortcuts, boundaries and named mistakes

def test_library_shortcuts_are_rejected(solution):
    import tensorflow as tf
    from scipy import ndimage

    def tensorflow_pool(x, pool_size, stride):
        return tf.nn.max_pool2d(x, pool_size, stride, "VALID").numpy()

    def scipy_filter(x, pool_size, stride):
        filtered = ndimage.maximum_filter(x, size=(1, pool_size, pool_size, 1), origin=0)
        offset = pool_size // 2
        out_h = (x.shape[1] - pool_size) // stride + 1
        out_w = (x.shape[2] - pool_size) // stride + 1
        return filtered[:, offset::stride, offset::stride][:, :out_h, :out_w]

    def tape_backward(x, grad_output, pool_size, stride):
        v = tf.Variable(x)
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.nn.max_pool2d(v, pool_size, stride, "VALID") * grad_output)
        return tape.gradient(loss, v).numpy()

    assert_shortcut_rejected(LAB, "max_pool_forward", tensorflow_pool)
    assert_shortcut_rejected(LAB, "max_pool_forward", scipy_filter)
    assert_shortcut_rejected(LAB, "max_pool_backward", tape_backward)


def test_boundary_single_output_row(solution):
    right = solution["max_pool_forward"]

    def squeezes(x, pool_size, stride):
        return np.squeeze(right(x, pool_size, stride))  # fine until N, H' or C is 1

    def width_from_height(x, pool_size, stride):
        # the output width computed from H: right for the fixed cases until one has H' = 1
        # and W' > 1
        out = right(x, pool_size, stride)
        return out[:, :, :out.shape[1]] if out.shape[1] == 1 else out

    assert_rejected(LAB, "max_pool_forward", squeezes, r"wrong shape")
    assert_rejected(LAB, "max_pool_forward", width_from_height, r"x \[1, 3, 8, 1\]")


def test_known_mistakes_are_named(solution):
    def every_tied_maximum(x, grad_output, pool_size, stride):
        grad = np.zeros_like(x)
        for i in range(grad_output.shape[1]):
            for j in range(grad_output.shape[2]):
                window = x[:, i * stride:i * stride + pool_size, j * stride:j * stride + pool_size]
                top = window.max(axis=(1, 2), keepdims=True)
                grad[:, i * stride:i * stride + pool_size, j * stride:j * stride + pool_size] += \
                    (window == top) * grad_output[:, i:i + 1, j:j + 1]
        return grad

    assert_mistake_named(LAB, "max_pool_backward", every_tied_maximum, r"every tied maximum")


def test_hidden_cases_pass_on_the_solution():
    assert_hidden_cases_pass(LAB)
