"""Voltage enclosures by a parametric Krawczyk operator, where the sweep's enclosure blows up.

The sweep of :mod:`fdnmoo.uncertainty.power_flow` iterates ``V = V0 + M I(V)``
in affine or interval arithmetic. Its linear parts converge whenever the
power flow does, but the part each operation cannot keep linear (the private
radius) is carried with absolute values, so it grows by ``|M| |dI/dV|`` per
sweep. On a heavily loaded feeder that factor exceeds 1 although the power
flow itself contracts (it relies on the phase of ``M dI/dV``), and the forms
widen until a voltage range holds 0, or stop unverified: ieee33 with every
load at 2.2 times its value (lowest voltage 0.78 p.u.) does this at +-5 %
(``tests/uncertainty/test_krawczyk.py``).

This module encloses the same solutions around the forecast solution
``x_c = (Re V, Im V)`` instead. With ``G(x, s) = V0 + M I(x, s)``, the
Jacobians ``J_x``, ``J_s`` of ``G`` at the forecast and ``C = (1 - J_x)^-1``,
every solution ``x_c + d`` for a demand ``s_c + ds`` in the box satisfies
(mean-value theorem over the box ``X``, ``S``)::

    d = C J_s ds + C (dJ_x d + dJ_s ds),   dJ = J(xi) - J(x_c), xi in (X, S)

The first term is exact in the noise symbols of ``ds``; the second is a
radius ``|C M| (|dB| |d| + |dA| |ds|)``, where ``dB`` and ``dA`` (the
per-bus 2x2 derivatives of ``I`` by ``(Re V, Im V)`` and ``(p, q)`` minus
their forecast values) are evaluated in interval arithmetic over the box, so
the radius is of second order in the box's size. When the affine form ``K(X)``
so obtained lies inside ``X``, ``X`` holds the solutions (Krawczyk's test)
and so does ``K(X)``; the box is grown from the exact linear part until it
does. Each slot costs one dense ``2n x 2n`` inverse: this path is the
fallback of :func:`~fdnmoo.uncertainty.power_flow.uncertain_power_flow`, not
its default.
"""

from __future__ import annotations

import numpy as np

from .affine import AffineForm
from .interval import Interval

__all__ = ["krawczyk_voltages"]

_GROWTH = 1.1  # box growth factor between unsuccessful tests
_SLACK_REL, _SLACK_ABS = 1e-9, 1e-14  # covers the unrounded dense products


def krawczyk_voltages(M: np.ndarray, v0: np.ndarray, y: np.ndarray, supplied: np.ndarray,
                      p: AffineForm, q: AffineForm, vc: np.ndarray,
                      max_iter: int = 40) -> tuple[AffineForm, AffineForm, int]:
    """Affine enclosures of ``Re V``, ``Im V`` for every demand in ``p``, ``q``.

    Parameters
    ----------
    M, v0 : ndarray of complex
        The forward map ``V = V0 + M I`` (:func:`~fdnmoo.uncertainty.power_flow.linear_maps`).
    y : ndarray of complex, shape (n,)
        Lumped bus shunts (0 at unsupplied buses).
    supplied : ndarray of bool, shape (n,)
    p, q : AffineForm, shape (T, n)
        Uncertain net demand per bus in p.u. (+ = consumption).
    vc : ndarray of complex, shape (T, n)
        The forecast power-flow solution (0 or NaN at unsupplied buses).
    max_iter : int
        Box growths per slot before giving up.

    Returns
    -------
    e, f : AffineForm, shape (T, n)
        Enclosures in the symbols of ``p``, ``q`` (unsupplied buses 0).
    iterations : int
        Largest number of Krawczyk tests any slot needed.

    Raises
    ------
    ValueError
        If no box passes the test within ``max_iter`` growths, or a box reaches 0 V.
    """
    n_t, n = p.shape
    mask = supplied.astype(float)
    mr = np.block([[M.real, -M.imag], [M.imag, M.real]])
    vc = np.where(supplied, np.nan_to_num(vc), 1.0)
    k = p.coeffs.shape[-1]
    centre = np.zeros((2, n_t, n))
    coeffs = np.zeros((2, n_t, n, k))
    error = np.zeros((2, n_t, n))
    worst = 0
    for t in range(n_t):
        ec, fc = vc[t].real, vc[t].imag
        pc, qc = p.center[t], q.center[t]
        b = _dI_dx(ec, fc, pc, qc, y) * mask  # (2, 2, n)
        a = _dI_ds(ec, fc) * mask
        jac = mr[:, :n] * b[0, 0] + mr[:, n:] * b[1, 0], mr[:, :n] * b[0, 1] + mr[:, n:] * b[1, 1]
        c = np.linalg.inv(np.eye(2 * n) - np.hstack(jac))
        cm = c @ mr
        ap, aq = p.coeffs[t], q.coeffs[t]
        d_i = np.vstack([a[0, 0][:, None] * ap + a[0, 1][:, None] * aq,
                         a[1, 0][:, None] * ap + a[1, 1][:, None] * aq])
        lin = cm @ d_i  # (2n, k): exact in the symbols
        rp, rq = p.error[t], q.error[t]  # private parts of the inputs
        r0 = np.abs(cm) @ np.concatenate([np.abs(a[0, 0]) * rp + np.abs(a[0, 1]) * rq,
                                          np.abs(a[1, 0]) * rp + np.abs(a[1, 1]) * rq])
        dsp, dsq = np.abs(ap).sum(axis=-1) + rp, np.abs(aq).sum(axis=-1) + rq
        spread = np.abs(cm)
        hull = np.abs(lin).sum(axis=-1) + r0
        box = hull * _GROWTH + 1e-12
        for it in range(1, max_iter + 1):
            second = _second_order(ec, fc, pc, qc, y, box[:n], box[n:], dsp, dsq, b, a, mask)
            if not np.all(np.isfinite(second)):  # |V|^2 of the box reaches 0
                raise ValueError(f"a Krawczyk box reaches 0 V (slot {t})")
            rad = (spread @ second) * (1 + _SLACK_REL) + _SLACK_ABS
            image = hull + rad
            if np.all(image <= box):
                break
            box = image * _GROWTH + 1e-12
        else:
            raise ValueError(f"no Krawczyk enclosure within {max_iter} box growths (slot {t})")
        worst = max(worst, it)
        centre[:, t] = ec * mask, fc * mask
        coeffs[:, t] = lin[:n] * mask[:, None], lin[n:] * mask[:, None]
        error[:, t] = (r0 + rad)[:n] * mask, (r0 + rad)[n:] * mask
    return (AffineForm(centre[0], coeffs[0], error[0]), AffineForm(centre[1], coeffs[1], error[1]),
            worst)


def _dI_dx(e, f, p, q, y):
    """Derivatives of ``I = conj(S / V) + y V`` (rectangular, per bus) by ``(e, f)``: arrays
    ``[[dIr/de, dIr/df], [dIi/de, dIi/df]]``; works on numbers and on :class:`Interval`."""
    e2, f2, ef = e * e, f * f, e * f
    inv2 = ((e2 + f2) * (e2 + f2)).reciprocal() if isinstance(e, Interval) else 1.0 / (e2 + f2) ** 2
    diff = e2 - f2
    a = (-(p * diff) - q * ef * 2.0) * inv2
    b_ = (q * diff - p * ef * 2.0) * inv2
    c = (p * diff + q * ef * 2.0) * inv2
    return _stack([[a + y.real, b_ - y.imag], [b_ + y.imag, c + y.real]])


def _dI_ds(e, f):
    """Derivatives of ``I`` by ``(p, q)``: ``[[e, f], [f, -e]] / |V|^2``."""
    inv = (e * e + f * f).reciprocal() if isinstance(e, Interval) else 1.0 / (e * e + f * f)
    return _stack([[e * inv, f * inv], [f * inv, -(e * inv)]])


def _stack(rows):
    if isinstance(rows[0][0], Interval):
        return rows
    return np.array([[np.asarray(x, float) for x in row] for row in rows])


def _second_order(ec, fc, pc, qc, y, de, df, dsp, dsq, b_c, a_c, mask) -> np.ndarray:
    """``|dB| |d| + |dA| |ds|`` per bus (the 2n vector the radius maps through ``|C||M|``)."""
    if np.any((mask > 0) & (np.abs(ec) <= de) & (np.abs(fc) <= df)):
        raise ValueError("a Krawczyk box holds 0 V")
    E, F = Interval.around(ec, de), Interval.around(fc, df)
    P, Q = Interval.around(pc, dsp), Interval.around(qc, dsq)
    out = np.zeros((2, ec.size))
    for box, centre, widths in ((_dI_dx(E, F, P, Q, y), b_c, (de, df)),
                                (_dI_ds(E, F), a_c, (dsp, dsq))):
        for i in range(2):
            for j in range(2):
                iv = box[i][j]
                dev = np.maximum(np.abs(iv.lo - centre[i, j]), np.abs(iv.hi - centre[i, j]))
                out[i] += np.where(mask > 0, dev, 0.0) * widths[j]
    return out.reshape(-1)
