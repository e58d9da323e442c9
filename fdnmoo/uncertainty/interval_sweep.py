"""Compiled backward/forward sweep in interval arithmetic, over a batch of time slots.

The kernel of :func:`fdnmoo.uncertainty.power_flow.uncertain_power_flow` for
``arithmetic="interval"``: the twin of :mod:`.affine_sweep` (same rows of
``BatchPowerFlow._Prepared``, same iteration, epsilon-inflation check and
final currents) with the operations of :mod:`.interval_ops`, in the order the
readable reference (``compiled=False``) does them on
:class:`~fdnmoo.uncertainty.interval.Interval`. The reference applies the
linear maps as dense matrices in midpoint-radius form; the tree sweep gives
the same intervals (up to a few ulps of outward rounding per tree step) when
every map entry is a sum of terms of one sign (no phase-shifting ratio,
r, x >= 0 along paths), else wider ones.

Intervals are arrays ``(lo, hi)`` of shape ``(n_slots * n_rows,)``, slot-major.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from . import interval_ops as ops

__all__ = ["solve"]

_JIT = dict(cache=True, nogil=True, error_model="numpy")


@njit(**_JIT)
def _injection(plo, phi, qlo, qhi, elo, ehi, flo, fhi, gr, gi):
    """``I = conj(S / V) + y V`` of one bus: ``(Re lo, Re hi, Im lo, Im hi)``."""
    slo, shi = ops.add(elo, ehi, 0.0, 0.0)  # the reference's "e + (1 - supplied)"
    a_lo, a_hi = ops.square(slo, shi)
    b_lo, b_hi = ops.square(flo, fhi)
    a_lo, a_hi = ops.add(a_lo, a_hi, b_lo, b_hi)
    ilo, ihi = ops.reciprocal(a_lo, a_hi)
    # Re I = (p e + q f) / |V|^2 + (e g - f b)
    a_lo, a_hi = ops.mul(plo, phi, slo, shi)
    b_lo, b_hi = ops.mul(qlo, qhi, flo, fhi)
    a_lo, a_hi = ops.add(a_lo, a_hi, b_lo, b_hi)
    a_lo, a_hi = ops.mul(a_lo, a_hi, ilo, ihi)
    b_lo, b_hi = ops.mul(slo, shi, gr, gr)
    c_lo, c_hi = ops.mul(flo, fhi, gi, gi)
    b_lo, b_hi = ops.sub(b_lo, b_hi, c_lo, c_hi)
    a_lo, a_hi = ops.add(a_lo, a_hi, b_lo, b_hi)
    rlo, rhi = ops.mul(a_lo, a_hi, 1.0, 1.0)  # the reference's "* supplied"
    # Im I = (p f - q e) / |V|^2 + (f g + e b)
    a_lo, a_hi = ops.mul(plo, phi, flo, fhi)
    b_lo, b_hi = ops.mul(qlo, qhi, slo, shi)
    a_lo, a_hi = ops.sub(a_lo, a_hi, b_lo, b_hi)
    a_lo, a_hi = ops.mul(a_lo, a_hi, ilo, ihi)
    b_lo, b_hi = ops.mul(flo, fhi, gr, gr)
    c_lo, c_hi = ops.mul(slo, shi, gi, gi)
    b_lo, b_hi = ops.add(b_lo, b_hi, c_lo, c_hi)
    a_lo, a_hi = ops.add(a_lo, a_hi, b_lo, b_hi)
    jlo, jhi = ops.mul(a_lo, a_hi, 1.0, 1.0)
    return rlo, rhi, jlo, jhi


@njit(**_JIT)
def _scaled_sum(xlo, xhi, kx, ylo, yhi, ky):
    """``kx x + ky y`` for numbers ``kx``, ``ky``."""
    a_lo, a_hi = ops.mul(xlo, xhi, kx, kx)
    b_lo, b_hi = ops.mul(ylo, yhi, ky, ky)
    return ops.add(a_lo, a_hi, b_lo, b_hi)


@njit(**_JIT)
def _currents(net, has_ratio, P, Q, E, F, t, JR, JI, row0):
    """Series currents ``J = T I`` of slot ``t`` into rows ``row0 + bus row`` of ``JR``, ``JI``."""
    order, parent, root_rows, a_re, a_im, y_re, y_im = net[0], net[1], net[2], net[3], net[4], net[7], net[8]
    plo, phi = P
    qlo, qhi = Q
    elo, ehi = E
    flo, fhi = F
    rlo, rhi = JR
    ilo, ihi = JI
    n = y_re.shape[0]
    off = t * n
    for b in range(row0, row0 + n):
        rlo[b], rhi[b], ilo[b], ihi[b] = 0.0, 0.0, 0.0, 0.0
    for m in range(order.shape[0]):
        b = order[m]
        i = off + b
        rlo[row0 + b], rhi[row0 + b], ilo[row0 + b], ihi[row0 + b] = _injection(
            plo[i], phi[i], qlo[i], qhi[i], elo[i], ehi[i], flo[i], fhi[i], y_re[b], y_im[b])
    for m in range(order.shape[0] - 1, -1, -1):
        k = order[m]
        c, u = row0 + k, row0 + parent[k]
        if has_ratio:  # J / conj(t) = J conj(a)
            ar, ai = a_re[k], a_im[k]
            xlo, xhi = _scaled_sum(rlo[c], rhi[c], ar, ilo[c], ihi[c], ai)
            zlo, zhi = _scaled_sum(ilo[c], ihi[c], ar, rlo[c], rhi[c], -ai)
            rlo[u], rhi[u] = ops.add(rlo[u], rhi[u], xlo, xhi)
            ilo[u], ihi[u] = ops.add(ilo[u], ihi[u], zlo, zhi)
        else:
            rlo[u], rhi[u] = ops.add(rlo[u], rhi[u], rlo[c], rhi[c])
            ilo[u], ihi[u] = ops.add(ilo[u], ihi[u], ilo[c], ihi[c])
    for r in range(root_rows.shape[0]):  # a root's current is the grid's, not a branch's
        b = row0 + root_rows[r]
        rlo[b], rhi[b], ilo[b], ihi[b] = 0.0, 0.0, 0.0, 0.0


@njit(**_JIT)
def _step(net, has_ratio, P, Q, E, F, E2, F2, JR, JI):
    """One sweep of every slot: ``(E2, F2) = V0 + M I(E, F)``."""
    order, parent, root_rows = net[0], net[1], net[2]
    a_re, a_im, z_re, z_im, v0_re, v0_im = net[3], net[4], net[5], net[6], net[9], net[10]
    rlo, rhi = JR
    ilo, ihi = JI
    elo, ehi = E2
    flo, fhi = F2
    n = z_re.shape[0]
    row0 = 0
    for t in range(E[0].shape[0] // n):
        _currents(net, has_ratio, P, Q, E, F, t, JR, JI, row0)
        off = t * n
        for b in range(off, off + n):  # unsupplied rows stay 0
            elo[b], ehi[b], flo[b], fhi[b] = 0.0, 0.0, 0.0, 0.0
        for r in range(root_rows.shape[0]):
            k = root_rows[r]
            elo[off + k], ehi[off + k] = ops.add(v0_re[k], v0_re[k], 0.0, 0.0)
            flo[off + k], fhi[off + k] = ops.add(v0_im[k], v0_im[k], 0.0, 0.0)
        for m in range(order.shape[0]):
            k = order[m]
            c, u = off + k, off + parent[k]
            zr, zi = z_re[k], z_im[k]
            # - z J = (-zr Jr + zi Ji) + j (-zr Ji - zi Jr)
            dr_lo, dr_hi = _scaled_sum(rlo[k], rhi[k], -zr, ilo[k], ihi[k], zi)
            di_lo, di_hi = _scaled_sum(ilo[k], ihi[k], -zr, rlo[k], rhi[k], -zi)
            if has_ratio:  # a V_parent
                ar, ai = a_re[k], a_im[k]
                ur_lo, ur_hi = _scaled_sum(elo[u], ehi[u], ar, flo[u], fhi[u], -ai)
                ui_lo, ui_hi = _scaled_sum(elo[u], ehi[u], ai, flo[u], fhi[u], ar)
            else:
                ur_lo, ur_hi, ui_lo, ui_hi = elo[u], ehi[u], flo[u], fhi[u]
            elo[c], ehi[c] = ops.add(ur_lo, ur_hi, dr_lo, dr_hi)
            flo[c], fhi[c] = ops.add(ui_lo, ui_hi, di_lo, di_hi)
    for b in range(elo.shape[0]):
        if not (elo[b] == elo[b] and ehi[b] == ehi[b] and flo[b] == flo[b] and fhi[b] == fhi[b]):
            raise ValueError("not an interval: the interval sweep reached 0 * inf (a voltage range "
                             "that holds 0)")


@njit(**_JIT)
def _bound_change(X, Y) -> float:
    worst = 0.0
    for b in range(X[0].shape[0]):
        worst = max(worst, abs(X[0][b] - Y[0][b]), abs(X[1][b] - Y[1][b]))
    return worst


@njit(**_JIT)
def _inflate(X, amount: float) -> None:
    """Epsilon-inflation in place: each end moves out by ``amount`` radius + 1e-12."""
    lo, hi = X
    for b in range(lo.shape[0]):
        widen = amount * 0.5 * (hi[b] - lo[b]) + 1e-12
        lo[b] -= widen
        hi[b] += widen


@njit(**_JIT)
def _inside(X, Y) -> bool:
    for b in range(X[0].shape[0]):
        if not (X[0][b] >= Y[0][b] and X[1][b] <= Y[1][b]):
            return False
    return True


@njit(**_JIT)
def _copy(X):
    return X[0].copy(), X[1].copy()


@njit(**_JIT)
def _solve(net, has_ratio, P, Q, vc_re, vc_im, tol, max_iter, rounds, amount):
    n_rows = P[0].shape[0]
    n = net[5].shape[0]
    E, F = (vc_re.copy(), vc_re.copy()), (vc_im.copy(), vc_im.copy())
    E2, F2 = _copy(E), _copy(F)
    jr, ji = (np.zeros(n), np.zeros(n)), (np.zeros(n), np.zeros(n))
    converged, iterations = False, 0
    for it in range(1, max_iter + 1):
        iterations = it
        _step(net, has_ratio, P, Q, E, F, E2, F2, jr, ji)
        change = max(_bound_change(E2, E), _bound_change(F2, F))
        E, E2 = E2, E
        F, F2 = F2, F
        if change < tol:
            converged = True
            break
    kept_e, kept_f = _copy(E), _copy(F)
    verified = False
    for _ in range(rounds):
        _inflate(E, amount)
        _inflate(F, amount)
        _step(net, has_ratio, P, Q, E, F, E2, F2, jr, ji)
        inside = _inside(E2, E) and _inside(F2, F)
        E, E2 = E2, E
        F, F2 = F2, F
        if inside:
            verified = True
            break
    if not verified:
        E, F = kept_e, kept_f
    JR, JI = (np.zeros(n_rows), np.zeros(n_rows)), (np.zeros(n_rows), np.zeros(n_rows))
    for t in range(n_rows // n):
        _currents(net, has_ratio, P, Q, E, F, t, JR, JI, t * n)
    return E, F, JR, JI, iterations, converged, verified


def solve(net, has_ratio, perm, row_of, p, q, v_center, tol: float, max_iter: int,
          rounds: int = 10, amount: float = 0.01):
    """Interval bounds of the rectangular bus voltages and branch currents of a batch of slots.

    The arguments are those of :func:`fdnmoo.uncertainty.affine_sweep.solve`, except ``p``, ``q``:
    :class:`Interval` of shape (n_slots, n_bus) in per unit, ``v_center`` the forecast
    solution (complex, same shape). Returns ``e, f, jr, ji`` as ``(lo, hi)`` arrays of
    shape (n_slots, n_bus) in bus positions, then iterations, converged, verified.
    """
    c = np.ascontiguousarray
    n_t, n = v_center.shape

    def rows(x):
        return c(x[:, perm]).reshape(-1)

    E, F, JR, JI, it, conv, ver = _solve(net, has_ratio, (rows(p.lo), rows(p.hi)), (rows(q.lo), rows(q.hi)),
                                         rows(v_center.real), rows(v_center.imag), float(tol),
                                         int(max_iter), int(rounds), float(amount))

    def buses(x):
        return tuple(a.reshape(n_t, n)[:, row_of] for a in x)

    return buses(E), buses(F), buses(JR), buses(JI), int(it), bool(conv), bool(ver)
