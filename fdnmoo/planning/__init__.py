"""Planning data model: the planning grid (case + candidates) and decoded plans."""

from .grid import PlanningGrid, planning_grid
from .plan import DER_KINDS, Plan, dg_type_rows

__all__ = ["DER_KINDS", "Plan", "PlanningGrid", "planning_grid", "dg_type_rows"]
