"""Experiments: YAML specs, the resumable runner, results folders and figures.

>>> from fdnmoo.experiment import load_spec, run_experiment
>>> out = run_experiment(load_spec("experiments/quickstart.yaml"))   # doctest: +SKIP
"""

from .outcome import RunOutcome
from .results import write_results
from .runner import build_algorithm, optimise, run_experiment
from .spec import ALGORITHMS, ExperimentSpec, SpecError, load_spec, parse_spec

__all__ = ["ALGORITHMS", "ExperimentSpec", "RunOutcome", "SpecError", "build_algorithm",
           "load_spec", "optimise", "parse_spec", "run_experiment", "write_results"]
