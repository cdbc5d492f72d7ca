"""Two-stage robust optimization: exact column-and-constraint generation (``method="ccg"``).

The exact worst case of a first-stage decision, used by every method to score its answer, is
:func:`cutslack.problems.robust.worst_case_profit`.
"""

from cutslack.solvers.robust.ccg import RecourseMainProblem, solve_ccg

__all__ = ["solve_ccg", "RecourseMainProblem"]
