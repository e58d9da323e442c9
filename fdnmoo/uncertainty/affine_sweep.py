"""Compiled backward/forward sweep in affine arithmetic, over a batch of time slots.

The kernel of :func:`fdnmoo.uncertainty.power_flow.uncertain_power_flow`
for ``arithmetic="affine"``. It runs on the radial rows of
:class:`~fdnmoo.powerflow.BatchPowerFlow` (``_Prepared``: rows in depth-first
order, parent rows, impedances, ratios and lumped shunts, as the
deterministic kernel :mod:`fdnmoo.powerflow.sweep` does) and does every
operation with the functions of :mod:`.affine_ops`, in the order
the readable reference (``uncertain_power_flow(..., compiled=False)``, on
:class:`~fdnmoo.uncertainty.affine.AffineForm`) does them:

* injections ``I = conj(S / V) + y V`` per bus (``1/(e**2 + f**2)`` by the
  Chebyshev reciprocal);
* backward: ``J_parent += conj(a) J_child`` from the leaves up;
* forward: ``V_child = a V_parent - z J_child`` from the roots down.

The reference applies the same two linear maps as dense matrices
(``V = V0 + M I``). Centres and shared coefficients agree up to rounding; the
private terms agree when every entry of the maps is a sum of terms of one sign
(no phase-shifting ratio, resistances >= 0 and reactances of one sign along
every path: all shipped cases), else the sweep's are wider (``|x + y| <=
|x| + |y|``), never narrower. Every tree step carries its own rounding slack.

Forms are flat arrays ``(centre, coeffs (., n_symbols), error)`` with one row
per (sweep row, slot), slot fastest: every operation works on one bus's block
of slots at once. The iteration and the epsilon-inflation check (see
:mod:`fdnmoo.uncertainty.power_flow`) run over all slots together, like the
reference, so both stop at the same sweep.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from . import affine_ops as ops

__all__ = ["solve"]

_JIT = dict(cache=True, nogil=True, error_model="numpy")

# blocks of the scratch form (each one block of slots)
_SE, _INV, _U, _W, _X = 0, 1, 2, 3, 4


@njit(**_JIT)
def _injections(net, P, Q, E, F, JR, JI, T, S, ONE):
    """``I = conj(S / V) + y V`` of every non-root supplied bus and slot into ``JR``, ``JI``, in the
    reference's order of operations; ``T`` is a scratch form of 5 blocks of ``S`` rows."""
    order, y_re, y_im = net[0], net[7], net[8]
    pc, pa, pe = P
    qc, qa, qe = Q
    ec, ea, ee = E
    fc, fa, fe = F
    rc, ra, re = JR
    ic, ia, ie = JI
    tc, ta, te = T
    se, inv, u, w, x = _SE * S, _INV * S, _U * S, _W * S, _X * S
    zero = ONE * 0.0
    for m in range(order.shape[0]):
        b = order[m]
        i = b * S
        ops.shift(ec, ea, ee, i, zero, 0, 0, tc, ta, te, se, S)  # the reference's "e + (1 - supplied)"
        ops.fitted(ops.SQUARE, tc, ta, te, se, tc, ta, te, inv, S)
        ops.fitted(ops.SQUARE, fc, fa, fe, i, tc, ta, te, u, S)
        ops.add(tc, ta, te, inv, tc, ta, te, u, tc, ta, te, inv, S)
        ops.fitted(ops.RECIPROCAL, tc, ta, te, inv, tc, ta, te, inv, S)
        # Re I = (p e + q f) / |V|^2 + (e g - f b)
        ops.mul(pc, pa, pe, i, tc, ta, te, se, tc, ta, te, u, S)
        ops.mul(qc, qa, qe, i, fc, fa, fe, i, tc, ta, te, w, S)
        ops.add(tc, ta, te, u, tc, ta, te, w, tc, ta, te, u, S)
        ops.mul(tc, ta, te, u, tc, ta, te, inv, tc, ta, te, u, S)
        ops.scale(tc, ta, te, se, y_re, b, 0, tc, ta, te, w, S)
        ops.scale(fc, fa, fe, i, y_im, b, 0, tc, ta, te, x, S)
        ops.negate(tc, ta, x, S)
        ops.add(tc, ta, te, w, tc, ta, te, x, tc, ta, te, w, S)
        ops.add(tc, ta, te, u, tc, ta, te, w, tc, ta, te, u, S)
        ops.scale(tc, ta, te, u, ONE, 0, 0, rc, ra, re, i, S)  # the reference's "* supplied"
        # Im I = (p f - q e) / |V|^2 + (f g + e b)
        ops.mul(pc, pa, pe, i, fc, fa, fe, i, tc, ta, te, u, S)
        ops.mul(qc, qa, qe, i, tc, ta, te, se, tc, ta, te, w, S)
        ops.negate(tc, ta, w, S)
        ops.add(tc, ta, te, u, tc, ta, te, w, tc, ta, te, u, S)
        ops.mul(tc, ta, te, u, tc, ta, te, inv, tc, ta, te, u, S)
        ops.scale(fc, fa, fe, i, y_re, b, 0, tc, ta, te, w, S)
        ops.scale(tc, ta, te, se, y_im, b, 0, tc, ta, te, x, S)
        ops.add(tc, ta, te, w, tc, ta, te, x, tc, ta, te, w, S)
        ops.add(tc, ta, te, u, tc, ta, te, w, tc, ta, te, u, S)
        ops.scale(tc, ta, te, u, ONE, 0, 0, ic, ia, ie, i, S)


@njit(**_JIT)
def _zero(X, start, rows) -> None:
    xc, xa, xe = X
    for r in range(start, start + rows):
        xc[r] = 0.0
        xe[r] = 0.0
        for m in range(xa.shape[1]):
            xa[r, m] = 0.0


@njit(**_JIT)
def _currents(net, has_ratio, P, Q, E, F, JR, JI, T, S, ONE, NEG):
    """Series currents ``J = T I`` of every bus and slot: injections of the non-root supplied
    buses, then the backward sweep; 0 at roots and unsupplied buses."""
    order, parent, root_rows, a_re, a_im = net[0], net[1], net[2], net[3], net[4]
    nai = NEG[2]
    rc, ra, re = JR
    ic, ia, ie = JI
    tc, ta, te = T
    _zero(JR, 0, rc.shape[0])
    _zero(JI, 0, ic.shape[0])
    _injections(net, P, Q, E, F, JR, JI, T, S, ONE)
    u_, w_, x_ = _U * S, _W * S, _X * S
    for m in range(order.shape[0] - 1, -1, -1):
        k = order[m]
        c, u = k * S, parent[k] * S
        if has_ratio:  # J / conj(t) = J conj(a)
            ops.scale(rc, ra, re, c, a_re, k, 0, tc, ta, te, u_, S)
            ops.scale(ic, ia, ie, c, a_im, k, 0, tc, ta, te, w_, S)
            ops.add(tc, ta, te, u_, tc, ta, te, w_, tc, ta, te, u_, S)
            ops.scale(ic, ia, ie, c, a_re, k, 0, tc, ta, te, w_, S)
            ops.scale(rc, ra, re, c, nai, k, 0, tc, ta, te, x_, S)
            ops.add(tc, ta, te, w_, tc, ta, te, x_, tc, ta, te, w_, S)
            ops.add(rc, ra, re, u, tc, ta, te, u_, rc, ra, re, u, S)
            ops.add(ic, ia, ie, u, tc, ta, te, w_, ic, ia, ie, u, S)
        else:
            ops.add(rc, ra, re, u, rc, ra, re, c, rc, ra, re, u, S)
            ops.add(ic, ia, ie, u, ic, ia, ie, c, ic, ia, ie, u, S)
    for r in range(root_rows.shape[0]):  # a root's current is the grid's, not a branch's
        _zero(JR, root_rows[r] * S, S)
        _zero(JI, root_rows[r] * S, S)


@njit(**_JIT)
def _step(net, has_ratio, P, Q, E, F, E2, F2, JR, JI, T, S, ONE, NEG):
    """One sweep of every slot: ``(E2, F2) = V0 + M I(E, F)``."""
    order, parent, root_rows = net[0], net[1], net[2]
    a_re, a_im, z_im, v0_re, v0_im = net[3], net[4], net[6], net[9], net[10]
    nzr, nzi, nai = NEG
    rc, ra, re = JR
    ic, ia, ie = JI
    ec, ea, ee = E2
    fc, fa, fe = F2
    tc, ta, te = T
    _currents(net, has_ratio, P, Q, E, F, JR, JI, T, S, ONE, NEG)
    _zero(E2, 0, ec.shape[0])  # unsupplied buses stay 0
    _zero(F2, 0, fc.shape[0])
    for r in range(root_rows.shape[0]):
        k = root_rows[r]
        ops.shift(ec, ea, ee, k * S, v0_re, k, 0, ec, ea, ee, k * S, S)
        ops.shift(fc, fa, fe, k * S, v0_im, k, 0, fc, fa, fe, k * S, S)
    se, inv, u_, w_, x_ = _SE * S, _INV * S, _U * S, _W * S, _X * S
    for m in range(order.shape[0]):
        k = order[m]
        c, u = k * S, parent[k] * S
        # - z J = (-zr Jr + zi Ji) + j (-zr Ji - zi Jr)
        ops.scale(rc, ra, re, c, nzr, k, 0, tc, ta, te, u_, S)
        ops.scale(ic, ia, ie, c, z_im, k, 0, tc, ta, te, w_, S)
        ops.add(tc, ta, te, u_, tc, ta, te, w_, tc, ta, te, se, S)
        ops.scale(ic, ia, ie, c, nzr, k, 0, tc, ta, te, u_, S)
        ops.scale(rc, ra, re, c, nzi, k, 0, tc, ta, te, w_, S)
        ops.add(tc, ta, te, u_, tc, ta, te, w_, tc, ta, te, inv, S)
        if has_ratio:  # a V_parent
            ops.scale(ec, ea, ee, u, a_re, k, 0, tc, ta, te, u_, S)
            ops.scale(fc, fa, fe, u, nai, k, 0, tc, ta, te, w_, S)
            ops.add(tc, ta, te, u_, tc, ta, te, w_, tc, ta, te, u_, S)
            ops.scale(ec, ea, ee, u, a_im, k, 0, tc, ta, te, w_, S)
            ops.scale(fc, fa, fe, u, a_re, k, 0, tc, ta, te, x_, S)
            ops.add(tc, ta, te, w_, tc, ta, te, x_, tc, ta, te, w_, S)
            ops.add(tc, ta, te, u_, tc, ta, te, se, ec, ea, ee, c, S)
            ops.add(tc, ta, te, w_, tc, ta, te, inv, fc, fa, fe, c, S)
        else:
            ops.add(ec, ea, ee, u, tc, ta, te, se, ec, ea, ee, c, S)
            ops.add(fc, fa, fe, u, tc, ta, te, inv, fc, fa, fe, c, S)


@njit(**_JIT)
def _bound_change(X, Y) -> float:
    """Largest move of a bound ``centre +- radius`` (outward-rounded, as ``Interval.around``)."""
    xc, xa, xe = X
    yc, ya, ye = Y
    worst = 0.0
    for b in range(xc.shape[0]):
        rx = ops.abs_sum(xa, b) + xe[b]
        ry = ops.abs_sum(ya, b) + ye[b]
        d_lo = abs(np.nextafter(xc[b] - rx, -np.inf) - np.nextafter(yc[b] - ry, -np.inf))
        d_hi = abs(np.nextafter(xc[b] + rx, np.inf) - np.nextafter(yc[b] + ry, np.inf))
        worst = max(worst, d_lo, d_hi)
    return worst


@njit(**_JIT)
def _inflate(X, amount: float) -> None:
    """Epsilon-inflation in place: the private term grows by ``amount`` radius + 1e-12."""
    xc, xa, xe = X
    for b in range(xc.shape[0]):
        xe[b] += amount * (ops.abs_sum(xa, b) + xe[b]) + 1e-12


@njit(**_JIT)
def _inside(X, Y) -> bool:
    """``X ⊆ Y`` jointly over the shared symbols: ``|dc| + sum |da| + e_X <= e_Y`` everywhere."""
    xc, xa, xe = X
    yc, ya, ye = Y
    for b in range(xc.shape[0]):
        gap = abs(xc[b] - yc[b])
        for m in range(xa.shape[1]):
            gap += abs(xa[b, m] - ya[b, m])
        if not gap + xe[b] <= ye[b]:
            return False
    return True


@njit(**_JIT)
def _copy(X):
    return X[0].copy(), X[1].copy(), X[2].copy()


@njit(**_JIT)
def _forms(rows: int, n_sym: int):
    return np.zeros(rows), np.zeros((rows, n_sym)), np.zeros(rows)


@njit(**_JIT)
def _solve(net, has_ratio, P, Q, vc_re, vc_im, n_slots, tol, max_iter, rounds, amount):
    n_rows, n_sym = P[1].shape
    S = n_slots
    E, F = _forms(n_rows, n_sym), _forms(n_rows, n_sym)
    E[0][:] = vc_re
    F[0][:] = vc_im
    E2, F2 = _copy(E), _copy(F)
    JR, JI = _forms(n_rows, n_sym), _forms(n_rows, n_sym)
    T = _forms(5 * S, n_sym)
    ONE = np.ones(1)
    NEG = (-net[5], -net[6], -net[4])  # -z_re, -z_im, -a_im
    converged, iterations = False, 0
    for it in range(1, max_iter + 1):
        iterations = it
        _step(net, has_ratio, P, Q, E, F, E2, F2, JR, JI, T, S, ONE, NEG)
        change = max(_bound_change(E2, E), _bound_change(F2, F))
        E, E2 = E2, E
        F, F2 = F2, F
        if change < tol:
            converged = True
            break
    # Rump's epsilon-inflation: inflate, map, and check that the image lies inside
    kept_e, kept_f = _copy(E), _copy(F)
    verified = False
    for _ in range(rounds):
        _inflate(E, amount)
        _inflate(F, amount)
        _step(net, has_ratio, P, Q, E, F, E2, F2, JR, JI, T, S, ONE, NEG)
        inside = _inside(E2, E) and _inside(F2, F)
        E, E2 = E2, E
        F, F2 = F2, F
        if inside:  # F(X) ⊆ X: the solutions lie in F(X) too
            verified = True
            break
    if not verified:
        E, F = kept_e, kept_f
    _currents(net, has_ratio, P, Q, E, F, JR, JI, T, S, ONE, NEG)
    return E, F, JR, JI, iterations, converged, verified


def solve(net, has_ratio, perm, row_of, p, q, v_center, tol: float, max_iter: int,
          rounds: int = 10, amount: float = 0.01):
    """Affine bounds of the rectangular bus voltages and branch currents of a batch of slots.

    Parameters
    ----------
    net, has_ratio, perm, row_of
        The sweep rows of the engine's topology (``power_flow._sweep_rows``): a tuple of
        row arrays (order, parent, roots, ratio re/im, impedance re/im, shunt re/im, root
        voltage re/im), whether a ratio differs from 1, row -> bus and bus -> row.
    p, q : AffineForm, shape (n_slots, n_bus)
        Per-unit net demand (+ = consumption), bus positions, the same symbols.
    v_center : ndarray of complex, shape (n_slots, n_bus)
        Forecast solution (the starting point; 0 at unsupplied buses).
    tol, max_iter, rounds, amount
        As in :func:`fdnmoo.uncertainty.power_flow.uncertain_power_flow` and its check.

    Returns
    -------
    e, f, jr, ji : tuple (centre, coeffs, error)
        ``Re V``, ``Im V`` and ``Re J``, ``Im J`` in bus positions (``J``: series current of the
        branch feeding each bus, 0 at roots and unsupplied buses).
    iterations : int
    converged, verified : bool
    """
    c = np.ascontiguousarray
    n_t, n = v_center.shape
    k = p.n_symbols

    def rows(x):  # (slots, buses) -> flat rows row * n_slots + slot
        return c(np.asarray(x, float)[:, perm].T).reshape(-1)

    def coeff_rows(a):
        return c(np.asarray(a, float)[:, perm].transpose(1, 0, 2)).reshape(-1, k)

    P, Q = ((rows(x.center), coeff_rows(x.coeffs), rows(x.error)) for x in (p, q))
    E, F, JR, JI, it, conv, ver = _solve(net, has_ratio, P, Q, rows(v_center.real), rows(v_center.imag),
                                         n_t, float(tol), int(max_iter), int(rounds), float(amount))

    def buses(x):
        cen, co, err = x
        return (cen.reshape(n, n_t).T[:, row_of], co.reshape(n, n_t, k).transpose(1, 0, 2)[:, row_of],
                err.reshape(n, n_t).T[:, row_of])

    return buses(E), buses(F), buses(JR), buses(JI), int(it), bool(conv), bool(ver)
