"""SOP investment (land, converter, line) of multi-terminal devices, by hand and against seed 000.

Seed 000: R. Wang, H. Ji, P. Li, H. Yu et al., 'Multi-resource dynamic coordinated planning
of flexible distribution network', Nature Communications 15 (2024). Its Table 1 (Case I)
gives the plan, its Table 2 the present value of the SOP investment per stage (10^6 CNY).
Staged prices: the paper's Supplementary Table 1, as in its released code
(github.com/fdn-planning/FDN_Model, data_parameters.py: price_sit, price_cvt, price_ref),
which the tpc84 case file cites for its stage-I values.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest

from fdnmoo.cases import load_case
from fdnmoo.metrics.economics import cost_breakdown, investment_items, present_value_factor
from fdnmoo.planning import Plan, planning_grid

# Table 1 of seed 000, Case I: SOP terminals (bus: MVA) per stage; device 0 grows 2 -> 3 -> 4
# terminals, device 1 (29-39, over the existing tie 29-39) is new in stage IV
TABLE1_SOP = {
    2: {0: {7: 0.16, 72: 0.04}},
    3: {0: {7: 0.81, 72: 0.64, 83: 0.79}},
    4: {0: {7: 0.81, 64: 3.34, 72: 1.06, 83: 1.76}, 1: {29: 0.96, 39: 0.97}},
}
# Table 2 of seed 000 (10^6 CNY), stages I-IV: SOP land exploitation, converter purchase,
# line construction (their total, 4.80, is the Total row's SOP entry)
TABLE2_LAND = [0.00, 2.17, 0.00, 1.20]
TABLE2_CONVERTER = [0.00, 0.07, 0.31, 0.32]
TABLE2_LINE = [0.00, 0.15, 0.35, 0.23]
# Supplementary Table 1 of seed 000 / data_parameters.py of its code, stages I-IV
SITE_CNY = [3e6, 3.5e6, 4e6, 5e6]               # price_sit, per SOP
CONVERTER_CNY_PER_MVA = [8e5, 6e5, 4e5, 2e5]    # price_cvt 800/600/400/200 CNY/kVA
LINE_CNY_PER_KM = [1e5, 1.2e5, 1.6e5, 2e5]      # price_ref


def table1_plan(grid) -> Plan:
    rows = [(s, dev, bus, mva) for s, devices in TABLE1_SOP.items()
            for dev, terms in devices.items() for bus, mva in terms.items()]
    sop = pd.DataFrame(rows, columns=["stage", "device", "bus", "capacity_mva"])
    return Plan.on_base_topology(grid, 4, sop=sop)


def per_kind(items: pd.DataFrame, kind: str, discount=None) -> list[float]:
    """Cost of the items of ``kind`` per stage 1..4 (times ``discount[stage-1]`` if given)."""
    k = items[items.kind == kind]
    cost = k.groupby("stage").cost.sum().reindex(range(1, 5), fill_value=0.0).to_numpy()
    return (cost if discount is None else cost * np.asarray(discount)).tolist()


@pytest.fixture(scope="module")
def tpc84():
    return planning_grid(load_case("tpc84"))


@pytest.fixture(scope="module")
def tpc84_staged():
    case = copy.deepcopy(load_case("tpc84"))
    costs = case.economics.unit_costs
    costs["sop_site_per_site"] = SITE_CNY
    costs["sop_per_mva"] = CONVERTER_CNY_PER_MVA
    costs["sop_line_per_km"] = LINE_CNY_PER_KM
    return planning_grid(case)


def test_four_terminal_device_priced_by_hand(tpc84):
    # the case's stage-I prices: 3e6 CNY per SOP site, 8e5 CNY/MVA, 1e5 CNY/km
    items = investment_items(tpc84, table1_plan(tpc84))
    # a site per new device (stage II: device 0; stage IV: device 1), none when device 0 grows
    assert per_kind(items, "sop site") == [0.0, 3e6, 0.0, 3e6]
    # converter: the added capacity, 0.20, 2.24 - 0.20 and 8.90 - 2.24 MVA
    assert per_kind(items, "sop converter") == pytest.approx(
        [0.0, 0.20 * 8e5, 2.04 * 8e5, 6.66 * 8e5], rel=1e-12)
    # lines (schematic coordinates of the case, x_km/y_km): 7 (7, 0.5) - 72 (8, 6.5) in
    # stage II; 83 (7, 7.5) to its nearest terminal 72 in stage III; 64 (9, 6) to 72 in
    # stage IV; 29-39 reuses the tie 29-39 (line 93) for nothing
    km = [0.0, math.hypot(1, 6), math.hypot(1, 1), math.hypot(1, 0.5)]
    assert per_kind(items, "sop line") == pytest.approx([x * 1e5 for x in km], rel=1e-12)
    reused = items[(items.kind == "sop line") & items["where"].str.contains("tie reused")]
    assert reused["where"].tolist() == ["device 1 29-39 (tie reused)"] and reused.cost.sum() == 0
    # lifetime convention: the lump sums discounted to the stage starts (10 %, 5-year stages)
    total = sum(np.array(per_kind(items, k)) for k in ("sop site", "sop converter", "sop line"))
    pv = cost_breakdown(tpc84, table1_plan(tpc84), convention="lifetime").investment.to_numpy()
    np.testing.assert_allclose(pv, total * 1.1 ** -(5.0 * np.arange(4)), rtol=1e-12)


def _published(grid, kind: str) -> list[float]:
    items = investment_items(grid, table1_plan(grid))
    discount = [present_value_factor(grid.case.economics.discount_rate, 5.0 * u) for u in range(4)]
    return [c / 1e6 for c in per_kind(items, kind, discount)]


def test_seed000_table2_sop_land_and_converter_cells(tpc84_staged):
    # Table 2 rounds to 0.01e6 CNY; the plan's capacities (Table 1) are rounded to 0.01 MVA
    assert _published(tpc84_staged, "sop site") == pytest.approx(TABLE2_LAND, abs=0.005)
    assert _published(tpc84_staged, "sop converter") == pytest.approx(TABLE2_CONVERTER, abs=0.005)
    # exact values behind the rounding: 3.5e6 x 1.1^-5 = 2.1732e6 and 5e6 x 1.1^-15 = 1.1970e6;
    # 0.2 MVA x 6e5 x 1.1^-5, 2.04 x 4e5 x 1.1^-10, 6.66 x 2e5 x 1.1^-15 (MVA x CNY/MVA)
    np.testing.assert_allclose(_published(tpc84_staged, "sop site"),
                               [0, 3.5 * 1.1 ** -5, 0, 5 * 1.1 ** -15], rtol=1e-12)
    np.testing.assert_allclose(_published(tpc84_staged, "sop converter"),
                               [0, 0.12 * 1.1 ** -5, 0.816 * 1.1 ** -10, 1.332 * 1.1 ** -15],
                               rtol=1e-12)


@pytest.mark.xfail(strict=True, reason=(
    "SOP line cells are not reproducible: seed 000's bus coordinates are not published (its "
    "released code ships an empty xyts table; our tpc84 coordinates are a schematic tree "
    "layout), and its line length of a scheme is a Manhattan-distance star from an optimised "
    "SOP site or from a tie-line end (data_preprocess.py: lschm), priced as the increase of "
    "the scheme length between stages, where fdnmoo attaches each new terminal to its nearest "
    "connected one (Euclidean, Prim). Table 2 implies 2.01, 5.67 and 4.80 km in stages II-IV "
    "(fdnmoo: 6.08, 1.41 and 1.12 km on the schematic coordinates)."))
def test_seed000_table2_sop_line_cells(tpc84_staged):
    assert _published(tpc84_staged, "sop line") == pytest.approx(TABLE2_LINE, abs=0.005)


def test_paper_line_cells_imply_these_lengths():
    # Table 2 line cell / (price_ref x 1.1^-5(u-1)): the km of new SOP line the paper priced
    km = [cell * 1e6 / (price * 1.1 ** (-5 * u)) for u, (cell, price)
          in enumerate(zip(TABLE2_LINE, LINE_CNY_PER_KM))]
    assert km == pytest.approx([0.0, 2.013, 5.674, 4.804], abs=0.001)
