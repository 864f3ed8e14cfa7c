"""AlexNet (Krizhevsky, Sutskever & Hinton, "ImageNet classification with deep convolutional
neural networks", NeurIPS 2012), assembled from the elements of notebooks 01-08: ReLU, local
response normalisation, overlapping max pooling (3x3, stride 2), dropout and the two-GPU split
as grouped convolutions.

Layer names: conv1..conv5, lrn1, lrn2, pool1, pool2, pool5, fc6, fc7, fc8 (softmax).

Taught in: notebooks/09_alexnet.ipynb (saved from it for notebooks/12_resnet.ipynb's model zoo).
"""

import keras

from utils import models, norm

__all__ = ["alexnet", "alexnet_classifier", "alexnet_features"]


# ---- saved from notebooks/09_alexnet.ipynb by tools/saved_cells.py: edit the notebook, not this block ----

def alexnet_features(x, widths, kernel_sizes, conv1_stride, two_towers=True, activation="relu", lrn=True):
    """conv1-conv5, LRN and 3x3/2 max pooling after conv1 and conv2, and pool5: [N, H, W, C] -> [N, H', W', widths[4]].

    two_towers: conv2, conv4 and conv5 see only the kernel maps of their own GPU (a grouped convolution,
    2 groups); conv3 sees both. LRN has the paper's constants (Section 3.3): n = 5, k = 2, alpha = 1e-4,
    beta = 0.75. conv1 has stride conv1_stride (no padding when > 1); the others keep the size.
    """
    layer_groups = (1, 2, 1, 2, 2) if two_towers else (1, 1, 1, 1, 1)
    for index, (width, kernel_size, groups) in enumerate(zip(widths, kernel_sizes, layer_groups), start=1):
        options = dict(strides=conv1_stride if index == 1 else 1,
                       padding="valid" if index == 1 and conv1_stride > 1 else "same",
                       activation=activation, name=f"conv{index}")
        if groups > 1:
            x = models.GroupedConv2D(width, kernel_size, groups=groups, **options)(x)
        else:
            x = keras.layers.Conv2D(width, kernel_size, **options)(x)
        if index in (1, 2):
            if lrn:
                x = norm.LocalResponseNormalization(n=5, k=2.0, alpha=1e-4, beta=0.75, name=f"lrn{index}")(x)
            x = keras.layers.MaxPooling2D(3, strides=2, name=f"pool{index}")(x)
    return keras.layers.MaxPooling2D(3, strides=2, name="pool5")(x)


def alexnet_classifier(x, dense_units, classes, activation="relu", dropout=0.5):
    """Flatten, fc6 and fc7 (dense_units each, then dropout), fc8 softmax: -> [N, classes]."""
    x = keras.layers.Flatten(name="flatten")(x)
    for name in ("fc6", "fc7"):
        x = keras.layers.Dense(dense_units, activation=activation, name=name)(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"{name}_dropout")(x)
    return keras.layers.Dense(classes, activation="softmax", name="fc8")(x)


def alexnet(two_towers=True, input_shape=(227, 227, 3), classes=1000, activation="relu", lrn=True, dropout=0.5):
    """The ImageNet AlexNet: [N, 227, 227, 3] -> [N, classes].

    96, 256, 384, 384, 256 kernels of 11, 5, 3, 3, 3 pixels; conv1 has stride 4, so 227 -> 55, then
    55 -> 27 -> 13 -> 6 through the three poolings; fc6 and fc7 have 4096 units.
    """
    inputs = keras.Input(input_shape, name="image")
    x = alexnet_features(inputs, (96, 256, 384, 384, 256), (11, 5, 3, 3, 3), 4, two_towers, activation, lrn)
    outputs = alexnet_classifier(x, 4096, classes, activation, dropout)
    return keras.Model(inputs, outputs, name="alexnet" if two_towers else "alexnet_one_tower")

# ---- end of saved cells ----
