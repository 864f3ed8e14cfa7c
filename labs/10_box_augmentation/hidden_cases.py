"""Hidden cases of this lab, run only by the autograder (tools/labs.py --autograder, make
grade): each entry is the keyword arguments of utils.labcheck.grade for one hidden test:
`variant` draws other random cases, and UPPER-CASE names replace the checks.py case lists.
Not shipped to students: not in the wheel (pyproject.toml packages only checks.py), not in
the release (make release)."""

HIDDEN = {
    "flip": [dict(variant=1), dict(variant=2)],
    "crop": [dict(variant=1)],
    "augmenter": [dict(variant=1)],
}
