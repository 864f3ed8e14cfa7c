"""Hidden cases of this lab, run only by the autograder (tools/labs.py --autograder, make
grade): each entry is the keyword arguments of utils.labcheck.grade for one hidden test:
`variant` draws other random cases, and UPPER-CASE names replace the checks.py case lists.
Not shipped to students: not in the wheel (pyproject.toml packages only checks.py), not in
the release (make release)."""

# other sizes: a 1-pixel input, kernel larger than the stride, stride much larger than the kernel
HIDDEN_GEOMETRIES = [((1, 1, 1, 2), (1, 1), 1, "same"), ((2, 5, 3, 2), (5, 3), 2, "valid"),
                     ((1, 11, 7, 3), (3, 1), 4, "same"), ((3, 6, 10, 1), (2, 5), 2, "same")]

HIDDEN = {
    "pad_amounts": [dict(variant=1, PAD_CASES=[(1, 1, 1), (5, 5, 1), (11, 2, 4), (13, 6, 5)]),
                    dict(variant=2)],
    "im2col": [dict(variant=1), dict(variant=2, IM2COL_CASES=HIDDEN_GEOMETRIES)],
    "conv2d": [dict(variant=1), dict(variant=2, IM2COL_CASES=HIDDEN_GEOMETRIES)],
    "conv2d_backward": [dict(variant=1), dict(variant=2, IM2COL_CASES=HIDDEN_GEOMETRIES)],
}
