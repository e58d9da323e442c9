"""Observed days for fitted models: the user's CSV (errors name file, column and row), the
shipped public year and the SimBench case's own year."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fdnmoo.cases import load_case
from fdnmoo.planning import planning_grid
from fdnmoo.scenarios.observed import (
    MIN_DAYS, PUBLIC_YEAR_FILE, observed_days, public_year_table, read_hourly_csv)
from fdnmoo.scenarios.simbench_profiles import year_profile
from fdnmoo.uncertainty.daily import daily_matrix


def test_a_csv_round_trips(days_csv):
    path, days = days_csv
    np.testing.assert_allclose(read_hourly_csv(path), days, rtol=1e-12)
    got, source = observed_days(planning_grid(load_case("ieee33")), path)
    assert source == str(path) and got.shape == (40, 48)


def _write(tmp_path, table: pd.DataFrame):
    path = tmp_path / "bad.csv"
    table.to_csv(path, index=False)
    return path


def _hours(n_days: int) -> pd.DataFrame:
    return pd.DataFrame({"load_pu": np.full(24 * n_days, 0.5), "pv_pu": np.full(24 * n_days, 0.1)})


def test_a_missing_column_is_named_with_the_closest(tmp_path):
    path = _write(tmp_path, _hours(12).rename(columns={"pv_pu": "pv_p"}))
    with pytest.raises(ValueError, match=r"bad\.csv: no column 'pv_pu'; did you mean 'pv_p'"):
        read_hourly_csv(path)


@pytest.mark.parametrize("value", [np.nan, -0.2, "x"])
def test_a_bad_value_names_file_column_and_row(tmp_path, value):
    table = _hours(12).astype(object)
    table.loc[30, "load_pu"] = value
    path = _write(tmp_path, table)
    with pytest.raises(ValueError, match=r"bad\.csv: column 'load_pu', row 31 \(line 32"):
        read_hourly_csv(path)


def test_partial_days_and_too_few_days_are_refused(tmp_path):
    with pytest.raises(ValueError, match="25 rows are not whole days"):
        read_hourly_csv(_write(tmp_path, _hours(12).iloc[:25]))
    with pytest.raises(ValueError, match=rf"bad\.csv: 3 days are too little data .*{MIN_DAYS}"):
        read_hourly_csv(_write(tmp_path, _hours(3)))
    with pytest.raises(ValueError, match="no file"):
        read_hourly_csv(tmp_path / "missing.csv")


def test_a_case_without_profiles_falls_back_to_the_public_year():
    days, source = observed_days(planning_grid(load_case("ieee33")))
    assert PUBLIC_YEAR_FILE in source
    assert days.shape == (366, 48)                       # SimBench's profile year 2016
    assert 0 < days[:, :24].max() <= 1.0 and days[:, 24:].min() >= 0.0
    # mean PV of SimBench PV3/PV7 in 2016 (the file written from them; 628 full-load hours)
    assert days[:, 24:].mean() == pytest.approx(0.0715, abs=5e-4)


@pytest.mark.slow
def test_the_public_year_is_the_simbench_profiles():
    shipped = pd.read_csv(Path(__file__).resolve().parents[2] / "fdnmoo" / "scenarios" / "data"
                          / PUBLIC_YEAR_FILE)
    fresh = public_year_table()
    pd.testing.assert_frame_equal(shipped, fresh, check_exact=False, atol=1e-6, rtol=0)


@pytest.mark.slow
def test_a_simbench_case_uses_its_own_year():
    grid = planning_grid(load_case("simbench-mv-rural"))
    days, source = observed_days(grid)
    assert "SimBench profile year" in source
    np.testing.assert_array_equal(days, daily_matrix(year_profile(grid).days))
