"""Reproducibility: one call seeds every random number generator the course uses."""

from __future__ import annotations

import os
import random

import numpy as np

from utils import validation


def set_seed(seed: int = 0, *, deterministic: bool = True) -> None:
    """Seed Python, NumPy, TensorFlow and Keras, and turn on TensorFlow's op determinism.

    Call it once in a notebook's Setup cell, and again before each experiment that must
    not depend on what ran before it (e.g. each seed of a multi-seed comparison).

    deterministic: also call `tf.config.experimental.enable_op_determinism()`, so that the
        same program on the same machine gives bit-identical results. It can make a few ops
        slower and makes some GPU ops raise instead of running non-deterministically.
    """
    seed = validation.as_int("seed", seed, minimum=0, maximum=2**32 - 1)
    deterministic = validation.as_bool("deterministic", deterministic)
    import keras
    import tensorflow as tf

    os.environ["PYTHONHASHSEED"] = str(seed)  # for subprocesses this notebook starts
    random.seed(seed)
    np.random.seed(seed)
    # Seeds Python, NumPy and the backend (TensorFlow's global generator) together.
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
