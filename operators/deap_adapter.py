"""DEAP's NSGA-II and SPEA2 selections (and, on request, its variation operators) in pymoo.

:class:`DeapAlgorithm` is a pymoo genetic algorithm, so the experiment runner
drives it like any other (``setup``/``has_next``/``next``, cloudpickled
checkpoints) and a planning problem evaluates its offspring through its
Evaluator. Only survival and, optionally, variation are DEAP's:

* **Survival** (:class:`DeapSurvival`): ``deap.tools.selNSGA2`` or
  ``deap.tools.selSPEA2`` on creator-free DEAP individuals built from the
  population (:class:`DeapIndividual`, whose :class:`MinimisedFitness` has weight
  -1 on every column of pymoo's minimised ``F``). No ``deap.creator`` classes:
  they are made at run time inside DEAP's ``creator`` module and unpickle only
  in a process that has made them too.
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

>>> algorithm = DeapAlgorithm(pop_size=40, deap_selection="spea2")         # doctest: +SKIP
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
from pymoo.core.repair import NoRepair
from pymoo.core.survival import Survival
from pymoo.operators.selection.tournament import TournamentSelection
from pymoo.util.display.multi import MultiObjectiveOutput

from fdnmoo.parameters import did_you_mean

from .composite import genome_operators
from .registry import register_algorithm

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

    def check(self) -> None:
        """Raise ValueError for an unknown selection or ``nd``."""
        _check_name(self.selection, DEAP_SELECTIONS, "selection")
        if self.selection == "nsga2" and self.nd not in ("standard", "log"):
            raise ValueError(f"DEAP selNSGA2's nd must be 'standard' or 'log', got {self.nd!r}"
                             f"{did_you_mean(self.nd, ('standard', 'log'))}")

    def _do(self, problem, pop, *args, n_survive=None, random_state=None, **kwargs):
        self.check()
        individuals = deap_individuals(pop.get("X"), pop.get("F"))
        extra = {"nd": self.nd} if self.selection == "nsga2" else {}
        with deap_random(random_state):
            chosen = DEAP_SELECTIONS[self.selection](individuals, n_survive, **extra)
        survivors = pop[[ind.index for ind in chosen]]
        crowding = [getattr(ind.fitness, "crowding_dist", 0.0) for ind in chosen]
        survivors.set("crowding", np.asarray(crowding, dtype=float))
        return survivors


# -- variation -----------------------------------------------------------------------------
def _bounds(problem) -> tuple[list, list]:
    """``problem.xl``, ``problem.xu`` as lists of Python ints (integer genes) or floats."""
    cast = int if _gene_kind(problem) == "integer" else float
    return [cast(v) for v in problem.xl], [cast(v) for v in problem.xu]


def _resolve(name: str | None, table: dict, what: str, defaults: dict[str, str],
             problem) -> str:
    """Operator ``name`` (or the default for the problem's gene kind), checked."""
    name = name or defaults[_gene_kind(problem)]
    _check_name(name, table, what)
    _check_kind(name, table[name][2], problem)
    return name


def _arguments(names: tuple[str, ...], problem, **given) -> dict[str, Any]:
    """Keyword arguments ``names`` of a DEAP operator: bounds ``low``/``up`` or ``given``."""
    low, up = _bounds(problem)
    values = {"low": low, "up": up, **given}
    return {name: values[name] for name in names}


class DeapCrossover(Crossover):
    """Two parents -> two offspring by a DEAP crossover (:data:`DEAP_CROSSOVERS`).

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

    defaults = {"integer": "cxTwoPoint", "real": "cxSimulatedBinaryBounded"}

    def __init__(self, name: str | None = None, prob: float = 0.9, indpb: float = 0.5,
                 eta: float = 20.0) -> None:
        super().__init__(n_parents=2, n_offsprings=2, prob=prob)
        self.name, self.indpb, self.eta = name, indpb, eta

    def resolved(self, problem) -> str:
        """The operator name used on ``problem`` (checked against its gene kind)."""
        return _resolve(self.name, DEAP_CROSSOVERS, "crossover", self.defaults, problem)

    def _do(self, problem, X, *args, random_state=None, **kwargs):
        # X: (n_parents=2, n_matings, n_var) -> (n_offsprings=2, n_matings, n_var)
        func, names, _ = DEAP_CROSSOVERS[self.resolved(problem)]
        params = _arguments(names, problem, indpb=float(self.indpb), eta=float(self.eta))
        out = np.empty_like(X)
        with deap_random(random_state):
            for k in range(X.shape[1]):
                out[0, k], out[1, k] = func(X[0, k].tolist(), X[1, k].tolist(), **params)
        return out


class DeapMutation(Mutation):
    """A DEAP mutation (:data:`DEAP_MUTATIONS`) of each individual, within the bounds.

    Parameters
    ----------
    name : str, optional
        Default: ``mutUniformInt`` on integer genes, ``mutPolynomialBounded`` on
        real ones.
    prob : float
        Probability that an individual is mutated (DEAP's ``mutpb``).
    indpb : float, optional
        Per-gene probability (pymoo's ``prob_var``; default ``min(0.5, 1 / n_var)``).
    eta : float
        mutPolynomialBounded's crowding degree.
    """

    defaults = {"integer": "mutUniformInt", "real": "mutPolynomialBounded"}

    def __init__(self, name: str | None = None, prob: float = 1.0, indpb: float | None = None,
                 eta: float = 20.0) -> None:
        super().__init__(prob=prob, prob_var=indpb)
        self.name, self.eta = name, eta

    def resolved(self, problem) -> str:
        """The operator name used on ``problem`` (checked against its gene kind)."""
        return _resolve(self.name, DEAP_MUTATIONS, "mutation", self.defaults, problem)

    def _do(self, problem, X, *args, random_state=None, **kwargs):
        func, names, _ = DEAP_MUTATIONS[self.resolved(problem)]
        params = _arguments(names, problem, indpb=float(self.get_prob_var(problem)),
                            eta=float(self.eta))
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
    deap_selection : {"nsga2", "spea2"}
        Survival by ``deap.tools.selNSGA2`` or ``deap.tools.selSPEA2``.
    nd : {"standard", "log"}
        selNSGA2's non-dominated sort.
    sampling, crossover, mutation, repair : pymoo operators, optional
        Default: :func:`~fdnmoo.operators.composite.genome_operators` of
        ``problem.genome``; pass :class:`DeapCrossover` / :class:`DeapMutation`
        for DEAP's variation.
    selection : pymoo selection, optional
        Mating selection; default pymoo's NSGA-II binary tournament (CV, Pareto
        dominance, crowding, coin toss), which is what DEAP's NSGA-II example
        does with ``selTournamentDCD`` plus the constraint step.
    eliminate_duplicates : bool or pymoo duplicate elimination
        Default True (repaired offspring often coincide).
    output : pymoo Output, optional
        Default: pymoo's ``MultiObjectiveOutput``.
    **kwargs
        Passed to pymoo's :class:`GeneticAlgorithm` (e.g. ``n_offsprings``).
    """

    def __init__(self, pop_size: int = 100, deap_selection: str = "nsga2",
                 nd: str = "standard", sampling=None, crossover=None, mutation=None,
                 repair=None, selection=None, eliminate_duplicates=True, output=None,
                 **kwargs) -> None:
        genome = genome_operators()
        super().__init__(
            pop_size=pop_size,
            sampling=genome["sampling"] if sampling is None else sampling,
            selection=(TournamentSelection(func_comp=binary_tournament) if selection is None
                       else selection),
            crossover=genome["crossover"] if crossover is None else crossover,
            mutation=genome["mutation"] if mutation is None else mutation,
            survival=DeapSurvival(deap_selection, nd),
            repair=genome["repair"] if repair is None else repair,
            eliminate_duplicates=eliminate_duplicates,
            output=MultiObjectiveOutput() if output is None else output,
            advance_after_initial_infill=True, **kwargs)
        # read by pymoo's binary_tournament
        self.tournament_type = "comp_by_dom_and_crowding"

    def _setup(self, problem, **kwargs) -> None:
        # bad names and operator/gene mismatches fail here, not in the first generation
        self.survival.check()
        for op in (self.mating.crossover, self.mating.mutation):
            if isinstance(op, (DeapCrossover, DeapMutation)):
                op.resolved(problem)
        super()._setup(problem, **kwargs)


# -- builders for the algorithm registry ---------------------------------------------------
#: Options of ``deap-spea2`` (name -> type); ``deap-nsga2`` adds ``nd``.
DEAP_SPEA2_OPTIONS: dict[str, type] = {"variation": str, "crossover": str, "mutation": str,
                                       "cxpb": float, "mutpb": float, "indpb": float,
                                       "cx_indpb": float, "eta": float}
DEAP_NSGA2_OPTIONS: dict[str, type] = {**DEAP_SPEA2_OPTIONS, "nd": str}

_DEAP_VARIATION_KEYS = ("crossover", "mutation", "cxpb", "mutpb", "indpb", "cx_indpb", "eta")


def _build(request, selection: str) -> DeapAlgorithm:
    options = dict(request.options)
    known = DEAP_NSGA2_OPTIONS if selection == "nsga2" else DEAP_SPEA2_OPTIONS
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ValueError(f"deap-{selection}: unknown option {unknown[0]!r}"
                         f"{did_you_mean(unknown[0], known)}; known: {', '.join(known)}")
    deap_keys = [k for k in _DEAP_VARIATION_KEYS if k in options]
    variation = options.get("variation", "deap" if deap_keys else "genome")
    if variation not in ("genome", "deap"):
        raise ValueError(f"deap-{selection}: variation must be 'genome' or 'deap', got "
                         f"{variation!r}{did_you_mean(variation, ('genome', 'deap'))}")
    ops = dict(request.operators)
    ops.setdefault("repair", NoRepair())  # the request's operators are complete: none given, none
    if variation == "deap":
        eta = options.get("eta", 20.0)
        ops["crossover"] = DeapCrossover(options.get("crossover"), prob=options.get("cxpb", 0.9),
                                         indpb=options.get("cx_indpb", 0.5), eta=eta)
        ops["mutation"] = DeapMutation(options.get("mutation"), prob=options.get("mutpb", 1.0),
                                       indpb=options.get("indpb"), eta=eta)
        for op in (ops["crossover"], ops["mutation"]):
            op.resolved(request.problem)
    elif deap_keys:
        raise ValueError(f"deap-{selection}: {', '.join(deap_keys)} set DEAP's variation, "
                         f"which variation: genome does not use (drop them or set "
                         f"variation: deap)")
    algorithm = DeapAlgorithm(pop_size=request.pop_size, deap_selection=selection,
                              nd=options.get("nd", "standard"), **ops)
    algorithm.survival.check()
    return algorithm


@register_algorithm("deap-nsga2", options=DEAP_NSGA2_OPTIONS,
                    description="DEAP selNSGA2 survival")
def build_deap_nsga2(request) -> DeapAlgorithm:
    """``deap-nsga2``: DEAP's selNSGA2 survival (options :data:`DEAP_NSGA2_OPTIONS`).

    ``variation``: ``genome`` (default: ``request.operators``) or ``deap``
    (implied by any of ``crossover``, ``mutation``, ``cxpb``, ``mutpb``,
    ``indpb``, ``cx_indpb``, ``eta``): :class:`DeapCrossover` (``crossover``
    name, ``cxpb``, ``cx_indpb`` of cxUniform, ``eta`` of SBX) and
    :class:`DeapMutation` (``mutation`` name, ``mutpb``, per-gene ``indpb``,
    ``eta`` of the polynomial mutation), repaired by
    ``request.operators["repair"]``. ``nd``: ``standard`` or ``log``.
    """
    return _build(request, "nsga2")


@register_algorithm("deap-spea2", options=DEAP_SPEA2_OPTIONS,
                    description="DEAP selSPEA2 survival")
def build_deap_spea2(request) -> DeapAlgorithm:
    """``deap-spea2``: DEAP's selSPEA2 survival (options :data:`DEAP_SPEA2_OPTIONS`,
    variation as in :func:`build_deap_nsga2`)."""
    return _build(request, "spea2")
