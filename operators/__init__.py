"""pymoo operators and algorithms (imported as ``fdnmoo.operators``)."""

from .composite import (GenomeCrossover, GenomeMutation, GenomeRepair, GenomeSampling,
                        genome_operators)
from .deap_adapter import DeapAlgorithm, DeapCrossover, DeapMutation, DeapSurvival

__all__ = ["GenomeSampling", "GenomeCrossover", "GenomeMutation", "GenomeRepair",
           "genome_operators", "DeapAlgorithm", "DeapCrossover", "DeapMutation",
           "DeapSurvival"]
