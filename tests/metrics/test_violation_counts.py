"""The compiled violation counts against a brute-force count over the rows (numpy, one
comparison array per condition, as OperationReducer computed them before)."""

import numpy as np
import pytest

from fdnmoo.metrics.violation_counts import violation_counts


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_counts_equal_a_brute_force_count(seed):
    rng = np.random.default_rng(seed)
    n_p, n_t, n_s, n_b, n_l = 2, 3, 50, 7, 6
    vm = rng.uniform(0.9, 1.1, (n_p, n_t, n_s, n_b))
    i_ka = rng.uniform(0.0, 0.3, (n_p, n_t, n_s, n_l))
    conv = rng.random((n_p, n_t, n_s)) > 0.1
    supplied = np.array([1, 1, 1, 1, 1, 0, 1], bool)
    inner = supplied & (np.arange(n_b) != 0)
    closed = np.array([1, 1, 0, 1, 1, 1], bool)
    vm[..., ~supplied] = np.nan
    vm[~conv] = np.nan  # the engine's failed rows
    vm[0, 0, 0, 2] = 1.2  # a failed row's value still counts (the numpy form ORs the conditions)
    conv[0, 0, 0] = False
    i_limit = rng.uniform(0.1, 0.25, n_l)
    v_count, i_count, dev = violation_counts(vm, i_ka, conv, inner, supplied, closed, 0.95, 1.05, i_limit)
    failed = ~conv[..., None]
    with np.errstate(invalid="ignore"):
        v_bad = (vm < 0.95) | (vm > 1.05) | (failed & supplied)
        i_bad = (i_ka > i_limit) | (failed & closed)
    np.testing.assert_array_equal(v_count, v_bad.sum(axis=2))
    np.testing.assert_array_equal(i_count, i_bad.sum(axis=2))
    np.testing.assert_allclose(dev, np.nansum(np.abs(vm[..., inner] - 1.0), axis=-1), rtol=1e-14, atol=0)
    assert v_count.sum() > 0 and i_count.sum() > 0  # the case has violations to count
