"""A small integer pymoo problem with fake plan reports, for runner/results tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pymoo.core.problem import Problem
from pymoo.operators.crossover.sbx import SBX
from pymoo.operators.mutation.pm import PM
from pymoo.operators.repair.rounding import RoundingRepair
from pymoo.operators.sampling.rnd import IntegerRandomSampling

# registry names: total_cost is minimised, structural_adaptability maximised
NAMES = ["total_cost", "structural_adaptability"]


@dataclass(frozen=True)
class ToyConfig:
    n_var: int = 8

    @property
    def key(self) -> str:
        return f"toy-{self.n_var}"

    def build(self) -> "ToyPlanning":
        return ToyPlanning(self)


class ToyPlanning(Problem):
    """Two objectives (cost up, adaptability up with the genes) and one constraint."""

    def __init__(self, config: ToyConfig = ToyConfig()) -> None:
        self.config = config
        self.objective_names = list(NAMES)
        self.constraint_names = ["budget"]
        self.evaluator = None
        super().__init__(n_var=config.n_var, n_obj=2, n_ieq_constr=1, xl=0, xu=4, vtype=int)

    def evaluate_genomes(self, X):
        X = np.asarray(X, dtype=float)
        cost = (X ** 2).sum(axis=1) + 1.0
        adapt = np.sqrt(X.sum(axis=1) + 1.0)
        g = X.sum(axis=1) - 3.0 * X.shape[1]
        return np.column_stack([cost, -adapt]), g[:, None]

    def _evaluate(self, X, out, *args, **kwargs):
        if self.evaluator is not None:
            out["F"], out["G"] = self.evaluator.evaluate(self.config, X)
        else:
            out["F"], out["G"] = self.evaluate_genomes(X)

    def plan_report(self, x) -> dict:
        F, G = self.evaluate_genomes(np.atleast_2d(x))
        x = np.asarray(x).astype(int)
        rows = []
        for s in (1, 2):
            for i in np.flatnonzero(x[:4]):
                rows.append({"stage": s, "item": "pv", "where": f"bus {i + 2}",
                             "size": f"{x[i] * s / 2:g} MW", "built_in_stage": None})
            if x[4]:
                rows.append({"stage": s, "item": "sop", "where": "buses 12-22",
                             "size": f"{x[4]:g} MVA / {x[4]:g} MVA", "built_in_stage": None})
        plan = pd.DataFrame(rows, columns=["stage", "item", "where", "size", "built_in_stage"])
        costs = pd.DataFrame({"investment": [F[0, 0] / 2, 0.0], "losses": [F[0, 0] / 2, 0.0]},
                             index=pd.Index([1, 2], name="stage"))
        costs["total"] = costs.sum(axis=1)
        return {"objectives": {"total_cost": float(F[0, 0]),
                               "structural_adaptability": float(-F[0, 1])},
                "constraints": {"budget": float(G[0, 0])}, "costs": costs, "plan": plan}


def toy_operators() -> dict:
    return {"sampling": IntegerRandomSampling(),
            "crossover": SBX(prob=0.9, eta=3.0, vtype=float, repair=RoundingRepair()),
            "mutation": PM(eta=3.0, vtype=float, repair=RoundingRepair())}
