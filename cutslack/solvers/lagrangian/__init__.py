"""Lagrangian slack-free QUBO methods: dual methods (:mod:`.dual`), the driver registered as
``method="lagrangian"`` (:mod:`.driver`) and the slack-bit / unbalanced baselines registered
as ``method="penalty"`` and ``method="unbalanced"`` (:mod:`.baselines`), sampled and repaired
the same way so they compare on the same instance, sampler and budget."""

from cutslack.solvers.lagrangian.baselines import solve_penalty, solve_unbalanced
from cutslack.solvers.lagrangian.driver import multiplier_scale, solve_lagrangian, solve_lagrangian_heuristic
from cutslack.solvers.lagrangian.dual import (DUAL_METHODS, AugmentedLagrangianMethod, BundleMethod,
                                              CuttingPlaneMethod, DualAveraging, DualMethod, SubgradientMethod,
                                              make_dual_method)

__all__ = ["solve_lagrangian", "solve_lagrangian_heuristic", "solve_penalty", "solve_unbalanced", "multiplier_scale", "DUAL_METHODS",
           "DualMethod", "SubgradientMethod", "DualAveraging", "CuttingPlaneMethod", "BundleMethod",
           "AugmentedLagrangianMethod", "make_dual_method"]
