"""Quality indicators of runs on one problem, on one shared normalisation.

Comparing algorithms needs every run of a problem measured on the same scale.
Per problem:

1. the *reference front* is the non-dominated union of every run's final
   population (objectives as minimised, feasible solutions only):
   :func:`reference_front`;
2. its ideal and nadir points (component-wise minimum and maximum) map the
   objectives to [0, 1]: :class:`Normalisation`;
3. on that scale, the hypervolume (:func:`hypervolume`, reference point 1.1
   in every objective) and IGD+ against the reference front
   (:func:`igd_plus`) measure a set of solutions, per generation
   (:func:`indicator_table`) or of the final population;
4. for 2 objectives, the empirical attainment function of the runs of one
   algorithm (:func:`attainment`) and the difference of two algorithms'
   (:func:`attainment_difference`).

The numbers come from moocore; this module only decides what goes in. It
imports no other fdnmoo module.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import moocore
import numpy as np
import pandas as pd

__all__ = ["HV_REFERENCE", "Normalisation", "attainment", "attainment_difference",
           "feasible", "generation_fronts", "hypervolume", "igd_plus", "indicator_table",
           "reference_front"]

#: Reference point (every coordinate) of the hypervolume on normalised objectives.
HV_REFERENCE = 1.1


def feasible(F: np.ndarray, CV: np.ndarray | None = None) -> np.ndarray:
    """Rows of minimised objectives ``F`` that are feasible (``CV <= 0``) and finite.

    Parameters
    ----------
    F : array (n, m)
        Objectives as minimised (pymoo's ``F``).
    CV : array (n,) or (n, 1), optional
        Constraint violation (pymoo's ``CV``); without it every row is feasible.
    """
    F = _matrix(F, "F")
    keep = np.all(np.isfinite(F), axis=1)
    if CV is not None:
        cv = np.asarray(CV, dtype=float).reshape(len(F), -1)[:, 0]
        keep &= cv <= 0
    return F[keep]


def reference_front(fronts: Iterable[np.ndarray]) -> np.ndarray:
    """Non-dominated union of feasible objective sets, without duplicates.

    Parameters
    ----------
    fronts : iterable of arrays (n_i, m)
        Feasible minimised objectives (see :func:`feasible`), e.g. the final
        population of every run of a problem.

    Raises
    ------
    ValueError
        No point at all, or sets with different numbers of objectives.
    """
    sets = [_matrix(F, "front") for F in fronts]
    if not sets or not sum(len(F) for F in sets):
        raise ValueError("no feasible point in any front: no reference front")
    widths = {F.shape[1] for F in sets if len(F)}
    if len(widths) > 1:
        raise ValueError(f"fronts with different numbers of objectives: {sorted(widths)}")
    union = np.vstack([F for F in sets if len(F)])
    front = moocore.filter_dominated(union, keep_weakly=False)
    return front[np.lexsort(front.T[::-1])]


@dataclass(frozen=True)
class Normalisation:
    """Affine map of minimised objectives: ideal to 0, nadir to 1.

    Attributes
    ----------
    ideal, nadir : array (m,)
        Component-wise minimum and maximum of the reference front. An
        objective with ``nadir == ideal`` is only shifted (span 1).
    """

    ideal: np.ndarray
    nadir: np.ndarray

    @classmethod
    def of_front(cls, front: np.ndarray) -> "Normalisation":
        """Ideal and nadir points of a reference front."""
        front = _matrix(front, "front")
        if not len(front):
            raise ValueError("empty reference front: no ideal and nadir points")
        return cls(ideal=front.min(axis=0), nadir=front.max(axis=0))

    @property
    def span(self) -> np.ndarray:
        span = np.asarray(self.nadir, float) - np.asarray(self.ideal, float)
        return np.where(span > 0, span, 1.0)

    def apply(self, F: np.ndarray) -> np.ndarray:
        """``(F - ideal) / (nadir - ideal)``, row by row."""
        F = _matrix(F, "F")
        if len(F) and F.shape[1] != len(self.ideal):
            raise ValueError(f"F has {F.shape[1]} objectives, the normalisation "
                             f"{len(self.ideal)}")
        return (F - self.ideal) / self.span


def hypervolume(F: np.ndarray, norm: Normalisation) -> float:
    """Hypervolume of feasible minimised objectives ``F`` on ``norm``.

    The reference point is :data:`HV_REFERENCE` in every normalised objective;
    points not dominating it add nothing. An empty set has hypervolume 0.
    """
    Z = norm.apply(F)
    if not len(Z):
        return 0.0
    return float(moocore.hypervolume(Z, ref=np.full(Z.shape[1], HV_REFERENCE)))


def igd_plus(F: np.ndarray, front: np.ndarray, norm: Normalisation) -> float:
    """IGD+ of feasible minimised objectives ``F`` against the reference ``front``.

    Both are normalised by ``norm`` first. An empty set gets ``inf`` (it is
    worse than any set, and ranks last in the statistics).
    """
    Z = norm.apply(F)
    if not len(Z):
        return float("inf")
    return float(moocore.igd_plus(Z, ref=norm.apply(front)))


def indicator_table(generations: Iterable[tuple[int, int, np.ndarray]], front: np.ndarray,
                    norm: Normalisation | None = None) -> pd.DataFrame:
    """HV and IGD+ of a run, one row per generation.

    Parameters
    ----------
    generations : iterable of (generation, evaluations, F)
        Each generation's feasible minimised objectives (see :func:`feasible`)
        with the evaluations spent so far.
    front : array (k, m)
        Reference front of the problem (:func:`reference_front`).
    norm : Normalisation, optional
        Default: the front's own (:meth:`Normalisation.of_front`).

    Returns
    -------
    DataFrame
        Columns ``generation``, ``evaluations``, ``hv``, ``igd_plus``.
    """
    norm = norm or Normalisation.of_front(front)
    rows = [{"generation": int(gen), "evaluations": int(n_eval),
             "hv": hypervolume(F, norm), "igd_plus": igd_plus(F, front, norm)}
            for gen, n_eval, F in generations]
    return pd.DataFrame(rows, columns=["generation", "evaluations", "hv", "igd_plus"])


def generation_fronts(fronts: pd.DataFrame, objectives: Sequence[str],
                      generations: Iterable[tuple[int, int]] | None = None
                      ) -> list[tuple[int, int, np.ndarray]]:
    """A run's per-generation fronts from its ``fronts.csv`` table, for :func:`indicator_table`.

    Parameters
    ----------
    fronts : DataFrame
        Columns ``n_gen``, ``n_eval`` and ``objectives`` (as minimised), one row
        per point (see :meth:`fdnmoo.experiment.runner.HistoryRecorder.front_table`).
    objectives : sequence of str
        Objective columns, in order.
    generations : iterable of (n_gen, n_eval), optional
        Every generation of the run (from ``history.csv``): those without a
        feasible point get an empty front. Default: the generations in ``fronts``.
    """
    missing = [c for c in ("n_gen", "n_eval", *objectives) if c not in fronts]
    if missing:
        raise ValueError(f"fronts table lacks column(s) {missing}; it has "
                         f"{list(fronts.columns)}")
    by_gen = {int(g): rows for g, rows in fronts.groupby("n_gen", sort=True)}
    if generations is None:
        generations = [(g, int(rows["n_eval"].iloc[0])) for g, rows in by_gen.items()]
    empty = np.empty((0, len(objectives)))
    return [(int(g), int(n), by_gen[int(g)][list(objectives)].to_numpy(dtype=float)
             if int(g) in by_gen else empty) for g, n in generations]


def attainment(fronts: Sequence[np.ndarray], norm: Normalisation | None = None,
               percentiles: Sequence[float] = ()) -> pd.DataFrame:
    """Empirical attainment surfaces of the runs of one algorithm (2 objectives).

    Parameters
    ----------
    fronts : sequence of arrays (n_i, 2)
        Feasible minimised objectives of each run; a run with no feasible
        point attains nothing but still counts in the percentages.
    norm : Normalisation, optional
        Normalise first (default: the objectives as given).
    percentiles : sequence of float
        Attainment levels in percent of runs, in (0, 100]: the surface of
        ``p`` is what at least ``ceil(p * runs / 100)`` runs attain (default:
        every level, 100/runs apart, labelled by its percentage).

    Returns
    -------
    DataFrame
        Columns ``f1``, ``f2`` (points of the surface) and ``percentile``.
    """
    points, sets = _stacked(fronts, norm)
    n_runs, n_present = len(fronts), np.unique(sets).size
    # moocore's levels count only the runs that have points: back to counts, then to
    # percent of all runs (a run without feasible points attains nothing)
    surface = moocore.eaf(points, sets=sets)
    attained_by = np.rint(surface[:, -1] * n_present / 100.0).astype(int)
    surface[:, -1] = 100.0 * attained_by / n_runs
    if len(percentiles):
        wanted = {float(p): int(np.ceil(float(p) * n_runs / 100.0 - 1e-9)) for p in percentiles}
        if any(not 0 < p <= 100 for p in wanted):
            raise ValueError(f"percentiles must be in (0, 100], got {list(percentiles)}")
        parts = [np.column_stack([surface[attained_by == k, :2],
                                  np.full((attained_by == k).sum(), p)])
                 for p, k in wanted.items()]
        surface = np.vstack(parts)
    return pd.DataFrame(surface, columns=["f1", "f2", "percentile"])


def attainment_difference(a: Sequence[np.ndarray], b: Sequence[np.ndarray],
                          norm: Normalisation | None = None) -> pd.DataFrame:
    """Where the EAF of runs ``a`` exceeds that of runs ``b`` (2 objectives).

    Returns
    -------
    DataFrame
        Rectangles ``f1_low``, ``f2_low``, ``f1_high``, ``f2_high`` and
        ``difference``: share of ``a``'s runs attaining it minus share of
        ``b``'s (in [-1, 1]; negative favours ``b``).
    """
    if len(a) != len(b):
        raise ValueError(f"EAF difference needs as many runs on each side, got {len(a)} "
                         f"and {len(b)}")
    pa, sa = _stacked(a, norm)
    pb, sb = _stacked(b, norm)
    rect = moocore.eafdiff(np.column_stack([pa, sa]), np.column_stack([pb, sb]),
                           rectangles=True)
    table = pd.DataFrame(rect, columns=["f1_low", "f2_low", "f1_high", "f2_high",
                                        "difference"])
    table["difference"] /= len(a)
    return table


def _stacked(fronts: Sequence[np.ndarray], norm: Normalisation | None
             ) -> tuple[np.ndarray, np.ndarray]:
    """Points of all runs and their run number (1-based), for moocore's EAF."""
    if not len(fronts):
        raise ValueError("no runs: no attainment function")
    sets = [_matrix(F, "front") for F in fronts]
    if any(len(F) and F.shape[1] != 2 for F in sets):
        raise ValueError("attainment functions are computed for 2 objectives only, got "
                         f"{sorted({F.shape[1] for F in sets if len(F)})}")
    if not any(len(F) for F in sets):
        raise ValueError("no feasible point in any run: no attainment function")
    points = np.vstack([F for F in sets if len(F)])
    runs = np.concatenate([np.full(len(F), k + 1) for k, F in enumerate(sets)])
    return (norm.apply(points) if norm is not None else points), runs


def _matrix(F, what: str) -> np.ndarray:
    F = np.asarray(F, dtype=float)
    if F.ndim == 1 and F.size == 0:
        return F.reshape(0, 0)
    if F.ndim != 2:
        raise ValueError(f"{what}: expected a 2-d array (points x objectives), got shape "
                         f"{F.shape}")
    return F
