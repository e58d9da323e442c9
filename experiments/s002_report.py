"""Seed 002 reproduced on md24: Case I (no DG), Case II (DG) and the DG penetration sweep.

Seed 002: Q. Wang and M. Jing, "Multi-Stage Expansion Planning of Distribution Network
Considering Distributed Power Generation", Front. Energy Res. 10:902891 (2022). Its tables and
figures were images that did not survive extraction: what it says in its text is quoted below
as facts (our sentences, with the section), beside what our runs give.

Usage (from the repository root)::

    python experiments/s002_report.py            # runs s002_case1/2.yaml and s002_penetration.yaml
    python experiments/s002_report.py --fast     # a reduced variant (seconds), as in the tests

It runs the two cases (``fdnmoo run``, resumable: a finished run is read back) and the sweep
(``fdnmoo compare``), and writes ``<out>/report.md`` (default ``results/s002``) with the build
schedule of substations and transformers per stage, the DG sites, the cost breakdown of both
cases and their difference, and the cost against the penetration cap (``penetration.png``).
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from fdnmoo.experiment.bounds_report import markdown_table
from fdnmoo.experiment.compare_spec import parse_compare_spec
from fdnmoo.experiment.grid import run_grid
from fdnmoo.experiment.runner import run_experiment
from fdnmoo.experiment.spec import load_spec
from fdnmoo.metrics.cost_model import cost_model
from fdnmoo.objectives import CONSTRAINTS
from fdnmoo.scenarios.batch import stage_load

HERE = Path(__file__).resolve().parent
CASES = {"case1": HERE / "s002_case1.yaml", "case2": HERE / "s002_case2.yaml"}
SWEEP = HERE / "s002_penetration.yaml"
#: The reduced variant: a few evaluations per run, the sweep's two ends.
FAST_SETTINGS = ("algorithm.pop_size=8", "algorithm.n_gen=3")
FAST_SWEEP = {"problems": ("xi-00", "xi-25"), "n_eval": 24, "pop_size": 8}

#: What seed 002 reports in its text (facts; the sentences are ours), by section.
PAPER = {
    "schedule_case1": "Case I builds two new substations, at nodes 23 and 24, both in stage 2, "
                      "each with a new transformer; its stage-2 investment is its largest "
                      "(Sec. 3.4, Table 8).",
    "schedule_case2": "Case II builds the substation and a transformer at node 23 in stage 1 "
                      "and DG at nodes 3, 4 and 7 in stage 1; its stage-1 investment is its "
                      "largest (Sec. 3.4).",
    "capacity": "Without DG more feeder and transformer capacity is installed than with DG "
                "(Sec. 3.2, Fig. 2).",
    "dg_sites": "More DG goes to zone C, where its wind speeds are highest; conventional units "
                "go mostly to load nodes outside zone C (Sec. 3.2).",
    "costs": "Case II has higher investment and maintenance costs than Case I but lower energy "
             "production and loss costs; its total cost is 7.55 % below Case I's (Sec. 3.4, "
             "Table 8).",
    "sweep": "The total cost falls markedly as the wind penetration level rises from 0 to 25 % "
             "(Sec. 3.5, Fig. 3).",
}
PAPER_COST_DIFFERENCE = -0.0755  # (Case II - Case I) / Case I, seed 002 Sec. 3.4
#: Seed 002's Case II DG in stage 1 (Sec. 3.4): nodes 3, 4 and 7. md24's candidates there:
#: conventional at 3 and 7, wind at 4; sizes are not in the text: the smallest alternative.
PAPER_DG = (("conventional", 3), ("wind", 4), ("conventional", 7))


# --- running ---------------------------------------------------------------------------------
def run_cases(out: Path, fast: bool = False, progress: bool = False) -> dict[str, Path]:
    """Run (or read back) both cases; folder per case."""
    settings = FAST_SETTINGS if fast else ()
    return {name: run_experiment(load_spec(path, settings=settings), out_dir=out / name,
                                 progress=progress) for name, path in CASES.items()}


def sweep_spec(out: Path, fast: bool = False):
    """The penetration sweep's compare spec (the reduced one with ``fast``)."""
    data = yaml.safe_load(SWEEP.read_text())
    if fast:
        data = copy.deepcopy(data)
        data["problems"] = [p for p in data["problems"] if p["name"] in FAST_SWEEP["problems"]]
        data["budget"] = {"n_eval": FAST_SWEEP["n_eval"]}
        for entry in data["algorithms"]:
            entry["algorithm"]["pop_size"] = FAST_SWEEP["pop_size"]
    return parse_compare_spec(data, source=str(SWEEP), base_dir=SWEEP.parent,
                              output=out / "penetration")


# --- reading a run ---------------------------------------------------------------------------
def best_solution(folder: Path) -> dict:
    """The lowest-cost feasible solution of a run folder (the lowest of all if none is)."""
    pareto = pd.read_csv(folder / "pareto.csv")
    cost = next(c for c in pareto.columns if c.startswith("total_cost"))
    pool = pareto[pareto.feasible] if pareto.feasible.any() else pareto
    row = pool.loc[pool[cost].idxmin()]
    k = int(row.solution)
    genomes = pd.read_csv(folder / "pareto_genomes.csv")
    x = genomes.loc[genomes.solution == k].drop(columns="solution").to_numpy()[0]
    costs = pd.read_csv(folder / "plans" / f"solution_{k}_costs.csv", index_col=0)
    costs.columns = [c.split(" [")[0] for c in costs.columns]
    return {"solution": k, "total": float(row[cost]), "feasible": bool(row.feasible),
            "x": x, "costs": costs}


_PROBLEMS: dict = {}


def problem_of(spec):
    """The problem of a run spec, built once per spec (its ``run_hash``)."""
    if spec.run_hash not in _PROBLEMS:
        _PROBLEMS[spec.run_hash] = spec.build_problem(spec.problem_config())
    return _PROBLEMS[spec.run_hash]


def schedule(problem, x) -> pd.DataFrame:
    """Substations and transformers built, one row each: stage, bus, new or existing
    substation, transformer type and MVA."""
    case = problem.grid.case
    plan = problem.decode(x)
    types = case.candidates["transformer_types"].set_index("type")
    status = case.candidates["substations"].set_index("bus").status
    rows = [{"stage": int(s["stage"]), "bus": int(s["bus"]),
             "substation": "new" if status.get(int(s["bus"])) == "candidate" else "existing",
             "transformer_type": int(s["type"]),
             "transformer_mva": float(types.capacity_mva.get(int(s["type"]), np.nan))}
            for s in plan.substations]
    return pd.DataFrame(rows, columns=["stage", "bus", "substation", "transformer_type",
                                       "transformer_mva"]).sort_values(["stage", "bus"])


def dg_units(problem, x) -> pd.DataFrame:
    """DG units built: stage, bus, wind zone, technology, MVA."""
    case, plan = problem.grid.case, problem.decode(x)
    cap = plan.der.get("dg")
    cols = ["stage", "bus", "zone", "technology", "mva"]
    if cap is None:
        return pd.DataFrame(columns=cols)
    table = case.candidates["dg"]
    zone = problem.grid.net.bus.zone
    rows = []
    for i in np.flatnonzero(cap[-1] > 0):
        bus = int(table.bus.iloc[i])
        rows.append({"stage": int(np.argmax(cap[:, i] > 0)) + 1, "bus": bus,
                     "zone": str(zone.get(bus, "")), "technology": table.technology.iloc[i],
                     "mva": float(cap[-1, i])})
    return pd.DataFrame(rows, columns=cols).sort_values(["stage", "bus"])


def lines_built(problem, x) -> dict:
    """Lines built or replaced over the horizon: count and km."""
    plan = problem.decode(x)
    lines = problem.grid.candidate_lines
    km = lines.length_km.reindex(plan.new_lines["line"]).to_numpy(float)
    return {"lines": int(len(km)), "km": float(np.sum(km))}


def with_paper_dg(case1_x: np.ndarray, problem2) -> np.ndarray:
    """Case II genome of Case I's plan plus :data:`PAPER_DG` (alternative 1, stage 1).

    The DG block follows Case I's two blocks in Case II's genome
    (``[alt_0, stage_0, alt_1, stage_1, ...]`` per ``candidates.dg`` row)."""
    table = problem2.grid.case.candidates["dg"]
    dg = np.zeros(2 * len(table), dtype=np.int64)
    dg[1::2] = 1
    for tech, bus in PAPER_DG:
        row = np.flatnonzero((table.bus.to_numpy() == bus) & (table.technology == tech))[0]
        dg[2 * row] = 1
    x = np.concatenate([np.asarray(case1_x, dtype=np.int64), dg])
    if len(x) != problem2.n_var:
        raise ValueError(f"Case I's genome ({len(case1_x)}) + DG ({len(dg)}) is not Case II's "
                         f"({problem2.n_var})")
    return x


def paper_dg_effect(case1_x: np.ndarray) -> dict:
    """Case I's best plan without and with the paper's Case II DG, both priced by Case II's
    problem: total costs (with the demand's purchase) and the relative difference."""
    problem2 = problem_of(load_spec(CASES["case2"]))
    x_dg = with_paper_dg(case1_x, problem2)
    x_none = x_dg.copy()
    x_none[len(case1_x)::2] = 0
    F, G = problem2.evaluate_genomes(np.stack([x_none, x_dg]))
    total = F[:, 0] + demand_purchase(problem2).sum()
    return {"without": float(total[0]), "with": float(total[1]),
            "difference": float((total[1] - total[0]) / total[0]),
            "feasible": bool((G <= 0).all(axis=1)[1])}


def substation_loading(problem, x) -> float:
    """Largest substation loading over stages, in % of its transformers' rating (the
    ``substation_capacity`` constraint at 100 %, seed 002's eq. (9), which the specs report
    and do not impose)."""
    ev = problem.evaluated(np.asarray(x)[None])[0]
    return 100.0 * (1.0 + CONSTRAINTS["substation_capacity"](ev))


def demand_purchase(problem) -> np.ndarray:
    """Present value per stage of buying the whole demand at the load levels' prices.

    Seed 002's energy production cost (its eq. (4)) prices all energy the substations
    deliver; our total prices only the losses and the grid energy DG displaces, so this
    amount (the same for every plan that serves the load) is added to compare relative
    cost differences. Same discount factors as the operating terms (form perpetuity: the
    last stage's also for ever)."""
    case, grid = problem.grid.case, problem.grid
    n = problem.genome.n_stages
    levels = case.candidates["load_levels"]
    p_mw, _ = stage_load(case, n, grid.net)
    weight = np.sum(levels.load_factor * levels.duration_h * levels.energy_price_per_mwh)
    model = cost_model(grid, n)
    factor = model.annuity_in_stage.copy()
    if model.form == "perpetuity":
        factor[-1] += model.operation_tail
    return p_mw.sum(axis=1) * weight * factor


# --- the report --------------------------------------------------------------------------------
def summarise(out: Path, case_folders: dict[str, Path], grid_spec) -> dict:
    """Everything the report shows, as tables and numbers."""
    cases = {}
    for name, folder in case_folders.items():
        problem = problem_of(load_spec(CASES[name]))
        best = best_solution(folder)
        purchase = demand_purchase(problem)
        cases[name] = {**best, "schedule": schedule(problem, best["x"]),
                       "dg": dg_units(problem, best["x"]), "lines": lines_built(problem, best["x"]),
                       "loading_percent": substation_loading(problem, best["x"]),
                       "purchase": purchase, "with_purchase": best["total"] + purchase.sum()}
    a, b = cases["case1"], cases["case2"]
    diff = {"ours": (b["total"] - a["total"]) / abs(a["total"]),
            "ours_with_purchase": (b["with_purchase"] - a["with_purchase"]) / a["with_purchase"],
            "paper": PAPER_COST_DIFFERENCE}
    rows, missing = [], []
    for cell in grid_spec.cells:
        if not (cell.folder / "pareto.csv").is_file():  # not run (yet)
            missing.append(cell.problem)
            continue
        best = best_solution(cell.folder)
        share = dict(cell.spec.problem.constraints[-1])["dg_penetration"]["max_share"]
        problem = problem_of(cell.spec)
        dg = dg_units(problem, best["x"])
        rows.append({"max_share": share, "seed": cell.seed, "total_cost": best["total"],
                     "with_purchase": best["total"] + demand_purchase(problem).sum(),
                     "feasible": best["feasible"], "dg_mva": float(dg.mva.sum())})
    sweep = pd.DataFrame(rows).groupby("max_share", as_index=False).agg(
        total_cost=("total_cost", "min"), with_purchase=("with_purchase", "min"),
        dg_mva=("dg_mva", "first"), feasible=("feasible", "all"), seeds=("seed", "count"))
    return {"cases": cases, "difference": diff, "sweep": sweep, "missing": missing,
            "paper_dg": paper_dg_effect(a["x"])}


def _md(frame: pd.DataFrame, floatfmt: str = ",.0f") -> str:
    """A Markdown table, floats formatted with ``floatfmt``."""
    if not len(frame):
        return "(none)"
    shown = frame.copy()
    for col in shown.columns:
        if pd.api.types.is_float_dtype(shown[col]):
            shown[col] = [format(v, floatfmt) for v in shown[col]]
    return markdown_table(shown).rstrip("\n")


def write_report(out: Path, summary: dict, fast: bool = False) -> Path:
    """``report.md`` and ``penetration.png`` of a :func:`summarise` result."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases, diff, sweep = summary["cases"], summary["difference"], summary["sweep"]
    pdg = summary["paper_dg"]
    shown = sweep.assign(max_share=[f"{v:.0%}" for v in sweep.max_share],
                         dg_mva=[f"{v:.2f}" for v in sweep.dg_mva])
    money = "USD"
    text = ["# Seed 002 on md24: multi-stage expansion with DG, side by side", "",
            "Paper: Q. Wang, M. Jing, Front. Energy Res. 10:902891 (2022). Its tables and "
            "figures did not survive extraction; the paper's column gives what its text says "
            "(our sentences). Ours: md24 (Muñoz-Delgado et al.'s data, USD), 3 one-year "
            "stages, objective form `perpetuity` (the paper's eq. (1)) at rate 0.05, NSGA-II "
            "on total cost; see experiments/README.md for the differences.", ""]
    if fast:
        text += ["**Reduced variant** (a few evaluations per run): the plans are far from "
                 "optimal; the figures only show that the study runs.", ""]
    for name, title in (("case1", "Case I (no DG)"), ("case2", "Case II (DG)")):
        c = cases[name]
        text += [f"## {title}: substations and transformers built", "",
                 f"Paper: {PAPER['schedule_' + name]}", "",
                 "Ours (lowest-cost feasible plan" + ("" if c["feasible"] else
                                                     ", **none feasible: the lowest**") + "):",
                 "", _md(c["schedule"], ".1f"), "",
                 f"Lines built or replaced: {c['lines']['lines']} ({c['lines']['km']:.1f} km).",
                 ""]
    text += ["## Where the DG goes (Case II)", "", f"Paper: {PAPER['dg_sites']}", "",
             "Ours (md24's zones: A has the highest wind speeds, C the lowest):", "",
             _md(cases["case2"]["dg"], ".2f"), "",
             "## Installed capacity", "", f"Paper: {PAPER['capacity']}", "",
             "| case | new transformer MVA | lines built/replaced | km | largest substation "
             "loading |", "|---|---|---|---|---|"]
    for name in ("case1", "case2"):
        c = cases[name]
        text.append(f"| {name} | {c['schedule'].transformer_mva.sum():.1f} | "
                    f"{c['lines']['lines']} | {c['lines']['km']:.1f} | "
                    f"{c['loading_percent']:.0f} % |")
    text += ["", "md24's existing substations 21 and 22 cannot be reinforced in our case file, "
                 "so at most 7.5 + 7.5 + 15 + 15 = 45 MVA of transformers serve a stage-3 peak of "
                 "46.85 MVA: without DG the transformer limit (the paper's eq. (9)) cannot hold "
                 "in stage 3, and the specs report the loading instead of imposing it."]
    text += ["", f"## Costs ({money}, present values)", "", f"Paper: {PAPER['costs']}", ""]
    for name in ("case1", "case2"):
        text += [f"{name}:", "", _md(cases[name]["costs"].reset_index()), ""]
    text += ["| | Case I | Case II | (II - I) / I | paper |", "|---|---|---|---|---|",
             f"| our total | {cases['case1']['total']:,.0f} | {cases['case2']['total']:,.0f} | "
             f"{diff['ours']:+.2%} | |",
             f"| with the demand's purchase | {cases['case1']['with_purchase']:,.0f} | "
             f"{cases['case2']['with_purchase']:,.0f} | {diff['ours_with_purchase']:+.2%} | "
             f"{diff['paper']:+.2%} |", "",
             "Our total leaves out buying the demand from the grid (the same for every plan "
             "that serves it); the paper's energy production cost (its eq. (4)) includes it, "
             "so the relative difference is compared with it added.", "",
             "### The paper's DG on our Case I plan", "",
             "Case I's plan with the paper's stage-1 DG added (conventional 1 MVA at nodes 3 "
             "and 7, wind 0.91 MVA at node 4), priced by Case II's problem, with the demand's "
             "purchase:", "",
             "| without DG | with the paper's DG | difference | paper (Case II vs I) |",
             "|---|---|---|---|",
             f"| {pdg['without']:,.0f} | {pdg['with']:,.0f} | {pdg['difference']:+.2%} | "
             f"{diff['paper']:+.2%} |", "",
             "## Cost against the DG penetration cap", "", f"Paper: {PAPER['sweep']}", "",
             _md(shown), ""]
    if summary.get("missing"):
        text += [f"Not run (yet): {', '.join(summary['missing'])}.", ""]
    text += ["![cost against penetration](penetration.png)", ""]
    out.mkdir(parents=True, exist_ok=True)
    path = out / "report.md"
    path.write_text("\n".join(text) + "\n")
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(sweep.max_share * 100, sweep.with_purchase / 1e6, "o-")
    ax.set_xlabel("DG penetration cap [% of stage peak load]")
    ax.set_ylabel(f"total cost incl. demand purchase [M {money}]")
    ax.set_title("md24, Case II (seed 002, Fig. 3)")
    fig.tight_layout()
    fig.savefig(out / "penetration.png", dpi=120)
    plt.close(fig)
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="results/s002", help="results folder")
    parser.add_argument("--fast", action="store_true", help="the reduced variant (seconds)")
    parser.add_argument("--no-run", action="store_true",
                        help="report the finished runs only (both cases must be there)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    grid_spec = sweep_spec(out, fast=args.fast)
    if args.no_run:
        folders = {name: out / name for name in CASES}
    else:
        folders = run_cases(out, fast=args.fast, progress=not args.fast)
        run_grid(grid_spec, progress=not args.fast)
    path = write_report(out, summarise(out, folders, grid_spec), fast=args.fast)
    print(f"report in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
