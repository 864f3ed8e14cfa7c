"""Checks for Lab 09 (residual block and Inception module). References:
keras.applications.ResNet50(weights=None) (its blocks' layers, parameter counts and output
shapes) and Table 1 of Szegedy et al., "Going deeper with convolutions" (CVPR 2015)."""

import collections
import functools
import itertools

import keras
import numpy as np
import tensorflow as tf

from utils.labcheck import LOOKS_LIKE, CheckFailed, call, case_rng

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
    outputs = call(name, function, inputs, *args, case=case, no_course_utils=True)
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
        sample = case_rng(90).normal(size=(2, *input_shape)).astype(np.float32)
        if float(np.min(model(sample))) < 0:
            raise CheckFailed(f"the block's output has negative values for {case}.",
                              "apply the ReLU after adding the shortcut.")
        _compare_with_resnet_block(model, resnet, block, projection, sample, case)
    return (f"{len(RESNET_CASES)} blocks compute what keras.applications.ResNet50's blocks "
            f"compute, with the same weights")


def _producer(layer):
    """The layer whose output `layer` is called on (its first input)."""
    tensor = layer._inbound_nodes[0].input_tensors[0]
    return tensor._keras_history.operation


def _randomise(layers, rng):
    """Give the reference block's layers random weights, batch normalisation included (its
    statistics too, so that where it sits changes the output)."""
    for layer in layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            channels = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, channels), rng.normal(0, 0.5, channels),
                               rng.normal(0, 0.5, channels), rng.uniform(0.5, 2.0, channels)])
        elif isinstance(layer, keras.layers.Conv2D):
            kernel = layer.kernel.shape
            fan_in = int(np.prod(kernel[:3]))
            layer.set_weights([rng.normal(0, np.sqrt(2.0 / fan_in), kernel),
                               rng.normal(0, 0.1, kernel[-1])])


def _compare_with_resnet_block(model, resnet, block, projection, sample, case):
    """Copy the weights of ResNet50's `block` into the student's block (each convolution by
    its kernel's shape, with the batch normalisation that follows it; where two convolutions
    have the same shape, both ways are tried) and compare the outputs in inference mode."""
    reference = {name: resnet.get_layer(f"{block}_{name}")
                 for name in ("1_conv", "1_bn", "2_conv", "2_bn", "3_conv", "3_bn")
                 + (("0_conv", "0_bn") if projection else ())}
    _randomise(reference.values(), case_rng(91))
    x = tf.constant(sample)
    h = keras.activations.relu(reference["1_bn"](reference["1_conv"](x), training=False))
    h = keras.activations.relu(reference["2_bn"](reference["2_conv"](h), training=False))
    h = reference["3_bn"](reference["3_conv"](h), training=False)
    shortcut = reference["0_bn"](reference["0_conv"](x), training=False) if projection else x
    expected = keras.activations.relu(h + shortcut).numpy()

    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    norms = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            source = _producer(layer)
            if not isinstance(source, keras.layers.Conv2D):
                raise CheckFailed(f"a batch normalisation of the block for {case} normalises the "
                                  f"output of a {type(source).__name__}, not of a convolution.",
                                  "each convolution is followed directly by its batch "
                                  "normalisation; the ReLU comes after the batch normalisation.")
            norms[id(source)] = layer
    references = [name for name in reference if name.endswith("conv")]
    groups = collections.defaultdict(lambda: ([], []))
    for layer in convs:
        groups[tuple(layer.kernel.shape)][0].append(layer)
    for name in references:
        groups[tuple(reference[name].kernel.shape)][1].append(name)
    if any(len(mine) != len(theirs) for mine, theirs in groups.values()):
        raise CheckFailed(f"the block's convolutions have other kernel shapes than ResNet50's "
                          f"{block} for {case}.", "1x1, 3x3, 1x1 (and 1x1 on the shortcut).")
    best = None
    for assignment in itertools.product(*(itertools.permutations(theirs)
                                          for _, theirs in groups.values())):
        for (mine, _), names in zip(groups.values(), assignment):
            for layer, name in zip(mine, names):
                layer.set_weights(reference[name].get_weights())
                norm = norms.get(id(layer))
                if norm is not None:
                    norm.set_weights(reference[name.replace("conv", "bn")].get_weights())
        got = np.asarray(model(sample, training=False))
        error = float(np.max(np.abs(got - expected)))
        best = error if best is None else min(best, error)
        if np.allclose(got, expected, atol=1e-4, rtol=1e-3):
            return
    mistake = _bottleneck_mistake(reference, x, expected, projection, got)
    raise CheckFailed(f"with ResNet50's {block} weights copied in, your block computes other "
                      f"values than Keras' block for {case} (largest difference {best:.3g})."
                      + (f" {LOOKS_LIKE} {mistake}" if mistake else ""),
                      "1x1 conv (with the stride) -> BN -> ReLU -> 3x3 conv ('same') -> BN -> "
                      "ReLU -> 1x1 conv -> BN; add the shortcut (1x1 conv with the stride -> BN "
                      "when projecting), then ReLU.")


def _bottleneck_mistake(reference, x, expected, projection, got):
    """Name a known mistake whose output `got` matches, if any."""
    def run(stride_on_3x3=False, relu_before_bn=False, relu_before_add=False):
        conv1, conv2 = reference["1_conv"], reference["2_conv"]
        def conv(layer, h, strides):
            return tf.nn.conv2d(h, layer.kernel, strides, layer.padding.upper()) + layer.bias
        stride = conv1.strides[0] if not stride_on_3x3 else 1
        steps = [(conv1, reference["1_bn"], stride), (conv2, reference["2_bn"],
                 conv1.strides[0] if stride_on_3x3 else 1)]
        h = x
        for layer, norm, strides in steps:
            h = conv(layer, h, strides)
            h = norm(keras.activations.relu(h), training=False) if relu_before_bn else \
                keras.activations.relu(norm(h, training=False))
        h = reference["3_bn"](reference["3_conv"](h), training=False)
        shortcut = reference["0_bn"](reference["0_conv"](x), training=False) if projection else x
        if relu_before_add:
            return (keras.activations.relu(h) + shortcut).numpy()
        return keras.activations.relu(h + shortcut).numpy()
    known = {"the stride is on the 3x3 convolution; Keras' ResNet50 strides with the first 1x1 "
             "convolution.": dict(stride_on_3x3=True),
             "the ReLU comes before the batch normalisation; it comes after.":
             dict(relu_before_bn=True),
             "the last ReLU is applied before adding the shortcut; it comes after the addition.":
             dict(relu_before_add=True)}
    for description, options in known.items():
        try:
            candidate = run(**options)
        except Exception:
            continue
        if candidate.shape == got.shape and np.allclose(candidate, got, atol=1e-4, rtol=1e-3):
            return description
    return None


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
        _compare_with_paper_module(model, input_shape, filters, case)
    return (f"{len(INCEPTION_CASES)} modules match GoogLeNet's Table 1 and compute the paper's "
            f"module (branch order, ReLUs, pooling) with the same weights")


def _paper_module(x, weights, relu=True):
    """The Inception module of the paper, in TensorFlow ops: branches 1x1; 1x1 -> 3x3;
    1x1 -> 5x5; 3x3 max pool (stride 1, 'same') -> 1x1; a ReLU after every convolution;
    concatenated in that order. weights: {role: (kernel, bias)}."""
    def conv(h, role):
        kernel, bias = weights[role]
        h = tf.nn.conv2d(h, kernel, 1, "SAME") + bias
        return tf.nn.relu(h) if relu else h
    branches = [conv(x, "1x1"), conv(conv(x, "3x3_reduce"), "3x3"),
                conv(conv(x, "5x5_reduce"), "5x5"),
                conv(tf.nn.max_pool2d(x, 3, 1, "SAME"), "pool_proj")]
    return branches


def _compare_with_paper_module(model, input_shape, filters, case):
    """Give the student's convolutions seeded random weights, rebuild the paper's module from
    the same weights (each convolution's role found by what it reads and its kernel shape)
    and compare outputs."""
    rng = case_rng(92)
    f1, f3r, f3, f5r, f5, pool_proj = filters
    channels = input_shape[-1]
    roles = {"1x1": (1, 1, channels, f1), "3x3_reduce": (1, 1, channels, f3r),
             "3x3": (3, 3, f3r, f3), "5x5_reduce": (1, 1, channels, f5r), "5x5": (5, 5, f5r, f5),
             "pool_proj": (1, 1, channels, pool_proj)}
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    for layer in convs:
        kernel = layer.kernel.shape
        fan_in = int(np.prod(kernel[:3]))
        layer.set_weights([rng.normal(0, np.sqrt(2.0 / fan_in), kernel).astype(np.float32),
                           rng.normal(0, 0.1, kernel[-1]).astype(np.float32)])
    # which role each convolution plays: the 3x3 and 5x5 by their kernels, the pool
    # projection by reading the max pooling, the reduces by feeding the 3x3 / 5x5
    by_role = {}
    for layer in convs:
        source = _producer(layer)
        size = layer.kernel.shape[0]
        if size in (3, 5):
            by_role[f"{size}x{size}"] = layer
            if isinstance(source, keras.layers.Conv2D):
                by_role[f"{size}x{size}_reduce"] = source
        elif isinstance(source, keras.layers.MaxPooling2D):
            by_role["pool_proj"] = layer
    rest = [layer for layer in convs if layer not in by_role.values()]
    if len(by_role) != 5 or len(rest) != 1:
        raise CheckFailed(f"the module's branches are not wired as in the paper for {case}.",
                          "1x1; 1x1 then 3x3; 1x1 then 5x5; 3x3 max pool then 1x1, all reading "
                          "the module's input.")
    by_role["1x1"] = rest[0]
    for role, shape in roles.items():
        if tuple(by_role[role].kernel.shape) != shape:
            raise CheckFailed(f"the {role} convolution has kernel shape "
                              f"{tuple(by_role[role].kernel.shape)} for {case}; the paper's has "
                              f"{shape}.", "check which filter count goes to which branch.")
    weights = {role: (layer.kernel.numpy(), layer.bias.numpy()) for role, layer in by_role.items()}
    x = case_rng(93).normal(size=(2, *input_shape)).astype(np.float32)
    got = np.asarray(model(x))
    branches = _paper_module(tf.constant(x), weights)
    expected = tf.concat(branches, axis=-1).numpy()
    if np.allclose(got, expected, atol=1e-4, rtol=1e-3):
        return
    mistake = None
    if any(got.shape == expected.shape and
           np.allclose(got, tf.concat([branches[i] for i in order], axis=-1).numpy(),
                       atol=1e-4, rtol=1e-3)
           for order in itertools.permutations(range(4)) if order != (0, 1, 2, 3)):
        mistake = ("the branches are concatenated in another order; the paper's is 1x1, 3x3, "
                   "5x5, pool projection.")
    elif np.allclose(got, tf.concat(_paper_module(tf.constant(x), weights, relu=False), -1),
                     atol=1e-4, rtol=1e-3):
        mistake = "no convolution is followed by a ReLU; every one is, in GoogLeNet."
    raise CheckFailed(f"with the same weights, your module computes other values than the "
                      f"paper's for {case}." + (f" {LOOKS_LIKE} {mistake}" if mistake else ""),
                      "a ReLU after every convolution (the reduces too); a 3x3 max pool with "
                      "stride 1 and 'same' padding; concatenate 1x1, 3x3, 5x5, pool projection "
                      "along the channels, in that order.")
