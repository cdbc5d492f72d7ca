"""Solvers for the PDE-constrained control problems of :mod:`cutslack.problems.pde`.

* ``method="newton-kkt"`` — full-space (semismooth) Newton / SQP with sparse direct solves or, on
  large grids and meshes, MINRES with an AMG block preconditioner (:mod:`.newton`, :mod:`.krylov`);
* ``method="reduced-lbfgs"`` — L-BFGS-B on the adjoint gradient of the reduced objective (:mod:`.reduced`);
* ``method="pde-cvxpy"`` — the cvxpy QP reference for the linear-quadratic case (:mod:`.reduced`);
* ``method="adasketch"`` — AdaSketch-Newton (Hong, Na, Mahoney, Kolar, ICML 2023): exact
  augmented Lagrangian merit, Newton systems solved by randomized iterative sketching (:mod:`.adasketch`);
* Pareto fronts of tracking against control cost (:mod:`.pareto`);
* the SPD systems of Newton runs, fed to the learned-relaxation bandit (:mod:`.systems`).
"""

from cutslack.solvers.pde.adasketch import adasketch_newton
from cutslack.solvers.pde.newton import newton_kkt
from cutslack.solvers.pde.pareto import ParetoFront, front_objectives, hypervolume_2d, pareto_front
from cutslack.solvers.pde.reduced import pde_cvxpy, reduced_lbfgs

__all__ = ["newton_kkt", "reduced_lbfgs", "pde_cvxpy", "adasketch_newton", "ParetoFront", "pareto_front",
           "hypervolume_2d", "front_objectives"]
