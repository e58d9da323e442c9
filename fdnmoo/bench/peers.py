"""Reference timings measured in the same run as a benchmark: pandapower's ``runpp``."""

from __future__ import annotations

import copy
import time

import numpy as np

__all__ = ["runpp_median_ms"]


def runpp_median_ms(case: str = "ieee33", repeat: int = 20) -> float:
    """Median wall time of pandapower's ``runpp`` (default options) on ``case``'s base net,
    in ms, after one untimed call (pandapower's own first-call set-up)."""
    import pandapower as pp

    from ..cases import load_case

    net = copy.deepcopy(load_case(case).net)
    pp.runpp(net)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        pp.runpp(net)
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))
