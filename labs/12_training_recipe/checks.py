"""Checks for Lab 12 (the training recipe: update/weight ratio, the 3x-loss rule, a learning-
rate range test). References: tf.norm on TensorFlow tensors; Keras' own training (model.fit
and train_on_batch with keras.optimizers.SGD) replayed step by step; the rule of the lecture's
slide 60 on loss curves built to sit on its boundaries."""

import keras
import numpy as np
import tensorflow as tf

from utils.labcheck import (FILL_HINT, LOOKS_LIKE, NOT_FILLED, CheckFailed, call, case_rng, compare,
                            compare_number, require_callable)

# weight shapes: a bias-like vector, a Dense kernel, a Conv2D kernel, one number
RATIO_SHAPES = [(7,), (12, 5), (3, 3, 4, 8), (1,)]
# (relative size of the update, weights' scale, dtype): the float16 case has weights whose
# squares overflow float16 (over 65,504), so the norms must be taken in a wider type
RATIO_CASES = [(1e-3, 1.0, "float32"), (0.5, 0.1, "float32"), (1e-2, 300.0, "float16"),
               (0.0, 2.0, "float64")]
VERDICTS = ("exploding", "too low", "good")


def check_update_weight_ratio(update_weight_ratio):
    """update_weight_ratio(before, after) -> ||after - before|| / ||before||, Frobenius norms."""
    rng = case_rng(120)
    count = 0
    for shape in RATIO_SHAPES:
        for relative, scale, dtype in RATIO_CASES:
            before = (rng.normal(size=shape) * scale).astype(dtype)
            if dtype == "float16":
                before = np.where(np.abs(before) < 200, 250.0, before).astype(dtype)
            step = rng.normal(size=shape) * relative * scale
            after = (before.astype(np.float64) + step).astype(dtype)
            case = f"weights {list(shape)} of dtype {dtype}, scale {scale:g}, update about {relative:g}"
            got = call("update_weight_ratio", update_weight_ratio, before.copy(), after.copy(),
                       case=case, numpy_only=True)
            wide_before = tf.constant(before, tf.float64)
            wide_after = tf.constant(after, tf.float64)
            expected = float(tf.norm(wide_after - wide_before) / tf.norm(wide_before))
            compare_number("update_weight_ratio", got, expected, case=case, rtol=1e-3, atol=1e-9,
                           hint="the norm of the difference (the update) divided by the norm of "
                                "the weights before the step; compute in float64.",
                           mistakes={
                               "this is the change of the norm, | ||after|| - ||before|| | / "
                               "||before||, not the norm of the change.":
                               lambda: abs(float(tf.norm(wide_after)) - float(tf.norm(wide_before)))
                               / float(tf.norm(wide_before)),
                               "this divides by the norm of the weights after the step; the "
                               "ratio is relative to the weights before it.":
                               lambda: float(tf.norm(wide_after - wide_before) / tf.norm(wide_after))})
            count += 1
    return f"{count} cases agree with tf.norm (float64), float16 weights included"


def _data(rng, count=48):
    """Inputs and labels a small network learns quickly (the label is the largest of the first
    three inputs)."""
    x = rng.normal(size=(count, 10)).astype(np.float32)
    return x, np.argmax(x[:, :3], axis=1)


def _model(seed):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(10,))
    hidden = keras.layers.Dense(16, activation="relu", name="hidden")(inputs)
    hidden = keras.layers.Dropout(0.0, name="dropout")(hidden)  # a layer without weights
    hidden = keras.layers.BatchNormalization(name="norm")(hidden)  # weights, but no kernel
    outputs = keras.layers.Dense(3, activation="softmax", name="output")(hidden)
    return keras.Model(inputs, outputs)


# (learning rate, batch size): a normal and a large step
CALLBACK_CASES = [(0.05, 16), (1.0, 12)]


def _reference_ratios(x, y, learning_rate, batch_size, seed):
    """Ratios per kernel and step, from the same model trained with train_on_batch."""
    model = _model(seed)
    model.compile(keras.optimizers.SGD(learning_rate), "sparse_categorical_crossentropy",
                  run_eagerly=True)
    kernels = {layer.name: layer.kernel for layer in model.layers if hasattr(layer, "kernel")}
    ratios = {name: [] for name in kernels}
    for start in range(0, len(x), batch_size):
        before = {name: tf.constant(kernel.numpy(), tf.float64) for name, kernel in kernels.items()}
        model.train_on_batch(x[start:start + batch_size], y[start:start + batch_size])
        for name, kernel in kernels.items():
            after = tf.constant(kernel.numpy(), tf.float64)
            ratios[name].append(float(tf.norm(after - before[name]) / tf.norm(before[name])))
    return ratios, model


def check_update_ratio_callback(callback_class):
    """callback_class() -> a keras.callbacks.Callback whose `ratios` maps every layer that has a
    kernel to one ratio per training step, against the same training replayed step by step."""
    require_callable("UpdateRatioCallback", callback_class)
    if isinstance(callback_class, type) and all(
            getattr(callback_class, hook) is getattr(keras.callbacks.Callback, hook)
            for hook in ("on_train_batch_begin", "on_train_batch_end")):
        raise CheckFailed(f"`UpdateRatioCallback` is {NOT_FILLED}: it does not define "
                          f"on_train_batch_begin or on_train_batch_end.", FILL_HINT)
    rng = case_rng(121)
    for learning_rate, batch_size in CALLBACK_CASES:
        x, y = _data(rng)
        seed = int(rng.integers(0, 1000))
        expected, reference = _reference_ratios(x, y, learning_rate, batch_size, seed)
        case = f"a Dense-Dropout-BatchNorm-Dense model, SGD({learning_rate}), batch {batch_size}, {len(x)} examples"
        callback = call("UpdateRatioCallback", callback_class, case=case, no_course_utils=True)
        if not isinstance(callback, keras.callbacks.Callback):
            raise CheckFailed(f"UpdateRatioCallback() should be a keras.callbacks.Callback, got "
                              f"{type(callback).__name__}.")
        model = _model(seed)
        model.compile(keras.optimizers.SGD(learning_rate), "sparse_categorical_crossentropy",
                  run_eagerly=True)
        try:
            model.fit(x, y, batch_size=batch_size, epochs=1, shuffle=False, verbose=0,
                      callbacks=[callback])
        except Exception as error:
            raise CheckFailed(f"model.fit with your callback raised {type(error).__name__} for "
                              f"{case}: {error}") from None
        for got_weight, weight in zip(model.get_weights(), reference.get_weights()):
            if not np.allclose(got_weight, weight, atol=1e-5):
                raise CheckFailed(f"with your callback, training ended with other weights for "
                                  f"{case}.", "the callback must only read the weights, never "
                                  "change them.")
        ratios = getattr(callback, "ratios", None)
        if not isinstance(ratios, dict):
            raise CheckFailed(f"the callback's `ratios` should be a dict {{layer name: [one ratio "
                              f"per step]}}, got {type(ratios).__name__} for {case}.")
        if sorted(ratios) != sorted(expected):
            raise CheckFailed(f"the callback recorded the layers {sorted(ratios)} for {case}; "
                              f"expected {sorted(expected)} (every layer with a kernel).",
                              "record layers that have a `kernel`; Dropout has no weights and "
                              "BatchNormalization has no kernel.")
        for name, values in expected.items():
            compare(f"ratios['{name}']", ratios[name], values, case=case, rtol=1e-3, atol=1e-7,
                    hint="copy the kernel in on_train_batch_begin, compare it with the kernel in "
                         "on_train_batch_end: one ratio per step.",
                    mistakes={"every ratio is one step late or early: the weights before a step "
                              "are read after the previous step, in on_train_batch_begin.":
                              lambda: values[1:] + values[-1:]})
    return f"{len(CALLBACK_CASES)} training runs: every step's ratio agrees with Keras' training replayed"


# loss curves (initial loss, batch losses) sitting on the rule's boundaries
VERDICT_CASES = [
    (2.5, [2.2, 1.9, 1.2, 0.8], "good"),
    (2.5, [2.5, 2.48, 2.45, 2.4], "too low"),
    (2.0, [1.9, 6.5, 1.0, 0.5], "exploding"),       # above 3x once, then back: still exploding
    (2.0, [1.9, 6.0, 1.0, 0.5], "good"),            # exactly 3x: not above it
    (2.0, [1.9, float("nan")], "exploding"),        # a NaN loss has exploded
    (2.0, [1.9, 1.8], "good"),                      # exactly 90% of the initial loss: moved enough
    (2.0, [1.9, 1.8000001], "too low"),
    (1.0, [float("inf")], "exploding"),
]


def check_loss_verdict(loss_verdict):
    """loss_verdict(initial_loss, losses) -> "exploding" if a loss ever exceeded 3x the initial
    loss (or is not finite), "too low" if the last loss is above 90% of the initial, else
    "good" (slide 60's rule)."""
    for initial, losses, expected in VERDICT_CASES:
        case = f"initial loss {initial}, losses {losses}"
        got = call("loss_verdict", loss_verdict, initial, list(losses), case=case, numpy_only=True)
        if got not in VERDICTS:
            raise CheckFailed(f"loss_verdict should return one of {list(VERDICTS)} for {case}, "
                              f"got {got!r}.")
        if got != expected:
            mistakes = {
                ("good", "exploding"): "a loss equal to exactly 3x the initial one counts as "
                                       "exploding; the rule says exceeding 3x.",
                ("exploding", "good"): "only the last loss is compared with 3x the initial one; "
                                       "the rule says ever exceeded, and NaN counts.",
                ("exploding", "too low"): "a NaN or infinite loss is treated as not exploding.",
            }
            mistake = mistakes.get((expected, got))
            raise CheckFailed(f"loss_verdict is wrong for {case}: expected {expected!r}, got "
                              f"{got!r}." + (f" {LOOKS_LIKE} {mistake}" if mistake else ""),
                              "exploding: any loss > 3 x initial or not finite; too low: last "
                              "loss > 0.9 x initial; otherwise good.")
    return f"{len(VERDICT_CASES)} loss curves on the rule's boundaries get the right verdict"


# the learning rates of the range test, largest first: a run that reused the previous run's
# model would start from weights that have exploded
LEARNING_RATES = [100.0, 0.5, 1e-4]


def _reference_range_test(x, y, learning_rates, steps, batch_size):
    verdicts = []
    for learning_rate in learning_rates:
        model = _model(7)
        model.compile(keras.optimizers.SGD(learning_rate), "sparse_categorical_crossentropy",
                  run_eagerly=True)
        initial = float(model.evaluate(x[:batch_size], y[:batch_size], verbose=0))
        losses = [float(model.train_on_batch(x[start:start + batch_size], y[start:start + batch_size]))
                  for start in range(0, steps * batch_size, batch_size)]
        exploded = any(not np.isfinite(v) or v > 3 * initial for v in losses)
        verdicts.append("exploding" if exploded else "too low" if losses[-1] > 0.9 * initial
                        else "good")
    return verdicts


def check_range_test(range_test):
    """range_test(make_model, x, y, learning_rates, steps, batch_size) -> one verdict per
    learning rate, from `steps` SGD steps of a fresh model each, against Keras' training."""
    rng = case_rng(122)
    x, y = _data(rng, count=96)
    steps, batch_size = 6, 16
    case = f"learning rates {LEARNING_RATES}, {steps} steps of batch {batch_size}"
    got = call("range_test", range_test, lambda: _model(7), x, y, list(LEARNING_RATES), steps,
               batch_size, case=case, no_course_utils=True)
    expected = _reference_range_test(x, y, LEARNING_RATES, steps, batch_size)
    if not isinstance(got, (list, tuple)) or list(got) != expected:
        raise CheckFailed(f"range_test gave {got!r} for {case}; training the same models with "
                          f"Keras gives {expected}.",
                          "for each learning rate: a fresh model from make_model(), compiled "
                          "with SGD(learning_rate); the initial loss is model.evaluate on the "
                          "first batch; then `steps` train_on_batch calls on consecutive "
                          "batches; pass the initial loss and the losses to loss_verdict.")
    return f"the verdicts {expected} agree with Keras' training"
