"""Typical-day profiles: the shipped CSV is the generator's output; shapes and physics."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
import pytest

from fdnmoo.cases import load_case
from fdnmoo.scenarios.profiles import (PROFILE_FILE, clear_sky_pv_pu, generate_typical_days,
                                       load_level_days, profile_table, typical_days)


def test_shipped_csv_equals_generator_output():
    # the file is written by experiments/scenarios/write_profiles.py
    with resources.files("fdnmoo.scenarios").joinpath("data", PROFILE_FILE).open("r") as fh:
        shipped = pd.read_csv(fh)
    fresh = profile_table(generate_typical_days())
    assert list(shipped.columns) == list(fresh.columns)
    assert (shipped.name.to_numpy() == fresh.name.to_numpy()).all()
    num = ["day", "probability", "slot", "load_pu", "pv_pu", "ev_pu"]
    np.testing.assert_allclose(shipped[num].to_numpy(float), fresh[num].to_numpy(float), rtol=0, atol=1e-12)


def test_daily_days_cover_the_year_and_peak_is_one_in_a_dark_winter_evening():
    d = typical_days()
    assert d.names == ("winter", "spring", "summer", "autumn")
    assert d.load_pu.shape == d.pv_pu.shape == d.ev_pu.shape == (4, 24)
    np.testing.assert_allclose(d.probability, np.array([90, 92, 92, 91]) / 365)
    assert d.slot_hours.sum() == pytest.approx(8760.0)
    assert d.load_pu.max() == 1.0
    assert d.peak_slot == 18  # winter, 18:00-19:00
    assert d.pv_pu.ravel()[d.peak_slot] == 0.0
    assert ((d.load_pu > 0.2) & (d.load_pu <= 1.0)).all()
    assert ((d.ev_pu > 0) & (d.ev_pu <= 1.0)).all()


def test_pv_follows_solar_geometry():
    d = typical_days()
    assert (d.pv_pu[:, :4] == 0).all() and (d.pv_pu[:, 20:] == 0).all()  # night
    assert d.pv_pu[:, 4].max() < 1e-3  # summer sunrise at 35 N is at 4:52 solar time
    np.testing.assert_allclose(d.pv_pu, d.pv_pu[:, ::-1], atol=1e-12)  # symmetric about solar noon
    noon = d.pv_pu[:, 11]
    assert noon[2] > noon[1] > noon[3] > noon[0]  # summer > spring > autumn > winter
    # summer solstice at 35 N, clear sky: zenith 11.55 deg at noon; Haurwitz 1098 cos z exp(-0.057/cos z)
    cz = np.cos(np.deg2rad(35.0 - 23.45))
    peak = 0.85 * 1098 * cz * np.exp(-0.057 / cz) / 1000
    assert clear_sky_pv_pu(172).max() == pytest.approx(peak, rel=0.015)  # hour 11-12 mean, a bit lower
    assert clear_sky_pv_pu(172).max() < peak
    # yearly capacity factor of a horizontal array at 35 N with these clearness factors
    assert float(d.pv_pu.mean(axis=1) @ d.probability) == pytest.approx(0.152, abs=5e-4)


def test_merged_days_keep_probability_and_energy():
    d = typical_days()
    one = typical_days(n_days=1)
    assert one.n_days == 1 and one.probability.tolist() == [1.0]
    np.testing.assert_allclose(one.load_pu[0], d.probability @ d.load_pu)
    np.testing.assert_allclose(one.pv_pu[0], d.probability @ d.pv_pu)
    two = typical_days(n_days=2)
    assert two.probability.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(two.probability @ two.load_pu, d.probability @ d.load_pu)
    assert typical_days(n_days=9).names == d.names
    with pytest.raises(ValueError):
        typical_days(n_days=0)


def test_peak_profile_is_one_snapshot_standing_for_the_year():
    p = typical_days("peak")
    assert p.n_slots == 1 and p.load_pu[0, 0] == 1.0 and p.pv_pu[0, 0] == 0.0
    assert p.slot_hours.tolist() == [8760.0]
    with pytest.raises(ValueError):
        typical_days("peak", n_days=2)
    with pytest.raises(ValueError, match="unknown profile"):
        typical_days("hourly")


def test_load_levels_of_md24_keep_their_hours():
    levels = load_case("md24").candidates["load_levels"]
    d = load_level_days(levels)
    np.testing.assert_allclose(d.slot_hours, levels.sort_values("level").duration_h.to_numpy())
    np.testing.assert_allclose(d.load_pu.ravel(), [0.70, 0.83, 1.00])
    assert d.peak_slot == 2


def test_profile_arrays_are_read_only():
    d = typical_days()
    with pytest.raises(ValueError):
        d.load_pu[0, 0] = 2.0
