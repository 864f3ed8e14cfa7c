"""Asserting the lecture's claims with the measured numbers in the message.

A notebook cell that checks claim Cnn of ../shared/CLAIMS.md carries the comment
`# claim Cnn` and ends with one of these calls. On success it prints one line,
`Claim C06 holds: gradient ratio 0.0123 < 0.1`, which nbval compares on every run, so
values passed in should be deterministic (rounded where the last digits are noise). On
failure it raises `ClaimFailed` (an `AssertionError`):

    ClaimFailed: Claim C06 failed: gradient ratio 0.8 >= 0.1

A verdict against the lecture ("does not hold here") is a finding at the same standard as
one for it, so only the paired comparisons (`paired`, `equivalent`) can give it.
"""

from __future__ import annotations

import math
import numbers
import operator
import re
from typing import NamedTuple

import numpy as np

from utils import validation

_CLAIM_ID = re.compile(r"^C\d\d$")


class ClaimFailed(AssertionError):
    """A lecture claim that the measurement did not support."""


def _format(value) -> str:
    if isinstance(value, float) and value != 0 and math.isfinite(value):
        return f"{value:.4g}"
    return str(value)


def _number(name: str, value, *, finite: bool = False) -> float:
    """A float from a Python, NumPy or TensorFlow scalar; NaN and inf (a diverged run) only if not `finite`."""
    if hasattr(value, "numpy") and callable(value.numpy):
        value = value.numpy()
    if hasattr(value, "item") and callable(value.item) and getattr(value, "size", 1) == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if finite and not math.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, got {value}")
    return value


def _check_claim_id(claim_id) -> None:
    if not isinstance(claim_id, str) or not _CLAIM_ID.match(claim_id):
        raise ValueError(f"claim_id: expected an id like 'C06', got {claim_id!r}")


def _finish(claim_id: str, holds: bool, success: str, failure: str, verdict: str = "holds") -> None:
    """Print `Claim Cnn <verdict>: <success>`, or raise ClaimFailed with `failure` when not `holds`."""
    _check_claim_id(claim_id)
    if not holds:
        raise ClaimFailed(f"Claim {claim_id} failed: {failure}")
    print(f"Claim {claim_id} {verdict}: {success}")


def check(claim_id: str, holds: bool, measured: str) -> None:
    """The general form: `holds` is the verdict, `measured` says what was measured."""
    if hasattr(holds, "item") and callable(holds.item):
        holds = holds.item()
    if not isinstance(holds, bool):
        raise TypeError(f"holds: expected a bool, got {type(holds).__name__}")
    if not isinstance(measured, str) or not measured:
        raise TypeError("measured: expected a non-empty string describing the measurement")
    _finish(claim_id, holds, measured, measured)


def _against_bound(claim_id, name, value, bound, holds, relation: str, opposite: str) -> None:
    """Claim that `holds(value, bound)`, printed as `relation` (or `opposite` when it fails)."""
    value, bound = _number("value", value), _number("bound", bound, finite=True)
    measured = f"{name} {_format(value)}"
    _finish(claim_id, holds(value, bound), f"{measured} {relation} {_format(bound)}",
            f"{measured} {opposite} {_format(bound)}")


def less(claim_id: str, name: str, value, bound) -> None:
    """Claim that `value < bound`."""
    _against_bound(claim_id, name, value, bound, operator.lt, "<", ">=")


def greater(claim_id: str, name: str, value, bound) -> None:
    """Claim that `value > bound`."""
    _against_bound(claim_id, name, value, bound, operator.gt, ">", "<=")


def at_least(claim_id: str, name: str, value, bound) -> None:
    """Claim that `value >= bound`."""
    _against_bound(claim_id, name, value, bound, operator.ge, ">=", "<")


def between(claim_id: str, name: str, value, low, high) -> None:
    """Claim that `low <= value <= high`."""
    value, low, high = _number("value", value), _number("low", low, finite=True), _number("high", high, finite=True)
    if low > high:
        raise ValueError(f"low, high: expected low <= high, got {low} > {high}")
    _finish(claim_id, low <= value <= high,
            f"{name} {_format(value)} in [{_format(low)}, {_format(high)}]",
            f"{name} {_format(value)} outside [{_format(low)}, {_format(high)}]")


def close(claim_id: str, name: str, value, target, *, rtol: float = 0.0, atol: float = 0.0) -> None:
    """Claim that |value - target| <= atol + rtol * |target|."""
    value, target = _number("value", value), _number("target", target, finite=True)
    rtol = validation.as_float("rtol", rtol, minimum=0)
    atol = validation.as_float("atol", atol, minimum=0)
    if rtol == 0 and atol == 0:
        raise ValueError("rtol, atol: give a tolerance (use equal() for exact equality)")
    tolerance = atol + rtol * abs(target)
    error = abs(value - target)
    _finish(claim_id, error <= tolerance,
            f"{name} {_format(value)} within {_format(tolerance)} of {_format(target)}",
            f"{name} {_format(value)} differs from {_format(target)} by {_format(error)} > {_format(tolerance)}")


def equal(claim_id: str, name: str, value, expected) -> None:
    """Claim exact equality (counts, shapes, parameter numbers)."""
    _finish(claim_id, value == expected, f"{name} {_format(value)} == {_format(expected)}",
            f"{name} {_format(value)} != {_format(expected)}")


# --- Comparisons over paired seeds (the standard of evidence of ../shared/CLAIMS.md) ---------
VERDICTS = ("holds", "does not hold here", "inconclusive")


def sign_test_p(wins: int, trials: int) -> float:
    """One-sided sign test: P(at least `wins` heads in `trials` fair coin flips); 5 of 5 gives 0.031."""
    wins = validation.as_int("wins", wins, minimum=0)
    trials = validation.as_int("trials", trials, minimum=1)
    if wins > trials:
        raise ValueError(f"wins: expected <= trials={trials}, got {wins}")
    return sum(math.comb(trials, k) for k in range(wins, trials + 1)) / 2 ** trials


def bootstrap_interval(differences, *, confidence: float = 0.95, resamples: int = 10_000, seed: int = 0):
    """Seeded percentile bootstrap interval (low, high) of the mean of paired differences."""
    differences = _differences_array("differences", differences)
    confidence = validation.as_fraction("confidence", confidence, allow_zero=False)
    resamples = validation.as_int("resamples", resamples, minimum=100)
    rng = np.random.default_rng(seed)
    means = differences[rng.integers(0, len(differences), (resamples, len(differences)))].mean(axis=1)
    tail = (1 - confidence) / 2
    return float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))


def _differences_array(name, values, *, allow_infinite: bool = False) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected a sequence of numbers, got {type(values).__name__}") from None
    if array.ndim != 1 or len(array) < 2:
        raise ValueError(f"{name}: expected a 1-D sequence of at least 2 paired values, got shape {array.shape}")
    if np.isnan(array).any() or not (allow_infinite or np.isfinite(array).all()):
        kind = "numbers (inf for a diverged run), not NaN" if allow_infinite else "finite values"
        raise ValueError(f"{name}: expected {kind}, got {array.tolist()}")
    return array


def _pairs(a, b, *, allow_infinite: bool = False):
    """The two arms as float arrays of equal length (the argument checks of paired comparisons)."""
    a = _differences_array("a", a, allow_infinite=allow_infinite)
    b = _differences_array("b", b, allow_infinite=allow_infinite)
    if a.shape != b.shape:
        raise ValueError(f"a, b: expected paired values of equal length, got {len(a)} and {len(b)}")
    return a, b


def _within(low: float, high: float, margin: float) -> bool:
    """Equivalence (two one-sided tests): the interval [low, high] lies inside [-margin, margin]."""
    return -margin < low and high < margin


class Comparison(NamedTuple):
    """The outcome of `compare`: a verdict and the evidence behind it."""
    verdict: str        # "holds" (a beats b), "does not hold here" (b beats a, or equivalent), "inconclusive"
    wins: int           # pairs in which a is better
    losses: int         # pairs in which b is better
    trials: int
    p_value: float      # one-sided sign test for a (sign test only, else nan)
    opposite_p: float   # the same test for b (sign test only, else nan)
    mean: float         # mean paired gain of a over b (over the pairs where both runs finished)
    low: float          # (1 - 2 alpha) bootstrap interval of that mean
    high: float
    finished: int       # pairs in which both runs finished
    excluded: bool = False   # claimed_gain given, and the interval excludes it (see compare)


def compare(a, b, *, larger_is_better: bool = True, test: str = "sign", alpha: float = 0.05,
            margin: float | None = None, claimed_gain: float | None = None) -> Comparison:
    """Judge paired runs (same seed, data and budget): does arm `a` beat arm `b` on a measure?
      - "holds": a wins a one-sided sign test at `alpha` (test="sign"; ties count against a), or
        the bootstrap interval of the mean paired gain lies above zero (test="bootstrap");
      - "does not hold here": b wins at the same standard; or the interval lies inside
        [-margin, margin] (equivalence); or it lies wholly below `claimed_gain` (a's advantage
        as the lecture reports it: a - b, or b - a when smaller is better), unless b diverged
        in a pair where a finished;
      - "inconclusive" otherwise. "holds" takes precedence.
    A diverged run (inf, or -inf when larger is better) counts in the sign test only."""
    a, b = _pairs(a, b, allow_infinite=True)
    if not isinstance(larger_is_better, bool):
        raise TypeError(f"larger_is_better: expected a bool, got {type(larger_is_better).__name__}")
    test = validation.as_choice("test", test, ("sign", "bootstrap"))
    alpha = validation.as_fraction("alpha", alpha, allow_zero=False)
    if margin is not None:
        margin = validation.as_float("margin", margin, minimum=0)
    if claimed_gain is not None:
        claimed_gain = validation.as_float("claimed_gain", claimed_gain)
        if claimed_gain <= 0:
            raise ValueError(f"claimed_gain: expected the positive size of a's claimed advantage, got {claimed_gain}")
    with np.errstate(invalid="ignore"):
        differences = (a - b) if larger_is_better else (b - a)
    trials = len(differences)
    wins, losses = int((differences > 0).sum()), int((differences < 0).sum())
    finite = differences[np.isfinite(differences)]      # both runs finished (a diverged run is +-inf)
    low, high = bootstrap_interval(finite, confidence=1 - 2 * alpha) if len(finite) >= 2 else (-np.inf, np.inf)
    if test == "sign":
        p_value, opposite_p = sign_test_p(wins, trials), sign_test_p(losses, trials)
        favours, opposes = p_value < alpha, opposite_p < alpha
    else:
        p_value = opposite_p = math.nan
        favours, opposes = low > 0, high < 0
    equivalent = margin is not None and _within(low, high, margin)
    excluded = claimed_gain is not None and high < claimed_gain and not np.any(differences == np.inf)
    verdict = "holds" if favours else "does not hold here" if (opposes or equivalent or excluded) else "inconclusive"
    mean = float(finite.mean()) if len(finite) else math.nan
    return Comparison(verdict, wins, losses, trials, p_value, opposite_p, mean, low, high, len(finite), excluded)


def paired(claim_id: str, name: str, a, b, *, a_name: str, b_name: str, larger_is_better: bool = True,
           test: str = "sign", alpha: float = 0.05, margin: float | None = None,
           claimed_gain: float | None = None, expect: str = "holds", pairs: str = "seeds") -> None:
    """Judge the lecture's "a beats b on `name`" with `compare` (same arguments); print the verdict
    and evidence, or raise `ClaimFailed` when it is not `expect`. pairs: what is paired ("seeds")."""
    expect = validation.as_choice("expect", expect, VERDICTS)
    if not isinstance(pairs, str) or not pairs:
        raise TypeError("pairs: expected a non-empty string, e.g. 'seeds'")
    result = compare(a, b, larger_is_better=larger_is_better, test=test, alpha=alpha, margin=margin,
                     claimed_gain=claimed_gain)
    evidence = (f"{a_name} better in {result.wins}/{result.trials} paired {pairs}, "
                f"{b_name} in {result.losses}/{result.trials}")
    if test == "sign":
        evidence += (f" (one-sided sign test p = {result.p_value:.3g}"
                     f"{' < ' if result.p_value < alpha else ' >= '}{alpha:g}")
        if result.opposite_p < alpha:                    # the verdict rests on the test in b's favour
            evidence += f"; reverse test, {b_name} better: p = {result.opposite_p:.3g} < {alpha:g}"
        evidence += ")"
    gain = "gain" if larger_is_better else "reduction"
    detail = (f"mean {gain} of {a_name} over {b_name} {_format(result.mean)}, {1 - 2 * alpha:.0%} bootstrap "
              f"interval [{_format(result.low)}, {_format(result.high)}]")
    if result.finished < result.trials:
        detail += f" (over the {result.finished} pairs in which both runs finished)"
    if margin is not None:
        detail += f", equivalence margin +/-{_format(margin)}"
    if claimed_gain is not None:
        side = ("above the whole interval" + (": excluded" if result.excluded else "") if result.high < claimed_gain
                else "below the interval" if result.low > claimed_gain else "inside the interval")
        detail += f"; the claimed {gain} {_format(claimed_gain)} lies {side}"
    _report(claim_id, result.verdict, expect, result.trials, f"{name}: {evidence}; {detail}")


def equivalent(claim_id: str, name: str, a, b, *, a_name: str, b_name: str, margin: float,
               alpha: float = 0.05, expect: str = "holds") -> None:
    """The lecture says a matches b on `name`: "holds" when the bootstrap interval of the mean paired
    difference lies inside [-margin, margin], "does not hold here" when wholly outside, else "inconclusive"."""
    a, b = _pairs(a, b)                                   # equivalence needs finished runs on both arms
    expect = validation.as_choice("expect", expect, VERDICTS)
    if validation.as_float("margin", margin, minimum=0) == 0:
        raise ValueError("margin: expected a positive margin")
    result = compare(a, b, test="bootstrap", alpha=alpha, margin=margin)
    verdict = ("holds" if _within(result.low, result.high, margin)
               else "does not hold here" if result.low >= margin or result.high <= -margin else "inconclusive")
    message = (f"{name}: mean difference {a_name} - {b_name} {_format(result.mean)}, "
               f"{1 - 2 * alpha:.0%} bootstrap interval [{_format(result.low)}, {_format(result.high)}] over "
               f"{len(a)} paired seeds, equivalence margin +/-{_format(margin)}")
    _report(claim_id, verdict, expect, len(a), message)


def _report(claim_id: str, verdict: str, expect: str, trials: int, message: str) -> None:
    """Print a paired comparison's verdict, or raise ClaimFailed when it is not `expect`."""
    label = f"is inconclusive at {trials} pairs" if verdict == "inconclusive" else verdict
    _finish(claim_id, verdict == expect, message, f"expected '{expect}', measured '{verdict}': {message}", label)


def computed(claim_id: str, statement: str) -> None:
    """Print a closed-form fact (a parameter count) as computed; assert the fact in the cell first."""
    _check_claim_id(claim_id)
    if not isinstance(statement, str) or not statement:
        raise TypeError("statement: expected a non-empty string")
    print(f"Claim {claim_id} computed: {statement}")
