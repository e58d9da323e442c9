"""Operation of a plan: net demand (PV, EV, storage, SVC rules), operation options and SOP dispatch.

:func:`net_demand` turns plans and a scenario batch into the demand arrays of
the power flow; :func:`apply_controls` applies the options of
:class:`OperationSettings` (OLTC, capacitor banks, PV reactive power and
curtailment); :func:`dispatch_sop` chooses SOP terminal set-points per
scenario. All work on all scenarios at once.
"""

from .controls import ControlContext, Controls, apply_controls, qv_steady_state, run_tapped
from .injections import FeederTree, NetDemand, ess_schedule, net_demand, svc_output
from .settings import Capacitor, Oltc, OperationSettings
from .sop_dispatch import (OperatingLimits, OperatingPoint, SopDispatch, SopTerminals,
                           balance_converter_losses, dispatch_sop, loss_optimal_setpoints)

__all__ = ["Capacitor", "ControlContext", "Controls", "FeederTree", "NetDemand", "Oltc",
           "OperatingLimits", "OperatingPoint", "OperationSettings", "SopDispatch",
           "SopTerminals", "apply_controls", "balance_converter_losses", "dispatch_sop",
           "ess_schedule", "loss_optimal_setpoints", "net_demand", "qv_steady_state",
           "run_tapped", "svc_output"]
