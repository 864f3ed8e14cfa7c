"""Hidden cases of this lab, run only by the autograder (tools/labs.py --autograder, make
grade): each entry is the keyword arguments of utils.labcheck.grade for one hidden test:
`variant` draws other random cases, and UPPER-CASE names replace the checks.py case lists.
Not shipped to students: not in the wheel (pyproject.toml packages only checks.py), not in
the release (make release)."""

HIDDEN = {
    # a box inside another touching one edge, zero-area boxes' neighbours, far apart boxes
    "iou": [dict(variant=1, IOU_SIZES=[(2, 2), (20, 1), (0, 0)],
                 SPECIAL_A=[[0, 0, 10, 10], [0, 0, 40, 40], [5, 5, 6, 6]],
                 SPECIAL_B=[[0, 0, 5, 10], [1000, 1000, 1010, 1020], [0, 0, 100, 100]])],
    "nms": [dict(variant=1), dict(variant=2)],
    "batched_nms": [dict(variant=1, CLASS_SETS=[4, [0, 9], [5]])],
}
