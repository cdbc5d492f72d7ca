"""Classical solvers: exact MILP models (Pyomo + HiGHS) and dynamic programming."""
