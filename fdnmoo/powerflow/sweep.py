"""Numba kernel of the backward/forward sweep over many scenarios.

The sweep solves a radial forest with constant-power demands and constant
admittances (branch and bus shunts lumped per bus):

* injection currents ``I_b = conj(S_b / V_b) + y_b V_b`` (``S`` = demand, + = load);
* backward: every bus adds its subtree current, seen through the ratio of the
  branch to its parent, ``J_parent += J_child / conj(t)``;
* forward: ``V_child = V_parent / t - z J_child`` from the roots down.

Scenarios are processed in blocks laid out bus-major (``[bus, scenario]``) so
that the inner loops over scenarios vectorise; a block iterates until all its
scenarios converged (``max |dRe V| + |dIm V| < tol``) or diverged. Scenarios
never share arithmetic, so the blocking does not change any result.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["sweep", "line_end_currents"]

# no 'nnan'/'ninf': the divergence test relies on NaN comparisons
_FAST = {"contract", "arcp", "reassoc", "nsz"}


@njit(cache=True, nogil=True, fastmath=_FAST, error_model="numpy")
def _injections(p, q, y_re, y_im, vr, vi, jr, ji):
    """jr/ji = conj(S / V) + y V for every bus and scenario."""
    for b in range(p.shape[0]):
        _injection_row(p[b], q[b], y_re[b], y_im[b], vr[b], vi[b], jr[b], ji[b])


@njit(cache=True, nogil=True, fastmath=_FAST, error_model="numpy")
def _injection_row(p, q, gr, gi, vr, vi, jr, ji):
    for s in range(p.shape[0]):
        er = vr[s]
        ei = vi[s]
        inv = 1.0 / (er * er + ei * ei)
        jr[s] = (p[s] * er + q[s] * ei) * inv + gr * er - gi * ei
        ji[s] = (p[s] * ei - q[s] * er) * inv + gr * ei + gi * er


@njit(cache=True, nogil=True, fastmath=_FAST, error_model="numpy")
def _backward(order, parent, a_re, a_im, has_ratio, jr, ji):
    """Add every bus's subtree current to its parent, leaves first."""
    nb = jr.shape[1]
    for k in range(order.shape[0] - 1, -1, -1):
        c = order[k]
        u = parent[c]
        if has_ratio:
            ar = a_re[c]
            ai = a_im[c]  # J / conj(t) = J * conj(a) with a = 1/t
            for s in range(nb):
                jr[u, s] += jr[c, s] * ar + ji[c, s] * ai
                ji[u, s] += ji[c, s] * ar - jr[c, s] * ai
        else:
            for s in range(nb):
                jr[u, s] += jr[c, s]
                ji[u, s] += ji[c, s]


@njit(cache=True, nogil=True, fastmath=_FAST, error_model="numpy")
def _forward(order, parent, z_re, z_im, a_re, a_im, y_re, y_im, has_ratio, p, q,
             vr, vi, jr, ji, delta):
    """New voltages from the roots down; each bus's injection for the next sweep
    is computed as soon as its voltage is known (one pass over memory instead of two)."""
    nb = vr.shape[1]
    for s in range(nb):
        delta[s] = 0.0
    for k in range(order.shape[0]):
        c = order[k]
        u = parent[c]
        zr = z_re[c]
        zi = z_im[c]
        ar = a_re[c]
        ai = a_im[c]
        gr = y_re[c]
        gi = y_im[c]
        for s in range(nb):
            ur = vr[u, s]
            ui = vi[u, s]
            if has_ratio:
                tr = ur * ar - ui * ai
                ui = ur * ai + ui * ar
                ur = tr
            nr = ur - (zr * jr[c, s] - zi * ji[c, s])
            ni = ui - (zr * ji[c, s] + zi * jr[c, s])
            d = abs(nr - vr[c, s]) + abs(ni - vi[c, s])
            delta[s] = max(delta[s], d)
            vr[c, s] = nr
            vi[c, s] = ni
            inv = 1.0 / (nr * nr + ni * ni)
            jr[c, s] = (p[c, s] * nr + q[c, s] * ni) * inv + gr * nr - gi * ni
            ji[c, s] = (p[c, s] * ni - q[c, s] * nr) * inv + gr * ni + gi * nr


@njit(cache=True, nogil=True, fastmath=_FAST, error_model="numpy")
def _root_injections(root_rows, p, q, y_re, y_im, vr, vi, jr, ji):
    for r in range(root_rows.shape[0]):
        b = root_rows[r]
        _injection_row(p[b], q[b], y_re[b], y_im[b], vr[b], vi[b], jr[b], ji[b])


@njit(cache=True, nogil=True, error_model="numpy")
def _solve_block(order, parent, root_rows, z_re, z_im, a_re, a_im, y_re, y_im, has_ratio,
                 p, q, vr, vi, jr, ji, tol, max_iter, converged, iterations):
    """Iterate one block in place; p, q, vr, vi, jr, ji have shape (n_bus, B).

    A scenario's voltages are frozen at the sweep where it converged (or
    diverged), so its result does not depend on the other scenarios of the block.
    """
    n_bus, nb = p.shape
    delta = np.zeros(nb)
    done = np.zeros(nb, dtype=np.bool_)
    frozen_r = np.empty((n_bus, nb))
    frozen_i = np.empty((n_bus, nb))
    _injections(p, q, y_re, y_im, vr, vi, jr, ji)
    for it in range(1, max_iter + 1):
        _backward(order, parent, a_re, a_im, has_ratio, jr, ji)
        _forward(order, parent, z_re, z_im, a_re, a_im, y_re, y_im, has_ratio, p, q,
                 vr, vi, jr, ji, delta)
        _root_injections(root_rows, p, q, y_re, y_im, vr, vi, jr, ji)
        all_done = True
        for s in range(nb):
            if not done[s]:
                dv = delta[s]
                if dv < tol:
                    converged[s] = True
                elif dv < 10.0:  # NaN or a blow-up falls through: stop, not converged
                    all_done = False
                    continue
                done[s] = True
                iterations[s] = it
                for b in range(n_bus):
                    frozen_r[b, s] = vr[b, s]
                    frozen_i[b, s] = vi[b, s]
        if all_done:
            break
    for s in range(nb):
        if done[s]:
            for b in range(n_bus):
                vr[b, s] = frozen_r[b, s]
                vi[b, s] = frozen_i[b, s]
        else:
            iterations[s] = max_iter
    # series currents consistent with the final voltages
    _injections(p, q, y_re, y_im, vr, vi, jr, ji)
    _backward(order, parent, a_re, a_im, has_ratio, jr, ji)


@njit(cache=True, nogil=True, error_model="numpy")
def _sweep_all(perm, order, parent, z_re, z_im, a_re, a_im, y_re, y_im, g_branch, has_ratio,
               root_pos, root_vr, root_vi, p_all, q_all, inv_base, block, tol, max_iter,
               v_out, vm_out, j_out, loss_out, converged, iterations):
    n_s, n_bus = p_all.shape
    p = np.empty((n_bus, block))
    q = np.empty((n_bus, block))
    vr = np.empty((n_bus, block))
    vi = np.empty((n_bus, block))
    jr = np.empty((n_bus, block))
    ji = np.empty((n_bus, block))
    for s0 in range(0, n_s, block):
        nb = min(block, n_s - s0)
        if nb < block:  # last, partial block
            p, q, vr, vi, jr, ji = (np.empty((n_bus, nb)), np.empty((n_bus, nb)),
                                    np.empty((n_bus, nb)), np.empty((n_bus, nb)),
                                    np.empty((n_bus, nb)), np.empty((n_bus, nb)))
        for s in range(nb):
            for b in range(n_bus):
                p[b, s] = p_all[s0 + s, perm[b]] * inv_base
                q[b, s] = q_all[s0 + s, perm[b]] * inv_base
        # flat start: every root's set-point carried down through the ratios
        for b in range(n_bus):
            for s in range(nb):
                vr[b, s] = 1.0
                vi[b, s] = 0.0
        for r in range(root_pos.shape[0]):
            for s in range(nb):
                vr[root_pos[r], s] = root_vr[r]
                vi[root_pos[r], s] = root_vi[r]
        for k in range(order.shape[0]):
            c = order[k]
            u = parent[c]
            for s in range(nb):
                vr[c, s] = vr[u, s] * a_re[c] - vi[u, s] * a_im[c]
                vi[c, s] = vr[u, s] * a_im[c] + vi[u, s] * a_re[c]
        _solve_block(order, parent, root_pos, z_re, z_im, a_re, a_im, y_re, y_im, has_ratio,
                     p, q, vr, vi, jr, ji, tol, max_iter,
                     converged[s0:s0 + nb], iterations[s0:s0 + nb])
        for s in range(nb):
            loss = 0.0
            for k in range(order.shape[0]):
                c = order[k]
                loss += (jr[c, s] * jr[c, s] + ji[c, s] * ji[c, s]) * z_re[c]
            for b in range(n_bus):
                loss += (vr[b, s] * vr[b, s] + vi[b, s] * vi[b, s]) * g_branch[b]
                v_out[s0 + s, perm[b]] = complex(vr[b, s], vi[b, s])
                vm_out[s0 + s, perm[b]] = np.sqrt(vr[b, s] * vr[b, s] + vi[b, s] * vi[b, s])
                j_out[s0 + s, perm[b]] = complex(jr[b, s], ji[b, s])
            loss_out[s0 + s] = loss


def sweep(perm, order, parent, z, a, y, g_branch, root_pos, root_v, p, q, base_mva, tol, max_iter, block):
    """Run the sweep for all scenarios.

    The network arrays are indexed by *row*, a renumbering of the buses in
    which subtrees are contiguous (see ``batch._Prepared``); demands and
    results are indexed by bus position.

    Parameters
    ----------
    perm : ndarray of int64, shape (n_bus,)
        Bus position of every row.
    order : ndarray of int64, shape (n_child,)
        Rows of non-root supplied buses, parents first.
    parent : ndarray of int64, shape (n_bus,)
        Parent row of every row.
    z, a : ndarray of complex, shape (n_bus,)
        Series impedance and inverse ratio (1/t) of the branch to each row's parent.
    y : ndarray of complex, shape (n_bus,)
        Lumped shunt admittance per row.
    g_branch : ndarray, shape (n_bus,)
        Part of ``y.real`` that belongs to branches (counted as losses).
    root_pos, root_v : ndarray
        Root rows and voltages.
    p, q : ndarray, shape (n_scenarios, n_bus)
        Demand in MW/Mvar (+ = consumption).
    base_mva : float
        System base power; demands are divided by it.
    tol : float
        Convergence threshold on max(|dRe V| + |dIm V|) between sweeps (p.u.).
    max_iter : int
    block : int
        Scenarios per block.

    Returns
    -------
    v : ndarray of complex, shape (n_scenarios, n_bus)
    vm : ndarray, shape (n_scenarios, n_bus)
        |v|.
    j : ndarray of complex, shape (n_scenarios, n_bus)
        Series current of the branch feeding each bus; total current drawn
        from the grid at roots (per unit).
    loss : ndarray, shape (n_scenarios,)
        Series plus branch-shunt losses (per unit).
    converged : ndarray of bool, shape (n_scenarios,)
    iterations : ndarray of int, shape (n_scenarios,)
    """
    n_s, n_bus = p.shape
    v = np.empty((n_s, n_bus), dtype=np.complex128)
    vm = np.empty((n_s, n_bus))
    j = np.empty((n_s, n_bus), dtype=np.complex128)
    loss = np.empty(n_s)
    converged = np.zeros(n_s, dtype=np.bool_)
    iterations = np.zeros(n_s, dtype=np.int64)
    has_ratio = bool(np.any(a != 1))
    c = np.ascontiguousarray
    _sweep_all(perm, order, parent, c(z.real), c(z.imag), c(a.real), c(a.imag), c(y.real), c(y.imag),
               c(g_branch, dtype=np.float64), has_ratio, root_pos, c(root_v.real), c(root_v.imag),
               c(p, dtype=np.float64), c(q, dtype=np.float64), 1.0 / float(base_mva),
               int(max(1, min(block, max(n_s, 1)))), float(tol), int(max_iter),
               v, vm, j, loss, converged, iterations)
    return v, vm, j, loss, converged, iterations


@njit(cache=True, nogil=True, error_model="numpy")
def line_end_currents(v, j, child, parent, line, y_parent, y_child, base_parent, base_child, out):
    """out[s, line[m]] = max(|J_c + y_u V_u| base_u, |J_c - y_c V_c| base_c) for every closed line m.

    ``j[:, c]`` is the series current of the line feeding bus ``c`` from ``u``;
    the shunt currents at its two ends make the terminal currents differ.
    """
    for s in range(v.shape[0]):
        for m in range(child.shape[0]):
            c = child[m]
            u = parent[m]
            jc = j[s, c]
            vu = v[s, u]
            vc = v[s, c]
            yu = y_parent[m]
            yc = y_child[m]
            ar = jc.real + yu.real * vu.real - yu.imag * vu.imag
            ai = jc.imag + yu.real * vu.imag + yu.imag * vu.real
            br = jc.real - (yc.real * vc.real - yc.imag * vc.imag)
            bi = jc.imag - (yc.real * vc.imag + yc.imag * vc.real)
            a = np.sqrt(ar * ar + ai * ai) * base_parent[m]
            b = np.sqrt(br * br + bi * bi) * base_child[m]
            out[s, line[m]] = a if a > b else b
