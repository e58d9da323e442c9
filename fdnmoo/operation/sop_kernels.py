"""Array kernels of the SOP dispatch (:mod:`fdnmoo.operation.sop_dispatch`).

All kernels take the terminals of several plans padded to the largest plan,
``(n_plans, T)`` with ``n_t[i]`` valid entries in row ``i``, and compute each
plan from its own terminals and rows only: what a plan gets does not depend
on which other plans share the call (the evaluation's bit-for-bit guarantee
across groupings and workers).

They also reproduce, bit for bit, the per-plan numpy implementation they
replace (commit 135a5ce; ``tests/operation/test_sop_reference.py``): every
matrix product is one BLAS call with the plan's own shapes (numba's ``@``
calls scipy's BLAS, the same OpenBLAS as numpy's in our wheels), the model's
inverses are numpy's stacked LAPACK calls over plans of equal size, sums over
terminals follow numpy's pairwise summation (:func:`_pairwise`), and the
loops over the screening candidates (innermost, so that they vectorise) keep
every candidate's own order of operations. Padding a plan to a wider batch,
or summing in a plain loop, would change the last digits, and with them the
screening's choice between two nearly equal candidates.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["loss_optimal_gains", "voltage_reach", "loss_optimal", "screen", "balance", "inject",
           "hypot_sums"]

#: The lossless P transfers (x the loss-optimal one) and reactive levels (x the Q(V) support)
#: of the screening candidates, after the first candidate (the loss-optimal one at its best step).
SHARES = (0.0, 0.5, 1.0)
LEVELS = (0.25, 0.5, 1.0)
N_CANDIDATES = 1 + len(SHARES) * len(LEVELS)

_SHARES = np.array(SHARES)
_LEVELS = np.array(LEVELS)


def loss_optimal_gains(z_t: np.ndarray, bus: np.ndarray, device: np.ndarray, active: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Loss-optimal linear gains ``k_p, k_q`` (n_plans, n_bus, T) of every plan.

    ``k_p = R_a M``, ``k_q = R_a R_tt^-1`` on the active terminals (zero columns elsewhere),
    ``M = R_tt^-1 - R_tt^-1 E' (E R_tt^-1 E')^-1 E R_tt^-1`` with ``E`` the incidence of the
    devices that have an active terminal and ``R_tt`` regularised by ``1e-12 trace``.
    ``z_t`` (n_plans, n_bus, T) is the complex common-path impedance to the terminals.

    Plans with the same numbers of active terminals and devices are solved by one stacked
    numpy call (a loop over the few distinct sizes, not over plans); a stacked call does per
    plan what a single one does.
    """
    n_p, n_b, width = z_t.shape
    k_p = np.zeros((n_p, n_b, width))
    k_q = np.zeros((n_p, n_b, width))
    n_act = active.sum(axis=1)
    first = np.argsort(~active, axis=1, kind="stable")  # active terminals first, in order
    has = np.zeros((n_p, int(device.max(initial=0)) + 1), dtype=bool)
    p_idx, t_idx = np.nonzero(active)
    has[p_idx, device[p_idx, t_idx]] = True
    rank = np.cumsum(has, axis=1) - 1  # row of every device in its plan's E
    n_dev = has.sum(axis=1)
    size = n_act * (width + 1) + n_dev
    for key in np.unique(size[n_act > 0]):
        sel = np.flatnonzero(size == key)
        k, na, nd = sel.size, int(n_act[sel[0]]), int(n_dev[sel[0]])
        cols = first[sel, :na]
        # a strided real view, like the per-plan code's z_t[:, act].real (numpy's own matmul loop)
        r_a = np.take_along_axis(z_t[sel], cols[:, None, :], axis=2).real
        r_tt = r_a[np.arange(k)[:, None], np.take_along_axis(bus[sel], cols, axis=1)]
        trace = np.add.reduce(np.diagonal(r_tt, axis1=1, axis2=2), axis=-1)
        r_inv = np.linalg.inv(r_tt + np.eye(na) * 1e-12 * trace[:, None, None])
        e = np.zeros((k, nd, na))
        e[np.arange(k)[:, None], np.take_along_axis(rank[sel], np.take_along_axis(device[sel], cols, 1), 1),
          np.arange(na)] = 1.0
        e_t = e.transpose(0, 2, 1)
        m = r_inv - r_inv @ e_t @ np.linalg.solve(e @ r_inv @ e_t, e @ r_inv)
        at = (sel[:, None, None], np.arange(n_b)[None, :, None], cols[:, None, :])
        k_p[at] = r_a @ m
        k_q[at] = r_a @ r_inv
    return k_p, k_q


@njit(cache=True, nogil=True)
def _pairwise(x, n):
    """``x[:n].sum()`` in numpy's order (pairwise summation; exact for the n < 128 used here)."""
    if n < 8:
        res = 0.0
        for k in range(n):
            res += x[k]
        return res
    if n > 128:
        half = n // 2
        half -= half % 8
        return _pairwise(x, half) + _pairwise(x[half:], n - half)
    r0, r1, r2, r3, r4, r5, r6, r7 = x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]
    k = 8
    while k < n - n % 8:
        r0 += x[k]
        r1 += x[k + 1]
        r2 += x[k + 2]
        r3 += x[k + 3]
        r4 += x[k + 4]
        r5 += x[k + 5]
        r6 += x[k + 6]
        r7 += x[k + 7]
        k += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while k < n:
        res += x[k]
        k += 1
    return res


@njit(cache=True, nogil=True)
def _n_devices(device, i, nt):
    n_dev = 0
    for j in range(nt):
        n_dev = max(n_dev, device[i, j] + 1)
    return n_dev


@njit(cache=True, nogil=True)
def _loss_optimal_plan(p, q, r_t, k_p, k_q, device, room, i, nt):
    """Step 1 for all rows of plan ``i``: ``g = demand @ R_t`` and the loss-optimal set-point.

    The unconstrained optimum ``(p @ k_p, q @ k_q)`` is scaled down uniformly per device until
    ``|P_j| <= room_j``, then ``Q_j`` is clipped to the room left. Returns g_p, g_q, p0, q0,
    each (rows, nt).
    """
    rt = np.ascontiguousarray(r_t[i, :, :nt])
    g_p = p[i] @ rt
    g_q = q[i] @ rt
    p0 = p[i] @ np.ascontiguousarray(k_p[i, :, :nt])
    q0 = q[i] @ np.ascontiguousarray(k_q[i, :, :nt])
    alpha = np.empty(_n_devices(device, i, nt))
    for r in range(p0.shape[0]):
        alpha[:] = 1.0
        for j in range(nt):
            if abs(p0[r, j]) > 0:
                alpha[device[i, j]] = min(alpha[device[i, j]], room[i, j] / abs(p0[r, j]))
        for j in range(nt):
            p0[r, j] *= alpha[device[i, j]]
            qr = math.sqrt(max(room[i, j] ** 2 - p0[r, j] ** 2, 0.0))
            q0[r, j] = min(max(q0[r, j], -qr), qr)
    return g_p, g_q, p0, q0


@njit(cache=True, nogil=True)
def loss_optimal(p, q, r_t, k_p, k_q, device, n_t, room):
    """Step 1 for every (plan, row): lossless loss-optimal set-points (n_plans, rows, T) each."""
    n_p, n_r, _ = p.shape
    out_p = np.zeros((n_p, n_r, device.shape[1]))
    out_q = np.zeros_like(out_p)
    for i in range(n_p):
        _, _, p0, q0 = _loss_optimal_plan(p, q, r_t, k_p, k_q, device, room, i, n_t[i])
        out_p[i, :, :n_t[i]] = p0
        out_q[i, :, :n_t[i]] = q0
    return out_p, out_q


@njit(cache=True, nogil=True)
def voltage_reach(r_t, x_t, room, n_t, sn, eta):
    """Largest |voltage change| a set-point within ``room`` can cause, (n_plans, n_bus)."""
    n_p, n_b, _ = r_t.shape
    out = np.zeros((n_p, n_b))
    for i in range(n_p):
        nt = n_t[i]
        h = np.empty((n_b, nt))
        for b in range(n_b):
            for j in range(nt):
                h[b, j] = math.hypot(r_t[i, b, j], x_t[i, b, j])
        reach = np.dot(h, np.ascontiguousarray(room[i, :nt]))
        for b in range(n_b):
            out[i, b] = reach[b] / sn * (1.0 + eta)
    return out


@njit(cache=True, nogil=True)
def screen(p, q, demand, vm, k_p, k_q, r_t, x_t, bus, device, n_t, room, reach,
           v_min, v_max, sn, eta, weight):
    """Best screening candidate per (plan, row): lossless set-points (n_plans, rows, T) each.

    p, q, demand, vm: (n_plans, rows, n_bus); k_p, k_q, r_t, x_t: (n_plans, n_bus, T);
    room: (n_plans, T); reach: (n_plans, n_bus). See ``screen_setpoints`` for the candidates
    and the score.
    """
    n_p, n_r, n_b = p.shape
    width = bus.shape[1]
    inv_sn = 1.0 / sn
    best_p = np.zeros((n_p, n_r, width))
    best_q = np.zeros((n_p, n_r, width))
    cand_p = np.zeros((width, N_CANDIDATES))  # terminal x candidate
    cand_q = np.zeros((width, N_CANDIDATES))
    quad = np.empty(N_CANDIDATES)
    lin = np.empty(N_CANDIDATES)
    size_c = np.empty(N_CANDIDATES)
    score = np.empty(N_CANDIDATES)
    v = np.empty(N_CANDIDATES)
    buf = np.empty(width)
    for i in range(n_p):
        nt = n_t[i]
        g_p, g_q, p_opt, q_opt = _loss_optimal_plan(p, q, r_t, k_p, k_q, device, room, i, nt)
        r_tt = np.empty((nt, nt))
        for j in range(nt):
            r_tt[j] = r_t[i, bus[i, j], :nt]
        pr = p_opt @ r_tt
        qr = q_opt @ r_tt
        for r in range(n_r):
            # step f minimising the quadratic loss change (-2 f gain + f^2 curv) / sn + eta f size
            for j in range(nt):
                buf[j] = g_p[r, j] * p_opt[r, j]
            gain = _pairwise(buf, nt)
            for j in range(nt):
                buf[j] = g_q[r, j] * q_opt[r, j]
            gain += _pairwise(buf, nt)
            for j in range(nt):
                buf[j] = pr[r, j] * p_opt[r, j]
            curv = _pairwise(buf, nt)
            for j in range(nt):
                buf[j] = qr[r, j] * q_opt[r, j]
            curv += _pairwise(buf, nt)
            for j in range(nt):
                buf[j] = math.hypot(p_opt[r, j], q_opt[r, j])
            size = _pairwise(buf, nt)
            f = min(max((gain - eta * size * sn / 2) / curv, 0.0), 1.0) if curv > 0 else 0.0
            # candidates (terminal-major, so that the loops over candidates vectorise): the
            # loss-optimal one at step f, then P shares x Q(V) support levels
            for j in range(nt):
                v_j = vm[i, r, bus[i, j]]
                v_j = 1.0 if math.isnan(v_j) else v_j
                droop = (min(max((1.0 - v_j) / ((1.0 - v_min) / 2), 0.0), 1.0)
                         - min(max((v_j - 1.0) / ((v_max - 1.0) / 2), 0.0), 1.0))
                cand_p[j, 0] = f * p_opt[r, j]
                cand_q[j, 0] = f * q_opt[r, j]
                c = 1
                for share in _SHARES:
                    pj = share * p_opt[r, j]
                    support = math.sqrt(max(room[i, j] ** 2 - pj ** 2, 0.0)) * droop
                    for level in _LEVELS:
                        cand_p[j, c] = pj
                        cand_q[j, c] = level * support
                        c += 1
            # predicted score: loss change + converter loss (+ violating load); every candidate's
            # sums run over the terminals in order
            quad[:] = 0.0
            lin[:] = 0.0
            size_c[:] = 0.0
            for j in range(nt):
                for c in range(N_CANDIDATES):
                    pj = cand_p[j, c]
                    qj = cand_q[j, c]
                    lin[c] += g_p[r, j] * pj + g_q[r, j] * qj
                    size_c[c] += np.sqrt(pj * pj + qj * qj)
                for k in range(nt):
                    r_jk = r_tt[j, k]
                    for c in range(N_CANDIDATES):
                        quad[c] += r_jk * (cand_p[j, c] * cand_p[k, c] + cand_q[j, c] * cand_q[k, c])
            for c in range(N_CANDIDATES):
                score[c] = (quad[c] - 2.0 * lin[c]) * inv_sn + eta * size_c[c]
            if weight > 0.0:
                for b in range(n_b):
                    v0 = vm[i, r, b]
                    reach_b = reach[i, b]
                    if not (v0 < v_min + reach_b or v0 > v_max - reach_b):
                        continue  # NaN, or too far inside the band to leave it
                    if v0 < v_min - reach_b or v0 > v_max + reach_b:
                        continue  # violates whatever the SOP does
                    # predicted voltage per candidate: v0 + sum_j (p_j r_bj + q_j x_bj) / sn
                    v[:] = v0
                    for j in range(nt):
                        r_bj = r_t[i, b, j]
                        x_bj = x_t[i, b, j]
                        for c in range(N_CANDIDATES):
                            v[c] += (cand_p[j, c] * r_bj + cand_q[j, c] * x_bj) * inv_sn
                    for c in range(N_CANDIDATES):
                        if v[c] < v_min or v[c] > v_max:
                            score[c] += weight * demand[i, r, b]
            k = 0
            for c in range(1, N_CANDIDATES):
                if score[c] < score[k]:
                    k = c
            best_p[i, r, :nt] = cand_p[:nt, k]
            best_q[i, r, :nt] = cand_q[:nt, k]
    return best_p, best_q


@njit(cache=True, nogil=True)
def _device_loss(p, q, inc, eta):
    """``eta * sum_{j in d} |S_j|`` per row and device: (rows, n_dev)."""
    h = np.empty(p.shape)
    for r in range(p.shape[0]):
        for j in range(p.shape[1]):
            h[r, j] = math.hypot(p[r, j], q[r, j])
    return eta * (h @ inc)


@njit(cache=True, nogil=True)
def balance(p0, q, device, n_t, active, capacity, eta):
    """Draw the converter losses at the active terminals, per plan (see ``balance_converter_losses``).

    The fixed-point iteration of a plan stops when the change of every device loss in every
    row of that plan is below ``1e-15 max(1, largest loss)`` (at most 200 passes).
    """
    p = p0.copy()
    if eta == 0.0:
        return p
    for i in range(p0.shape[0]):
        nt = n_t[i]
        if nt == 0:
            continue
        dev = device[i, :nt]
        inc = np.zeros((nt, _n_devices(device, i, nt)))
        cap = np.zeros((1, nt))
        for j in range(nt):
            inc[j, dev[j]] = 1.0 if active[i, j] else 0.0
            cap[0, j] = capacity[i, j] if active[i, j] else 0.0
        total = (cap @ inc)[0]
        w = np.zeros(nt)  # share of its device's loss
        for j in range(nt):
            if total[dev[j]] > 0:
                w[j] = cap[0, j] / total[dev[j]]
        base = np.ascontiguousarray(p0[i, :, :nt])
        qi = np.ascontiguousarray(q[i, :, :nt])
        loss = _device_loss(base, qi, inc, eta)
        cur = np.empty_like(base)
        for _ in range(200):
            for r in range(base.shape[0]):
                for j in range(nt):
                    cur[r, j] = base[r, j] - w[j] * loss[r, dev[j]]
            new = _device_loss(cur, qi, inc, eta)
            change = 0.0
            largest = 0.0
            for r in range(new.shape[0]):
                for d in range(new.shape[1]):
                    change = max(change, abs(new[r, d] - loss[r, d]))
                    largest = max(largest, new[r, d])
            loss = new
            if change <= 1e-15 * max(1.0, largest):
                break
        for r in range(base.shape[0]):
            for j in range(nt):
                p[i, r, j] = base[r, j] - w[j] * loss[r, dev[j]]
    return p


@njit(cache=True, nogil=True)
def inject(p_mw, q_mvar, p, q, bus, n_t):
    """Net demand with the terminal injections ``p, q`` (n_plans, rows, T) subtracted at ``bus``."""
    run_p = p_mw.copy()
    run_q = q_mvar.copy()
    n_p, n_r, _ = p_mw.shape
    for i in range(n_p):
        for r in range(n_r):
            for j in range(n_t[i]):
                run_p[i, r, bus[i, j]] -= p[i, r, j]
                run_q[i, r, bus[i, j]] -= q[i, r, j]
    return run_p, run_q


@njit(cache=True, nogil=True)
def hypot_sums(p, q, n_t):
    """``sum_j hypot(p[i, r, j], q[i, r, j])`` over the ``n_t[i]`` terminals: (n_plans, rows)."""
    n_p, n_r, width = p.shape
    out = np.zeros((n_p, n_r))
    buf = np.empty(width)
    for i in range(n_p):
        for r in range(n_r):
            for j in range(n_t[i]):
                buf[j] = math.hypot(p[i, r, j], q[i, r, j])
            out[i, r] = _pairwise(buf, n_t[i])
    return out
