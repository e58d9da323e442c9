"""Bounds of |V|, line currents and losses of fixed plans: affine vs interval vs Monte Carlo.

For every case of a :class:`~fdnmoo.experiment.bounds_spec.BoundsStudySpec`,
the plan's topology (the base one unless ``plans`` names the closed lines) is
solved by :func:`fdnmoo.uncertainty.power_flow.uncertain_power_flow` with
every bus's forecast demand its own source at ``+-level`` (one noise symbol
per bus, P and Q on the same symbol: constant power factor), in affine and in
interval arithmetic, all slots at once. Monte Carlo solves ``samples`` demands
drawn uniformly from the same box, plus its two extreme vertices (every load
at ``-level``, every load at ``+level``), with the batch engine; the same
draws of ``eps`` in ``[-1, 1]`` serve every level and slot of a case (common
random numbers, seeded from ``seed`` and the case's position). Its "bounds"
are the sampled range.

Outputs (:func:`write_bounds_study`): ``widths.csv`` (tidy: one row per case,
slot, level, method, quantity and element), ``widths_summary.csv``,
``report.md`` and ``bounds_<case>.png`` (:mod:`.bounds_plots`). Only supplied
buses and closed lines are reported (md24's future buses have no voltage in
its base topology).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from .bounds_spec import BoundsStudySpec, SpecError

__all__ = ["INSIDE_TOL", "engine_and_demand", "run_bounds_study", "study_case", "summarise",
           "write_bounds_study"]

logger = logging.getLogger(__name__)

#: Slack of the enclosure check of a Monte Carlo sample (the engine solves to 1e-8 p.u.).
INSIDE_TOL = 1e-10
_WIDTH_COLUMNS = ["case", "slot", "level", "method", "quantity", "element", "lo", "hi", "width"]


def study_case(spec: BoundsStudySpec, case_name: str, seed=0, progress=None
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Bounds of one case at every level and method of ``spec``.

    Parameters
    ----------
    spec : BoundsStudySpec
    case_name : str
        One of ``spec.cases``.
    seed : int or numpy.random.Generator
        Of the Monte Carlo draws.
    progress : tqdm, optional
        Updated once per level.

    Returns
    -------
    widths : DataFrame
        The rows of ``widths.csv`` (columns ``case, slot, level, method, quantity,
        element, lo, hi, width``); ``quantity`` is ``vm_pu`` (element: bus label),
        ``i_ka`` (line label) or ``loss_mw`` (element ``total``).
    runs : DataFrame
        One row per level and method: ``iterations``, ``verified`` (affine and
        interval; see :class:`~fdnmoo.uncertainty.power_flow.UncertainPowerFlow`),
        ``inside_share`` (share of Monte Carlo samples whose every |V|, current
        and loss lies inside these bounds) and ``mc_diverged`` (samples that did
        not converge, left out).
    """
    from ..cases import load_case
    from ..uncertainty.power_flow import uncertain_demand, uncertain_power_flow

    case = load_case(case_name)
    pf, p, q, slots = engine_and_demand(spec, case)
    n = p.shape[1]
    name = case.name if getattr(case, "name", None) else str(case_name)
    bus_keep = pf.supplied
    line_keep = pf.closed[pf.branches.is_line]
    eps = None
    if "montecarlo" in spec.methods:
        eps = np.random.default_rng(seed).uniform(-1.0, 1.0, (spec.samples + 2, n))
        eps[-2:] = [[-1.0], [1.0]]  # the box's extreme vertices
    frames, runs = [], []
    for level in spec.levels:
        bounds = {}
        P, Q = uncertain_demand(p, q, level, np.arange(n), n)
        for method in ("affine", "interval"):
            if method in spec.methods:
                res = uncertain_power_flow(pf, P, Q, arithmetic=method)
                bounds[method] = (res.vm_lo_pu, res.vm_hi_pu, res.i_lo_ka, res.i_hi_ka,
                                  np.atleast_1d(res.loss_lo_mw), np.atleast_1d(res.loss_hi_mw))
                runs.append({"case": name, "level": level, "method": method,
                             "iterations": int(res.iterations), "verified": bool(res.verified)})
        if eps is not None:
            mc, shares, diverged = _monte_carlo(pf, p, q, level, eps, bounds)
            bounds["montecarlo"] = mc
            runs.append({"case": name, "level": level, "method": "montecarlo",
                         "iterations": np.nan, "verified": np.nan, "mc_diverged": diverged})
            for run in runs:
                if run["level"] == level and run["method"] in shares:
                    run["inside_share"] = shares[run["method"]]
        for method, b in bounds.items():
            frames.append(_tidy(name, slots, level, method, b, pf, bus_keep, line_keep))
        if progress is not None:
            progress.update(1)
    runs = pd.DataFrame(runs).reindex(columns=["case", "level", "method", "iterations", "verified",
                                               "inside_share", "mc_diverged"])
    return pd.concat(frames, ignore_index=True), runs


def engine_and_demand(spec: BoundsStudySpec, case) -> tuple:
    """The plan's engine and the forecast of the chosen slots.

    Returns
    -------
    pf : BatchPowerFlow
        On the planning grid of ``case`` with the plan's closed lines.
    p_mw, q_mvar : ndarray, shape (n_slots, n_bus)
        First-stage forecast net demand (+ = consumption) of the typical day's slots.
    slots : ndarray of int
        Their positions in the day (hours).

    Raises
    ------
    SpecError
        ``plans.<case>.closed_lines`` with unknown labels or a loop.
    """
    from ..planning import planning_grid
    from ..powerflow import BatchPowerFlow
    from ..scenarios import ScenarioBatch

    grid = planning_grid(case)
    closed = spec.closed_lines.get(_case_key(spec, case))
    key = f"plans.{case.name}.closed_lines"
    if closed is not None:
        unknown = sorted(set(closed) - set(grid.net.line.index))
        if unknown:
            labels = grid.net.line.index
            raise SpecError(spec.source, key, f"unknown net.line labels {unknown} (the labels of "
                                              f"the case's lines and candidate lines run from "
                                              f"{labels.min()} to {labels.max()})")
    pf = BatchPowerFlow(grid.net, closed_lines=grid.base_closed_lines if closed is None else closed)
    try:
        pf.structure
    except ValueError as exc:  # a loop, or two substations joined
        raise SpecError(spec.source, key, str(exc)) from None
    batch = ScenarioBatch.build(grid, 1, profile="daily", days=1, n_samples=1)
    p = batch.load_p_mw[0, :, 0] + batch.fixed_p_mw
    q = batch.load_q_mvar[0, :, 0] + batch.fixed_q_mvar
    slots = np.arange(p.shape[0]) if spec.slots == "daily" else np.array([batch.peak_slot])
    return pf, p[slots], q[slots], slots


def _case_key(spec: BoundsStudySpec, case) -> str:
    for key in spec.closed_lines:
        if key == case.name or Path(key).stem == case.name:
            return key
    return ""


def _monte_carlo(pf, p, q, level, eps, bounds):
    """Sampled range per slot, and the share of samples inside each method's bounds."""
    f = 1.0 + level * eps
    inside = {m: np.ones(eps.shape[0], bool) for m in bounds}
    ok = np.ones(eps.shape[0], bool)
    out = [[] for _ in range(6)]
    for t in range(p.shape[0]):
        res = pf.run(p[t] * f, q[t] * f)
        ok &= res.converged
        vm, ika, loss = res.vm_pu, res.i_ka, res.loss_mw[:, None]
        for m, (vlo, vhi, ilo, ihi, llo, lhi) in bounds.items():
            inside[m] &= (_within(vm, vlo[t], vhi[t]) & _within(ika, ilo[t], ihi[t])
                          & _within(loss, llo[t], lhi[t]))
        good = res.converged
        for k, x in enumerate((vm, ika, loss[:, 0])):
            nan = np.full(x.shape[1:], np.nan)
            out[2 * k].append(np.min(x[good], axis=0) if good.any() else nan)
            out[2 * k + 1].append(np.max(x[good], axis=0) if good.any() else nan)
    shares = {m: float(np.mean(inside[m][ok])) if ok.any() else np.nan for m in inside}
    diverged = int((~ok).sum())
    if diverged:
        logger.warning("%d of %d Monte Carlo samples did not converge at +-%g; left out",
                       diverged, ok.size, level)
    return tuple(np.array(x) for x in out), shares, diverged


def _within(x, lo, hi) -> np.ndarray:
    """Per sample: every finite value of ``x`` inside ``[lo, hi]`` (NaN: unsupplied, skipped)."""
    good = np.isnan(x) | ((x >= lo - INSIDE_TOL) & (x <= hi + INSIDE_TOL))
    return good.all(axis=1)


def _tidy(case, slots, level, method, b, pf, bus_keep, line_keep) -> pd.DataFrame:
    vlo, vhi, ilo, ihi, llo, lhi = b
    buses = pf.branches.bus_labels[bus_keep]
    lines = pf.net.line.index.to_numpy()[line_keep]
    parts = []
    for t, slot in enumerate(slots):
        for quantity, elements, lo, hi in (
                ("vm_pu", buses, vlo[t][bus_keep], vhi[t][bus_keep]),
                ("i_ka", lines, ilo[t][line_keep], ihi[t][line_keep]),
                ("loss_mw", np.array(["total"]), llo[t:t + 1], lhi[t:t + 1])):
            parts.append(pd.DataFrame({"case": case, "slot": int(slot), "level": level,
                                       "method": method, "quantity": quantity,
                                       "element": elements.astype(str), "lo": lo, "hi": hi}))
    df = pd.concat(parts, ignore_index=True)
    df["width"] = df["hi"] - df["lo"]
    return df[_WIDTH_COLUMNS]


def summarise(widths: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """The width table: one row per case, level and method (over all slots).

    Columns: ``vm_width_max_pu``, ``vm_width_mean_pu`` (over buses and slots),
    ``i_width_max_ka``, ``loss_width_max_mw``, ``vm_width_over_mc`` (the largest
    |V| width over that of the Monte Carlo range, when sampled), ``aa_over_ia``
    (the affine row's largest |V| width over the interval row's; on the affine
    row) and the columns of ``runs`` (iterations, verified, inside_share,
    mc_diverged).
    """
    keys = ["case", "level", "method"]

    def stat(quantity, how, name):
        w = widths[widths.quantity == quantity].groupby(keys, sort=False)["width"]
        return getattr(w, how)().rename(name)

    table = pd.concat([stat("vm_pu", "max", "vm_width_max_pu"),
                       stat("vm_pu", "mean", "vm_width_mean_pu"),
                       stat("i_ka", "max", "i_width_max_ka"),
                       stat("loss_mw", "max", "loss_width_max_mw")], axis=1).reset_index()
    vmax = table.set_index(keys)["vm_width_max_pu"]

    def ratio(row, other):
        key = (row["case"], row["level"], other)
        return row["vm_width_max_pu"] / vmax[key] if key in vmax.index else np.nan

    table["vm_width_over_mc"] = table.apply(ratio, axis=1, other="montecarlo")
    table["aa_over_ia"] = [ratio(r, "interval") if r["method"] == "affine" else np.nan
                           for _, r in table.iterrows()]
    order = {m: i for i, m in enumerate(("affine", "interval", "montecarlo"))}
    table = table.merge(runs, on=keys, how="left")
    table["_case"] = table["case"].map({c: i for i, c in enumerate(dict.fromkeys(widths["case"]))})
    table["_order"] = table["method"].map(order)
    return table.sort_values(["_case", "level", "_order"], kind="stable") \
        .drop(columns=["_case", "_order"]).reset_index(drop=True)


def write_bounds_study(spec: BoundsStudySpec, widths: pd.DataFrame, summary: pd.DataFrame,
                       out_dir: str | Path) -> Path:
    """Write ``widths.csv``, ``widths_summary.csv``, ``report.md`` and one PNG per case."""
    from .bounds_plots import plot_bounds
    from .bounds_report import report_markdown

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    widths.to_csv(out / "widths.csv", index=False)
    summary.to_csv(out / "widths_summary.csv", index=False)
    (out / "report.md").write_text(report_markdown(spec, summary))
    for case in widths["case"].unique():
        plot_bounds(widths[widths.case == case], out / f"bounds_{case}.png")
    return out


def run_bounds_study(spec: BoundsStudySpec, out_dir: str | Path | None = None,
                     progress: bool = True) -> Path:
    """Run every case of ``spec`` and write the results folder; returns its path."""
    from tqdm.auto import tqdm

    seeds = np.random.SeedSequence(spec.seed).spawn(len(spec.cases))
    frames, runs = [], []
    with tqdm(total=len(spec.cases) * len(spec.levels), disable=not progress,
              unit="level", desc="bounds") as bar:
        for case, seq in zip(spec.cases, seeds):
            logger.info("bounds of %s at +-%s", case, ", ".join(f"{v:g}" for v in spec.levels))
            w, r = study_case(spec, case, seed=np.random.default_rng(seq), progress=bar)
            frames.append(w)
            runs.append(r)
    widths = pd.concat(frames, ignore_index=True)
    summary = summarise(widths, pd.concat(runs, ignore_index=True))
    out = spec.output_dir() if out_dir is None else out_dir
    return write_bounds_study(spec, widths, summary, out)
