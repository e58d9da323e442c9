"""Synthetic observed days for the fitted-scenario tests."""

from __future__ import annotations

import numpy as np
import pytest

from fdnmoo.scenarios.fitted import clear_model_cache
from fdnmoo.scenarios.observed import hourly_table


def make_days(n_days: int, seed: int = 0) -> np.ndarray:
    """``(n_days, 48)`` days: a load level and a sunshine level per day, negatively related
    (dull days have more load), hourly shapes with noise."""
    rng = np.random.default_rng(seed)
    h = np.arange(24)
    level = 0.5 + 0.1 * rng.standard_normal(n_days)
    sun = np.clip(0.6 - 1.5 * (level - 0.5) + 0.1 * rng.standard_normal(n_days), 0.05, None)
    load = level[:, None] * (1 + 0.3 * np.sin(2 * np.pi * (h - 6) / 24)) \
        * (1 + 0.05 * rng.standard_normal((n_days, 24)))
    pv = sun[:, None] * np.clip(np.sin(np.pi * (h - 6) / 12), 0, None) \
        * np.clip(1 + 0.2 * rng.standard_normal((n_days, 24)), 0, None)
    return np.hstack([load, pv])


@pytest.fixture
def days_csv(tmp_path):
    """A CSV of 40 synthetic days (hourly load_pu, pv_pu rows) and its days array."""
    days = make_days(40)
    path = tmp_path / "days.csv"
    hourly_table(days).to_csv(path, index=False)
    clear_model_cache()
    yield path, days
    clear_model_cache()
