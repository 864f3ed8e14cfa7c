"""Hidden cases of this lab, run only by the autograder (tools/labs.py --autograder, make
grade): each entry is the keyword arguments of utils.labcheck.grade for one hidden test:
`variant` draws other random cases, and UPPER-CASE names replace the checks.py case lists.
Not shipped to students: not in the wheel (pyproject.toml packages only checks.py), not in
the release (make release)."""

HIDDEN = {
    "batchnorm_train": [dict(variant=1), dict(variant=2, SHAPES=[(2, 1), (64, 3), (1, 1, 1, 4), (5, 2, 7, 3)],
                                               EPSILON=1e-5)],
    "update_moving": [dict(variant=1), dict(variant=2, SHAPES=[(3, 7), (2, 2, 2, 2), (9, 1), (1, 3, 3, 5)])],
    "batchnorm_inference": [dict(variant=1), dict(variant=2, SHAPES=[(1, 2), (2, 1, 1, 3), (7, 4)], EPSILON=0.1)],
    "batchnorm_backward": [dict(variant=1), dict(variant=2, SHAPES=[(2, 3), (3, 2, 2, 1), (8, 6)])],
}
