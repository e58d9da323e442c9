"""pymoo operators and algorithms (imported as ``fdnmoo.operators``)."""

from .aa_nsga2 import AANSGA2, IntervalDominance, IntervalRankAndCrowding
from .composite import (GenomeCrossover, GenomeMutation, GenomeRepair, GenomeSampling,
                        genome_operators)

__all__ = ["AANSGA2", "IntervalDominance", "IntervalRankAndCrowding", "GenomeSampling",
           "GenomeCrossover", "GenomeMutation", "GenomeRepair", "genome_operators"]
