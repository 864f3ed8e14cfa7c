"""Checks for Lab 09 (residual block and Inception module). References:
keras.applications.ResNet50(weights=None) (its blocks' layers, parameter counts and output
shapes) and Table 1 of Szegedy et al., "Going deeper with convolutions" (CVPR 2015)."""

import collections
import functools

import keras
import numpy as np

from utils.labcheck import CheckFailed, call

# (input shape, filters, stride, projection, the ResNet50 block with exactly that job)
RESNET_CASES = [((56, 56, 64), 64, 1, True, "conv2_block1"),
                ((56, 56, 256), 64, 1, False, "conv2_block2"),
                ((56, 56, 256), 128, 2, True, "conv3_block1"),
                ((28, 28, 512), 128, 1, False, "conv3_block3")]
# GoogLeNet Table 1: input, (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj),
# output size and "params" (thousands of weights, K = 1024, biases not counted). The table's
# counts are rounded: the exact weights are within 0.3% for (3a) and (3b), 0.8% for (4a) and
# 1.5% for (5b), so 2% is allowed; a missing reduce or a wrong kernel size is off by 5% or more.
INCEPTION_CASES = [("inception (3a)", (28, 28, 192), (64, 96, 128, 16, 32, 32), (28, 28, 256), 159),
                   ("inception (3b)", (28, 28, 256), (128, 128, 192, 32, 96, 64), (28, 28, 480), 380),
                   ("inception (4a)", (14, 14, 480), (192, 96, 208, 16, 48, 64), (14, 14, 512), 364),
                   ("inception (5b)", (7, 7, 832), (384, 192, 384, 48, 128, 128), (7, 7, 1024), 1388)]


@functools.cache
def _resnet50():
    return keras.applications.ResNet50(weights=None)


def _kinds(layers):
    counted = collections.Counter(type(layer).__name__ for layer in layers)
    return {kind: counted[kind] for kind in ("Conv2D", "BatchNormalization", "Add")}


def _build(function, name, input_shape, *args, case):
    inputs = keras.Input(shape=input_shape)
    outputs = call(name, function, inputs, *args, case=case)
    try:
        return keras.Model(inputs, outputs)
    except Exception as error:
        raise CheckFailed(f"{name} must return the output tensor of the block for {case}; "
                          f"keras.Model(inputs, outputs) failed with {type(error).__name__}: "
                          f"{error}") from None


def check_bottleneck_block(bottleneck_block):
    """bottleneck_block(x, filters, stride, projection) against ResNet50's blocks."""
    resnet = _resnet50()
    for input_shape, filters, stride, projection, block in RESNET_CASES:
        case = (f"input {list(input_shape)}, filters {filters}, stride {stride}, projection "
                f"{projection} (ResNet50's {block})")
        model = _build(bottleneck_block, "bottleneck_block", input_shape, filters, stride,
                       projection, case=case)
        layers = [layer for layer in resnet.layers if layer.name.startswith(block + "_")]
        expected_shape = tuple(resnet.get_layer(block + "_out").output.shape[1:])
        got_shape = tuple(model.output.shape[1:])
        if got_shape != expected_shape:
            raise CheckFailed(f"the block's output has the wrong shape for {case}: expected "
                              f"{expected_shape}, got {got_shape}.",
                              "the last 1x1 convolution expands to 4 * filters channels; the "
                              "stride is applied by the first 1x1 convolution (and the "
                              "shortcut's).")
        expected_kinds, got_kinds = _kinds(layers), _kinds(model.layers)
        if got_kinds != expected_kinds:
            raise CheckFailed(f"the block's layers differ for {case}: expected {expected_kinds}, "
                              f"got {got_kinds}.",
                              "three convolutions, each followed by batch normalisation, plus "
                              "a 1x1 convolution and batch normalisation on the shortcut only "
                              "when projection is True; one Add.")
        expected_params = sum(layer.count_params() for layer in layers)
        if model.count_params() != expected_params:
            raise CheckFailed(f"the block has {model.count_params():,} parameters for {case}; "
                              f"ResNet50's {block} has {expected_params:,}.",
                              "Keras' ResNet50 convolutions keep their biases; check kernel "
                              "sizes (1x1, 3x3, 1x1) and filter counts.")
        sample = np.random.default_rng(90).normal(size=(1, *input_shape)).astype(np.float32)
        if float(np.min(model(sample))) < 0:
            raise CheckFailed(f"the block's output has negative values for {case}.",
                              "apply the ReLU after adding the shortcut.")
    return f"{len(RESNET_CASES)} blocks match keras.applications.ResNet50 (shape, layers, parameters)"


def _weights_only(model):
    return sum(int(np.prod(layer.kernel.shape)) for layer in model.layers
               if isinstance(layer, keras.layers.Conv2D))


def check_inception_module(inception_module):
    """inception_module(x, f1, f3_reduce, f3, f5_reduce, f5, pool_proj) against GoogLeNet's
    Table 1: output size, and weights within 2% of the published (rounded) count."""
    for label, input_shape, filters, output_shape, thousands in INCEPTION_CASES:
        case = f"{label}: input {list(input_shape)}, filters {list(filters)}"
        model = _build(inception_module, "inception_module", input_shape, *filters, case=case)
        got_shape = tuple(model.output.shape[1:])
        if got_shape != output_shape:
            raise CheckFailed(f"the module's output has the wrong shape for {case}: expected "
                              f"{output_shape} (Table 1), got {got_shape}.",
                              "four branches, all with 'same' padding and stride 1 (the 3x3 max "
                              "pool too), concatenated along the channel axis.")
        kinds = _kinds(model.layers)
        pools = sum(isinstance(layer, keras.layers.MaxPooling2D) for layer in model.layers)
        if kinds["Conv2D"] != 6 or pools != 1:
            raise CheckFailed(f"the module should have 6 convolutions and 1 max pooling for "
                              f"{case}, got {kinds['Conv2D']} and {pools}.",
                              "1x1; 1x1 then 3x3; 1x1 then 5x5; max pool then 1x1.")
        weights = _weights_only(model) / 1024
        if abs(weights - thousands) > 0.02 * thousands:
            raise CheckFailed(f"the module has {weights:.1f}K weights for {case}; GoogLeNet's "
                              f"Table 1 gives {thousands}K (K = 1024, biases not counted; 2% allowed "
                              f"for the table's rounding).",
                              "the 1x1 'reduce' convolutions come before the 3x3 and 5x5 ones; "
                              "the pool branch ends with a 1x1 projection.")
        biases = sum(filters)
        if model.count_params() - _weights_only(model) != biases:
            raise CheckFailed(f"the module has {model.count_params() - _weights_only(model)} "
                              f"biases for {case}; expected {biases} (one per filter).",
                              "every convolution has a bias and a ReLU; no batch normalisation "
                              "in the original GoogLeNet.")
    return f"{len(INCEPTION_CASES)} modules match GoogLeNet's Table 1"
