"""Problem families, generators and library readers.

Each family is one module: :mod:`~cutslack.problems.knapsack`, :mod:`~cutslack.problems.mis`,
:mod:`~cutslack.problems.qap`, :mod:`~cutslack.problems.tsp`, :mod:`~cutslack.problems.pde`,
:mod:`~cutslack.problems.generalized_assignment`, :mod:`~cutslack.problems.set_cover`; readers for benchmark
libraries live in :mod:`cutslack.problems.library`.
"""

from cutslack.problems.base import KnownOptimum, Problem
from cutslack.problems.knapsack import Knapsack, random_knapsack, random_mdkp
from cutslack.problems.mis import MaximumIndependentSet, random_mis, random_regular_mis, random_unit_disk_mis
from cutslack.problems.qap import QuadraticAssignment, random_qap
from cutslack.problems.tsp import TravelingSalesman, random_tsp
from cutslack.problems.pde import (EllipticControl, elliptic_control_fd, elliptic_control_fem, manufactured_control,
                                   random_elliptic_control)
from cutslack.problems.robust import TwoStageRobustKnapsack, random_robust_knapsack
from cutslack.problems.capital_budgeting import CapitalBudgeting, random_capital_budgeting
from cutslack.problems.generalized_assignment import GeneralizedAssignment, random_gap
from cutslack.problems.set_cover import SetCover, random_set_cover

__all__ = [
    "Problem", "KnownOptimum",
    "Knapsack", "random_knapsack", "random_mdkp",
    "MaximumIndependentSet", "random_mis", "random_regular_mis", "random_unit_disk_mis",
    "QuadraticAssignment", "random_qap",
    "TravelingSalesman", "random_tsp",
    "EllipticControl", "elliptic_control_fd", "elliptic_control_fem", "manufactured_control",
    "random_elliptic_control",
    "TwoStageRobustKnapsack", "random_robust_knapsack",
    "CapitalBudgeting", "random_capital_budgeting",
    "GeneralizedAssignment", "random_gap",
    "SetCover", "random_set_cover",
]
