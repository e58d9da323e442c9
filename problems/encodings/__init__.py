"""Planning encodings: one gene block per planning decision.

Every block (:class:`GeneBlock`) owns integer genes plus sampling, crossover,
mutation and a repair that makes offspring feasible; :class:`fdnmoo.problems.genome.Genome`
combines blocks and repairs them in dependency order.

=================  ================================================  ===========
block              genes                                             repair rank
=================  ================================================  ===========
SubstationBlock    transformer type and build stage per site         0
SopBlock           scheme per stage and device; modules per node     10
DerBlock(kind)     size level per candidate bus and stage            20
DgBlock            DG alternative and build stage per candidate      20
LineBlock          conductor and stage per corridor; switch states   30
ClusterLineBlock   LineBlock's genes for lines joining clusters      30
=================  ================================================  ===========

Registered block classes are in :data:`BLOCKS` (name -> class).
"""

from .base import (BLOCKS, CLOSED_TRAFOS, DER_CAPACITY, FORCED_OPEN_LINES, SOP_TERMINALS,
                   GeneBlock, register_block)
from .cluster_lines import ClusterLineBlock
from .der import DerBlock, stage_peak_load_mw
from .dg import DgBlock
from .lines import LineBlock, load_buses
from .sop import SopBlock, sop_link_length_km
from .substations import SubstationBlock

__all__ = ["BLOCKS", "GeneBlock", "register_block", "LineBlock", "ClusterLineBlock", "SubstationBlock",
           "SopBlock", "DerBlock", "DgBlock", "load_buses", "stage_peak_load_mw",
           "sop_link_length_km",
           "CLOSED_TRAFOS", "FORCED_OPEN_LINES", "SOP_TERMINALS", "DER_CAPACITY"]
