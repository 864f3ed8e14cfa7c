"""Hidden cases of this lab, run only by the autograder (tools/labs.py --autograder, make
grade): each entry is the keyword arguments of utils.labcheck.grade for one hidden test:
`variant` draws other random cases, and UPPER-CASE names replace the checks.py case lists.
Not shipped to students: not in the wheel (pyproject.toml packages only checks.py), not in
the release (make release)."""

HIDDEN = {
    "update_weight_ratio": [dict(variant=1, RATIO_SHAPES=[(2, 2, 3, 5), (64,), (9, 1)],
                                 RATIO_CASES=[(3.0, 1.0, "float32"), (1e-4, 500.0, "float16"),
                                              (1e-6, 1e-3, "float64")])],
    "update_ratio_callback": [dict(variant=1, CALLBACK_CASES=[(0.2, 48), (0.01, 5)])],
    "loss_verdict": [dict(VERDICT_CASES=[(4.0, [12.0, 1.0], "good"), (4.0, [12.5, 1.0], "exploding"),
                                         (4.0, [3.6], "good"), (4.0, [3.7], "too low"),
                                         (1.0, [0.5, float("-inf")], "exploding"),
                                         (1.0, [1.1, 0.2], "good")])],
    "range_test": [dict(variant=1, LEARNING_RATES=[1000.0, 1e-5, 1.0])],
}
