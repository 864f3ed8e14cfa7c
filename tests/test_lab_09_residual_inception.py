"""Lab 09: each checker rejects plausible wrong answers."""

import keras
import pytest

from test_lab_framework import (assert_hidden_cases_pass, assert_mistake_named, assert_rejected,
                                assert_shortcut_rejected, solution_namespace)

LAB = "09_residual_inception"


@pytest.fixture(scope="module")
def solution():
    return solution_namespace(LAB)


def _block(x, filters, stride, projection, *, expand=4, shortcut_bn=True, final_relu=True,
           always_project=False, bias=True, stride_on_shortcut=True):
    bn = lambda t: keras.layers.BatchNormalization(epsilon=1.001e-5)(t)  # noqa: E731
    shortcut = x
    if projection or always_project:
        shortcut = keras.layers.Conv2D(expand * filters, 1, strides=stride if stride_on_shortcut else 1,
                                       use_bias=bias)(x)
        if shortcut_bn:
            shortcut = bn(shortcut)
    y = keras.layers.Activation("relu")(bn(keras.layers.Conv2D(filters, 1, strides=stride, use_bias=bias)(x)))
    y = keras.layers.Activation("relu")(bn(keras.layers.Conv2D(filters, 3, padding="same", use_bias=bias)(y)))
    y = bn(keras.layers.Conv2D(expand * filters, 1, use_bias=bias)(y))
    y = keras.layers.Add()([shortcut, y])
    return keras.layers.Activation("relu")(y) if final_relu else y


def test_bottleneck_block_rejects():
    def no_expansion(x, f, s, p):
        return _block(x, f, s, p, expand=1)

    def projection_without_batchnorm(x, f, s, p):
        return _block(x, f, s, p, shortcut_bn=False)

    def no_relu_after_add(x, f, s, p):
        return _block(x, f, s, p, final_relu=False)

    def always_projects(x, f, s, p):
        return _block(x, f, s, p, always_project=True)

    def convolutions_without_bias(x, f, s, p):
        return _block(x, f, s, p, bias=False)

    assert_rejected(LAB, "bottleneck_block", no_expansion, r"raised ValueError|wrong shape")
    assert_rejected(LAB, "bottleneck_block", projection_without_batchnorm, r"layers differ.*conv2_block1")
    assert_rejected(LAB, "bottleneck_block", no_relu_after_add, r"negative values")
    assert_rejected(LAB, "bottleneck_block", always_projects, r"layers differ.*conv2_block2")
    assert_rejected(LAB, "bottleneck_block", convolutions_without_bias, r"76,288 parameters.*76,928")


def _module(x, f1, r3, f3, r5, f5, pp, *, reduce5=True, size5=5, pool_stride=1, project_pool=True,
            padding="same", axis=-1):
    conv = lambda t, n, k: keras.layers.Conv2D(n, k, padding=padding, activation="relu")(t)  # noqa: E731
    b1 = conv(x, f1, 1)
    b3 = conv(conv(x, r3, 1), f3, 3)
    b5 = conv(conv(x, r5, 1) if reduce5 else x, f5, size5)
    pooled = keras.layers.MaxPooling2D(3, strides=pool_stride, padding="same")(x)
    bp = conv(pooled, pp, 1) if project_pool else pooled
    return keras.layers.Concatenate(axis=axis)([b1, b3, b5, bp])


def test_inception_module_rejects():
    def no_5x5_reduce(x, *f):
        return _module(x, *f, reduce5=False)

    def three_by_three_instead_of_5x5(x, *f):
        return _module(x, *f, size5=3)

    def pool_without_projection(x, *f):
        return _module(x, *f, project_pool=False)

    def valid_padding(x, *f):
        return _module(x, *f, padding="valid")

    def strided_pool(x, *f):
        return _module(x, *f, pool_stride=2)

    def swapped_3x3_and_5x5_widths(x, f1, r3, f3, r5, f5, pp):
        return _module(x, f1, r3, f5, r5, f3, pp)

    assert_rejected(LAB, "inception_module", no_5x5_reduce, r"6 convolutions")
    assert_rejected(LAB, "inception_module", three_by_three_instead_of_5x5, r"weights for inception \(3a\)")
    assert_rejected(LAB, "inception_module", pool_without_projection, r"wrong shape.*expected \(28, 28, 256\)")
    assert_rejected(LAB, "inception_module", valid_padding, r"raised ValueError|wrong shape")
    assert_rejected(LAB, "inception_module", strided_pool, r"raised ValueError|wrong shape")
    assert_rejected(LAB, "inception_module", swapped_3x3_and_5x5_widths, r"weights for inception \(3a\)")


# ------------------------------------------ behaviour, shortcuts and named mistakes

def _misplaced_block(x, filters, stride, projection, *, stride_on_3x3=False, relu_before_bn=False,
                     relu_before_add=False):
    """Same layers, shapes and parameter counts as the right block; only the order differs."""
    bn = lambda t: keras.layers.BatchNormalization(epsilon=1.001e-5)(t)  # noqa: E731
    relu = lambda t: keras.layers.Activation("relu")(t)  # noqa: E731
    shortcut = x
    if projection:
        shortcut = bn(keras.layers.Conv2D(4 * filters, 1, strides=stride)(x))
    y = x
    for kernel, strides in ((1, 1 if stride_on_3x3 else stride), (3, stride if stride_on_3x3 else 1)):
        y = keras.layers.Conv2D(filters, kernel, strides=strides, padding="same")(y)
        y = bn(relu(y)) if relu_before_bn else relu(bn(y))
    y = bn(keras.layers.Conv2D(4 * filters, 1)(y))
    if relu_before_add:
        return keras.layers.Add()([shortcut, relu(y)])
    return relu(keras.layers.Add()([shortcut, y]))


def test_solution_passes_the_numerical_checks(solution):
    lab = solution["lab"]
    assert lab.passed("bottleneck_block") and lab.passed("inception_module")
    assert "with the same weights" in lab.results["bottleneck_block"][1]


def test_structure_right_behaviour_wrong_is_rejected():
    def stride_on_3x3(x, f, s, p):
        return _misplaced_block(x, f, s, p, stride_on_3x3=True)

    def relu_before_bn(x, f, s, p):
        return _misplaced_block(x, f, s, p, relu_before_bn=True)

    def relu_before_add(x, f, s, p):
        return _misplaced_block(x, f, s, p, relu_before_add=True)

    assert_mistake_named(LAB, "bottleneck_block", stride_on_3x3, r"stride is on the 3x3")
    assert_rejected(LAB, "bottleneck_block", relu_before_bn, r"normalises the output of a Activation")
    assert_rejected(LAB, "bottleneck_block", relu_before_add, r"negative values.*after adding the shortcut")

    def branches_reordered(x, f1, r3, f3, r5, f5, pp):
        conv = lambda t, n, k: keras.layers.Conv2D(n, k, padding="same", activation="relu")(t)  # noqa: E731
        b1 = conv(x, f1, 1)
        b3 = conv(conv(x, r3, 1), f3, 3)
        b5 = conv(conv(x, r5, 1), f5, 5)
        bp = conv(keras.layers.MaxPooling2D(3, strides=1, padding="same")(x), pp, 1)
        return keras.layers.Concatenate()([b3, b1, b5, bp])

    def no_relu(x, f1, r3, f3, r5, f5, pp):
        conv = lambda t, n, k: keras.layers.Conv2D(n, k, padding="same")(t)  # noqa: E731
        b1 = conv(x, f1, 1)
        b3 = conv(conv(x, r3, 1), f3, 3)
        b5 = conv(conv(x, r5, 1), f5, 5)
        bp = conv(keras.layers.MaxPooling2D(3, strides=1, padding="same")(x), pp, 1)
        return keras.layers.Concatenate()([b1, b3, b5, bp])

    assert_mistake_named(LAB, "inception_module", branches_reordered, r"concatenated in another order")
    assert_mistake_named(LAB, "inception_module", no_relu, r"no convolution is followed by a ReLU")


def test_course_blocks_are_rejected():
    from utils.models import googlenet, resnet

    def course_bottleneck(x, f, s, p):
        return resnet.bottleneck_block(x, f, stride=s)

    def course_inception(x, *filters):
        return googlenet.inception_module(x, *filters)

    assert_shortcut_rejected(LAB, "bottleneck_block", course_bottleneck)
    assert_shortcut_rejected(LAB, "inception_module", course_inception)


def test_hidden_cases_pass_on_the_solution():
    assert_hidden_cases_pass(LAB)
