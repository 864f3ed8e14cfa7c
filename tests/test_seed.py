import random
import subprocess
import sys

import numpy as np
import pytest

import utils


def _draw():
    import keras
    import tensorflow as tf

    layer = keras.layers.Dense(3)
    layer.build((None, 4))
    return (random.random(), np.random.rand(), float(tf.random.uniform(())),
            layer.kernel.numpy().copy())


def test_set_seed_makes_every_generator_repeat():
    assert utils.set_seed(123) is None  # nothing to echo in a notebook's Setup cell
    first = _draw()
    utils.set_seed(123)
    second = _draw()
    assert first[:3] == second[:3]
    np.testing.assert_array_equal(first[3], second[3])
    utils.set_seed(124)
    assert _draw()[:3] != first[:3]


def test_set_seed_turns_on_op_determinism():
    # in a fresh process: once any test has called set_seed, determinism stays on in this one
    code = ("from tensorflow.python.framework import config\n"   # no public getter exists
            "import utils\n"
            "before = config.is_op_determinism_enabled()\n"
            "utils.set_seed(0)\n"
            "print(before, config.is_op_determinism_enabled())\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "True"]


@pytest.mark.parametrize("seed, error", [(-1, ValueError), (1.0, TypeError), ("0", TypeError)])
def test_set_seed_rejects_bad_seeds(seed, error):
    with pytest.raises(error, match="seed"):
        utils.set_seed(seed)
