"""Single-stage planning: one set of decisions, built in stage 1, held over every stage.

Seed 000's Case II (R. Wang et al., Nature Communications 15 (2024), "Cost-benefit
analysis"): the planning "is conducted within one stage, where the network
evolution and the gradual growth in equipment capacity are not considered. The
costs are calculated at current prices, and the investments are paid at the
initial to meet the needs over the entire planning period."

:class:`SingleStageGenome` binds its gene blocks to a one-stage view of the case
(:func:`collapsed_case`: one stage as long as the whole horizon, its demand that of
the horizon's end, the last stage's PV and EV penetration), so that the one set of
decisions is sized for the final needs; :meth:`SingleStageGenome.decode` returns
the plan over all the problem's stages with everything built in stage 1
(:func:`held_plan`). The operation is evaluated in every stage and the
investment priced at stage 1's prices, by the same pipeline as a staged plan.
"""

from __future__ import annotations

import dataclasses
import numpy as np

from fdnmoo.cases.model import stage_growth_factor
from fdnmoo.planning import Plan, planning_grid

from .genome import Genome

__all__ = ["SingleStageGenome", "collapsed_case", "held_plan"]


def collapsed_case(case, n_stages: int | None = None):
    """A copy of ``case`` whose horizon is one stage spanning its first ``n_stages`` stages.

    The stage lasts ``n_stages x years_per_stage`` years at the constant growth rate that
    gives the demand of the end of stage ``n_stages``; PV and EV penetration are those of
    that stage.
    """
    h = case.horizon
    n = int(n_stages or h.n_stages)
    years = n * float(h.years_per_stage)
    factor = float(stage_growth_factor(h, n))
    growth = factor ** (1.0 / years) - 1.0 if years > 0 else 0.0
    last = lambda values: [float(values[min(n, len(values)) - 1])] if len(values) else []
    horizon = dataclasses.replace(h, n_stages=1, years_per_stage=years,
                                  load_growth_per_year=growth,
                                  pv_penetration=last(h.pv_penetration),
                                  ev_penetration=last(h.ev_penetration))
    return dataclasses.replace(case, horizon=horizon)


def held_plan(plan: Plan, n_stages: int) -> Plan:
    """The one-stage ``plan`` built in stage 1 and kept unchanged in stages 1..``n_stages``."""
    if plan.n_stages != 1:
        raise ValueError(f"expected a one-stage plan, got {plan.n_stages} stages")
    sop = plan.sop
    if len(sop):
        sop = np.concatenate([sop] * n_stages)
        sop["stage"] = np.repeat(np.arange(1, n_stages + 1), len(plan.sop))
    return dataclasses.replace(
        plan, n_stages=n_stages, closed_lines=[plan.closed_lines[0]] * n_stages,
        closed_trafos=[plan.closed_trafos[0]] * n_stages, sop=sop,
        der={k: np.repeat(np.asarray(v)[:1], n_stages, axis=0) for k, v in plan.der.items()})


class SingleStageGenome(Genome):
    """A :class:`~fdnmoo.problems.genome.Genome` of one decision stage (module docstring).

    Parameters
    ----------
    blocks : sequence of GeneBlock
        As for :class:`Genome`; they are bound with one stage.

    Attributes
    ----------
    n_stages : int
        Stages of the decoded plans (the problem's).
    grid : PlanningGrid
        The problem's grid (plans are on it).
    decision_grid : PlanningGrid
        The grid of :func:`collapsed_case` the blocks are bound to.
    """

    def bind(self, grid, n_stages: int | None = None) -> "SingleStageGenome":
        n_stages = int(n_stages or grid.case.horizon.n_stages)
        self.decision_grid = planning_grid(collapsed_case(grid.case, n_stages))
        super().bind(self.decision_grid, 1)
        self.grid, self.n_stages = grid, n_stages
        return self

    def decode(self, x: np.ndarray) -> Plan:
        """The plan of one (repaired) genome: its one stage held over all ``n_stages``."""
        return held_plan(self._decode(x, self.decision_grid, 1), self.n_stages)
