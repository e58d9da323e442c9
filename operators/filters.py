"""Pareto filters: dominance weakening, the deviation-distance filter and the compromise.

Each works on plain arrays of minimised objectives (pymoo's ``F``: maximised objectives
negated), so it post-processes the result of any algorithm; weakened dominance is also a
pymoo survival (:class:`WeakenedDominanceSurvival`). The definitions follow the AA
joint-planning paper (shared/seeds/004: "AA-based dominance relation weakening criterion",
"deviation distance based AA-POF modification"), whose equations were lost in extraction;
where the text leaves a choice, the docstrings below state ours.

Dominance weakening
    With N objectives, solution a *m-dominates* b when

    * a is strictly better than b on at least m objectives, or
    * a Pareto-dominates b (no worse on every objective, strictly better on one).

    The second clause makes the weakened relation a superset of Pareto dominance for every
    m, so survivors never include a Pareto-dominated solution and m = N is exactly Pareto
    dominance, ties included. For m > N/2 (the default m* = floor(N/2) + 1) the relation is
    asymmetric: two solutions cannot each be better on a majority of the objectives. It
    need not be transitive (a majority relation can cycle, a > b > c > a); the survivors of
    a set are the solutions no other member m-dominates, which a cycle can leave empty.

Non-dominated objectives of a solution
    The paper counts, for each solution, its "non-dominated objectives" and removes the
    solutions non-dominated in one objective only, their other objectives being dominated
    by another solution. We read it pairwise: a rival b beats k on the objectives where b is
    strictly better. k's *strongest rival* beats it on the most objectives (the first such
    row on a tie), and k is *non-dominated on* the objectives that rival does not beat it on:
    ``n_nondominated[k] = N - max_b (objectives on which b beats k)``. m-dominance removes
    exactly the solutions with ``n_nondominated <= N - m`` (and the Pareto-dominated ones);
    with N = 4 and m* = 3 every survivor keeps at least two objectives, as in the paper's
    study, and a solution best on one objective only, but beaten on the three others by
    one rival, is removed.

Deviation distance
    Each solution is an objective box [lo, hi] (centre c, radius r = (hi - lo)/2 per
    objective); the *average box* has the mean centre c_avg and the mean radius R (its
    ends are the means of the lows and of the highs). An objective with R > 0 is an
    interval objective; R = 0 (every width zero) makes it deterministic. Over the interval
    objectives, in units of R::

        d_k = sqrt(sum_j ((c_kj - c_avg_j) / R_j) ** 2)
        J_k = V(box_k & avg) / V(box_k | avg)     (intersection over union of the volumes)
        D_k = d_k * (1 - J_k)

    so a box that overlaps the average box is moved closer by its share of common volume,
    identical boxes are at 0 and disjoint ones at d_k. The *comprehensive* distance adds the
    deterministic objectives, each normalised by its spread s_j, the population standard
    deviation over the solutions: ``D_k = sqrt(D_k ** 2 + sum_j ((f_kj - mean_j) / s_j) ** 2)``;
    an objective with s_j = 0 (every solution equal) adds nothing. The plain distance needs
    an interval objective; the comprehensive one works on points alone. The filter keeps
    ``D_k <= D_max``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from pymoo.operators.survival.rank_and_crowding import RankAndCrowding

from .interval_dominance import dominance_fronts

__all__ = ["WeakenedDominanceSurvival", "WeakenedNonDominatedSorting", "WeakeningResult",
           "choose_compromise", "default_m", "deviation_distance", "deviation_filter",
           "weakened_dominance", "weakened_fronts", "weakening_filter"]


# -- dominance weakening -------------------------------------------------------------------
def default_m(n_obj: int) -> int:
    """The paper's m* = floor(N/2) + 1: better on a strict majority of the N objectives."""
    return int(n_obj) // 2 + 1


def _objectives(F: np.ndarray, name: str = "F") -> np.ndarray:
    """``F`` as a finite 2-D float array (one row per solution)."""
    F = np.asarray(F, dtype=float)
    if F.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (solutions x objectives), "
                         f"got shape {F.shape}")
    bad = np.flatnonzero(np.isnan(F).any(axis=1))
    if len(bad):
        raise ValueError(f"{name} has NaN objectives in rows {bad[:10].tolist()}")
    return F


def _checked_m(m: int | None, n_obj: int) -> int:
    if m is None or m is True:
        return default_m(n_obj)
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)):
        raise ValueError(f"m (objectives a dominating solution must be better on) must be an "
                         f"integer, got {m!r}")
    if not 1 <= m <= n_obj:
        raise ValueError(f"m must be in 1..{n_obj} (the number of objectives), got {m}; "
                         f"the default is floor(N/2) + 1 = {default_m(n_obj)}")
    return int(m)


def _better(F: np.ndarray) -> np.ndarray:
    """``B[a, b, j]``: a strictly better than b on objective j (minimised)."""
    return F[:, None, :] < F[None, :, :]


def weakened_dominance(F: np.ndarray, m: int | None = None, *,
                       better: np.ndarray | None = None) -> np.ndarray:
    """Which solution m-dominates which (see the module docstring).

    Parameters
    ----------
    F : ndarray, shape (n, N)
        Minimised objectives.
    m : int, optional
        Objectives (1..N) a dominating solution must be strictly better on; default
        :func:`default_m`. ``m = N`` is Pareto dominance.
    better : ndarray of bool, shape (n, n, N), optional
        ``better[a, b, j]``: a is better than b on objective j, for another comparison
        than ``<`` on ``F`` (e.g. a confidence level on interval objectives). "No worse"
        is then "not better the other way".

    Returns
    -------
    ndarray of bool, shape (n, n)
        ``D[a, b]``: a m-dominates b. The diagonal is False.
    """
    F = _objectives(F)
    m = _checked_m(m, F.shape[1])
    B = _better(F) if better is None else np.asarray(better, dtype=bool)
    if B.shape != (len(F), len(F), F.shape[1]):
        raise ValueError(f"better must have shape {(len(F), len(F), F.shape[1])}, "
                         f"got {B.shape}")
    wins = B.sum(axis=2)
    pareto = (wins > 0) & (wins.T == 0)
    D = (wins >= m) | pareto
    np.fill_diagonal(D, False)
    return D


@dataclass
class WeakeningResult:
    """Outcome of :func:`weakening_filter`, one entry per input solution.

    Attributes
    ----------
    m : int
        The m used.
    keep : ndarray of bool
        Not m-dominated by any other solution (the survivors).
    rival : ndarray of int
        Row of each solution's strongest rival (-1 for a single solution).
    n_nondominated : ndarray of int
        Objectives the strongest rival does not beat the solution on.
    nondominated_on : ndarray of bool, shape (n, N)
        Those objectives (see the module docstring).
    """

    m: int
    keep: np.ndarray
    rival: np.ndarray
    n_nondominated: np.ndarray
    nondominated_on: np.ndarray

    def to_frame(self, names: Sequence[str] | None = None) -> pd.DataFrame:
        """The result as a table: ``kept``, ``strongest_rival`` (row), ``n_nondominated``,
        ``nondominated_on`` (the objective names joined by ``", "``) and one bool column per
        objective (``nondominated_on_<name>``)."""
        n_obj = self.nondominated_on.shape[1]
        names = [f"f{j + 1}" for j in range(n_obj)] if names is None else list(names)
        if len(names) != n_obj:
            raise ValueError(f"{len(names)} names for {n_obj} objectives")
        table = pd.DataFrame({"kept": self.keep, "strongest_rival": self.rival,
                              "n_nondominated": self.n_nondominated})
        table["nondominated_on"] = [", ".join(n for n, on in zip(names, row) if on)
                                    for row in self.nondominated_on]
        for j, name in enumerate(names):
            table[f"nondominated_on_{name}"] = self.nondominated_on[:, j]
        return table


def weakening_filter(F: np.ndarray, m: int | None = None, *,
                     better: np.ndarray | None = None) -> WeakeningResult:
    """The survivors of dominance weakening and each solution's non-dominated objectives.

    Parameters
    ----------
    F : ndarray, shape (n, N)
        Minimised objectives.
    m : int, optional
        See :func:`weakened_dominance` (default floor(N/2) + 1).
    better : ndarray, optional
        See :func:`weakened_dominance`.

    Returns
    -------
    WeakeningResult
    """
    F = _objectives(F)
    n, n_obj = F.shape
    m = _checked_m(m, n_obj)
    B = _better(F) if better is None else np.asarray(better, dtype=bool)
    D = weakened_dominance(F, m, better=B)
    keep = ~D.any(axis=0)
    wins = B.sum(axis=2).astype(int)  # wins[b, k]: objectives on which b beats k
    np.fill_diagonal(wins, -1)  # a solution is not its own rival
    if n <= 1:
        return WeakeningResult(m, keep, np.full(n, -1), np.full(n, n_obj, dtype=int),
                               np.ones((n, n_obj), dtype=bool))
    rival = wins.argmax(axis=0)  # the first of the strongest rivals
    nondominated_on = ~B[rival, np.arange(n), :]
    return WeakeningResult(m, keep, rival, nondominated_on.sum(axis=1), nondominated_on)


def weakened_fronts(F: np.ndarray, m: int | None = None,
                    n_stop_if_ranked: int | None = None) -> list[np.ndarray]:
    """Non-dominated sorting under m-dominance.

    The first front holds the solutions no one m-dominates, the next those no one of the
    rest m-dominates, and so on; each front lists its rows in ascending order (as pymoo's
    sorting does). When every remaining solution is m-dominated by another remaining one
    (a cycle, possible for m < N), the next front holds those dominated by the fewest.

    Parameters
    ----------
    F : ndarray, shape (n, N)
    m : int, optional
        Default floor(N/2) + 1; m = N gives the Pareto fronts.
    n_stop_if_ranked : int, optional
        Stop once this many solutions are ranked.
    """
    F = _objectives(F)
    if len(F) == 0:
        return []
    return dominance_fronts(weakened_dominance(F, m), n_stop_if_ranked)


class WeakenedNonDominatedSorting:
    """pymoo's ``NonDominatedSorting.do`` interface over :func:`weakened_fronts`.

    Parameters
    ----------
    m : int, optional
        Default floor(N/2) + 1 of the sorted ``F``.
    """

    def __init__(self, m: int | None = None) -> None:
        self.m = m

    def do(self, F: np.ndarray, return_rank: bool = False,
           only_non_dominated_front: bool = False, n_stop_if_ranked: int | None = None,
           **kwargs):
        fronts = weakened_fronts(F, self.m, n_stop_if_ranked=n_stop_if_ranked)
        if only_non_dominated_front:
            return fronts[0] if fronts else np.array([], dtype=int)
        if return_rank:
            rank = np.full(len(F), np.iinfo(int).max, dtype=int)
            for k, front in enumerate(fronts):
                rank[front] = k
            return fronts, rank
        return fronts


class WeakenedDominanceSurvival(RankAndCrowding):
    """NSGA-II survival ranked by m-dominance, crowding distance on ``F``.

    ``NSGA2(survival=WeakenedDominanceSurvival(m=3))``; ``m = N`` is pymoo's
    ``RankAndCrowding``.

    Parameters
    ----------
    m : int, optional
        Objectives a dominating solution must be better on (default floor(N/2) + 1).
    crowding_func : str
        pymoo's crowding metric (``"cd"``: NSGA-II's crowding distance).
    """

    def __init__(self, m: int | None = None, crowding_func: str = "cd") -> None:
        super().__init__(nds=WeakenedNonDominatedSorting(m), crowding_func=crowding_func)
        self.m = m


# -- deviation distance --------------------------------------------------------------------
def deviation_distance(lo: np.ndarray, hi: np.ndarray | None = None, *,
                       comprehensive: bool = False) -> np.ndarray:
    """Distance of every solution's objective box from the average box.

    Parameters
    ----------
    lo, hi : ndarray, shape (n, N)
        Lower and upper objective values (``hi`` omitted: points, ``hi = lo``). Objectives
        whose every width is zero are deterministic.
    comprehensive : bool
        Add the deterministic objectives, normalised by their standard deviation.

    Returns
    -------
    ndarray, shape (n,)
        The (comprehensive) deviation distance (see the module docstring); 0 for one solution.

    Raises
    ------
    ValueError
        ``hi < lo`` somewhere, NaN values, or no interval objective for the plain distance.
    """
    lo = _objectives(lo, "lo")
    hi = lo if hi is None else _objectives(hi, "hi")
    if hi.shape != lo.shape:
        raise ValueError(f"lo and hi differ in shape: {lo.shape} and {hi.shape}")
    if not np.all(np.isfinite(lo)) or not np.all(np.isfinite(hi)):
        raise ValueError("objective bounds must be finite for the deviation distance")
    wrong = np.argwhere(hi < lo)
    if len(wrong):
        k, j = wrong[0]
        raise ValueError(f"hi < lo for solution row {k}, objective {j}: "
                         f"[{lo[k, j]}, {hi[k, j]}]")
    if len(lo) == 0:
        return np.zeros(0)
    centre, radius = (lo + hi) / 2, (hi - lo) / 2
    mean_radius = radius.mean(axis=0)
    interval = mean_radius > 0
    if not comprehensive and not interval.any():
        raise ValueError("no interval objective (every width is zero): the deviation "
                         "distance needs objective bounds; use the comprehensive distance "
                         "for deterministic objectives")
    offset = centre - centre.mean(axis=0)
    distance = np.zeros(len(lo))
    if interval.any():
        u = offset[:, interval] / mean_radius[interval]  # centres in units of R
        rho = radius[:, interval] / mean_radius[interval]
        d = np.sqrt((u ** 2).sum(axis=1))
        common = np.clip(np.minimum(u + rho, 1.0) - np.maximum(u - rho, -1.0), 0.0, None)
        v_common = common.prod(axis=1)
        v_box, v_avg = (2 * rho).prod(axis=1), 2.0 ** interval.sum()
        distance = d * (1.0 - v_common / (v_box + v_avg - v_common))
    if comprehensive and (~interval).any():
        spread = centre[:, ~interval].std(axis=0)
        z = np.divide(offset[:, ~interval], spread, out=np.zeros_like(offset[:, ~interval]),
                      where=spread > 0)
        distance = np.sqrt(distance ** 2 + (z ** 2).sum(axis=1))
    return distance


def deviation_filter(lo: np.ndarray, hi: np.ndarray | None = None, d_max: float = 3.5, *,
                     comprehensive: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Keep the solutions within ``d_max`` of the average box.

    Parameters
    ----------
    lo, hi, comprehensive
        See :func:`deviation_distance`.
    d_max : float
        Largest deviation distance kept (> 0). The paper's study uses 3.5 (plain) and 4
        (comprehensive).

    Returns
    -------
    keep : ndarray of bool
        ``distance <= d_max``.
    distance : ndarray
    """
    if not np.isfinite(d_max) or d_max <= 0:
        raise ValueError(f"d_max (largest deviation distance kept) must be > 0, got {d_max}")
    distance = deviation_distance(lo, hi, comprehensive=comprehensive)
    return distance <= d_max, distance


# -- the compromise ------------------------------------------------------------------------
def choose_compromise(F: np.ndarray) -> int:
    """Row of ``F`` (minimised) nearest to the ideal point, objectives scaled over ``F``."""
    F = np.asarray(F, dtype=float)
    if len(F) == 0:
        raise ValueError("no solutions to choose from")
    lo, hi = F.min(axis=0), F.max(axis=0)
    Z = (F - lo) / np.where(hi > lo, hi - lo, 1.0)
    return int(np.argmin(np.linalg.norm(Z, axis=1)))
