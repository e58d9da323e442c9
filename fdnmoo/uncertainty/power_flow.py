"""Backward/forward sweep over uncertain demands, in affine or interval arithmetic.

The radial structure of a :class:`~fdnmoo.powerflow.BatchPowerFlow` engine
(its prepared rows, branch impedances, ratios and lumped shunts) gives two
constant linear maps of the bus injection currents ``I``:

* branch currents ``J = T I`` (the backward sweep: every bus's subtree
  current, seen through the ratios on the way up);
* bus voltages ``V = V0 + M I`` (the forward sweep: root set-points carried
  down through the ratios, minus the impedance drops of ``J``).

One iteration evaluates the injections ``I = conj(S / V) + y V`` in the
chosen arithmetic (rectangular coordinates, ``S`` = uncertain net demand) and
applies ``M``, which is exact in both arithmetics. Starting from the forecast
solution, the iteration stops when no bound of ``Re V``/``Im V`` moves by more
than ``tol``. The result is then checked as an enclosure: one more iteration
must map the final forms inside themselves (``F(V) ⊆ V``, jointly over the
shared noise symbols for affine forms), which by Brouwer's theorem holds a
power-flow solution for every demand in the uncertainty box. ``verified``
reports that check, after a small inflation if the plain forms miss it.

The iteration runs compiled (:mod:`.affine_sweep`, :mod:`.interval_sweep`:
the operations of :mod:`.affine_ops` / :mod:`.interval_ops`, with the two maps
applied as the tree sweeps they come from); ``compiled=False`` runs the
readable form below on :class:`AffineForm` / :class:`Interval` with the dense
maps, the reference the compiled sweeps are tested against (same bounds to
1e-12). The dense maps are ``n_bus x n_bus``: that form is meant for feeders
up to a few thousand buses; the compiled sweeps need no maps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..powerflow import BatchPowerFlow
from . import affine_sweep, interval_sweep
from .affine import AffineForm, _aligned
from .interval import Interval
from .krawczyk import krawczyk_voltages

__all__ = ["UncertainPowerFlow", "uncertain_power_flow", "uncertain_demand", "linear_maps"]


@dataclass(frozen=True)
class UncertainPowerFlow:
    """Bounds from :func:`uncertain_power_flow` (bus arrays in ``engine.bus_labels`` order).

    Attributes
    ----------
    v_re, v_im : AffineForm or Interval, shape ([n_slots,] n_bus)
        Rectangular bus voltages (p.u.); unsupplied buses are 0.
    vm_lo_pu, vm_hi_pu : ndarray, shape ([n_slots,] n_bus)
        Bounds of ``|V|`` (NaN at unsupplied buses).
    i_lo_ka, i_hi_ka : ndarray, shape ([n_slots,] n_line)
        Bounds of the larger end current of every line (0 for open lines).
    loss_lo_mw, loss_hi_mw : float or ndarray, shape (n_slots,)
        Bounds of the losses of lines and transformers (series and branch shunts).
    iterations : int
        Sweeps until the bounds stopped moving.
    converged : bool
        Whether they did within ``max_iter``.
    verified : bool
        Whether ``F(V) ⊆ V`` held (see the module docstring).
    """

    v_re: object
    v_im: object
    vm_lo_pu: np.ndarray
    vm_hi_pu: np.ndarray
    i_lo_ka: np.ndarray
    i_hi_ka: np.ndarray
    loss_lo_mw: float
    loss_hi_mw: float
    iterations: int
    converged: bool
    verified: bool


def uncertain_demand(p_mw, q_mvar, deviation, symbol, n_symbols: int) -> tuple[AffineForm, AffineForm]:
    """Net demand per bus as affine forms: ``p (1 + deviation eps_symbol)``, Q alike.

    Parameters
    ----------
    p_mw, q_mvar : array_like, shape (n_bus,)
        Forecast net demand (+ = consumption).
    deviation : array_like, shape (n_bus,)
        Relative half-width of each bus's uncertainty (0.1 = +-10 %).
    symbol : array_like of int, shape (n_bus,)
        Source symbol of each bus (shared by a load group; -1: certain).
    n_symbols : int

    Returns
    -------
    p, q : AffineForm
        Reactive demand moves with the same symbol (constant power factor).
    """
    p, q = np.asarray(p_mw, float), np.asarray(q_mvar, float)
    d = np.broadcast_to(np.asarray(deviation, float), p.shape)
    return (AffineForm.from_sources(p, np.abs(p) * d, symbol, n_symbols),
            AffineForm.from_sources(q, np.abs(q) * d, symbol, n_symbols))


def linear_maps(engine: BatchPowerFlow) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The sweep's linear maps of the engine's topology, in bus positions.

    Returns
    -------
    T : ndarray of complex, shape (n_bus, n_bus)
        ``J = T I``: series current of the branch feeding each bus.
    M : ndarray of complex, shape (n_bus, n_bus)
        ``V = V0 + M I``.
    v0 : ndarray of complex, shape (n_bus,)
        Voltages with no injection (root set-points through the ratios).
    supplied : ndarray of bool, shape (n_bus,)
    """
    prep, br = engine._prepared, engine.branches
    n = br.n_bus
    perm, order, parent = prep.perm, prep.order_rows, prep.parent_rows
    j = np.eye(n, dtype=complex)  # rows: buses (as rows of the sweep), columns: injections
    for k in order[::-1]:
        j[parent[k]] += j[k] * np.conj(prep.a[k])
    m = np.zeros((n, n), dtype=complex)
    v0 = np.zeros(n, dtype=complex)
    v0[prep.root_rows] = br.root_v
    for k in order:
        m[k] = m[parent[k]] * prep.a[k] - prep.z[k] * j[k]
        v0[k] = v0[parent[k]] * prep.a[k]
    bus = np.empty(n, dtype=np.int64)
    bus[perm] = np.arange(n)  # bus position -> row
    # injections at roots are absorbed by the grid; unsupplied buses carry nothing
    carried = np.zeros(n, bool)
    carried[order] = True
    j[:, ~carried] = 0.0
    m[:, ~carried] = 0.0
    j[~carried] = 0.0
    return j[bus][:, bus], m[bus][:, bus], v0[bus], prep.structure.supplied


def uncertain_power_flow(engine: BatchPowerFlow, p_mw, q_mvar, arithmetic: str = "affine",
                         tol: float = 1e-9, max_iter: int = 100, compiled: bool = True) -> UncertainPowerFlow:
    """Bounds of voltages, line currents and losses over every demand in the uncertainty set.

    Parameters
    ----------
    engine : BatchPowerFlow
        The topology (and per-unit network data) to solve.
    p_mw, q_mvar : AffineForm or Interval, shape (n_bus,) or (n_slots, n_bus)
        Uncertain net demand per bus (+ = consumption), e.g. from
        :func:`uncertain_demand`; an :class:`Interval` is turned into affine
        forms with one symbol per bus if ``arithmetic="affine"``. With a
        leading axis of time slots, every slot is solved at once (the
        iteration runs until every slot's bounds settle).
    arithmetic : {"affine", "interval"}
    tol : float
        Largest change of a bound of ``Re V``/``Im V`` (p.u.) that ends the iteration.
    max_iter : int
    compiled : bool
        Run the compiled sweep (:mod:`.affine_sweep`, :mod:`.interval_sweep`; the
        default) or the readable one on :class:`AffineForm` / :class:`Interval` with
        dense maps (the reference they are tested against; some 5-20 times slower).

    Returns
    -------
    UncertainPowerFlow
    """
    if arithmetic not in ("affine", "interval"):
        raise ValueError(f"arithmetic must be 'affine' or 'interval', got {arithmetic!r}")
    p, q = _operands(p_mw, q_mvar, arithmetic)
    br = engine.branches
    T, M, v0, supplied = linear_maps(engine)
    sn = br.sn_mva
    p, q = p * (1.0 / sn), q * (1.0 / sn)
    prep = engine._prepared
    y = np.empty(br.n_bus, dtype=complex)
    y[prep.perm] = prep.y
    y[~supplied] = 0.0
    center = engine.run(_centre(p_mw), _centre(q_mvar))
    if not center.converged.all():
        raise ValueError("the forecast power flow does not converge; no bounds can be given")
    vc = np.nan_to_num(center.v_pu).reshape(p.shape)
    try:
        res = _swept(engine, p, q, vc, y, supplied, T, M, v0, tol, max_iter, compiled)
    except ValueError:  # a range holding 0 V: the sweep's private radius blew up
        res = None
    if res is not None and res.verified:
        return res
    try:
        return _krawczyk(engine, p, q, vc, y, supplied, T, M, v0)
    except ValueError:
        if res is None:
            raise
        return res  # the sweep's unverified bounds, flagged as such


def _swept(engine, p, q, vc, y, supplied, T, M, v0, tol, max_iter, compiled) -> UncertainPowerFlow:
    """The sweep of the module docstring, compiled or readable."""
    n_sym = p.n_symbols if isinstance(p, AffineForm) else 0
    if compiled and (n_sym or isinstance(p, Interval)):
        return _compiled(engine, p, q, vc, tol, max_iter)
    e, f = _constant(vc.real, n_sym), _constant(vc.imag, n_sym)

    def step(e, f):
        ir, ii = _injections(p, q, e, f, y, supplied, n_sym)
        return (ir.linear(M.real) - ii.linear(M.imag) + v0.real,
                ir.linear(M.imag) + ii.linear(M.real) + v0.imag)

    converged, it = False, 0
    for it in range(1, max_iter + 1):
        e_new, f_new = step(e, f)
        change = max(_bound_change(e_new, e), _bound_change(f_new, f))
        e, f = e_new, f_new
        if change < tol:
            converged = True
            break
    verified, e_v, f_v = _verify(step, e, f)
    if verified:
        e, f = e_v, f_v
    return _with_currents(engine, p, q, e, f, y, supplied, T, it, converged, verified)


def _with_currents(engine, p, q, e, f, y, supplied, T, it, converged, verified):
    n_sym = p.n_symbols if isinstance(p, AffineForm) else 0
    ir, ii = _injections(p, q, e, f, y, supplied, n_sym)
    jr = ir.linear(T.real) - ii.linear(T.imag)
    ji = ir.linear(T.imag) + ii.linear(T.real)
    return _result(engine, e, f, jr, ji, supplied, it, converged, verified)


def _krawczyk(engine, p, q, vc, y, supplied, T, M, v0) -> UncertainPowerFlow:
    """The fallback enclosure of :mod:`.krawczyk` (interval operands: one symbol per bound)."""
    shape = np.broadcast_shapes(p.shape, q.shape)
    n = shape[-1]
    if isinstance(p, Interval):  # independent sources: a symbol for every P and Q bound
        rows = int(np.prod(shape[:-1], dtype=int))
        eye = np.eye(n)
        pa = AffineForm(np.broadcast_to(p.mid, shape).reshape(rows, n),
                        np.concatenate([np.broadcast_to(p.rad, shape).reshape(rows, n)[..., None]
                                        * eye, np.zeros((rows, n, n))], axis=-1))
        qa = AffineForm(np.broadcast_to(q.mid, shape).reshape(rows, n),
                        np.concatenate([np.zeros((rows, n, n)), np.broadcast_to(q.rad, shape)
                                        .reshape(rows, n)[..., None] * eye], axis=-1))
    else:
        cp, cq = _aligned(p.coeffs, q.coeffs)
        pa, qa = (AffineForm(np.broadcast_to(x.center, shape).reshape(-1, n),
                             np.broadcast_to(c, shape + c.shape[-1:]).reshape(-1, n, c.shape[-1]),
                             np.broadcast_to(x.error, shape).reshape(-1, n))
                  for x, c in ((p, cp), (q, cq)))
    e, f, it = krawczyk_voltages(M, v0, y, supplied, pa, qa,
                                 np.broadcast_to(vc, shape).reshape(-1, n))
    e, f = (AffineForm(x.center.reshape(shape), x.coeffs.reshape(shape + x.coeffs.shape[-1:]),
                       x.error.reshape(shape)) for x in (e, f))
    if isinstance(p, Interval):
        e, f = e.to_interval(), f.to_interval()
    else:
        p, q = (AffineForm(x.center.reshape(shape), x.coeffs.reshape(shape + x.coeffs.shape[-1:]),
                           x.error.reshape(shape)) for x in (pa, qa))
    return _with_currents(engine, p, q, e, f, y, supplied, T, it, True, True)


def _sweep_rows(engine):
    """The arrays the compiled sweeps run on (see :func:`.affine_sweep.solve`)."""
    prep = engine._prepared
    n = prep.perm.shape[0]
    row_of = np.empty(n, dtype=np.int64)
    row_of[prep.perm] = np.arange(n)
    v0 = np.zeros(n, dtype=complex)
    v0[prep.root_rows] = engine.branches.root_v
    c = np.ascontiguousarray
    net = (prep.order_rows, prep.parent_rows, prep.root_rows, c(prep.a.real), c(prep.a.imag),
           c(prep.z.real), c(prep.z.imag), c(prep.y.real), c(prep.y.imag), c(v0.real), c(v0.imag))
    return net, bool(np.any(prep.a != 1)), prep.perm, row_of


def _compiled(engine, p, q, vc, tol, max_iter) -> UncertainPowerFlow:
    """The compiled sweep of the arithmetic of ``p``, ``q`` over 2-D (slots, buses) operands."""
    shape = np.broadcast_shapes(p.shape, q.shape)
    n = shape[-1]
    vc = np.broadcast_to(vc, shape).reshape(-1, n)
    if isinstance(p, Interval):
        P, Q = (Interval(np.broadcast_to(x.lo, shape).reshape(-1, n),
                         np.broadcast_to(x.hi, shape).reshape(-1, n)) for x in (p, q))
        e, f, jr, ji, it, converged, verified = interval_sweep.solve(*_sweep_rows(engine), P, Q, vc,
                                                                     tol, max_iter)
        e, f, jr, ji = (Interval(lo.reshape(shape), hi.reshape(shape)) for lo, hi in (e, f, jr, ji))
        return _result(engine, e, f, jr, ji, engine.supplied, it, converged, verified)
    pa, qa = _aligned(p.coeffs, q.coeffs)
    k = pa.shape[-1]

    def flat(x, a):
        return (np.broadcast_to(x.center, shape).reshape(-1, n),
                np.broadcast_to(a, shape + (k,)).reshape(-1, n, k),
                np.broadcast_to(x.error, shape).reshape(-1, n))

    P, Q = (AffineForm(*flat(x, a)) for x, a in ((p, pa), (q, qa)))
    e, f, jr, ji, it, converged, verified = affine_sweep.solve(*_sweep_rows(engine), P, Q, vc, tol, max_iter)
    e, f, jr, ji = (AffineForm(c.reshape(shape), a.reshape(shape + (k,)), r.reshape(shape))
                    for c, a, r in (e, f, jr, ji))
    return _result(engine, e, f, jr, ji, engine.supplied, it, converged, verified)


# --- arithmetic-generic helpers -------------------------------------------------------------
def _operands(p, q, arithmetic: str):
    if arithmetic == "interval":
        return (p.to_interval() if isinstance(p, AffineForm) else p,
                q.to_interval() if isinstance(q, AffineForm) else q)
    if isinstance(p, Interval):  # one symbol per bus: the box, no correlation known
        return (AffineForm(p.mid, np.diag(p.rad)), AffineForm(q.mid, np.diag(q.rad)))
    return p, q


def _centre(x) -> np.ndarray:
    return np.atleast_2d(x.center if isinstance(x, AffineForm) else x.mid)


def _constant(x, n_sym: int):
    return AffineForm.constant(x, n_sym) if n_sym else Interval.point(x)


def _injections(p, q, e, f, y, supplied, n_sym):
    """``I = conj(S / V) + y V`` per bus in rectangular coordinates (0 where unsupplied)."""
    mask = supplied.astype(float)
    safe_e = e + (1.0 - mask)  # unsupplied buses sit at V = 1 (their rows of M, T are zero)
    inv = (safe_e.square() + f.square()).reciprocal()
    ir = (p * safe_e + q * f) * inv + (safe_e * y.real - f * y.imag)
    ii = (p * f - q * safe_e) * inv + (f * y.real + safe_e * y.imag)
    return ir * mask, ii * mask


def _bounds(x):
    iv = x.to_interval() if isinstance(x, AffineForm) else x
    return iv.lo, iv.hi


def _bound_change(new, old) -> float:
    (a, b), (c, d) = _bounds(new), _bounds(old)
    return float(max(np.max(np.abs(a - c)), np.max(np.abs(b - d))))


def _inside(inner, outer) -> bool:
    if isinstance(inner, AffineForm):  # jointly: |dc| + sum |da| + e_inner <= e_outer
        gap = np.abs(inner.center - outer.center) + np.abs(inner.coeffs - outer.coeffs).sum(axis=-1)
        return bool(np.all(gap + inner.error <= outer.error))
    return bool(np.all((inner.lo >= outer.lo) & (inner.hi <= outer.hi)))


def _inflated(x, amount: float):
    """Widen the private part by ``amount`` of the radius plus 1e-12 p.u. (epsilon-inflation)."""
    if isinstance(x, AffineForm):
        return AffineForm(x.center, x.coeffs, x.error + amount * x.radius + 1e-12)
    return Interval(x.lo - amount * x.rad - 1e-12, x.hi + amount * x.rad + 1e-12)


def _verify(step, e, f, rounds: int = 10, amount: float = 0.01):
    """Rump's epsilon-inflation: inflate, map, and check that the image lies inside the
    inflated forms; else continue from the image (at most ``rounds`` times)."""
    for _ in range(rounds):
        ei, fi = _inflated(e, amount), _inflated(f, amount)
        e, f = step(ei, fi)
        if _inside(e, ei) and _inside(f, fi):
            return True, e, f  # F(X) ⊆ X: the solutions lie in F(X) too
    return False, e, f


def _result(engine, e, f, jr, ji, supplied, iterations, converged, verified) -> UncertainPowerFlow:
    br, prep = engine.branches, engine._prepared
    safe_e = e + (1.0 - supplied)  # unsupplied buses (0 V) at 1 p.u., then NaN
    vm_lo, vm_hi = _magnitude_bounds(safe_e, f)
    # losses as the sweep counts them: series r |J|^2 plus branch-shunt conductance |V|^2
    rows = np.empty(br.n_bus, dtype=np.int64)
    rows[prep.perm] = np.arange(br.n_bus)
    r, g = prep.z.real[rows], prep.y_branch_g[rows]
    loss_lo, loss_hi = _loss_bounds(jr, ji, e, f, r, g)
    i_lo, i_hi = _line_current_bounds(br, prep, e, f, jr, ji)
    nan = np.where(supplied, 1.0, np.nan)
    return UncertainPowerFlow(v_re=e, v_im=f, vm_lo_pu=np.maximum(vm_lo, 0.0) * nan,
                              vm_hi_pu=vm_hi * nan, i_lo_ka=i_lo, i_hi_ka=i_hi,
                              loss_lo_mw=_scalar(loss_lo * br.sn_mva),
                              loss_hi_mw=_scalar(loss_hi * br.sn_mva),
                              iterations=iterations, converged=converged, verified=verified)


def _loss_bounds(jr, ji, e, f, r, g) -> tuple[float, float]:
    """Bounds of ``sum r |J|^2 + g |V|^2``; for affine forms the tighter of the affine
    evaluation and the interval evaluation over the components' ranges (both enclose)."""
    def total(jr, ji, e, f):
        return (((jr.square() + ji.square()) * r).sum(axis=-1)
                + ((e.square() + f.square()) * g).sum(axis=-1))

    lo, hi = _bounds(total(jr, ji, e, f))
    if isinstance(jr, AffineForm):
        box = [x.to_interval() for x in (jr, ji, e, f)]
        ilo, ihi = _bounds(total(*box))
        lo, hi = np.maximum(lo, ilo), np.minimum(hi, ihi)
    return lo, hi


def _magnitude_bounds(re, im) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of ``|re + j im|``: the exact range over the box the two components span,
    intersected (for affine forms) with the affine evaluation, which keeps their correlation."""
    (a, b), (c, d) = _bounds(re), _bounds(im)
    near_re = np.where((a <= 0) & (b >= 0), 0.0, np.minimum(np.abs(a), np.abs(b)))
    near_im = np.where((c <= 0) & (d >= 0), 0.0, np.minimum(np.abs(c), np.abs(d)))
    lo = np.hypot(near_re, near_im)
    hi = np.hypot(np.maximum(np.abs(a), np.abs(b)), np.maximum(np.abs(c), np.abs(d)))
    if isinstance(re, AffineForm):
        sq = re.square() + im.square()
        if np.all(sq.center - sq.radius >= 0):
            alo, ahi = _bounds(sq.sqrt())
            lo, hi = np.maximum(lo, alo), np.minimum(hi, ahi)
    return lo, hi


def _scalar(x):
    """A float for one slot, the array of a batch of slots."""
    return float(x) if np.ndim(x) == 0 else np.asarray(x)


def _line_current_bounds(br, prep, e, f, jr, ji) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of the larger end current of every line, as the batch engine reports it
    (``_Prepared.line_currents_ka``): ``J + y_u V_u`` at the parent end and ``J - y_c V_c`` at
    the child end of a tree line; from the end voltages for lines merged with parallel
    branches; the charging current at the live end of a line open at the other."""
    c, u, k, y_u, y_c = prep.tree_lines(br)
    i_base = br.sn_mva / (np.sqrt(3.0) * br.vn_kv)
    shape = jr.shape[:-1] + (br.n_line,)
    i_lo, i_hi = np.zeros(shape), np.zeros(shape)
    ends = [_end_current_bounds(jr[..., c], ji[..., c], e[..., bus], f[..., bus], y * sign, i_base[bus])
            for bus, y, sign in ((u, y_u, 1.0), (c, y_c, -1.0))]
    i_lo[..., k] = np.maximum(ends[0][0], ends[1][0])
    i_hi[..., k] = np.maximum(ends[0][1], ends[1][1])
    lines = prep.parallel_lines
    if lines.size:  # series current (V_from - V_to) / z
        fb, tb = br.from_pos[lines], br.to_pos[lines]
        w = 1.0 / br.z_pu[lines]
        dr, di = e[..., fb] - e[..., tb], f[..., fb] - f[..., tb]
        sr, si = dr * w.real - di * w.imag, di * w.real + dr * w.imag
        ends = [_end_current_bounds(sr * sign, si * sign, e[..., bus], f[..., bus], y, i_base[bus])
                for bus, y, sign in ((fb, br.y_from_pu[lines], 1.0), (tb, br.y_to_pu[lines], -1.0))]
        i_lo[..., lines] = np.maximum(ends[0][0], ends[1][0])
        i_hi[..., lines] = np.maximum(ends[0][1], ends[1][1])
    if prep.half_open.size:
        bus = prep.half_open_bus
        zero = 0.0 * e[..., bus]
        i_lo[..., prep.half_open], i_hi[..., prep.half_open] = _end_current_bounds(
            zero, zero, e[..., bus], f[..., bus], prep.half_open_y, i_base[bus])
    return i_lo, i_hi


def _end_current_bounds(jr, ji, e, f, y, i_base) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of ``|J + y V|`` in kA (``i_base`` per end)."""
    lo, hi = _magnitude_bounds(jr + (e * y.real - f * y.imag), ji + (f * y.real + e * y.imag))
    return np.maximum(lo, 0.0) * i_base, hi * i_base
