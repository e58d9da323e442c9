"""Result type shared by the batch engine and the pandapower reference."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import numpy as np

__all__ = ["PowerFlowResult"]


@dataclass
class PowerFlowResult:
    """Power-flow results for n_scenarios scenarios.

    Columns of bus arrays follow ``bus_labels`` (``net.bus.index``), of line
    arrays ``line_labels`` (``net.line.index``), of external-grid arrays
    ``ext_grid_buses``. Scenarios that did not converge are NaN (and
    ``converged`` is False). Buses that no external grid reaches (out of
    service or isolated, as pandapower sets them) are NaN in every scenario and
    False in ``supplied``: a NaN at a supplied bus of a converged scenario
    never occurs. Magnitudes, angles and line currents are derived from the
    complex voltages on first access.

    Attributes
    ----------
    v_pu : ndarray of complex, shape (n_scenarios, n_bus)
        Complex bus voltages.
    loss_mw : ndarray, shape (n_scenarios,)
        Active losses of lines and transformers (pandapower's
        ``res_line.pl_mw.sum() + res_trafo.pl_mw.sum()``).
    ext_grid_p_mw, ext_grid_q_mvar : ndarray, shape (n_scenarios, n_root)
        Power supplied by every substation.
    converged : ndarray of bool, shape (n_scenarios,)
    iterations : ndarray of int, shape (n_scenarios,)
        Sweeps used (-1 for the pandapower reference).
    supplied : ndarray of bool, shape (n_bus,)
        Buses connected to an external grid.
    vm_pu : ndarray, shape (n_scenarios, n_bus)
        Voltage magnitudes.
    va_degree : ndarray, shape (n_scenarios, n_bus)
    i_ka : ndarray, shape (n_scenarios, n_line)
        Largest current magnitude at the two ends of every line; 0 when open.
    """

    v_pu: np.ndarray
    vm_pu: np.ndarray
    loss_mw: np.ndarray
    ext_grid_p_mw: np.ndarray
    ext_grid_q_mvar: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray
    bus_labels: np.ndarray
    line_labels: np.ndarray
    ext_grid_buses: np.ndarray
    supplied: np.ndarray = None
    line_currents: Callable[[], np.ndarray] | np.ndarray = field(repr=False, default=None)

    @cached_property
    def va_degree(self) -> np.ndarray:
        return np.rad2deg(np.angle(self.v_pu))

    @cached_property
    def i_ka(self) -> np.ndarray:
        lc = self.line_currents
        return lc() if callable(lc) else lc

    @property
    def n_scenarios(self) -> int:
        return self.v_pu.shape[0]

    def summary(self, scenario: int = 0) -> dict:
        """Losses (kW), min/max voltage with their bus labels, convergence and
        unsupplied buses of one scenario."""
        vm = self.vm_pu[scenario]
        unsupplied = int((~self.supplied).sum()) if self.supplied is not None \
            else int(np.isnan(vm).sum())
        if not (bool(self.converged[scenario]) and np.isfinite(vm).any()):
            return {"losses_kw": None, "vmin_pu": None, "vmin_bus": None,
                    "vmax_pu": None, "vmax_bus": None, "converged": False,
                    "unsupplied_buses": unsupplied}
        kmin, kmax = int(np.nanargmin(vm)), int(np.nanargmax(vm))
        return {"losses_kw": float(self.loss_mw[scenario] * 1e3),
                "vmin_pu": float(vm[kmin]), "vmin_bus": int(self.bus_labels[kmin]),
                "vmax_pu": float(vm[kmax]), "vmax_bus": int(self.bus_labels[kmax]),
                "converged": True, "unsupplied_buses": unsupplied}
