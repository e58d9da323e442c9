"""DEAP's NSGA-II and SPEA2 selections (and, on request, its variation operators) in pymoo.

:class:`DeapAlgorithm` is a pymoo genetic algorithm, so the experiment runner
drives it like any other (``setup``/``has_next``/``next``, cloudpickled
checkpoints) and a planning problem evaluates its offspring through its
Evaluator. Only survival and, optionally, variation are DEAP's:

* **Survival** (:class:`DeapSurvival`): ``deap.tools.selNSGA2`` or
  ``deap.tools.selSPEA2`` on creator-free DEAP individuals built from the
  population (:class:`DeapIndividual`, whose :class:`MinimisedFitness` has weight
  -1 on every column of pymoo's minimised ``F``). No ``deap.creator`` classes:
  they are created at run time in a module of DEAP's and do not unpickle in
  another process.
* **Constraints.** DEAP has none, so pymoo's feasibility split applies (the
  rule of pymoo's own NSGA-II): feasible solutions (CV = 0) survive first and
  DEAP selects among them when more are feasible than places; the remaining
  places go to infeasible solutions by ascending CV.
* **Mating** is pymoo's binary tournament of NSGA-II: smaller CV wins if either
  parent is infeasible, then Pareto dominance, then (NSGA-II only) DEAP's crowding
  distance, else a coin toss.
* **Variation** by default is the genome operators
  (:func:`fdnmoo.operators.genome_operators`). :class:`DeapCrossover` and
  :class:`DeapMutation` run DEAP's ``cx*``/``mut*`` functions instead, within the
  problem's bounds (``xl``/``xu``); the algorithm's repair (the genome's) follows.

**Randomness.** DEAP draws from Python's global :mod:`random` (selSPEA2 too,
in its k-th distance search). Every DEAP call runs inside :func:`deap_random`:
the global generator is seeded from one draw of the algorithm's numpy
generator and its previous state is restored afterwards, so a run depends only
on its seed and leaves the caller's ``random`` untouched (not thread-safe: do
not run DEAP code in other threads of the same process meanwhile).

>>> algorithm = DeapAlgorithm(pop_size=40, selection="spea2")            # doctest: +SKIP
>>> algorithm = DeapAlgorithm(pop_size=40, crossover=DeapCrossover("cxUniform", indpb=0.3),
...                           mutation=DeapMutation("mutUniformInt"))   # doctest: +SKIP
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np
from deap import base, tools
from pymoo.algorithms.base.genetic import GeneticAlgorithm
from pymoo.algorithms.moo.nsga2 import binary_tournament
from pymoo.core.crossover import Crossover
from pymoo.core.mutation import Mutation
from pymoo.core.survival import Survival
from pymoo.operators.selection.tournament import TournamentSelection
from pymoo.util.display.multi import MultiObjectiveOutput

from fdnmoo.parameters import did_you_mean

from .composite import GenomeCrossover, GenomeMutation, GenomeRepair, GenomeSampling

__all__ = ["DEAP_CROSSOVERS", "DEAP_MUTATIONS", "DEAP_SELECTIONS", "DEAP_NSGA2_OPTIONS",
           "DEAP_SPEA2_OPTIONS", "DeapAlgorithm", "DeapCrossover", "DeapIndividual",
           "DeapMutation", "DeapSurvival", "MinimisedFitness", "build_deap_nsga2",
           "build_deap_spea2", "deap_individuals", "deap_random"]

#: DEAP survival selections by name.
DEAP_SELECTIONS = {"nsga2": tools.selNSGA2, "spea2": tools.selSPEA2}

#: DEAP crossovers: name -> (function, parameters it takes besides the two parents,
#: gene kind it suits: "any" or "real").
DEAP_CROSSOVERS: dict[str, tuple[Any, tuple[str, ...], str]] = {
    "cxOnePoint": (tools.cxOnePoint, (), "any"),
    "cxTwoPoint": (tools.cxTwoPoint, (), "any"),
    "cxUniform": (tools.cxUniform, ("indpb",), "any"),
    "cxSimulatedBinaryBounded": (tools.cxSimulatedBinaryBounded, ("eta", "low", "up"), "real"),
}

#: DEAP mutations: name -> (function, parameters besides the individual, gene kind).
DEAP_MUTATIONS: dict[str, tuple[Any, tuple[str, ...], str]] = {
    "mutUniformInt": (tools.mutUniformInt, ("low", "up", "indpb"), "integer"),
    "mutPolynomialBounded": (tools.mutPolynomialBounded, ("eta", "low", "up", "indpb"), "real"),
}


# -- DEAP individuals without deap.creator -------------------------------------------------
class MinimisedFitness(base.Fitness):
    """DEAP fitness of minimised objectives: weight -1 on each of ``values``.

    DEAP fitness classes carry their weights as a class attribute; here they are
    set per instance from the number of values, so one module-level (picklable)
    class serves every number of objectives.
    """

    weights: tuple[float, ...] = ()

    def __init__(self, values=()) -> None:
        self.weights = (-1.0,) * len(values)
        super().__init__(tuple(values))

    def __deepcopy__(self, memo):
        return type(self)(self.values)


class DeapIndividual(list):
    """A genome as DEAP expects an individual: a list with a ``fitness``.

    Parameters
    ----------
    genes : sequence
    values : sequence of float
        Minimised objective values.
    index : int
        Row of the pymoo population it was built from.
    """

    def __init__(self, genes, values, index: int) -> None:
        super().__init__(genes)
        self.fitness = MinimisedFitness(values)
        self.index = index


def deap_individuals(X: np.ndarray, F: np.ndarray) -> list[DeapIndividual]:
    """DEAP individuals of genomes ``X`` with minimised objectives ``F`` (row order).

    Raises
    ------
    ValueError
        If ``F`` holds NaN (DEAP's dominance would silently misrank it).
    """
    F = np.asarray(F, dtype=float)
    bad = np.flatnonzero(np.isnan(F).any(axis=1))
    if len(bad):
        raise ValueError(f"DEAP selection: objective values F are NaN in rows {bad.tolist()}")
    return [DeapIndividual(x.tolist(), f.tolist(), i) for i, (x, f) in enumerate(zip(X, F))]


@contextmanager
def deap_random(random_state: np.random.Generator) -> Iterator[None]:
    """Run DEAP code on Python's global :mod:`random`, seeded from ``random_state``.

    One integer is drawn from ``random_state``; the global generator's state is
    restored on exit, so nothing leaks into or out of the caller's ``random``.
    """
    seed = int(random_state.integers(2**63))
    saved = random.getstate()
    random.seed(seed)
    try:
        yield
    finally:
        random.setstate(saved)


def _check_name(name: str, known, what: str) -> None:
    if name not in known:
        raise ValueError(f"unknown DEAP {what} {name!r}{did_you_mean(name, known)}; "
                         f"known: {', '.join(known)}")


def _gene_kind(problem) -> str:
    vtype = getattr(problem, "vtype", None)
    return "integer" if vtype is not None and np.issubdtype(vtype, np.integer) else "real"


def _check_kind(name: str, suits: str, problem) -> None:
    kind = _gene_kind(problem)
    if suits not in ("any", kind):
        raise ValueError(f"DEAP operator {name} is for {suits} genes and the problem's genes "
                         f"are {kind} (vtype={getattr(problem, 'vtype', None)})")


# -- survival ------------------------------------------------------------------------------
class DeapSurvival(Survival):
    """pymoo survival by DEAP's ``selNSGA2`` or ``selSPEA2``.

    Feasible solutions first (pymoo's split, see the module docstring), DEAP's
    selection among them. NSGA-II survivors get DEAP's crowding distance as
    ``crowding`` (SPEA2's: 0) for the mating tournament.

    Parameters
    ----------
    selection : {"nsga2", "spea2"}
    nd : {"standard", "log"}
        selNSGA2's non-dominated sort (DEAP's ``nd``); NSGA-II only.
    """

    def __init__(self, selection: str = "nsga2", nd: str = "standard") -> None:
        super().__init__(filter_infeasible=True)
        self.selection = selection
        self.nd = nd

    def _do(self, problem, pop, *args, n_survive=None, random_state=None, **kwargs):
        _check_name(self.selection, DEAP_SELECTIONS, "selection")
        individuals = deap_individuals(pop.get("X"), pop.get("F"))
        extra = {"nd": self.nd} if self.selection == "nsga2" else {}
        with deap_random(random_state):
            chosen = DEAP_SELECTIONS[self.selection](individuals, n_survive, **extra)
        survivors = pop[[ind.index for ind in chosen]]
        crowding = [getattr(ind.fitness, "crowding_dist", 0.0) for ind in chosen]
        survivors.set("crowding", np.asarray(crowding, dtype=float))
        return survivors


# -- variation -----------------------------------------------------------------------------
def _parameters(names: tuple[str, ...], problem, **given) -> dict[str, Any]:
    if _gene_kind(problem) == "integer":
        low, up = [int(v) for v in problem.xl], [int(v) for v in problem.xu]
    else:
        low, up = [float(v) for v in problem.xl], [float(v) for v in problem.xu]
    return {name: {"low": low, "up": up, **given}[name] for name in names}


class DeapCrossover(Crossover):
    """Two parents -> two offspring by a DEAP crossover (``DEAP_CROSSOVERS``).

    Parameters
    ----------
    name : str, optional
        Default: ``cxTwoPoint`` on integer genes, ``cxSimulatedBinaryBounded``
        on real ones.
    prob : float
        Probability that a mating recombines (DEAP's ``cxpb``).
    indpb : float
        cxUniform's per-gene swap probability.
    eta : float
        cxSimulatedBinaryBounded's crowding degree.
    """

    def __init__(self, name: str | None = None, prob: float = 0.9, indpb: float = 0.5,
                 eta: float = 20.0) -> None:
        super().__init__(n_parents=2, n_offsprings=2, prob=prob)
        self.name, self.indpb, self.eta = name, indpb, eta

    def resolved(self, problem) -> str:
        """The operator name used on ``problem`` (checked)."""
        name = self.name or ("cxTwoPoint" if _gene_kind(problem) == "integer"
                             else "cxSimulatedBinaryBounded")
        _check_name(name, DEAP_CROSSOVERS, "crossover")
        _check_kind(name, DEAP_CROSSOVERS[name][2], problem)
        return name

    def _do(self, problem, X, *args, random_state=None, **kwargs):
        func, names, _ = DEAP_CROSSOVERS[self.resolved(problem)]
        params = _parameters(names, problem, indpb=float(self.indpb), eta=float(self.eta))
        out = np.empty_like(X)
        with deap_random(random_state):
            for k in range(X.shape[1]):
                a, b = func(X[0, k].tolist(), X[1, k].tolist(), **params)
                out[0, k], out[1, k] = a, b
        return out


class DeapMutation(Mutation):
    """A DEAP mutation (``DEAP_MUTATIONS``) of each individual, within the bounds.

    Parameters
    ----------
    name : str, optional
        Default: ``mutUniformInt`` on integer genes, ``mutPolynomialBounded`` on
        real ones.
    prob : float
        Probability that an individual is mutated (DEAP's ``mutpb``).
    indpb : float, optional
        Per-gene probability (default ``1 / n_var``).
    eta : float
        mutPolynomialBounded's crowding degree.
    """

    def __init__(self, name: str | None = None, prob: float = 1.0, indpb: float | None = None,
                 eta: float = 20.0) -> None:
        super().__init__(prob=prob, prob_var=indpb)
        self.name, self.indpb, self.eta = name, indpb, eta

    def resolved(self, problem) -> str:
        """The operator name used on ``problem`` (checked)."""
        name = self.name or ("mutUniformInt" if _gene_kind(problem) == "integer"
                             else "mutPolynomialBounded")
        _check_name(name, DEAP_MUTATIONS, "mutation")
        _check_kind(name, DEAP_MUTATIONS[name][2], problem)
        return name

    def _do(self, problem, X, *args, random_state=None, **kwargs):
        func, names, _ = DEAP_MUTATIONS[self.resolved(problem)]
        indpb = 1.0 / problem.n_var if self.indpb is None else float(self.indpb)
        params = _parameters(names, problem, indpb=indpb, eta=float(self.eta))
        out = np.empty_like(X)
        with deap_random(random_state):
            for i in range(len(X)):
                (out[i],) = func(X[i].tolist(), **params)
        return out


# -- the algorithm -------------------------------------------------------------------------
class DeapAlgorithm(GeneticAlgorithm):
    """Genetic algorithm with DEAP's NSGA-II or SPEA2 survival (see the module docstring).

    Parameters
    ----------
    pop_size : int
    selection : {"nsga2", "spea2"}
        ``deap.tools.selNSGA2`` or ``deap.tools.selSPEA2``.
    nd : {"standard", "log"}
        selNSGA2's non-dominated sort.
    sampling, crossover, mutation, repair : pymoo operators, optional
        Default: the genome operators of ``problem.genome``
        (:mod:`fdnmoo.operators.composite`); pass :class:`DeapCrossover` /
        :class:`DeapMutation` for DEAP's variation.
    eliminate_duplicates : bool or pymoo duplicate elimination
    **kwargs
        Passed to pymoo's :class:`GeneticAlgorithm` (e.g. ``n_offsprings``).
    """

    def __init__(self, pop_size: int = 100, selection: str = "nsga2", nd: str = "standard",
                 sampling=None, crossover=None, mutation=None, repair=None,
                 eliminate_duplicates=True, output=None, **kwargs) -> None:
        super().__init__(
            pop_size=pop_size,
            sampling=GenomeSampling() if sampling is None else sampling,
            selection=TournamentSelection(func_comp=binary_tournament),
            crossover=GenomeCrossover() if crossover is None else crossover,
            mutation=GenomeMutation() if mutation is None else mutation,
            survival=DeapSurvival(selection, nd),
            repair=GenomeRepair() if repair is None else repair,
            eliminate_duplicates=eliminate_duplicates,
            output=MultiObjectiveOutput() if output is None else output,
            advance_after_initial_infill=True, **kwargs)
        self.selection_name = selection
        # read by pymoo's binary_tournament
        self.tournament_type = "comp_by_dom_and_crowding"

    def _setup(self, problem, **kwargs) -> None:
        # bad names and operator/gene mismatches fail here, not in the first generation
        _check_name(self.selection_name, DEAP_SELECTIONS, "selection")
        if self.selection_name == "nsga2" and self.survival.nd not in ("standard", "log"):
            raise ValueError(f"DEAP selNSGA2 nd must be 'standard' or 'log', got "
                             f"{self.survival.nd!r}")
        for op in (self.mating.crossover, self.mating.mutation):
            if isinstance(op, (DeapCrossover, DeapMutation)):
                op.resolved(problem)
        super()._setup(problem, **kwargs)


# -- builders for the algorithm registry ---------------------------------------------------
#: Options of ``deap-spea2`` (name -> type); ``deap-nsga2`` adds ``nd``.
DEAP_SPEA2_OPTIONS: dict[str, type] = {"variation": str, "crossover": str, "mutation": str,
                                       "cxpb": float, "mutpb": float, "indpb": float,
                                       "eta": float}
DEAP_NSGA2_OPTIONS: dict[str, type] = {**DEAP_SPEA2_OPTIONS, "nd": str}

_DEAP_VARIATION_KEYS = ("crossover", "mutation", "cxpb", "mutpb", "indpb", "eta")


def _build(request, selection: str) -> DeapAlgorithm:
    options = dict(request.options)
    known = DEAP_NSGA2_OPTIONS if selection == "nsga2" else DEAP_SPEA2_OPTIONS
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ValueError(f"deap-{selection}: unknown option {unknown[0]!r}"
                         f"{did_you_mean(unknown[0], known)}; known: {', '.join(known)}")
    nd = options.pop("nd", "standard")
    variation = options.pop("variation", None)
    deap_keys = [k for k in _DEAP_VARIATION_KEYS if k in options]
    if variation is None:
        variation = "deap" if deap_keys else "genome"
    if variation not in ("genome", "deap"):
        raise ValueError(f"deap-{selection}: variation must be 'genome' or 'deap', got "
                         f"{variation!r}{did_you_mean(variation, ('genome', 'deap'))}")
    ops = dict(request.operators)
    if variation == "deap":
        ops["crossover"] = DeapCrossover(options.get("crossover"), prob=options.get("cxpb", 0.9),
                                         indpb=options.get("indpb", 0.5),
                                         eta=options.get("eta", 20.0))
        ops["mutation"] = DeapMutation(options.get("mutation"), prob=options.get("mutpb", 1.0),
                                       indpb=options.get("indpb"), eta=options.get("eta", 20.0))
        for op in (ops["crossover"], ops["mutation"]):
            op.resolved(request.problem)
    elif deap_keys:
        raise ValueError(f"deap-{selection}: {', '.join(deap_keys)} set DEAP's variation, "
                         f"which variation: genome does not use (drop them or set "
                         f"variation: deap)")
    return DeapAlgorithm(pop_size=request.pop_size, selection=selection, nd=nd, **ops)


def build_deap_nsga2(request) -> DeapAlgorithm:
    """``deap-nsga2``: DEAP's selNSGA2 survival (options :data:`DEAP_NSGA2_OPTIONS`).

    ``variation``: ``genome`` (default: ``request.operators``) or ``deap``
    (implied by any of ``crossover``, ``mutation``, ``cxpb``, ``mutpb``,
    ``indpb``, ``eta``): :class:`DeapCrossover` (``crossover`` name, ``cxpb``,
    ``indpb``, ``eta``) and :class:`DeapMutation` (``mutation`` name, ``mutpb``,
    ``indpb``, ``eta``), repaired by ``request.operators["repair"]``. ``nd``:
    ``standard`` or ``log``.
    """
    return _build(request, "nsga2")


def build_deap_spea2(request) -> DeapAlgorithm:
    """``deap-spea2``: DEAP's selSPEA2 survival (options :data:`DEAP_SPEA2_OPTIONS`,
    variation as in :func:`build_deap_nsga2`)."""
    return _build(request, "spea2")
