"""Residual networks (He et al., "Deep residual learning for image recognition", CVPR 2016) and
ResNeXt (Xie et al., "Aggregated residual transformations for deep neural networks", CVPR 2017).

A residual block computes y = relu(x + F(x)) instead of y = relu(F(x)): learning the identity
means driving F to zero, which is easy; the addition also passes gradients straight through.

Layer names follow `keras.applications.ResNet50`: conv1_conv, conv2_block1_1_conv, ...,
conv5_block3_out, avg_pool, predictions.

Taught in: notebooks/12_resnet.ipynb (`basic_block` and `bottleneck_block` are saved from it).
"""

from __future__ import annotations

import keras


# ---- saved from notebooks/12_resnet.ipynb by tools/saved_cells.py: edit the notebook, not this block ----

BN_EPSILON = 1.001e-5  # as keras.applications.ResNet50


def basic_block(x, filters: int, *, stride: int = 1, residual: bool = True, zero_init: bool = False,
                name: str = "block"):
    """Two 3x3 convolutions with BatchNorm (the block of ResNet-18/34 and of the CIFAR ResNets).

    x: [N, H, W, C] -> [N, H / stride, W / stride, filters]. residual=False gives the "plain"
    block of the paper (same layers, no addition). When the shape changes the shortcut is a
    1x1 convolution with stride (option B). zero_init=True starts the last BatchNorm's scale
    at 0, so F(x) = 0 and the block is the identity at initialisation (Goyal et al. 2017).
    """
    shortcut = x
    y = keras.layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_1_conv")(x)
    y = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_1_bn")(y)
    y = keras.layers.ReLU(name=f"{name}_1_relu")(y)
    y = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(y)
    y = keras.layers.BatchNormalization(epsilon=BN_EPSILON, gamma_initializer="zeros" if zero_init else "ones",
                                        name=f"{name}_2_bn")(y)
    if residual:
        if stride != 1 or x.shape[-1] != filters:
            shortcut = keras.layers.Conv2D(filters, 1, strides=stride, use_bias=False, name=f"{name}_0_conv")(x)
            shortcut = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_0_bn")(shortcut)
        y = keras.layers.Add(name=f"{name}_add")([shortcut, y])
    return keras.layers.ReLU(name=f"{name}_out")(y)


def bottleneck_block(x, filters: int, *, stride: int = 1, groups: int = 1, width: int | None = None,
                     conv_bias: bool = True, residual: bool = True, zero_init: bool = False,
                     name: str = "block"):
    """The bottleneck block of ResNet-50/101/152: 1x1 (reduce to `width`), 3x3, 1x1 (expand to
    4 * filters), each followed by BatchNorm, with the shortcut added before the last ReLU.

    x: [N, H, W, C] -> [N, H / stride, W / stride, 4 * filters]. width defaults to `filters`;
    groups > 1 makes the 3x3 a grouped convolution (ResNeXt: groups = cardinality).
    The stride sits on the first 1x1 convolution, as in keras.applications (the parameter
    count does not depend on where it sits). conv_bias=True gives every convolution a bias
    (keras.applications); False is the paper's convention (a bias before BatchNorm is
    redundant, since BatchNorm subtracts the mean and adds its own offset).
    """
    width = filters if width is None else width
    shortcut = x
    y = keras.layers.Conv2D(width, 1, strides=stride, use_bias=conv_bias, name=f"{name}_1_conv")(x)
    y = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_1_bn")(y)
    y = keras.layers.ReLU(name=f"{name}_1_relu")(y)
    y = keras.layers.Conv2D(width, 3, padding="same", groups=groups, use_bias=conv_bias, name=f"{name}_2_conv")(y)
    y = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_2_bn")(y)
    y = keras.layers.ReLU(name=f"{name}_2_relu")(y)
    y = keras.layers.Conv2D(4 * filters, 1, use_bias=conv_bias, name=f"{name}_3_conv")(y)
    y = keras.layers.BatchNormalization(epsilon=BN_EPSILON, gamma_initializer="zeros" if zero_init else "ones",
                                        name=f"{name}_3_bn")(y)
    if residual:
        if stride != 1 or x.shape[-1] != 4 * filters:
            shortcut = keras.layers.Conv2D(4 * filters, 1, strides=stride, use_bias=conv_bias,
                                           name=f"{name}_0_conv")(x)
            shortcut = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_0_bn")(shortcut)
        y = keras.layers.Add(name=f"{name}_add")([shortcut, y])
    return keras.layers.ReLU(name=f"{name}_out")(y)

# ---- end of saved cells ----


def _bottleneck_net(*, input_shape, classes, conv_bias, groups, width_per_group, name):
    inputs = keras.Input(input_shape, name="image")
    x = keras.layers.ZeroPadding2D(3, name="conv1_pad")(inputs)
    x = keras.layers.Conv2D(64, 7, strides=2, use_bias=conv_bias, name="conv1_conv")(x)
    x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name="conv1_bn")(x)
    x = keras.layers.ReLU(name="conv1_relu")(x)
    x = keras.layers.ZeroPadding2D(1, name="pool1_pad")(x)
    x = keras.layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for stage, (filters, blocks) in enumerate(zip((64, 128, 256, 512), (3, 4, 6, 3)), start=2):
        width = filters if groups == 1 else groups * width_per_group * 2 ** (stage - 2)
        for block in range(1, blocks + 1):
            stride = 2 if block == 1 and stage > 2 else 1
            x = bottleneck_block(x, filters, stride=stride, groups=groups, width=width, conv_bias=conv_bias,
                                 name=f"conv{stage}_block{block}")
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = keras.layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


def resnet50(*, input_shape=(224, 224, 3), classes: int = 1000, conv_bias: bool = True):
    """ResNet-50: a 7x7/2 stem, max pooling, 3 + 4 + 6 + 3 bottleneck blocks (64, 128, 256, 512
    filters, x4 at the output), global average pooling, Dense(classes); [N, H, W, C] ->
    [N, classes], H, W >= 32. conv_bias=True: 25,636,712 parameters, like
    `keras.applications.ResNet50(weights=None)`; conv_bias=False (the paper's convention) drops
    the 53 convolutions' 26,560 biases: 25,610,152 parameters, 25,557,032 trainable as in
    torchvision (which keeps BatchNorm's 53,120 moving statistics as buffers).
    """
    return _bottleneck_net(input_shape=input_shape, classes=classes, conv_bias=conv_bias, groups=1,
                           width_per_group=64, name="resnet50")


def resnext50(*, cardinality: int = 32, width_per_group: int = 4, input_shape=(224, 224, 3),
              classes: int = 1000, conv_bias: bool = False):
    """ResNeXt-50 (32x4d by default): ResNet-50 whose 3x3 convolutions are grouped, with
    `cardinality` groups of `width_per_group` channels (doubling per stage); without convolution
    biases 25,028,904 trainable parameters, as torchvision's resnext50_32x4d (the paper: 25.0M).
    """
    return _bottleneck_net(input_shape=input_shape, classes=classes, conv_bias=conv_bias, groups=cardinality,
                           width_per_group=width_per_group, name=f"resnext50_{cardinality}x{width_per_group}d")


def resnet_small(*, depth: int = 20, residual: bool = True, widths=(16, 32, 64), input_shape=(32, 32, 3),
                 classes: int = 9, zero_init: bool = False):
    """The CIFAR networks of the paper (Section 4.2): a 3x3 convolution, three stages of n basic
    blocks (widths[0], widths[1], widths[2] filters; stride 2 at the start of stages 2 and 3),
    global average pooling and Dense(classes): depth = 6n + 2 weighted layers.

    residual=False gives the "plain" network with exactly the same convolutions and no
    shortcuts (the projection shortcuts of the residual net add a few 1x1 convolutions).
    [N, H, W, C] -> [N, classes]. Convolutions are named stage{s}_block{b}_{1,2}_conv.
    """
    blocks = (depth - 2) // 6
    inputs = keras.Input(input_shape, name="image")
    x = keras.layers.Conv2D(widths[0], 3, padding="same", use_bias=False, name="stem_conv")(inputs)
    x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name="stem_bn")(x)
    x = keras.layers.ReLU(name="stem_relu")(x)
    for stage, filters in enumerate(widths, start=1):
        for block in range(1, blocks + 1):
            stride = 2 if block == 1 and stage > 1 else 1
            x = basic_block(x, filters, stride=stride, residual=residual, zero_init=zero_init,
                            name=f"stage{stage}_block{block}")
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = keras.layers.Dense(classes, activation="softmax", name="predictions")(x)
    kind = "resnet" if residual else "plain"
    return keras.Model(inputs, outputs, name=f"{kind}{depth}")
