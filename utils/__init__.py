"""Shared helpers for the course "Elements of Convolutional Neural Networks".

Import it in a notebook's Setup cell before TensorFlow:

    import utils
    from utils import claims, data, plots, training
    utils.set_seed(0)

Modules (one job each): `data` (offline datasets), `plots`, `training` (history tables,
steps-to-target), `claims` (asserting the lecture's claims), `seed`, `validation`
(argument checks). Topic modules (`conv`, `norm`, `models`, `detection`, ...) arrive with
the notebooks that teach them.
"""

import os

# Keras 3 runs on TensorFlow in this course; set before Keras is first imported.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# Quieten TensorFlow's Python-side log (its C++ log is handled by the kernel config).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from utils.seed import set_seed  # noqa: E402

__all__ = ["set_seed"]
