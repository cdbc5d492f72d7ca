"""Fast classical heuristics, compiled with Numba: TSP (constructions, 2-opt, Or-opt,
iterated local search), QAP (robust tabu search, simulated annealing), multi-dimensional
knapsack (LP-guided greedy and tabu search) and maximum independent set (greedy, ARW
iterated local search).

``method="heuristic"`` picks the flagship of the problem's family: ``tsp-ils``,
``qap-tabu``, ``mdkp-tabu`` or ``mis-ils``.
"""

from __future__ import annotations

from cutslack.api import SOLVERS, register_solver, warm_up_method
from cutslack.problems.knapsack import Knapsack
from cutslack.problems.mis import MaximumIndependentSet
from cutslack.problems.qap import QuadraticAssignment
from cutslack.problems.tsp import TravelingSalesman
from cutslack.solvers.classical.heuristics import mdkp, mis, qap, tsp

__all__ = ["heuristic", "FLAGSHIP", "mdkp", "mis", "qap", "tsp"]

#: problem type -> the method ``method="heuristic"`` runs
FLAGSHIP = {
    TravelingSalesman: "tsp-ils",
    QuadraticAssignment: "qap-tabu",
    Knapsack: "mdkp-tabu",
    MaximumIndependentSet: "mis-ils",
}


def _warm_up(problem) -> None:
    """Warm the flagship of ``problem``'s family (its kernels only)."""
    warm_up_method(SOLVERS[_flagship(problem)], problem)


def _flagship(problem) -> str:
    return next(name for kind, name in FLAGSHIP.items() if isinstance(problem, kind))


@register_solver("heuristic", accepts=tuple(FLAGSHIP), warmup=_warm_up, description="the family's flagship heuristic")
def heuristic(problem, *, rng=None, time_limit=None, callback=None, **options):
    """Return the result of the flagship heuristic of the problem's family (options pass through)."""
    return SOLVERS[_flagship(problem)].function(problem, rng=rng, time_limit=time_limit, callback=callback, **options)
