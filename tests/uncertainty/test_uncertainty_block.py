"""The uncertainty block: checked keys and values, and what the problem builder does with them."""

from __future__ import annotations

from dataclasses import fields

import pytest

from fdnmoo.experiment.schema import section_keys
from fdnmoo.parameters import ParameterError
from fdnmoo.problems.planning import ProblemConfig
from fdnmoo.uncertainty.settings import UncertaintySettings


def test_spec_keys_are_the_settings_fields():
    assert set(section_keys("uncertainty")) == {f.name for f in fields(UncertaintySettings)}


@pytest.mark.parametrize("block, key", [
    ({"methd": "affine"}, "uncertainty.methd"),
    ({"method": "afine"}, "uncertainty.method"),
    ({"level": {"pvv": 0.1}}, "uncertainty.level.pvv"),
    ({"level": 1.2}, "uncertainty.level.load"),
    ({"level": "high"}, "uncertainty.level"),
    ({"gamma": 1.0}, "uncertainty.gamma"),
    ({"samples": 0}, "uncertainty.samples"),
    ({"samples": 2.5}, "uncertainty.samples"),
    ({"budget": -1}, "uncertainty.budget"),
])
def test_bad_values_name_their_key(block, key):
    with pytest.raises(ParameterError) as err:
        UncertaintySettings.from_mapping(block)
    assert err.value.key == key


def test_a_number_level_applies_to_every_source_kind():
    s = UncertaintySettings.from_mapping({"level": 0.15})
    assert dict(s.level) == {"load": 0.15, "pv": 0.15}


def test_level_samples_seed_and_deterministic_reach_the_problem():
    base = dict(case="ieee33", preset="sop_planning", n_stages=1, n_days=1, n_samples=4, seed=1)
    p = ProblemConfig(**base, uncertainty={"level": {"pv": 0.05}, "samples": 6, "seed": 3}).build()
    assert p.batch.n_samples == 6 and p.batch.seed == 3
    assert p.grid.case.uncertainty.pv_deviation == 0.05
    assert p.grid.case.uncertainty.load_deviation == 0.1  # the case's (ieee33.json)
    # +-5 % PV at 3 sigma: every sampled PV factor lies within the level
    pv = p.batch.pv_pu[0]  # (slots, samples, PV candidates)
    day = pv[:, 0, 0] > 0
    ratio = pv[day] / pv[day][:, :1, :]
    assert abs(ratio - 1).max() <= 0.05 + 1e-12 and abs(ratio - 1).max() > 0.01
    det = ProblemConfig(**base, uncertainty={"method": "deterministic"}).build()
    assert det.batch.n_samples == 1


def test_gamma_is_the_default_of_the_chance_constraints_only():
    cfg = ProblemConfig(case="ieee33", preset="sop_planning", n_stages=1, n_days=1,
                        constraints=("chance_voltage", ("chance_current", {"gamma": 0.2})),
                        uncertainty={"gamma": 0.1})
    _, constraints = cfg.resolved_entries()
    assert [dict(c.params)["gamma"] for c in constraints] == [0.1, 0.2]


@pytest.mark.parametrize("block", [
    {"marginals": "gmm", "dependence": "nataf"}, {"marginals": "kde", "dependence": "auto"},
    {"marginals": "gmm", "dependence": "frank", "reduction": "kmeans", "generated_days": 50},
    {"marginals": "kde", "dependence": "gaussian", "reduction": "backward",
     "method": "deterministic"},
])
def test_fitted_settings_are_accepted_by_the_builder(block):
    cfg = ProblemConfig(case="ieee33", preset="joint", uncertainty=block)
    assert cfg.uncertainty.fitted


@pytest.mark.parametrize("block, key", [
    ({"marginals": "gmm"}, "uncertainty.dependence"),                 # fitted, no dependence
    ({"dependence": "nataf"}, "uncertainty.dependence"),              # dependence, no fit
    ({"reduction": "kmeans"}, "uncertainty.reduction"),
    ({"data": "days.csv"}, "uncertainty.data"),
    ({"marginals": "kde", "dependence": "nataf", "level": 0.1}, "uncertainty.level"),
    ({"marginals": "kde", "dependence": "nataf", "method": "deterministic"},
     "uncertainty.marginals"),
    ({"marginals": "kde", "dependence": "nataf", "generated_days": 100},
     "uncertainty.generated_days"),
    ({"marginals": "kde", "dependence": "nataf", "reduction": "kmeans", "generated_days": 5},
     "uncertainty.generated_days"),
    ({"marginals": "kde", "dependence": "nataf", "data": 3}, "uncertainty.data"),
    ({"marginals": "kde", "dependence": "nataf", "typical_days": 4}, "uncertainty.typical_days"),
    ({"marginals": "kde", "dependence": "nataf", "reduction": "kmeans", "typical_days": 0},
     "uncertainty.typical_days"),
    ({"marginals": "kde", "dependence": "nataf", "reduction": "kmeans", "typical_days": 2.5},
     "uncertainty.typical_days"),
    ({"marginals": "kde", "dependence": "nataf", "reduction": "kmeans", "generated_days": 50,
      "typical_days": 50}, "uncertainty.typical_days"),
    ({"marginals": "kde", "dependence": "nataf", "reduction": "kmeans", "typical_days": 3650},
     "uncertainty.typical_days"),
])
def test_combinations_without_effect_are_refused(block, key):
    with pytest.raises(ParameterError) as err:
        UncertaintySettings.from_mapping(block)
    assert err.value.key == key


def test_data_is_resolved_against_the_spec_folder(tmp_path):
    (tmp_path / "days.csv").write_text("load_pu,pv_pu\n")
    s = UncertaintySettings.from_mapping({"marginals": "kde", "dependence": "nataf",
                                          "data": "days.csv"})
    assert s.with_data_base(tmp_path).data == str(tmp_path / "days.csv")
    assert s.with_data_base(tmp_path / "elsewhere").data == "days.csv"  # not there: kept


def test_a_spec_reads_data_relative_to_its_folder(tmp_path):
    from fdnmoo.experiment import load_spec

    (tmp_path / "days.csv").write_text("load_pu,pv_pu\n")
    spec = tmp_path / "s.yaml"
    spec.write_text("case: ieee33\nuncertainty: {marginals: kde, dependence: frank, data: days.csv}\n")
    assert load_spec(spec).uncertainty.data == str(tmp_path / "days.csv")


@pytest.mark.parametrize("block, key", [
    ({"budget": 2}, "uncertainty.budget"),                      # montecarlo has no budget
    ({"method": "affine", "budget": 2}, "uncertainty.budget"),
    ({"method": "affine", "samples": 20}, "uncertainty.samples"),  # AA draws no samples
    ({"method": "robust", "samples": 20}, "uncertainty.samples"),
])
def test_settings_the_method_does_not_use_are_refused(block, key):
    with pytest.raises(ParameterError) as err:
        ProblemConfig(case="ieee33", preset="joint", uncertainty=block)
    assert err.value.key == key


@pytest.mark.parametrize("method", ["interval", "affine", "robust"])
def test_bounding_methods_evaluate_the_forecast_only(method):
    cfg = ProblemConfig(case="ieee33", preset="sop_planning", n_stages=1, n_days=1, n_samples=4,
                        uncertainty={"method": method, **({"budget": 3} if method == "robust"
                                                          else {})})
    p = cfg.build()
    assert p.batch.n_samples == 1
    assert p.interval_objectives is (method != "robust")


def test_typical_days_error_names_the_value():
    with pytest.raises(ParameterError, match="3650") as err:
        UncertaintySettings.from_mapping({"marginals": "kde", "dependence": "frank",
                                          "reduction": "kmeans", "typical_days": 3650})
    assert err.value.key == "uncertainty.typical_days"


def test_typical_days_enter_the_hashes_only_when_set(tmp_path):
    """Hashes pinned from the code before ``typical_days`` existed (fdnmoo 2579dcd): runs
    without the key keep their results folder and worker cache keys."""
    from fdnmoo.experiment import load_spec

    block = {"marginals": "kde", "dependence": "frank", "reduction": "kmeans"}
    assert ProblemConfig(case="ieee33", preset="joint", uncertainty=block).key == "230573596f3d608c"
    fixed = ProblemConfig(case="ieee33", preset="joint", uncertainty={**block, "typical_days": 4})
    assert fixed.key != "230573596f3d608c"
    path = tmp_path / "s.yaml"
    text = ("case: ieee33\nuncertainty: {method: deterministic, marginals: kde, "
            "dependence: frank, reduction: kmeans%s}\n")
    path.write_text(text % "")
    assert load_spec(path).run_hash == "7e42aff34d3647ba"
    path.write_text(text % ", typical_days: 4")
    assert load_spec(path).run_hash != "7e42aff34d3647ba"
