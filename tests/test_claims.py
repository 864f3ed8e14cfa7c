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
    (lambda: claims.fraction("C15", "seeds", 4, 5), True),
    (lambda: claims.fraction("C15", "seeds", 2, 4), False),
    (lambda: claims.fraction("C15", "seeds", 2, 4, strict=False), True),
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
    with pytest.raises(ValueError, match="successes"):
        claims.fraction("C06", "x", 5, 4)


def test_against_lecture_says_so(capsys):
    claims.less("C08", "mean speed-up of ReLU over tanh", 0.6, 6, against_lecture=True)
    assert capsys.readouterr().out == "Claim C08 does not hold here: mean speed-up of ReLU over tanh 0.6 < 6\n"
    with pytest.raises(claims.ClaimFailed, match="Claim C08 failed"):
        claims.less("C08", "speed-up", 7.0, 6, against_lecture=True)
    with pytest.raises(TypeError, match="against_lecture"):
        claims.check("C08", True, "x", against_lecture="yes")
