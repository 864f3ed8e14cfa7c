"""Lab 05: each checker rejects plausible wrong answers."""

import keras
import numpy as np
import pytest

from test_lab_framework import (assert_hidden_cases_pass, assert_mistake_named, assert_rejected,
                                assert_shortcut_rejected, solution_namespace)

LAB = "05_dropout"


@pytest.fixture(scope="module")
def solution():
    return solution_namespace(LAB)


def test_inverted_dropout_rejects(solution):
    def no_scaling(x, rate, training, rng):
        return x * (rng.random(x.shape) >= rate) if training else x

    def scales_at_inference_too(x, rate, training, rng):
        if not training:
            return x * (1 - rate)
        return solution["inverted_dropout"](x, rate, training, rng)

    def rate_is_keep_probability(x, rate, training, rng):
        return np.where(rng.random(x.shape) < rate, x / rate, 0.0) if training else x

    def same_mask_every_call(x, rate, training, rng):
        return solution["inverted_dropout"](x, rate, training, np.random.default_rng(0))

    def drops_at_inference(x, rate, training, rng):
        return solution["inverted_dropout"](x, rate, True, rng)

    assert_rejected(LAB, "inverted_dropout", no_scaling, r"x / \(1 - rate\)")
    assert_rejected(LAB, "inverted_dropout", scales_at_inference_too, r"training=False.*identity")
    assert_rejected(LAB, "inverted_dropout", rate_is_keep_probability, r"about 20% of the units dropped.*got 80")
    assert_rejected(LAB, "inverted_dropout", same_mask_every_call, r"same units")
    assert_rejected(LAB, "inverted_dropout", drops_at_inference, r"training=False")


def _layer(call):
    class Layer(keras.layers.Layer):
        def __init__(self, rate, seed=None, **kwargs):
            super().__init__(**kwargs)
            self.rate = rate
            self.seed_generator = keras.random.SeedGenerator(seed)

    Layer.call = call
    Layer.__name__ = call.__name__
    return Layer


def test_dropout_layer_rejects():
    def ignores_training_flag(self, inputs, training=None):
        noise = keras.random.uniform(keras.ops.shape(inputs), seed=self.seed_generator)
        return keras.ops.where(noise >= self.rate, inputs / (1 - self.rate), 0.0)

    def fixed_integer_seed(self, inputs, training=None):
        if not training:
            return inputs
        noise = keras.random.uniform(keras.ops.shape(inputs), seed=1234)
        return keras.ops.where(noise >= self.rate, inputs / (1 - self.rate), 0.0)

    def no_scaling(self, inputs, training=None):
        if not training:
            return inputs
        noise = keras.random.uniform(keras.ops.shape(inputs), seed=self.seed_generator)
        return keras.ops.where(noise >= self.rate, inputs, 0.0)

    def training_none_means_training(self, inputs, training=None):
        if training is False:
            return inputs
        noise = keras.random.uniform(keras.ops.shape(inputs), seed=self.seed_generator)
        return keras.ops.where(noise >= self.rate, inputs / (1 - self.rate), 0.0)

    assert_rejected(LAB, "dropout_layer", _layer(ignores_training_flag), r"training=False")
    assert_rejected(LAB, "dropout_layer", _layer(fixed_integer_seed), r"same units.*seed_generator")
    assert_rejected(LAB, "dropout_layer", _layer(no_scaling), r"x / \(1 - rate\)")
    assert_rejected(LAB, "dropout_layer", _layer(training_none_means_training), r"training=None")


def test_dropout_backward_rejects():
    def passes_gradient_through(grad_y, keep_mask, rate):
        return grad_y

    def forgets_scaling(grad_y, keep_mask, rate):
        return grad_y * keep_mask

    def scales_by_keep_probability(grad_y, keep_mask, rate):
        return grad_y * keep_mask * (1 - rate)

    def inverted_mask(grad_y, keep_mask, rate):
        return grad_y * ~keep_mask / (1 - rate)

    for wrong in (passes_gradient_through, forgets_scaling, scales_by_keep_probability, inverted_mask):
        assert_rejected(LAB, "dropout_backward", wrong, r"grad_x has wrong values for rate 0.1")


# ------------------------------------------------- shortcuts, boundaries and named mistakes

def test_library_shortcuts_and_reproducibility(solution):
    import keras

    def keras_dropout(x, rate, training, rng):
        return np.asarray(keras.layers.Dropout(rate)(x, training=training))

    def global_generator(x, rate, training, rng):
        # np.random.random ignores `rng`: fresh masks, right rate, but no run can be reproduced
        if not training:
            return x
        return np.where(np.random.random(x.shape) >= rate, x / (1 - rate), 0.0)

    assert_shortcut_rejected(LAB, "inverted_dropout", keras_dropout)
    assert_rejected(LAB, "inverted_dropout", global_generator, r"same seed dropped other units")


def test_known_mistakes_are_named(solution):
    def multiplies_by_keep_probability(grad_y, keep_mask, rate):
        return grad_y * keep_mask * (1 - rate)

    assert_mistake_named(LAB, "dropout_backward", multiplies_by_keep_probability,
                         r"multiplied by \(1 - rate\)")


def test_hidden_cases_pass_on_the_solution():
    assert_hidden_cases_pass(LAB)
