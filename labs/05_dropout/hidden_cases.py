"""Hidden cases of this lab, run only by the autograder (tools/labs.py --autograder, make
grade): each entry is the keyword arguments of utils.labcheck.grade for one hidden test:
`variant` draws other random cases, and UPPER-CASE names replace the checks.py case lists.
Not shipped to students: not in the wheel (pyproject.toml packages only checks.py), not in
the release (make release)."""

HIDDEN = {
    "inverted_dropout": [dict(variant=1, RATES=(0.05, 0.5, 0.9))],
    "dropout_layer": [dict(variant=1, RATES=(0.1, 0.6), SHAPE=(400, 250))],
    "dropout_backward": [dict(variant=1)],
}
