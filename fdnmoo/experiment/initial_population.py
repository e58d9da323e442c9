"""A run's initial population seeded from an earlier run's solutions (``algorithm.initial_from``).

A run spec may say ``algorithm: {initial_from: PATH}`` with PATH a finished results folder
(relative to the spec file's folder, like the spec's other paths). Researchers seed a larger
problem this way from a smaller one whose space it contains: seed 000's Case VII (Case I plus
line reinforcement) starts from Case I's solutions, which it contains with every reinforcement
gene at "not built".

The earlier run's problem is rebuilt from its ``run.json`` spec, and the genes of every block
both problems share (:func:`~fdnmoo.experiment.user_allocation.shared_blocks`: same name,
registered block, parameters and bounds) are copied from its ``pareto_genomes.csv`` (the one
file of a results folder that holds decision vectors for every problem). Blocks the earlier
problem lacks get their lower bounds, which every encoding reads as "nothing": conductor 0
(not built) of a line corridor, level 0 of a DER or SOP size; then the new problem's repair
makes every row feasible. The chosen solution comes first, the other Pareto solutions follow
in the earlier run's order; where they are more than the population, the first ``pop_size``
are taken (the chosen one always among them). These rows replace the first rows of the
initial population (:class:`~fdnmoo.operators.composite.SeededSampling`); the rest is sampled
as usual. Only generation 1 uses them: a resumed run continues from its checkpoint.

The run hash gets :func:`initial_digest` of the folder's genomes, so a changed earlier run
changes the hash; a spec without the key keeps its hash.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from .results import GENOMES_FILE, read_pareto_genomes
from .user_allocation import shared_blocks

__all__ = ["check_initial_folder", "initial_digest", "parse_initial_from", "source_problem",
           "transplanted_genomes"]


def check_initial_folder(path: str | Path) -> Path:
    """``path`` if it is a finished results folder (``run.json`` and its Pareto genomes,
    :data:`~fdnmoo.experiment.results.GENOMES_FILE`).

    Raises
    ------
    ValueError
        No such folder, or one of the two files missing.
    """
    path = Path(path)
    if not path.is_dir():
        raise ValueError(f"no such results folder {str(path)!r}")
    for name in ("run.json", GENOMES_FILE):
        if not (path / name).is_file():
            raise ValueError(f"{str(path)!r} is not a finished results folder: no {name}")
    return path


def initial_digest(path: str | Path) -> str:
    """Hex digest of the folder's Pareto genomes file (enters the run hash)."""
    return hashlib.sha256((Path(path) / GENOMES_FILE).read_bytes()).hexdigest()[:16]


def parse_initial_from(check, value, base_dir: str | Path | None) -> tuple[str, str]:
    """Validate a spec's ``algorithm.initial_from`` (relative to ``base_dir``).

    Returns
    -------
    (str, str)
        The results folder's absolute path and :func:`initial_digest`.

    Raises
    ------
    SpecError
        Through ``check`` (a :class:`~fdnmoo.experiment.checking.Checker`): not a string, or
        not a finished results folder (:func:`check_initial_folder`).
    """
    value = check.string(value, "algorithm.initial_from")
    path = (Path(base_dir) if base_dir is not None else Path()) / value
    try:
        folder = str(check_initial_folder(path).resolve())
    except ValueError as exc:
        raise check.fail("algorithm.initial_from", f"{value!r}: {exc}") from None
    return folder, initial_digest(path)


def source_problem(path: str | Path):
    """The problem of the finished run in ``path``, rebuilt from its ``run.json`` spec."""
    from .spec import parse_spec

    path = Path(path)
    meta = json.loads((path / "run.json").read_text())
    spec = dict(meta["spec"])
    # how the earlier run started does not change its problem (and its own source may be gone)
    spec["algorithm"] = {k: v for k, v in spec["algorithm"].items() if k != "initial_from"}
    return parse_spec(spec, source=str(path / "run.json")).build_problem()


def _ordered_genomes(path: Path) -> np.ndarray:
    """The folder's genomes, the chosen solution first, the others in file order."""
    chosen = json.loads((path / "run.json").read_text()).get("chosen_solution")
    solutions, X = read_pareto_genomes(path)
    first = solutions == int(chosen) if chosen is not None else np.zeros(len(solutions), bool)
    order = np.concatenate([np.flatnonzero(first), np.flatnonzero(~first)])
    return np.rint(X[order].astype(float)).astype(np.int64)


def transplanted_genomes(path: str | Path, problem, pop_size: int,
                         seed: int = 0) -> np.ndarray:
    """The earlier run's solutions as repaired genomes of ``problem`` (module docstring).

    Parameters
    ----------
    path : path
        A finished results folder (:func:`check_initial_folder`).
    problem : PlanningProblem
        The new run's problem (its ``genome`` is bound).
    pop_size : int
        At most this many rows are returned.
    seed : int
        Seed of the repair's generator.

    Returns
    -------
    ndarray of int, shape (min(n_solutions, pop_size), problem.n_var)

    Raises
    ------
    ValueError
        The folder is not a finished run, has no solution, or its problem shares no block with
        ``problem`` (or a block of the same name differs).
    """
    path = check_initial_folder(path)
    source = getattr(source_problem(path), "genome", None)
    target = getattr(problem, "genome", None)
    if source is None or target is None:
        raise ValueError("a warm start needs planning problems (gene blocks) on both sides")
    X = _ordered_genomes(path)[: int(pop_size)]
    if len(X) == 0:
        raise ValueError(f"{str(path / GENOMES_FILE)!r} holds no solution")
    if X.shape[1] != source.n_var:
        raise ValueError(f"{str(path / GENOMES_FILE)!r} has {X.shape[1]} genes, its run's "
                         f"problem {source.n_var}")
    names = shared_blocks(source, target, what="the new problem", all_shared=True)
    Y = np.repeat(np.asarray(target.xl, dtype=np.int64)[None, :], len(X), axis=0)
    for name in names:
        Y[:, target.slices[name]] = X[:, source.slices[name]]
    return target.repair(Y, np.random.default_rng(int(seed)))
