"""Synthetic radial feeders of any size for scaling studies.

>>> from fdnmoo.cases import load_case
>>> case = load_case("synthetic", n_bus=300, n_feeders=4, seed=1)
>>> len(case.net.bus), len(case.feeders)
(300, 4)

The generator draws, per feeder, a tree of a trunk and laterals, conductor
types, a route length and a peak load, then scales load and length so that the
feeder's voltage drop lands in a realistic band. The distributions of feeder
kilometres, megawatts and voltages do not depend on ``n_bus``, only the level
of detail does: a feeder drawn with 10 or with 10,000 buses is a feeder of the
same kind, so instances of different size are comparable. Building is
vectorised (tree sums are sparse triangular solves; pandapower's bulk create
functions): 10,000 buses take about 0.2 s.

Construction (per feeder with ``m`` buses)
-------------------------------------------
* **Tree.** About ``trunk_share`` of the buses form the trunk, a chain from
  the substation. The others form 3-9 laterals (chains) hanging from a random
  earlier bus: a trunk bus with probability 0.6, otherwise any earlier bus, so
  laterals also branch off laterals. Every bus therefore attaches to an earlier
  bus of its feeder, mostly to the previous one (the recent end of its chain).
* **Lengths.** The trunk carries 60 % of the feeder's route length, the
  laterals the rest in proportion to their bus counts; segment lengths
  vary by +/-50 %. Line length equals the straight distance between the bus
  coordinates: feeders leave their substation at evenly spread angles and
  wander by a random walk of the heading (0.25 rad per sqrt(km)); laterals leave
  at 50-90 degrees from the feeder heading.
* **Conductors.** Overhead (70 %) or cable (30 %) feeders; the trunk uses a
  larger conductor than the laterals (a lateral loaded beyond 80 % of its
  rating gets the trunk conductor). Data of the pandapower standard types of
  the same name (r = 0.12-0.59 ohm/km, x = 0.11-0.35 ohm/km).
* **Loads.** About 85 % of the buses carry a load (gamma-distributed sizes,
  power factor 0.90-0.98), summing to the feeder peak.
* **Voltage calibration.** The linearised voltage drop to the farthest bus
  (sum of ``(r P + x Q) / V^2`` along the path) is scaled to a target drawn in
  ``1 - vmin_target_pu``: half of the correction goes to the load, half to the
  length, within ``feeder_peak_mw`` (and 80 % of the trunk's ampacity) and
  ``feeder_length_km``. The full power flow gives a slightly larger drop than
  the linearised one, so base-case minimum voltages land around 0.92-0.97 p.u.
  (cable feeders, limited by their ampacity and the length range, stay higher).
* **Ties.** Normally-open lines between buses of different feeders that lie
  beyond 30 % of their feeder's reach (path km from the substation), closest
  pairs of feeders first, no bus at the end of two ties; length = distance.
* **Candidates.** SOP-capable nodes at the tie ends; PV candidates at ~5 % of
  the loaded buses (10-25 % of the feeder peak each); SVC candidates at ~2 % of
  the buses in the far half of each feeder (0.3-1 Mvar).
* **Reliability.** Overhead 0.065 failures/(km yr), 5 h repair (as the RBTS
  11 kV feeders); cable 0.04 failures/(km yr), 24 h repair (typical values).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve_triangular
from scipy.spatial import cKDTree

from .build import tie_end_sop_nodes
from .model import Horizon, PlanningCase

__all__ = ["synthetic_case", "CONDUCTORS"]

#: Conductor data (pandapower standard types of the same name):
#: name -> (r_ohm_per_km, x_ohm_per_km, c_nf_per_km, max_i_ka, kind)
CONDUCTORS: dict[str, tuple[float, float, float, float, str]] = {
    "149-AL1/24-ST1A 10.0": (0.194, 0.315, 11.25, 0.470, "ol"),
    "94-AL1/15-ST1A 10.0": (0.306, 0.330, 10.75, 0.350, "ol"),
    "70-AL1/11-ST1A 10.0": (0.4132, 0.339, 10.40, 0.290, "ol"),
    "48-AL1/8-ST1A 10.0": (0.5939, 0.350, 10.10, 0.210, "ol"),
    "NA2XS2Y 1x240 RM/25 12/20 kV": (0.122, 0.112, 304.0, 0.421, "cs"),
    "NA2XS2Y 1x150 RM/25 12/20 kV": (0.206, 0.116, 250.0, 0.319, "cs"),
    "NA2XS2Y 1x95 RM/25 12/20 kV": (0.313, 0.132, 216.0, 0.252, "cs"),
}
_STYLES = {  # feeder style -> (trunk conductor choices, lateral conductor choices)
    "ol": (("149-AL1/24-ST1A 10.0", "94-AL1/15-ST1A 10.0"), ("70-AL1/11-ST1A 10.0", "48-AL1/8-ST1A 10.0")),
    "cs": (("NA2XS2Y 1x240 RM/25 12/20 kV", "NA2XS2Y 1x150 RM/25 12/20 kV"), ("NA2XS2Y 1x95 RM/25 12/20 kV",)),
}
_RELIABILITY = {"ol": (0.065, 5.0), "cs": (0.04, 24.0)}  # failures/(km yr), repair h

_P_CABLE = 0.3            # share of cable feeders
_TRUNK_LENGTH_SHARE = 0.6  # share of the route length on the trunk
_P_ATTACH_TRUNK = 0.6     # a lateral starts on the trunk with this probability
_LATERALS = (3, 10)       # laterals per feeder: integers in [3, 10)
_WALK_RAD_PER_SQRT_KM = 0.25
_P_NO_LOAD = 0.15
_AMPACITY_USE = 0.8       # largest feeder peak as a share of the trunk's thermal limit
_SUBSTATION_SPACING_KM = 20.0
_TIE_FAR = 0.3            # tie ends lie beyond this share of their feeder's reach


@dataclass
class _Feeders:
    """Bus arrays of all feeders (bus position = net.bus label; substations first)."""

    parent: np.ndarray      # parent bus, -1 for substations
    feeder: np.ndarray      # feeder number, -1 for substations
    trunk: np.ndarray       # bool: bus is on its feeder's trunk
    chain: np.ndarray       # chain number (trunk or lateral), -1 for substations
    chain_start: np.ndarray  # first bus of every chain
    chain_heading: np.ndarray  # base heading of every chain (rad)
    weight: np.ndarray      # relative segment length of the branch to the parent


def synthetic_case(n_bus: int = 1000, n_feeders: int = 4, seed: int = 0, vn_kv: float = 11.0,
                   n_ties: int | None = None, n_substations: int = 1,
                   feeder_peak_mw: tuple[float, float] = (2.0, 6.0),
                   feeder_length_km: tuple[float, float] = (4.0, 15.0),
                   vmin_target_pu: tuple[float, float] = (0.93, 0.97),
                   trunk_share: float = 0.35, validate: bool = True) -> PlanningCase:
    """Generate radial distribution feeders (see the module docstring).

    Parameters
    ----------
    n_bus : int
        Number of buses of the net, substation buses included.
    n_feeders : int
        Number of feeders (radial trees leaving the substations).
    seed : int
        Seed of the random generator; the same seed gives the same case.
    vn_kv : float
        Nominal voltage of every bus. Loads and lengths are drawn for 11 kV;
        both scale with ``vn_kv / 11``, which keeps the currents and the
        per-unit voltage profile.
    n_ties : int, optional
        Normally-open tie lines between different feeders. Default: up to
        ``n_feeders`` when there are at least two feeders (fewer if tiny feeders
        lack distinct far buses), else 0. An explicit number that cannot be
        placed raises ValueError.
    n_substations : int
        Number of substations (ext_grid at 1.0 p.u.); feeders are dealt to them
        in turn.
    feeder_peak_mw : (float, float)
        Range of the peak active load of a feeder at 11 kV.
    feeder_length_km : (float, float)
        Range of the route length of a feeder (sum of its line lengths).
    vmin_target_pu : (float, float)
        Range from which every feeder's target minimum voltage is drawn
        (linearised voltage drop; see the module docstring).
    trunk_share : float
        Share of a feeder's buses on its trunk, in (0, 1].
    validate : bool
        Run :func:`fdnmoo.cases.validate_case` on the result.

    Returns
    -------
    PlanningCase
        Bus labels ``0 .. n_bus - 1``: substations first, then the feeders one
        after the other, every bus after its parent. ``net.bus.feeder`` is
        ``"F1"`` ... (a substation takes the name of its first feeder).

    Raises
    ------
    ValueError
        On a parameter out of range, e.g. ``n_bus < n_substations + n_feeders``
        (every feeder needs a bus) or ``n_feeders < 1``.
    """
    strict_ties = n_ties is not None
    n_ties = _check_parameters(n_bus, n_feeders, seed, vn_kv, n_ties, n_substations,
                               feeder_peak_mw, feeder_length_km, vmin_target_pu, trunk_share)
    rng = np.random.default_rng(seed)
    sizes = _feeder_sizes(rng, n_bus - n_substations, n_feeders)
    substation_of = np.arange(n_feeders) % n_substations
    fd = _trees(rng, sizes, substation_of, n_substations, trunk_share)

    # conductors per feeder (trunk, lateral) and per bus (branch to the parent)
    style = np.where(rng.random(n_feeders) < _P_CABLE, "cs", "ol")
    trunk_type = np.array([rng.choice(_STYLES[s][0]) for s in style])
    lateral_type = np.array([rng.choice(_STYLES[s][1]) for s in style])
    is_bus = fd.feeder >= 0
    f_bus = np.where(is_bus, fd.feeder, 0)
    bus_type = np.where(fd.trunk, trunk_type[f_bus], lateral_type[f_bus])
    r, x, c, imax, kind = _conductor_columns(bus_type)

    # route length, peak load and target drop per feeder; loads shared out over the buses
    length_f = rng.uniform(*feeder_length_km, n_feeders)
    peak_f = rng.uniform(*feeder_peak_mw, n_feeders)
    seg_km = _segment_lengths(fd, length_f)
    load_w = rng.gamma(2.0, size=len(fd.parent)) * (rng.random(len(fd.parent)) >= _P_NO_LOAD)
    load_w[~is_bus] = 0.0
    load_w = _ensure_load_per_feeder(load_w, fd.feeder, n_feeders)
    share = load_w / np.bincount(f_bus, weights=load_w, minlength=n_feeders)[f_bus]
    pf = rng.uniform(0.90, 0.98, len(fd.parent))
    tan_phi = np.sqrt(1.0 / pf ** 2 - 1.0)
    target = 1.0 - rng.uniform(*vmin_target_pu, n_feeders)

    drop = _linear_drop(fd.parent, seg_km * r, seg_km * x, share * peak_f[f_bus],
                        share * peak_f[f_bus] * tan_phi, 11.0)
    drop_f = np.zeros(n_feeders)
    np.maximum.at(drop_f, f_bus[is_bus], drop[is_bus])
    trunk_imax = np.array([CONDUCTORS[t][3] for t in trunk_type])
    peak_mw, route_km = _calibrate(target / drop_f, peak_f, length_f, trunk_imax,
                                   feeder_peak_mw, feeder_length_km)
    # at other voltages than 11 kV load and length both scale with vn_kv / 11: same
    # currents, same drop in per unit
    peak_mw, route_km = peak_mw * vn_kv / 11.0, route_km * vn_kv / 11.0
    seg_km = seg_km * (route_km / length_f)[f_bus]
    p_mw = np.where(is_bus, share * peak_mw[f_bus], 0.0)
    q_mvar = p_mw * tan_phi

    # laterals loaded beyond 80 % of their rating get the trunk conductor (small feeders)
    s_down = _subtree_sum(fd.parent, np.hypot(p_mw, q_mvar))
    heavy = is_bus & ~fd.trunk & (s_down / (np.sqrt(3) * vn_kv * 0.95) > _AMPACITY_USE * imax)
    bus_type = np.where(heavy, trunk_type[f_bus], bus_type)
    r, x, c, imax, kind = _conductor_columns(bus_type)

    xy = _coordinates(rng, fd, seg_km, n_substations)
    net = _net(fd, vn_kv, seg_km, r, x, c, imax, bus_type, kind, p_mw, q_mvar, xy)
    dist_km = _path_sum(fd.parent, np.where(is_bus, seg_km, 0.0))
    n_ties = _add_ties(net, fd, xy, dist_km, n_ties, lateral_type, strict_ties)

    case = PlanningCase(
        name=f"synthetic-n{n_bus}-f{n_feeders}-s{seed}", net=net,
        citation="synthetic feeders generated by fdnmoo.cases.synthetic (no published source)",
        description=(f"{n_feeders} random radial feeders, {n_bus} buses, {n_substations} "
                     f"substation(s), {n_ties} normally-open ties, {vn_kv:g} kV; conductor data of "
                     "pandapower standard types; coordinates generated with the network "
                     "(line length = straight distance); economics are framework defaults."),
        candidates=_candidates(rng, net, fd, dist_km, peak_mw),
        horizon=Horizon(n_stages=3, years_per_stage=5.0, load_growth_per_year=0.03),
        reference={"generator": "fdnmoo.cases.synthetic.synthetic_case", "n_bus": n_bus,
                   "n_feeders": n_feeders, "n_substations": n_substations, "n_ties": n_ties,
                   "seed": seed, "vn_kv": vn_kv,
                   "feeder_peak_mw": [round(float(p), 6) for p in peak_mw],
                   "feeder_length_km": [round(float(v), 6) for v in route_km]})
    if validate:
        from .validate import validate_case

        validate_case(case, file=case.name)
    return case


# --- parameters -------------------------------------------------------------------------
def _check_parameters(n_bus, n_feeders, seed, vn_kv, n_ties, n_substations, feeder_peak_mw,
                      feeder_length_km, vmin_target_pu, trunk_share) -> int:
    def whole(name, value, low):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be a whole number >= {low}, got {value!r}")

    whole("n_feeders", n_feeders, 1)
    whole("n_substations", n_substations, 1)
    whole("n_bus", n_bus, 2)
    whole("seed", seed, 0)
    if n_feeders < n_substations:
        raise ValueError(f"n_feeders ({n_feeders}) must be >= n_substations ({n_substations}): "
                         "every substation needs a feeder")
    if n_bus < n_substations + n_feeders:
        raise ValueError(f"n_bus ({n_bus}) must be >= n_substations + n_feeders "
                         f"({n_substations} + {n_feeders}): every feeder needs at least one bus")
    if not (np.isfinite(vn_kv) and vn_kv > 0):
        raise ValueError(f"vn_kv must be a positive number, got {vn_kv!r}")
    for name, (lo, hi), low in (("feeder_peak_mw", feeder_peak_mw, 0.0),
                                ("feeder_length_km", feeder_length_km, 0.0),
                                ("vmin_target_pu", vmin_target_pu, 0.5)):
        if not (low < lo <= hi) or (name == "vmin_target_pu" and hi >= 1.0):
            raise ValueError(f"{name} must be a range (low, high) with {low} < low <= high"
                             f"{' < 1' if name == 'vmin_target_pu' else ''}, got {(lo, hi)!r}")
    if not 0.0 < trunk_share <= 1.0:
        raise ValueError(f"trunk_share must be in (0, 1], got {trunk_share!r}")
    if n_ties is None:
        return n_feeders if n_feeders >= 2 else 0
    whole("n_ties", n_ties, 0)
    if n_ties > 0 and n_feeders < 2:
        raise ValueError("tie lines join different feeders: n_ties > 0 needs n_feeders >= 2")
    return int(n_ties)


# --- topology ----------------------------------------------------------------------------
def _feeder_sizes(rng: np.random.Generator, n: int, n_feeders: int) -> np.ndarray:
    """Buses per feeder: at least one each, the rest split by +/-30 % random weights."""
    w = rng.uniform(0.7, 1.3, n_feeders)
    extra = (n - n_feeders) * w / w.sum()
    sizes = np.floor(extra).astype(np.int64)
    rest = (n - n_feeders) - sizes.sum()
    sizes[np.argsort(sizes - extra)[:rest]] += 1  # largest remainders
    return sizes + 1


def _trees(rng: np.random.Generator, sizes: np.ndarray, substation_of: np.ndarray,
           n_substations: int, trunk_share: float) -> _Feeders:
    """Trunk-and-laterals trees of every feeder, in global bus numbering."""
    parent = [np.full(n_substations, -1)]
    feeder = [np.full(n_substations, -1)]
    trunk = [np.zeros(n_substations, bool)]
    chain = [np.full(n_substations, -1)]
    starts, headings = [], []
    per_sub = np.bincount(substation_of, minlength=n_substations)
    rank = np.array([np.sum(substation_of[:f] == substation_of[f]) for f in range(len(sizes))])
    offset, n_chain = n_substations, 0
    for f, m in enumerate(sizes):
        heading = 2 * np.pi * (rank[f] + rng.uniform(-0.15, 0.15)) / per_sub[substation_of[f]]
        n_trunk = int(min(m, max(1, round(trunk_share * m))))
        n_lat = m - n_trunk
        k = int(min(n_lat, rng.integers(*_LATERALS))) if n_lat else 0
        # lateral sizes: a random composition of n_lat into k positive parts
        cuts = np.sort(rng.choice(np.arange(1, n_lat), size=k - 1, replace=False)) if k > 1 else []
        lat_sizes = np.diff(np.concatenate([[0], cuts, [n_lat]])).astype(np.int64) if k else \
            np.zeros(0, np.int64)
        lat_start = n_trunk + np.concatenate([[0], np.cumsum(lat_sizes)[:-1]]).astype(np.int64) \
            if k else np.zeros(0, np.int64)
        local_start = np.concatenate([[0], lat_start]).astype(np.int64)
        p_local = np.arange(-1, m - 1)  # each bus hangs from the previous one ...
        if k:
            on_trunk = rng.random(k) < _P_ATTACH_TRUNK
            attach = np.where(on_trunk, rng.integers(0, n_trunk, k),
                              np.floor(rng.random(k) * lat_start).astype(np.int64))
            p_local[lat_start] = attach  # ... except the first bus of a lateral
        glob = np.where(p_local >= 0, p_local + offset, substation_of[f])
        chain_local = np.repeat(np.arange(k + 1), np.concatenate([[n_trunk], lat_sizes]))
        side = rng.choice([-1.0, 1.0], k)
        headings.append(np.concatenate([[heading], heading + side * rng.uniform(0.28, 0.5, k) * np.pi]))
        starts.append(local_start + offset)
        parent.append(glob)
        feeder.append(np.full(m, f))
        trunk.append(chain_local == 0)
        chain.append(chain_local + n_chain)
        offset += m
        n_chain += k + 1
    n = offset
    return _Feeders(parent=np.concatenate(parent), feeder=np.concatenate(feeder),
                    trunk=np.concatenate(trunk), chain=np.concatenate(chain),
                    chain_start=np.concatenate(starts), chain_heading=np.concatenate(headings),
                    weight=rng.uniform(0.5, 1.5, n))


def _calibrate(scale: np.ndarray, peak_mw: np.ndarray, length_km: np.ndarray,
               trunk_imax_ka: np.ndarray, peak_range: tuple[float, float],
               length_range: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Feeder peak and route length whose product is ``scale`` times the drawn one.

    The drop is proportional to load times length: half of the correction
    (sqrt(scale)) goes to each, within ``peak_range`` (and 80 % of the trunk's
    ampacity at 11 kV, pf 0.95) and ``length_range``; what the length cannot
    take goes to the load.
    """
    cap = np.minimum(peak_range[1], _AMPACITY_USE * np.sqrt(3) * 11.0 * trunk_imax_ka * 0.95)
    low = np.minimum(peak_range[0], cap)
    peak = np.clip(peak_mw * np.sqrt(scale), low, cap)
    length = np.clip(length_km * scale * peak_mw / peak, *length_range)
    peak = np.clip(peak_mw * scale * length_km / length, low, cap)
    return peak, length


def _segment_lengths(fd: _Feeders, length_f: np.ndarray) -> np.ndarray:
    """km of the branch to the parent: 60 % of the route on the trunk, the rest on laterals."""
    is_bus = fd.feeder >= 0
    f = np.where(is_bus, fd.feeder, 0)
    n_f = len(length_f)
    w = np.where(is_bus, fd.weight, 0.0)
    w_trunk = np.bincount(f, weights=w * fd.trunk, minlength=n_f)
    w_lat = np.bincount(f, weights=w * ~fd.trunk, minlength=n_f)
    trunk_km = np.where(w_lat > 0, _TRUNK_LENGTH_SHARE, 1.0) * length_f
    lat_km = length_f - trunk_km
    per_w = np.where(fd.trunk, trunk_km[f] / np.maximum(w_trunk[f], 1e-300),
                     lat_km[f] / np.maximum(w_lat[f], 1e-300))
    return np.where(is_bus, w * per_w, 0.0)


def _ensure_load_per_feeder(load_w: np.ndarray, feeder: np.ndarray, n_feeders: int) -> np.ndarray:
    """Give the last bus of a feeder a load if none of its buses has one."""
    f = np.where(feeder >= 0, feeder, 0)
    total = np.bincount(f, weights=load_w, minlength=n_feeders)
    last = np.full(n_feeders, -1)
    np.maximum.at(last, feeder[feeder >= 0], np.flatnonzero(feeder >= 0))
    empty = total <= 0
    load_w = load_w.copy()
    load_w[last[empty]] = 1.0
    return load_w


def _parent_matrix(parent: np.ndarray) -> sp.csr_matrix:
    """C with C[parent, child] = 1 (upper triangular: parents have lower numbers)."""
    child = np.flatnonzero(parent >= 0)
    n = len(parent)
    return sp.csr_matrix((np.ones(len(child)), (parent[child], child)), shape=(n, n))


def _path_sum(parent: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Sum of ``value`` over every bus and its ancestors (d = value + d[parent])."""
    n = len(parent)
    a = (sp.identity(n, format="csr") - _parent_matrix(parent).T).tocsr()
    return spsolve_triangular(a, value, lower=True, unit_diagonal=True)


def _subtree_sum(parent: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Sum of ``value`` over every bus and its descendants (s = value + sum s[children])."""
    n = len(parent)
    a = (sp.identity(n, format="csr") - _parent_matrix(parent)).tocsr()
    return spsolve_triangular(a, value, lower=False, unit_diagonal=True)


def _linear_drop(parent, r_ohm, x_ohm, p_mw, q_mvar, vn_kv) -> np.ndarray:
    """Linearised voltage drop (p.u.) of every bus: sum of (R P + X Q) / V^2 to the root."""
    p_down = _subtree_sum(parent, p_mw)
    q_down = _subtree_sum(parent, q_mvar)
    return _path_sum(parent, (r_ohm * p_down + x_ohm * q_down) / vn_kv ** 2)


def _coordinates(rng: np.random.Generator, fd: _Feeders, seg_km: np.ndarray,
                 n_substations: int) -> np.ndarray:
    """Bus coordinates (km): every segment has its line's length, heading a random walk."""
    n = len(fd.parent)
    is_bus = fd.feeder >= 0
    chain = np.where(is_bus, fd.chain, 0)
    step = rng.normal(0.0, _WALK_RAD_PER_SQRT_KM, n) * np.sqrt(seg_km)
    step[~is_bus] = 0.0
    walk = np.cumsum(step)
    first = fd.chain_start[chain]
    walk = walk - walk[first] + step[first]  # cumulative turn within each chain
    heading = fd.chain_heading[chain] + walk
    dxy = np.where(is_bus[:, None], seg_km[:, None] * np.column_stack([np.cos(heading),
                                                                      np.sin(heading)]), 0.0)
    dxy[:n_substations, 0] = np.arange(n_substations) * _SUBSTATION_SPACING_KM
    return np.column_stack([_path_sum(fd.parent, dxy[:, 0]), _path_sum(fd.parent, dxy[:, 1])])


# --- pandapower net ---------------------------------------------------------------------
def _conductor_columns(names: np.ndarray):
    """r, x, c, max_i (float arrays) and kind ('ol'/'cs') of conductor names."""
    table = pd.DataFrame.from_dict(CONDUCTORS, orient="index", columns=["r", "x", "c", "imax", "kind"])
    rows = table.iloc[table.index.get_indexer(names)]
    return (rows.r.to_numpy(float), rows.x.to_numpy(float), rows.c.to_numpy(float),
            rows.imax.to_numpy(float), rows.kind.to_numpy())


def _reliability(kind: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Failure rate per km and year, and repair time in hours, by conductor kind."""
    cable = kind == "cs"
    rate = np.where(cable, _RELIABILITY["cs"][0], _RELIABILITY["ol"][0])
    repair = np.where(cable, _RELIABILITY["cs"][1], _RELIABILITY["ol"][1])
    return rate, repair


def _net(fd: _Feeders, vn_kv, seg_km, r, x, c, imax, bus_type, kind, p_mw, q_mvar, xy):
    import pandapower as pp

    n = len(fd.parent)
    n_sub = int(np.sum(fd.feeder < 0))
    net = pp.create_empty_network(name="synthetic", f_hz=50.0, sn_mva=1.0)
    pp.create_buses(net, n, vn_kv, index=np.arange(n), name=[str(b) for b in range(n)])
    for s in range(n_sub):
        pp.create_ext_grid(net, s, vm_pu=1.0, name=f"substation {s}")
    child = np.flatnonzero(fd.parent >= 0)
    pp.create_lines_from_parameters(
        net, fd.parent[child], child, length_km=np.round(seg_km[child], 6),
        r_ohm_per_km=r[child], x_ohm_per_km=x[child], c_nf_per_km=c[child], max_i_ka=imax[child],
        type=kind[child], index=np.arange(len(child)))
    net.line["std_type"] = bus_type[child]
    rate, repair = _reliability(kind[child])
    net.line["failure_rate_per_year"] = rate * net.line.length_km.to_numpy(float)
    net.line["repair_time_h"] = repair
    loaded = np.flatnonzero(p_mw > 0)
    pp.create_loads(net, loaded, p_mw=np.round(p_mw[loaded], 9), q_mvar=np.round(q_mvar[loaded], 9),
                    index=np.arange(len(loaded)))
    names = np.array([f"F{f + 1}" for f in range(int(fd.feeder.max()) + 1)])
    feeder = fd.feeder.copy()
    feeder[:n_sub] = np.arange(n_sub)  # feeders are dealt in turn: substation s's first is s
    net.bus["feeder"] = names[feeder]
    net.bus["x_km"] = np.round(xy[:, 0], 6)
    net.bus["y_km"] = np.round(xy[:, 1], 6)
    return net


def _add_ties(net, fd: _Feeders, xy: np.ndarray, dist_km: np.ndarray, n_ties: int,
              lateral_type: np.ndarray, strict: bool) -> int:
    """Add normally-open lines between the far halves of feeders, closest feeder pairs first.

    Returns the number of ties placed: ``n_ties``, or fewer when ``strict`` is
    False and the feeders have too few distinct far buses (tiny instances).
    """
    if n_ties == 0:
        return 0
    import pandapower as pp

    n_f = len(lateral_type)
    far = []
    for f in range(n_f):
        buses = np.flatnonzero(fd.feeder == f)
        far.append(buses[dist_km[buses] >= _TIE_FAR * dist_km[buses].max()])
    trees = [cKDTree(xy[b]) for b in far]
    pairs = []  # (closest distance, a, b, candidate distances / a-ends / b-ends, nearest first)
    for a in range(n_f):
        for b in range(a + 1, n_f):
            k_nn = min(len(far[b]), 16)  # several partners per bus: ends stay distinct
            d, j = trees[b].query(xy[far[a]], k=[*range(1, k_nn + 1)])
            ends_a = np.repeat(far[a], k_nn)
            d, j = d.ravel(), j.ravel()
            order = np.argsort(d, kind="stable")
            pairs.append((float(d[order[0]]), a, b, d[order], ends_a[order], far[b][j[order]]))
    pairs.sort(key=lambda t: t[:3])
    used: set[int] = set()
    chosen: list[tuple[float, int, int, int]] = []
    cursor = [0] * len(pairs)
    while len(chosen) < n_ties:  # one tie per feeder pair and round, closest pairs first
        placed = len(chosen)
        for k, (_, a, _b, d, u, v) in enumerate(pairs):
            i = cursor[k]
            while i < len(d) and (int(u[i]) in used or int(v[i]) in used):
                i += 1
            cursor[k] = i
            if i == len(d):
                continue
            used.update((int(u[i]), int(v[i])))
            chosen.append((float(d[i]), int(u[i]), int(v[i]), a))
            if len(chosen) == n_ties:
                break
        if len(chosen) == placed:
            if not strict:
                break
            raise ValueError(f"cannot place {n_ties} tie lines between distinct bus pairs of "
                             f"different feeders (placed {placed}); use fewer ties or more buses")
    d, u, v, a = (np.array(col) for col in zip(*chosen))
    types = lateral_type[a]
    start = int(net.line.index.max()) + 1 if len(net.line) else 0
    index = np.arange(start, start + len(u))
    pp.create_lines_from_parameters(
        net, u, v, length_km=np.round(np.maximum(d, 0.05), 6),
        r_ohm_per_km=[CONDUCTORS[t][0] for t in types], x_ohm_per_km=[CONDUCTORS[t][1] for t in types],
        c_nf_per_km=[CONDUCTORS[t][2] for t in types], max_i_ka=[CONDUCTORS[t][3] for t in types],
        type=[CONDUCTORS[t][4] for t in types], in_service=False, index=index)
    net.line.loc[index, "std_type"] = types
    rate, repair = _reliability(np.array([CONDUCTORS[t][4] for t in types]))
    net.line.loc[index, "failure_rate_per_year"] = rate * net.line.length_km[index].to_numpy()
    net.line.loc[index, "repair_time_h"] = repair
    return len(chosen)


def _candidates(rng: np.random.Generator, net, fd: _Feeders, dist_km: np.ndarray,
                peak_f: np.ndarray) -> dict[str, pd.DataFrame]:
    """SOP nodes at tie ends; PV at ~5 % of loaded buses; SVC at ~2 % of far buses."""
    tables = {}
    if (~net.line.in_service.astype(bool)).any():
        tables["sop_nodes"] = tie_end_sop_nodes(net)
    loaded = np.zeros(len(fd.parent), bool)
    loaded[net.load.bus.to_numpy()] = True
    pv_bus, pv_mw, svc_bus, svc_mvar = [], [], [], []
    for f in range(len(peak_f)):
        buses = np.flatnonzero(fd.feeder == f)
        pool = buses[loaded[buses]]
        k = max(1, round(0.05 * len(pool)))
        pick = np.sort(rng.choice(pool, size=k, replace=False))
        pv_bus.append(pick)
        pv_mw.append(np.round(rng.uniform(0.10, 0.25, k) * peak_f[f], 3))
        far = buses[dist_km[buses] >= 0.5 * dist_km[buses].max()]
        k = max(1, round(0.02 * len(buses)))
        pick = np.sort(rng.choice(far, size=min(k, len(far)), replace=False))
        svc_bus.append(pick)
        svc_mvar.append(np.round(rng.uniform(0.3, 1.0, len(pick)), 3))
    tables["pv"] = pd.DataFrame({"bus": np.concatenate(pv_bus), "max_mw": np.concatenate(pv_mw)})
    tables["svc"] = pd.DataFrame({"bus": np.concatenate(svc_bus), "max_mvar": np.concatenate(svc_mvar)})
    return tables
