"""A tiny picklable problem config for evaluator tests (importable by workers)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BUILDS = {"count": 0}


@dataclass(frozen=True)
class ToyConfig:
    """Two objectives and one constraint of integer genomes; ``build`` counts calls."""

    n_var: int = 6
    scale: float = 1.0

    def build(self) -> "ToyProblem":
        BUILDS["count"] += 1
        return ToyProblem(self)


class ToyProblem:
    def __init__(self, config: ToyConfig) -> None:
        self.config = config
        # a deterministic "resident case" the workers keep
        self.weights = np.random.default_rng(7).random(config.n_var)

    def evaluate_genomes(self, X):
        X = np.asarray(X, dtype=float)
        # accumulate column by column: a row's value must not depend on the
        # other rows of the chunk (a BLAS matmul may change with the batch)
        f1 = np.zeros(len(X))
        for j, w in enumerate(self.weights):
            f1 += self.config.scale * w * X[:, j]
        f2 = np.sqrt(((X - 3.0) ** 2).sum(axis=1)) + np.sin(X).sum(axis=1) / 7.0
        g = X.sum(axis=1) - 2.5 * X.shape[1]
        return np.column_stack([f1, f2]), g[:, None]

    def plan_report(self, x) -> dict:
        F, G = self.evaluate_genomes(np.atleast_2d(x))
        return {"objectives": {"f1": float(F[0, 0]), "f2": float(F[0, 1])},
                "x": [int(v) for v in x]}
