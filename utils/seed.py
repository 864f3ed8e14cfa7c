"""Reproducibility: one call seeds every random number generator the course uses."""

import os

from utils import validation


def set_seed(seed: int = 0) -> None:
    """Seed Python, NumPy, TensorFlow and Keras, and turn on TensorFlow's op determinism.

    Call it in a notebook's Setup cell, and again before each experiment that must not depend
    on what ran before it (e.g. each seed of a multi-seed comparison). Op determinism
    (`tf.config.experimental.enable_op_determinism()`) gives bit-identical results for the same
    program on the same machine; a few ops get slower, some GPU ops raise instead of running
    non-deterministically, and Keras does not compile with XLA.
    """
    seed = validation.as_int("seed", seed, minimum=0, maximum=2**32 - 1)
    import keras
    import tensorflow as tf

    os.environ["PYTHONHASHSEED"] = str(seed)  # for subprocesses this notebook starts
    keras.utils.set_random_seed(seed)  # Python's random, NumPy's global generator and TensorFlow's
    tf.config.experimental.enable_op_determinism()
