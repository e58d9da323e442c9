"""Widths of the objectives of fixed plans under uncertainty: affine vs interval vs Monte Carlo.

The AA joint-planning paper (S. Wang et al. 2022, Fig. 9) compares, at +-10 %,
the objective intervals of its Pareto solutions obtained by affine arithmetic
(AA), interval arithmetic (IA) and Monte Carlo simulation (MCS): AA is narrower
than IA and holds the MCS range. :func:`objective_widths` does the same for any
planning problem and any genomes:

* ``affine`` / ``interval``: the problem built with ``uncertainty: {method, level}``
  evaluates the genomes; every objective's ``[lo, hi]`` is its interval
  (:mod:`fdnmoo.interval_objectives`; a number where the objective does not
  depend on the uncertain sources: width 0);
* ``montecarlo``: the range (min, max) of the objective values of ``samples``
  points of the same box, each evaluated by the deterministic path
  (:func:`fdnmoo.pipeline.operate` and the plain objectives): every load bus at
  ``1 + level_load u_b`` and every PV candidate's output at ``1 + level_pv u_c``
  of its forecast, in every slot and stage (``u`` uniform in ``[-1, 1]``, plus
  the two extreme vertices and the two mixed ones: all loads up and PV down, and
  the reverse). The objectives of :data:`CAPACITY_OBJECTIVES`, whose affine form
  treats the PV *capacity* as uncertain, read the capacities scaled by the same
  ``1 + level_pv u_c``; the others read the plan's own (certain) capacities, as
  the affine total cost does (certain investment).

Every point is one operating state of the box, so it must lie in the AA and IA
intervals: ``inside_affine`` says whether it does (up to :data:`INSIDE_RTOL`).
One difference is modelling, not arithmetic: the uncertain stage holds SVC
outputs and SOP set-points at their forecast dispatch
(:mod:`fdnmoo.uncertain_pass`), while the deterministic path dispatches them
for each point; with SVC or SOPs in the plans a point may leave the interval
(reported, not hidden).

:func:`summarise_widths` tabulates the width per objective and method.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..objectives import Population
from ..pipeline import operate
from ..planning import PlanBatch
from ..problems.config import ProblemConfig
from ..uncertainty.settings import UncertaintySettings
from .checking import Checker
from .results import GENOMES_FILE, read_pareto_genomes
from .schema import section_keys

__all__ = ["CAPACITY_OBJECTIVES", "INSIDE_RTOL", "METHODS", "WIDTH_COLUMNS", "WidthSettings",
           "box_points", "objective_widths", "sampled_objectives", "summarise_widths",
           "write_widths"]

#: The methods compared, in table order.
METHODS = ("affine", "interval", "montecarlo")
#: Objectives whose affine form makes the PV capacity itself uncertain
#: (:func:`fdnmoo.interval_objectives.spread_interval`).
CAPACITY_OBJECTIVES = ("pv_uneven_degree",)
#: Relative slack of the enclosure check (the power flows solve to 1e-8 p.u.).
INSIDE_RTOL = 1e-9
WIDTH_COLUMNS = ["plan", "objective", "method", "lo", "hi", "width", "forecast", "undefined",
                 "inside_affine"]


def box_points(n_load: int, n_pv: int, n_random: int, rng: np.random.Generator) -> np.ndarray:
    """``n_random`` uniform points of ``[-1, 1]^(n_load + n_pv)``, then the vertices all +1,
    all -1, loads +1 with PV -1, and loads -1 with PV +1; shape (n_random + 4, n_load + n_pv)."""
    u = rng.uniform(-1.0, 1.0, (n_random, n_load + n_pv))
    ones = np.ones(n_load + n_pv)
    mixed = np.r_[np.ones(n_load), -np.ones(n_pv)]
    return np.vstack([u, ones, -ones, mixed, -mixed])


def _with_method(config: ProblemConfig, method: str, level) -> ProblemConfig:
    block = {"method": "deterministic"} if method == "montecarlo" else \
        {"method": method, "level": level}
    return replace(config, uncertainty=block)


def _own_sign(problem, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimised ends back to the objectives' own sign (a maximised objective is negated)."""
    maximised = np.array([o.sense == "max" for o in problem.objectives])
    return np.where(maximised, -hi, lo), np.where(maximised, -lo, hi)


def sampled_objectives(problem, x: np.ndarray, points: np.ndarray, load_level: float,
                       pv_level: float) -> np.ndarray:
    """Objective values (own sign) of genome ``x`` at every point of ``points`` (module
    docstring), by the deterministic path of ``problem``; shape (n_points, n_obj), NaN where
    a power flow diverged.

    Parameters
    ----------
    problem : PlanningProblem
        Built with ``uncertainty: {method: deterministic}`` (one sample, the forecast).
    x : ndarray
        One genome.
    points : ndarray, shape (n_points, n_bus + n_pv)
        ``u`` of every load bus (``problem.batch`` bus order) then every PV candidate.
    load_level, pv_level : float
        Half-widths of the box.
    """
    grid, b = problem.grid, problem.batch
    plan = problem.decode(x)
    plans = PlanBatch.of(grid, [plan])
    n_bus = b.n_bus
    pv = plan.der.get("pv")
    capacity = [i for i, o in enumerate(problem.objectives) if o.name in CAPACITY_OBJECTIVES]
    options = dict(problem.config.options)
    out = np.full((len(points), len(problem.objectives)), np.nan)
    for k, u in enumerate(points):
        f_load = 1.0 + load_level * u[:n_bus]
        f_pv = 1.0 + pv_level * u[n_bus:]
        batch = replace(b, load_p_mw=b.load_p_mw * f_load, load_q_mvar=b.load_q_mvar * f_load,
                        pv_pu=b.pv_pu * f_pv)
        ops = operate(grid, plans, batch, problem.engine, operation=problem.config.operation)
        ev = Population(grid, plans, ops, options, topologies=problem.topologies).members()[0]
        out[k] = [float(o(ev)) for o in problem.objectives]
        if capacity and pv is not None:
            scaled = PlanBatch.of(grid, [replace(plan, der={**plan.der, "pv": pv * f_pv})])
            ev = Population(grid, scaled, ops, options, topologies=problem.topologies).members()[0]
            for i in capacity:
                out[k, i] = float(problem.objectives[i](ev))
    return out


def objective_widths(config: ProblemConfig, X: np.ndarray, level: float | Mapping = 0.1,
                     samples: int = 200, seed: int = 0,
                     methods: Sequence[str] = METHODS) -> pd.DataFrame:
    """Interval of every objective of every genome under each method (module docstring).

    Parameters
    ----------
    config : ProblemConfig
        The problem (its ``uncertainty`` is replaced per method).
    X : ndarray, shape (n_plans, n_var)
        Genomes of the config's genome.
    level : float or mapping
        ``uncertainty.level``: one half-width, or ``{"load": x, "pv": y}``.
    samples : int
        Uniform Monte Carlo points per plan (plus four vertices).
    seed : int
        Of the Monte Carlo points (the same points for every plan).
    methods : sequence of str
        Of :data:`METHODS`.

    Returns
    -------
    DataFrame
        Columns :data:`WIDTH_COLUMNS`, one row per plan, objective and method, values in
        the objectives' own sign: ``lo``, ``hi``, ``width = hi - lo``, ``forecast``
        (the deterministic value), ``undefined`` (Monte Carlo points whose power flow
        diverged, left out; NaN for the other methods), ``inside_affine`` (whether
        ``[lo, hi]`` lies in the affine interval; with ``affine`` among the methods).

    Raises
    ------
    ValueError
        An unknown method, or ``samples < 1``.
    """
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown method {unknown[0]!r}; methods are {', '.join(METHODS)}")
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    X = np.atleast_2d(np.asarray(X))
    deterministic = _with_method(config, "montecarlo", level).build()
    names = deterministic.objective_names
    F, _ = deterministic.evaluate_genomes(X)
    forecast, _ = _own_sign(deterministic, F, F)
    ends = {}
    for method in methods:
        if method == "montecarlo":
            continue
        p = _with_method(config, method, level).build()
        _, _, lo, hi = p.evaluate_genomes(X, bounds=True)
        ends[method] = (*_own_sign(p, lo, hi), np.full(lo.shape, np.nan))
    if "montecarlo" in methods:
        settings = UncertaintySettings.from_mapping({"method": "affine", "level": level})
        case = deterministic.grid.case
        load_level, pv_level = settings.level_of("load", case), settings.level_of("pv", case)
        n_pv = deterministic.batch.pv_pu.shape[-1]
        points = box_points(deterministic.batch.n_bus, n_pv, samples, np.random.default_rng(seed))
        values = np.stack([sampled_objectives(deterministic, x, points, load_level, pv_level)
                           for x in X])
        ends["montecarlo"] = (np.nanmin(values, axis=1), np.nanmax(values, axis=1),
                              np.isnan(values).sum(axis=1).astype(float))
    rows = []
    for method in methods:
        lo, hi, undefined = ends[method]
        for i in range(len(X)):
            for j, name in enumerate(names):
                inside = np.nan
                if "affine" in ends:
                    a_lo, a_hi = ends["affine"][0][i, j], ends["affine"][1][i, j]
                    slack = INSIDE_RTOL * max(abs(a_lo), abs(a_hi), 1e-9)
                    inside = bool(a_lo - slack <= lo[i, j] and hi[i, j] <= a_hi + slack)
                rows.append((i, name, method, lo[i, j], hi[i, j], hi[i, j] - lo[i, j],
                             forecast[i, j], undefined[i, j], inside))
    return pd.DataFrame(rows, columns=WIDTH_COLUMNS)


def summarise_widths(widths: pd.DataFrame) -> pd.DataFrame:
    """Width per objective and method over the plans of :func:`objective_widths`.

    Columns: ``objective``, ``method``, ``width_mean``, ``width_max``, ``over_interval``
    (mean over plans of the width divided by the interval method's, where that is > 0),
    ``inside_affine_share`` (share of plans whose interval lies in the affine one).
    """
    ia = widths[widths.method == "interval"].set_index(["plan", "objective"])["width"]
    keyed = widths.set_index(["plan", "objective"])
    ratio = keyed["width"] / ia.reindex(keyed.index).where(lambda w: w > 0)
    table = widths.assign(over_interval=ratio.to_numpy(),
                          inside=widths["inside_affine"].astype(float))
    out = table.groupby(["objective", "method"], sort=False).agg(
        width_mean=("width", "mean"), width_max=("width", "max"),
        over_interval=("over_interval", "mean"), inside_affine_share=("inside", "mean"))
    return out.reset_index()


@dataclass(frozen=True)
class WidthSettings:
    """The spec's ``widths:`` section: after the run, the Pareto solutions' objective
    widths under each method at each level (:func:`write_widths`).

    Parameters
    ----------
    levels : tuple of float
        Half-widths of the box, each > 0 (``uncertainty.level`` of each comparison).
    samples : int
        Monte Carlo points per plan (plus four vertices).
    methods : tuple of str
        Of :data:`METHODS`.
    seed : int
        Of the Monte Carlo points.
    """

    levels: tuple[float, ...] = (0.1,)
    samples: int = 200
    methods: tuple[str, ...] = METHODS
    seed: int = 0

    @classmethod
    def parse(cls, check: Checker, data: Any) -> "WidthSettings | None":
        """The ``widths:`` section (None when absent)."""
        if data is None:
            return None
        data = check.mapping(data, "widths", section_keys("widths"))
        levels = data.get("levels", [0.1])
        levels = levels if isinstance(levels, list) else [levels]
        if not levels:
            raise check.fail("widths.levels", "give at least one level")
        for k, level in enumerate(levels):
            level = check.typed(level, f"widths.levels[{k}]", float)
            if not 0 < level < 1:
                raise check.fail(f"widths.levels[{k}]", f"a level is a half-width in (0, 1), "
                                                        f"got {level}")
        methods = data.get("methods", list(METHODS))
        methods = methods if isinstance(methods, list) else [methods]
        for k, method in enumerate(methods):
            check.choice(method, f"widths.methods[{k}]", METHODS)
        return cls(
            levels=tuple(float(v) for v in levels),
            samples=check.integer(data.get("samples", 200), "widths.samples", minimum=1),
            methods=tuple(methods),
            seed=check.integer(data.get("seed", 0), "widths.seed", minimum=0))

    def as_dict(self) -> dict:
        return {"levels": list(self.levels), "samples": self.samples,
                "methods": list(self.methods), "seed": self.seed}


def write_widths(out_dir: str | Path, config: ProblemConfig, settings: WidthSettings,
                 progress: bool = False) -> dict[str, Path]:
    """Write ``widths.csv`` (:func:`objective_widths` of every Pareto genome of the
    results folder, with a ``level`` column and ``solution`` numbers) and
    ``widths_summary.csv`` (:func:`summarise_widths` per level).

    Raises
    ------
    FileNotFoundError
        The folder has no ``pareto_genomes.csv`` (not a finished run).
    """
    from tqdm.auto import tqdm

    out = Path(out_dir)
    path = out / GENOMES_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no Pareto genomes to compare widths of (is {out} "
                                f"the results folder of a finished run?)")
    solutions, X = read_pareto_genomes(out)
    tables, summaries = [], []
    for level in tqdm(settings.levels, desc="objective widths", unit="level",
                      disable=not progress):
        widths = objective_widths(config, X, level=level, samples=settings.samples,
                                  seed=settings.seed, methods=settings.methods)
        widths.insert(0, "level", level)
        widths.insert(1, "solution", solutions[widths.plan.to_numpy()])
        tables.append(widths.drop(columns="plan"))
        summary = summarise_widths(widths)
        summary.insert(0, "level", level)
        summaries.append(summary)
    written = {"widths": out / "widths.csv", "widths_summary": out / "widths_summary.csv"}
    pd.concat(tables, ignore_index=True).to_csv(written["widths"], index=False)
    pd.concat(summaries, ignore_index=True).to_csv(written["widths_summary"], index=False)
    return written
