"""What a finished run hands to the results writer and the figures.

A leaf module: :class:`RunOutcome` and the grouping of equal objective
vectors, imported by the runner, the results writer and the plots alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["RunOutcome", "objective_groups", "rounded_objectives"]

#: Significant digits to which objectives are equal for ``group``.
EQUAL_DIGITS = 10


@dataclass
class RunOutcome:
    """What a finished run hands to :func:`write_results`.

    Attributes
    ----------
    objective_names, units : list of str
    senses : list of str
        ``"min"`` or ``"max"`` per objective.
    constraint_names : list of str
    X, F, CV : ndarray
        Pareto solutions: genomes, objectives as minimised (pymoo's F) and
        constraint violation.
    pop_F, pop_CV : ndarray
        The final population.
    reports : list of dict, optional
        ``plan_report`` of each Pareto solution (``objectives``,
        ``constraints``, ``costs``, ``plan``).
    plans : list, optional
        Decoded :class:`~fdnmoo.planning.Plan` of each Pareto solution.
    history : DataFrame
    metadata : dict
        Written to ``run.json``.
    currency : str, optional
        The case currency (``case.economics.currency``); ``units`` name it
        instead of the registry's ``currency``.
    n_genomes : ndarray, optional
        Per solution, how many Pareto genomes decode to its plan (default 1).
    group : ndarray, optional
        Per solution, the number of its objective vector (1, 2, ...): solutions
        of one group have equal objectives and different plans.
    F_lo, F_hi : ndarray, optional
        Lower and upper values of the Pareto solutions' objectives as minimised
        (``F_lo <= F <= F_hi``) when the problem exposes interval objectives.
    pop_X : ndarray, optional
        Decision vectors of the final population, kept for problems whose
        solutions are their decision vectors (no plans, no reports: a pymoo
        benchmark problem).
    """

    objective_names: list[str]
    units: list[str]
    senses: list[str]
    constraint_names: list[str]
    X: np.ndarray
    F: np.ndarray
    CV: np.ndarray
    pop_F: np.ndarray
    pop_CV: np.ndarray
    history: pd.DataFrame
    reports: list[dict] | None = None
    plans: list | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    currency: str | None = None
    n_genomes: np.ndarray | None = None
    group: np.ndarray | None = None
    F_lo: np.ndarray | None = None
    F_hi: np.ndarray | None = None
    pop_X: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.n_genomes is None:
            self.n_genomes = np.ones(len(self.F), dtype=int)
        if self.group is None:
            self.group = objective_groups(self.F)

    @property
    def decision_columns(self) -> bool:
        """Whether the tables show decision variables ``x0, x1, ...`` (nothing decodes
        the solutions into plans)."""
        return self.plans is None and not self.reports

    @property
    def signs(self) -> np.ndarray:
        """Factor from minimised F to each objective's own sign."""
        return np.array([-1.0 if s == "max" else 1.0 for s in self.senses])

    @property
    def objectives(self) -> np.ndarray:
        """Pareto objectives in their own sign."""
        return self.F * self.signs

    def objective_ranges(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Lower and upper values of the Pareto objectives in their own sign (a
        maximised objective's ends swap), or None without interval objectives."""
        if self.F_lo is None or self.F_hi is None:
            return None
        a, b = self.F_lo * self.signs, self.F_hi * self.signs
        return np.minimum(a, b), np.maximum(a, b)


def objective_groups(F: np.ndarray) -> np.ndarray:
    """Group number (from 1, in row order of first appearance) of every row's objectives,
    equal to :data:`EQUAL_DIGITS` significant digits."""
    F = np.asarray(F, dtype=float).reshape(len(F), -1)
    numbers: dict[bytes, int] = {}
    return np.array([numbers.setdefault(row.tobytes(), len(numbers) + 1)
                     for row in rounded_objectives(F)], dtype=int)


def rounded_objectives(F: np.ndarray) -> np.ndarray:
    """``F`` to :data:`EQUAL_DIGITS` significant digits (``-0.0`` as ``0.0``)."""
    F = np.asarray(F, dtype=float)
    with np.errstate(divide="ignore"):
        exponent = np.floor(np.log10(np.abs(np.where(F == 0, 1.0, F))))
    scale = 10.0 ** (EQUAL_DIGITS - 1 - exponent)
    return np.where(np.isfinite(F), np.round(F * scale) / scale, F) + 0.0
