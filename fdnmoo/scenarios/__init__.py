"""Scenario batches: typical-day profiles and sampled load/PV scenarios.

``typical_days(profile)`` gives the shipped typical days (``data/typical_days.csv``);
``ScenarioBatch.build(grid, n_stages, profile, n_samples, seed)`` gives the
demand and PV arrays every plan is evaluated on; ``profile="year"`` takes every
15-minute step of a SimBench case's profiles (:mod:`fdnmoo.scenarios.simbench_profiles`).
With fitted marginals (``uncertainty``), samples and reduced typical days come from a model
fitted to observed days (:mod:`fdnmoo.scenarios.fitted`, :mod:`fdnmoo.scenarios.observed`).
"""

from .batch import PROFILE_NAMES, ScenarioBatch
from .profiles import TypicalDays, generate_typical_days, load_level_days, typical_days

__all__ = ["PROFILE_NAMES", "ScenarioBatch", "TypicalDays", "generate_typical_days", "load_level_days", "typical_days"]
