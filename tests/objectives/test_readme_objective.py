"""The README's example objective handles diverged plans without a warning (issue 7)."""

import re
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import fdnmoo.objectives

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def worst_voltage_drop(monkeypatch):
    """The README's function, defined without registering it (the registry refuses repeats)."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    (code,) = [b for b in blocks if "def worst_voltage_drop" in b]
    monkeypatch.setattr(fdnmoo.objectives, "objective", lambda *a, **k: (lambda f: f))
    namespace = {}
    exec(compile(code, str(README), "exec"), namespace)
    return namespace["worst_voltage_drop"]


def _evaluated(vmin_pu):
    return SimpleNamespace(ops=SimpleNamespace(vmin_pu=np.asarray(vmin_pu, dtype=float)))


def test_diverged_plan_scores_the_worst_drop_without_warning(worst_voltage_drop):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # np.nanmax would raise "All-NaN slice encountered"
        assert worst_voltage_drop(_evaluated(np.full((3, 24, 33), np.nan))) == 1.0


def test_converged_plan_scores_its_lowest_voltage(worst_voltage_drop):
    v = np.full((2, 4, 5), 0.99)
    v[1, 2, 3] = 0.913  # ieee33's Vmin (Baran & Wu 1989): drop 0.087
    assert worst_voltage_drop(_evaluated(v)) == pytest.approx(0.087)
    v[:, :, 0] = np.nan  # an unsupplied bus (md24's unbuilt substations) does not count
    v[0, 1, :] = np.nan  # nor a time slot whose power flows all diverged
    assert worst_voltage_drop(_evaluated(v)) == pytest.approx(0.087)
