"""The vectorised cost table (fdnmoo.metrics.economics.cost_table) of whole populations.

Reference: ``data/cost_reference.npz``, written by ``make_cost_reference.py`` with
the per-plan pricing that preceded the cost table (one ``investment_items``
DataFrame per plan, commit 299dfbc): random populations (``GenomeSampling``,
seeded) of every preset on ieee33, tpc84 and md24 (md24 has no SOP or PV
candidates: reconfiguration and expansion only), and ieee33 with prices per
stage and every DER kind. Tolerance 1e-9 relative: the table sums the same
products in another order.
"""

import copy
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from numpy.testing import assert_allclose

from fdnmoo.cases import load_case
from fdnmoo.metrics.cost_model import CostModel, StagePrice, cost_model
from fdnmoo.metrics.economics import (BREAKDOWN_COLUMNS, ITEM_COLUMNS, MissingPriceError,
                                      cost_breakdown, cost_table, investment_items,
                                      investment_table, population_costs, population_investment)
from fdnmoo.metrics.investment import priced_items
from fdnmoo.planning import Plan, PlanBatch, plan_table, planning_grid

from make_cost_reference import OPS_FIELDS, staged_ieee33

DATA = np.load(Path(__file__).parent / "data" / "cost_reference.npz")
POPULATIONS = sorted({k.rsplit("/", 1)[0] for k in DATA})
RTOL = 1e-9


@pytest.fixture(scope="module")
def grids():
    cache = {}

    def get(case):
        if case not in cache:
            cache[case] = staged_ieee33() if case == "ieee33_staged" else planning_grid(load_case(case))
        return cache[case]

    return get


def stored(name: str):
    """Grid name, plans and batch of operation metrics of a stored population."""
    get = lambda key: DATA[f"{name}/{key}"]
    closed_lines, closed_trafos = get("closed_lines"), get("closed_trafos")
    n_plans, n_stages = closed_lines.shape[:2]
    tables = {}
    for table in ("new_lines", "substations", "sop"):
        fields = [f for f in plan_table(table).dtype.names]
        rows = {f: get(f"{table}.{f}") for f in fields}
        which = get(f"{table}.plan")
        tables[table] = [plan_table(table, {f: v[which == i] for f, v in rows.items()})
                         for i in range(n_plans)]
    kinds = [k.split("/der.")[1] for k in DATA if k.startswith(f"{name}/der.")]
    return closed_lines, closed_trafos, tables, {k: get(f"der.{k}") for k in kinds}, \
        {k: get(f"der_has.{k}") for k in kinds}, n_plans, n_stages


def population(name, grids):
    grid = grids(name.split("/")[0])
    closed_lines, closed_trafos, tables, der, has, n_plans, n_stages = stored(name)
    lines, trafos = grid.net.line.index.to_numpy(), grid.net.trafo.index.to_numpy()
    plans = [Plan(n_stages=n_stages,
                  closed_lines=[lines[closed_lines[i, s]] for s in range(n_stages)],
                  closed_trafos=[trafos[closed_trafos[i, s]] for s in range(n_stages)],
                  **{t: tables[t][i] for t in tables},
                  der={k: der[k][i] for k in der if has[k][i]})
             for i in range(n_plans)]
    ops = SimpleNamespace(**{f: DATA[f"{name}/ops.{f}"] for f in OPS_FIELDS})
    # the reference priced one violation energy; its voltage part carries it all here, so
    # the split penalty terms must reproduce the old single term and total
    ops.voltage_violation_energy_mwh = ops.violation_energy_mwh
    ops.overload_energy_mwh = np.zeros_like(ops.violation_energy_mwh)
    return grid, plans, ops


#: The reference's columns (before the penalty split) from today's table.
REFERENCE_COLUMNS = {"violation_penalty": ("voltage_penalty", "overload_penalty")}


def as_reference(table: dict) -> np.ndarray:
    old = ["investment", "om", "energy_loss", "pv_profit", "dg_energy", "unserved_penalty",
           "violation_penalty", "total"]
    return np.stack([sum(table[c] for c in REFERENCE_COLUMNS.get(c, (c,))) for c in old],
                    axis=-1)


def test_the_reference_covers_every_preset_and_item_kind():
    presets = {n.split("/")[1] for n in POPULATIONS}
    assert presets >= {"reconfiguration", "dg_siting", "sop_planning", "expansion", "joint"}
    assert {n.split("/")[0] for n in POPULATIONS} >= {"ieee33", "tpc84", "md24", "ieee33_staged"}
    kinds = set(np.concatenate([DATA[f"{n}/items.kind"] for n in POPULATIONS]).tolist())
    assert kinds >= {"line", "substation", "transformer", "sop site", "sop converter", "sop line",
                     "pv", "svc", "ess", "ess energy", "evcs", "evcs site", "dg"}


@pytest.mark.parametrize("name", POPULATIONS)
def test_cost_table_equals_the_per_plan_breakdown(name, grids):
    grid, plans, ops = population(name, grids)
    batch = PlanBatch.of(grid, plans)
    model = CostModel.of(grid, batch.n_stages)
    for convention in ("horizon", "lifetime"):
        with_ops = cost_table(model, batch, ops, convention=convention, unpriced="nan")
        bare = cost_table(model, batch, convention=convention)
        for table, key in ((with_ops, "costs"), (bare, "costs_bare")):
            assert_allclose(as_reference(table), DATA[f"{name}/{key}.{convention}"], rtol=RTOL,
                            atol=0)
            assert not table["overload_penalty"].any()
    assert_allclose(investment_table(model, batch), DATA[f"{name}/investment_per_stage"],
                    rtol=RTOL, atol=0)


@pytest.mark.parametrize("name", POPULATIONS)
def test_items_equal_the_per_plan_item_lists(name, grids):
    grid, plans, _ = population(name, grids)
    items = priced_items(cost_model(grid, plans[0].n_stages), PlanBatch.of(grid, plans))
    got = {c: (np.array(items.where()) if c == "where" else getattr(items, c)) for c in ITEM_COLUMNS}
    got["plan"], want = items.plan, {c: DATA[f"{name}/items.{c}"] for c in ITEM_COLUMNS + ["plan"]}

    def order(t):
        return np.lexsort((t["where"], t["kind"], t["stage"], t["plan"]))

    a, b = order(got), order(want)
    for c in ("plan", "stage", "kind", "where", "unit"):
        assert got[c][a].tolist() == want[c][b].tolist(), c
    for c in ("quantity", "unit_cost", "cost", "lifetime_years", "om_per_year"):
        assert_allclose(got[c][a], want[c][b], rtol=RTOL, atol=0, err_msg=c)
    # the report of one plan is the same list
    one = investment_items(grid, plans[0])
    assert list(one.columns) == ITEM_COLUMNS
    assert_allclose(one.cost.sum(), want["cost"][want["plan"] == 0].sum(), rtol=RTOL)


def test_breakdown_of_one_plan_is_its_row(grids):
    grid, plans, ops = population("tpc84/joint", grids)
    table = cost_table(cost_model(grid, plans[0].n_stages), PlanBatch.of(grid, plans), ops)
    i = 3
    one = SimpleNamespace(**{f: getattr(ops, f)[i] for f in OPS_FIELDS + (
        "voltage_violation_energy_mwh", "overload_energy_mwh")}, n_stages=plans[i].n_stages)
    frame = cost_breakdown(grid, plans[i], one)
    assert list(frame.columns) == BREAKDOWN_COLUMNS and list(frame.index) == [1, 2, 3, 4]
    for c in BREAKDOWN_COLUMNS:
        assert_allclose(frame[c].to_numpy(), table[c][i], rtol=1e-12)


# --- prices a population needs -------------------------------------------------------------
def test_missing_energy_price_raises_only_for_plans_that_need_it(grids):
    grid, plans, ops = population("md24/expansion", grids)
    case = copy.deepcopy(grid.case)
    case.economics.prices = {}
    bare = planning_grid(case)
    batch, model = PlanBatch.of(bare, plans), CostModel.of(bare, plans[0].n_stages)
    unserved = ops.unserved_energy_mwh
    assert (unserved > 0).any() and (unserved == 0).any()
    with pytest.raises(MissingPriceError, match=r"no economics\.prices\.unserved_energy_per_mwh "
                                                r"to price unserved energy") as err:
        cost_table(model, batch, ops)
    assert err.value.key == "economics.prices.unserved_energy_per_mwh" and err.value.case == "md24"
    # reports: NaN exactly where the energy is, and the total with it
    table = cost_table(model, batch, ops, unpriced="nan")
    assert_allclose(np.isnan(table["unserved_penalty"]), unserved > 0)
    assert_allclose(np.isnan(table["total"]), unserved > 0)
    # the investment needs no energy price
    assert_allclose(cost_table(model, batch)["investment"], DATA["md24/expansion/costs_bare.horizon"][..., 0],
                    rtol=RTOL)


def test_missing_unit_cost_names_the_item_when_needed():
    case = copy.deepcopy(load_case("ieee33"))
    del case.economics.unit_costs["sop_per_mva"]
    grid = planning_grid(case)
    model = CostModel.of(grid, 3)  # building the model needs no price
    plain = Plan.on_base_topology(grid, 3)
    assert_allclose(cost_table(model, PlanBatch.of(grid, [plain]))["investment"], 0.0)
    sop = plan_table("sop", stage=[1, 1], device=[0, 0], bus=[8, 21], capacity_mva=[0.5, 0.5])
    with pytest.raises(ValueError, match=r"case 'ieee33' has no economics\.unit_costs"
                                         r"\['sop_per_mva'\] needed to price SOP converters"):
        cost_table(model, PlanBatch.of(grid, [plain, Plan.on_base_topology(grid, 3, sop=sop)]))


def test_a_price_list_shorter_than_the_horizon_is_named_at_its_stage():
    case = copy.deepcopy(load_case("ieee33"))
    case.economics.unit_costs["pv_per_mw"] = [800000.0, 600000.0]
    grid = planning_grid(case)
    pv = np.zeros((3, len(case.candidates["pv"])))
    early, late = pv.copy(), pv.copy()
    early[:, 0] = 1.0
    late[2:, 0] = 1.0
    model = CostModel.of(grid, 3)
    ok = cost_table(model, PlanBatch.of(grid, [Plan.on_base_topology(grid, 3, der={"pv": early})]))
    assert ok["investment"][0, 0] > 0
    with pytest.raises(ValueError, match=r"price list \[800000.0, 600000.0\] has no value for "
                                         r"stage 3"):
        cost_table(model, PlanBatch.of(grid, [Plan.on_base_topology(grid, 3, der={"pv": late})]))


def test_stage_price_of_a_number_a_list_and_a_missing_key():
    assert_allclose(StagePrice.of({"a": 2.0}, "a", 3).at([1, 3]), [2.0, 2.0])
    assert_allclose(StagePrice.of({"a": [1.0, 2.0]}, "a", 3).at([2]), [2.0])
    missing = StagePrice.of({}, "a", 3, missing="no a to price ")
    assert missing.at([]).size == 0  # nothing needs it: no error
    with pytest.raises(ValueError, match="no a to price lines"):
        missing.at([1], "lines")
    assert_allclose(StagePrice.of({}, "a", 2, default=0.0).values, [0.0, 0.0])


# --- the objectives' hook ------------------------------------------------------------------
class FakePopulation:
    """The population interface the hook reads (grid, plans, ops, computed), counting work."""

    def __init__(self, grid, plans, ops):
        self.grid, self.plans, self.ops, self.calls, self._results = grid, PlanBatch.of(grid, plans), ops, [], {}

    def computed(self, key, compute):
        if key not in self._results:
            self.calls.append(key)
            self._results[key] = compute(self)
        return self._results[key]


def test_population_costs_is_computed_once_per_population(grids):
    grid, plans, ops = population("md24/expansion", grids)
    pop = FakePopulation(grid, plans, ops)
    evs = [SimpleNamespace(population=pop, index=i) for i in range(len(plans))]
    rows = [population_costs(ev) for ev in evs]
    bare = [population_costs(ev, operating=False) for ev in evs]
    invest = [population_investment(ev) for ev in evs]
    assert sorted(map(str, pop.calls)) == sorted(map(str, [
        ("economics", "items"), ("economics", "costs", True), ("economics", "costs", False),
        ("economics", "investment")]))
    ref = DATA["md24/expansion/costs.horizon"]
    assert_allclose(np.stack([as_reference(r) for r in rows]), ref, rtol=RTOL)
    assert_allclose([b["investment"] for b in bare], ref[..., 0], rtol=RTOL)
    assert_allclose(invest, DATA["md24/expansion/investment_per_stage"], rtol=RTOL)
