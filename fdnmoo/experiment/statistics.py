"""Statistics of an indicator over seeds: medians, rank-sum tests, a ranked table.

The input is a tidy table of final indicator values, one row per run, with an
``algorithm`` column, the indicator column (e.g. ``hv``) and optionally a
``problem`` column: every comparison is made within one problem.

* :func:`summary`: median, quartiles and IQR per algorithm;
* :func:`pairwise_tests`: every pair of algorithms, two-sided Wilcoxon
  rank-sum test, p-values Holm-corrected over the pairs of a problem;
* :func:`ranked_table`: per algorithm, how many others it is significantly
  better than, worse than and tied with, ranked by ``better - worse``.

The rank-sum test is :func:`scipy.stats.mannwhitneyu` (the Mann-Whitney U test
is the Wilcoxon rank-sum test), not :func:`scipy.stats.ranksums`: ``ranksums``
always uses the normal approximation and corrects neither for ties (common in
HV: runs that reach the same front) nor for small samples, where it is too
liberal (3 against 3 fully separated runs: ``ranksums`` p = 0.0495, the exact
p = 2/20 = 0.1). ``mannwhitneyu`` gives exact p-values for small samples
without ties and a tie-corrected normal approximation otherwise. The Holm
step-down correction is statsmodels' ``multipletests(method="holm")``.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
from scipy.stats import mannwhitneyu
from statsmodels.stats.multitest import multipletests

__all__ = ["holm", "pairwise_tests", "ranked_table", "rank_sum_p", "summary"]


def summary(runs: pd.DataFrame, value: str) -> pd.DataFrame:
    """Median, quartiles and IQR of ``value`` per algorithm (and problem).

    Returns
    -------
    DataFrame
        Columns ``[problem,] algorithm, n, median, q25, q75, iqr``.
    """
    keys = _keys(runs, value)
    grouped = runs.groupby(keys, sort=True)[value]
    table = grouped.agg(n="count", median="median",
                        q25=lambda v: v.quantile(0.25), q75=lambda v: v.quantile(0.75))
    table["iqr"] = table["q75"] - table["q25"]
    return table.reset_index()


def rank_sum_p(a, b) -> float:
    """Two-sided Wilcoxon rank-sum p-value of samples ``a`` and ``b``.

    :func:`scipy.stats.mannwhitneyu` with its default method (exact for small
    samples without ties, tie-corrected normal approximation otherwise).
    Samples with one common value throughout are not different: p = 1.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if not len(a) or not len(b):
        raise ValueError(f"rank-sum test of empty samples (sizes {len(a)} and {len(b)})")
    if np.unique(np.concatenate([a, b])).size == 1:
        return 1.0
    return float(mannwhitneyu(a, b, alternative="two-sided").pvalue)


def holm(p_values) -> np.ndarray:
    """Holm-corrected p-values (step-down, family-wise error), in the given order."""
    p = np.asarray(p_values, dtype=float)
    if not p.size:
        return p
    return multipletests(p, method="holm")[1]


def pairwise_tests(runs: pd.DataFrame, value: str, *, higher_is_better: bool,
                   alpha: float = 0.05) -> pd.DataFrame:
    """Rank-sum test of every pair of algorithms, Holm-corrected per problem.

    Parameters
    ----------
    runs : DataFrame
        One row per run: ``algorithm``, ``value`` and optionally ``problem``.
    value : str
        Indicator column.
    higher_is_better : bool
        True for HV, False for IGD+.
    alpha : float
        Family-wise significance level (per problem).

    Returns
    -------
    DataFrame
        Columns ``[problem,] a, b, median_a, median_b, p, p_holm, winner``;
        ``winner`` is the algorithm with the better median where
        ``p_holm < alpha``, else empty (tied).
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    keys = _keys(runs, value)
    parts = []
    for problem, rows in _by_problem(runs, keys):
        samples = {name: g[value].to_numpy(dtype=float)
                   for name, g in rows.groupby("algorithm", sort=True)}
        pairs = [{"a": a, "b": b, "median_a": float(np.median(samples[a])),
                  "median_b": float(np.median(samples[b])),
                  "p": rank_sum_p(samples[a], samples[b])}
                 for a, b in combinations(sorted(samples), 2)]
        table = pd.DataFrame(pairs, columns=["a", "b", "median_a", "median_b", "p"])
        table["p_holm"] = holm(table["p"].to_numpy())
        table["winner"] = [_winner(r, higher_is_better, alpha) for r in table.itertuples()]
        if problem is not None:
            table.insert(0, "problem", problem)
        parts.append(table)
    return pd.concat(parts, ignore_index=True)


def ranked_table(runs: pd.DataFrame, value: str, *, higher_is_better: bool,
                 alpha: float = 0.05) -> pd.DataFrame:
    """Algorithms ranked by significant wins minus losses, per problem.

    Returns
    -------
    DataFrame
        Columns ``[problem,] rank, algorithm, median, iqr, better, worse,
        tied``; ``better`` counts the algorithms it beats (Holm-corrected
        rank-sum test at ``alpha``, better median), ``worse`` those beating
        it. Rank 1 is best; ties in ``better - worse`` are broken by the
        median, then the name.
    """
    stats = summary(runs, value)
    tests = pairwise_tests(runs, value, higher_is_better=higher_is_better, alpha=alpha)
    has_problem = "problem" in stats
    parts = []
    for problem, rows in _by_problem(stats, _keys(stats, "median")):
        pairs = tests if problem is None else tests[tests["problem"] == problem]
        table = rows[["algorithm", "median", "iqr"]].copy()
        n_others = len(table) - 1
        decided = pairs[pairs["winner"] != ""]
        table["better"] = [int((decided["winner"] == name).sum()) for name in table.algorithm]
        table["worse"] = [int((((decided["a"] == name) | (decided["b"] == name))
                               & (decided["winner"] != name)).sum())
                          for name in table.algorithm]
        table["tied"] = n_others - table["better"] - table["worse"]
        score = table["better"] - table["worse"]
        order = np.lexsort((table.algorithm.to_numpy(),
                            -table["median"].to_numpy() if higher_is_better
                            else table["median"].to_numpy(), -score.to_numpy()))
        table = table.iloc[order].reset_index(drop=True)
        table.insert(0, "rank", np.arange(1, len(table) + 1))
        if has_problem:
            table.insert(0, "problem", problem)
        parts.append(table)
    return pd.concat(parts, ignore_index=True)


def _winner(row, higher_is_better: bool, alpha: float) -> str:
    if not row.p_holm < alpha or row.median_a == row.median_b:
        return ""
    a_better = (row.median_a > row.median_b) == higher_is_better
    return row.a if a_better else row.b


def _keys(runs: pd.DataFrame, value: str) -> list[str]:
    missing = [c for c in ("algorithm", value) if c not in runs]
    if missing:
        raise ValueError(f"runs table lacks column(s) {missing}; it has {list(runs.columns)}")
    return ["problem", "algorithm"] if "problem" in runs else ["algorithm"]


def _by_problem(runs: pd.DataFrame, keys: list[str]):
    if "problem" in keys:
        yield from runs.groupby("problem", sort=True)
    else:
        yield None, runs
