"""Checks for Lab 04 (max pooling). References: tf.nn.max_pool2d and tf.GradientTape."""

import numpy as np
import tensorflow as tf

from utils.labcheck import CheckFailed, call, compare, case_rng

# x shape [N, H, W, C], pool_size, stride: disjoint, overlapping and gapped windows,
# sizes that the windows do not tile exactly, non-square inputs
CASES = [((2, 6, 6, 3), 2, 2), ((2, 7, 6, 3), 3, 2), ((1, 5, 7, 2), 3, 1),
         ((1, 8, 9, 2), 2, 3), ((3, 4, 4, 1), 4, 1), ((1, 7, 5, 4), 2, 1),
         ((1, 3, 8, 1), 3, 2)]  # boundary: one output row, one image, one channel


def _describe(shape, pool_size, stride):
    return f"x {list(shape)}, pool_size {pool_size}, stride {stride}"


def check_max_pool_forward(max_pool_forward):
    """max_pool_forward(x, pool_size, stride) -> [N, H', W', C] against tf.nn.max_pool2d."""
    rng = case_rng(10)
    for shape, pool_size, stride in CASES:
        x = rng.normal(size=shape).astype(np.float32)
        case = _describe(shape, pool_size, stride)
        got = call("max_pool_forward", max_pool_forward, x.copy(), pool_size, stride, case=case, numpy_only=True)
        expected = tf.nn.max_pool2d(x, pool_size, stride, "VALID")
        compare("max_pool_forward(x)", got, expected, case=case,
                hint="H' = floor((H - pool_size) / stride) + 1 ('valid'); each channel is "
                     "pooled on its own; windows start every `stride` pixels.")
    return f"{len(CASES)} cases agree with tf.nn.max_pool2d"


def check_max_pool_backward(max_pool_backward):
    """max_pool_backward(x, grad_output, pool_size, stride) -> grad_x against
    tf.GradientTape; inputs with ties (small integers) included."""
    rng = case_rng(11)
    count = 0
    for with_ties in (False, True):
        for shape, pool_size, stride in CASES:
            if with_ties:
                x = rng.integers(0, 3, size=shape).astype(np.float32)
            else:
                x = rng.normal(size=shape).astype(np.float32)
            case = _describe(shape, pool_size, stride) + (", with ties" if with_ties else "")
            x_var = tf.Variable(x)
            with tf.GradientTape() as tape:
                output = tf.nn.max_pool2d(x_var, pool_size, stride, "VALID")
                grad_output = rng.normal(size=output.shape).astype(np.float32)
                loss = tf.reduce_sum(output * grad_output)
            expected = tape.gradient(loss, x_var)
            got = call("max_pool_backward", max_pool_backward, x.copy(), grad_output.copy(),
                       pool_size, stride, case=case, numpy_only=True)
            if isinstance(got, (tuple, list)):
                raise CheckFailed(f"max_pool_backward should return one array (grad_x) for "
                                  f"{case}, got a {type(got).__name__}.")
            compare("grad_x", got, expected, case=case, atol=1e-4, mistakes={
                        "the gradient is spread evenly over each window, as average pooling "
                        "would; max pooling sends it to the maximum only.":
                        lambda: _average_pool_gradient(x, grad_output, pool_size, stride),
                        "every tied maximum receives the gradient; TensorFlow gives it to the "
                        "first one (row-major) only.":
                        lambda: _all_ties_gradient(x, grad_output, pool_size, stride)},
                    hint="each output's gradient goes to the one input that was the maximum "
                         "of its window (the first one in row-major order when several tie), "
                         "and is added up where windows overlap; every other input gets 0.")
            count += 1
    return f"{count} cases agree with tf.GradientTape"


def _average_pool_gradient(x, grad_output, pool_size, stride):
    x_var = tf.Variable(x)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.nn.avg_pool2d(x_var, pool_size, stride, "VALID") * grad_output)
    return tape.gradient(loss, x_var).numpy()


def _all_ties_gradient(x, grad_output, pool_size, stride):
    """The known mistake: every input equal to its window's maximum gets the gradient."""
    grad = np.zeros(x.shape, np.float64)
    for i in range(grad_output.shape[1]):
        for j in range(grad_output.shape[2]):
            window = x[:, i * stride:i * stride + pool_size, j * stride:j * stride + pool_size]
            top = window.max(axis=(1, 2), keepdims=True)
            grad[:, i * stride:i * stride + pool_size, j * stride:j * stride + pool_size] += \
                (window == top) * grad_output[:, i:i + 1, j:j + 1]
    return grad
