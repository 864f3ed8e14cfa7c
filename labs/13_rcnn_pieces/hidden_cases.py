"""Hidden cases of this lab, run only by the autograder (tools/labs.py --autograder, make
grade): each entry is the keyword arguments of utils.labcheck.grade for one hidden test:
`variant` draws other random cases, and UPPER-CASE names replace the checks.py case lists.
Not shipped to students: not in the wheel (pyproject.toml packages only checks.py), not in
the release (make release)."""

HIDDEN = {
    "crop_and_resize": [dict(variant=1, CROP_CASES=[
        (5, 5, 1, (0.0, 0.0, 0.0, 0.0), (2, 2)),       # a point: every sample the same pixel
        (4, 12, 2, (-0.5, -0.5, 1.5, 1.5), (6, 7)),    # larger than the image on every side
        (10, 3, 3, (1.0, 1.0, 0.0, 0.0), (1, 1)),      # one sample of a fully flipped box
        (7, 7, 2, (0.3, 0.3, 0.31, 0.9), (5, 2))])],
    "roi_pool": [dict(variant=1, POOL_CASES=[(5, 5, 3, 1, 1), (20, 14, 2, 6, 4)])],
    "anchor_labels": [dict(variant=1), dict(variant=2)],
}
