"""Power flow: batched backward/forward sweep and the pandapower reference.

``BatchPowerFlow(net).run(p_mw, q_mvar)`` solves many demand scenarios of one
radial topology at once; ``run_pandapower(net)`` runs ``pandapower.runpp``
and returns the same :class:`PowerFlowResult`.
"""

from .batch import BatchPowerFlow
from .reference import run_pandapower
from .result import PowerFlowResult

__all__ = ["BatchPowerFlow", "PowerFlowResult", "run_pandapower"]
