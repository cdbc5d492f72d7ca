"""Solver families: classical (exact MILP, DP, heuristics); later issues add qubo/, lagrangian/, robust/, pde/."""
