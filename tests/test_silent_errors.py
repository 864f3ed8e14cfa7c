"""No silent wrong answers: public functions of `utils` that used to return a plausible but
wrong result for an unusual input now give the right answer or raise an error naming the
argument. (Module-specific regressions live in the module's own test file.)"""

import numpy as np
import pytest

import utils
from utils import training


# ----------------------------------------------------------------------------- training.accuracy
def _fixed_scores(scores):
    """A stand-in model (training.accuracy only calls it): image i, filled with the value i,
    gets scores[i]."""
    return lambda x, training=False: scores[np.asarray(x)[:, 0, 0, 0].astype(int)]


def _images(count):
    return np.broadcast_to(np.arange(count, dtype=np.float32)[:, None, None, None], (count, 4, 4, 1)).copy()


@pytest.mark.parametrize("shape", [(6,), (6, 1)])
def test_accuracy_refuses_outputs_that_are_not_n_by_c_scores(shape):
    """A model that outputs one number per image ([N], or a single sigmoid [N, 1]) has no
    class axis to argmax over: the accuracy used to come out as 0.0 (or 1/C by chance)."""
    x = _images(6)
    y = np.array([0, 1, 1, 0, 1, 0])
    scores = y.astype(np.float32).reshape(shape)  # a perfect binary model, written as a single score
    with pytest.raises(ValueError, match=r"model.*\[N, C\]"):
        training.accuracy(_fixed_scores(scores), x, y)


def test_accuracy_of_n_by_c_scores_is_unchanged():
    x = _images(6)
    y = np.array([0, 1, 1, 0, 1, 0])
    scores = np.eye(2, dtype=np.float32)[y]
    assert training.accuracy(_fixed_scores(scores), x, y) == 1.0


# ----------------------------------------------------------------------------- boolean options
def _bool_options():
    """(call taking the option's value, option name) for every boolean option of a public
    function in utils where a student's data comes in (claims.py and training.py check theirs
    themselves; internal builders such as utils.models check none, CONTRIBUTING.md)."""
    from utils import detection, plots

    return [
        (lambda v: plots.training_curves({"loss": [1.0, 0.5]}, log_scale=v), "log_scale"),
        (lambda v: detection.count_all_boxes(3, 3, ordered_corners=v), "ordered_corners"),
    ]


def test_boolean_options_must_be_real_bools():
    for call, name in _bool_options():
        for wrong in ("no", 0, 1, None):
            with pytest.raises(TypeError, match=f"{name}: expected True or False"):
                call(wrong)
        call(np.bool_(True))  # NumPy's bool, e.g. from a comparison, is a bool
        call(False)
