"""Hidden cases of this lab, run only by the autograder (tools/labs.py --autograder, make
grade): each entry is the keyword arguments of utils.labcheck.grade for one hidden test:
`variant` draws other random cases, and UPPER-CASE names replace the checks.py case lists.
Not shipped to students: not in the wheel (pyproject.toml packages only checks.py), not in
the release (make release)."""

HIDDEN = {
    "ssd_scales": [dict(SCALE_CASES=[(2, 0.3, 0.6), (10, 0.05, 0.95), (5, 0.2, 0.2)])],
    "default_boxes": [dict(BOX_CASES=[(2, 0.1, 0.2, [1]), (6, 0.25, 0.4, [1, 4, 0.25]),
                                      (1, 0.5, 0.55, [1, 2, 0.5, 3, 1 / 3])])],
    "encode_decode": [dict(variant=1), dict(variant=2, VARIANCES=(0.05, 0.1))],
    "match": [dict(variant=1)],
}
