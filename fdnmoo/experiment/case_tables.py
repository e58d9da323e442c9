"""The tables of one plan in a ``cases`` study: its Table 1 row per stage, Table 2 cells and
the figures summed from them (:mod:`fdnmoo.experiment.case_study` writes them)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["INVESTMENT_COLUMNS", "OPERATION_COLUMNS", "TABLE2_COLUMNS", "VS_CASE_I",
           "cost_figures", "investment_cells", "plan_per_stage", "plan_size", "relative_difference",
           "stage_costs", "stage_probabilities", "vs_case_i"]

#: Investment item kinds (:func:`~fdnmoo.metrics.economics.investment_items`) -> Table 2 column.
INVESTMENT_COLUMNS = {"sop site": "sop_land", "sop converter": "sop_converter",
                      "sop line": "sop_line", "evcs site": "evcs_land",
                      "evcs": "evcs_converter", "pv": "pv_converter"}
#: Operation columns of a run's breakdown (``plans/solution_<k>_costs.csv``) -> Table 2 column.
OPERATION_COLUMNS = {"energy_loss": "system_loss", "overload_penalty": "line_overload",
                     "voltage_penalty": "voltage_violation"}
TABLE2_COLUMNS = (*INVESTMENT_COLUMNS.values(), "other_investment",
                  *OPERATION_COLUMNS.values(), "sum")
_SOP_COLUMNS = ("sop_land", "sop_converter", "sop_line")
_VIOLATION_COST_COLUMNS = ("line_overload", "voltage_violation")
#: Figures of a plan set beside Case I's (``cases.csv``): ours -> the published key.
VS_CASE_I = {"sop_investment_change": "sop_investment_change",
             "violation_cost_factor": "violation_cost_factor", "total_factor": "total_cost_factor"}
def relative_difference(ours, paper):
    """Relative difference ``ours / paper - 1`` (NaN where the paper's figure is 0 or missing)."""
    paper = np.asarray(paper, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isfinite(paper) & (paper != 0), np.asarray(ours, float) / paper - 1.0,
                        np.nan)


def investment_cells(grid, plan) -> pd.DataFrame:
    """Table 2's investment cells: each item kind's lump sums, discounted to the stage start.

    Returns
    -------
    DataFrame
        Index stage 1..n, columns :data:`INVESTMENT_COLUMNS` values and ``other_investment``.
    """
    from ..metrics.cost_model import cost_model
    from ..metrics.economics import investment_items

    items = investment_items(grid, plan)
    at_start = cost_model(grid, plan.n_stages).discount_at_start
    items["pv_cost"] = items.cost * at_start[items.stage.to_numpy(int) - 1]
    items["column"] = items.kind.map(INVESTMENT_COLUMNS).fillna("other_investment")
    cols = [*INVESTMENT_COLUMNS.values(), "other_investment"]
    return (items.pivot_table(index="stage", columns="column", values="pv_cost",
                              aggfunc="sum", fill_value=0.0)
            .reindex(index=range(1, plan.n_stages + 1), columns=cols, fill_value=0.0))


def stage_costs(grid, plan, costs: pd.DataFrame) -> pd.DataFrame:
    """The Table 2 cells per stage (:data:`TABLE2_COLUMNS`) of a plan and its run breakdown."""
    table = investment_cells(grid, plan)
    named = {c.split(" [")[0]: c for c in costs.columns}
    by_stage = costs.set_index(named["stage"])
    for ours, col in OPERATION_COLUMNS.items():
        table[col] = by_stage[named[ours]].reindex(table.index).to_numpy(float) \
            if ours in named else 0.0
    table["sum"] = table[list(TABLE2_COLUMNS[:-1])].sum(axis=1)
    table.index.name = "stage"
    return table


def cost_figures(costs: pd.DataFrame) -> dict:
    """Sums over stages of a :func:`stage_costs` table: ``investment``, ``operation``,
    ``total``, ``sop_investment`` (land, converter, line) and ``violation_cost`` (overload and
    voltage violation), in the currency."""
    def total(cols):
        return float(costs[list(cols)].to_numpy().sum())

    return {"investment": total([*INVESTMENT_COLUMNS.values(), "other_investment"]),
            "operation": total(OPERATION_COLUMNS.values()), "total": float(costs["sum"].sum()),
            "sop_investment": total(_SOP_COLUMNS),
            "violation_cost": total(_VIOLATION_COST_COLUMNS)}


def stage_probabilities(violations: pd.DataFrame) -> dict:
    """``voltage_probability_s<k>`` and ``current_probability_s<k>`` per stage ``k`` of a
    :func:`~fdnmoo.metrics.violations.violations_per_stage` table (largest over buses and
    lines; NaN for a results folder written before it had them)."""
    table = violations.set_index("stage") if "stage" in violations else violations
    out = {}
    for ours, col in (("voltage", "voltage_violation_probability"),
                      ("current", "current_violation_probability")):
        for stage in table.index:
            out[f"{ours}_probability_s{int(stage)}"] = \
                float(table.loc[stage, col]) if col in table else np.nan
    return out


def plan_per_stage(plan_csv: pd.DataFrame) -> pd.DataFrame:
    """Table 1 from a run's ``plans/solution_<k>.csv``: one row per stage, SOP schemes,
    EVCS and PV as text (``bus: MVA``), and their totals."""
    rows = []
    for stage, part in plan_csv.groupby("stage"):
        sop = part[part["item"] == "sop"]
        schemes = [f"({w.replace('buses ', '')}: {s})" for w, s in zip(sop["where"], sop["size"])]
        row = {"stage": int(stage), "sop": "; ".join(schemes) or "-",
               "sop_mva": float(sum(_sizes(s).sum() for s in sop["size"])),
               "sop_terminals": "/".join(str(len(_sizes(s))) for s in sop["size"]) or "0"}
        for kind in ("evcs", "pv"):
            k = part[part["item"] == kind]
            row[kind] = ", ".join(f"{w.replace('bus ', '')}: {_sizes(s)[0]:.2f}"
                                  for w, s in zip(k["where"], k["size"])) or "-"
            row[f"{kind}_mva"] = float(sum(_sizes(s)[0] for s in k["size"]))
        rows.append(row)
    return pd.DataFrame(rows)


_SIZE = re.compile(r"^\s*([-+0-9.eE]+)\s*(MW|MWh|Mvar|MVA)\s*$")


def plan_size(text) -> float:
    """A plan table's ``size`` of one item, ``"1.75 MVA"`` -> 1.75 (MW, MWh, Mvar or MVA).

    Raises
    ------
    ValueError
        Not a number with one of those units.
    """
    m = _SIZE.match(str(text))
    if m is None:
        raise ValueError(f"unreadable plan size {text!r}")
    return float(m.group(1))


def _sizes(text) -> np.ndarray:
    """``"0.25 MVA, 1.75 MVA"`` (an SOP's terminals) -> [0.25, 1.75]."""
    return np.array([plan_size(p) for p in str(text).split(",") if p.strip()])


def vs_case_i(table: pd.DataFrame, figure: str, first: pd.DataFrame):
    """``figure`` (:data:`VS_CASE_I`) of every row of ``table`` against Case I's row."""
    base = {"sop_investment_change": "sop_investment", "violation_cost_factor": "violation_cost",
            "total_factor": "total"}[figure]
    ref = float(first[base].iloc[0]) if len(first) else np.nan
    ratio = np.asarray(relative_difference(table[base], np.full(len(table), ref))) + 1.0
    return ratio - 1.0 if figure.endswith("change") else ratio
