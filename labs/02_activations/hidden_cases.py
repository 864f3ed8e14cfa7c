"""Hidden cases of this lab, run only by the autograder (tools/labs.py --autograder, make
grade): each entry is the keyword arguments of utils.labcheck.grade for one hidden test:
`variant` draws other random cases, and UPPER-CASE names replace the checks.py case lists.
Not shipped to students: not in the wheel (pyproject.toml packages only checks.py), not in
the release (make release)."""

HIDDEN = {
    "derivatives": [dict(variant=1, POINTS=[-30.0, -7.5, -0.05, 0.0, 0.05, 7.5, 30.0])],
    "gradient_norms": [dict(variant=1, NORM_MODELS=[("sigmoid", 1, 11, False),
                                                    ("tanh", 5, 12, True),
                                                    ("relu", 8, 13, False)])],
    # the ratios are computed on the lab's own models and digits: the hidden test re-runs the
    # public check (there are no other cases to draw)
    "ratios": [dict(variant=1)],
}
