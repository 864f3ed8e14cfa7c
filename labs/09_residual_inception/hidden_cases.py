"""Hidden cases of this lab, run only by the autograder (tools/labs.py --autograder, make
grade): each entry is the keyword arguments of utils.labcheck.grade for one hidden test:
`variant` draws other random cases, and UPPER-CASE names replace the checks.py case lists.
Not shipped to students: not in the wheel (pyproject.toml packages only checks.py), not in
the release (make release)."""

HIDDEN = {
    # other ResNet50 blocks: the first of stage 4 and 5 (strided projections), a late identity
    "bottleneck_block": [dict(RESNET_CASES=[((28, 28, 512), 256, 2, True, "conv4_block1"),
                                            ((14, 14, 1024), 256, 1, False, "conv4_block5"),
                                            ((14, 14, 1024), 512, 2, True, "conv5_block1")])],
    # GoogLeNet Table 1's other modules ((4c) and (5a) are left out: their published counts
    # differ from the weights of their own filter numbers by 7% and 5%)
    "inception_module": [dict(INCEPTION_CASES=[
        ("inception (4b)", (14, 14, 512), (160, 112, 224, 24, 64, 64), (14, 14, 512), 437),
        ("inception (4e)", (14, 14, 528), (256, 160, 320, 32, 128, 128), (14, 14, 832), 840),
        ("inception (4d)", (14, 14, 512), (112, 144, 288, 32, 64, 64), (14, 14, 528), 580)])],
}
