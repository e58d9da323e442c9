"""SOP investment items of a batch of plans: sites, converter capacity, connecting lines.

Pricing (seed 000): ``sop converter`` = increase of every terminal's capacity
x ``sop_per_mva``; ``sop site`` = ``sop_site_per_site`` per new device (a
device growing from 2 to more terminals pays no new site, eq. (8b)); ``sop
line`` = one line joining each new terminal to its device: a new device's
terminals and every later terminal are attached, in order of cost (Prim), to
the nearest terminal already connected; a pair that are the two ends of a case
tie line reuses the tie for free, otherwise the line is the Euclidean distance
between the buses (``net.bus.x_km/y_km``) x ``sop_line_per_km``.

All devices of all plans are priced together: the loops run over stages and
over the (few) terminals a device gains in a stage, never over plans or rows.
"""

from __future__ import annotations

import numpy as np

from ..planning import PlanBatch, label_positions
from .cost_model import CostModel
from .items import PricedItems

__all__ = ["sop_items"]


def sop_items(model: CostModel, batch: PlanBatch) -> list[PricedItems]:
    """Site, converter and line items of every SOP device of ``batch`` (module docstring)."""
    rows = batch.sop
    if not len(rows):
        return []
    life = model.lifetime("sop")
    rows = rows[(rows["stage"] >= 1) & (rows["stage"] <= model.n_stages)]
    if not len(rows):
        return []
    terms, term_of = np.unique(np.stack([rows["plan"], rows["device"], rows["bus"]], axis=1),
                               axis=0, return_inverse=True)
    term_of = term_of.reshape(-1)
    devices, device_of = np.unique(terms[:, :2], axis=0, return_inverse=True)
    device_of = device_of.reshape(-1)
    joins = np.full(len(terms), model.n_stages + 1, np.int64)  # first stage of each terminal
    np.minimum.at(joins, term_of, rows["stage"])
    parts = []
    if model.has_unit_cost("sop_site_per_site"):
        first = np.full(len(devices), model.n_stages + 1, np.int64)
        np.minimum.at(first, device_of, joins)
        price = model.unit_cost("sop_site_per_site").at(first, "an SOP site")
        parts.append(PricedItems.of("sop site", "site", devices[:, 0], first, np.ones(len(first)),
                                    price, life,
                                    where=lambda: [f"device {d}" for d in devices[:, 1]]))
    parts.append(_converters(model, rows, terms, term_of, life))
    parts.append(_lines(model, terms, device_of, joins, devices))
    return parts


def _converters(model: CostModel, rows, terms, term_of, life) -> PricedItems:
    """Capacity added at every terminal: over the running maximum of its earlier ratings."""
    stage, cap = rows["stage"], rows["capacity_mva"]
    price = model.unit_cost("sop_per_mva").at(stage, "SOP converters")
    om = model.om_cost("sop_om_per_mva_year").values[stage - 1]
    n = len(rows)
    order = np.lexsort((np.arange(n), stage, term_of))  # a terminal's rows by stage
    run = np.r_[0, np.flatnonzero(np.diff(term_of[order])) + 1]
    rank = np.arange(n) - np.repeat(run, np.diff(np.r_[run, n]))
    added, held = np.zeros(n), np.zeros(len(terms))
    for j in range(int(rank.max()) + 1):
        k = order[rank == j]
        gain = cap[k] - held[term_of[k]]
        up = gain > 0
        added[k[up]] = gain[up]
        held[term_of[k[up]]] = cap[k[up]]
    k = np.flatnonzero(added > 0)
    where = lambda: [f"device {d} bus {b}" for d, b in zip(rows["device"][k], rows["bus"][k])]
    return PricedItems.of("sop converter", "MVA", rows["plan"][k], stage[k], added[k], price[k],
                          life, om[k] * added[k], where=where)


def _lines(model: CostModel, terms, device_of, joins, devices) -> PricedItems | None:
    """Prim's attachment of every device's terminals, stage by stage, for all devices at once."""
    n_dev = len(devices)
    count = np.bincount(device_of, minlength=n_dev)
    width = int(count.max())
    slot = np.arange(len(terms)) - np.r_[0, np.cumsum(count)[:-1]][device_of]
    bus = np.full((n_dev, width), -1, np.int64)
    bus[device_of, slot] = terms[:, 2]
    join = np.full((n_dev, width), model.n_stages + 1, np.int64)
    join[device_of, slot] = joins
    xy = np.zeros((n_dev, width, 2))
    xy[device_of, slot] = model.bus_xy_km[label_positions(model.bus_labels, terms[:, 2],
                                                          "net.bus")]
    km = np.hypot(xy[:, :, None, 0] - xy[:, None, :, 0], xy[:, :, None, 1] - xy[:, None, :, 1])
    tie = np.isin(model.pair_key(bus[:, :, None], bus[:, None, :]), model.tie_keys)
    cost = np.where(tie, 0.0, km)
    connected = np.zeros((n_dev, width), bool)
    found = []  # (device, stage, a, b) per attachment, slots within the device
    for s in range(1, model.n_stages + 1):
        new = join == s
        start = np.flatnonzero(new.any(axis=1) & ~connected.any(axis=1))
        root = new[start].argmax(axis=1)  # a new device starts at its smallest bus
        connected[start, root] = True
        new[start, root] = False
        while new.any():
            # the cheapest (km, a, b): first minimum in (a, b) order, slots ordered by bus
            pair = np.where(connected[:, :, None] & new[:, None, :], cost, np.inf)
            d = np.flatnonzero(new.any(axis=1))
            a, b = np.divmod(pair[d].reshape(len(d), -1).argmin(axis=1), width)
            found.append((d, np.full(len(d), s), a, b))
            connected[d, b] = True
            new[d, b] = False
    if not found:
        return None
    d, stage, a, b = (np.concatenate(x) for x in zip(*found))
    life = model.lifetime("line")
    reused = tie[d, a, b]
    length = np.where(reused, 0.0, km[d, a, b])
    price = np.zeros(len(d))
    price[~reused] = model.unit_cost("sop_line_per_km").at(stage[~reused], "SOP lines")
    om = np.where(reused, 0.0, model.om_cost("line_om_per_km_year").values[stage - 1] * length)

    def where():
        return [f"device {devices[i, 1]} {bus[i, x]}-{bus[i, y]}" + (" (tie reused)" if r else "")
                for i, x, y, r in zip(d, a, b, reused)]

    return PricedItems.of("sop line", "km", devices[d, 0], stage, length, price, life, om,
                          where=where)
