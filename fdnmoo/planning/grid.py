"""The planning grid: a case's net extended with every element a plan may build.

:func:`planning_grid` copies ``case.net`` and adds, as open (out-of-service)
elements,

* one line per candidate corridor and conductor type (``candidates.corridors``
  x ``candidates.conductors`` of the corridor's kind) — choosing a conductor is
  closing one of these parallel lines, replacing an existing line is opening it
  and closing a candidate on its corridor;
* one line per ``reinforcement`` corridor: a copy of the existing line it
  replaces (``line``) with ``capacity_factor`` x its ``max_i_ka`` and
  ``impedance_factor`` x its resistance and reactance (seed 000's Case IV:
  1.5 x capacity), priced at ``cost_factor`` x ``unit_costs.line_per_km``;
* for every candidate substation (``candidates.substations`` with status
  ``candidate``): an upstream bus with an external grid and one transformer per
  new transformer type; building it is closing one of them.

Buses that are out of service in the base net because nothing supplies them
yet (md24's future load nodes) are put in service: unsupplied buses are then
NaN in the power flow and count as unserved demand. The grid is built once per
problem; every plan is a set of closed lines and transformers on it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..cases.model import PlanningCase

__all__ = ["PlanningGrid", "planning_grid"]

_CORRIDOR_KINDS = {"new": ("new",), "existing_replaceable": ("existing_replaceable",)}


@dataclass(frozen=True)
class PlanningGrid:
    """A case's net with all candidate elements added (see module docstring).

    Attributes
    ----------
    case : PlanningCase
    net : pandapowerNet
        Copy of ``case.net`` plus candidate lines/transformers, all open.
    candidate_lines : DataFrame
        Index: ``net.line`` label. Columns ``corridor`` (row of
        ``candidates.corridors``), ``conductor`` (type number; 0 for a
        reinforcement), ``replaces`` (existing ``net.line`` label or -1),
        ``length_km``, ``cost_factor`` (x ``line_per_km`` for a reinforcement,
        else NaN), ``transformer_factor`` (a reinforcement's feeder transformer
        expansion, :mod:`fdnmoo.metrics.feeder_transformers`; else NaN).
    candidate_trafos : DataFrame
        Index: ``net.trafo`` label. Columns ``bus`` (substation bus),
        ``type`` (transformer type), ``hv_bus``.
    base_lines : ndarray
        ``net.line`` labels of the case's own lines (existing sections and ties).
    switchable_lines : ndarray
        Lines reconfiguration may open or close: the case's own lines.
    """

    case: PlanningCase
    net: object
    candidate_lines: pd.DataFrame
    candidate_trafos: pd.DataFrame
    base_lines: np.ndarray
    switchable_lines: np.ndarray

    @property
    def base_closed_lines(self) -> np.ndarray:
        """Lines in service in the case's base topology."""
        line = self.case.net.line
        return line.index[line.in_service.astype(bool)].to_numpy()

    @property
    def base_closed_trafos(self) -> np.ndarray:
        trafo = self.case.net.trafo
        return trafo.index[trafo.in_service.astype(bool)].to_numpy()


def _reinforcement(net, corridor: int, cor) -> dict:
    """Candidate-line row of a reinforcement corridor; adds the stronger copy to ``net``."""
    import pandapower as pp

    old = net.line.loc[int(cor.line)]
    imp = _factor(cor, "impedance_factor")
    label = pp.create_line_from_parameters(
        net, int(old.from_bus), int(old.to_bus), length_km=float(old.length_km),
        r_ohm_per_km=float(old.r_ohm_per_km) * imp, x_ohm_per_km=float(old.x_ohm_per_km) * imp,
        c_nf_per_km=float(old.c_nf_per_km), max_i_ka=float(old.max_i_ka) * _factor(cor, "capacity_factor"),
        in_service=False, name=f"corridor {corridor} reinforcement of line {int(cor.line)}")
    for col in ("failure_rate_per_year", "repair_time_h", "feeder"):
        if col in net.line:
            net.line.loc[label, col] = old[col]
    expand = cor.get("transformer_factor")
    return {"line": label, "corridor": corridor, "conductor": 0, "replaces": int(cor.line),
            "length_km": float(old.length_km), "cost_factor": _factor(cor, "cost_factor"),
            "transformer_factor": np.nan if expand is None or pd.isna(expand) else float(expand)}


def _factor(cor, name: str) -> float:
    value = cor.get(name, 1.0)
    return 1.0 if value is None or pd.isna(value) else float(value)


def planning_grid(case: PlanningCase) -> PlanningGrid:
    """Build the planning grid of ``case`` (see module docstring)."""
    import pandapower as pp

    net = copy.deepcopy(case.net)
    net.bus["in_service"] = True
    net.load["in_service"] = True
    base_lines = net.line.index.to_numpy()

    rows = []
    corridors = case.candidates.get("corridors")
    conductors = case.candidates.get("conductors")
    if corridors is not None:
        for c, cor in corridors.iterrows():
            if cor.kind == "reinforcement":
                rows.append(_reinforcement(net, int(c), cor))
                continue
            if cor.kind not in _CORRIDOR_KINDS or conductors is None:
                continue
            for _, cond in conductors[conductors.kind == cor.kind].iterrows():
                label = pp.create_line_from_parameters(
                    net, int(cor.from_bus), int(cor.to_bus), length_km=float(cor.length_km),
                    r_ohm_per_km=float(cond.r_ohm_per_km), x_ohm_per_km=float(cond.x_ohm_per_km),
                    c_nf_per_km=0.0, max_i_ka=float(cond.max_i_ka), in_service=False,
                    name=f"corridor {c} type {int(cond.type)}")
                replaces = int(cor.line) if "line" in cor and cor.line is not None \
                    and not pd.isna(cor.line) and int(cor.line) >= 0 else -1
                rows.append({"line": label, "corridor": int(c), "conductor": int(cond.type),
                             "replaces": replaces, "length_km": float(cor.length_km),
                             "cost_factor": np.nan})
    candidate_lines = pd.DataFrame(rows, columns=["line", "corridor", "conductor", "replaces",
                                                  "length_km", "cost_factor",
                                                  "transformer_factor"]).set_index("line")
    if len(candidate_lines):
        # candidate lines fail like the case's typical line: median rate per km, median repair
        existing = case.net.line
        rate_per_km = (existing.failure_rate_per_year / existing.length_km).median()
        net.line.loc[candidate_lines.index, "failure_rate_per_year"] = \
            (rate_per_km * candidate_lines.length_km).to_numpy()
        net.line.loc[candidate_lines.index, "repair_time_h"] = existing.repair_time_h.median()

    trafo_rows = []
    subs = case.candidates.get("substations")
    types = case.candidates.get("transformer_types")
    if subs is not None and types is not None:
        hv_kv = float(net.trafo.vn_hv_kv.iloc[0]) if len(net.trafo) else 110.0
        vm = float(net.ext_grid.vm_pu.iloc[0])
        # the case's existing transformers fix the R/X split the type table lacks
        r_share = float((net.trafo.vkr_percent / net.trafo.vk_percent).mean()) if len(net.trafo) else 0.1
        for _, sub in subs[subs.status == "candidate"].iterrows():
            bus = int(sub.bus)
            hv = pp.create_bus(net, hv_kv, name=f"upstream of substation {bus}",
                               index=int(net.bus.index.max()) + 1)
            for col, val in (("feeder", str(net.bus.feeder.get(bus, ""))),
                             ("x_km", net.bus.x_km[bus]), ("y_km", net.bus.y_km[bus])):
                net.bus.loc[hv, col] = val
            pp.create_ext_grid(net, hv, vm_pu=vm, name=f"candidate substation {bus}")
            vn_lv = float(net.bus.vn_kv[bus])
            for _, t in types[types.status == "new"].iterrows():
                vk = float(t.impedance_ohm) / (vn_lv ** 2 / float(t.capacity_mva)) * 100
                label = pp.create_transformer_from_parameters(
                    net, hv, bus, sn_mva=float(t.capacity_mva), vn_hv_kv=hv_kv, vn_lv_kv=vn_lv,
                    vk_percent=vk, vkr_percent=r_share * vk, pfe_kw=0.0, i0_percent=0.0,
                    in_service=False, name=f"substation {bus} type {int(t.type)}")
                trafo_rows.append({"trafo": label, "bus": bus, "type": int(t.type), "hv_bus": hv})
    candidate_trafos = pd.DataFrame(trafo_rows, columns=["trafo", "bus", "type", "hv_bus"]
                                    ).set_index("trafo")
    return PlanningGrid(case=case, net=net, candidate_lines=candidate_lines,
                        candidate_trafos=candidate_trafos, base_lines=base_lines,
                        switchable_lines=base_lines.copy())
