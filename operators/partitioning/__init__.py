"""GA–SA cluster partitioning of a distribution network (the zonal-planning seed paper).

* :mod:`.electrical`: Q–V sensitivity, electrical distance, branch graph and its
  modularity weights;
* :mod:`.index`: the comprehensive partition index and the reactive filter;
* :mod:`.repair`: connected clusters;
* :mod:`.gasa`: the genetic algorithm with simulated-annealing acceptance (DEAP).
"""
