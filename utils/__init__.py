"""Shared helpers for the course "Elements of Convolutional Neural Networks".

Import it in a notebook's Setup cell before TensorFlow:

    import utils
    from utils import claims, data, plots, training
    utils.set_seed(0)

Modules (one job each): `data` (offline datasets), `plots`, `training` (history tables,
steps-to-target), `timing` (wall and CPU seconds), `claims` (asserting the lecture's claims),
`seed`, `validation` (argument checks), `labcheck` (the labs' checks). Topic modules (`conv`,
`norm`, `models`, `detection`, ...) arrive with the notebooks that teach them.
"""

import os
import sys

# Keras 3 runs on TensorFlow in this course (set before Keras is first imported); quieten
# TensorFlow's Python-side log (its C++ log is handled by the kernel config).
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# A kernel started without the course's config (Colab, Kaggle) copies the process's file
# descriptor 2 into the notebook, and with it TensorFlow's C++ log (CPU features, CUDA probing),
# which ignores the setting above. Point descriptor 2 back where the kernel's own stderr went
# (the server's log), as config/ipython_kernel_config.py does; Python warnings still show.
_kernel_stderr = getattr(sys.stderr, "_original_stdstream_copy", None)
if _kernel_stderr is not None:
    os.dup2(_kernel_stderr, 2)

from utils.seed import set_seed  # noqa: E402

__all__ = ["set_seed"]
