"""Checks for Lab 03 (batch normalisation). References: keras.layers.BatchNormalization
(training and inference, moving statistics) and tf.GradientTape through it."""

import keras
import numpy as np
import tensorflow as tf

from utils.labcheck import CheckFailed, call, compare, case_rng

# [N, C] and [N, H, W, C]; a tiny batch (where n and n - 1 differ a lot) and channels with a
# small spread (where epsilon matters)
SHAPES = [(4, 3), (16, 5), (2, 3, 4, 6), (3, 5, 5, 2),
          (1, 4, 4, 1)]  # boundary: one image, one channel (what np.squeeze would break)
EPSILON = 1e-3


def _inputs(rng, shape):
    channels = shape[-1]
    scale = np.geomspace(0.01, 3.0, channels).astype(np.float32)
    shift = rng.normal(size=channels).astype(np.float32)
    x = (rng.normal(size=shape) * scale + shift).astype(np.float32)
    gamma = rng.uniform(0.5, 2.0, size=channels).astype(np.float32)
    beta = rng.normal(size=channels).astype(np.float32)
    return x, gamma, beta


def _layer(shape, gamma, beta, moving_mean=None, moving_var=None, momentum=0.99):
    layer = keras.layers.BatchNormalization(epsilon=EPSILON, momentum=momentum)
    layer.build(shape)
    channels = shape[-1]
    layer.set_weights([gamma, beta,
                       np.zeros(channels, np.float32) if moving_mean is None else moving_mean,
                       np.ones(channels, np.float32) if moving_var is None else moving_var])
    return layer


def _describe(shape):
    return f"x {list(shape)} (statistics over every axis but the last)"


def check_batchnorm_train(batchnorm_train):
    """batchnorm_train(x, gamma, beta, epsilon) -> (y, batch_mean, batch_var)."""
    rng = case_rng(30)
    for shape in SHAPES:
        x, gamma, beta = _inputs(rng, shape)
        case = _describe(shape)
        result = call("batchnorm_train", batchnorm_train, x.copy(), gamma, beta, EPSILON,
                      case=case, numpy_only=True)
        if not isinstance(result, (tuple, list)) or len(result) != 3:
            raise CheckFailed(f"batchnorm_train should return (y, batch_mean, batch_var) for "
                              f"{case}, got {type(result).__name__}.")
        mean, variance = tf.nn.moments(tf.constant(x), axes=list(range(len(shape) - 1)))
        count = int(np.prod(shape[:-1]))
        compare("batch_mean", result[1], mean, case=case,
                hint="one mean per channel: average over every axis except the last.")
        compare("batch_var", result[2], variance, case=case, rtol=1e-3,
                hint="the batch variance divides by the number of values (n), not n - 1.",
                mistakes={"your variance divides by n - 1; batch norm uses the biased estimate, "
                          "which divides by n.": lambda: variance * count / (count - 1),
                          "this is the standard deviation, not the variance.":
                          lambda: np.sqrt(variance)})
        expected = _layer(shape, gamma, beta)(x, training=True)
        centred = (x - mean.numpy()).astype(np.float64)
        compare("y", result[0], expected, case=case, atol=1e-4, rtol=1e-3, mistakes={
                    "epsilon is added outside the square root; it belongs inside: "
                    "sqrt(var + epsilon).":
                    lambda: gamma * centred / (np.sqrt(variance.numpy()) + EPSILON) + beta,
                    "your variance divides by n - 1; batch norm normalises with the biased "
                    "estimate, which divides by n.":
                    lambda: gamma * centred / np.sqrt(variance.numpy() * count / (count - 1)
                                                      + EPSILON) + beta},
                hint="y = gamma * (x - mean) / sqrt(var + epsilon) + beta; epsilon goes "
                     "inside the square root.")
    return f"{len(SHAPES)} cases agree with keras.layers.BatchNormalization(training=True)"


def check_update_moving(update_moving):
    """update_moving(moving_mean, moving_var, batch_mean, batch_var, momentum) ->
    (new_moving_mean, new_moving_var), against the layer's own update."""
    rng = case_rng(31)
    for shape, momentum in zip(SHAPES, (0.99, 0.9, 0.5, 0.8)):
        x, gamma, beta = _inputs(rng, shape)
        moving_mean = rng.normal(size=shape[-1]).astype(np.float32)
        moving_var = rng.uniform(0.5, 2.0, size=shape[-1]).astype(np.float32)
        layer = _layer(shape, gamma, beta, moving_mean, moving_var, momentum)
        layer(x, training=True)
        mean, variance = tf.nn.moments(tf.constant(x), axes=list(range(len(shape) - 1)))
        case = _describe(shape) + f", momentum {momentum}"
        result = call("update_moving", update_moving, moving_mean.copy(), moving_var.copy(),
                      mean.numpy(), variance.numpy(), momentum, case=case, numpy_only=True)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise CheckFailed(f"update_moving should return (moving_mean, moving_var) for "
                              f"{case}, got {type(result).__name__}.")
        hint = ("Keras keeps `momentum` of the old value: "
                "moving = moving * momentum + batch * (1 - momentum).")
        compare("new moving_mean", result[0], layer.moving_mean, case=case, hint=hint, mistakes={
                    "momentum weighs the new batch instead of the old average.":
                    moving_mean * (1 - momentum) + mean.numpy() * momentum})
        compare("new moving_var", result[1], layer.moving_variance, case=case, hint=hint)
    return f"{len(SHAPES)} cases agree with the Keras layer's moving averages"


def check_batchnorm_inference(batchnorm_inference):
    """batchnorm_inference(x, gamma, beta, moving_mean, moving_var, epsilon) -> y."""
    rng = case_rng(32)
    for shape in SHAPES:
        x, gamma, beta = _inputs(rng, shape)
        moving_mean = rng.normal(size=shape[-1]).astype(np.float32)
        moving_var = np.geomspace(1e-4, 4.0, shape[-1]).astype(np.float32)
        case = _describe(shape)
        got = call("batchnorm_inference", batchnorm_inference, x.copy(), gamma, beta,
                   moving_mean.copy(), moving_var.copy(), EPSILON, case=case, numpy_only=True)
        expected = _layer(shape, gamma, beta, moving_mean, moving_var)(x, training=False)
        compare("y", got, expected, case=case, atol=1e-4, rtol=1e-3, mistakes={
                    "this normalises with the batch's own statistics; at inference the "
                    "moving statistics are used.":
                    lambda: _layer(shape, gamma, beta)(x, training=True),
                    "epsilon is added outside the square root; it belongs inside.":
                    lambda: gamma * (x - moving_mean) / (np.sqrt(moving_var) + EPSILON) + beta},
                hint="at inference use the moving statistics, not the batch's: "
                     "y = gamma * (x - moving_mean) / sqrt(moving_var + epsilon) + beta.")
    return f"{len(SHAPES)} cases agree with keras.layers.BatchNormalization(training=False)"


def check_batchnorm_backward(batchnorm_backward):
    """batchnorm_backward(grad_y, x, gamma, epsilon) -> (grad_x, grad_gamma, grad_beta),
    against tf.GradientTape through the Keras layer in training mode."""
    rng = case_rng(33)
    for shape in SHAPES:
        x, gamma, beta = _inputs(rng, shape)
        grad_y = rng.normal(size=shape).astype(np.float32)
        layer = _layer(shape, gamma, beta)
        x_var = tf.Variable(x)
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(x_var, training=True) * grad_y)
        grad_x, grad_gamma, grad_beta = tape.gradient(loss, [x_var, layer.gamma, layer.beta])
        case = _describe(shape)
        result = call("batchnorm_backward", batchnorm_backward, grad_y.copy(), x.copy(), gamma,
                      EPSILON, case=case, numpy_only=True)
        if not isinstance(result, (tuple, list)) or len(result) != 3:
            raise CheckFailed(f"batchnorm_backward should return (grad_x, grad_gamma, grad_beta) "
                              f"for {case}, got {type(result).__name__}.")
        compare("grad_beta", result[2], grad_beta, case=case, atol=1e-4, rtol=1e-3,
                hint="grad_beta sums grad_y over every axis except the channels.")
        compare("grad_gamma", result[1], grad_gamma, case=case, atol=1e-4, rtol=1e-3,
                hint="grad_gamma sums grad_y * x_hat (the normalised x) over every axis "
                     "except the channels.")
        compare("grad_x", result[0], grad_x, case=case, atol=1e-3, rtol=1e-3,
                hint="the batch mean and variance depend on x too: "
                     "grad_x = gamma / sqrt(var + eps) * (g - mean(g) - x_hat * mean(g * x_hat)), "
                     "means over the batch axes.")
    return f"{len(SHAPES)} cases agree with tf.GradientTape"
