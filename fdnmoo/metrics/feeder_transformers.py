"""Transformer expansion of reinforced feeders (seed 000's Case IV).

R. Wang et al., Nature Communications 15 (2024), Case IV: the feeders that
violate the security criteria are reinforced, their lines to 1.5x capacity,
"and the transformer capacity of the reinforced feeder needs to be expanded as
well". A case like tpc84 has no transformer per feeder: its feeders leave one
ideal source bus (an ext_grid), so there is no rating to change in the power
flow. What can be posed is the price: a reinforcement corridor with a
``transformer_factor`` (column of ``candidates.corridors``) expands the
transformer of every feeder it belongs to, once, in the stage the feeder first
gets a reinforced line, from the feeder's head capacity ``S`` to
``transformer_factor x S``; the added ``(transformer_factor - 1) S`` MVA is an
investment item of kind ``"feeder transformer"`` at
``unit_costs.transformer_per_mva`` of that stage (lifetime
``lifetimes_years.transformer``, O&M ``transformer_om_per_mva_year``).

Feeders are the ``net.bus.feeder`` labels; a line belongs to the feeders of
its ends that are not substation (ext_grid) buses (one for a section, two for
a tie). A feeder's head capacity is the thermal rating of the lines joining it
to a substation bus, ``sqrt(3) vn_kv max_i_ka parallel`` summed (tpc84: one
400 A head line at 11.4 kV, 7.90 MVA). Where several of a feeder's lines are
first reinforced in one stage with different factors, the largest is taken.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..planning import label_positions
from .items import PricedItems

__all__ = ["FeederExpansion", "feeder_transformer_items"]


@dataclass(frozen=True, eq=False)
class FeederExpansion:
    """Which feeders the candidate lines expand, and the feeders' head capacities.

    Attributes
    ----------
    names : ndarray of str, shape (n_feeders,)
    head_mva : ndarray, shape (n_feeders,)
        Rating of the lines from a substation bus into the feeder (NaN: none).
    line_feeders : ndarray of int, shape (n_candidate_lines, 2)
        Feeder positions of every candidate line's non-substation ends (-1: none).
    factor : ndarray, shape (n_candidate_lines,)
        ``transformer_factor`` of the line's corridor (NaN: no expansion).
    """

    names: np.ndarray
    head_mva: np.ndarray
    line_feeders: np.ndarray
    factor: np.ndarray

    @classmethod
    def of(cls, net, line_ends: np.ndarray, factor: np.ndarray) -> "FeederExpansion | None":
        """From ``net`` (with ``bus.feeder``), the candidate lines' end buses and factors;
        None when no candidate has a factor."""
        factor = np.asarray(factor, float)
        if not np.isfinite(factor).any():
            return None
        if "feeder" not in net.bus:
            raise ValueError("transformer_factor needs the feeders of the buses (net.bus.feeder)")
        names = np.array(sorted(set(net.bus.feeder.astype(str))))
        feeder_of = dict(zip(net.bus.index.to_numpy(np.int64),
                             np.searchsorted(names, net.bus.feeder.astype(str).to_numpy())))
        eg = net.ext_grid
        roots = set(eg.bus[eg.in_service.astype(bool)].astype(int))
        ends = np.asarray(line_ends, np.int64)
        line_feeders = np.array([[-1 if b in roots else feeder_of[b] for b in pair]
                                 for pair in ends.tolist()], np.int64).reshape(-1, 2)
        line_feeders[line_feeders[:, 0] == line_feeders[:, 1], 1] = -1
        head = np.zeros(len(names))
        line = net.line[net.line.in_service.astype(bool)]
        vn = net.bus.vn_kv.astype(float)
        for a, b, i_ka, par in zip(line.from_bus, line.to_bus, line.max_i_ka, line.parallel):
            if (a in roots) != (b in roots):
                other = b if a in roots else a
                head[feeder_of[other]] += math.sqrt(3) * vn[other] * float(i_ka) * float(par)
        head[head == 0] = np.nan
        return cls(names=names, head_mva=head, line_feeders=line_feeders, factor=factor)


def feeder_transformer_items(model, batch) -> PricedItems | None:
    """The feeder transformer expansions of the plans of ``batch`` (rule: module docstring).

    ``model`` is the problem's :class:`~fdnmoo.metrics.cost_model.CostModel`.

    Raises
    ------
    ValueError
        A reinforced feeder has no head line from a substation bus (its capacity is unknown).
    """
    exp = model.feeder_expansion
    rows = batch.new_lines
    if exp is None or not len(rows):
        return None
    pos = label_positions(model.line_labels, rows["line"], "grid.candidate_lines")
    f = exp.factor[pos]
    plan, stage, feeders = rows["plan"], rows["stage"], exp.line_feeders[pos]
    hit = [(p, s, k, x) for p, s, pair, x in zip(plan, stage, feeders, f) if np.isfinite(x)
           for k in pair if k >= 0]
    if not hit:
        return None
    first: dict[tuple[int, int], tuple[int, float]] = {}
    for p, s, k, x in sorted(hit, key=lambda h: (h[0], h[2], h[1], -h[3])):
        first.setdefault((int(p), int(k)), (int(s), float(x)))
    keys = list(first)
    p = np.array([k[0] for k in keys], np.int64)
    k = np.array([k[1] for k in keys], np.int64)
    s = np.array([first[key][0] for key in keys], np.int64)
    x = np.array([first[key][1] for key in keys])
    head = exp.head_mva[k]
    if np.isnan(head).any():
        bad = exp.names[k[np.isnan(head)][0]]
        raise ValueError(f"case {model.case_name!r}: feeder {bad} is reinforced but no line "
                         f"joins it to a substation bus, so its transformer capacity is unknown")
    added = (x - 1.0) * head
    price = model.unit_cost("transformer_per_mva").at(s, lambda i: f"feeder {exp.names[k[i]]}")
    om = model.om_cost("transformer_om_per_mva_year").values[s - 1] * added
    return PricedItems.of("feeder transformer", "MVA", p, s, added, price,
                          model.lifetime("transformer"), om,
                          where=lambda: [f"feeder {exp.names[i]} ({h:.2f} MVA x {f:g})"
                                         for i, h, f in zip(k, head, x)])
