import numpy as np
import pytest

from utils import claims


def test_holding_claim_prints_the_measurement(capsys):
    claims.less("C06", "gradient ratio", np.float32(0.01234), 0.1)
    assert capsys.readouterr().out == "Claim C06 holds: gradient ratio 0.01234 < 0.1\n"


def test_failing_claim_raises_with_numbers():
    with pytest.raises(claims.ClaimFailed, match=r"Claim C06 failed: gradient ratio 0.8 >= 0.1"):
        claims.less("C06", "gradient ratio", 0.8, 0.1)
    assert issubclass(claims.ClaimFailed, AssertionError)


@pytest.mark.parametrize("call, ok", [
    (lambda: claims.greater("C01", "v", 2, 1), True),
    (lambda: claims.greater("C01", "v", 1, 1), False),
    (lambda: claims.at_least("C01", "v", 1, 1), True),
    (lambda: claims.between("C01", "v", 0.5, 0, 1), True),
    (lambda: claims.between("C01", "v", 1.5, 0, 1), False),
    (lambda: claims.close("C01", "v", 1.05, 1.0, rtol=0.1), True),
    (lambda: claims.close("C01", "v", 1.2, 1.0, rtol=0.1), False),
    (lambda: claims.equal("C01", "params", 34944, 34944), True),
    (lambda: claims.equal("C01", "params", 34945, 34944), False),
    (lambda: claims.check("C01", True, "it held"), True),
    (lambda: claims.check("C01", np.bool_(False), "it did not"), False),
    (lambda: claims.less("C01", "loss", float("nan"), 1.0), False),
])
def test_comparisons(call, ok):
    if ok:
        call()
    else:
        with pytest.raises(claims.ClaimFailed):
            call()


def test_bad_arguments():
    with pytest.raises(ValueError, match="claim_id"):
        claims.less("6", "x", 1, 2)
    with pytest.raises(TypeError, match="value"):
        claims.less("C06", "x", "small", 2)
    with pytest.raises(ValueError, match="bound: expected a finite number"):
        claims.less("C06", "x", 1, float("nan"))
    with pytest.raises(ValueError, match="tolerance"):
        claims.close("C06", "x", 1, 1)
    with pytest.raises(TypeError, match="holds"):
        claims.check("C06", "yes", "x")


def test_only_a_paired_comparison_can_disagree_with_the_lecture():
    # a single measurement against a bound cannot carry a verdict against the lecture
    for function in (claims.less, claims.greater, claims.at_least, claims.equal):
        with pytest.raises(TypeError, match="against_lecture"):
            function("C08", "speed-up", 0.6, 6, against_lecture=True)


def test_sign_test_p_values():
    assert claims.sign_test_p(5, 5) == pytest.approx(1 / 32)
    assert claims.sign_test_p(8, 9) == pytest.approx(10 / 512)
    assert claims.sign_test_p(4, 5) == pytest.approx(6 / 32)
    assert claims.sign_test_p(0, 5) == 1.0
    with pytest.raises(ValueError, match="wins"):
        claims.sign_test_p(6, 5)


def _paired_runs(effect, seeds, noise=1.0, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.normal(size=seeds)
    return base + effect + noise * rng.normal(size=seeds), base + noise * rng.normal(size=seeds)


@pytest.mark.parametrize("test", ["sign", "bootstrap"])
def test_paired_refuses_when_the_effect_is_absent(test):
    # No effect at all: over many synthetic data sets the helper says "holds" at most ~alpha of the time.
    holds = 0
    for seed in range(200):
        a, b = _paired_runs(0.0, 9, seed=seed)
        try:
            claims.paired("C41", "x", a, b, a_name="A", b_name="B", test=test, expect="holds")
            holds += 1
        except claims.ClaimFailed:
            pass
    assert holds / 200 < 0.1


@pytest.mark.parametrize("test", ["sign", "bootstrap"])
def test_paired_finds_a_present_effect_and_its_opposite(test, capsys):
    a, b = _paired_runs(3.0, 9, noise=0.5)
    claims.paired("C41", "loss", a, b, a_name="A", b_name="B", test=test)
    assert capsys.readouterr().out.startswith("Claim C41 holds: loss: A better in 9/9 paired seeds")
    # The same data read as "lower is better" is the opposite effect: a finding against the lecture.
    claims.paired("C41", "loss", a, b, a_name="A", b_name="B", test=test, larger_is_better=False,
                  expect="does not hold here")
    out = capsys.readouterr().out
    assert out.startswith("Claim C41 does not hold here: loss: A better in 0/9")
    if test == "sign":   # the test the verdict rests on is printed too, not only the lecture's p = 1
        assert "(one-sided sign test p = 1 >= 0.05; reverse test, B better: p = 0.00195 < 0.05)" in out
    with pytest.raises(claims.ClaimFailed, match="expected 'holds', measured 'does not hold here'"):
        claims.paired("C41", "loss", a, b, a_name="A", b_name="B", test=test, larger_is_better=False)


def test_compare_gives_the_verdict_and_its_evidence_without_a_claim():
    # What `paired` prints is what `compare` returns: 6/6 pairs in favour of A, then the opposite.
    a, b = np.array([3.0, 4.0, 5.0, 6.0, 7.0, 8.0]), np.array([1.0, 2.5, 4.0, 5.5, 6.0, 7.5])
    result = claims.compare(a, b)
    assert (result.verdict, result.wins, result.losses, result.trials) == ("holds", 6, 0, 6)
    assert result.p_value == pytest.approx(1 / 64) and result.mean == pytest.approx(np.mean(a - b))
    assert result.opposite_p == 1.0   # the sign test in b's favour: 0 of 6
    assert 0 < result.low < result.mean < result.high
    assert claims.compare(a, b, larger_is_better=False).verdict == "does not hold here"
    assert claims.compare(a[:4], b[:4]).verdict == "inconclusive"      # 4/4: p = 1/16 > 0.05
    # A diverged run of b (inf when smaller is better) counts for a but is left out of the interval.
    diverged = claims.compare(b, np.append(a[:5], np.inf), larger_is_better=False)
    assert (diverged.wins, diverged.finished) == (6, 5)
    with pytest.raises(ValueError, match="test"):
        claims.compare(a, b, test="t")


def test_paired_inconclusive_and_equivalence(capsys):
    a, b = np.array([1.0, 2.0, 3.0, 4.0, 5.0]), np.array([1.5, 1.5, 3.5, 3.5, 5.0])
    claims.paired("C13", "acc", a, b, a_name="A", b_name="B", expect="inconclusive")
    assert "Claim C13 is inconclusive at 5 pairs: acc" in capsys.readouterr().out
    tiny = b + np.array([0.001, -0.002, 0.001, 0.0, -0.001])
    claims.paired("C13", "acc", tiny, b, a_name="A", b_name="B", margin=0.01, expect="does not hold here")
    # A margin narrower than the spread of the differences cannot turn noise into equivalence.
    claims.paired("C13", "acc", a, b, a_name="A", b_name="B", margin=0.1, expect="inconclusive")


def test_paired_claimed_gain_is_excluded_only_by_the_whole_interval(capsys):
    rng = np.random.default_rng(0)
    b = rng.uniform(0.6, 0.8, 10)
    # a slightly worse than b, by seed noise larger than the difference: the sign test cannot
    # decide, but the interval of a's gain lies below a claimed gain of 0.05
    worse = b + rng.normal(-0.01, 0.04, 10)
    assert claims.compare(worse, b).verdict == "inconclusive"
    claims.paired("C13", "acc", worse, b, a_name="A", b_name="B", claimed_gain=0.05, expect="does not hold here")
    assert "the claimed gain 0.05 lies above the whole interval: excluded" in capsys.readouterr().out
    # a noisy advantage of the claimed size, too noisy for the sign test: nothing is excluded
    level = b + 0.01 + np.array([0.04, -0.03, 0.02, -0.02, 0.03, -0.01, 0.01, -0.04, 0.05, -0.02])
    assert claims.compare(level, b).verdict == "inconclusive"
    claims.paired("C13", "acc", level, b, a_name="A", b_name="B", claimed_gain=0.01, expect="inconclusive")
    assert "the claimed gain 0.01 lies inside the interval" in capsys.readouterr().out
    # a larger advantage than claimed: holds, and the claimed size lies below the interval
    claims.paired("C13", "acc", b + 0.1 + rng.normal(0, 0.01, 10), b, a_name="A", b_name="B", claimed_gain=0.05)
    assert "the claimed gain 0.05 lies below the interval" in capsys.readouterr().out
    # smaller is better: the claimed reduction (b - a) is excluded when a's reduction stays below it
    slightly_lower = b - 0.005 + rng.normal(0, 0.02, 10)
    assert claims.compare(slightly_lower, b, larger_is_better=False).verdict == "inconclusive"
    claims.paired("C13", "loss", slightly_lower, b, a_name="A", b_name="B", larger_is_better=False,
                  claimed_gain=0.05, expect="does not hold here")
    assert "the claimed reduction 0.05 lies above the whole interval" in capsys.readouterr().out
    # a pair where b diverged counts for a outside the interval: then nothing is excluded
    diverged = np.append(worse[:9], 0.7)
    skipped = claims.compare(diverged, np.append(b[:9], -np.inf), claimed_gain=0.05)
    assert skipped.verdict == "inconclusive" and not skipped.excluded and skipped.high < 0.05
    # "holds" takes precedence: a consistent advantage smaller than claimed still holds
    small = claims.compare(b + 0.01 + rng.normal(0, 0.002, 10), b, claimed_gain=0.05)
    assert small.verdict == "holds" and small.excluded
    with pytest.raises(ValueError, match="claimed_gain"):
        claims.compare(worse, b, claimed_gain=-0.05)


def test_paired_bad_arguments():
    with pytest.raises(ValueError, match="a, b"):
        claims.paired("C41", "x", [1, 2, 3], [1, 2], a_name="A", b_name="B")
    with pytest.raises(ValueError, match="a: expected numbers .inf for a diverged run., not NaN"):
        claims.paired("C41", "x", [1, float("nan")], [1, 2], a_name="A", b_name="B")
    with pytest.raises(ValueError, match="expect"):
        claims.paired("C41", "x", [1, 2], [1, 2], a_name="A", b_name="B", expect="maybe")
    with pytest.raises(TypeError, match="larger_is_better"):
        claims.paired("C41", "x", [1, 2], [1, 2], a_name="A", b_name="B", larger_is_better="no")
    with pytest.raises(TypeError, match="b: expected a sequence"):
        claims.paired("C41", "x", [1, 2], ["a", object()], a_name="A", b_name="B")
    with pytest.raises(TypeError, match="pairs"):
        claims.paired("C41", "x", [1, 2], [1, 2], a_name="A", b_name="B", pairs=None)


def test_paired_names_what_is_paired(capsys):
    a, b = _paired_runs(3.0, 9, noise=0.5)
    claims.paired("C41", "seconds", a, b, a_name="A", b_name="B", pairs="test images")
    assert "A better in 9/9 paired test images, B in 0/9" in capsys.readouterr().out


def test_equivalent_needs_the_interval_inside_the_margin(capsys):
    rng = np.random.default_rng(3)
    b = rng.normal(0.9, 0.05, 9)
    # Arms that differ by seed noise far below the margin: equivalence holds.
    claims.equivalent("C21", "acc", b + rng.normal(0, 0.002, 9), b, a_name="A", b_name="B", margin=0.01)
    out = capsys.readouterr().out
    assert out.startswith("Claim C21 holds: acc: mean difference A - B") and "margin +/-0.01" in out
    # No real difference, but too few and too noisy pairs: the test must refuse to call it equal.
    noisy = b + rng.normal(0, 0.05, 9)
    with pytest.raises(claims.ClaimFailed, match="expected 'holds', measured 'inconclusive'"):
        claims.equivalent("C21", "acc", noisy, b, a_name="A", b_name="B", margin=0.01)
    claims.equivalent("C21", "acc", noisy[:3], b[:3], a_name="A", b_name="B", margin=0.01,
                      expect="inconclusive")
    assert "is inconclusive at 3 pairs" in capsys.readouterr().out
    # A real difference beyond the margin, in either direction: does not hold.
    for shift in (0.05, -0.05):
        claims.equivalent("C21", "acc", b + shift + rng.normal(0, 0.002, 9), b, a_name="A",
                          b_name="B", margin=0.01, expect="does not hold here")
    with pytest.raises(ValueError, match="margin"):
        claims.equivalent("C21", "acc", b, b, a_name="A", b_name="B", margin=0)
    with pytest.raises(ValueError, match="a, b"):
        claims.equivalent("C21", "acc", b, b[:3], a_name="A", b_name="B", margin=0.1)
    with pytest.raises(ValueError, match="claim_id"):
        claims.equivalent("21", "acc", b, b, a_name="A", b_name="B", margin=0.1)


def test_bootstrap_interval_is_reproducible_and_covers_the_mean():
    differences = np.random.default_rng(1).normal(1.0, 1.0, 20)
    first, second = claims.bootstrap_interval(differences), claims.bootstrap_interval(differences)
    assert first == second and first[0] < differences.mean() < first[1]


def test_computed_fact(capsys):
    claims.computed("C37", "1.125e10 boxes")
    assert capsys.readouterr().out == "Claim C37 computed: 1.125e10 boxes\n"


def test_paired_counts_a_diverged_run_as_the_worst(capsys):
    losses_a = np.array([1.0, 1.1, 0.9, 1.2, 1.0, 0.8])
    losses_b = np.array([2.0, 2.1, 1.9, 2.2, 2.0, np.inf])     # the last run of arm b diverged
    claims.paired("C46", "loss", losses_a, losses_b, a_name="A", b_name="B", larger_is_better=False)
    out = capsys.readouterr().out
    assert "A better in 6/6 paired seeds" in out and "over the 5 pairs in which both runs finished" in out


def test_bootstrap_line_gives_both_counts(capsys):
    # a reader can see what the sign test would say, though the interval decides
    a = np.array([0.9, 0.8, 0.85, 0.7, 0.6, 0.75, 0.8, 0.9, 0.7, 0.4])
    b = np.array([0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    claims.paired("C30", "accuracy", a, b, a_name="A", b_name="B", test="bootstrap")
    out = capsys.readouterr().out
    assert out.startswith("Claim C30 holds: accuracy: A better in 9/10 paired seeds, B in 1/10; mean gain")
    assert "sign test" not in out
