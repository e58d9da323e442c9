"""Compiled backward/forward sweep in affine arithmetic, over a batch of time slots.

The kernel of :func:`fdnmoo.uncertainty.power_flow.uncertain_power_flow`
for ``arithmetic="affine"``. It runs on the radial rows of
:class:`~fdnmoo.powerflow.BatchPowerFlow` (``_Prepared``: rows in depth-first
order, parent rows, impedances, ratios and lumped shunts, as the
deterministic kernel :mod:`fdnmoo.powerflow.sweep` does) and does every
operation with the one-quantity functions of :mod:`.affine_ops`, in the order
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

Forms are arrays ``(centre (S, n), coeffs (S, n, n_symbols), error (S, n))``
over slots ``S`` and rows ``n``; the iteration and the epsilon-inflation check
(see :mod:`fdnmoo.uncertainty.power_flow`) run over all slots together, like
the reference, so both stop at the same sweep.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from . import affine_ops as ops

__all__ = ["solve"]

_JIT = dict(cache=True, nogil=True, error_model="numpy")

# rows of the (5, n_symbols) scratch array
_SE, _INV, _U, _W, _X = 0, 1, 2, 3, 4


@njit(**_JIT)
def _injection(pc, pa, pe, qc, qa, qe, ec, ea, ee, fc, fa, fe, i, gr, gi, jrc, jra, jre, jic, jia, jie,
               b, t):
    """``I = conj(S / V) + y V`` of row ``i`` of the forms ``p, q, e, f`` into row ``b`` of the
    forms ``jr``, ``ji``, in the reference's order of operations; ``t`` is a (5, n_symbols) scratch."""
    sc, s_e = ops.shift(ec[i], ea, i, ee[i], 0.0, t, _SE)  # the reference's "e + (1 - supplied)"
    c1, e1 = ops.square(sc, t, _SE, s_e, t, _INV)
    c2, e2 = ops.square(fc[i], fa, i, fe[i], t, _U)
    c1, e1 = ops.add(c1, t, _INV, e1, c2, t, _U, e2, t, _INV)
    ic, i_e = ops.reciprocal(c1, t, _INV, e1, t, _INV)
    # Re I = (p e + q f) / |V|^2 + (e g - f b)
    c1, e1 = ops.mul(pc[i], pa, i, pe[i], sc, t, _SE, s_e, t, _U)
    c2, e2 = ops.mul(qc[i], qa, i, qe[i], fc[i], fa, i, fe[i], t, _W)
    c1, e1 = ops.add(c1, t, _U, e1, c2, t, _W, e2, t, _U)
    c1, e1 = ops.mul(c1, t, _U, e1, ic, t, _INV, i_e, t, _U)
    c2, e2 = ops.scale(sc, t, _SE, s_e, gr, t, _W)
    c3, e3 = ops.scale(fc[i], fa, i, fe[i], gi, t, _X)
    c3 = ops.negate(c3, t, _X, t, _X)
    c2, e2 = ops.add(c2, t, _W, e2, c3, t, _X, e3, t, _W)
    c1, e1 = ops.add(c1, t, _U, e1, c2, t, _W, e2, t, _U)
    jrc[b], jre[b] = ops.scale(c1, t, _U, e1, 1.0, jra, b)  # the reference's "* supplied"
    # Im I = (p f - q e) / |V|^2 + (f g + e b)
    c1, e1 = ops.mul(pc[i], pa, i, pe[i], fc[i], fa, i, fe[i], t, _U)
    c2, e2 = ops.mul(qc[i], qa, i, qe[i], sc, t, _SE, s_e, t, _W)
    c2 = ops.negate(c2, t, _W, t, _W)
    c1, e1 = ops.add(c1, t, _U, e1, c2, t, _W, e2, t, _U)
    c1, e1 = ops.mul(c1, t, _U, e1, ic, t, _INV, i_e, t, _U)
    c2, e2 = ops.scale(fc[i], fa, i, fe[i], gr, t, _W)
    c3, e3 = ops.scale(sc, t, _SE, s_e, gi, t, _X)
    c2, e2 = ops.add(c2, t, _W, e2, c3, t, _X, e3, t, _W)
    c1, e1 = ops.add(c1, t, _U, e1, c2, t, _W, e2, t, _U)
    jic[b], jie[b] = ops.scale(c1, t, _U, e1, 1.0, jia, b)


@njit(**_JIT)
def _currents(net, has_ratio, P, Q, E, F, t, JR, JI, row0, scratch):
    """Series currents ``J = T I`` of slot ``t`` into rows ``row0 + bus row`` of the forms
    ``JR``, ``JI``: injections of the non-root supplied rows, then the backward sweep; 0 at
    roots and unsupplied rows."""
    order, parent, root_rows, a_re, a_im, y_re, y_im = net[0], net[1], net[2], net[3], net[4], net[7], net[8]
    pc, pa, pe = P
    qc, qa, qe = Q
    ec, ea, ee = E
    fc, fa, fe = F
    jrc, jra, jre = JR
    jic, jia, jie = JI
    n = y_re.shape[0]
    off = t * n
    for b in range(row0, row0 + n):
        jrc[b], jre[b], jic[b], jie[b] = 0.0, 0.0, 0.0, 0.0
        jra[b, :] = 0.0
        jia[b, :] = 0.0
    for m in range(order.shape[0]):
        b = order[m]
        _injection(pc, pa, pe, qc, qa, qe, ec, ea, ee, fc, fa, fe, off + b, y_re[b], y_im[b],
                   jrc, jra, jre, jic, jia, jie, row0 + b, scratch)
    for m in range(order.shape[0] - 1, -1, -1):
        c = row0 + order[m]
        u = row0 + parent[order[m]]
        if has_ratio:  # J / conj(t) = J conj(a)
            ar, ai = a_re[order[m]], a_im[order[m]]
            c1, e1 = ops.scale(jrc[c], jra, c, jre[c], ar, scratch, _U)
            c2, e2 = ops.scale(jic[c], jia, c, jie[c], ai, scratch, _W)
            c1, e1 = ops.add(c1, scratch, _U, e1, c2, scratch, _W, e2, scratch, _U)
            c3, e3 = ops.scale(jic[c], jia, c, jie[c], ar, scratch, _W)
            c2, e2 = ops.scale(jrc[c], jra, c, jre[c], -ai, scratch, _X)
            c3, e3 = ops.add(c3, scratch, _W, e3, c2, scratch, _X, e2, scratch, _W)
            jrc[u], jre[u] = ops.add(jrc[u], jra, u, jre[u], c1, scratch, _U, e1, jra, u)
            jic[u], jie[u] = ops.add(jic[u], jia, u, jie[u], c3, scratch, _W, e3, jia, u)
        else:
            jrc[u], jre[u] = ops.add(jrc[u], jra, u, jre[u], jrc[c], jra, c, jre[c], jra, u)
            jic[u], jie[u] = ops.add(jic[u], jia, u, jie[u], jic[c], jia, c, jie[c], jia, u)
    for r in range(root_rows.shape[0]):  # a root's current is the grid's, not a branch's
        b = row0 + root_rows[r]
        jrc[b], jre[b], jic[b], jie[b] = 0.0, 0.0, 0.0, 0.0
        jra[b, :] = 0.0
        jia[b, :] = 0.0


@njit(**_JIT)
def _step(net, has_ratio, P, Q, E, F, E2, F2, JR, JI, scratch):
    """One sweep of every slot: ``(E2, F2) = V0 + M I(E, F)``."""
    order, parent, root_rows = net[0], net[1], net[2]
    a_re, a_im, z_re, z_im, v0_re, v0_im = net[3], net[4], net[5], net[6], net[9], net[10]
    jrc, jra, jre = JR
    jic, jia, jie = JI
    ec, ea, ee = E2
    fc, fa, fe = F2
    n = z_re.shape[0]
    row0 = 0  # a variable, not a literal: one compiled _currents for both callers
    for t in range(E[0].shape[0] // n):
        _currents(net, has_ratio, P, Q, E, F, t, JR, JI, row0, scratch)
        off = t * n
        for b in range(off, off + n):  # unsupplied rows stay 0
            ec[b], ee[b], fc[b], fe[b] = 0.0, 0.0, 0.0, 0.0
            ea[b, :] = 0.0
            fa[b, :] = 0.0
        for r in range(root_rows.shape[0]):
            b = off + root_rows[r]
            ec[b], ee[b] = ops.shift(0.0, ea, b, 0.0, v0_re[root_rows[r]], ea, b)
            fc[b], fe[b] = ops.shift(0.0, fa, b, 0.0, v0_im[root_rows[r]], fa, b)
        for m in range(order.shape[0]):
            k = order[m]
            c, u = off + k, off + parent[k]
            zr, zi = z_re[k], z_im[k]
            # - z J = (-zr Jr + zi Ji) + j (-zr Ji - zi Jr)
            c1, e1 = ops.scale(jrc[k], jra, k, jre[k], -zr, scratch, _U)
            c2, e2 = ops.scale(jic[k], jia, k, jie[k], zi, scratch, _W)
            dr_c, dr_e = ops.add(c1, scratch, _U, e1, c2, scratch, _W, e2, scratch, _SE)
            c1, e1 = ops.scale(jic[k], jia, k, jie[k], -zr, scratch, _U)
            c2, e2 = ops.scale(jrc[k], jra, k, jre[k], -zi, scratch, _W)
            di_c, di_e = ops.add(c1, scratch, _U, e1, c2, scratch, _W, e2, scratch, _INV)
            if has_ratio:  # a V_parent
                ar, ai = a_re[k], a_im[k]
                c1, e1 = ops.scale(ec[u], ea, u, ee[u], ar, scratch, _U)
                c2, e2 = ops.scale(fc[u], fa, u, fe[u], -ai, scratch, _W)
                c1, e1 = ops.add(c1, scratch, _U, e1, c2, scratch, _W, e2, scratch, _U)
                c3, e3 = ops.scale(ec[u], ea, u, ee[u], ai, scratch, _W)
                c2, e2 = ops.scale(fc[u], fa, u, fe[u], ar, scratch, _X)
                c3, e3 = ops.add(c3, scratch, _W, e3, c2, scratch, _X, e2, scratch, _W)
                ec[c], ee[c] = ops.add(c1, scratch, _U, e1, dr_c, scratch, _SE, dr_e, ea, c)
                fc[c], fe[c] = ops.add(c3, scratch, _W, e3, di_c, scratch, _INV, di_e, fa, c)
            else:
                ec[c], ee[c] = ops.add(ec[u], ea, u, ee[u], dr_c, scratch, _SE, dr_e, ea, c)
                fc[c], fe[c] = ops.add(fc[u], fa, u, fe[u], di_c, scratch, _INV, di_e, fa, c)


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
def _solve(net, has_ratio, P, Q, vc_re, vc_im, tol, max_iter, rounds, amount):
    n_rows, n_sym = P[1].shape
    n = net[5].shape[0]
    E, F = _forms(n_rows, n_sym), _forms(n_rows, n_sym)
    E[0][:] = vc_re
    F[0][:] = vc_im
    E2, F2 = _copy(E), _copy(F)
    jr, ji = _forms(n, n_sym), _forms(n, n_sym)
    scratch = np.empty((5, n_sym))
    converged, iterations = False, 0
    for it in range(1, max_iter + 1):
        iterations = it
        _step(net, has_ratio, P, Q, E, F, E2, F2, jr, ji, scratch)
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
        _step(net, has_ratio, P, Q, E, F, E2, F2, jr, ji, scratch)
        inside = _inside(E2, E) and _inside(F2, F)
        E, E2 = E2, E
        F, F2 = F2, F
        if inside:  # F(X) ⊆ X: the solutions lie in F(X) too
            verified = True
            break
    if not verified:
        E, F = kept_e, kept_f
    JR, JI = _forms(n_rows, n_sym), _forms(n_rows, n_sym)
    for t in range(n_rows // n):
        _currents(net, has_ratio, P, Q, E, F, t, JR, JI, t * n, scratch)
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

    def rows(x):  # (slots, buses) -> flat rows slot * n + row
        return (c(np.asarray(x.center, float)[:, perm]).reshape(-1),
                c(np.asarray(x.coeffs, float)[:, perm]).reshape(-1, k),
                c(np.asarray(x.error, float)[:, perm]).reshape(-1))

    E, F, JR, JI, it, conv, ver = _solve(net, has_ratio, rows(p), rows(q),
                                         c(v_center.real[:, perm]).reshape(-1),
                                         c(v_center.imag[:, perm]).reshape(-1),
                                         float(tol), int(max_iter), int(rounds), float(amount))

    def buses(x):
        cen, co, err = x
        return (cen.reshape(n_t, n)[:, row_of], co.reshape(n_t, n, k)[:, row_of],
                err.reshape(n_t, n)[:, row_of])

    return buses(E), buses(F), buses(JR), buses(JI), int(it), bool(conv), bool(ver)
