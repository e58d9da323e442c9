"""Population evaluation split over workers: serial, joblib (loky) or Dask.

Only the problem *config* and the genomes travel to the workers. Each worker
process builds the problem from the config once (the expensive part: case,
planning grid, scenario batch) and keeps it in a small per-process cache, so
later generations send a few kilobytes of integers per chunk.

The evaluation is deterministic for a config, so every backend and worker
count gives identical objective and constraint arrays; chunks are
concatenated in the order of the rows of ``X``.

User plug-ins (objectives, constraints, gene blocks registered outside
fdnmoo) travel with the config, not with the evaluator: a planning config's
``build()`` imports its ``plugins`` and the recorded modules of the entries it
uses before it resolves their names, in whichever process builds it (see
:mod:`fdnmoo.plugins`). The evaluator only unpickles configs, so their class
must be importable in the workers.

>>> from fdnmoo.evaluation import Evaluator
>>> with Evaluator("joblib", n_workers=2) as ev:          # doctest: +SKIP
...     F, G = ev.evaluate(config, X)
...     F, G, F_lo, F_hi = ev.evaluate(config, X, bounds=True)   # interval objectives
"""

from __future__ import annotations

import hashlib
import pickle
import threading
from collections import OrderedDict
from typing import Any, Hashable

import numpy as np

from .allocator import retain_freed_memory

__all__ = ["BACKENDS", "Evaluator", "cached_problem", "clear_cache", "evaluate_chunk",
           "remember_problem", "report_chunk"]

#: Names accepted by ``Evaluator(backend=...)``.
BACKENDS: tuple[str, ...] = ("serial", "joblib", "dask")

#: Problems built per process, most recently used last (bounded: a worker
#: serving several studies keeps the last few resident).
_PROBLEMS: "OrderedDict[Hashable, Any]" = OrderedDict()
_CACHE_SIZE = 4
_LOCK = threading.RLock()  # a multi-threaded Dask worker builds each problem once
_TRIM_KEY = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"


def _config_key(config: Any) -> Hashable:
    """Cache key of a config: its ``key`` property, its hash, or a pickle digest."""
    key = getattr(config, "key", None)
    if isinstance(key, str):
        return (type(config).__qualname__, key)
    try:
        hash(config)
        return config
    except TypeError:  # e.g. a dataclass holding lists
        return (type(config).__qualname__, hashlib.sha256(pickle.dumps(config)).hexdigest())


def cached_problem(config: Any) -> Any:
    """The problem built from ``config`` in this process (built on first use)."""
    retain_freed_memory()
    key = _config_key(config)
    with _LOCK:
        problem = _PROBLEMS.get(key)
        if problem is None:
            problem = config.build()
            _PROBLEMS[key] = problem
            while len(_PROBLEMS) > _CACHE_SIZE:
                _PROBLEMS.popitem(last=False)
        else:
            _PROBLEMS.move_to_end(key)
        return problem


def remember_problem(problem: Any) -> None:
    """Put an already built problem in this process's cache under its config.

    Saves the serial backend from building a second copy of the problem that
    is already resident in the main process.
    """
    retain_freed_memory()
    key = _config_key(problem.config)
    with _LOCK:
        _PROBLEMS[key] = problem
        _PROBLEMS.move_to_end(key)
        while len(_PROBLEMS) > _CACHE_SIZE:
            _PROBLEMS.popitem(last=False)


def clear_cache() -> None:
    """Forget the problems built in this process."""
    with _LOCK:
        _PROBLEMS.clear()


def report_chunk(config: Any, X: np.ndarray) -> list[dict]:
    """``plan_report`` of each genome of ``X`` (runs in a worker)."""
    problem = cached_problem(config)
    return [problem.plan_report(x) for x in np.atleast_2d(X)]


def evaluate_chunk(config: Any, X: np.ndarray, bounds: bool | str = False) -> tuple:
    """Evaluate genomes ``X`` on the problem of ``config`` (runs in a worker).

    Parameters
    ----------
    config
        A picklable problem description with ``build()`` returning an object
        with ``evaluate_genomes(X) -> (F, G)`` (and, for ``bounds=True``,
        ``evaluate_genomes(X, bounds=True) -> (F, G, F_lo, F_hi)``).
    X : ndarray, shape (n, n_var)
    bounds : bool or "affine"
        Also return the objectives' lower and upper values (``"affine"``: and their
        shared affine terms ``F_aff``, ``F_rad``).

    Returns
    -------
    F : ndarray, shape (n, n_obj)
    G : ndarray, shape (n, n_constr), or None
    F_lo, F_hi : ndarray, shape (n, n_obj)
        Only with ``bounds=True``.
    """
    problem = cached_problem(config)
    return problem.evaluate_genomes(X, bounds=bounds) if bounds else problem.evaluate_genomes(X)


class Evaluator:
    """Evaluate populations in chunks on a pool of worker processes.

    Parameters
    ----------
    backend : {"serial", "joblib", "dask"}
        ``serial``: in this process. ``joblib``: a loky process pool on this
        machine (reused across generations). ``dask``: a distributed
        ``Client`` — the one given, or a ``LocalCluster`` on 127.0.0.1 with
        ``n_workers`` single-threaded processes started on first use and shut
        down by :meth:`close`.
    n_workers : int
        Worker processes (joblib, local Dask cluster). Ignored by ``serial``
        and by a given Dask client.
    client : distributed.Client, optional
        Dask client of an existing cluster (left open by :meth:`close`). Its
        workers should run one thread each: the threads of a worker share one
        problem instance.
    chunk_size : int, optional
        Genomes per task; default: the population split into one contiguous
        chunk per worker (large chunks keep the batched power flow efficient).

    Notes
    -----
    The constructor only stores its arguments; pools start on the first
    :meth:`evaluate`. Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, backend: str = "serial", n_workers: int = 1, client: Any = None,
                 chunk_size: int | None = None) -> None:
        self.backend = backend
        self.n_workers = n_workers
        self.client = client
        self.chunk_size = chunk_size
        self._parallel = None
        self._own_client = None
        self._own_cluster = None

    # -- public API -------------------------------------------------------
    def evaluate(self, config: Any, X: np.ndarray, bounds: bool | str = False) -> tuple:
        """Objectives and constraints of the rows of ``X``, in row order.

        Parameters
        ----------
        config
            Picklable problem description (see :func:`evaluate_chunk`).
        X : ndarray, shape (n, n_var)
        bounds : bool or "affine"
            Also return the objectives' lower and upper values (interval objectives;
            ``"affine"``: and ``F_aff``, ``F_rad``, see ``evaluate_genomes``).

        Returns
        -------
        F : ndarray, shape (n, n_obj)
        G : ndarray, shape (n, n_constr), or None if the problem returns none
        F_lo, F_hi : ndarray, shape (n, n_obj)
            Only with ``bounds=True``.
        """
        self._check()
        X = np.asarray(X)
        if self.backend == "serial" or len(X) == 0:
            return evaluate_chunk(config, X, bounds)
        chunks = self._split(X)
        if self.backend == "joblib":
            parts = self._joblib_map(config, chunks, bounds=bounds)
        else:
            parts = self._dask_map(config, chunks, bounds=bounds)
        return _concatenate(parts)

    def prepare(self, config: Any) -> None:
        """Start the workers and build the problem of ``config`` in each one now.

        Optional: the first :meth:`evaluate` does the same lazily. Useful to
        keep start-up out of a timed generation.
        """
        self._check()
        if self.backend == "serial":
            cached_problem(config)
        elif self.backend == "joblib":
            self._joblib_map(config, [None] * int(self.n_workers), func=_prepare)
        else:
            client = self._dask_client()
            client.run(_prepare, config, None)  # on every worker

    def reports(self, config: Any, X: np.ndarray) -> list[dict]:
        """``problem.plan_report(x)`` for each row of ``X``, computed on the workers.

        Returns
        -------
        list of dict
            In row order (see ``PlanningProblem.plan_report``).
        """
        self._check()
        X = np.atleast_2d(np.asarray(X))
        if self.backend == "serial" or len(X) <= 1:
            return report_chunk(config, X)
        chunks = self._split(X)
        if self.backend == "joblib":
            parts = self._joblib_map(config, chunks, func=report_chunk)
        else:
            parts = self._dask_map(config, chunks, func=report_chunk)
        return [report for part in parts for report in part]

    def map(self, func: Any, config: Any, items: Any) -> list:
        """``[func(config, item) for item in items]``, one task per item, on the workers.

        For work other than evaluating a population (e.g. the bi-level driver's
        lower-level runs): ``func`` is a picklable module-level function that
        gets its problem with :func:`cached_problem` ``(config)``. Results come
        back in item order on every backend.
        """
        self._check()
        items = list(items)
        if self.backend == "serial" or not items:
            return [func(config, item) for item in items]
        if self.backend == "joblib":
            return self._joblib_map(config, items, func=func)
        return self._dask_map(config, items, func=func)

    def close(self) -> None:
        """Shut down a Dask cluster started here; a given client is left open."""
        if self._own_client is not None:
            self._own_client.close()
            self._own_client = None
        if self._own_cluster is not None:
            self._own_cluster.close()
            self._own_cluster = None
        self._parallel = None

    def __enter__(self) -> "Evaluator":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"Evaluator(backend={self.backend!r}, n_workers={self.n_workers}, "
                f"chunk_size={self.chunk_size})")

    def __getstate__(self) -> dict[str, Any]:
        # live pools and clients stay in the process that started them
        state = dict(self.__dict__)
        state.update(_parallel=None, _own_client=None, _own_cluster=None, client=None)
        return state

    # -- internals ----------------------------------------------------------
    def _check(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown evaluation backend {self.backend!r}; "
                             f"choose one of {', '.join(BACKENDS)}")
        if int(self.n_workers) < 1:
            raise ValueError(f"n_workers must be >= 1, got {self.n_workers}")
        if self.chunk_size is not None and int(self.chunk_size) < 1:
            raise ValueError(f"chunk_size must be >= 1, got {self.chunk_size}")

    def _split(self, X: np.ndarray) -> list[np.ndarray]:
        if self.chunk_size is None:
            n_chunks = min(len(X), self._n_slots())
        else:
            n_chunks = -(-len(X) // int(self.chunk_size))
        return [c for c in np.array_split(X, max(n_chunks, 1)) if len(c)]

    def _n_slots(self) -> int:
        if self.backend == "dask" and self.client is not None:
            return max(1, sum(self.client.nthreads().values()))
        return int(self.n_workers)

    def _joblib_map(self, config: Any, chunks: list[np.ndarray], func=None,
                    bounds: bool = False) -> list:
        from joblib import Parallel, delayed

        if self._parallel is None:
            # loky keeps one reusable executor: workers and their cached
            # problems survive from one generation to the next
            self._parallel = Parallel(n_jobs=int(self.n_workers), backend="loky")
        if bounds:
            return self._parallel(delayed(evaluate_chunk)(config, c, bounds) for c in chunks)
        return self._parallel(delayed(func or evaluate_chunk)(config, c) for c in chunks)

    def _dask_map(self, config: Any, chunks: list[np.ndarray], func=None,
                  bounds: bool = False) -> list:
        client = self._dask_client()
        if bounds:
            futures = client.map(evaluate_chunk, [config] * len(chunks), chunks,
                                 [bounds] * len(chunks), pure=False)
        else:
            futures = client.map(func or evaluate_chunk, [config] * len(chunks), chunks,
                                 pure=False)
        return client.gather(futures)

    def _dask_client(self) -> Any:
        if self.client is not None:
            return self.client
        if self._own_client is None:
            import dask
            from distributed import Client, LocalCluster

            # Dask's nanny sets MALLOC_TRIM_THRESHOLD_ before spawning workers, which
            # turns off glibc's adaptive mmap threshold: every large numpy temporary
            # is then mmap'ed afresh and the evaluation runs about 2x slower. The
            # nanny also leaks the variable into this process's environment, where
            # later child processes (loky workers) would inherit it.
            with dask.config.set({_TRIM_KEY: None}):
                self._own_cluster = LocalCluster(
                    n_workers=int(self.n_workers), threads_per_worker=1, processes=True,
                    host="127.0.0.1", dashboard_address=None)
            self._own_client = Client(self._own_cluster)
        return self._own_client


def _prepare(config: Any, _: Any) -> None:
    cached_problem(config)


def _concatenate(parts: list[tuple]) -> tuple:
    """The chunks' outputs (F, G[, F_lo, F_hi]) joined row-wise; G stays None if a chunk has none."""
    out = []
    for k in range(len(parts[0])):
        if any(p[k] is None for p in parts):
            out.append(None)
        else:
            out.append(np.concatenate([np.asarray(p[k]) for p in parts], axis=0))
    return tuple(out)
