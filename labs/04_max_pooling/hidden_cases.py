"""Hidden cases of this lab, run only by the autograder (tools/labs.py --autograder, make
grade): each entry is the keyword arguments of utils.labcheck.grade for one hidden test:
`variant` draws other random cases, and UPPER-CASE names replace the checks.py case lists.
Not shipped to students: not in the wheel (pyproject.toml packages only checks.py), not in
the release (make release)."""

HIDDEN_CASES = [((1, 2, 2, 1), 2, 2), ((2, 9, 4, 3), 4, 1), ((1, 10, 10, 2), 3, 3),
                ((3, 5, 11, 1), 1, 2), ((1, 6, 3, 5), 2, 4)]

HIDDEN = {
    "max_pool_forward": [dict(variant=1), dict(variant=2, CASES=HIDDEN_CASES)],
    "max_pool_backward": [dict(variant=1), dict(variant=2, CASES=HIDDEN_CASES)],
}
