"""Bi-level planning: upper genes (substations, lines, SOPs) over lower fronts of PV/SVC genes.

:class:`BiLevel` is the pymoo algorithm (:mod:`.driver` describes a generation) and
:func:`build_bilevel` builds it from an algorithm-registry request (:mod:`.entry`);
:mod:`.lower` runs one lower level, :mod:`.front` ranks the union of lower fronts,
:mod:`.split` divides the genome between the levels.
"""

from .driver import DEFAULT_LOWER_OBJECTIVES, BiLevel, UpperProblem
from .entry import OPTIONS, build_bilevel
from .front import constrained_front, front_ranks, pareto_survivors, upper_fitness
from .lower import (LowerFront, LowerLevel, LowerProblem, lower_seed, lower_task, nsga2,
                    optimise_lower)
from .split import DEFAULT_LOWER_BLOCKS, SubGenome, split_blocks

__all__ = ["BiLevel", "DEFAULT_LOWER_BLOCKS", "DEFAULT_LOWER_OBJECTIVES", "LowerFront",
           "LowerLevel", "LowerProblem", "OPTIONS", "SubGenome", "UpperProblem",
           "build_bilevel", "constrained_front", "front_ranks", "lower_seed", "lower_task",
           "nsga2", "optimise_lower", "pareto_survivors", "split_blocks", "upper_fitness"]
