"""Running the cells of a compare spec: joblib on this machine, or a Dask cluster.

Every cell is a normal run (:func:`fdnmoo.experiment.runner.run_experiment`)
in its own results folder. A cell whose folder holds the ``run.json`` of the
same run hash is finished and skipped; one with a checkpoint resumes after
its last generation. So a killed grid started again loses no finished run,
and loses at most the current generation of the others. The spec's reference
runs (pymoo's algorithms by ``pymoo.optimize.minimize``,
:mod:`fdnmoo.experiment.pymoo_reference`) run alongside, without checkpoints.

With more than one worker, or on a Dask cluster, the grid is parallel across
cells and every cell evaluates serially: the cells' ``evaluation:`` backend
and workers are overridden (a one-worker grid uses them).
"""

from __future__ import annotations

import json
from typing import Callable

import pandas as pd

from .compare_spec import Cell, CompareSpec
from .pymoo_reference import ReferenceCell, run_reference
from .runner import run_experiment

__all__ = ["is_finished", "run_cell", "run_grid"]


def is_finished(cell: Cell | ReferenceCell) -> bool:
    """Whether ``cell``'s folder holds the complete ``run.json`` of the same run."""
    path = cell.folder / "run.json"
    if not path.is_file():
        return False
    try:
        run = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return run.get("status") == "complete" and run.get("run_hash") == cell.run_hash


def run_cell(cell: Cell | ReferenceCell, serial: bool = False) -> str:
    """Run (or resume, or skip when finished) one cell; returns its folder.

    ``serial`` evaluates inside the run without workers of its own (the grid
    is parallel across cells instead), overriding the cell's ``evaluation:``.
    """
    if isinstance(cell, ReferenceCell):  # a direct pymoo run: no checkpoints, seconds
        return str(cell.folder) if is_finished(cell) else run_reference(cell)
    if not is_finished(cell):
        run_experiment(cell.spec, backend="serial" if serial else None,
                       workers=1 if serial else None, progress=False)
    return str(cell.folder)


def run_grid(spec: CompareSpec, *, workers: int | None = None, scheduler: str | None = None,
             progress: bool = True, runner: Callable[[Cell, bool], str] = run_cell
             ) -> pd.DataFrame:
    """Run every cell of ``spec`` that is not finished; returns the runs table.

    Parameters
    ----------
    spec : CompareSpec
    workers : int, optional
        Cells in parallel on this machine (default ``grid.workers``); with
        more than one, joblib's loky processes run the cells, each serially
        (whatever its ``evaluation:``).
    scheduler : str, optional
        Address of a Dask scheduler (default ``grid.scheduler``); the cells
        are submitted to its workers, which must see the output folder.
    progress : bool
        A tqdm bar over cells.
    runner : callable
        ``runner(cell, serial) -> folder``; tests pass one that stops part-way.

    Returns
    -------
    DataFrame
        ``problem, algorithm, seed, folder``: the input of
        :func:`fdnmoo.experiment.comparison.compare_runs` (the cells, then the
        reference runs).
    """
    from tqdm.auto import tqdm

    workers = workers or spec.workers
    scheduler = scheduler or spec.scheduler
    cells = [*spec.cells, *spec.references]
    todo = [c for c in cells if not is_finished(c)]
    with tqdm(total=len(cells), initial=len(cells) - len(todo), disable=not progress,
              unit="run", desc="runs", dynamic_ncols=True) as bar:
        for _ in _completed(todo, workers, scheduler, runner):
            bar.update(1)
    return pd.DataFrame([{"problem": c.problem, "algorithm": c.algorithm, "seed": c.seed,
                          "folder": c.folder} for c in cells])


def _completed(cells: list[Cell], workers: int, scheduler: str | None, runner):
    """Folders of the cells, as they finish."""
    if not cells:
        return
    if scheduler is not None:
        from dask.distributed import Client, as_completed

        with Client(scheduler) as client:
            futures = client.map(runner, cells, serial=True, pure=False)
            for future in as_completed(futures):
                yield future.result()
    elif workers > 1:
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=workers, backend="loky", return_as="generator_unordered")
        yield from parallel(delayed(runner)(cell, True) for cell in cells)
    else:
        for cell in cells:
            yield runner(cell, False)

