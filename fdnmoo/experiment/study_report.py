"""``report.md`` of the studies over run specs: our tables beside the paper's figures."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .bounds_report import markdown_table
from .runs_study_spec import RunsStudySpec

__all__ = ["case_report", "reduction_report", "scheme_report"]

_MCNY = 1e6


def _header(title: str, spec: RunsStudySpec) -> list[str]:
    settings = ", ".join(f"`{s}`" for s in spec.settings) or "none"
    return [f"# {title}", "", f"Spec `{spec.source}`; published figures "
            f"`{spec.published or 'none'}`; settings for every run: {settings}.", ""]


def reduction_report(spec: RunsStudySpec, reduction: pd.DataFrame, costs: pd.DataFrame) -> str:
    """The reduction and cost tables, and the paper's Table 20 figures beside them."""
    paper = spec.published_figures().get("reduction", {})
    sec = paper.get("seconds", {})
    over = paper.get("kmeans_cost_over_backward_percent", {})
    red = reduction.copy()
    red["seconds"] = red["seconds"].round(2)
    cost = costs[["run", "system", "reduction", "k", "kantorovich", "reduction_seconds",
                  "total_cost", "cost_vs_backward_percent",
                  *[c for c in costs if c.startswith("cost_on_")], "pv_mw", "ess_mwh",
                  "lines_built"]].copy()
    money = ["total_cost", *[c for c in costs if c.startswith("cost_on_")]]
    cost[money] = cost[money] / _MCNY
    cost = cost.rename(columns={c: f"{c} [M]" for c in money})
    km = costs[costs.reduction == "kmeans"].set_index("run")
    side = pd.DataFrame([{
        "run": run, "system": row.system,
        "k-means cost over backward, ours [%]": row.cost_vs_backward_percent,
        "paper [%]": over.get(row.system, np.nan)} for run, row in km.iterrows()])
    lines = _header("Scenario reduction: k-means against simultaneous backward reduction", spec)
    lines += ["## Reductions of the generated days", "", markdown_table(red),
              "*seconds*: wall time of that reduction alone (the k-means row with the "
              "elbow/silhouette rule fits k = 2..10 and scores each by its silhouette). "
              "*kantorovich*: distance between the generated days and the reduced set "
              "(Euclidean between whole days of 24 load and 24 PV values, p.u.).", "",
              f"Paper (Table 20): k-means {sec.get('kmeans', 'n/a')} s, backward "
              f"{sec.get('backward', 'n/a')} s, on its 3,650 days (MATLAB).", "",
              "## Planning cost with each reduction", "", markdown_table(cost),
              "*reduction_seconds*: what the run's batch spent reducing (backward: after the "
              "k-means selection that fixes its k, unless `uncertainty.typical_days` does). Costs are the chosen solution's "
              "`total_cost` (case currency, NPV, millions); *cost_on_X_days*: the same plan "
              "costed on the typical days of reduction X.", ""]
    if len(side):
        lines += ["## Beside the paper", "", markdown_table(side)]
    return "\n".join(lines) + "\n"


def scheme_report(spec: RunsStudySpec, table: pd.DataFrame, published: dict) -> str:
    """The scheme table, and our cost order per system against the paper's."""
    show = table[["system", "scheme", "run", "total_cost", "cost_vs_scheme_1_percent",
                  "published_vs_scheme_1_percent", "cost_rank", "published_rank", "pv_mw",
                  "ess_mwh", "lines_built", "voltage_penalty", "curtailment_penalty",
                  "unserved_energy_mwh", "typical_days", "run_wall_time_s"]].copy()
    money = ("total_cost", "voltage_penalty", "curtailment_penalty")
    for c in money:
        show[c] = show[c] / _MCNY
    show = show.rename(columns={c: f"{c} [M]" for c in money})
    order = published.get("cost_order", [])
    lines = _header("Planning schemes beside the paper", spec)
    lines += [markdown_table(show), "",
              f"Paper's cost order, cheapest first: {', '.join(f'scheme {k}' for k in order)} "
              "(from its Table 13 / 17 percentages over scheme 1)."]
    for system, group in table.groupby("system", sort=False):
        ours = group.sort_values("total_cost").scheme.tolist()
        lines.append(f"- {system} (ours: `{group.run.iloc[0].split()[0]}`): our order "
                     f"{', '.join(f'scheme {k}' for k in ours)}; "
                     f"{'the same as' if ours == order else 'differs from'} the paper's.")
    return "\n".join(lines) + "\n"


def case_report(spec: RunsStudySpec, plans: pd.DataFrame, table2: pd.DataFrame | None,
                cases: pd.DataFrame, gamma: pd.DataFrame, published: dict,
                allocation: pd.DataFrame | None = None) -> str:
    """Plan per stage (Table 1), costs per stage (Table 2), cases, gamma sweep and users'
    allocations, each beside the paper's figures (:mod:`fdnmoo.experiment.case_study`)."""
    lines = _header("Cases beside the paper", spec)
    lines += ["## Plan per stage (as Table 1; capacities in MVA, cumulative)", "",
              markdown_table(plans[["run", "stage", "sop", "evcs", "pv", "sop_mva", "evcs_mva",
                                    "pv_mva"]]), ""]
    paper = pd.DataFrame([{"stage": r["stage"],
                           "sop": "; ".join(f"({', '.join(map(str, s['terminals']))}: "
                                            f"{', '.join(f'{c:.2f}' for c in s['capacity_mva'])})"
                                            for s in r["sop"]) or "-",
                           "sop_mva": sum(sum(s["capacity_mva"]) for s in r["sop"]),
                           "evcs_mva": sum(r["evcs"].values()), "pv_mva": sum(r["pv"].values())}
                          for r in published.get("table1", {}).get("stages", [])])
    if len(paper):
        lines += ["Paper (Table 1, Case I):", "", markdown_table(paper), ""]
    if table2 is not None:
        lines += [f"## Costs per stage of `{spec.runs[0].label}` beside Table 2 (10^6 CNY)", "",
                  "Investment cells: lump sums discounted to the stage start (Table 2's "
                  "convention); operation cells: the run's breakdown.", "",
                  markdown_table(table2.round(4)), ""]
    show = cases[["run", "paper_case", "investment", "operation", "total [M]", "paper_total [M]",
                  "relative difference", "case_i_reduction", "paper_case_i_reduction",
                  "sop_investment_change", "violation_cost_factor", "total_factor",
                  "feasible", "wall_time_s"]].copy()
    for c in ("investment", "operation"):
        show[c] = show[c] / _MCNY
    show = show.rename(columns={"investment": "investment [M]", "operation": "operation [M]"})
    lines += ["## Case comparison", "", markdown_table(show.round(4)), "",
              "*paper_total*: printed for I, II, IV; for III and V implied by the printed "
              "reductions of Case I (`experiments/published/s000_dynamic.yaml`)."]
    if len(gamma):
        lines += ["", "## Gamma sweep", "", markdown_table(gamma.round(4))]
    if allocation is not None and len(allocation):
        lines += ["", *_allocation_section(allocation, published)]
    return "\n".join(lines) + "\n"


def _allocation_section(allocation: pd.DataFrame, published: dict) -> list[str]:
    """The users' allocations beside the paper (``allocation.csv``)."""
    notes = []
    for case in allocation.paper_case.unique():
        paper = published.get("case_comparison", {}).get(f"case_{str(case).lower()}", {})
        if "total_cost_factor_alternative" in paper:
            notes.append(f"Case {case}: the paper's total factor is ambiguous, "
                         f"{paper.get('total_cost_factor')} or "
                         f"{paper['total_cost_factor_alternative']} (its words: "
                         f"\"increases by {paper.get('total_cost_factor')} times\").")
    return ["## Users' allocation (random EVCS / PV around the planned SOPs)", "",
            "Each run's chosen genes for the blocks it planned, the other blocks of the "
            "`evaluate_on` problem drawn by that problem's sampling and repair "
            "(`fdnmoo.experiment.user_allocation`); over the draws, against Case I's row: "
            "*sop_investment_change* (SOP land + converter + line), *violation_cost_factor* "
            "(overload + voltage violation), *total_factor*; *max_..._probability*: the "
            "largest over buses (lines) and the listed stages. The paper's probabilities are "
            "lower bounds (\"exceeds\"). The case's row of the comparison holds the medians, "
            "the plan and stage-cost tables the draw of median total.", "",
            markdown_table(allocation.round(4)), "", *notes]
