"""Indicators of finished runs on a shared normalisation per problem: the tidy tables.

The analysis half of comparing algorithms: given finished results folders
(problem, algorithm, seed, folder), it reads each run's ``fronts.csv`` and
``history.csv`` (:func:`fdnmoo.experiment.runner.optimise` writes them), merges
the final fronts of every run of a problem into its reference front, and
measures every generation of every run on that problem's normalisation
(:mod:`fdnmoo.experiment.indicators`). Running the grid is not done here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .indicators import Normalisation, generation_fronts, indicator_table, reference_front
from .runner import FRONTS
from .statistics import ranked_table

__all__ = ["Comparison", "compare_runs"]

_RUN_KEYS = ["problem", "algorithm", "seed"]


@dataclass(frozen=True)
class Comparison:
    """The tables of a comparison.

    Attributes
    ----------
    history : DataFrame
        One row per generation of every run: ``problem, algorithm, seed,
        generation, evaluations, hv, igd_plus, wall_time_s`` (cumulative).
    final : DataFrame
        The last row of every run.
    fronts : dict of str -> DataFrame
        Reference front of each problem (objectives as minimised).
    normalisations : dict of str -> Normalisation
    """

    history: pd.DataFrame
    final: pd.DataFrame
    fronts: dict[str, pd.DataFrame]
    normalisations: dict[str, Normalisation]

    def ranked(self, indicator: str = "hv", alpha: float = 0.05) -> pd.DataFrame:
        """Ranked table of the final ``hv`` (higher is better) or ``igd_plus`` (lower)."""
        senses = {"hv": True, "igd_plus": False}
        if indicator not in senses:
            raise ValueError(f"unknown indicator {indicator!r}; choose from {sorted(senses)}")
        return ranked_table(self.final, indicator, higher_is_better=senses[indicator],
                            alpha=alpha)

    def against(self, reference: str) -> pd.DataFrame:
        """Median final HV of every other algorithm against that of ``reference``.

        Returns
        -------
        DataFrame
            Per problem and algorithm: ``hv_median``, ``reference_hv_median`` and
            ``relative_difference`` (``hv_median / reference_hv_median - 1``),
            on the problem's shared normalisation.

        Raises
        ------
        ValueError
            ``reference`` is not an algorithm of the comparison.
        """
        medians = self.final.groupby(["problem", "algorithm"])["hv"].median()
        if reference not in medians.index.get_level_values("algorithm"):
            raise ValueError(f"no algorithm {reference!r}; the comparison has "
                             f"{sorted(self.final.algorithm.unique())}")
        rows = []
        for (problem, name), median in medians.items():
            if name == reference or (problem, reference) not in medians.index:
                continue
            ref = float(medians[problem, reference])
            rows.append({"problem": problem, "algorithm": name, "hv_median": float(median),
                         "reference_hv_median": ref,
                         "relative_difference": float(median) / ref - 1.0 if ref else np.nan})
        return pd.DataFrame(rows, columns=["problem", "algorithm", "hv_median",
                                           "reference_hv_median", "relative_difference"])


def compare_runs(runs: pd.DataFrame) -> Comparison:
    """HV and IGD+ of finished runs, per generation, on one normalisation per problem.

    Parameters
    ----------
    runs : DataFrame
        Columns ``problem``, ``algorithm``, ``seed``, ``folder`` (a results
        folder holding ``history.csv`` and ``fronts.csv``), one row per run.

    Raises
    ------
    ValueError
        A missing column or file, a run listed twice, runs of one problem
        with different objectives, or a problem without any feasible point.
    """
    missing = [c for c in [*_RUN_KEYS, "folder"] if c not in runs]
    if missing:
        raise ValueError(f"runs table lacks column(s) {missing}")
    twice = runs[runs.duplicated(_RUN_KEYS, keep=False)]
    if len(twice):
        listed = twice[_RUN_KEYS].drop_duplicates().to_dict("records")
        raise ValueError(f"runs listed twice: {listed}")
    loaded = [(row, *_read_run(Path(row.folder))) for row in runs.itertuples(index=False)]

    history_parts, fronts, norms = [], {}, {}
    for problem in sorted({row.problem for row, *_ in loaded}):
        members = [item for item in loaded if item[0].problem == problem]
        names = _objective_names(problem, members)
        per_run = [(row, history, generation_fronts(front, names,
                                                     zip(history.n_gen, history.n_eval)))
                   for row, history, front, _ in members]
        front = reference_front([gens[-1][2] if gens else np.empty((0, len(names)))
                                 for _, _, gens in per_run])
        norm = Normalisation.of_front(front)
        fronts[problem] = pd.DataFrame(front, columns=names)
        norms[problem] = norm
        for row, history, gens in per_run:
            table = indicator_table(gens, front, norm)
            table["wall_time_s"] = np.cumsum(history["seconds"].to_numpy(dtype=float))
            for k, key in enumerate(_RUN_KEYS):
                table.insert(k, key, getattr(row, key))
            history_parts.append(table)
    history = pd.concat(history_parts, ignore_index=True)
    final = history.groupby(_RUN_KEYS, sort=True).tail(1).reset_index(drop=True)
    return Comparison(history=history, final=final, fronts=fronts, normalisations=norms)


def _read_run(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    paths = {name: folder / name for name in ("history.csv", FRONTS)}
    for path in paths.values():
        if not path.is_file():
            raise ValueError(f"{path}: missing; is {folder} a finished run?")
    history = pd.read_csv(paths["history.csv"])
    fronts = pd.read_csv(paths[FRONTS])
    names = [c for c in fronts.columns if c not in ("n_gen", "n_eval")]
    return history, fronts, names


def _objective_names(problem: str, members) -> list[str]:
    names = {tuple(item[3]) for item in members}
    if len(names) > 1:
        raise ValueError(f"problem {problem!r}: runs with different objectives {sorted(names)}")
    return list(names.pop())
