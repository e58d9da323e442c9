"""fdnmoo: evolutionary multi-objective planning of flexible distribution networks.

Data flows one way: case -> plan -> scenario batch -> power flow -> metrics ->
objectives/constraints -> algorithm. See ``fdnmoo.cases`` and ``fdnmoo.powerflow``.
"""

__version__ = "0.1.0"
