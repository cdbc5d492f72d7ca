"""Constructors and generators refuse every invalid field with InvalidInstanceError naming it;
extreme but valid instances (n = 1, empty graphs, zero capacities, all-equal weights,
coefficients near 1e12 and 1e-12) are solved to their brute-force optimum by every method
that accepts them (read from the registry), or refused with a CutslackError saying why."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest

import cutslack
from cutslack.api import SOLVERS, available_methods
from cutslack.binary import QUBO, BinaryProgram
from cutslack.errors import CutslackError, InvalidInstanceError
from cutslack.problems import (GeneralizedAssignment, Knapsack, MaximumIndependentSet, QuadraticAssignment, SetCover,
                               TravelingSalesman, random_gap, random_knapsack, random_mdkp, random_mis, random_qap,
                               random_regular_mis, random_set_cover, random_tsp, random_unit_disk_mis)
from cutslack.reliability import DEGENERATE_CASES, degenerate_outcome
from cutslack.testing import brute_force

NAN, INF = float("nan"), float("inf")

#: (constructor, keyword arguments, the field the error must name)
INVALID = [
    (Knapsack, dict(profits=[1, -2], weights=[[1, 1]], capacities=[1]), "profits"),
    (Knapsack, dict(profits=[1, NAN], weights=[[1, 1]], capacities=[1]), "profits"),
    (Knapsack, dict(profits=[[1, 2]], weights=[[1, 1]], capacities=[1]), "profits"),
    (Knapsack, dict(profits=["a", "b"], weights=[[1, 1]], capacities=[1]), "profits"),
    (Knapsack, dict(profits=[1, 2], weights=[[1, -1]], capacities=[1]), "weights"),
    (Knapsack, dict(profits=[1, 2], weights=[[1, INF]], capacities=[1]), "weights"),
    (Knapsack, dict(profits=[1, 2], weights=[[1, 1, 1]], capacities=[1]), "weights"),
    (Knapsack, dict(profits=[1, 2], weights=[[1, 1]], capacities=[-1]), "capacities"),
    (Knapsack, dict(profits=[1, 2], weights=[[1, 1]], capacities=[1, 2]), "capacities"),
    (Knapsack, dict(profits=[1, 2], weights=[[1, 1]], capacities=[NAN]), "capacities"),
    (MaximumIndependentSet, dict(graph=[(0, 1)]), "graph"),
    (MaximumIndependentSet, dict(graph=nx.DiGraph([(0, 1)])), "graph"),
    (MaximumIndependentSet, dict(graph=nx.Graph([(0, 0)])), "graph"),
    (MaximumIndependentSet, dict(graph=nx.path_graph(3), weights=[1, 2]), "weights"),
    (MaximumIndependentSet, dict(graph=nx.path_graph(3), weights=[1, -2, 1]), "weights"),
    (MaximumIndependentSet, dict(graph=nx.path_graph(3), weights=[1, NAN, 1]), "weights"),
    (QuadraticAssignment, dict(flow=[[0, 1], [1, 0]], distance=[[0, 1, 2], [1, 0, 1], [2, 1, 0]]), "distance"),
    (QuadraticAssignment, dict(flow=[[0, NAN], [1, 0]], distance=[[0, 1], [1, 0]]), "flow"),
    (QuadraticAssignment, dict(flow=[[0, 1, 2]], distance=[[0, 1], [1, 0]]), "flow"),
    (QuadraticAssignment, dict(flow=[[0, 1], [1, 0]], distance=[[0, INF], [1, 0]]), "distance"),
    (TravelingSalesman, dict(distance=[[0, -1], [-1, 0]]), "distance"),
    (TravelingSalesman, dict(distance=[[0, NAN], [1, 0]]), "distance"),
    (TravelingSalesman, dict(distance=[[0, 1, 2]]), "distance"),
    (TravelingSalesman, dict(distance=None, coordinates=[[0, 0], [1, 1]], metric="MANHATTAN"), "metric"),
    (TravelingSalesman, dict(distance=None, coordinates=[[0, 0, 0], [1, 1, 1]], metric="EUC_2D"), "coordinates"),
    (TravelingSalesman, dict(distance=None, coordinates=[[0, 0], [1, NAN]], metric="EUC_2D"), "coordinates"),
    (TravelingSalesman, dict(distance=None), "distance"),
    (GeneralizedAssignment, dict(profits=[[1, 2]], weights=[[1, INF]], capacities=[3]), "weights"),
    (GeneralizedAssignment, dict(profits=[[1, 2]], weights=[[1, 2]], capacities=[-3]), "capacities"),
    (GeneralizedAssignment, dict(profits=[1, 2], weights=[1, 2], capacities=[3]), "profits"),
    (SetCover, dict(costs=[1, NAN], cover=[[1, 1]]), "costs"),
    (SetCover, dict(costs=[1, 2], cover=[[0, 0]]), "cover"),
    (SetCover, dict(costs=[1, 2], cover=[[1, NAN]]), "cover"),
    (QUBO, dict(Q=[[1, 2, 3]]), "Q"),
    (QUBO, dict(Q=[[1, NAN], [0, 1]]), "Q"),
    (QUBO, dict(Q=[[1, 0], [0, 1]], offset=INF), "offset"),
    (QUBO, dict(Q=[[1, 0], [0, 1]], names=["a"]), "names"),
    (BinaryProgram, dict(c=[1, NAN]), "c"),
    (BinaryProgram, dict(c=[1, 2], sense="maximise"), "sense"),
    (BinaryProgram, dict(c=[1, 2], const=NAN), "const"),
    (BinaryProgram, dict(c=[1, 2], A_le=[[1, 1]]), "A_le"),
    (BinaryProgram, dict(c=[1, 2], A_le=[[1, 1]], b_le=[NAN]), "b_le"),
    (BinaryProgram, dict(c=[1, 2], conflicts=[(0, 5)]), "conflicts"),
    (BinaryProgram, dict(c=[1, 2], conflicts=[(1, 1)]), "conflicts"),
    (BinaryProgram, dict(c=[1, 2], names=["a"]), "names"),
]

#: (generator, arguments, the field the error must name)
INVALID_GENERATED = [
    (random_knapsack, dict(n=0), "n"),
    (random_knapsack, dict(n=5, m=0), "m"),
    (random_knapsack, dict(n=-3), "n"),
    (random_knapsack, dict(n=2.5), "n"),
    (random_knapsack, dict(n="5"), "n"),
    (random_knapsack, dict(n=5, kind="bogus"), "kind"),
    (random_knapsack, dict(n=5, R=0), "R"),
    (random_mdkp, dict(n=5, m=2, tightness=0.0), "tightness"),
    (random_mdkp, dict(n=5, m=2, tightness=1.5), "tightness"),
    (random_mdkp, dict(n=5, m=-1), "m"),
    (random_mis, dict(n=-1, p=0.5), "n"),
    (random_mis, dict(n=5, p=1.5), "p"),
    (random_mis, dict(n=5, p=NAN), "p"),
    (random_mis, dict(n=2.5, p=0.5), "n"),
    (random_regular_mis, dict(n=5, d=3), "d"),
    (random_unit_disk_mis, dict(n=5, radius=-1.0), "radius"),
    (random_qap, dict(n=0), "n"),
    (random_qap, dict(n=4, kind="bogus"), "kind"),
    (random_tsp, dict(n=0), "n"),
    (random_tsp, dict(n=5, kind="bogus"), "kind"),
    (random_tsp, dict(n=5, scale=-1.0), "scale"),
    (random_gap, dict(m=0, n=5), "m"),
    (random_gap, dict(m=2, n=5, kind="f"), "kind"),
    (random_set_cover, dict(m=5, n=1, density=0.5), "n"),
    (random_set_cover, dict(m=5, n=10, density=0.0), "density"),
]


@pytest.mark.parametrize("cls, kwargs, field", INVALID, ids=[f"{c.__name__}-{f}-{i}" for i, (c, _, f) in
                                                             enumerate(INVALID)])
def test_constructor_names_the_invalid_field(cls, kwargs, field):
    with pytest.raises(InvalidInstanceError) as info:
        cls(**kwargs)
    assert info.value.field == field


@pytest.mark.parametrize("generator, kwargs, field", INVALID_GENERATED,
                         ids=[f"{g.__name__}-{f}-{i}" for i, (g, _, f) in enumerate(INVALID_GENERATED)])
def test_generator_names_the_invalid_argument(generator, kwargs, field):
    with pytest.raises(InvalidInstanceError) as info:
        generator(**kwargs, rng=0)
    assert info.value.field == field


# ------------------------------------------------------------------------ extreme valid instances

def _qubo_optimum(qubo: QUBO) -> float:
    X = np.array(list(itertools.product((0, 1), repeat=qubo.n)), dtype=np.uint8)
    return float(np.min(qubo.energy(X)))


def _robust_n1():
    from cutslack.problems.robust import TwoStageRobustKnapsack

    return TwoStageRobustKnapsack(profits=[50.0], degradations=[20.0], repair_weights=[3.0], weights=[5.0],
                                  outsourcing_costs=[60.0], capacity=7.0, budget=1.0)


def _pde_n3():
    from cutslack.problems.pde import elliptic_control_fd

    return elliptic_control_fd(3, target=np.ones(9))


def _enumerated_optimum(problem) -> float:
    """The optimum of a tiny GAP (every agent vector) or set cover (every column subset)."""
    if isinstance(problem, GeneralizedAssignment):
        X = np.array(list(itertools.product(range(problem.m), repeat=problem.n)), dtype=np.int64)
    else:
        X = np.array(list(itertools.product((0, 1), repeat=problem.n)), dtype=np.int64)
    values = problem.evaluate(X)[problem.is_feasible(X)]
    return float(values.max() if problem.sense == "max" else values.min())


def _extremes() -> dict:
    """Small extreme instances, each with its optimum."""
    scale_big, scale_small = 1e12, 1e-12
    cases = {
        "knapsack-n1": Knapsack([5.0], [[3.0]], [4.0]),
        "knapsack-zero-capacity": Knapsack([5.0, 7.0, 1.0], [[3.0, 2.0, 1.0]], [0.0]),
        "knapsack-all-equal": Knapsack([2.0] * 6, [[3.0] * 6], [10.0]),
        "knapsack-1e12": Knapsack([3 * scale_big, 4 * scale_big, 5 * scale_big], [[2 * scale_big, 3 * scale_big,
                                                                                    4 * scale_big]], [5 * scale_big]),
        "knapsack-1e-12": Knapsack([3 * scale_small, 4 * scale_small, 5 * scale_small], [[2.0, 3.0, 4.0]], [5.0]),
        "mdkp-zero-row": Knapsack([4.0, 3.0, 2.0], [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]], [2.0, 0.0]),
        "mis-n1": MaximumIndependentSet(nx.empty_graph(1)),
        "mis-empty-graph": MaximumIndependentSet(nx.empty_graph(5)),
        "mis-complete": MaximumIndependentSet(nx.complete_graph(4), weights=[1.0, 1.0, 3.0, 1.0]),
        "qap-n1": QuadraticAssignment([[0.0]], [[0.0]]),
        "qap-n2": QuadraticAssignment([[0.0, 2.0], [3.0, 0.0]], [[0.0, 5.0], [1.0, 0.0]]),
        "qap-all-equal": QuadraticAssignment(np.ones((4, 4)), np.ones((4, 4))),
        "tsp-n3": TravelingSalesman([[0.0, 1.0, 2.0], [1.0, 0.0, 1.5], [2.0, 1.5, 0.0]]),
        "tsp-all-equal": TravelingSalesman(np.ones((5, 5)) - np.eye(5)),
        "tsp-1e12": TravelingSalesman(random_tsp(5, rng=3).distance * 1e9),
        "gap-n1": GeneralizedAssignment([[3.0]], [[1.0]], [1.0]),
        "gap-all-equal": GeneralizedAssignment(np.ones((3, 4)), np.ones((3, 4)), [2.0, 2.0, 2.0]),
        "gap-min-1e12": GeneralizedAssignment([[2e12, 1e12], [1e12, 3e12]], [[1.0, 1.0], [1.0, 1.0]], [1.0, 1.0],
                                              sense="min"),
        "setcover-n1": SetCover([2.0], [[1.0]]),
        "setcover-all-equal": SetCover(np.ones(5), np.ones((3, 5))),
        "setcover-zero-cost": SetCover([0.0, 4.0, 1.0], [[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]]),
        "robust-n1": _robust_n1(),
        "pde-n3": _pde_n3(),
        "qubo-n1": QUBO([[-1.0]]),
        "qubo-zero": QUBO(np.zeros((3, 3))),
        "qubo-1e12-1e-12": QUBO([[-scale_big, 2 * scale_big], [0.0, -scale_small]]),
    }
    optima = {}
    for name, problem in cases.items():
        if isinstance(problem, QUBO):
            optima[name] = _qubo_optimum(problem)
        elif name == "robust-n1":   # two first-stage decisions, each scored by the exact worst case
            optima[name] = max(problem.evaluate(np.array([b])) for b in (0, 1))
        elif name.startswith(("gap-", "setcover-")):
            optima[name] = _enumerated_optimum(problem)
        elif name == "pde-n3":      # a 3x3 linear-quadratic control problem: the conic reference
            optima[name] = cutslack.solve(problem, method="pde-cvxpy").objective
        else:
            optima[name] = brute_force(problem)[1]
    return {name: (problem, optima[name]) for name, problem in cases.items()}


EXTREMES = _extremes()
METHODS = [m for m in available_methods() if not m.startswith("test-")]  # not the test-registered ones
PAIRS = [(m, name) for m in METHODS for name, (problem, _) in EXTREMES.items()
         if isinstance(problem, SOLVERS[m].accepts)]
#: the default run gives each method its first extreme instance (every method covered, ~30
#: solves); ``-m slow`` runs every method on every extreme instance it accepts
FIRST = [next((p for p in PAIRS if p[0] == m and p[1] == "qubo-n1"), next(p for p in PAIRS if p[0] == m))
         for m in METHODS]
SLOW_PAIRS = [p for p in PAIRS if p not in FIRST]


def test_every_method_gets_extreme_instances():
    assert {m for m, _ in PAIRS} == set(METHODS)


def _pairs(pairs, slow: bool):
    marks = [pytest.mark.slow] if slow else []
    return [pytest.param(m, n, id=f"{m}-{n}", marks=marks) for m, n in pairs]


#: keyword arguments a method cannot run without (a black-box method needs an evaluation budget;
#: 64 evaluations cover every extreme instance's search space of at most 2^6 points)
METHOD_OPTIONS = {m: {"budget": 64} for m in ("fmqa", "bocs", "random-search", "blackbox-anneal")}

#: methods that work on a problem's binary form (``to_binary``), which the robust and PDE families lack
BINARY_FORM_METHODS = ("blackbox-anneal", "bocs", "cvar-vqe", "fmqa", "lagrangian", "lagrangian-heuristic", "ma-qaoa", "pce",
                       "penalty", "qaoa", "qrao", "random-search", "shrink", "unbalanced", "vqe", "ws-qaoa")
BLACK_BOX_METHODS = ("blackbox-anneal", "bocs", "fmqa", "random-search")
STATEVECTOR_METHODS = ("cvar-vqe", "ma-qaoa", "qaoa", "qrao", "vqe", "ws-qaoa")

#: (method, instance) -> what the refusal must say: the cases a method declares it cannot run,
#: each with its reason (recorded from a run of every pair, ``-m slow``); every other pair must be
#: solved to its optimum, and an error there fails the test
REFUSALS: dict[tuple[str, str], str] = {
    **{(m, "robust-n1"): "TwoStageRobustKnapsack has no binary form" for m in BINARY_FORM_METHODS},
    **{(m, "pde-n3"): "EllipticControl has no binary form" for m in BINARY_FORM_METHODS},
    # the slack bits of a capacity of 5e12 make 46 qubits
    **{(m, "knapsack-1e12"): r"statevector of 2\^46 amplitudes" for m in STATEVECTOR_METHODS},
    ("dp", "knapsack-1e12"): "knapsack DP table",
    ("dp", "mdkp-zero-row"): "one-constraint knapsack only",
    # the Lagrangian subproblem is separable only for a linear objective and linear rows
    **{("lagrangian-heuristic", n): "separable Lagrangian subproblem"
       for n in ("mis-complete", "qap-n2", "qap-all-equal", "tsp-n3", "tsp-all-equal", "tsp-1e12")},
    ("tsp-sfc", "tsp-all-equal"): "needs city coordinates",
    ("tsp-sfc", "tsp-1e12"): "needs city coordinates",
    # a numerical limit, not a design one: Clarabel and SCS both fail on the GW SDP of these
    # badly scaled instances (after 50-90 s), and the method says so
    ("shrink", "knapsack-1e12"): "Goemans-Williamson SDP failed",
    ("shrink", "tsp-1e12"): "Goemans-Williamson SDP failed",
}


def test_every_declared_refusal_is_a_pair_the_registry_offers():
    assert set(REFUSALS) <= set(PAIRS)


@pytest.mark.parametrize("method, name", _pairs(FIRST, False) + _pairs(SLOW_PAIRS, True))
def test_extreme_instance_is_solved_to_its_optimum_or_refused(method, name):
    problem, optimum = EXTREMES[name]
    if (method, name) in REFUSALS:
        with pytest.raises(CutslackError, match=REFUSALS[method, name]):
            cutslack.solve(problem, method=method, rng=0, time_limit=20.0, **METHOD_OPTIONS.get(method, {}))
        return
    result = cutslack.solve(problem, method=method, rng=0, time_limit=20.0, **METHOD_OPTIONS.get(method, {}))
    if isinstance(problem, QUBO):
        energy = float(problem.energy(np.asarray(result.samples.best if result.samples is not None else result.x)))
        assert energy == pytest.approx(optimum, rel=1e-9, abs=1e-15)
        return
    assert result.feasible, result.summary()
    # continuous problems are solved to a tolerance (KKT residual 1e-8), not exactly
    rel = 1e-6 if getattr(problem, "family", None) == "pde" else 1e-9
    assert result.objective == pytest.approx(optimum, rel=rel, abs=1e-15), result.summary()


# ------------------------------------------------------------------ zero-size and degenerate instances

DEGENERATE = {name: factory() for name, (factory, _) in DEGENERATE_CASES.items()}
DEGENERATE_PAIRS = [(m, name) for m in METHODS for name, problem in DEGENERATE.items()
                    if isinstance(problem, SOLVERS[m].accepts)]
#: the default run: every zero-variable instance (an early exit, instant) and each method's first
#: instance with variables; ``-m slow`` runs the rest
_FIRST_DEGENERATE = {m: next((n for mm, n in DEGENERATE_PAIRS if mm == m and DEGENERATE[n].n), None) for m in METHODS}
DEGENERATE_FAST = [(m, n) for m, n in DEGENERATE_PAIRS if not DEGENERATE[n].n or _FIRST_DEGENERATE[m] == n]
DEGENERATE_SLOW = [p for p in DEGENERATE_PAIRS if p not in DEGENERATE_FAST]


def test_every_method_gets_degenerate_instances():
    assert {m for m, _ in DEGENERATE_PAIRS} == set(METHODS)
    assert all(_FIRST_DEGENERATE[m] is not None for m in METHODS)


@pytest.mark.parametrize("method, name", _pairs(DEGENERATE_FAST, False) + _pairs(DEGENERATE_SLOW, True))
def test_degenerate_instance_is_solved_or_refused_cleanly(method, name):
    # solved: feasible at the hand-worked optimum; refused: a CutslackError saying why.  A wrong
    # answer, or NumPy's or SciPy's own exception from an empty array, fails.
    outcome, detail = degenerate_outcome(method, name)
    assert outcome in ("solved", "refused"), detail
