"""GoogLeNet (Szegedy et al., "Going deeper with convolutions", CVPR 2015): Inception modules
whose 1x1 convolutions reduce the channels before the expensive 3x3 and 5x5 convolutions,
global average pooling instead of large fully connected layers, and two auxiliary classifiers.

Layer names: conv1_7x7, conv2_3x3_reduce, conv2_3x3, inception_3a ... inception_5b (each with
_1x1, _3x3_reduce, _3x3, _5x5_reduce, _5x5, _pool, _pool_proj, _concat), avg_pool, dropout,
predictions; aux1_* and aux2_* for the auxiliary heads.

Taught in: notebooks/11_googlenet.ipynb (`inception_module` is saved from it).
"""

import keras

# Table 1 of the paper: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj.
INCEPTION_FILTERS = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}


# ---- saved from notebooks/11_googlenet.ipynb by tools/saved_cells.py: edit the notebook, not this block ----

def inception_module(x, filters_1x1, reduce_3x3, filters_3x3, reduce_5x5, filters_5x5, pool_proj, reductions=True,
                     name="inception"):
    """One Inception module, four branches concatenated along the channels: [N, H, W, C] -> [N, H, W, C_out].

    reductions=True (Figure 2b): 1x1 | 1x1 reduce -> 3x3 | 1x1 reduce -> 5x5 | 3x3 max pool -> 1x1 projection;
    C_out = filters_1x1 + filters_3x3 + filters_5x5 + pool_proj.
    reductions=False (the naive module, Figure 2a): 1x1 | 3x3 | 5x5 | 3x3 max pool, all on x; the reduce and
    projection sizes are ignored and C_out = filters_1x1 + filters_3x3 + filters_5x5 + C (pooling keeps every channel).
    Every convolution has padding "same" and ReLU; the pooling has stride 1.
    """
    def conv(tensor, filters, size, suffix):
        return keras.layers.Conv2D(filters, size, padding="same", activation="relu", name=f"{name}_{suffix}")(tensor)

    branch_1 = conv(x, filters_1x1, 1, "1x1")
    pooled = keras.layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    if reductions:
        branch_3 = conv(conv(x, reduce_3x3, 1, "3x3_reduce"), filters_3x3, 3, "3x3")
        branch_5 = conv(conv(x, reduce_5x5, 1, "5x5_reduce"), filters_5x5, 5, "5x5")
        branch_pool = conv(pooled, pool_proj, 1, "pool_proj")
    else:
        branch_3 = conv(x, filters_3x3, 3, "3x3")
        branch_5 = conv(x, filters_5x5, 5, "5x5")
        branch_pool = pooled
    return keras.layers.Concatenate(name=f"{name}_concat")([branch_1, branch_3, branch_5, branch_pool])

# ---- end of saved cells ----


def _aux_head(x, pool_size, pool_stride, filters, dense_units, classes, name):
    x = keras.layers.AveragePooling2D(pool_size, strides=pool_stride, name=f"{name}_avg_pool")(x)
    x = keras.layers.Conv2D(filters, 1, activation="relu", name=f"{name}_conv")(x)
    x = keras.layers.Flatten(name=f"{name}_flatten")(x)
    x = keras.layers.Dense(dense_units, activation="relu", name=f"{name}_fc")(x)
    x = keras.layers.Dropout(0.7, name=f"{name}_dropout")(x)
    return keras.layers.Dense(classes, activation="softmax", name=f"{name}_predictions")(x)


def _inception_net(inputs, x, stages, *, scaled, aux_heads, aux_pool, classes, dropout, name):
    """Inception stages (filters through `scaled`) and "poolN" max poolings, auxiliary heads on 4a
    and 4d, global average pooling, dropout and Dense(classes, softmax)."""
    aux = []
    for stage in stages:
        if stage.startswith("pool"):
            x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name=stage)(x)
            continue
        x = inception_module(x, *map(scaled, INCEPTION_FILTERS[stage]), name=f"inception_{stage}")
        if aux_heads and stage in ("4a", "4d"):
            aux.append(_aux_head(x, *aux_pool, scaled(128), scaled(1024), classes, f"aux{len(aux) + 1}"))
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, [outputs, *aux] if aux_heads else outputs, name=name)


def _lrn(name):
    from utils.norm import LocalResponseNormalization

    # The reference (Caffe) GoogLeNet: local_size 5, alpha 1e-4 (Caffe divides it by n), beta 0.75, k 1.
    return LocalResponseNormalization(n=5, k=1.0, alpha=1e-4 / 5, beta=0.75, name=name)


def googlenet(aux_heads=False, input_shape=(224, 224, 3), classes=1000, *, lrn=True, dropout=0.4):
    """GoogLeNet as in Table 1 of the paper.

    [N, 224, 224, 3] -> [N, classes] (or a list [main, aux1, aux2] with aux_heads=True).
    Stem: 7x7/2 conv (64), 3x3/2 max pool, LRN, 1x1 conv (64), 3x3 conv (192), LRN, 3x3/2 max
    pool (224 -> 112 -> 56 -> 28); inception 3a, 3b, max pool (-> 14), 4a-4e, max pool (-> 7),
    5a, 5b, 7x7 average pooling, dropout 0.4, Dense(classes, softmax).
    Auxiliary heads on 4a and 4d: 5x5/3 average pooling (14 -> 4), 1x1 conv (128), FC 1024,
    dropout 0.7, Dense(classes, softmax); they add 2 x 3.2M parameters and are used only in
    training. Without them: 6,998,552 parameters (the paper's Table 1 lists ~6.8M without biases).
    """
    inputs = keras.Input(input_shape, name="image")
    x = keras.layers.Conv2D(64, 7, strides=2, padding="same", activation="relu", name="conv1_7x7")(inputs)
    x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    if lrn:
        x = _lrn("lrn1")(x)
    x = keras.layers.Conv2D(64, 1, activation="relu", name="conv2_3x3_reduce")(x)
    x = keras.layers.Conv2D(192, 3, padding="same", activation="relu", name="conv2_3x3")(x)
    if lrn:
        x = _lrn("lrn2")(x)
    x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name="pool2")(x)
    stages = ("3a", "3b", "pool3", "4a", "4b", "4c", "4d", "4e", "pool4", "5a", "5b")
    return _inception_net(inputs, x, stages, scaled=int, aux_heads=aux_heads, aux_pool=(5, 3), classes=classes,
                          dropout=dropout, name="googlenet")


def googlenet_small(aux_heads=False, input_shape=(32, 32, 3), classes=9, *, width_scale=0.25, dropout=0.4):
    """GoogLeNet for 32x32 images: a 3x3 convolution (192 x width_scale channels) and a 3x3/2 max
    pool (32 -> 16), inception 3a and 3b, max pool (-> 8), inception 4a-4e, global average
    pooling, dropout, Dense(classes). Every module keeps the paper's filter numbers multiplied
    by `width_scale`. Auxiliary heads (aux_heads=True) sit on 4a and 4d as in the paper: 3x3/2
    average pooling (8 -> 3), 1x1 conv, FC, dropout 0.7, softmax; the model then returns
    [main, aux1, aux2]. [N, H, W, C] -> [N, classes].
    """

    def scaled(value):
        return max(1, round(value * width_scale))

    inputs = keras.Input(input_shape, name="image")
    x = keras.layers.Conv2D(scaled(192), 3, padding="same", activation="relu", name="conv2_3x3")(inputs)
    x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name="pool2")(x)
    return _inception_net(inputs, x, ("3a", "3b", "pool3", "4a", "4b", "4c", "4d", "4e"), scaled=scaled,
                          aux_heads=aux_heads, aux_pool=(3, 2), classes=classes, dropout=dropout,
                          name="googlenet_small")
