"""Fast classical heuristics, compiled with Numba: TSP (constructions, 2-opt, Or-opt,
iterated local search), QAP (robust tabu search, simulated annealing), multi-dimensional
knapsack (LP-guided greedy and tabu search), maximum independent set (greedy, ARW
iterated local search), generalized assignment (regret greedy, iterated local search) and
set covering (greedy with 1-swaps, iterated greedy).

``method="heuristic"`` picks the flagship of the problem's family: ``tsp-ils``,
``qap-tabu``, ``mdkp-tabu``, ``mis-ils``, ``gap-ils`` or ``scp-ils``.
"""

from __future__ import annotations

from cutslack.api import SOLVERS, register_solver, warm_up_method
from cutslack.problems.generalized_assignment import GeneralizedAssignment
from cutslack.problems.knapsack import Knapsack
from cutslack.problems.mis import MaximumIndependentSet
from cutslack.problems.qap import QuadraticAssignment
from cutslack.problems.set_cover import SetCover
from cutslack.problems.tsp import TravelingSalesman
from cutslack.solvers.classical.heuristics import gap, mdkp, mis, qap, scp, tsp

__all__ = ["heuristic", "FLAGSHIP", "gap", "mdkp", "mis", "qap", "scp", "tsp"]

#: problem type -> the method ``method="heuristic"`` runs
FLAGSHIP = {
    TravelingSalesman: "tsp-ils",
    QuadraticAssignment: "qap-tabu",
    Knapsack: "mdkp-tabu",
    MaximumIndependentSet: "mis-ils",
    GeneralizedAssignment: "gap-ils",
    SetCover: "scp-ils",
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
