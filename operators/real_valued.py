"""pymoo's default variation for real-valued problems without a planning genome.

A benchmark problem (ZDT, DTLZ, ... from :func:`pymoo.problems.get_problem`)
has no ``genome``: the algorithm registry gives it these operators instead of
:func:`fdnmoo.operators.genome_operators`. They are NSGA-II's defaults in
pymoo (random floats in the bounds, SBX with eta 15 and probability 0.9,
polynomial mutation with eta 20, duplicates eliminated), so that an entry of
the registry runs the algorithm a pymoo user would get from its class.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pymoo.operators.crossover.sbx import SBX
from pymoo.operators.mutation.pm import PM
from pymoo.operators.sampling.rnd import FloatRandomSampling

__all__ = ["check_real_valued", "real_valued_operators"]


def check_real_valued(problem) -> None:
    """Raise ValueError unless ``problem`` has real variables within finite bounds.

    Parameters
    ----------
    problem : pymoo Problem
    """
    name = type(problem).__name__
    vtype = getattr(problem, "vtype", None)
    if vtype is not None and not (isinstance(vtype, type) and issubclass(vtype, (float,
                                                                                 np.floating))):
        raise ValueError(f"{name} has variables of type {getattr(vtype, '__name__', vtype)}; "
                         f"only real-valued problems (vtype float) get pymoo's default "
                         f"operators")
    xl, xu = getattr(problem, "xl", None), getattr(problem, "xu", None)
    if xl is None or xu is None or not (np.all(np.isfinite(xl)) and np.all(np.isfinite(xu))):
        raise ValueError(f"{name} has no finite variable bounds (xl, xu); real-valued "
                         f"operators sample and mutate within them")


def real_valued_operators(problem, crossover_prob: float = 0.9,
                          prob_var: float | None = None) -> dict[str, Any]:
    """Keyword arguments of a pymoo genetic algorithm: pymoo's NSGA-II defaults.

    Parameters
    ----------
    problem : pymoo Problem
        Real-valued with finite bounds (:func:`check_real_valued`).
    crossover_prob : float
        Probability that a mating recombines (SBX ``prob``).
    prob_var : float, optional
        Per-variable mutation probability (default pymoo's, ``1 / n_var``).

    Raises
    ------
    ValueError
        The problem is not real-valued or has no finite bounds.
    """
    check_real_valued(problem)
    return {"sampling": FloatRandomSampling(),
            "crossover": SBX(eta=15, prob=crossover_prob),
            "mutation": PM(eta=20, prob_var=prob_var),
            "eliminate_duplicates": True}
