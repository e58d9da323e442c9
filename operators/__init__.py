"""pymoo operators and algorithms (imported as ``fdnmoo.operators``)."""

from .composite import (GenomeCrossover, GenomeMutation, GenomeRepair, GenomeSampling,
                        genome_operators)

__all__ = ["GenomeSampling", "GenomeCrossover", "GenomeMutation", "GenomeRepair",
           "genome_operators"]
