"""Operation of a plan: net demand (PV, EV, storage, SVC rules) and SOP dispatch.

:func:`net_demand` turns plans and a scenario batch into the demand arrays of
the power flow; :func:`dispatch_sop` chooses SOP terminal set-points per
scenario. Both work on all scenarios at once.
"""

from .injections import FeederTree, NetDemand, ess_schedule, net_demand, svc_output
from .sop_dispatch import (OperatingLimits, OperatingPoint, SopDispatch, SopTerminals,
                           balance_converter_losses, dispatch_sop, loss_optimal_setpoints)

__all__ = ["FeederTree", "NetDemand", "OperatingLimits", "OperatingPoint", "SopDispatch",
           "SopTerminals", "balance_converter_losses", "dispatch_sop", "ess_schedule",
           "loss_optimal_setpoints", "net_demand", "svc_output"]
