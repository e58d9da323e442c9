"""pymoo operators and algorithms (imported as ``fdnmoo.operators``).

:data:`ALGORITHMS` is the registry of every algorithm a spec can name
(:mod:`fdnmoo.operators.registry`); importing this package registers pymoo's, DEAP's,
AA-NSGA-II and the bi-level driver.
"""

from . import pymoo_algorithms  # noqa: F401  (registers pymoo's algorithms)
from .aa_nsga2 import AANSGA2, IntervalDominance, IntervalRankAndCrowding
from .bilevel import BiLevel
from .composite import (GenomeCrossover, GenomeMutation, GenomeRepair, GenomeSampling,
                        SeededSampling, genome_operators)
from .deap_adapter import DeapAlgorithm, DeapCrossover, DeapMutation, DeapSurvival
from .filters import (WeakenedDominanceSurvival, WeakeningResult, choose_compromise,
                      deviation_distance, deviation_filter, weakened_dominance,
                      weakening_filter)
from .registry import (ALGORITHMS, AlgorithmEntry, AlgorithmRequest, algorithm_entry,
                       build_algorithm, reference_directions, register_algorithm)

__all__ = ["AANSGA2", "ALGORITHMS", "BiLevel", "AlgorithmEntry", "AlgorithmRequest", "DeapAlgorithm",
           "DeapCrossover", "DeapMutation", "DeapSurvival", "GenomeCrossover",
           "GenomeMutation", "GenomeRepair", "GenomeSampling", "IntervalDominance",
           "SeededSampling",
           "IntervalRankAndCrowding", "WeakenedDominanceSurvival",
           "WeakeningResult", "algorithm_entry", "build_algorithm", "choose_compromise",
           "deviation_distance", "deviation_filter", "genome_operators",
           "reference_directions", "register_algorithm", "weakened_dominance",
           "weakening_filter"]
