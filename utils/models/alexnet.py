"""AlexNet (Krizhevsky, Sutskever & Hinton, "ImageNet classification with deep convolutional
neural networks", NeurIPS 2012), assembled from the elements of notebooks 01-08: ReLU, local
response normalisation, overlapping max pooling (3x3, stride 2), dropout, augmentation and the
two-GPU split as grouped convolutions.

Layer names: conv1..conv5, lrn1, lrn2, pool1, pool2, pool5, fc6, fc7, fc8 (softmax).

Taught in: notebooks/09_alexnet.ipynb
"""

from __future__ import annotations

from utils import validation
from utils.models._common import bool_arg, classes_arg, input_shape_arg, widths_arg
from utils.models.layers import GroupedConv2D

ACTIVATIONS = ("relu", "tanh")


def _lrn(name):
    from utils.norm import LocalResponseNormalization

    # AlexNet's constants (Section 3.3): n = 5, k = 2, alpha = 1e-4, beta = 0.75.
    return LocalResponseNormalization(n=5, k=2.0, alpha=1e-4, beta=0.75, name=name)


def _features(x, *, widths, kernel_sizes, conv1_stride, two_towers, activation, lrn, pool_padding):
    import keras

    groups = 2 if two_towers else 1
    # Layers 2, 4 and 5 see only the kernel maps of their own GPU (groups = 2); layer 3 sees both.
    layer_groups = (1, groups, 1, groups, groups)
    for index, (width, kernel_size, layer_group) in enumerate(zip(widths, kernel_sizes, layer_groups), start=1):
        options = dict(strides=conv1_stride if index == 1 else 1,
                       padding="valid" if index == 1 and conv1_stride > 1 else "same",
                       activation=activation, name=f"conv{index}")
        if layer_group > 1:
            x = GroupedConv2D(width, kernel_size, groups=layer_group, **options)(x)
        else:
            x = keras.layers.Conv2D(width, kernel_size, **options)(x)
        if index in (1, 2):
            if lrn:
                x = _lrn(f"lrn{index}")(x)
            x = keras.layers.MaxPooling2D(3, strides=2, padding=pool_padding, name=f"pool{index}")(x)
    return keras.layers.MaxPooling2D(3, strides=2, padding=pool_padding, name="pool5")(x)


def _classifier(x, *, dense_units, classes, activation, dropout):
    import keras

    x = keras.layers.Flatten(name="flatten")(x)
    for name in ("fc6", "fc7"):
        x = keras.layers.Dense(dense_units, activation=activation, name=name)(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"{name}_dropout")(x)
    return keras.layers.Dense(classes, activation="softmax", name="fc8")(x)


def alexnet(two_towers: bool = True, input_shape=(227, 227, 3), classes: int = 1000, *,
            activation: str = "relu", lrn: bool = True, dropout: float = 0.5):
    """The ImageNet AlexNet: five convolutions (96, 256, 384, 384, 256 kernels of 11, 5, 3, 3, 3),
    LRN after conv1 and conv2, 3x3/2 max pooling after conv1, conv2, conv5, then fc6, fc7
    (4096 units, dropout 0.5) and fc8 (softmax).

    [N, 227, 227, 3] -> [N, classes]; conv1 has stride 4 and no padding: 227 -> 55, then
    55 -> 27 -> 13 -> 6 through the three poolings (out = floor((in - 3) / 2) + 1).
    two_towers=True: conv2, conv4 and conv5 are grouped convolutions with 2 groups
    (`GroupedConv2D`), the two GPUs of the paper: 60,965,224 parameters (conv2 has 5*5*48*256 weights, not 5*5*96*256).
    two_towers=False: one tower, 62,378,344 parameters.
    """
    import keras

    bool_arg("two_towers", two_towers)
    input_shape = input_shape_arg(input_shape, min_size=67)
    classes = classes_arg(classes)
    validation.as_choice("activation", activation, ACTIVATIONS)
    bool_arg("lrn", lrn)
    dropout = validation.as_fraction("dropout", dropout)
    inputs = keras.Input(input_shape, name="image")
    x = _features(inputs, widths=(96, 256, 384, 384, 256), kernel_sizes=(11, 5, 3, 3, 3), conv1_stride=4,
                  two_towers=two_towers, activation=activation, lrn=lrn, pool_padding="valid")
    outputs = _classifier(x, dense_units=4096, classes=classes, activation=activation, dropout=dropout)
    return keras.Model(inputs, outputs, name="alexnet" if two_towers else "alexnet_one_tower")


def alexnet_small(two_towers: bool = True, input_shape=(32, 32, 3), classes: int = 9, *,
                  activation: str = "relu", lrn: bool = True, dropout: float = 0.5, augmentation: bool = True,
                  widths=(32, 64, 96, 96, 64), dense_units: int = 256, seed: int | None = None):
    """AlexNet scaled to 32x32 images, with every element of the original kept switchable.

    The same layers as `alexnet` with `widths` kernels of 5, 5, 3, 3, 3 pixels (stride 1,
    padding same), LRN, overlapping 3x3/2 max pooling (32 -> 15 -> 7 -> 3), fc6 and fc7 with
    `dense_units` units and dropout, fc8 softmax. [N, 32, 32, 3] -> [N, classes].

    augmentation=True puts AlexNet's augmentation in front, active only in training: random
    horizontal flips and random translations by up to 1/8 of the image (the paper's random
    224-pixel crops of 256-pixel images shift by up to 1/8 too). activation="tanh" replaces
    every ReLU (the saturating baseline of the paper's Figure 1). seed: seeds the augmentation.
    """
    import keras

    bool_arg("two_towers", two_towers)
    input_shape = input_shape_arg(input_shape, min_size=16)
    classes = classes_arg(classes)
    validation.as_choice("activation", activation, ACTIVATIONS)
    bool_arg("lrn", lrn)
    dropout = validation.as_fraction("dropout", dropout)
    bool_arg("augmentation", augmentation)
    widths = widths_arg("widths", widths, length=5, multiple_of=2 if two_towers else 1)
    dense_units = validation.as_int("dense_units", dense_units, minimum=1)
    if seed is not None:
        seed = validation.as_int("seed", seed, minimum=0)
    inputs = keras.Input(input_shape, name="image")
    x = inputs
    if augmentation:
        x = keras.layers.RandomFlip("horizontal", seed=seed, name="random_flip")(x)
        x = keras.layers.RandomTranslation(0.125, 0.125, fill_mode="reflect", seed=seed,
                                           name="random_translation")(x)
    x = _features(x, widths=widths, kernel_sizes=(5, 5, 3, 3, 3), conv1_stride=1, two_towers=two_towers,
                  activation=activation, lrn=lrn, pool_padding="valid")
    outputs = _classifier(x, dense_units=dense_units, classes=classes, activation=activation, dropout=dropout)
    return keras.Model(inputs, outputs, name="alexnet_small")
