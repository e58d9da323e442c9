"""The uncertainty-bounds study (``fdnmoo study``): enclosure, widths, outputs, spec errors.

The sweeps themselves are held to 10,000 Monte Carlo samples on four feeders in
``tests/uncertainty/test_power_flow.py``; here the study's own outputs are checked
on a small run (md24 and ieee33 at +-5/10/20 %, 300 samples): the sampled range
lies inside the AA and IA bounds of every element, AA is never wider than IA,
widths grow with the level, and the AA centres sit at pandapower's forecast
solution (an independent Newton-Raphson). The full spec (10,000 samples) runs in
the slow test at the end.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from fdnmoo.cases import load_case
from fdnmoo.cli.app import main
from fdnmoo.experiment.bounds_plots import METHOD_LABELS, bounds_figure
from fdnmoo.experiment.bounds_spec import SpecError, load_bounds_study, parse_bounds_study
from fdnmoo.experiment.bounds_study import (engine_and_demand, run_bounds_study, study_case,
                                            summarise, write_bounds_study)
from fdnmoo.powerflow.reference import run_pandapower

ROOT = Path(__file__).resolve().parents[2]
SPEC_FILE = ROOT / "experiments" / "s004_uncertainty_levels.yaml"
LEVELS = [0.05, 0.1, 0.2]
SMALL = {"study": "uncertainty_bounds", "cases": ["md24", "ieee33"], "levels": LEVELS,
         "samples": 300, "seed": 3}
WIDTH_COLUMNS = ["case", "slot", "level", "method", "quantity", "element", "lo", "hi", "width"]


@cache
def small_study():
    spec = parse_bounds_study(SMALL, source="<small>")
    parts = [study_case(spec, case, seed=i) for i, case in enumerate(spec.cases)]
    widths = pd.concat([w for w, _ in parts], ignore_index=True)
    return spec, widths, summarise(widths, pd.concat([r for _, r in parts], ignore_index=True))


def by_method(widths, case, quantity, level):
    rows = widths[(widths.case == case) & (widths.quantity == quantity) & (widths.level == level)]
    return {m: g.set_index("element")[["lo", "hi", "width"]] for m, g in rows.groupby("method")}


@pytest.mark.parametrize("case", ["md24", "ieee33"])
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("quantity", ["vm_pu", "i_ka", "loss_mw"])
def test_the_sampled_range_lies_inside_both_bounds_and_aa_is_never_wider(case, level, quantity):
    _, widths, summary = small_study()
    b = by_method(widths, case, quantity, level)
    mc = b["montecarlo"]
    for method in ("affine", "interval"):
        bound = b[method].loc[mc.index]
        assert (mc["lo"] >= bound["lo"] - 1e-10).all() and (mc["hi"] <= bound["hi"] + 1e-10).all()
    assert (b["affine"]["width"] <= b["interval"]["width"] + 1e-12).all()
    row = summary[(summary.case == case) & (summary.level == level)].set_index("method")
    # every sample, not only the envelope, inside; the sweeps converged and were verified
    assert row.loc["affine", "inside_share"] == 1.0 and row.loc["interval", "inside_share"] == 1.0
    assert row.loc[["affine", "interval"], "verified"].all()
    assert row.loc["montecarlo", "mc_diverged"] == 0
    assert 0 < row.loc["affine", "aa_over_ia"] <= 1.0


@pytest.mark.parametrize("case", ["md24", "ieee33"])
def test_widths_grow_with_the_level_and_the_centres_sit_at_pandapowers_forecast(case):
    spec, widths, _ = small_study()
    pf, p, q, _ = engine_and_demand(spec, load_case(case))
    net = copy.deepcopy(pf.net)
    net.line["in_service"] = pf.closed[pf.branches.is_line]
    ref = run_pandapower(net, p[0], q[0])  # Newton-Raphson on the forecast, tolerance 1e-10 MVA
    labels = net.bus.index.astype(str)
    forecast = pd.Series(ref.vm_pu[0], index=labels)
    loaded = labels[(p[0] > 0) & pf.supplied]
    previous = None
    for level in LEVELS:
        aa = by_method(widths, case, "vm_pu", level)["affine"]
        # same criterion as the sweep's own test: the centre within 1 % of the largest half-width
        mid = 0.5 * (aa["lo"] + aa["hi"])
        assert np.abs(mid - forecast[aa.index]).max() <= 0.01 * aa["width"].max() / 2
        if previous is not None:
            assert (aa.loc[loaded, "width"] > previous.loc[loaded, "width"]).all()
        previous = aa


def test_a_vertex_solved_by_pandapower_lies_inside_the_bounds():
    """The box's +level vertex (every load at its upper bound), by pandapower's runpp."""
    spec, widths, _ = small_study()
    pf, p, q, _ = engine_and_demand(spec, load_case("ieee33"))
    net = copy.deepcopy(pf.net)
    net.line["in_service"] = pf.closed[pf.branches.is_line]
    for level in LEVELS:
        ref = run_pandapower(net, p[0] * (1 + level), q[0] * (1 + level))
        vm = pd.Series(ref.vm_pu[0], index=net.bus.index.astype(str))
        for method in ("affine", "interval"):
            b = by_method(widths, "ieee33", "vm_pu", level)[method]
            assert ((vm[b.index] >= b["lo"] - 1e-9) & (vm[b.index] <= b["hi"] + 1e-9)).all()
        loss = by_method(widths, "ieee33", "loss_mw", level)["affine"].loc["total"]
        assert loss["lo"] - 1e-9 <= ref.loss_mw[0] <= loss["hi"] + 1e-9


def test_the_outputs_have_their_columns_and_the_figure_its_artists(tmp_path):
    spec, widths, summary = small_study()
    out = write_bounds_study(spec, widths, summary, tmp_path)
    written = pd.read_csv(out / "widths.csv")
    assert list(written.columns) == WIDTH_COLUMNS
    assert set(written.quantity) == {"vm_pu", "i_ka", "loss_mw"}
    assert set(written.method) == {"affine", "interval", "montecarlo"}
    # md24's base topology supplies 10 of its 28 buses: only those have rows
    assert written[(written.case == "md24") & (written.quantity == "vm_pu")
                   & (written.method == "affine") & (written.level == 0.1)].shape[0] == 10
    table = pd.read_csv(out / "widths_summary.csv")
    assert len(table) == 2 * 3 * 3
    assert {"vm_width_max_pu", "vm_width_mean_pu", "aa_over_ia", "inside_share",
            "iterations"} <= set(table.columns)
    assert list(dict.fromkeys(table.case)) == ["md24", "ieee33"]  # the spec's order
    report = (out / "report.md").read_text()
    assert report.count("\n| ieee33 |") == 9 and "AA/IA" in report
    assert {p.name for p in out.glob("*.png")} == {"bounds_md24.png", "bounds_ieee33.png"}

    fig = bounds_figure(widths[widths.case == "ieee33"])
    axes = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in axes] == ["±5 %", "±10 %", "±20 %"]
    assert axes[0].get_ylabel() == "|V| [p.u.]" and axes[0].get_xlabel() == "bus"
    for ax, level in zip(axes, LEVELS):
        bands = {c.get_gid(): c for c in ax.collections}
        assert set(bands) == set(METHOD_LABELS)
        assert {c.get_label() for c in bands.values()} == {v[0] for v in METHOD_LABELS.values()}
        # the band of each method spans its bounds (y extent of the filled polygon)
        for method, band in bands.items():
            b = by_method(widths, "ieee33", "vm_pu", level)[method]
            y = band.get_paths()[0].vertices[:, 1]
            assert y.min() == pytest.approx(b["lo"].min())
            assert y.max() == pytest.approx(b["hi"].max())
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == [v[0] for v in METHOD_LABELS.values()]
    md24 = bounds_figure(widths[widths.case == "md24"])
    ticks = [t.get_text() for t in md24.axes[0].get_xticklabels()]
    assert ticks == ["1", "2", "6", "8", "21", "22", "121", "122", "123", "124"]  # supplied ones


def test_all_slots_of_the_day_in_one_batch(tmp_path):
    spec = parse_bounds_study({**SMALL, "cases": ["ieee33"], "levels": [0.1], "samples": 40,
                               "slots": "daily", "methods": ["montecarlo", "affine"]})
    widths, runs = study_case(spec, "ieee33")
    assert sorted(widths.slot.unique()) == list(range(24))
    assert set(widths.method) == {"affine", "montecarlo"}
    assert runs.set_index("method").loc["affine", "inside_share"] == 1.0
    peak = widths[(widths.slot == 17) & (widths.quantity == "vm_pu")]
    assert bounds_figure(widths).texts[0].get_text().endswith("(slot 17)")  # the widest slot
    assert peak.width.max() == widths[widths.quantity == "vm_pu"].width.max()


def test_the_command_writes_the_folder_and_refuses_a_bad_setting(tmp_path, capsys):
    argv = ["study", str(SPEC_FILE), "--set", "samples=20", "--set", "levels=[0.1]",
            "--set", "cases=[ieee33]", "--no-progress", "--out", str(tmp_path / "out")]
    assert main(argv) == 0
    assert (tmp_path / "out" / "widths_summary.csv").is_file()
    assert main(argv[:2] + ["--set", "sample=20"]) == 2
    err = capsys.readouterr().err
    assert "sample: unknown key (did you mean 'samples'?)" in err and "--set sample=20" in err


@pytest.mark.parametrize("change, key, message", [
    ({"sampels": 10}, "sampels", "did you mean 'samples'?"),
    ({"study": "pareto"}, "study", "uncertainty_bounds"),
    ({"levels": [0.1, 1.5]}, "levels[1]", "(0, 1)"),
    ({"levels": [0.2, 0.1]}, "levels", "increasing"),
    ({"methods": ["affine", "taylor"]}, "methods[1]", "choose one of affine, interval, montecarlo"),
    ({"cases": ["ieee34"]}, "cases[0]", "unknown case 'ieee34'"),
    ({"slots": "hourly"}, "slots", "peak, daily"),
    ({"samples": 0}, "samples", ">= 1"),
    ({"plans": {"ieee69": {"closed_lines": [0]}}}, "plans.ieee69", "unknown key"),
    ({"plans": {"ieee33": {"open_lines": [0]}}}, "plans.ieee33.open_lines", "closed_lines"),
])
def test_bad_spec_keys_are_refused_naming_file_and_key(change, key, message):
    with pytest.raises(SpecError) as info:
        parse_bounds_study({**SMALL, **change}, source="s.yaml")
    assert info.value.key == key and message in info.value.message
    assert str(info.value).startswith(f"s.yaml: {key}: ")


@pytest.mark.parametrize("closed, message", [([1, 2, 999], "unknown net.line labels [999]"),
                                             ("all", "loop")])
def test_a_bad_plan_is_refused_when_its_case_is_built(closed, message, tmp_path):
    lines = list(load_case("ieee33").net.line.index) if closed == "all" else closed
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump({**SMALL, "cases": ["ieee33"],
                                    "plans": {"ieee33": {"closed_lines": lines}}}))
    spec = load_bounds_study(path)
    with pytest.raises(SpecError) as info:
        study_case(spec, "ieee33")
    assert info.value.key == "plans.ieee33.closed_lines" and message in str(info.value)


def test_a_plan_of_closed_lines_is_solved_on_that_topology():
    """ieee33 (lines and buses labelled as Baran & Wu number them) with its tie line 33
    (buses 21-8) closed and line 7 (buses 7-8, on the loop that tie closes) open."""
    base = load_case("ieee33").net.line
    closed = [int(i) for i in base.index[base.in_service.astype(bool)] if i != 7] + [33]
    spec = parse_bounds_study({**SMALL, "cases": ["ieee33"], "levels": [0.1], "samples": 50,
                               "plans": {"ieee33": {"closed_lines": closed}}})
    pf, *_ = engine_and_demand(spec, load_case("ieee33"))
    assert set(pf.net.line.index[pf.closed[pf.branches.is_line]]) == set(closed)
    widths, runs = study_case(spec, "ieee33")
    assert runs.set_index("method").loc["affine", "inside_share"] == 1.0
    lines = set(widths[widths.quantity == "i_ka"].element.astype(int))
    assert 33 in lines and 7 not in lines


@pytest.mark.slow
def test_the_full_spec(tmp_path):
    """The shipped spec: 10,000 samples, md24 and ieee33 at +-5/10/20 %."""
    out = run_bounds_study(load_bounds_study(SPEC_FILE), out_dir=tmp_path, progress=False)
    table = pd.read_csv(out / "widths_summary.csv")
    bounds = table[table.method != "montecarlo"]
    assert (bounds.inside_share == 1.0).all() and bounds.verified.all()
    assert (table[table.method == "affine"].aa_over_ia <= 1.0).all()
