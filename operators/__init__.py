"""pymoo operators and algorithms (imported as ``fdnmoo.operators``).

:data:`ALGORITHMS` is the registry of every algorithm a spec can name
(:mod:`fdnmoo.operators.registry`); importing this package registers pymoo's and DEAP's.
"""

from . import pymoo_algorithms  # noqa: F401  (registers pymoo's algorithms)
from .composite import (GenomeCrossover, GenomeMutation, GenomeRepair, GenomeSampling,
                        genome_operators)
from .deap_adapter import DeapAlgorithm, DeapCrossover, DeapMutation, DeapSurvival
from .registry import (ALGORITHMS, AlgorithmEntry, AlgorithmRequest, algorithm_entry,
                       build_algorithm, reference_directions, register_algorithm)

__all__ = ["ALGORITHMS", "AlgorithmEntry", "AlgorithmRequest", "DeapAlgorithm",
           "DeapCrossover", "DeapMutation", "DeapSurvival", "GenomeCrossover",
           "GenomeMutation", "GenomeRepair", "GenomeSampling", "algorithm_entry",
           "build_algorithm", "genome_operators", "reference_directions",
           "register_algorithm"]
