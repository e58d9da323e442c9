"""Seeded random demand scenarios shared by the benchmark's engines."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..powerflow import BatchPowerFlow

__all__ = ["Scenarios", "random_scenarios"]


@dataclass(frozen=True)
class Scenarios:
    """Random demand scenarios of one net.

    Attributes
    ----------
    factors : ndarray, shape (n_scenarios, n_bus)
        Scaling factor of every bus's demand (loads, static generators and
        storage at the bus are all scaled by it).
    p_mw, q_mvar : ndarray, shape (n_scenarios, n_bus)
        Net demand per bus, ``factors * base`` (+ = consumption), columns in
        ``BatchPowerFlow.bus_labels`` order.
    """

    factors: np.ndarray
    p_mw: np.ndarray
    q_mvar: np.ndarray

    @property
    def n_scenarios(self) -> int:
        return self.factors.shape[0]


def random_scenarios(pf: BatchPowerFlow, n_scenarios: int, seed: int,
                     scale_range: tuple[float, float] = (0.0, 2.0)) -> Scenarios:
    """Scale every bus's base demand by an independent uniform factor.

    Parameters
    ----------
    pf : BatchPowerFlow
        Engine of the net (gives the base demand per bus).
    n_scenarios : int
    seed : int
        Seed of the :class:`numpy.random.Generator`.
    scale_range : tuple of float
        Low and high end of the uniform factor.

    Returns
    -------
    Scenarios
    """
    p0, q0 = pf.base_demand()
    rng = np.random.default_rng(seed)
    factors = rng.uniform(scale_range[0], scale_range[1], size=(n_scenarios, p0.shape[1]))
    return Scenarios(factors=factors, p_mw=factors * p0, q_mvar=factors * q0)
