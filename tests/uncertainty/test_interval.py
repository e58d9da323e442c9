"""Interval arithmetic: enclosure against mpmath's rigorous intervals and brute-force sampling."""

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fdnmoo.uncertainty import Interval

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
positive = st.floats(1e-3, 1e3, allow_nan=False, allow_infinity=False)


@st.composite
def intervals(draw, low=finite):
    a, b = draw(low), draw(low)
    return min(a, b), max(a, b)


def ours(pair):
    return Interval(np.array(pair[0]), np.array(pair[1]))


def theirs(pair):
    return mpmath.iv.mpf([pair[0], pair[1]])


def assert_encloses_tightly(mine: Interval, ref) -> None:
    lo, hi = float(ref.a), float(ref.b)  # mpmath rounds outwards too
    assert mine.lo <= lo * (1 + 1e-15) + 1e-300 if lo > 0 else mine.lo <= lo
    assert mine.hi >= hi * (1 - 1e-15) - 1e-300 if hi > 0 else mine.hi >= hi * (1 + 1e-15)
    assert float(mine.width) <= (hi - lo) * (1 + 1e-12) + 1e-12 * max(1.0, abs(lo), abs(hi))


@settings(max_examples=200, deadline=None)
@given(x=intervals(), y=intervals())
def test_add_sub_mul_match_mpmath(x, y):
    assert_encloses_tightly(ours(x) + ours(y), theirs(x) + theirs(y))
    assert_encloses_tightly(ours(x) - ours(y), theirs(x) - theirs(y))
    assert_encloses_tightly(ours(x) * ours(y), theirs(x) * theirs(y))


@settings(max_examples=200, deadline=None)
@given(x=intervals(), y=intervals(positive))
def test_division_square_sqrt_abs_match_mpmath(x, y):
    assert_encloses_tightly(ours(x) / ours(y), theirs(x) / theirs(y))
    assert_encloses_tightly(ours(x).square(), theirs(x) ** 2)
    assert_encloses_tightly(ours(y).sqrt(), mpmath.iv.sqrt(theirs(y)))
    ref_abs = mpmath.iv.mpf([0 if x[0] <= 0 <= x[1] else min(abs(x[0]), abs(x[1])),
                             max(abs(x[0]), abs(x[1]))])
    assert_encloses_tightly(ours(x).abs(), ref_abs)


@settings(max_examples=100, deadline=None)
@given(x=intervals(), y=intervals(positive), seed=st.integers(0, 2**32 - 1))
def test_sampled_values_lie_inside(x, y, seed):
    rng = np.random.default_rng(seed)
    xs = np.concatenate([rng.uniform(*x, 200), x])
    ys = np.concatenate([rng.uniform(*y, 200), y])
    X, Y = ours(x), ours(y)
    for op, values in ((X * Y, xs * ys), (X / Y, xs / ys), (X - Y, xs - ys),
                       ((X * Y + X).square(), (xs * ys + xs) ** 2)):
        assert op.contains(values).all()


def test_hand_computed_cases():
    x = Interval(np.array([1.0]), np.array([2.0]))
    y = Interval(np.array([-3.0]), np.array([4.0]))
    prod = x * y
    assert prod.lo[0] == pytest.approx(-6) and prod.hi[0] == pytest.approx(8)
    quot = x / Interval.around(6.0, 2.0)  # [1, 2] / [4, 8] = [1/8, 1/2]
    assert quot.lo == pytest.approx(0.125) and quot.hi == pytest.approx(0.5)
    sq = Interval(-1.0, 2.0).square()  # [0, 4], not x * x = [-2, 4]
    assert sq.lo == 0 and sq.hi == pytest.approx(4)
    assert (Interval(-1.0, 2.0) * Interval(-1.0, 2.0)).lo == pytest.approx(-2)
    whole = 1.0 / y
    assert whole.lo[0] == -np.inf and whole.hi[0] == np.inf
    assert (2.0 - x).lo[0] == pytest.approx(0) and (2.0 - x).hi[0] == pytest.approx(1)
    # numpy arrays on the left defer to the interval
    both = np.array([1.0, 2.0]) + Interval.around([0.0, 0.0], 0.5)
    assert both.lo == pytest.approx([0.5, 1.5])


def test_bad_intervals_are_refused():
    with pytest.raises(ValueError, match=r"not an interval at \(1,\)"):
        Interval(np.array([0.0, 2.0]), np.array([1.0, 1.0]))
    with pytest.raises(ValueError, match="below 0"):
        Interval(-1.0, 1.0).sqrt()
    with pytest.raises(ValueError, match="radius"):
        Interval.around(0.0, -1.0)
