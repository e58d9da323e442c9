"""Run the run specs of a study and read back what their chosen solutions planned and cost.

:func:`run_study_spec` runs one :class:`~fdnmoo.experiment.runs_study_spec.StudyRun`
(``fdnmoo run`` semantics: checkpoints, a killed study resumes) into its own folder;
:func:`chosen_solution` reads a finished results folder: the chosen solution's
objectives, cost breakdown (``plans/solution_<k>_costs.csv``, summed over stages),
planned sizes (``plans/solution_<k>.csv``, final stage), the run's wall time and what its
fitted scenario model did (``run.json`` ``scenarios``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .case_tables import plan_size
from .results import GENOMES_FILE, read_pareto_genomes
from .runner import run_experiment
from .spec import load_spec

__all__ = ["COST_TERMS", "chosen_genome", "chosen_solution", "run_folder", "run_study_spec"]

#: Cost columns of a plan's breakdown the study tables carry (besides ``total_cost``).
COST_TERMS = ("investment", "om", "energy_loss", "voltage_penalty", "overload_penalty",
              "unserved_penalty", "curtailment_penalty")  # the last with operation.curtailment only

def run_folder(out_dir: str | Path, label: str) -> Path:
    """The results folder of run ``label`` inside a study folder (``runs/<slug>``)."""
    return Path(out_dir) / "runs" / re.sub(r"[^A-Za-z0-9_.-]+", "_", label).strip("_")


def run_study_spec(path: str | Path, settings: tuple[str, ...], out: str | Path,
                   progress: bool = False) -> Path:
    """Run the run spec at ``path`` with ``settings`` (``--set`` changes) into ``out``."""
    return run_experiment(load_spec(path, settings=settings), out_dir=out, progress=progress)


def chosen_genome(folder: str | Path) -> np.ndarray:
    """The decision vector of a finished run's chosen solution, shape (1, n_var)."""
    folder = Path(folder)
    chosen = int(json.loads((folder / "run.json").read_text())["chosen_solution"])
    solutions, X = read_pareto_genomes(folder)
    if not (solutions == chosen).any():
        raise ValueError(f"{folder}: the chosen solution {chosen} is not in {GENOMES_FILE}")
    return X[solutions == chosen][:1].astype(float)


def chosen_solution(folder: str | Path) -> dict:
    """Figures of the chosen solution of a finished run (module docstring).

    Returns
    -------
    dict
        ``total_cost`` and every cost column (``investment``, ``om``, ``energy_loss``,
        ``voltage_penalty``, ...) in the case currency, summed over stages; ``pv_mw``,
        ``ess_mw``, ``ess_mwh`` (final stage, from the plan and the case's
        ``max_mwh / max_mw`` per ESS bus, recorded in the plan as ``ess``), ``lines_built``;
        ``violation_energy_mwh``, ``unserved_energy_mwh``, ``vm_min_pu``, ``vm_max_pu``
        (worst stage); ``wall_time_s``, ``n_evals``; ``scenarios`` (``run.json``).
    """
    folder = Path(folder)
    meta = json.loads((folder / "run.json").read_text())
    k = int(meta["chosen_solution"])
    costs = pd.read_csv(folder / "plans" / f"solution_{k}_costs.csv")
    out = {re.sub(r"\s*\[.*\]$", "", c): float(costs[c].sum()) for c in costs if c != "stage"}
    out["total_cost"] = out.pop("total")
    plan = pd.read_csv(folder / "plans" / f"solution_{k}.csv")
    final = plan[plan.stage == plan.stage.max()]
    for item, key in (("pv", "pv_mw"), ("ess", "ess_mw")):
        out[key] = float(sum(plan_size(s) for s in final["size"][final["item"] == item]))
    ess = final[final["item"] == "ess"]
    out["ess_mwh"] = float(sum(plan_size(s) * _ess_hours(meta, w) for s, w in zip(ess["size"], ess["where"])))
    out["lines_built"] = int((final["item"] == "built lines").sum())
    viol = pd.read_csv(folder / "plans" / f"solution_{k}_violations.csv")
    out.update(violation_energy_mwh=float(viol.violation_energy_mwh.sum()),
               unserved_energy_mwh=float(viol.unserved_energy_mwh.sum()),
               vm_min_pu=float(viol.vm_min_pu.min()), vm_max_pu=float(viol.vm_max_pu.max()),
               wall_time_s=float(meta["wall_time_s"]), n_evals=int(meta["n_evals"]),
               scenarios=meta.get("scenarios"))
    return out


def _ess_hours(meta: dict, where: str) -> float:
    """``max_mwh / max_mw`` of the case's ESS candidate at ``where`` (``"bus 18"``)."""
    from ..cases import load_case

    case = load_case(meta["composition"]["case"])
    ess = case.candidates["ess"].set_index("bus")
    bus = int(str(where).split()[-1])
    return float(ess.max_mwh[bus] / ess.max_mw[bus])

