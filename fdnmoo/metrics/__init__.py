"""Metrics of evaluated plans: operation (from power flows), economics, reliability, adaptability."""

from .operation import OperationMetrics

__all__ = ["OperationMetrics"]
