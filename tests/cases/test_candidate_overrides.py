"""``case_overrides.candidates``: one value for a column of a candidate table (seed 000's
Case III: ESS state of charge kept within 10-90 %, R. Wang et al., Nature Communications 15
(2024), Case III text)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from fdnmoo.cases import load_case
from fdnmoo.cases.io import write_case
from fdnmoo.cases.overrides import apply_overrides, check_overrides, overrides_as_dict
from fdnmoo.experiment.spec import load_spec
from fdnmoo.operation.injections import DerLayout, net_demand
from fdnmoo.parameters import ParameterError
from fdnmoo.problems.config import ProblemConfig

SOC = {"candidates": {"ess": {"soc_min": 0.1, "soc_max": 0.9}}}


@pytest.fixture(scope="module")
def tpc84():
    return load_case("tpc84")


def _problem(case, overrides=()):
    return ProblemConfig(case=case, preset="ess_planning", n_days=1, n_samples=2,
                         objectives=("total_cost", "energy_loss_mwh"), case_overrides=overrides).build()


def _ess_genomes(problem, n=4):
    X = problem.genome.sample(12, np.random.default_rng(3))
    plans = [problem.decode(x) for x in X]
    keep = [i for i, p in enumerate(plans) if p.der["ess"].any()][:n]
    assert keep, "the sample should build some storage"
    return X[keep]


def test_override_equals_the_columns_written_into_the_case_file(tmp_path, tpc84):
    own = copy.deepcopy(tpc84)
    own.candidates["ess"] = own.candidates["ess"].assign(soc_min=0.1, soc_max=0.9)
    path = write_case(own, tmp_path / "tpc84_soc.json")
    by_file, by_override = _problem(str(path)), _problem("tpc84", SOC)
    X = _ess_genomes(by_file)
    a = by_file.evaluate(X, return_as_dictionary=True)
    b = by_override.evaluate(X, return_as_dictionary=True)
    np.testing.assert_array_equal(a["F"], b["F"])
    np.testing.assert_array_equal(a["G"], b["G"])
    for ea, eb in zip(by_file.evaluated(X), by_override.evaluated(X)):
        for name in ("energy_loss_mwh", "vmin_pu", "i_max_ka", "violation_energy_mwh"):
            np.testing.assert_array_equal(getattr(ea.ops, name), getattr(eb.ops, name))
    # and the limits change the result: without them the storage moves more energy
    plain = _problem("tpc84").evaluate(X, return_as_dictionary=True)
    assert not np.array_equal(plain["F"], b["F"])


def test_the_soc_window_binds_on_a_days_energy_swing(tpc84):
    problem = _problem("tpc84", SOC)
    X = _ess_genomes(problem, 2)
    plans = [problem.decode(x) for x in X]
    grid, batch = problem.grid, problem.batch
    layout = DerLayout.of(grid, batch.bus_labels)
    ess = net_demand(grid, plans, batch, 1, layout=layout).ess_mw  # (P, 24, n_ess), 1-h slots
    assert batch.days.slot_duration_h == 1.0 and batch.days.slots_per_day == 24
    stored = np.cumsum(ess, axis=1)  # MWh
    swing = stored.max(axis=1) - np.minimum(stored.min(axis=1), 0.0)
    power = np.stack([p.der["ess"][0] for p in plans])  # MW in stage 1
    # tpc84's candidates store 30 MWh per 10 MW (3 h): E = 3 P. The window allows
    # (0.9 - 0.1) x 3 P = 2.4 P MWh a day; 12 charging hours at P would allow 12 P, so the
    # window binds and the unit moves exactly 2.4 P (hand computation)
    np.testing.assert_allclose(swing, 2.4 * power, atol=1e-9)
    assert (power > 0).any()
    bare = DerLayout.of(_problem("tpc84").grid, batch.bus_labels)
    full = net_demand(_problem("tpc84").grid, plans, batch, 1, layout=bare).ess_mw
    np.testing.assert_allclose(np.cumsum(full, axis=1).max(axis=1), 3.0 * power, atol=1e-9)


def test_the_override_is_frozen_and_reads_back(tpc84):
    frozen = check_overrides(SOC)
    hash(frozen)
    assert overrides_as_dict(frozen) == {"candidates": {"ess": {"soc_max": 0.9, "soc_min": 0.1}}}
    case = apply_overrides(tpc84, frozen)
    assert (case.candidates["ess"][["soc_min", "soc_max"]].to_numpy() == [0.1, 0.9]).all()
    assert "soc_min" not in tpc84.candidates["ess"]  # the loaded case is not changed


def test_run_hashes_without_the_section_are_unchanged(tmp_path):
    text = ("case: tpc84\ncase_overrides: {economics: {discount_rate: 0.06}, "
            "limits: {v_min_pu: 0.93}}\nproblem: {preset: ess_planning, days: 1}\n"
            "algorithm: {name: nsga2, pop_size: 4, n_gen: 1}\n")
    (tmp_path / "a.yaml").write_text(text)
    (tmp_path / "b.yaml").write_text(text.replace(
        "limits:", "candidates: {ess: {soc_min: 0.1}}, limits:"))
    a, b = load_spec(tmp_path / "a.yaml"), load_spec(tmp_path / "b.yaml")
    # the hash of this spec before case_overrides.candidates existed (commit 2579dcd)
    assert a.run_hash == "91067cf495e02e8a" != b.run_hash
    assert b.to_dict()["case_overrides"]["candidates"] == {"ess": {"soc_min": 0.1}}


@pytest.mark.parametrize("candidates, key, message", [
    ({"ess": {"soc_min": 0.95, "soc_max": 0.9}}, "case_overrides.candidates.ess.soc_min",
     "must be below soc_max"),
    ({"ess": {"soc_max": 1.2}}, "case_overrides.candidates.ess.soc_max", "must be <= 1"),
    ({"ess": {"soc_min": -0.1}}, "case_overrides.candidates.ess.soc_min", "must be >= 0"),
    ({"ess": {"soc_min": "low"}}, "case_overrides.candidates.ess.soc_min", "expected a number"),
    ({"es": {"soc_min": 0.1}}, "case_overrides.candidates.es", "did you mean 'ess'"),
    ({"ess": {"soc_mni": 0.1}}, "case_overrides.candidates.ess.soc_mni", "did you mean 'soc_min'"),
    ({"ess": {"bus": 3}}, "case_overrides.candidates.ess.bus", "is a key of candidates.ess"),
    ({"corridors": {"cost_factor": 2.0}}, "case_overrides.candidates.corridors",
     "has no candidates.corridors table"),
    ({"ess": [0.1]}, "case_overrides.candidates.ess", "expected a mapping"),
])
def test_bad_candidate_overrides_name_the_key(tpc84, candidates, key, message):
    with pytest.raises(ParameterError, match=message) as info:
        apply_overrides(tpc84, {"candidates": candidates})
    assert info.value.key == key
