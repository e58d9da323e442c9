"""Transcribe the Munoz-Delgado et al. 24-node expansion system into ``md24.json``.

Usage::

    python experiments/cases/build_md24.py [--source munoz_delgado_24node.json] [--out md24.json]

The numbers come from ``shared/data/munoz_delgado_24node.json`` (a transcription
of the paper's test-system data); only the modelling choices below are ours.
They are also written into the case's ``description`` and ``economics.sources``.

Modelling choices
-----------------
* **Buses.** Node ``n`` of the paper is ``net.bus`` label ``n`` (name ``"n"``),
  20 kV. The wind zone of every node (A/B/C) is pandapower's ``net.bus.zone``.
* **Existing substations 21 and 22.** Each is an ext_grid on an upstream bus
  (labels 121/122, 132 kV: the paper models no upstream network, so the voltage
  is a placeholder) feeding the 20 kV bus through a two-winding transformer with
  the paper's existing-transformer data: 7.5 MVA, |Z| = 0.25 ohm referred to
  20 kV, i.e. vk = 0.25 / (20^2 / 7.5) = 0.46875 %. The ext_grid holds 1.05 p.u.
  (the paper's substation voltage); the 20 kV bus sits a few tenths of a percent
  below it under load.
* **Impedance split.** The source gives one impedance magnitude |Z| per km of
  conductor and per transformer, used in ``|Z| * I`` voltage-drop and
  ``|Z| * I^2`` loss terms. We give every impedance the angle of the source's
  load power factor (cos = 0.9): R = 0.9 |Z|, X = 0.436 |Z| (X/R = 0.48,
  typical of MV cables; transformers: vkr = 0.9 vk). With pf-0.9 loads the
  first-order voltage drop ``R I cos + X I sin`` then equals the paper's
  ``|Z| I``; losses are 0.9 times the paper's loss terms. (A pure resistance,
  X = 0, would match the losses exactly but pandapower's DC initialisation
  divides by X and fails on it.) Line charging is not given (c = 0).
* **Current limits.** The source gives MVA limits at 20 kV;
  ``max_i_ka = S / (sqrt(3) * 20 kV)``.
* **Base topology.** Only the four existing corridors (EFF 2-21, 6-22; ERF
  1-21, 8-22) are in-service lines. They supply nodes 1, 2, 6 and 8; every other
  node (including the stage-1 loads at 3, 4, 5, 7, 9, 10 and the candidate
  substations 23, 24) has no existing connection, so its bus is out of service
  in the base net (the validator requires every in-service bus to be supplied)
  and its stage-1 load row is out of service too. Stage 1 of the planning
  problem must therefore build lines, as in the paper. The full demand of every
  stage is in ``candidates.stage_demand``.
* **Corridors.** All 33 corridors are in ``candidates.corridors`` with
  kind ``existing_fixed`` (EFF), ``existing_replaceable`` (ERF) or ``new``
  (NAF) and the ``net.line`` label of the existing line (-1 for new ones). New
  corridors are *not* added to ``net.line`` as open lines: out-of-service lines
  mean normally-open ties in our model, and an unbuilt corridor has no
  conductor yet.
* **Conductors.** Buildable types only: 1-2 are the replacement conductors of
  ERF corridors (the paper's NRF alternatives 1-2), 3-4 the conductors of new
  corridors (NAF alternatives 1-2). The existing conductor's data are in
  ``net.line``; its maintenance cost is ``economics.unit_costs
  ["existing_line_maintenance_per_km_year"]``.
* **Transformer types.** Type 1 is the existing 7.5 MVA unit (investment 0;
  the source gives no lifetime for it, we use the new units' 15 years, which
  does not matter at zero investment); types 2-3 are the new 12 and 15 MVA units.
* **Budget.** The paper's budget is a list per stage with equal values; it is
  stored once as ``economics.unit_costs["investment_budget_per_stage"]`` (the
  script refuses unequal values, which the schema could not hold).
* **Reliability and coordinates** are not in the source: lines get typical
  overhead MV values (0.065 failures/(km yr), 5 h repair, as in the RBTS
  11 kV feeders) and buses get schematic coordinates from a Kamada-Kawai layout
  of the corridor graph scaled to the corridor lengths.
* **Wind data** go to the ``wind_speed`` (per zone and load level) and
  ``wind_power_curve`` (per turbine alternative) tables.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pandapower as pp

from fdnmoo.cases import Economics, Horizon, PlanningCase, Uncertainty, write_case
from fdnmoo.cases.build import feeder_labels, set_reliability
from fdnmoo.cases.registry import DATA_DIR

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "munoz_delgado_24node.json"

CITATION = (
    "Munoz-Delgado, G., Contreras, J., Arroyo, J. M.: Joint expansion planning of distributed "
    "generation and distribution networks. IEEE Transactions on Power Systems 30(5), "
    "2579-2590 (2015); 24-node test system data"
)

HV_KV = 132.0          # placeholder voltage of the upstream bus of an existing substation
HV_LABEL_OFFSET = 100  # upstream bus of substation n is bus n + 100
FAILURES_PER_KM_YEAR = 0.065  # typical overhead MV line (RBTS 11 kV feeders)
REPAIR_TIME_H = 5.0

CORRIDOR_KIND = {"EFF": "existing_fixed", "ERF": "existing_replaceable", "NAF": "new"}

def build_md24(src: dict[str, Any]) -> PlanningCase:
    """The md24 planning case from the parsed source JSON."""
    pf = float(src["power_factor"])
    q_share = math.sqrt(1.0 - pf ** 2)
    z_cos, z_sin = pf, q_share  # impedance angle = load power-factor angle (module docstring)
    v_kv = float(src["v_base_kv"])
    existing_subs = [int(b) for b in src["substations"]["existing"]]
    candidate_subs = [int(b) for b in src["substations"]["candidate"]]
    nodes = list(range(1, int(src["n_bus"]) + 1))
    demand = {int(n): [float(s) for s in mva] for n, mva in src["peak_demand_mva"].items()}
    corridors = pd.DataFrame(src["branches"])

    existing = corridors[corridors.type.isin(["EFF", "ERF"])]
    supplied = _supplied_nodes(existing, existing_subs)
    unsupplied_load = [n for n in nodes if demand[n][0] > 0 and n not in supplied]

    net = pp.create_empty_network(name="md24", f_hz=50.0, sn_mva=1.0)
    zone_names = {int(k): v for k, v in src["zone_names"].items()}
    zone = {int(n): zone_names[int(z)] for n, z in src["node_zone"].items()}
    for n in nodes:
        pp.create_bus(net, vn_kv=v_kv, name=str(n), index=n, zone=zone[n], in_service=n in supplied)

    # existing substations: upstream bus + ext_grid + transformer with the existing unit's data
    tr = src["transformers"]["existing"]
    sn_tr, z_tr = float(tr["capacity_mva"][0]), float(tr["impedance_ohm"][0])
    vk_percent = 100.0 * z_tr / (v_kv ** 2 / sn_tr)
    for k, s in enumerate(existing_subs):
        hv = s + HV_LABEL_OFFSET
        pp.create_bus(net, vn_kv=HV_KV, name=f"HV{s}", index=hv, zone=zone[s])
        pp.create_ext_grid(net, hv, vm_pu=float(src["v_substation_pu"]), name=f"substation {s}")
        pp.create_transformer_from_parameters(
            net, hv_bus=hv, lv_bus=s, sn_mva=sn_tr, vn_hv_kv=HV_KV, vn_lv_kv=v_kv,
            vkr_percent=vk_percent * z_cos, vk_percent=vk_percent, pfe_kw=0.0, i0_percent=0.0,
            name=f"T{s}", index=k)

    # existing corridors as in-service lines with the existing conductor
    cond = src["conductors"]
    line_label = {}
    for k, (idx, row) in enumerate(existing.iterrows()):
        c = cond[row.type]
        line_label[idx] = k
        pp.create_line_from_parameters(
            net, int(row["from"]), int(row["to"]), length_km=float(row.length_km),
            r_ohm_per_km=z_cos * float(c["impedance_ohm_per_km"][0]),
            x_ohm_per_km=z_sin * float(c["impedance_ohm_per_km"][0]), c_nf_per_km=0.0,
            max_i_ka=_max_i_ka(c["max_flow_mva"][0], v_kv), name=f"{row['from']}-{row['to']}",
            index=k)

    # stage-1 peak demand; loads of unsupplied nodes are out of service
    for n in nodes:
        s1 = demand[n][0]
        if s1 > 0:
            pp.create_load(net, n, p_mw=s1 * pf, q_mvar=s1 * q_share, name=str(n), index=n,
                           in_service=n in supplied)

    names = {s: f"S{s}" for s in existing_subs}
    net.bus["feeder"] = feeder_labels(net, names)
    xy = _coordinates(corridors, nodes, existing_subs)
    net.bus["x_km"] = xy.x_km.reindex(net.bus.index).astype(float)
    net.bus["y_km"] = xy.y_km.reindex(net.bus.index).astype(float)
    set_reliability(net, FAILURES_PER_KM_YEAR, REPAIR_TIME_H)

    candidates = _candidates(src, corridors, line_label, demand, pf, q_share, v_kv)
    budget = sorted(set(float(b) for b in src["investment_budget_per_stage"]))
    if len(budget) != 1:
        raise ValueError(f"budget differs between stages ({src['investment_budget_per_stage']}); "
                         "the case schema holds one value")

    economics = Economics(
        currency="USD",
        discount_rate=float(src["interest_rate"]),
        lifetimes_years={
            "line": float(cond["NAF"]["lifetime_years"]),
            "substation": float(src["substations"]["lifetime_years"]),
            "transformer": float(src["transformers"]["new"]["lifetime_years"]),
            "dg": float(src["dg_alternatives"]["lifetime_years"]),
        },
        unit_costs={
            "investment_budget_per_stage": budget[0],
            "existing_line_maintenance_per_km_year": float(cond["EFF"]["maintenance_per_km"][0]),
        },
        prices={"unserved_energy_per_mwh": float(src["unserved_energy_cost_per_MWh"])},
        sources={
            "data": CITATION,
            "transcription": "shared/data/munoz_delgado_24node.json via experiments/cases/build_md24.py",
            "impedance": "source gives |Z| only; every impedance gets the angle of the load power "
                         "factor: R = 0.9|Z|, X = 0.436|Z| (transformers vkr = 0.9 vk), so that the "
                         "first-order voltage drop equals the paper's |Z|*I",
            "max_i_ka": "MVA limits of the source at 20 kV: I = S / (sqrt(3) * 20 kV)",
            "budget": "investment_budget_per_stage: equal in all stages in the source",
            "energy_price": "per load level in candidates.load_levels.energy_price_per_mwh",
            "existing_lifetimes": "not given for the existing transformer; 15 yr used (zero investment)",
            "reliability": "not in the source: 0.065 failures/(km yr), 5 h repair (RBTS 11 kV feeders)",
            "coordinates": "not in the source: schematic Kamada-Kawai layout scaled to corridor km",
            "upstream": "ext_grid at 132 kV placeholder buses 121/122 at 1.05 p.u. (v_substation_pu)",
        },
    )
    description = (
        "24-node, 20 kV distribution expansion system: 20 load nodes, 2 existing substations "
        "(21, 22: ext_grid on 132 kV buses 121/122 + 7.5 MVA transformer), 2 candidate "
        "substations (23, 24), 33 corridors (EFF/ERF existing, NAF new), 3 one-year stages, 3 load "
        "levels, conventional and wind DG candidates. Impedances: source |Z| split at the load "
        "power-factor angle (R = 0.9|Z|, X = 0.436|Z|, vkr = 0.9 vk). Base net: the 4 existing lines supply nodes 1, 2, 6, 8; buses without an "
        f"existing connection are out of service, among them the stage-1 loads at "
        f"{', '.join(map(str, unsupplied_load))} (their load rows are out of service; all stage "
        "demands are in candidates.stage_demand). net.bus.zone holds the wind zone (A/B/C). "
        "Wind speeds per zone/level and turbine power curves are in candidates.wind_speed and "
        "candidates.wind_power_curve. "
        "Coordinates are schematic."
    )
    reference = {
        "n_nodes": len(nodes), "n_corridors": len(corridors), "n_substations":
            len(existing_subs) + len(candidate_subs), "n_existing_substations": len(existing_subs),
        "n_stages": int(src["stage_count"]),
        "source": "counts of the published 24-node system (Munoz-Delgado et al. 2015)",
    }
    return PlanningCase(
        name="md24", net=net, citation=CITATION, description=description,
        candidates=candidates,
        horizon=Horizon(n_stages=int(src["stage_count"]), years_per_stage=float(src["stage_years"]),
                        load_growth_per_year=0.0),
        economics=economics,
        uncertainty=Uncertainty(v_min_pu=float(src["v_min_pu"]), v_max_pu=float(src["v_max_pu"])),
        reference=reference)


def _max_i_ka(s_mva: float, v_kv: float) -> float:
    return float(s_mva) / (math.sqrt(3.0) * v_kv)


def _supplied_nodes(existing: pd.DataFrame, substations: list[int]) -> set[int]:
    """Nodes reached from an existing substation over existing corridors."""
    g = nx.Graph()
    g.add_nodes_from(substations)
    g.add_edges_from(zip(existing["from"].astype(int), existing["to"].astype(int)))
    reached: set[int] = set()
    for s in substations:
        reached |= nx.node_connected_component(g, s)
    return reached


def _coordinates(corridors: pd.DataFrame, nodes: list[int], existing_subs: list[int]) -> pd.DataFrame:
    """Schematic coordinates (km): Kamada-Kawai layout fitted to the corridor lengths."""
    g = nx.Graph()
    g.add_nodes_from(nodes)
    for row in corridors.itertuples():
        g.add_edge(int(row[1]), int(row[2]), weight=float(row.length_km))
    pos = nx.kamada_kawai_layout(g, weight="weight")
    xy = np.array([pos[n] for n in nodes])
    a = xy[[nodes.index(int(r[1])) for r in corridors.itertuples()]]
    b = xy[[nodes.index(int(r[2])) for r in corridors.itertuples()]]
    scale = corridors.length_km.mean() / np.linalg.norm(a - b, axis=1).mean()
    xy = (xy - xy.min(axis=0)) * scale
    out = pd.DataFrame(xy, index=nodes, columns=["x_km", "y_km"])
    for s in existing_subs:  # the upstream bus is drawn just above its substation
        out.loc[s + HV_LABEL_OFFSET] = out.loc[s] + np.array([0.0, 0.3])
    return out.round(3)


def _candidates(src: dict[str, Any], corridors: pd.DataFrame, line_label: dict[int, int],
                demand: dict[int, list[float]], pf: float, q_share: float,
                v_kv: float) -> dict[str, pd.DataFrame]:
    cond = src["conductors"]
    z_cos, z_sin = pf, q_share  # impedance angle = load power-factor angle
    tables: dict[str, pd.DataFrame] = {}
    tables["corridors"] = pd.DataFrame({
        "from_bus": corridors["from"].astype(int), "to_bus": corridors["to"].astype(int),
        "length_km": corridors.length_km.astype(float),
        "kind": corridors.type.map(CORRIDOR_KIND),
        "line": [line_label.get(i, -1) for i in corridors.index],
    })

    rows = []
    for code in ("NRF", "NAF"):  # buildable conductors: ERF replacements, then new corridors
        c = cond[code]
        kind = "existing_replaceable" if code == "NRF" else "new"
        for k in range(len(c["alternatives"])):
            rows.append({"type": len(rows) + 1, "kind": kind,
                         "r_ohm_per_km": z_cos * float(c["impedance_ohm_per_km"][k]),
                         "x_ohm_per_km": z_sin * float(c["impedance_ohm_per_km"][k]),
                         "max_i_ka": _max_i_ka(c["max_flow_mva"][k], v_kv),
                         "investment_per_km": float(c["investment_per_km"][k]),
                         "maintenance_per_km_year": float(c["maintenance_per_km"][k]),
                         "lifetime_years": float(c["lifetime_years"])})
    tables["conductors"] = pd.DataFrame(rows)

    subs = src["substations"]
    existing_mva = float(src["transformers"]["existing"]["capacity_mva"][0])
    tables["substations"] = pd.DataFrame([
        {"bus": int(b), "status": status, "investment": float(subs["investment"][str(b)]),
         "lifetime_years": float(subs["lifetime_years"]),
         "capacity_mva": existing_mva if status == "existing" else 0.0}
        for status in ("existing", "candidate") for b in subs[status]])

    tr = src["transformers"]
    rows = [{"type": 1, "status": "existing", "capacity_mva": float(tr["existing"]["capacity_mva"][0]),
             "impedance_ohm": float(tr["existing"]["impedance_ohm"][0]), "investment": 0.0,
             "maintenance_per_year": float(tr["existing"]["maintenance"][0]),
             "lifetime_years": float(tr["new"]["lifetime_years"])}]
    new = tr["new"]
    for k in range(len(new["capacity_mva"])):
        rows.append({"type": len(rows) + 1, "status": "new", "capacity_mva": float(new["capacity_mva"][k]),
                     "impedance_ohm": float(new["impedance_ohm"][k]),
                     "investment": float(new["investment"][k]),
                     "maintenance_per_year": float(new["maintenance"][k]),
                     "lifetime_years": float(new["lifetime_years"])})
    tables["transformer_types"] = pd.DataFrame(rows)

    tables["stage_demand"] = pd.DataFrame([
        {"bus": n, "stage": t + 1, "p_mw": s * pf, "q_mvar": s * q_share}
        for n, stages in sorted(demand.items()) if any(s > 0 for s in stages)
        for t, s in enumerate(stages)])

    lv = src["load_levels"]
    tables["load_levels"] = pd.DataFrame({
        "level": np.arange(1, len(lv["load_factor"]) + 1),
        "load_factor": [float(v) for v in lv["load_factor"]],
        "duration_h": [float(v) for v in lv["duration_h"]],
        "energy_price_per_mwh": [float(v) for v in lv["substation_energy_cost_per_MWh"]],
    })

    tables["dg"] = pd.DataFrame([{"bus": int(b), "technology": tech}
                                 for tech, buses in src["dg_candidates"].items() for b in buses])
    dga = src["dg_alternatives"]
    tables["dg_types"] = pd.DataFrame([
        {"technology": tech, "alternative": k + 1, "capacity_mva": float(dga[tech]["capacity_mva"][k]),
         "investment_per_mva": float(dga[tech]["investment_per_mva"][k]),
         "energy_cost_per_mwh": float(dga[tech]["energy_cost_per_MWh"][k]),
         "lifetime_years": float(dga["lifetime_years"])}
        for tech in ("conventional", "wind") for k in range(len(dga[tech]["capacity_mva"]))])

    zones = src["wind_speed_m_s_by_zone_and_load_level"]
    tables["wind_speed"] = pd.DataFrame([
        {"zone": z, "level": k + 1, "speed_m_s": float(v)}
        for z, speeds in zones.items() for k, v in enumerate(speeds)])
    curves = src["wind_turbine_power_curves_kw"]
    tables["wind_power_curve"] = pd.DataFrame([
        {"alternative": int(name.removeprefix("type")), "speed_m_s": float(v), "p_kw": float(p)}
        for name, points in curves.items() for v, p in points])
    return tables


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DATA_DIR / "md24.json")
    args = parser.parse_args(argv)
    src = json.loads(args.source.read_text(encoding="utf-8"))
    case = build_md24(src)
    path = write_case(case, args.out)
    print(f"wrote {path}: {case.summary()}")
    return path


if __name__ == "__main__":
    main()
