"""The algorithm registry: every algorithm a spec can name, and how to build it.

An entry is one builder function plus what the algorithm needs; a new
algorithm is one module with one decorated builder (also from a plug-in
module named in a spec's ``plugins:``)::

    from fdnmoo.operators import register_algorithm

    @register_algorithm("my-ga", options={"tournament": int})
    def build_my_ga(request):
        return MyGA(pop_size=request.pop_size, **request.operators, **request.options)

The builder receives an :class:`AlgorithmRequest` and returns a fresh (not set
up) pymoo :class:`~pymoo.core.algorithm.Algorithm`. The experiment runner
drives it through ``setup`` / ``has_next`` / ``next`` and pickles it for
checkpoints, so its whole state must be picklable and its randomness must come
from the seed ``setup`` receives.

What an entry declares:

``options``
    Spec options (``algorithm.<option>``) -> expected type (``None``: any plain
    value). A mapping, or a callable returning one (evaluated when first asked,
    e.g. read from a constructor's signature).
``ref_dirs``
    The algorithm is driven by reference directions: the request carries
    Das-Dennis directions sized for the problem (option ``n_partitions``).
``constraints``
    Whether it handles constraints. One that does not is given problems built
    with ``penalty`` per unit of constraint violation added to every objective.
``intervals``
    It reads interval objectives (``F_lo``/``F_hi`` on the population) when the
    problem exposes them; a deterministic problem gives zero widths.
``required``
    Options a spec must set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import comb
from typing import Any, Callable, Mapping

import numpy as np

__all__ = ["ALGORITHMS", "AlgorithmEntry", "AlgorithmRequest", "algorithm_entry",
           "build_algorithm", "reference_directions", "register_algorithm"]

#: Options every entry accepts: the genome operators' crossover and per-gene
#: mutation probabilities (see :func:`fdnmoo.operators.genome_operators`).
OPERATOR_OPTIONS: dict[str, type] = {"crossover_prob": float, "prob_var": float}
#: Option of reference-direction entries: Das-Dennis partitions.
REF_DIR_OPTIONS: dict[str, type] = {"n_partitions": int}


@dataclass(frozen=True)
class AlgorithmRequest:
    """What a builder gets: the problem, the population size, operators and options.

    Attributes
    ----------
    problem : pymoo Problem
    pop_size : int
        ``algorithm.pop_size`` of the spec.
    operators : dict
        ``sampling``, ``crossover``, ``mutation``, ``repair`` and
        ``eliminate_duplicates`` (the genome's operators for planning problems).
    options : dict
        The spec's further options, type-checked against the entry's.
    ref_dirs : ndarray or None
        Das-Dennis directions when the entry declares ``ref_dirs``.
    source : str
        The spec file, for messages.
    """

    problem: Any
    pop_size: int
    operators: dict[str, Any]
    options: dict[str, Any]
    ref_dirs: np.ndarray | None = None
    source: str = "<spec>"


@dataclass(frozen=True)
class AlgorithmEntry:
    """A registered algorithm (see the module docstring for the fields)."""

    name: str
    build: Callable[[AlgorithmRequest], Any]
    options_spec: Mapping[str, Any] | Callable[[], Mapping[str, Any]] = field(
        default_factory=dict)
    ref_dirs: bool = False
    constraints: bool = True
    penalty: float | None = None
    intervals: bool = False
    required: tuple[str, ...] = ()
    description: str = ""

    def options(self) -> dict[str, Any]:
        """Spec options -> expected type, including the operator (and
        reference-direction) options every such entry accepts."""
        own = self.options_spec() if callable(self.options_spec) else self.options_spec
        allowed = dict(OPERATOR_OPTIONS)
        if self.ref_dirs:
            allowed.update(REF_DIR_OPTIONS)
        allowed.update(own)
        return allowed

    def needs(self) -> dict[str, Any]:
        """What the entry declares, as recorded in ``run.json``."""
        return {"reference_directions": self.ref_dirs, "constraints": self.constraints,
                "constraint_penalty": self.penalty, "interval_objectives": self.intervals}


#: name -> :class:`AlgorithmEntry`; fill with :func:`register_algorithm`.
ALGORITHMS: dict[str, AlgorithmEntry] = {}


def register_algorithm(name: str, *, options: Mapping[str, Any] | Callable | None = None,
                       ref_dirs: bool = False, constraints: bool = True,
                       penalty: float | None = None, intervals: bool = False,
                       required: tuple[str, ...] = (), description: str = ""):
    """Decorator registering ``build(request) -> pymoo Algorithm`` under ``name``.

    Raises
    ------
    ValueError
        ``name`` is taken, or an algorithm without constraint handling has no
        ``penalty``.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"an algorithm name is a non-empty string, got {name!r}")
    if name in ALGORITHMS:
        raise ValueError(f"algorithm {name!r} is already registered "
                         f"({ALGORITHMS[name].build.__module__}); choose another name")
    if not constraints and (penalty is None or not penalty > 0):
        raise ValueError(f"algorithm {name!r} handles no constraints: give the penalty per "
                         f"unit of violation its problems add to the objectives (> 0)")

    def decorate(build: Callable[[AlgorithmRequest], Any]):
        doc = (build.__doc__ or "").strip().splitlines()
        ALGORITHMS[name] = AlgorithmEntry(
            name=name, build=build, options_spec=options if options is not None else {},
            ref_dirs=ref_dirs, constraints=constraints, penalty=penalty,
            intervals=intervals, required=tuple(required),
            description=description or (doc[0] if doc else ""))
        return build

    return decorate


def algorithm_entry(name: str) -> AlgorithmEntry:
    """The entry of ``name``; KeyError naming the registered algorithms otherwise."""
    try:
        return ALGORITHMS[name]
    except KeyError:
        raise KeyError(f"unknown algorithm {name!r}; registered: "
                       f"{', '.join(sorted(ALGORITHMS))}") from None


def reference_directions(n_obj: int, pop_size: int, n_partitions: int | None = None
                         ) -> np.ndarray:
    """Das-Dennis reference directions: the most partitions with at most ``pop_size``
    directions (at least one partition), unless ``n_partitions`` is given."""
    from pymoo.util.ref_dirs import get_reference_directions

    if n_partitions is None:
        n_partitions = 1
        while comb(n_partitions + 1 + n_obj - 1, n_obj - 1) <= pop_size:
            n_partitions += 1
    return get_reference_directions("das-dennis", n_obj, n_partitions=n_partitions)


def build_algorithm(name: str, problem, *, pop_size: int, options: Mapping[str, Any] = (),
                    operators: Mapping[str, Any] | None = None, source: str = "<spec>",
                    initial=None):
    """Build algorithm ``name`` for ``problem`` from spec options.

    Parameters
    ----------
    name : str
        A key of :data:`ALGORITHMS`.
    problem : pymoo Problem
        Gives ``n_obj`` (reference directions), the genome and the constraints.
    pop_size : int
    options : mapping
        Spec options of the entry (``crossover_prob``/``prob_var`` go to the
        genome operators, ``n_partitions`` to the reference directions).
    operators : mapping, optional
        ``sampling``/``crossover``/``mutation``/``repair`` (default:
        :func:`fdnmoo.operators.genome_operators` of ``problem.genome``; for a
        problem without a genome, pymoo's real-valued defaults,
        :func:`fdnmoo.operators.real_valued.real_valued_operators`).
    source : str
        Spec file named in errors.
    initial : array of int, shape (k, n_var), optional
        Genomes that open the initial population
        (:class:`~fdnmoo.operators.composite.SeededSampling`; a planning problem only).

    Raises
    ------
    ValueError
        A problem without a genome that is not real-valued, the problem has constraints the algorithm cannot handle (build the
        problem with the entry's ``penalty``), or a required option is missing.
    """
    from .composite import SeededSampling, genome_operators
    from .real_valued import real_valued_operators

    entry = algorithm_entry(name)
    options = dict(options)
    missing = [k for k in entry.required if k not in options]
    if missing:
        raise ValueError(f"{name} needs the option(s) {', '.join(missing)}")
    if not entry.constraints and getattr(problem, "n_ieq_constr", 0):
        names = ", ".join(getattr(problem, "constraint_names", []) or ["some"])
        raise ValueError(f"{name} handles no constraints and this problem exposes "
                         f"{problem.n_ieq_constr} ({names}); build it with "
                         f"constraint_penalty={entry.penalty:g} (run specs do so for {name})")
    operator_options = {k: options.pop(k) for k in OPERATOR_OPTIONS if k in options}
    if operators is not None:
        ops = dict(operators)
    elif getattr(problem, "genome", None) is not None:
        ops = genome_operators(problem.genome, **operator_options)
    else:  # a benchmark problem without a planning genome: pymoo's real-valued defaults
        ops = real_valued_operators(problem, **operator_options)
    if initial is not None:
        if getattr(problem, "genome", None) is None:
            raise ValueError("initial genomes need a planning problem (a genome)")
        ops["sampling"] = SeededSampling(initial, problem.genome)
    ref_dirs = None
    if entry.ref_dirs:
        ref_dirs = reference_directions(problem.n_obj, pop_size, options.pop("n_partitions", None))
    request = AlgorithmRequest(problem=problem, pop_size=int(pop_size), operators=ops,
                               options=options, ref_dirs=ref_dirs, source=source)
    return entry.build(request)
