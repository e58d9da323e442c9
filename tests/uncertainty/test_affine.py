"""Affine arithmetic: joint enclosure against sampling, hand-computed cases, symbol condensing.

The joint test is stronger than an interval check: for every sampled value of the
shared noise symbols, the exact result must lie within the result's private
error of its shared part (``|f(x, y) - z.evaluate(eps)| <= z.error``), so the
correlations a form claims are true ones.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fdnmoo.uncertainty import AffineForm, Interval

N_SYM = 3
N_QTY = 4
coefficient = st.floats(-2.0, 2.0, allow_nan=False)


@st.composite
def forms(draw, center=st.floats(-5.0, 5.0), positive_margin=None):
    c = np.array(draw(st.lists(center, min_size=N_QTY, max_size=N_QTY)))
    a = np.array(draw(st.lists(coefficient, min_size=N_QTY * N_SYM, max_size=N_QTY * N_SYM)))
    a = a.reshape(N_QTY, N_SYM)
    e = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=N_QTY, max_size=N_QTY)))
    if positive_margin is not None:  # keep the range inside (margin, inf)
        c = np.abs(a).sum(axis=1) + e + positive_margin + np.abs(c)
    return AffineForm(c, a, e)


def samples(rng, n=400):
    """Noise values: uniform inside the box, plus every vertex."""
    inner = rng.uniform(-1, 1, (n, N_SYM))
    vertices = np.array(np.meshgrid(*[[-1.0, 1.0]] * N_SYM)).reshape(N_SYM, -1).T
    return np.concatenate([inner, vertices])


def values(form: AffineForm, eps, eta):
    """Exact values of the quantities at shared noise ``eps`` and private noise ``eta``."""
    return form.center + eps @ form.coeffs.T + form.error * eta


def assert_joint_enclosure(z: AffineForm, exact, eps):
    gap = np.abs(exact - (z.center + eps @ z.coeffs.T))
    assert (gap <= z.error * (1 + 1e-12) + 1e-12).all(), (gap - z.error).max()


@settings(max_examples=150, deadline=None)
@given(x=forms(), y=forms(), seed=st.integers(0, 2**32 - 1))
def test_add_sub_mul_square_abs_enclose_jointly(x, y, seed):
    rng = np.random.default_rng(seed)
    eps = samples(rng)
    ex, ey = rng.choice([-1.0, 1.0, 0.3], size=(2, len(eps), N_QTY))
    xv, yv = values(x, eps, ex), values(y, eps, ey)
    assert_joint_enclosure(x + y, xv + yv, eps)
    assert_joint_enclosure(x - 2.5 * y + 1.0, xv - 2.5 * yv + 1.0, eps)
    assert_joint_enclosure(x * y, xv * yv, eps)
    assert_joint_enclosure(x.square(), xv ** 2, eps)
    assert_joint_enclosure(x.abs(), np.abs(xv), eps)
    assert_joint_enclosure((x * y - x).square(), (xv * yv - xv) ** 2, eps)


@settings(max_examples=150, deadline=None)
@given(x=forms(), y=forms(positive_margin=0.05), seed=st.integers(0, 2**32 - 1))
def test_reciprocal_division_sqrt_enclose_jointly(x, y, seed):
    rng = np.random.default_rng(seed)
    eps = samples(rng)
    ex, ey = rng.choice([-1.0, 1.0, -0.4], size=(2, len(eps), N_QTY))
    xv, yv = values(x, eps, ex), values(y, eps, ey)
    assert_joint_enclosure(y.reciprocal(), 1 / yv, eps)
    assert_joint_enclosure((-y).reciprocal(), -1 / yv, eps)
    assert_joint_enclosure(x / y, xv / yv, eps)
    assert_joint_enclosure(y.sqrt(), np.sqrt(yv), eps)
    assert_joint_enclosure((y + y).sqrt() - y, np.sqrt(yv + yv) - yv, eps)


@settings(max_examples=100, deadline=None)
@given(x=forms(), y=forms(positive_margin=0.05))
def test_interval_views_contain_the_interval_arithmetic_of_the_same_operation(x, y):
    """Single operations: the affine interval and the interval-arithmetic one both enclose;
    on x - x and on x * x (one shared source) affine arithmetic is exact or tighter."""
    ix, iy = x.to_interval(), y.to_interval()
    assert ((x + y).to_interval().width <= (ix + iy).width * (1 + 1e-12) + 1e-12).all()
    assert ((x - x).radius <= 1e-12 * (np.abs(x.center) + x.radius) + 2 * x.error + 1e-12).all()
    assert ((x - x).to_interval().width <= (ix - ix).width + 1e-12).all()


def test_hand_computed_products_and_squares():
    # x = 2 + e1, y = 3 - e1: xy = 6 + e1 - e1^2, exactly [4, 6.25]
    x = AffineForm(2.0, [1.0, 0.0])
    y = AffineForm(3.0, [-1.0, 0.0])
    xy = x * y
    assert xy.center == 6 and xy.coeffs.tolist() == [1.0, 0.0]
    assert xy.error == pytest.approx(1.0)  # radius(x) * radius(y)
    assert xy.to_interval().lo == pytest.approx(4.0) and xy.to_interval().hi == pytest.approx(8.0)
    # (1 + 0.5 e)^2 on [0.25, 2.25]: minimax 1.125 + e +- 0.125, range [0, 2.25]
    sq = AffineForm(1.0, [0.5]).square()
    assert sq.center == pytest.approx(1.125) and sq.coeffs[0] == pytest.approx(1.0)
    assert sq.error == pytest.approx(0.125)
    # 1 / (2 + e) on [1, 3]: chord slope -1/3, error (4/3 - 2/sqrt(3)) / 2
    inv = AffineForm(2.0, [1.0]).reciprocal()
    assert inv.coeffs[0] == pytest.approx(-1 / 3)
    assert inv.error == pytest.approx((4 / 3 - 2 / np.sqrt(3)) / 2)
    assert inv.center == pytest.approx(-2 / 3 + (4 / 3 + 2 / np.sqrt(3)) / 2)
    # |e| on [-1, 1]: 0.5 +- 0.5 with no slope
    ab = AffineForm(0.0, [1.0]).abs()
    assert ab.coeffs[0] == pytest.approx(0) and ab.center == pytest.approx(0.5)


def test_shared_sources_cancel_where_intervals_cannot():
    load = AffineForm.from_sources([1.0, 0.5], [0.1, 0.05], [0, 0], n_symbols=1)  # one load group
    diff = load[0] - 2 * load[1]  # both move together: the difference is exactly 0
    assert diff.coeffs.tolist() == [0.0]
    assert diff.radius <= 1e-14  # what is left is the rounding slack (8 ulps of the operands)
    iv = load.to_interval()
    assert (iv[0] - 2.0 * iv[1]).width == pytest.approx(0.4)


def test_condense_keeps_each_interval_and_loses_correlation():
    rng = np.random.default_rng(1)
    x = AffineForm(rng.normal(size=5), rng.normal(size=(5, 6)) * np.array([1, 1, 1, 0.01, 0.01, 0.01]))
    keep = x.largest_symbols(3)
    assert keep.tolist() == [0, 1, 2]
    small = x.condense(keep)
    assert small.n_symbols == 3
    np.testing.assert_allclose(small.radius, x.radius)
    assert (small[0] - small[0]).radius > (x[0] - x[0]).radius  # the folded part no longer cancels


def test_bad_forms_are_refused():
    with pytest.raises(ValueError, match="non-negative error"):
        AffineForm(1.0, [0.1], error=-1.0)
    with pytest.raises(ValueError, match="range holds 0"):
        AffineForm(0.5, [1.0]).reciprocal()
    with pytest.raises(ValueError, match="below 0"):
        AffineForm(0.5, [1.0]).sqrt()
    with pytest.raises(ValueError, match="symbol index 3 >= n_symbols 2"):
        AffineForm.from_sources([1.0], [0.1], [3], n_symbols=2)
    assert isinstance(AffineForm(1.0, [0.5]).to_interval(), Interval)
