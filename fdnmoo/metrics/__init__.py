"""Metrics of evaluated plans: operation (from power flows), economics, reliability, adaptability."""

from .adaptability import (network_cohesion_degree, pv_uneven_degree, structural_adaptability,
                           tie_connection_degree)
from .economics import (capital_recovery_factor, cost_breakdown, investment_items,
                        investment_per_stage, present_value_factor, total_cost)
from .operation import OperationMetrics
from .reductions import OperationReducer, line_limits_ka
from .reliability import reliability_indices

__all__ = ["OperationMetrics", "OperationReducer", "line_limits_ka", "capital_recovery_factor", "cost_breakdown", "investment_items",
           "investment_per_stage", "network_cohesion_degree", "present_value_factor",
           "pv_uneven_degree", "reliability_indices", "structural_adaptability",
           "tie_connection_degree", "total_cost"]
