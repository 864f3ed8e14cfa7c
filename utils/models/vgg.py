"""VGG (Simonyan & Zisserman, "Very deep convolutional networks for large-scale image
recognition", ICLR 2015): stacks of 3x3 convolutions (stride 1, padding 1) separated by 2x2 max
pooling, then three fully connected layers.

Layer names follow `keras.applications.VGG16`: block{b}_conv{i}, block{b}_pool, fc1, fc2,
predictions, so the two can be compared layer by layer.

Taught in: notebooks/10_vgg.ipynb
"""

from __future__ import annotations


# Table 1 of the paper: convolutions per block (64, 128, 256, 512, 512 channels).
CONFIGURATIONS = {"A": (1, 1, 2, 2, 2), "B": (2, 2, 2, 2, 2), "D": (2, 2, 3, 3, 3), "E": (2, 2, 4, 4, 4)}
WIDTHS = (64, 128, 256, 512, 512)


def _vgg(blocks, *, input_shape, classes, dense_units, dropout, include_top=True, name):
    """blocks: (number of 3x3 convolutions, width) per block, each block ending in 2x2 max pooling;
    then Flatten, one Dense(units) (+ Dropout) per entry of dense_units, Dense(classes, softmax)."""
    import keras

    inputs = keras.Input(input_shape, name="image")
    x = inputs
    for block, (num_convs, width) in enumerate(blocks, start=1):
        for index in range(1, num_convs + 1):
            x = keras.layers.Conv2D(width, 3, padding="same", activation="relu",
                                    name=f"block{block}_conv{index}")(x)
        x = keras.layers.MaxPooling2D(2, strides=2, name=f"block{block}_pool")(x)
    if include_top:
        x = keras.layers.Flatten(name="flatten")(x)
        for index, units in enumerate(dense_units, start=1):
            x = keras.layers.Dense(units, activation="relu", name=f"fc{index}")(x)
            if dropout:
                x = keras.layers.Dropout(dropout, name=f"fc{index}_dropout")(x)
        x = keras.layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, x, name=name)


def vgg16(*, input_shape=(224, 224, 3), classes: int = 1000, include_top: bool = True):
    """VGG-16 (configuration D): 13 convolutions + 3 dense layers.

    input_shape: (H, W, C), H and W >= 32 (five 2x2 poolings: output H / 32). [N, H, W, C] ->
    [N, classes] softmax. With the defaults: 138,357,544 parameters, like
    `keras.applications.VGG16(weights=None)`; dropout 0.5 after fc1 and fc2 as in the paper.
    """
    return _vgg(zip(CONFIGURATIONS["D"], WIDTHS), input_shape=input_shape, classes=classes,
                dense_units=(4096, 4096), dropout=0.5, include_top=include_top, name="vgg16")


def vgg19(*, input_shape=(224, 224, 3), classes: int = 1000, include_top: bool = True):
    """VGG-19 (configuration E): 16 convolutions + 3 dense layers; 143,667,240 parameters."""
    return _vgg(zip(CONFIGURATIONS["E"], WIDTHS), input_shape=input_shape, classes=classes,
                dense_units=(4096, 4096), dropout=0.5, include_top=include_top, name="vgg19")


def vgg_small(*, input_shape=(32, 32, 3), classes: int = 9, widths=(32, 64, 128), convs_per_block: int = 2,
              dense_units: int = 256, dropout: float = 0.5):
    """A VGG-style network for 32x32 images: `len(widths)` blocks of `convs_per_block` 3x3
    convolutions (padding same, ReLU) and a 2x2 max pooling, then Flatten, Dense(dense_units),
    Dropout and Dense(classes, softmax). Names as in `vgg16`.

    input_shape (H, W, C): H, W divisible by 2 ** len(widths). [N, H, W, C] -> [N, classes].
    """
    return _vgg([(convs_per_block, width) for width in widths], input_shape=input_shape, classes=classes,
                dense_units=(dense_units,), dropout=dropout, name="vgg_small")
