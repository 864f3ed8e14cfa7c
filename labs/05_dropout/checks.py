"""Checks for Lab 05 (inverted dropout). References: keras.layers.Dropout and the gradient
of tf.nn.dropout from tf.GradientTape. Dropout is random, so the forward checks test the
properties every correct implementation has (exact values, drop rate within a 5-sigma
band, fresh masks, identity at inference) and compare them with Keras' layer."""

import keras
import numpy as np
import tensorflow as tf

from utils.labcheck import CheckFailed, call, compare, to_numpy, case_rng

RATES = (0.2, 0.7)
SHAPE = (200, 500)  # 100,000 units: the drop fraction is known to +-0.7 percentage points


def _inputs(seed):
    return np.random.default_rng(seed).uniform(0.5, 2.0, size=SHAPE).astype(np.float32)


def _check_sample(what, x, y, rate, case):
    """y must be 0 or x / (1 - rate) everywhere, with a drop fraction near `rate`."""
    y = to_numpy(what, y, case)
    if y.shape != x.shape:
        raise CheckFailed(f"{what} has the wrong shape for {case}: expected {x.shape}, "
                          f"got {y.shape}.")
    dropped = y == 0
    sigma = np.sqrt(rate * (1 - rate) / x.size)
    fraction = dropped.mean()
    if abs(fraction - rate) > 5 * sigma:
        raise CheckFailed(
            f"{what}: expected about {rate:.0%} of the units dropped for {case}, got "
            f"{fraction:.1%}.", "`rate` is the probability of DROPPING a unit.")
    kept_ratio = y[~dropped] / x[~dropped]
    if kept_ratio.size and not np.allclose(kept_ratio, 1.0 / (1.0 - rate), rtol=1e-5):
        raise CheckFailed(
            f"{what}: a kept unit should be x / (1 - rate) = {1 / (1 - rate):.4g} x for {case}; "
            f"got {np.median(kept_ratio):.4g} x (median).",
            "inverted dropout scales the kept units up at training time, so that nothing "
            "has to change at inference.")
    return dropped


def check_inverted_dropout(inverted_dropout):
    """inverted_dropout(x, rate, training, rng) -> y."""
    for rate in RATES:
        x = _inputs(40)
        case = f"x {list(SHAPE)}, rate {rate}, training=True"
        rng = case_rng(41)
        first = call("inverted_dropout", inverted_dropout, x.copy(), rate, True, rng, case=case, numpy_only=True)
        dropped = _check_sample("inverted_dropout(x)", x, first, rate, case)
        second = call("inverted_dropout", inverted_dropout, x.copy(), rate, True, rng, case=case, numpy_only=True)
        dropped_again = _check_sample("inverted_dropout(x)", x, second, rate, case)
        if np.array_equal(dropped, dropped_again):
            raise CheckFailed(f"two calls with the same rng dropped exactly the same units "
                              f"({case}).", "draw the mask from `rng` on every call; do not "
                              "create a new generator with a fixed seed inside the function.")
        # reproducible: two generators with the same seed give the same masks
        replay = call("inverted_dropout", inverted_dropout, x.copy(), rate, True, case_rng(41),
                      case=case + ", a fresh generator with the same seed", numpy_only=True)
        if not np.array_equal(dropped, to_numpy("inverted_dropout(x)", replay) == 0):
            raise CheckFailed(f"a generator with the same seed dropped other units ({case}): "
                              f"the mask does not come from `rng`, so runs cannot be reproduced.",
                              "draw the mask with rng.random(...) (or rng.uniform); not with "
                              "np.random.* functions, which use a global generator.")
        reference = keras.layers.Dropout(rate, seed=42)(x, training=True).numpy()
        kept = reference != 0
        compare("scale of the kept units (yours vs keras.layers.Dropout)",
                np.median(to_numpy("y", first)[~dropped] / x[~dropped]),
                np.median(reference[kept] / x[kept]), case=case)
        case = f"x {list(SHAPE)}, rate {rate}, training=False"
        got = call("inverted_dropout", inverted_dropout, x.copy(), rate, False,
                   case_rng(43), case=case, numpy_only=True)
        compare("inverted_dropout(x)", got, keras.layers.Dropout(rate)(x, training=False),
                case=case, atol=0, rtol=0,
                hint="at inference inverted dropout is the identity: no mask, no scaling.")
    return "exact values, drop rate, fresh masks and identity at inference all as Keras"


def check_dropout_layer(layer_class):
    """A Keras layer `layer_class(rate, seed=...)` with call(inputs, training=None)."""
    for rate in RATES:
        try:
            layer = layer_class(rate, seed=7)
        except Exception as error:
            raise CheckFailed(f"creating the layer with rate {rate} raised "
                              f"{type(error).__name__}: {error}") from None
        x = _inputs(44)
        case = f"rate {rate}, training=True"
        got = call("InvertedDropout.call", layer.call, tf.constant(x), training=True, case=case, no_course_utils=True)
        dropped = _check_sample("layer output", x, got, rate, case)
        again = call("InvertedDropout.call", layer.call, tf.constant(x), training=True, case=case, no_course_utils=True)
        if np.array_equal(dropped, to_numpy("layer output", again) == 0):
            raise CheckFailed(f"two training calls of the layer dropped the same units ({case}).",
                              "pass `seed=self.seed_generator` to keras.random; a plain integer "
                              "seed gives the same mask on every call.")
        for training in (False, None):
            case = f"rate {rate}, training={training}"
            got = call("InvertedDropout.call", layer.call, tf.constant(x), training=training,
                       case=case, no_course_utils=True)
            compare("layer output", got, x, case=case, atol=0, rtol=0,
                    hint="when `training` is False or None the layer must return its input.")
    # inside a model: model.predict calls the layer with training=False
    inputs = keras.Input(shape=(SHAPE[1],))
    model = keras.Model(inputs, layer_class(0.5, seed=3)(inputs))
    compare("model.predict output", model.predict(x[:8], verbose=0), x[:8], atol=0, rtol=0,
            case="the layer inside a Keras model, model.predict",
            hint="model.predict calls the layer with training=False.")
    return "identity at inference, inverted dropout with fresh masks in training, works in a model"


def check_dropout_backward(dropout_backward):
    """dropout_backward(grad_y, keep_mask, rate) -> grad_x, against tf.GradientTape on
    tf.nn.dropout (its mask recovered from its own output)."""
    rng = case_rng(45)
    for rate in (0.1, 0.5, 0.8):
        x = tf.Variable(rng.uniform(0.5, 2.0, size=(64, 32)).astype(np.float32))
        grad_y = rng.normal(size=(64, 32)).astype(np.float32)
        with tf.GradientTape() as tape:
            y = tf.nn.dropout(x, rate=rate, seed=int(rate * 100))
            loss = tf.reduce_sum(y * grad_y)
        expected = tape.gradient(loss, x)
        keep_mask = y.numpy() != 0
        case = f"rate {rate}, grad_y [64, 32]"
        got = call("dropout_backward", dropout_backward, grad_y.copy(), keep_mask.copy(), rate,
                   case=case, numpy_only=True)
        compare("grad_x", got, expected, case=case, mistakes={
                    "the kept units' gradient is multiplied by (1 - rate); the forward pass "
                    "divided by it, so the backward pass divides too.":
                    lambda: grad_y * keep_mask * (1 - rate),
                    "the kept units' gradient is not scaled by 1 / (1 - rate).":
                    lambda: grad_y * keep_mask},
                hint="the forward pass multiplied each kept unit by 1 / (1 - rate) and each "
                     "dropped unit by 0; the backward pass multiplies grad_y by the same.")
    return "3 rates agree with tf.GradientTape through tf.nn.dropout"
