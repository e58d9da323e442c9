"""The built-in SimBench MV cases (files written by experiments/cases/build_simbench.py).

Reference: pandapower's Newton-Raphson on the original SimBench net from the
``simbench`` package (its data ship inside the package). The case's base power flow
must match it to 1e-6 p.u. once the charging of the lines SimBench opens at one end
is removed (the case format makes them open ties, see test_from_pandapower.py);
with that charging, the recorded difference is what the case file states.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from fdnmoo.cases import SIMBENCH_CASES, available_cases, load_case, validate_case
from fdnmoo.cases.registry import DATA_DIR
from fdnmoo.cases.simbench_cases import simbench_net
from fdnmoo.powerflow import BatchPowerFlow, run_pandapower

REPO = Path(__file__).resolve().parents[2]
TOL_PU = 1e-6


def vm(result) -> pd.Series:
    assert result.converged.all()
    return pd.Series(result.vm_pu[0], index=result.bus_labels)


@pytest.mark.parametrize("name", sorted(SIMBENCH_CASES))
def test_builtin_simbench_case_matches_runpp_on_the_simbench_net(name):
    case = load_case(name)
    validate_case(case)
    assert name in available_cases()
    assert case.reference["profiles"] == {**case.reference["profiles"], "source": "simbench",
                                          "code": SIMBENCH_CASES[name]}
    original = simbench_net(SIMBENCH_CASES[name])
    pf = BatchPowerFlow(case.net)
    ours = vm(pf.run(*pf.base_demand()))
    no_charging = copy.deepcopy(original)
    no_charging.line.loc[case.reference["open_at_one_end_lines"], ["c_nf_per_km", "g_us_per_km"]] = 0.0
    ref_exact, ref = vm(run_pandapower(no_charging)), vm(run_pandapower(copy.deepcopy(original)))
    pairs = [(o, c) for o, c in case.reference["bus_map"] if c is not None]
    assert max(abs(ref_exact[o] - ours[c]) for o, c in pairs) <= TOL_PU
    measured = max(abs(ref[o] - ours[c]) for o, c in pairs)
    assert measured == pytest.approx(case.reference["pandapower"]["max_abs_dv_pu"], abs=1e-8)
    # SimBench's busbars are fused, its parallel substation transformers merged
    assert len(case.net.switch) == 0 and case.net.trafo.in_service.all()
    assert len(case.feeders) >= 8 and len(case.tie_lines) >= 6


def test_feeders_agree_with_simbench_own_feeder_labels():
    # SimBench names the feeder of every MV line in line.subnet ("MV1.101_Feeder5")
    case = load_case("simbench-mv-rural")
    original = simbench_net(SIMBENCH_CASES["simbench-mv-rural"])
    line = case.net.line[case.net.line.in_service]
    ours = case.net.bus.feeder[line.to_bus].to_numpy()
    theirs = original.line.subnet[line.index].str.extract(r"(Feeder\d+)")[0].to_numpy()
    pairs = set(zip(ours, theirs))
    assert len(pairs) == len(set(ours)) == len(set(theirs)) == 8  # a one-to-one relabelling


def test_shipped_file_is_rebuilt_byte_identically(tmp_path):
    from fdnmoo.cases import write_case
    from fdnmoo.cases.simbench_cases import simbench_case

    name = "simbench-mv-rural"
    path = write_case(simbench_case(SIMBENCH_CASES[name], name=name), tmp_path / f"{name}.json")
    assert path.read_bytes() == (DATA_DIR / f"{name}.json").read_bytes()


@pytest.mark.slow
def test_transcription_script_check_passes_for_all_four():
    proc = subprocess.run([sys.executable, str(REPO / "experiments/cases/build_simbench.py"), "--check"],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr


def test_any_simbench_code_loads_by_name():
    case = load_case("simbench:1-LV-rural1--0-sw")
    validate_case(case)
    assert case.reference["profiles"]["code"] == "1-LV-rural1--0-sw"
    # LV rural1: 4 feeders leave its MV/LV substation (SimBench's own feeder count)
    assert len(case.feeders) == 4
