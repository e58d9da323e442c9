"""Planning data model: the planning grid (case + candidates) and decoded plans."""

from .batch import PlanBatch, label_positions
from .grid import PlanningGrid, planning_grid
from .plan import DER_KINDS, PLAN_TABLES, Plan, dg_type_rows, plan_table

__all__ = ["DER_KINDS", "PLAN_TABLES", "Plan", "PlanBatch", "label_positions", "PlanningGrid", "planning_grid", "dg_type_rows",
           "plan_table"]
