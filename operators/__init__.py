"""pymoo operators and algorithms (imported as ``fdnmoo.operators``)."""

from .composite import (GenomeCrossover, GenomeMutation, GenomeRepair, GenomeSampling,
                        genome_operators)
from .filters import (WeakenedDominanceSurvival, WeakeningResult, choose_compromise,
                      deviation_distance, deviation_filter, weakened_dominance,
                      weakening_filter)

__all__ = ["GenomeSampling", "GenomeCrossover", "GenomeMutation", "GenomeRepair",
           "genome_operators", "WeakenedDominanceSurvival", "WeakeningResult",
           "choose_compromise", "deviation_distance", "deviation_filter", "weakened_dominance",
           "weakening_filter"]
