"""Lab 11: each checker rejects plausible wrong answers.

Some wrong answers (averaging the loss over the replica's own examples) only show with two
or more replicas, and logical devices can only be created before TensorFlow initialises, so
these checks run in a fresh Python process with two logical CPUs."""

import json
import pathlib
import subprocess
import sys

import pytest

TESTS = pathlib.Path(__file__).resolve().parent

SCRIPT = r'''
import json, sys
sys.path.insert(0, sys.argv[1])
from utils import labcheck
checks = labcheck.load_checks("11_mirrored_strategy")
assert len(checks.logical_cpus(2)) == 2, "two logical CPUs expected in a fresh process"
import keras
import tensorflow as tf
from test_lab_framework import run_check, solution_namespace

solution = solution_namespace("11_mirrored_strategy")
compute_loss = solution["compute_loss"]
results = {"solution": {name: ok for name, (ok, _) in solution["lab"].results.items()}}

def per_example(labels, probabilities):
    return keras.losses.sparse_categorical_crossentropy(labels, probabilities)

def local_mean(labels, probabilities, global_batch_size):
    return tf.reduce_mean(per_example(labels, probabilities))

def sum_only(labels, probabilities, global_batch_size):
    return tf.reduce_sum(per_example(labels, probabilities))

def keras_mean_loss_object(labels, probabilities, global_batch_size):
    return keras.losses.SparseCategoricalCrossentropy()(labels, probabilities)

def treats_probabilities_as_logits(labels, probabilities, global_batch_size):
    losses = keras.losses.sparse_categorical_crossentropy(labels, probabilities, from_logits=True)
    return tf.nn.compute_average_loss(losses, global_batch_size=global_batch_size)

def step_factory(loss_fn=compute_loss, reduce="SUM", apply=True):
    def make_train_step(strategy, model, optimizer, global_batch_size):
        def replica_step(inputs):
            x, y = inputs
            with tf.GradientTape() as tape:
                loss = loss_fn(y, model(x, training=True), global_batch_size)
            if apply:
                grads = tape.gradient(loss, model.trainable_weights)
                optimizer.apply_gradients(zip(grads, model.trainable_weights))
            return loss

        @tf.function
        def train_step(batch):
            return strategy.reduce(reduce, strategy.run(replica_step, args=(batch,)), axis=None)
        return train_step
    return make_train_step

def partial_batch_over_itself(labels, probabilities, global_batch_size):
    # the last, partial batch averaged over its own examples ("it is smaller anyway")
    if len(labels) * 2 < global_batch_size // 2:
        return local_mean(labels, probabilities, global_batch_size)
    return compute_loss(labels, probabilities, global_batch_size)

from utils import distributed

def course_train_step(strategy, model, optimizer, global_batch_size):
    return distributed.make_train_step(strategy, model, optimizer,
                                       keras.losses.SparseCategoricalCrossentropy(
                                           reduction=None), global_batch_size)

def unreduced(strategy, model, optimizer, global_batch_size):
    def train_step(batch):
        return strategy.experimental_local_results(strategy.run(
            lambda inputs: compute_loss(inputs[1], model(inputs[0], training=True), global_batch_size),
            args=(batch,)))
    return train_step

wrong = {
    "compute_loss": [local_mean, sum_only, keras_mean_loss_object, treats_probabilities_as_logits,
                     partial_batch_over_itself],
    "train_step": [("local_mean_loss", step_factory(loss_fn=local_mean)),
                   ("mean_over_replicas", step_factory(reduce="MEAN")),
                   ("never_applies_gradients", step_factory(apply=False)),
                   ("returns_per_replica_losses", unreduced),
                   ("course_train_step", course_train_step)],
}
for check, functions in wrong.items():
    for item in functions:
        name, function = item if isinstance(item, tuple) else (item.__name__, item)
        passed, message = run_check("11_mirrored_strategy", check, function)
        results[f"{check}/{name}"] = [passed, message]
from test_lab_framework import assert_hidden_cases_pass
try:
    assert_hidden_cases_pass("11_mirrored_strategy")
    results["hidden"] = True
except AssertionError as error:
    results["hidden"] = str(error)
print("RESULTS" + json.dumps(results))
'''


@pytest.fixture(scope="module")
def results():
    process = subprocess.run([sys.executable, "-c", SCRIPT, str(TESTS)], capture_output=True,
                             text=True, timeout=600, cwd=TESTS.parent)
    line = next((l for l in process.stdout.splitlines() if l.startswith("RESULTS")), None)
    assert line, process.stdout[-2000:] + process.stderr[-3000:]
    return json.loads(line[len("RESULTS"):])


def test_solution_passes_on_two_replicas(results):
    assert results["solution"] == {"compute_loss": True, "train_step": True}


def test_hidden_cases_pass_on_the_solution(results):
    assert results["hidden"] is True


@pytest.mark.parametrize("name, expect", [
    ("compute_loss/local_mean", r"compute_loss is wrong.*global_batch_size 16.*known mistake: "
                                r"this is the per-replica mean of the loss"),
    ("compute_loss/sum_only", r"compute_loss is wrong.*known mistake: the loss is summed but not divided"),
    ("compute_loss/partial_batch_over_itself", r"batch of 3 examples, global_batch_size 16"),
    ("train_step/course_train_step", r"called the course's `utils` package"),
    ("compute_loss/keras_mean_loss_object", r"compute_loss is wrong.*global_batch_size 16"),
    ("compute_loss/treats_probabilities_as_logits", r"compute_loss is wrong"),
    ("train_step/local_mean_loss", r"on 2 device\(s\)"),
    ("train_step/mean_over_replicas", r"losses of the 4 steps has wrong values"),
    ("train_step/never_applies_gradients", r"has wrong values"),
    ("train_step/returns_per_replica_losses", r"one number"),
])
def test_wrong_answers_rejected(results, name, expect):
    import re

    passed, message = results[name]
    assert not passed, f"{name} was accepted"
    assert "not filled in yet" not in message
    assert re.search(expect, message, re.S), message
