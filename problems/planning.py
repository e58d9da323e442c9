"""pymoo problems composed from gene blocks, objectives and constraints.

A :class:`ProblemConfig` is a small picklable description (case, preset,
stages, profile, samples, objectives, constraints, seed); ``config.build()``
loads the case, builds the planning grid, binds the genome, draws the scenario
batch and returns a :class:`PlanningProblem`. Workers of a parallel
:class:`~fdnmoo.evaluation.Evaluator` receive only the config and the genomes,
and build (once) the same problem, so results are identical on every backend.

Presets (:data:`PRESETS`) name the classic studies:

=================  ==========================================  =========================
preset             genes                                       default objectives
=================  ==========================================  =========================
reconfiguration    open/closed state of switchable lines       loss_kw, voltage_deviation
dg_siting          PV and SVC size per candidate bus & stage   energy_loss_mwh,
                                                               voltage_deviation,
                                                               pv_hosting_mw
sop_planning       SOP schemes and capacities over stages      total_cost,
                                                               operational_adaptability
expansion          substations, lines (conductor, stage), PV,  total_cost, eens_mwh
                   DG (alternative, stage) where the case has
                   candidates; profile "levels" if the case
                   has load levels (md24), else "peak"
joint              lines/switches + SOP + PV/SVC               the AA paper's four
=================  ==========================================  =========================
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any, Callable

import numpy as np
from pymoo.core.problem import Problem

from ..cases import load_case
from ..objectives import CONSTRAINTS, OBJECTIVES, Evaluated
from ..planning import planning_grid
from .encodings import DerBlock, DgBlock, LineBlock, SopBlock, SubstationBlock
from .genome import Genome

__all__ = ["PRESETS", "Preset", "ProblemConfig", "PlanningProblem", "UNDEFINED"]

#: Options objectives read from ``Evaluated.options``: structural (w1 TCD, w2 NCD) and
#: operational (w3 voltage margin, w4 current margin) adaptability weights.
OBJECTIVE_OPTIONS = frozenset({"w1", "w2", "w3", "w4"})

#: Stand-in for an objective or constraint value that a diverged power flow left undefined.
UNDEFINED = 1e30


@dataclass(frozen=True)
class Preset:
    """Genes, objectives and constraints of a named study."""

    blocks: Callable[[Any], list]  # case -> list of unbound gene blocks
    objectives: tuple[str, ...]
    constraints: tuple[str, ...] = ()
    profile: str | Callable[[Any], str] = "daily"  # or case -> profile name
    n_stages: int | None = None  # None: the case's horizon

    def profile_for(self, case) -> str:
        """The preset's profile for ``case``."""
        return self.profile(case) if callable(self.profile) else self.profile


def _der_blocks(case, kinds=("pv", "svc")) -> list:
    return [DerBlock(kind) for kind in kinds if kind in case.candidates]


def _dg_blocks(case) -> list:
    return [DgBlock()] if len(case.candidates.get("dg", ())) else []


def _levels_or_peak(case) -> str:
    return "levels" if len(case.candidates.get("load_levels", ())) else "peak"


PRESETS: dict[str, Preset] = {
    "reconfiguration": Preset(
        blocks=lambda case: [LineBlock(reconfigure=True, build=False)],
        objectives=("loss_kw", "voltage_deviation"), profile="peak", n_stages=1),
    "dg_siting": Preset(
        blocks=lambda case: _der_blocks(case),
        objectives=("energy_loss_mwh", "voltage_deviation", "pv_hosting_mw"),
        constraints=("voltage_band",)),
    "sop_planning": Preset(
        blocks=lambda case: [SopBlock()],
        objectives=("total_cost", "operational_adaptability")),
    "expansion": Preset(
        blocks=lambda case: [SubstationBlock(), LineBlock(reconfigure=False, build=True)]
        + _der_blocks(case, ("pv",)) + _dg_blocks(case),
        objectives=("total_cost", "eens_mwh"),
        constraints=("budget", "unserved_energy"), profile=_levels_or_peak),
    "joint": Preset(
        blocks=lambda case: [LineBlock(reconfigure=True, build=True), SopBlock()] + _der_blocks(case),
        objectives=("total_cost", "operational_adaptability", "pv_uneven_degree",
                    "structural_adaptability")),
}


@dataclass(frozen=True)
class ProblemConfig:
    """Picklable description of a planning problem.

    Parameters
    ----------
    case : str
        Built-in case name or path of a case file.
    preset : str
        One of :data:`PRESETS`.
    n_stages : int, optional
        Planning stages (default: the preset's, else the case horizon's).
    profile : str, optional
        ``"daily"`` (typical-day 24-h profiles), ``"peak"`` (one peak snapshot) or
        ``"levels"`` (the case's load-level table, md24); default: the preset's.
    n_days : int, optional
        Typical days of the daily profile (default: all four seasonal days,
        96 slots; 1 = one averaged 24-h day).
    n_samples : int
        Load/PV samples per time slot (1 = forecast only).
    objectives, constraints : tuple of str, optional
        Registry names (default: the preset's).
    seed : int
        Seed of the scenario samples (common random numbers for all candidates).
    case_params : tuple of (str, value) pairs
        Parameters of a generated case (``synthetic``).
    options : tuple of (str, value) pairs
        Objective options, e.g. weights ``(("w1", 0.5), ...)``.
    constraint_penalty : float, optional
        For algorithms without constraint handling (pymoo's MOEA/D): the
        problem exposes no constraints to pymoo and every objective becomes
        ``F + constraint_penalty * CV`` with ``CV = sum(max(G, 0))``. The
        constraints are still evaluated and reported.
    """

    case: str
    preset: str
    n_stages: int | None = None
    profile: str | None = None
    n_days: int | None = None
    n_samples: int = 1
    objectives: tuple[str, ...] | None = None
    constraints: tuple[str, ...] | None = None
    seed: int = 0
    case_params: tuple = ()
    options: tuple = ()
    constraint_penalty: float | None = None

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(f"unknown preset {self.preset!r}; presets are {', '.join(PRESETS)}")
        for name in self.objectives or ():
            OBJECTIVES[name]  # raises KeyError listing the registered names
        for name in self.constraints or ():
            CONSTRAINTS[name]
        if self.profile not in (None, "daily", "peak", "levels"):
            raise ValueError(f"profile must be 'daily', 'peak' or 'levels', got {self.profile!r}")
        if self.n_days is not None and self.n_days < 1:
            raise ValueError(f"n_days must be >= 1, got {self.n_days}")
        if self.n_samples < 1:
            raise ValueError(f"n_samples must be >= 1, got {self.n_samples}")
        if self.constraint_penalty is not None and not self.constraint_penalty > 0:
            raise ValueError(f"constraint_penalty must be > 0, got {self.constraint_penalty}")
        unknown = sorted(set(dict(self.options)) - OBJECTIVE_OPTIONS)
        if unknown:
            raise ValueError(f"unknown objective option {unknown[0]!r}; options are "
                             f"{', '.join(sorted(OBJECTIVE_OPTIONS))}")

    @property
    def key(self) -> str:
        """Stable hash of the config (cache key in workers, run metadata)."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True, default=str).encode()
                              ).hexdigest()[:16]

    def build(self, evaluator=None) -> "PlanningProblem":
        """Load the case and build the problem (the expensive part)."""
        from ..scenarios import ScenarioBatch

        preset = PRESETS[self.preset]
        case = load_case(self.case, **dict(self.case_params))
        n_stages = self.n_stages or preset.n_stages or case.horizon.n_stages
        grid = planning_grid(case)
        genome = Genome(preset.blocks(case)).bind(grid, n_stages)
        batch = ScenarioBatch.build(grid, n_stages, profile=self.profile or preset.profile_for(case),
                                    n_samples=self.n_samples, seed=self.seed, days=self.n_days)
        return PlanningProblem(self, grid=grid, genome=genome, batch=batch,
                               objectives=self.objectives or preset.objectives,
                               constraints=self.constraints if self.constraints is not None
                               else preset.constraints, evaluator=evaluator)


class PlanningProblem(Problem):
    """Vectorised pymoo problem over planning genomes (build it with :meth:`ProblemConfig.build`).

    ``_evaluate(X, out)`` hands the whole population to the evaluator (or
    evaluates it here): decode every genome into a plan, evaluate all plans by
    grouped batched power flows, then apply the objectives and constraints.
    """

    def __init__(self, config: ProblemConfig, grid, genome: Genome, batch,
                 objectives: tuple[str, ...], constraints: tuple[str, ...], evaluator=None):
        self.config = config
        self.grid = grid
        self.genome = genome
        self.batch = batch
        self.objectives = [OBJECTIVES[name] for name in objectives]
        # a plan whose power flows diverge is infeasible, never a crash or NaN
        names = ["power_flow_converged"] + [c for c in constraints if c != "power_flow_converged"]
        self.constraints = [CONSTRAINTS[name] for name in names]
        self.evaluator = evaluator
        self._engine = None
        self.constraint_penalty = config.constraint_penalty
        n_constr = 0 if self.constraint_penalty is not None else len(self.constraints)
        super().__init__(n_var=genome.n_var, n_obj=len(self.objectives),
                         n_ieq_constr=n_constr, xl=genome.xl, xu=genome.xu, vtype=int)

    @property
    def objective_names(self) -> list[str]:
        return [o.name for o in self.objectives]

    @property
    def constraint_names(self) -> list[str]:
        return [c.name for c in self.constraints]

    @property
    def engine(self):
        """One power-flow engine for the planning grid; caches per topology."""
        if self._engine is None:
            from ..powerflow import BatchPowerFlow

            self._engine = BatchPowerFlow(self.grid.net)
        return self._engine

    def _evaluate(self, X, out, *args, **kwargs):
        X = np.asarray(X)
        if self.evaluator is not None:
            F, G = self.evaluator.evaluate(self.config, X)
        else:
            F, G = self.evaluate_genomes(X)
        if self.constraint_penalty is not None:
            F = F + self.constraint_penalty * np.maximum(G, 0.0).sum(axis=1, keepdims=True)
        out["F"] = F
        if self.n_ieq_constr:
            out["G"] = G

    def decode(self, x):
        """The plan of one genome."""
        return self.genome.decode(np.asarray(x).astype(int))

    def evaluated(self, X) -> list[Evaluated]:
        """Decode and evaluate genomes; one :class:`Evaluated` per row."""
        from ..metrics.evaluate import evaluate_plans

        plans = [self.decode(x) for x in np.atleast_2d(X)]
        ops = evaluate_plans(self.grid, plans, self.batch, engine=self.engine)
        options = dict(self.config.options)
        return [Evaluated(self.grid, plan, op, dict(options)) for plan, op in zip(plans, ops)]

    def evaluate_genomes(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Objectives (as minimised) and constraints of genomes; deterministic for the config.

        Values that are undefined because power flows diverged (NaN) become
        :data:`UNDEFINED` in F (and G); such plans already violate the
        ``power_flow_converged`` constraint, so pymoo ranks them as infeasible.
        """
        evs = self.evaluated(X)
        F = np.array([[o.to_minimise(o(ev)) for o in self.objectives] for ev in evs], dtype=float)
        G = np.array([[c(ev) for c in self.constraints] for ev in evs], dtype=float)
        F = np.where(np.isfinite(F), F, UNDEFINED)
        G = np.where(np.isfinite(G), G, UNDEFINED)
        return F.reshape(len(evs), self.n_obj), G.reshape(len(evs), len(self.constraints))

    def plan_report(self, x) -> dict:
        """Objectives (own sign), cost breakdown and readable plan of one genome."""
        ev = self.evaluated(np.atleast_2d(x))[0]
        return {"objectives": {o.name: float(o(ev)) for o in self.objectives},
                "constraints": {c.name: float(c(ev)) for c in self.constraints},
                "costs": ev.costs, "plan": ev.plan.describe(self.grid.case)}

    def __getstate__(self) -> dict[str, Any]:
        # pickling sends the config; the receiver rebuilds (workers cache the problem)
        return {"config": self.config}

    def __setstate__(self, state: dict[str, Any]) -> None:
        rebuilt = state["config"].build()
        self.__dict__.update(rebuilt.__dict__)
