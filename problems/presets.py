"""Presets: the classic planning studies as named compositions.

=================  ==========================================  =========================
preset             genes                                       default objectives
=================  ==========================================  =========================
reconfiguration    open/closed state of switchable lines       loss_kw, voltage_deviation
dg_siting          PV and SVC size per candidate bus & stage   energy_loss_mwh,
                                                               voltage_deviation,
                                                               pv_hosting_mw
sop_planning       SOP schemes and capacities over stages      total_cost,
                                                               operational_adaptability
expansion          substations, lines (conductor, stage), PV,  total_cost, eens_mwh
                   DG (alternative, stage) where the case has
                   candidates; profile "levels" if the case
                   has load levels (md24), else "peak"
joint              lines/switches + SOP + PV/SVC               the AA paper's four
ess_planning       ESS size per candidate bus & stage          as sop_planning
                   (instead of SOPs)
reinforcement      existing lines replaced by ones of 1.5x     as sop_planning
                   capacity at 3x the line price (stage)
no_planning        none: the base network in every stage       as sop_planning
zonal              lines joining clusters (corridors, ties),   total_cost, eens_mwh,
                   PV and ESS per candidate bus; needs         ecost
                   cluster labels (a spec's ``partition:``)
=================  ==========================================  =========================

``ess_planning``, ``reinforcement`` and ``no_planning`` are seed 000's comparison cases
(R. Wang et al., Nature Communications 15 (2024): Case III ESS instead of SOPs, Case IV
line reinforcement, Case V no reinforcement); its Case II (one stage) is the
``single_stage`` option of any problem. Add PV/EVCS blocks in the spec to plan them
alongside.

``zonal`` is the zonal-planning seed paper's study (Shi et al., Processes 13(2) 354,
2025): its clusters (``net.bus.cluster``) define the line genes
(:class:`~fdnmoo.problems.encodings.ClusterLineBlock`: corridors and ties between
clusters), the constraint ``cluster_penetration`` (PV capacity / peak load per cluster),
and the islanding of the reliability objectives (the spec gives them the labels).
PV and ESS are sized per candidate bus, so per cluster; with ``uncertainty: {method:
robust, budget: G}`` the voltage and current constraints hold at the worst case of the
box with budget G (:mod:`fdnmoo.uncertain_pass`). One cluster is the centralised study:
every line is a variable and the penetration is the system's.

A :class:`~fdnmoo.problems.planning.ProblemConfig` takes a preset's blocks,
objectives, constraints, profile, stages and horizon changes as the defaults
of what it does not set, and its ``blocks`` change the preset's blocks by name.
``reconfiguration`` is a snapshot of the case as published: it sets the load
growth to 0, so that its stage is the base year's demand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from fdnmoo.scenarios import PROFILE_NAMES

from .encodings import ClusterLineBlock, DerBlock, DgBlock, LineBlock, SopBlock, SubstationBlock

__all__ = ["PRESETS", "PROFILES", "Preset"]

#: Scenario profiles a problem accepts: those of :meth:`fdnmoo.scenarios.ScenarioBatch.build`
#: (the one list; specs and configs check against it).
PROFILES: tuple[str, ...] = PROFILE_NAMES


@dataclass(frozen=True)
class Preset:
    """Genes, objectives and constraints of a named study."""

    blocks: Callable[[Any], list]  # case -> list of unbound gene blocks
    objectives: tuple[str, ...]
    constraints: tuple[str, ...] = ()
    profile: str | Callable[[Any], str] = "daily"  # or case -> profile name
    n_stages: int | None = None  # None: the case's horizon
    horizon: tuple[tuple[str, Any], ...] = ()  # changes to the case's horizon (a config's win)

    def profile_for(self, case) -> str:
        """The preset's profile for ``case``."""
        return self.profile(case) if callable(self.profile) else self.profile


def _der_blocks(case, kinds=("pv", "svc")) -> list:
    return [DerBlock(kind) for kind in kinds if kind in case.candidates]


def _dg_blocks(case) -> list:
    return [DgBlock()] if len(case.candidates.get("dg", ())) else []


def _levels_or_peak(case) -> str:
    return "levels" if len(case.candidates.get("load_levels", ())) else "peak"


PRESETS: dict[str, Preset] = {
    "reconfiguration": Preset(
        blocks=lambda case: [LineBlock(reconfigure=True, build=False)],
        objectives=("loss_kw", "voltage_deviation"), profile="peak", n_stages=1,
        # the classic benchmark is a snapshot of the case as published (Baran & Wu's loads):
        # no growth, so ieee33's optimum is the published 139.55 kW
        horizon=(("load_growth_per_year", 0.0),)),
    "dg_siting": Preset(
        blocks=lambda case: _der_blocks(case),
        objectives=("energy_loss_mwh", "voltage_deviation", "pv_hosting_mw"),
        constraints=("voltage_band",)),
    "sop_planning": Preset(
        blocks=lambda case: [SopBlock()],
        objectives=("total_cost", "operational_adaptability")),
    "expansion": Preset(
        blocks=lambda case: [SubstationBlock(), LineBlock(reconfigure=False, build=True)]
        + _der_blocks(case, ("pv",)) + _dg_blocks(case),
        objectives=("total_cost", "eens_mwh"),
        constraints=("budget", "unserved_energy"), profile=_levels_or_peak),
    "ess_planning": Preset(
        blocks=lambda case: [DerBlock("ess")],
        objectives=("total_cost", "operational_adaptability")),
    "reinforcement": Preset(
        blocks=lambda case: [LineBlock(reconfigure=False, build=True, reinforce=True)],
        objectives=("total_cost", "operational_adaptability")),
    "no_planning": Preset(
        blocks=lambda case: [LineBlock(reconfigure=False, build=False)],
        objectives=("total_cost", "operational_adaptability")),
    "joint": Preset(
        blocks=lambda case: [LineBlock(reconfigure=True, build=True), SopBlock()] + _der_blocks(case),
        objectives=("total_cost", "operational_adaptability", "pv_uneven_degree",
                    "structural_adaptability")),
    "zonal": Preset(
        blocks=lambda case: [ClusterLineBlock(reconfigure=True, build=True)]
        + _der_blocks(case, ("pv", "ess")),
        objectives=("total_cost", "eens_mwh", "ecost"),
        constraints=("cluster_penetration", "voltage_band", "line_current"),
        profile="peak", n_stages=1),
}
