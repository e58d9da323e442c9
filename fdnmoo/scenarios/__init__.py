"""Scenario batches: typical-day profiles and sampled load/PV scenarios.

``typical_days(profile)`` gives the shipped typical days (``data/typical_days.csv``);
``ScenarioBatch.build(grid, n_stages, profile, n_samples, seed)`` gives the
demand and PV arrays every plan is evaluated on.
"""

from .batch import ScenarioBatch
from .profiles import TypicalDays, generate_typical_days, load_level_days, typical_days

__all__ = ["ScenarioBatch", "TypicalDays", "generate_typical_days", "load_level_days", "typical_days"]
