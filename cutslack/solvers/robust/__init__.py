"""Two-stage robust optimization: exact column-and-constraint generation (``method="ccg"``) and
exact branch-and-price for the robust knapsack (``method="branch_and_price"``).

The exact worst case of a first-stage decision, used by every method to score its answer, is
:func:`cutslack.problems.robust.worst_case_profit`.
"""

from cutslack.solvers.robust.branch_price import RobustKnapsackMaster, solve_branch_and_price
from cutslack.solvers.robust.ccg import RecourseMainProblem, solve_ccg

__all__ = ["solve_ccg", "RecourseMainProblem", "solve_branch_and_price", "RobustKnapsackMaster"]
