"""Planning schemes compared, beside a paper's scheme table (``study: schemes``).

Every run of the spec (:mod:`fdnmoo.experiment.runs_study_spec`) is one scheme on one
system; the study runs each into ``runs/<label>/`` and writes:

``schemes.csv``
    One row per run: ``system``, ``scheme``, the chosen solution's ``total_cost`` and cost
    terms, ``pv_mw``, ``ess_mw``, ``ess_mwh``, ``lines_built``, violation and unserved
    energy (:func:`~fdnmoo.experiment.study_runs.chosen_solution`), run wall time;
    ``cost_vs_scheme_1_percent`` (against the same system's scheme 1) beside
    ``published_vs_scheme_1_percent`` (the published file's
    ``comprehensive_cost_vs_scheme_1_percent``), and each scheme's ``cost_rank``
    (1 = cheapest) beside ``published_rank`` (from ``cost_order``).
``report.md``
    The table, the cost order per system against the paper's, and its notes.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from .runs_study_spec import RunsStudySpec
from .study_runs import COST_TERMS, chosen_solution, run_folder, run_study_spec

__all__ = ["run_scheme_study", "scheme_table"]

logger = logging.getLogger(__name__)


def scheme_table(rows: list[dict], published: dict) -> pd.DataFrame:
    """The ``schemes.csv`` table from one :func:`chosen_solution` dict per run.

    Parameters
    ----------
    rows : list of dict
        Each with ``run``, ``system``, ``scheme`` and the chosen solution's figures.
    published : dict
        The published file's content (may be empty).
    """
    table = pd.DataFrame(rows)
    paper = published.get("comprehensive_cost_vs_scheme_1_percent", {})
    order = list(published.get("cost_order", []))
    base = table[table.scheme == 1].set_index("system")["total_cost"]
    table["cost_vs_scheme_1_percent"] = [
        100.0 * (c / base[s] - 1.0) if s in base.index else np.nan
        for s, c in zip(table.system, table.total_cost)]
    table["published_vs_scheme_1_percent"] = [
        0.0 if k == 1 else float(paper.get(s, {}).get(k, np.nan))
        for s, k in zip(table.system, table.scheme)]
    table["cost_rank"] = table.groupby("system")["total_cost"].rank(method="min").astype(int)
    table["published_rank"] = [order.index(k) + 1 if k in order else np.nan for k in table.scheme]
    return table


def run_scheme_study(spec: RunsStudySpec, out_dir: str | Path | None = None,
                     progress: bool = False) -> Path:
    """Run a ``schemes`` study and write its folder (module docstring)."""
    from .study_report import scheme_report

    out = Path(out_dir) if out_dir is not None else spec.output_dir()
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for run in spec.runs:
        folder = run_folder(out, run.label)
        logger.info("running %s", run.label)
        run_study_spec(run.spec, spec.settings, folder, progress=progress)
        sol = chosen_solution(folder)
        scen = sol.pop("scenarios") or {}
        rows.append({"run": run.label, "system": run.system, "scheme": run.scheme,
                     "total_cost": sol["total_cost"], **{t: sol.get(t, np.nan) for t in COST_TERMS},
                     "pv_mw": sol["pv_mw"], "ess_mw": sol["ess_mw"], "ess_mwh": sol["ess_mwh"],
                     "lines_built": sol["lines_built"],
                     "violation_energy_mwh": sol["violation_energy_mwh"],
                     "unserved_energy_mwh": sol["unserved_energy_mwh"],
                     "vm_min_pu": sol["vm_min_pu"], "vm_max_pu": sol["vm_max_pu"],
                     "typical_days": scen.get("k"), "run_wall_time_s": sol["wall_time_s"],
                     "n_evals": sol["n_evals"], "folder": str(folder)})
    published = spec.published_figures()
    table = scheme_table(rows, published)
    table.to_csv(out / "schemes.csv", index=False)
    (out / "report.md").write_text(scheme_report(spec, table, published))
    return out
