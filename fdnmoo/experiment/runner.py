"""Run an experiment spec: build the problem, optimise with checkpoints, write results.

The optimisation loop is pymoo's ask/evaluate/advance, driven here one
generation at a time so that after every generation

* the history row is recorded (:class:`HistoryRecorder`, a pymoo callback),
* the whole algorithm state (population, random generator, survival state,
  history) is pickled to ``checkpoint.pkl`` and the history to
  ``history.csv`` — both replaced atomically,
* the progress bar advances.

A killed run started again on the same output folder continues after the
last finished generation and ends with the same result as an uninterrupted
run (the random generator is part of the state). The problem itself is not
pickled: it is rebuilt from the spec and re-attached on loading.
"""

from __future__ import annotations

import io
import os
import pickle
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pymoo.core.callback import Callback

from ..evaluation import Evaluator, remember_problem
from ..objectives import objective_signs
from ..operators import algorithm_entry, reference_directions
from ..operators import build_algorithm as registry_build
from .cluster_map import plot_clusters
from .clusters import cluster_labels
from .filtering import filter_results
from .indicators import HV_REFERENCE, Normalisation
from .indicators import hypervolume as normalised_hypervolume
from .objective_widths import write_widths
from .results import collect_outcome, versions, write_results
from .spec import AlgorithmSpec, ExperimentSpec, SpecError, load_spec

__all__ = ["CHECKPOINT", "FRONTS", "HistoryRecorder", "build_algorithm",
           "load_checkpoint", "optimise", "reference_directions", "run_experiment",
           "save_checkpoint", "termination"]

#: File name of the checkpoint in the output folder.
CHECKPOINT = "checkpoint.pkl"
#: Each generation's feasible non-dominated objectives (as minimised), written at the end.
FRONTS = "fronts.csv"
_CHECKPOINT_FORMAT = 1


# -- running a spec ------------------------------------------------------------------------
def run_experiment(spec: ExperimentSpec | str | Path, out_dir: str | Path | None = None,
                   workers: int | None = None, backend: str | None = None,
                   progress: bool = True) -> Path:
    """Run a spec and write its results folder.

    Parameters
    ----------
    spec : ExperimentSpec or path of a YAML spec
    out_dir : path, optional
        Results folder (default: the spec's ``output``). A folder holding a
        checkpoint of the same spec resumes it; one of another spec is refused.
    workers, backend : optional
        Override ``evaluation.workers`` / ``evaluation.backend`` (results do
        not depend on them).
    progress : bool
        Show a progress bar over generations.

    Returns
    -------
    Path
        The results folder (see :mod:`fdnmoo.experiment.results`).
    """
    if not isinstance(spec, ExperimentSpec):
        spec = load_spec(spec)
    evaluation = spec.evaluation
    evaluation = replace(evaluation, backend=backend or evaluation.backend,
                         workers=workers or evaluation.workers)
    out = Path(out_dir) if out_dir is not None else spec.output_dir()
    out.mkdir(parents=True, exist_ok=True)
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()

    clusters = None
    if spec.partition is not None:  # once per results folder (read back on a resume)
        clusters = cluster_labels(spec.partition, spec.case, spec.case_params, out)
    config = spec.problem_config(clusters=None if clusters is None else clusters.labels)
    problem = spec.build_problem(config)
    if spec.benchmark is None:  # a pymoo benchmark evaluates in-process, not by the evaluator
        remember_problem(problem)
    build_s = time.perf_counter() - t0
    with Evaluator(evaluation.backend, n_workers=evaluation.workers,
                   chunk_size=evaluation.chunk_size) as evaluator:
        problem.evaluator = evaluator
        algorithm = build_algorithm(spec.algorithm, problem, source=spec.source,
                                    initial=_initial_genomes(spec, problem, out))
        with spec.spec_errors():  # e.g. a price an objective needs, found by the first plans
            algorithm, run = optimise(problem, algorithm, n_gen=spec.algorithm.n_gen,
                                      n_eval=spec.algorithm.n_eval,
                                      max_time_s=spec.algorithm.max_time_s,
                                      seed=spec.seed, out_dir=out, run_hash=spec.run_hash,
                                      progress=progress)
        outcome = collect_outcome(problem, algorithm, evaluator)
    outcome.metadata.update(_metadata(spec, config, problem, algorithm, evaluation, run,
                                      started, build_s))
    if clusters is not None:
        outcome.metadata["partition"] = {**clusters.summary, "labels": list(clusters.labels)}
    write_results(out, outcome, grid=getattr(problem, "grid", None))
    if clusters is not None:
        net = problem.grid.case.net
        plot_clusters(net, net.bus.index.to_numpy(), np.asarray(clusters.labels),
                      out / "clusters.png", title=f"{problem.grid.case.name}: "
                      f"{clusters.n_clusters} clusters")
    if spec.filter is not None:  # the spec's Pareto filters: filtered.csv
        filter_results(out, spec.filter)
    if spec.widths is not None:  # objective widths by method: widths.csv
        write_widths(out, config, spec.widths, progress=progress)
    return out


def _initial_genomes(spec: ExperimentSpec, problem, out: Path) -> np.ndarray | None:
    """``algorithm.initial_from``'s genomes for a fresh run (a resumed one has its population)."""
    a = spec.algorithm
    if a.initial_from is None or (out / CHECKPOINT).is_file():
        return None
    from .initial_population import transplanted_genomes

    try:
        return transplanted_genomes(a.initial_from, problem, a.pop_size, seed=spec.seed)
    except ValueError as exc:
        raise SpecError(spec.source, "algorithm.initial_from", f"{a.initial_from!r}: {exc}"
                        ) from None


def _metadata(spec, config, problem, algorithm, evaluation, run, started, build_s) -> dict:
    recorder = algorithm.callback
    return {
        "status": "complete",
        "spec_file": spec.source,
        "spec": spec.to_dict(),
        "settings": list(spec.settings),
        "run_hash": spec.run_hash,
        "config_hash": getattr(config, "key", None),
        "composition": getattr(problem, "composition", None),
        "seed": spec.seed,
        "versions": versions(),
        "algorithm": {"name": spec.algorithm.name, "class": type(algorithm).__name__,
                      "pop_size": int(algorithm.pop_size),
                      "n_ref_dirs": _n_ref_dirs(algorithm),
                      "needs": algorithm_entry(spec.algorithm.name).needs()},
        "evaluation": {"backend": evaluation.backend, "workers": evaluation.workers,
                       "chunk_size": evaluation.chunk_size},
        "n_var": int(problem.n_var),
        "n_gen": int(recorder.rows[-1]["n_gen"]) if recorder.rows else 0,
        "n_evals": int(algorithm.evaluator.n_eval),
        "wall_time_s": run["wall_time_s"],
        "problem_build_s": round(build_s, 3),
        # what a fitted scenario model did (reduction, k, Kantorovich distance, seconds)
        "scenarios": getattr(getattr(problem, "batch", None), "fitted", None),
        "resumed_at_generation": run["resumed_at"],
        "hypervolume": {"lower": _list(recorder.lower), "upper": _list(recorder.upper),
                        "bounds_generation": recorder.bounds_generation,
                        "reference_point": [HV_REFERENCE] * int(problem.n_obj),
                        "note": HistoryRecorder.HV_NOTE},
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _n_ref_dirs(algorithm) -> int | None:
    ref = getattr(algorithm, "ref_dirs", None)
    return None if ref is None else int(len(ref))


def _list(a) -> list | None:
    return None if a is None else [float(v) for v in a]


# -- algorithms ----------------------------------------------------------------------------
def build_algorithm(spec: AlgorithmSpec, problem, operators: dict[str, Any] | None = None,
                    source: str = "<spec>", initial: np.ndarray | None = None):
    """The registered algorithm of ``spec`` (:mod:`fdnmoo.operators.registry`) for ``problem``.

    Parameters
    ----------
    spec : AlgorithmSpec
    problem : pymoo Problem
        Gives ``n_obj`` (reference directions), the genome and the constraints.
    operators : dict, optional
        ``sampling``/``crossover``/``mutation``/``repair`` (default:
        :func:`fdnmoo.operators.genome_operators` of ``problem.genome``).
    source : str
        Spec file named in errors.
    initial : array of int, optional
        Genomes that open the initial population (``algorithm.initial_from``).

    Raises
    ------
    SpecError
        The entry refuses the problem or an option.
    """
    try:
        return registry_build(spec.name, problem, pop_size=spec.pop_size,
                              options=dict(spec.options), operators=operators, source=source,
                              initial=initial)
    except (TypeError, ValueError) as exc:
        raise SpecError(source, "algorithm", f"{spec.name}: {exc}") from None


# -- the resumable loop --------------------------------------------------------------------
class HistoryRecorder(Callback):
    """pymoo callback recording one row per generation.

    Columns: ``n_gen``, ``n_eval``, ``seconds`` (of the generation),
    ``feasible_share``, ``n_front`` (feasible non-dominated),
    ``hypervolume`` (this run's own, see below) and per objective ``<name>_best``, ``<name>_q25``, ``<name>_median``,
    ``<name>_q75`` over the population in the objective's own sign
    (maximised objectives are reported as maxima).

    The ``hypervolume`` column is moocore's, of the feasible solutions, with
    objectives as minimised and scaled to [0, 1] by the ideal and nadir point
    of the feasible non-dominated front of the first generation that has a
    feasible solution (``bounds_generation``; ``lower``/``upper`` in
    ``run.json``), reference point 1.1 in every scaled objective. Infeasible
    objective values never set the scale; generations before
    ``bounds_generation`` have hypervolume 0, and later fronts beyond those
    bounds may exceed 1.1 ** n_obj. It follows one run's progress; comparing
    runs needs a shared normalisation (:mod:`fdnmoo.experiment.comparison`).

    It also keeps each generation's feasible non-dominated objectives as
    minimised (:meth:`front_table`, ``fronts.csv``): the indicators of
    :mod:`fdnmoo.experiment.indicators` on a normalisation shared by many
    runs are computed from them afterwards.

    Parameters
    ----------
    names : list of str
        Objective names (columns of F).
    signs : array of +1/-1
        Factor from minimised F to the objective's own sign.
    """

    def __init__(self, names: list[str], signs: np.ndarray) -> None:
        super().__init__()
        self.names = list(names)
        self.signs = np.asarray(signs, dtype=float)
        self.rows: list[dict[str, float]] = []
        self.fronts: list[np.ndarray] = []
        self.lower: np.ndarray | None = None
        self.upper: np.ndarray | None = None
        self.bounds_generation: int | None = None
        self._tick = time.perf_counter()

    #: How ``hypervolume`` is normalised, for ``run.json``.
    HV_NOTE = ("objectives as minimised, feasible solutions only, scaled to [0, 1] by lower "
               "(ideal) and upper (nadir) of the feasible non-dominated front of generation "
               "bounds_generation, the first with a feasible solution (0 before it); "
               "reference point 1.1")

    def __setstate__(self, state: dict) -> None:
        # checkpoints of versions before ``fronts``: their generations have no front kept
        state.setdefault("fronts", [np.empty((0, len(state["names"])))] * len(state["rows"]))
        # before ``bounds_generation``: bounds of generation 1's finite points, kept as they were
        state.setdefault("bounds_generation", 1 if state.get("lower") is not None else None)
        self.__dict__.update(state)

    def mark(self) -> None:
        """Start timing the next generation now (called on start and resume)."""
        self._tick = time.perf_counter()

    def notify(self, algorithm) -> None:
        F = np.asarray(algorithm.pop.get("F"), dtype=float)
        cv = np.asarray(algorithm.pop.get("CV"), dtype=float).reshape(len(F), -1)[:, 0]
        feasible = (cv <= 0) & np.all(np.isfinite(F), axis=1)
        now = time.perf_counter()
        front = _front(F[feasible])
        if self.lower is None and len(front):  # the first feasible front sets the scale
            self.lower, self.upper = front.min(axis=0), front.max(axis=0)
            self.bounds_generation = int(algorithm.n_iter)
        self.fronts.append(front)
        row = {"n_gen": int(algorithm.n_iter), "n_eval": int(algorithm.evaluator.n_eval),
               "seconds": now - self._tick, "feasible_share": float(feasible.mean()),
               "n_front": len(front),
               "hypervolume": self.hypervolume(F[feasible])}
        self._tick = now
        own = F * self.signs
        for j, name in enumerate(self.names):
            col = own[:, j]
            best = np.nanmin(col) if self.signs[j] > 0 else np.nanmax(col)
            q25, med, q75 = np.nanpercentile(col, [25, 50, 75])
            row.update({f"{name}_best": best, f"{name}_q25": q25, f"{name}_median": med,
                        f"{name}_q75": q75})
        self.rows.append(row)

    def hypervolume(self, F: np.ndarray) -> float:
        """Hypervolume of feasible minimised objectives ``F`` on this run's fixed
        normalisation (0 before it is set)."""
        if len(F) == 0 or self.lower is None:
            return 0.0
        return normalised_hypervolume(F, Normalisation(ideal=self.lower, nadir=self.upper))

    def table(self) -> pd.DataFrame:
        """The history as a DataFrame (one row per generation)."""
        return pd.DataFrame(self.rows)

    def front_table(self) -> pd.DataFrame:
        """Each generation's feasible non-dominated objectives, as minimised.

        Columns ``n_gen``, ``n_eval`` and the objective names; one row per
        point (a generation without feasible points has none).
        """
        parts = [pd.DataFrame(F, columns=self.names).assign(n_gen=row["n_gen"],
                                                             n_eval=row["n_eval"])
                 for row, F in zip(self.rows, self.fronts) if len(F)]
        columns = ["n_gen", "n_eval", *self.names]
        return pd.concat(parts, ignore_index=True)[columns] if parts else \
            pd.DataFrame(columns=columns)


def _front(F: np.ndarray) -> np.ndarray:
    """Non-dominated rows of ``F`` (minimised)."""
    if len(F) == 0:
        return F
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    return F[NonDominatedSorting().do(F, only_non_dominated_front=True)]


def termination(n_gen: int | None = None, n_eval: int | None = None,
                max_time_s: float | None = None):
    """pymoo termination stopping at whichever of the given limits comes first.

    Parameters
    ----------
    n_gen : int, optional
        Generations (:class:`~pymoo.termination.max_gen.MaximumGenerationTermination`).
    n_eval : int, optional
        Evaluations (:class:`~pymoo.termination.max_eval.MaximumFunctionCallTermination`);
        checked after each generation, so the last one may overshoot it.
    max_time_s : float, optional
        Wall time in seconds (:class:`~pymoo.termination.max_time.TimeBasedTermination`);
        not reproducible.

    Raises
    ------
    ValueError
        None of the three is given.
    """
    from pymoo.termination import get_termination
    from pymoo.termination.collection import TerminationCollection

    parts = [get_termination(name, limit) for name, limit in
             (("n_gen", n_gen), ("n_eval", n_eval), ("time", max_time_s)) if limit is not None]
    if not parts:
        raise ValueError("no termination: give n_gen, n_eval or max_time_s")
    return parts[0] if len(parts) == 1 else TerminationCollection(*parts)


def optimise(problem, algorithm, *, n_gen: int | None = None, seed: int, out_dir: str | Path,
             run_hash: str = "", progress: bool = True, after_generation=None,
             n_eval: int | None = None, max_time_s: float | None = None
             ) -> tuple[Any, dict]:
    """Run ``algorithm`` on ``problem`` with checkpoints until :func:`termination`.

    Parameters
    ----------
    problem, algorithm
        A pymoo problem and a fresh (not set up) algorithm. Ignored in favour of
        the checkpointed state when ``out_dir`` holds a checkpoint of the same
        ``run_hash``.
    n_gen, n_eval, max_time_s : optional
        Generations, evaluations and wall seconds (over all sessions); the run
        stops at whichever comes first. Only the wall time is not reproducible.
    seed : int
    out_dir : path
        Receives ``checkpoint.pkl`` and ``history.csv`` after every generation.
    run_hash : str
        Identity of the run; a checkpoint of another run is refused.
    progress : bool
        tqdm bar over evaluations when ``n_eval`` is given, else over
        generations, else over seconds.
    after_generation : callable, optional
        Called with the algorithm after each checkpoint (tests use it to
        simulate a kill).

    Returns
    -------
    algorithm
        The finished algorithm (``algorithm.callback`` is the
        :class:`HistoryRecorder`).
    run : dict
        ``wall_time_s`` (over all sessions) and ``resumed_at`` (generations at
        which earlier sessions stopped).
    """
    from tqdm.auto import tqdm

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state = load_checkpoint(out / CHECKPOINT, problem, run_hash)
    if state is None:
        names, signs = objective_signs(problem)
        algorithm.setup(problem, termination=termination(n_gen, n_eval, max_time_s),
                        seed=int(seed), callback=HistoryRecorder(names, signs))
        wall_before, resumed_at = 0.0, []
    else:
        algorithm = state["algorithm"]
        wall_before = state["wall_time_s"]
        resumed_at = state["resumed_at"] + [len(algorithm.callback.rows)]
        if algorithm.start_time is not None:  # max_time counts the sessions, not the pause
            algorithm.start_time = time.time() - wall_before
    recorder: HistoryRecorder = algorithm.callback
    recorder.mark()
    t0 = time.perf_counter()
    unit, total, count = _bar_measure(n_gen, n_eval, max_time_s)
    with tqdm(total=total, initial=count(algorithm, wall_before), disable=not progress,
              unit=unit, desc=_BAR_NAMES[unit], dynamic_ncols=True) as bar:
        # a problem without genes has one plan: the first generation has evaluated it
        while algorithm.has_next() and not (problem.n_var == 0 and recorder.rows):
            algorithm.next()
            wall = wall_before + time.perf_counter() - t0
            save_checkpoint(out / CHECKPOINT, algorithm, problem, run_hash=run_hash,
                            wall_time_s=wall, resumed_at=resumed_at)
            _write_csv(recorder.table(), out / "history.csv")
            row = recorder.rows[-1]
            bar.update(count(algorithm, wall) - bar.n)
            bar.set_postfix(gen=row["n_gen"], evals=row["n_eval"],
                            hv=f"{row['hypervolume']:.4g}",
                            feasible=f"{row['feasible_share']:.0%}", refresh=False)
            if after_generation is not None:
                after_generation(algorithm)
    wall = wall_before + time.perf_counter() - t0
    if not recorder.rows or not (out / "history.csv").exists():
        _write_csv(recorder.table(), out / "history.csv")
    _write_csv(recorder.front_table(), out / FRONTS)
    return algorithm, {"wall_time_s": round(wall, 3), "resumed_at": resumed_at}


_BAR_NAMES = {"eval": "evaluations", "gen": "generations", "s": "wall time"}


def _bar_measure(n_gen, n_eval, max_time_s):
    """Unit, total and count ``(algorithm, wall_s) -> number`` of the progress bar.

    The count stops at the total: the last generation may overshoot ``n_eval``.
    """
    if n_eval is not None:
        unit, total = "eval", int(n_eval)
        measure = lambda alg, wall: int(alg.evaluator.n_eval)  # noqa: E731
    elif n_gen is not None:
        unit, total = "gen", int(n_gen)
        measure = lambda alg, wall: len(alg.callback.rows)  # noqa: E731
    else:
        unit, total = "s", float(max_time_s)
        measure = lambda alg, wall: round(wall, 1)  # noqa: E731
    return unit, total, lambda alg, wall: min(measure(alg, wall), total)


# -- checkpoints ---------------------------------------------------------------------------
def _pickler_class() -> type:
    # cloudpickle: some pymoo algorithms (CTAEA) keep closures in their state
    try:
        import cloudpickle
    except ImportError:  # joblib (a dependency) vendors it
        from joblib.externals import cloudpickle

    class _Pickler(cloudpickle.Pickler):
        """Pickles the algorithm with the (rebuildable) problem left out."""

        def __init__(self, file, problem) -> None:
            super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
            self._problem = problem

        def persistent_id(self, obj: Any) -> str | None:
            return "problem" if obj is self._problem else None

    return _Pickler


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, problem) -> None:
        super().__init__(file)
        self._problem = problem

    def persistent_load(self, pid: Any) -> Any:
        if pid == "problem":
            return self._problem
        raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")


def save_checkpoint(path: str | Path, algorithm, problem, *, run_hash: str,
                    wall_time_s: float, resumed_at: list[int]) -> None:
    """Atomically write the algorithm state (without the problem) to ``path``."""
    buffer = io.BytesIO()
    _pickler_class()(buffer, problem).dump({
        "format": _CHECKPOINT_FORMAT, "run_hash": run_hash, "algorithm": algorithm,
        "wall_time_s": wall_time_s, "resumed_at": list(resumed_at)})
    _atomic_write(Path(path), buffer.getvalue())


def load_checkpoint(path: str | Path, problem, run_hash: str) -> dict | None:
    """The checkpointed state at ``path`` with ``problem`` re-attached, or None.

    Raises
    ------
    SpecError
        The checkpoint belongs to another run (different spec) or is unreadable.
    """
    path = Path(path)
    if not path.is_file():
        return None
    try:
        with path.open("rb") as fh:
            state = _Unpickler(fh, problem).load()
    except Exception as exc:  # truncated or from an incompatible version
        raise SpecError(str(path), "", f"unreadable checkpoint ({type(exc).__name__}: "
                        f"{exc}); delete it to start afresh") from None
    if state.get("format") != _CHECKPOINT_FORMAT or state.get("run_hash") != run_hash:
        raise SpecError(str(path), "", "checkpoint of another run (spec, algorithm or seed "
                        "differ); choose another output folder or delete it")
    return state


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _write_csv(table: pd.DataFrame, path: Path) -> None:
    _atomic_write(path, table.to_csv(index=False).encode())
