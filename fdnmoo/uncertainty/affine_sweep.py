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


@njit(**_JIT)
def _negate(c, a) -> float:
    for i in range(a.shape[0]):
        a[i] = -a[i]
    return -c


@njit(**_JIT)
def _injection(pc, pa, pe, qc, qa, qe, ec, ea, ee, fc, fa, fe, gr, gi, out_r, out_i, t):
    """``I = conj(S / V) + y V`` of one bus: returns the centres and errors of Re I and Im I and
    writes their coefficients into ``out_r``/``out_i``; ``t`` is a (5, n_symbols) scratch."""
    se, inv, u, w, x = t[0], t[1], t[2], t[3], t[4]
    sc, s_e = ops.shift(ec, ea, ee, 0.0, se)  # the reference's "e + (1 - supplied)"
    c1, e1 = ops.square(sc, se, s_e, inv)
    c2, e2 = ops.square(fc, fa, fe, u)
    c1, e1 = ops.add(c1, inv, e1, c2, u, e2, inv)
    ic, i_e = ops.reciprocal(c1, inv, e1, inv)
    # Re I = (p e + q f) / |V|^2 + (e g - f b)
    c1, e1 = ops.mul(pc, pa, pe, sc, se, s_e, u)
    c2, e2 = ops.mul(qc, qa, qe, fc, fa, fe, w)
    c1, e1 = ops.add(c1, u, e1, c2, w, e2, u)
    c1, e1 = ops.mul(c1, u, e1, ic, inv, i_e, u)
    c2, e2 = ops.scale(sc, se, s_e, gr, w)
    c3, e3 = ops.scale(fc, fa, fe, gi, x)
    c3 = _negate(c3, x)
    c2, e2 = ops.add(c2, w, e2, c3, x, e3, w)
    c1, e1 = ops.add(c1, u, e1, c2, w, e2, u)
    rc, r_e = ops.scale(c1, u, e1, 1.0, out_r)  # the reference's "* supplied"
    # Im I = (p f - q e) / |V|^2 + (f g + e b)
    c1, e1 = ops.mul(pc, pa, pe, fc, fa, fe, u)
    c2, e2 = ops.mul(qc, qa, qe, sc, se, s_e, w)
    c2 = _negate(c2, w)
    c1, e1 = ops.add(c1, u, e1, c2, w, e2, u)
    c1, e1 = ops.mul(c1, u, e1, ic, inv, i_e, u)
    c2, e2 = ops.scale(fc, fa, fe, gr, w)
    c3, e3 = ops.scale(sc, se, s_e, gi, x)
    c2, e2 = ops.add(c2, w, e2, c3, x, e3, w)
    c1, e1 = ops.add(c1, u, e1, c2, w, e2, u)
    ic2, i_e2 = ops.scale(c1, u, e1, 1.0, out_i)
    return rc, r_e, ic2, i_e2


@njit(**_JIT)
def _currents(net, has_ratio, P, Q, E, F, t, jr, ji, scratch):
    """Series currents ``J = T I`` of slot ``t`` into the forms ``jr``, ``ji`` (shape (n, ...)):
    injections of the non-root supplied rows, then the backward sweep; 0 at roots."""
    order, parent, root_rows = net[0], net[1], net[2]
    a_re, a_im, y_re, y_im = net[3], net[4], net[7], net[8]
    jrc, jra, jre = jr
    jic, jia, jie = ji
    jrc[:] = 0.0
    jra[:] = 0.0
    jre[:] = 0.0
    jic[:] = 0.0
    jia[:] = 0.0
    jie[:] = 0.0
    for k in range(order.shape[0]):
        b = order[k]
        jrc[b], jre[b], jic[b], jie[b] = _injection(
            P[0][t, b], P[1][t, b], P[2][t, b], Q[0][t, b], Q[1][t, b], Q[2][t, b],
            E[0][t, b], E[1][t, b], E[2][t, b], F[0][t, b], F[1][t, b], F[2][t, b],
            y_re[b], y_im[b], jra[b], jia[b], scratch)
    u_r, u_i = scratch[0], scratch[1]
    for k in range(order.shape[0] - 1, -1, -1):
        c = order[k]
        u = parent[c]
        if has_ratio:  # J / conj(t) = J conj(a)
            ar, ai = a_re[c], a_im[c]
            c1, e1 = ops.scale(jrc[c], jra[c], jre[c], ar, u_r)
            c2, e2 = ops.scale(jic[c], jia[c], jie[c], ai, u_i)
            c1, e1 = ops.add(c1, u_r, e1, c2, u_i, e2, u_r)
            jrc[u], jre[u] = ops.add(jrc[u], jra[u], jre[u], c1, u_r, e1, jra[u])
            c1, e1 = ops.scale(jic[c], jia[c], jie[c], ar, u_r)
            c2, e2 = ops.scale(jrc[c], jra[c], jre[c], -ai, u_i)
            c1, e1 = ops.add(c1, u_r, e1, c2, u_i, e2, u_r)
            jic[u], jie[u] = ops.add(jic[u], jia[u], jie[u], c1, u_r, e1, jia[u])
        else:
            jrc[u], jre[u] = ops.add(jrc[u], jra[u], jre[u], jrc[c], jra[c], jre[c], jra[u])
            jic[u], jie[u] = ops.add(jic[u], jia[u], jie[u], jic[c], jia[c], jie[c], jia[u])
    for r in range(root_rows.shape[0]):  # a root's current is the grid's, not a branch's
        b = root_rows[r]
        jrc[b], jre[b], jic[b], jie[b] = 0.0, 0.0, 0.0, 0.0
        jra[b, :] = 0.0
        jia[b, :] = 0.0


@njit(**_JIT)
def _step(net, has_ratio, P, Q, E, F, E2, F2, jr, ji, scratch):
    """One sweep of every slot: ``(E2, F2) = V0 + M I(E, F)``."""
    order, parent, root_rows = net[0], net[1], net[2]
    a_re, a_im, z_re, z_im, v0_re, v0_im = net[3], net[4], net[5], net[6], net[9], net[10]
    jrc, jra, jre = jr
    jic, jia, jie = ji
    u_r, u_i, d_r, d_i = scratch[0], scratch[1], scratch[2], scratch[3]
    for t in range(E[0].shape[0]):
        _currents(net, has_ratio, P, Q, E, F, t, jr, ji, scratch)
        ec, ea, ee = E2[0][t], E2[1][t], E2[2][t]
        fc, fa, fe = F2[0][t], F2[1][t], F2[2][t]
        ec[:] = 0.0  # unsupplied rows stay 0
        ea[:] = 0.0
        ee[:] = 0.0
        fc[:] = 0.0
        fa[:] = 0.0
        fe[:] = 0.0
        for r in range(root_rows.shape[0]):
            b = root_rows[r]
            ec[b], ee[b] = ops.shift(0.0, ea[b], 0.0, v0_re[b], ea[b])
            fc[b], fe[b] = ops.shift(0.0, fa[b], 0.0, v0_im[b], fa[b])
        for k in range(order.shape[0]):
            c = order[k]
            u = parent[c]
            zr, zi = z_re[c], z_im[c]
            # - z J = (-zr Jr + zi Ji) + j (-zr Ji - zi Jr)
            c1, e1 = ops.scale(jrc[c], jra[c], jre[c], -zr, d_r)
            c2, e2 = ops.scale(jic[c], jia[c], jie[c], zi, d_i)
            dr_c, dr_e = ops.add(c1, d_r, e1, c2, d_i, e2, d_r)
            c1, e1 = ops.scale(jic[c], jia[c], jie[c], -zr, d_i)
            c2, e2 = ops.scale(jrc[c], jra[c], jre[c], -zi, u_r)
            di_c, di_e = ops.add(c1, d_i, e1, c2, u_r, e2, d_i)
            if has_ratio:  # a V_parent
                ar, ai = a_re[c], a_im[c]
                c1, e1 = ops.scale(ec[u], ea[u], ee[u], ar, u_r)
                c2, e2 = ops.scale(fc[u], fa[u], fe[u], -ai, u_i)
                c1, e1 = ops.add(c1, u_r, e1, c2, u_i, e2, u_r)
                ec[c], ee[c] = ops.add(c1, u_r, e1, dr_c, d_r, dr_e, ea[c])
                c1, e1 = ops.scale(ec[u], ea[u], ee[u], ai, u_r)
                c2, e2 = ops.scale(fc[u], fa[u], fe[u], ar, u_i)
                c1, e1 = ops.add(c1, u_r, e1, c2, u_i, e2, u_r)
                fc[c], fe[c] = ops.add(c1, u_r, e1, di_c, d_i, di_e, fa[c])
            else:
                ec[c], ee[c] = ops.add(ec[u], ea[u], ee[u], dr_c, d_r, dr_e, ea[c])
                fc[c], fe[c] = ops.add(fc[u], fa[u], fe[u], di_c, d_i, di_e, fa[c])


@njit(**_JIT)
def _bound_change(X, Y) -> float:
    """Largest move of a bound ``centre +- radius`` (outward-rounded, as ``Interval.around``)."""
    xc, xa, xe = X
    yc, ya, ye = Y
    worst = 0.0
    for t in range(xc.shape[0]):
        for b in range(xc.shape[1]):
            rx = ops.abs_sum(xa[t, b]) + xe[t, b]
            ry = ops.abs_sum(ya[t, b]) + ye[t, b]
            d_lo = abs(np.nextafter(xc[t, b] - rx, -np.inf) - np.nextafter(yc[t, b] - ry, -np.inf))
            d_hi = abs(np.nextafter(xc[t, b] + rx, np.inf) - np.nextafter(yc[t, b] + ry, np.inf))
            worst = max(worst, d_lo, d_hi)
    return worst


@njit(**_JIT)
def _inflate(X, amount: float) -> None:
    """Epsilon-inflation in place: the private term grows by ``amount`` radius + 1e-12."""
    xc, xa, xe = X
    for t in range(xc.shape[0]):
        for b in range(xc.shape[1]):
            xe[t, b] += amount * (ops.abs_sum(xa[t, b]) + xe[t, b]) + 1e-12


@njit(**_JIT)
def _inside(X, Y) -> bool:
    """``X ⊆ Y`` jointly over the shared symbols: ``|dc| + sum |da| + e_X <= e_Y`` everywhere."""
    xc, xa, xe = X
    yc, ya, ye = Y
    for t in range(xc.shape[0]):
        for b in range(xc.shape[1]):
            gap = abs(xc[t, b] - yc[t, b])
            for i in range(xa.shape[2]):
                gap += abs(xa[t, b, i] - ya[t, b, i])
            if not gap + xe[t, b] <= ye[t, b]:
                return False
    return True


@njit(**_JIT)
def _copy(X):
    return X[0].copy(), X[1].copy(), X[2].copy()


@njit(**_JIT)
def _solve(net, has_ratio, P, Q, vc_re, vc_im, tol, max_iter, rounds, amount):
    n_t, n = vc_re.shape
    n_sym = P[1].shape[2]
    E = (vc_re.copy(), np.zeros((n_t, n, n_sym)), np.zeros((n_t, n)))
    F = (vc_im.copy(), np.zeros((n_t, n, n_sym)), np.zeros((n_t, n)))
    E2, F2 = _copy(E), _copy(F)
    jr = (np.empty(n), np.empty((n, n_sym)), np.empty(n))
    ji = (np.empty(n), np.empty((n, n_sym)), np.empty(n))
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
    JR = (np.empty((n_t, n)), np.empty((n_t, n, n_sym)), np.empty((n_t, n)))
    JI = (np.empty((n_t, n)), np.empty((n_t, n, n_sym)), np.empty((n_t, n)))
    for t in range(n_t):
        _currents(net, has_ratio, P, Q, E, F, t, (JR[0][t], JR[1][t], JR[2][t]),
                  (JI[0][t], JI[1][t], JI[2][t]), scratch)
    return E, F, JR, JI, iterations, converged, verified


def solve(prep, root_v, p, q, v_center, tol: float, max_iter: int, rounds: int = 10,
          amount: float = 0.01):
    """Affine bounds of the rectangular bus voltages and branch currents of a batch of slots.

    Parameters
    ----------
    prep : fdnmoo.powerflow.batch._Prepared
        Radial rows of the engine's topology.
    root_v : ndarray of complex
        Voltage set-point of every root (``BranchTable.root_v``).
    p, q : AffineForm, shape (n_slots, n_bus)
        Per-unit net demand (+ = consumption), bus positions.
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
    n = prep.perm.shape[0]
    row_of = np.empty(n, dtype=np.int64)
    row_of[prep.perm] = np.arange(n)
    v0 = np.zeros(n, dtype=complex)
    v0[prep.root_rows] = root_v
    c = np.ascontiguousarray
    net = (prep.order_rows, prep.parent_rows, prep.root_rows, c(prep.a.real), c(prep.a.imag),
           c(prep.z.real), c(prep.z.imag), c(prep.y.real), c(prep.y.imag), c(v0.real), c(v0.imag))

    def rows(x):
        return (c(np.asarray(x.center, float)[:, prep.perm]),
                c(np.asarray(x.coeffs, float)[:, prep.perm]),
                c(np.asarray(x.error, float)[:, prep.perm]))

    has_ratio = bool(np.any(prep.a != 1))
    E, F, JR, JI, it, conv, ver = _solve(net, has_ratio, rows(p), rows(q),
                                         c(v_center.real[:, prep.perm]), c(v_center.imag[:, prep.perm]),
                                         float(tol), int(max_iter), int(rounds), float(amount))

    def buses(x):
        return tuple(a[:, row_of] for a in x)

    return buses(E), buses(F), buses(JR), buses(JI), int(it), bool(conv), bool(ver)
