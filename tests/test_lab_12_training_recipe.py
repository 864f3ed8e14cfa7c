"""Lab 12: each checker rejects plausible wrong answers: library shortcuts, boundary cases,
behaviour that differs from Keras' training, with the known mistakes named."""

import keras
import numpy as np
import pytest

from test_lab_framework import (assert_hidden_cases_pass, assert_mistake_named, assert_rejected,
                                assert_shortcut_rejected, solution_namespace)

LAB = "12_training_recipe"


@pytest.fixture(scope="module")
def solution():
    return solution_namespace(LAB)


def test_update_weight_ratio_rejects(solution):
    import tensorflow as tf

    from utils import monitor

    def norm_of_change(before, after):
        return abs(np.linalg.norm(after) - np.linalg.norm(before)) / np.linalg.norm(before)

    def relative_to_after(before, after):
        return np.linalg.norm(after - before) / np.linalg.norm(after)

    def in_own_dtype(before, after):  # float16 squares overflow: inf / inf
        return float(np.sqrt(np.sum((after - before) ** 2)) / np.sqrt(np.sum(before ** 2)))

    def with_tensorflow(before, after):
        return float(tf.norm(after - before) / tf.norm(before))

    def with_the_course(before, after):   # any call into the course's utils is refused
        callback = monitor.UpdateRatio()
        return float(np.linalg.norm(after - before) / np.linalg.norm(before)) + len(callback.ratios)

    assert_mistake_named(LAB, "update_weight_ratio", norm_of_change, r"change of the norm")
    assert_mistake_named(LAB, "update_weight_ratio", relative_to_after, r"norm of the weights after")
    assert_rejected(LAB, "update_weight_ratio", in_own_dtype, r"wrong for weights \[7\] of dtype float16")
    assert_shortcut_rejected(LAB, "update_weight_ratio", with_tensorflow)
    assert_shortcut_rejected(LAB, "update_weight_ratio", with_the_course)
    # and the answer itself is not there to import: the lab's function is written in the lab only
    assert not hasattr(monitor, "update_weight_ratio")


def _callback(on_begin, on_end, kernels=None):
    class Wrong(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.ratios, self.before = {}, {}

        def layers(self):
            return kernels(self.model) if kernels else {
                layer.name: layer.kernel for layer in self.model.layers if hasattr(layer, "kernel")}

        def on_train_batch_begin(self, batch, logs=None):
            on_begin(self)

        def on_train_batch_end(self, batch, logs=None):
            on_end(self)
    return Wrong


def _ratio(before, after):
    return float(np.linalg.norm(after - before) / np.linalg.norm(before))


def test_update_ratio_callback_rejects():
    def copy(self):
        self.before = {n: k.numpy() for n, k in self.layers().items()}

    def record(self):
        for name, kernel in self.layers().items():
            self.ratios.setdefault(name, []).append(_ratio(self.before[name], kernel.numpy()))

    def keeps_a_reference(self):  # not a copy: the "before" is the live variable
        self.before = {n: k for n, k in self.layers().items()}

    def record_from_reference(self):
        for name, kernel in self.layers().items():
            self.ratios.setdefault(name, []).append(_ratio(np.asarray(self.before[name]), kernel.numpy()))

    def every_weighted_layer(model):  # BatchNormalization's gamma counts as a "kernel"
        return {layer.name: layer.trainable_weights[0] for layer in model.layers if layer.trainable_weights}

    def only_first_step(self):
        if not self.before:
            copy(self)

    def compares_with_previous_end(self):
        record(self)
        copy(self)

    assert_rejected(LAB, "update_ratio_callback", _callback(keeps_a_reference, record_from_reference),
                    r"ratios\['hidden'\] has wrong values")
    assert_rejected(LAB, "update_ratio_callback", _callback(copy, record, every_weighted_layer),
                    r"recorded the layers \['hidden', 'norm', 'output'\]")
    assert_rejected(LAB, "update_ratio_callback", _callback(only_first_step, record), r"has wrong values")
    assert_rejected(LAB, "update_ratio_callback", _callback(lambda self: None, compares_with_previous_end),
                    r"has wrong values|KeyError")


def test_course_callback_is_rejected():
    from utils import monitor

    class Borrowed(monitor.UpdateRatio):
        pass

    assert_shortcut_rejected(LAB, "update_ratio_callback", Borrowed)


def test_loss_verdict_rejects():
    def at_least_three_times(initial, losses):
        losses = np.asarray(losses)
        if np.any(~np.isfinite(losses)) or np.any(losses >= 3 * initial):
            return "exploding"
        return "too low" if losses[-1] > 0.9 * initial else "good"

    def last_loss_only(initial, losses):
        last = losses[-1]
        if not np.isfinite(last) or last > 3 * initial:
            return "exploding"
        return "too low" if last > 0.9 * initial else "good"

    def nan_is_not_a_number(initial, losses):  # comparisons with NaN are False
        if any(loss > 3 * initial for loss in losses):
            return "exploding"
        return "too low" if not losses[-1] <= 0.9 * initial else "good"

    def percent_of_initial(initial, losses):
        if any(not np.isfinite(v) or v > 3 * initial for v in losses):
            return "exploding"
        return "too low" if losses[-1] >= 0.9 * initial else "good"

    assert_mistake_named(LAB, "loss_verdict", at_least_three_times, r"exactly 3x")
    assert_mistake_named(LAB, "loss_verdict", last_loss_only, r"only the last loss")
    assert_rejected(LAB, "loss_verdict", nan_is_not_a_number, r"nan")
    assert_rejected(LAB, "loss_verdict", percent_of_initial, r"\[1.9, 1.8\]")


def test_range_test_rejects(solution):
    verdict = solution["loss_verdict"]

    def reuses_one_model(make_model, x, y, learning_rates, steps, batch_size):
        model, verdicts = make_model(), []
        for learning_rate in learning_rates:  # each run continues where the last one stopped
            model.compile(keras.optimizers.SGD(learning_rate), "sparse_categorical_crossentropy",
                          run_eagerly=True)
            initial = float(model.evaluate(x[:batch_size], y[:batch_size], verbose=0))
            losses = [float(model.train_on_batch(x[s:s + batch_size], y[s:s + batch_size]))
                      for s in range(0, steps * batch_size, batch_size)]
            verdicts.append(verdict(initial, losses))
        return verdicts

    def course_sweep(make_model, x, y, learning_rates, steps, batch_size):
        from utils import training
        recorder = training.batch_loss_recorder()
        return ["good" for _ in learning_rates] if recorder else []

    assert_rejected(LAB, "range_test", reuses_one_model, r"range_test gave")
    assert_shortcut_rejected(LAB, "range_test", course_sweep)


def test_hidden_cases_pass_on_the_solution():
    assert_hidden_cases_pass(LAB)
