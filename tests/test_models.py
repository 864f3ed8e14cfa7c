"""utils.models against references nobody here wrote: keras.applications (built offline with
weights=None), Keras's own grouped Conv2D, and the parameter and multiply-add counts published
in the papers (AlexNet's deck arithmetic, GoogLeNet's Table 1, ResNet's and GoogLeNet's FLOPs)."""

import math
import pathlib
import sys

import numpy as np
import pytest

import utils  # noqa: F401  (pins the Keras backend)
import keras

from utils import models

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from tools.saved_cells import definitions  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_session():
    keras.backend.clear_session()
    yield
    keras.backend.clear_session()


def trainable(model):
    return sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)


def same_layers(ours, reference):
    """Every weighted layer of `reference` exists in `ours` with the same weight shapes."""
    for layer in reference.layers:
        if layer.weights:
            mine = ours.get_layer(layer.name)
            assert [tuple(w.shape) for w in mine.weights] == [tuple(w.shape) for w in layer.weights], layer.name


# AlexNet ---------------------------------------------------------------------------------

DECK_WEIGHTS = {  # slide 49: the two-GPU kernels; each layer also has one bias per kernel
    "conv1": 11 * 11 * 3 * 96, "conv2": 5 * 5 * 48 * 256, "conv3": 3 * 3 * 256 * 384,
    "conv4": 3 * 3 * 192 * 384, "conv5": 3 * 3 * 192 * 256,
}


def test_alexnet_two_towers_matches_the_deck_and_the_paper():
    model = models.alexnet(two_towers=True, input_shape=(227, 227, 3), classes=1000)
    for name, weights in DECK_WEIGHTS.items():
        layer = model.get_layer(name)
        assert layer.count_params() == weights + layer.filters, name
    assert model.get_layer("fc6").count_params() == 6 * 6 * 256 * 4096 + 4096
    assert model.count_params() == 60_965_224  # "60 million parameters" (paper, Section 4)
    shapes = {name: tuple(model.get_layer(name).output.shape[1:]) for name in ("conv1", "pool1", "pool2", "pool5")}
    assert shapes == {"conv1": (55, 55, 96), "pool1": (27, 27, 96), "pool2": (13, 13, 256), "pool5": (6, 6, 256)}
    assert model.output.shape[1:] == (1000,)
    assert [model.get_layer(f"lrn{i}").__class__.__name__ for i in (1, 2)] == ["LocalResponseNormalization"] * 2


def test_alexnet_one_tower_has_the_full_connections():
    model = models.alexnet(two_towers=False)
    assert model.get_layer("conv2").count_params() == 5 * 5 * 96 * 256 + 256
    assert model.count_params() == 60_965_224 + 5 * 5 * 48 * 256 + 3 * 3 * 192 * 384 + 3 * 3 * 192 * 256


def test_alexnet_options_change_layers():
    model = models.alexnet(activation="tanh", lrn=False, dropout=0.0, classes=10)
    names = [layer.name for layer in model.layers]
    assert "lrn1" not in names and "fc6_dropout" not in names
    assert model.get_layer("conv3").activation is keras.activations.tanh
    assert model.output.shape[1:] == (10,)


def test_grouped_conv_equals_keras_grouped_conv2d():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 9, 9, 8)).astype("float32")
    reference = keras.layers.Conv2D(6, 3, groups=2, padding="same")
    ours = models.GroupedConv2D(6, 3, groups=2, padding="same")
    expected = keras.ops.convert_to_numpy(reference(x))
    ours.build(x.shape)
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in reference.weights)  # kernel [3, 3, 4, 6]
    for index, convolution in enumerate(ours.convolutions):
        convolution.set_weights([kernel[..., 3 * index:3 * index + 3], bias[3 * index:3 * index + 3]])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(ours(x)), expected, rtol=1e-5, atol=1e-5)
    assert ours.count_params() == reference.count_params() == 3 * 3 * 4 * 6 + 6
    assert ours.compute_output_shape((2, 9, 9, 8)) == (2, 9, 9, 6)
    strided = models.GroupedConv2D(4, 3, groups=2, strides=2)
    assert strided.compute_output_shape((1, 9, 9, 8)) == (1, 4, 4, 4)
    assert tuple(strided(x).shape) == (2, 4, 4, 4)


def test_grouped_conv_round_trips_through_config():
    layer = models.GroupedConv2D(8, 5, groups=4, padding="same", activation="relu", name="g")
    clone = models.GroupedConv2D.from_config(layer.get_config())
    assert (clone.filters, clone.kernel_size, clone.groups, clone.padding) == (8, 5, 4, "same")


def test_alexnet_small_trains_and_switches_elements():
    alexnet_small = definitions("notebooks/09_alexnet.ipynb", "alexnet_small").alexnet_small
    model = alexnet_small((32, 32, 3), 9, seed=1)
    assert model.output.shape[1:] == (9,)
    names = {layer.name for layer in model.layers}
    assert {"random_flip", "random_translation", "lrn1", "lrn2", "fc6_dropout"} <= names
    bare = alexnet_small((32, 32, 3), 9, augmentation=False, lrn=False, dropout=0.0, two_towers=False)
    assert not {"random_flip", "lrn1", "fc6_dropout"} & {layer.name for layer in bare.layers}
    assert isinstance(model.get_layer("conv2"), models.GroupedConv2D)
    assert isinstance(bare.get_layer("conv2"), keras.layers.Conv2D)
    x = np.random.default_rng(0).random((4, 32, 32, 3)).astype("float32")
    probabilities = keras.ops.convert_to_numpy(model(x, training=False))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


# VGG ---------------------------------------------------------------------------------------

def test_vgg16_equals_keras_applications():
    reference = keras.applications.VGG16(weights=None)
    expected, reference_macs = reference.count_params(), models.count_macs(reference)
    ours = models.vgg16()
    same_layers(ours, reference)
    del reference
    assert ours.count_params() == expected == 138_357_544
    assert models.count_macs(ours) == reference_macs
    # ~15.5 billion multiply-adds (Simonyan & Zisserman; He et al. list VGG-19 at 19.6 billion)
    assert math.isclose(models.count_macs(ours), 15.5e9, rel_tol=0.01)


def test_vgg19_equals_keras_applications():
    reference = keras.applications.VGG19(weights=None)
    expected = reference.count_params()
    del reference
    ours = models.vgg19()
    assert ours.count_params() == expected == 143_667_240
    assert math.isclose(models.count_macs(ours), 19.6e9, rel_tol=0.01)  # He et al. 2016, Section 4.1


def test_vgg_small():
    model = models.vgg_small(widths=(8, 16), convs_per_block=3, dense_units=32)
    assert model.output.shape[1:] == (9,)
    assert len([layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]) == 6
    assert tuple(model.get_layer("block2_pool").output.shape[1:]) == (8, 8, 16)


# GoogLeNet -----------------------------------------------------------------------------------

# Table 1 of Szegedy et al. 2015, "params" column (thousands; weights without biases).
PAPER_INCEPTION_K = {"3a": 159, "3b": 380, "4a": 364, "4b": 437, "4c": 463, "4d": 580, "4e": 840,
                     "5a": 1072, "5b": 1388}


def module_weights(model, stage, *, biases):
    total = 0
    for layer in model.layers:
        if layer.name.startswith(f"inception_{stage}_") and isinstance(layer, keras.layers.Conv2D):
            total += layer.count_params() - (0 if biases else layer.filters)
    return total


def test_googlenet_total_and_modules_against_table_1():
    model = models.googlenet()
    assert 5_000_000 <= model.count_params() <= 7_000_000
    assert model.count_params() == 6_998_552
    # The table's figures are rounded and a few are off (4c: 509K by its own filter numbers,
    # listed as 463K), so each module within 10%; the whole net within 3% of the table's 6.8M.
    for stage, thousands in PAPER_INCEPTION_K.items():
        assert math.isclose(module_weights(model, stage, biases=False), thousands * 1000, rel_tol=0.10), stage
    assert math.isclose(model.count_params(), 6_797_700, rel_tol=0.03)
    shapes = {name: tuple(model.get_layer(name).output.shape[1:])
              for name in ("pool2", "inception_3b_concat", "inception_4e_concat", "inception_5b_concat")}
    assert shapes == {"pool2": (28, 28, 192), "inception_3b_concat": (28, 28, 480),
                      "inception_4e_concat": (14, 14, 832), "inception_5b_concat": (7, 7, 1024)}
    # "about 1.5 billion multiply-adds at inference time" (Section 5)
    assert math.isclose(models.count_macs(model), 1.5e9, rel_tol=0.06)


def test_googlenet_aux_heads():
    model = models.googlenet(aux_heads=True)
    assert [output.shape[1:] for output in model.outputs] == [(1000,)] * 3
    # each head: 1x1 conv 512->128 (4a) or 528->128 (4d), FC 2048->1024, FC 1024->1000
    head = lambda channels: channels * 128 + 128 + 2048 * 1024 + 1024 + 1024 * 1000 + 1000  # noqa: E731
    assert model.count_params() == 6_998_552 + head(512) + head(528)


def test_inception_module_with_and_without_reductions():
    inputs = keras.Input((28, 28, 192))
    reduced = models.inception_module(inputs, 64, 96, 128, 16, 32, 32, name="a")
    naive = models.inception_module(inputs, 64, 96, 128, 16, 32, 32, reductions=False, name="b")
    assert reduced.shape[1:] == (28, 28, 256) and naive.shape[1:] == (28, 28, 64 + 128 + 32 + 192)
    model = keras.Model(inputs, [reduced, naive])
    count = lambda prefix: sum(layer.count_params() for layer in model.layers if layer.name.startswith(prefix))  # noqa: E731
    assert count("a_") == 163_328 + 64 + 96 + 128 + 16 + 32 + 32
    assert count("b_") == 192 * 64 + 9 * 192 * 128 + 25 * 192 * 32 + 64 + 128 + 32


def test_googlenet_small():
    model = models.googlenet_small(aux_heads=True, width_scale=0.125)
    assert len(model.outputs) == 3 and model.outputs[0].shape[1:] == (9,)


# ResNet ----------------------------------------------------------------------------------------

def test_resnet50_equals_keras_applications():
    reference = keras.applications.ResNet50(weights=None)
    expected, reference_macs = reference.count_params(), models.count_macs(reference)
    ours = models.resnet50()
    same_layers(ours, reference)
    del reference
    assert ours.count_params() == expected == 25_636_712
    assert models.count_macs(ours) == reference_macs
    assert math.isclose(models.count_macs(ours), 3.8e9, rel_tol=0.03)  # He et al. 2016, Table 1


def test_resnet50_paper_convention_without_conv_biases():
    with_bias = models.resnet50()
    biases = sum(layer.filters for layer in with_bias.layers if isinstance(layer, keras.layers.Conv2D))
    convolutions = sum(isinstance(layer, keras.layers.Conv2D) for layer in with_bias.layers)
    without = models.resnet50(conv_bias=False)
    assert convolutions == 53 and biases == 26_560
    assert without.count_params() == with_bias.count_params() - biases
    assert trainable(without) == 25_557_032  # the count of the paper's code (and torchvision)


def test_resnext50_count():
    model = models.resnext50()
    assert trainable(model) == 25_028_904  # Xie et al. 2017, Table 1: 25.0M
    assert model.get_layer("conv2_block1_2_conv").groups == 32
    assert model.get_layer("conv2_block1_2_conv").count_params() == 3 * 3 * 4 * 128


def test_resnet_small_plain_and_residual():
    residual = models.resnet_small(depth=20, widths=(8, 16, 32))
    plain = models.resnet_small(depth=20, widths=(8, 16, 32), residual=False)
    convs = lambda m: [l for l in m.layers if isinstance(l, keras.layers.Conv2D) and not l.name.endswith("_0_conv")]  # noqa: E731
    assert len(convs(residual)) == len(convs(plain)) == 19  # + Dense = 20 weighted layers
    assert not any(isinstance(layer, keras.layers.Add) for layer in plain.layers)
    assert sum(isinstance(layer, keras.layers.Add) for layer in residual.layers) == 9


def test_zero_init_block_is_the_identity():
    inputs = keras.Input((8, 8, 4))
    outputs = models.basic_block(keras.layers.ReLU()(inputs), 4, zero_init=True, name="b")
    block = keras.Model(inputs, outputs)
    x = np.random.default_rng(0).normal(size=(3, 8, 8, 4)).astype("float32")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(block(x, training=False)), np.maximum(x, 0))


# Tables ------------------------------------------------------------------------------------------

def test_layer_table_and_macs():
    inputs = keras.Input((10, 10, 3))
    x = keras.layers.Conv2D(4, 3, name="c")(inputs)             # 8x8 positions x 27 weights x 4
    x = keras.layers.DepthwiseConv2D(3, padding="same", name="d")(x)  # 8x8 x 9 x 4
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(5, name="f")(x)               # 256 x 5
    model = keras.Model(inputs, outputs)
    table = models.layer_table(model)
    assert list(table.index) == ["c", "d", "f"]
    assert list(table["multiply-adds"]) == [8 * 8 * 27 * 4, 8 * 8 * 9 * 4, 256 * 5]
    assert table["parameters"].sum() == model.count_params()
    assert table.loc["c", "output shape"] == "8x8x4"
    assert models.count_macs(model) == table["multiply-adds"].sum()
    assert len(models.layer_table(model, weighted_only=False)) == 4
    # An axis of unknown length (a detector head's regions) counts once: the cost per region.
    regions = keras.Input((None, 16))
    head = keras.Model(regions, keras.layers.Dense(3)(keras.layers.Dense(8)(regions)))
    assert models.count_macs(head) == 16 * 8 + 8 * 3


def test_grouped_conv_multiply_adds_equal_keras_grouped_conv():
    inputs = keras.Input((9, 9, 8))
    ours = keras.Model(inputs, models.GroupedConv2D(6, 3, groups=2, padding="same")(inputs))
    reference = keras.Model(inputs, keras.layers.Conv2D(6, 3, groups=2, padding="same")(inputs))
    assert models.count_macs(ours) == models.count_macs(reference) == 9 * 9 * 3 * 3 * 4 * 6


def test_shapes_only_counts_without_allocating_weights():
    import psutil

    process = psutil.Process()
    before = process.memory_info().rss
    with models.shapes_only():
        vgg = models.vgg16()
        assert vgg.count_params() == 138_357_544
        assert models.count_macs(vgg) == models.count_macs(models.vgg16())
        assert models.layer_table(vgg).loc["fc1", "parameters"] == 7 * 7 * 512 * 4096 + 4096
    del vgg
    # Allocated, the weights alone would take 553 MB.
    assert process.memory_info().rss - before < 250 * 2**20
    # Models built afterwards get real weights and train.
    model = models.vgg_small(widths=(4,), dense_units=8)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(np.zeros((4, 32, 32, 3), "float32"), np.zeros(4, "int64"), verbose=0)
    assert all(np.isfinite(keras.ops.convert_to_numpy(w)).all() for w in model.weights)
