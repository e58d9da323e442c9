"""The spec's ``filter:`` section: parsed, checked against the problem before the run, kept
out of the run hash."""

from __future__ import annotations

import pytest

from fdnmoo.experiment import SpecError, parse_spec
from fdnmoo.experiment.filtering import FilterSettings

# the joint preset has four objectives
BASE = {"case": "ieee33", "problem": {"preset": "joint", "stages": 1, "profile": "peak"}}
AFFINE = {**BASE, "uncertainty": {"method": "affine", "level": 0.1}}


@pytest.mark.parametrize("section, settings", [
    ({"weakening": True}, FilterSettings(weakening=True)),
    ({"weakening": 4, "deviation": 3}, FilterSettings(weakening=4, deviation=3.0)),
    ({"weakening": False, "deviation": 3.5}, FilterSettings(deviation=3.5)),
    ({"deviation": 4, "comprehensive": True}, FilterSettings(deviation=4.0, comprehensive=True)),
])
def test_filter_section_parsed(section, settings):
    spec = parse_spec({**AFFINE, "filter": section})
    assert spec.filter == settings
    assert spec.to_dict()["filter"] == settings.as_dict()
    # filters do not change the optimisation: a run resumes under any filter
    assert spec.run_hash == parse_spec(AFFINE).run_hash
    assert parse_spec(AFFINE).filter is None and "filter" not in parse_spec(AFFINE).to_dict()


@pytest.mark.parametrize("data, key, message", [
    ({**AFFINE, "filter": {"weakening": 5}}, "filter.weakening", "m must be in 1..4"),
    ({**AFFINE, "filter": {"weakening": 0}}, "filter.weakening", "must be >= 1"),
    ({**AFFINE, "filter": {"weakening": "yes"}}, "filter.weakening", "expected an integer"),
    ({**AFFINE, "filter": {"deviation": -1}}, "filter.deviation", "D_max must be > 0"),
    ({**AFFINE, "filter": {"deviation": "far"}}, "filter.deviation", "expected a number"),
    ({**AFFINE, "filter": {"comprehensive": True}}, "filter.comprehensive",
     "give deviation"),
    ({**AFFINE, "filter": {}}, "filter", "no filter asked for"),
    ({**AFFINE, "filter": {"weakenin": 3}}, "filter.weakenin", "did you mean 'weakening'"),
    ({**BASE, "filter": {"deviation": 3.5}}, "filter.deviation",
     "needs interval objectives"),
])
def test_filter_section_errors_name_the_key(data, key, message):
    with pytest.raises(SpecError, match=message) as info:
        parse_spec(data, source="s.yaml")
    assert str(info.value).startswith(f"s.yaml: {key}:")


def test_comprehensive_deviation_without_intervals_is_accepted():
    spec = parse_spec({**BASE, "filter": {"deviation": 3.5, "comprehensive": True}})
    assert spec.filter.comprehensive
