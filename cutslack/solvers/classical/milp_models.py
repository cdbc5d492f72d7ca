"""Pyomo models of the combinatorial families for ``method="milp"``, and the heuristic starts
that give every run a feasible answer before HiGHS finds one.

Formulations
------------
* **Knapsack** — ``max p'x  s.t.  W x <= c``, one binary per item.
* **Maximum independent set** — one binary per vertex; the edge constraints
  ``x_u + x_v <= 1`` are replaced by *clique* constraints ``sum_{v in K} x_v <= 1`` over a
  greedy cover of the edges by cliques (:func:`edge_clique_cover`).  Every edge lies in some
  clique of the cover, so the feasible set is unchanged, while the LP relaxation is much
  tighter on dense graphs (the complements of the DIMACS clique graphs).
* **Quadratic assignment** — the Adams–Johnson level-1 RLT linearisation (Adams & Johnson
  1994): binaries ``x[i, k]`` (facility i at location k), continuous ``y`` for every pair of
  assignments ``(i, k), (j, l)`` with ``i != j, k != l`` (one variable per unordered pair, which
  imposes the symmetry ``y_ikjl = y_jlik``), and for every ``(i, k)``:
  ``sum_{l != k} y_ikjl = x_ik`` for each ``j != i`` and ``sum_{j != i} y_ikjl = x_ik`` for each
  ``l != k``.  For a permutation matrix these force ``y_ikjl = x_ik x_jl``, so the model is
  exact; its LP relaxation gives the Adams–Johnson bound.  Size ``n²(n-1)²/2`` continuous
  variables: practical for n up to about 12–15.
* **Travelling salesman** — one binary per undirected edge (symmetric distances) or per arc
  (asymmetric), degree constraints, and Dantzig–Fulkerson–Johnson subtour-elimination cuts
  added by the solver loop (:class:`TspModel`) for the cycles of each integer solution.
* **Generalized assignment** — binaries ``x[i, j]`` (job j at agent i), one assignment row
  per job and one capacity row per agent; started from the regret greedy (``gap-greedy``)
  when that is feasible.
* **Set covering** — one binary per column, ``sum_{j covers r} x_j >= 1`` per row; started
  from the greedy cover (``scp-greedy``).
* **BinaryProgram** — linear objective, ``A_le``/``A_eq`` rows and conflict pairs as they are;
  each quadratic term ``q x_i x_j`` gets a product variable with the McCormick inequalities
  on the side its sign needs (exact for binaries).

Starts (MIP starts and fallback answers): greedy by profit density for the knapsack, greedy
by weight over degree for MIS, the identity for QAP, the nearest-neighbour tour for TSP;
:func:`patch_cycles` (Karp's patching) turns subtours into a tour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import scipy.sparse as sp

from cutslack.binary import BinaryProgram, fold_upper
from cutslack.config import check_memory
from cutslack.errors import ProblemTooLargeError
from cutslack.problems.generalized_assignment import GeneralizedAssignment
from cutslack.problems.knapsack import Knapsack
from cutslack.problems.mis import MaximumIndependentSet
from cutslack.problems.qap import QuadraticAssignment
from cutslack.problems.set_cover import SetCover
from cutslack.problems.tsp import TravelingSalesman

__all__ = ["MilpModel", "TspModel", "build_model", "knapsack_model", "mis_model", "qap_model",
           "tsp_model", "gap_model", "set_cover_model", "binary_program_model", "edge_clique_cover",
           "greedy_knapsack", "greedy_independent_set",
           "nearest_neighbour_tour", "patch_cycles", "MAX_QAP_PAIR_VARIABLES", "MAX_TSP_VARIABLES"]


class _LazyPyomo:
    """``pyomo.environ``, imported on first use: importing it takes seconds, and every solver
    module is imported by the first ``cutslack.solve`` call, whose clock is already running."""

    def __getattr__(self, name):
        import pyomo.environ

        return getattr(pyomo.environ, name)


pyo = _LazyPyomo()

#: largest number of RLT pair variables (n²(n-1)²/2) the QAP model builds (n = 20 has 72 200)
MAX_QAP_PAIR_VARIABLES = 150_000
#: largest number of edge/arc variables the TSP model builds
MAX_TSP_VARIABLES = 500_000


@dataclass
class MilpModel:
    """A Pyomo model with the maps between its variables and the native solution.

    ``read()`` returns the native solution from the variable values loaded into the model,
    ``start(solution)`` writes a native solution into the variable values (a MIP start), and
    ``initial`` is a feasible native solution found by a heuristic.
    """

    model: pyo.ConcreteModel
    read: Callable[[], Any]
    start: Callable[[Any], None]
    initial: Any
    formulation: str
    info: dict = field(default_factory=dict)
    highs_options: dict = field(default_factory=dict)

    @property
    def n_vars(self) -> int:
        """Number of variables of the model."""
        return int(self.model.nvariables())

    @property
    def n_constraints(self) -> int:
        """Number of constraints of the model (cuts included)."""
        return int(self.model.nconstraints())


def _values(var, size: int) -> np.ndarray:
    """Return the values of ``var[0..size-1]`` (unset values as 0)."""
    return np.array([var[j].value or 0.0 for j in range(size)], dtype=float)


def _set_bits(var, bits) -> None:
    for j, b in enumerate(np.asarray(bits).reshape(-1)):
        var[j].set_value(float(b))


def _read_bits(var, size: int) -> np.ndarray:
    return (_values(var, size) > 0.5).astype(np.int64)


def _sum(var, indices, coefficients=None):
    """Return the Pyomo expression ``sum coefficient * var[index]`` (coefficient 1 when None)."""
    if coefficients is None:
        return pyo.quicksum(var[int(j)] for j in indices)
    return pyo.quicksum(float(a) * var[int(j)] for j, a in zip(indices, coefficients))


# --- knapsack -----------------------------------------------------------------------------


def greedy_knapsack(problem: Knapsack) -> np.ndarray:
    """Return a feasible 0/1 vector packed greedily by profit over capacity-scaled weight."""
    W, c = problem.weights, problem.capacities
    scaled = (W / np.where(c > 0, c, 1.0)[:, None]).sum(axis=0)
    order = np.argsort(-problem.profits / np.maximum(scaled, 1e-12), kind="stable")
    x = np.zeros(problem.size["n"], dtype=np.int64)
    load = np.zeros(problem.m)
    for j in order:
        if np.all(load + W[:, j] <= c):
            x[j] = 1
            load += W[:, j]
    return x


def knapsack_model(problem: Knapsack) -> MilpModel:
    """Return the knapsack model ``max p'x s.t. W x <= c`` with a greedy start."""
    n = problem.size["n"]
    W, c = problem.weights, problem.capacities
    model = pyo.ConcreteModel(name=problem.name)
    model.x = pyo.Var(range(n), domain=pyo.Binary)
    model.profit = pyo.Objective(expr=_sum(model.x, range(n), problem.profits), sense=pyo.maximize)

    def capacity(mdl, i):
        nz = np.flatnonzero(W[i])
        return pyo.Constraint.Skip if nz.size == 0 else _sum(mdl.x, nz, W[i, nz]) <= float(c[i])

    model.capacity = pyo.Constraint(range(problem.m), rule=capacity)
    return MilpModel(model, read=lambda: _read_bits(model.x, n), start=lambda s: _set_bits(model.x, s),
                     initial=greedy_knapsack(problem), formulation="knapsack: one binary per item")


# --- maximum independent set ----------------------------------------------------------------


def edge_clique_cover(n: int, edges) -> list[tuple[int, ...]]:
    """Return cliques (tuples of vertices) such that every edge lies in at least one of them.

    Greedy: each edge not yet covered grows into a maximal clique, adding common neighbours
    in order of decreasing degree (ties by index), so the cover is deterministic.
    """
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    adjacency = [set() for _ in range(n)]
    for u, v in edges:
        adjacency[u].add(int(v))
        adjacency[v].add(int(u))
    rank = {v: r for r, v in enumerate(sorted(range(n), key=lambda v: (-len(adjacency[v]), v)))}
    covered: set[tuple[int, int]] = set()
    cliques = []
    for u, v in sorted((int(min(a, b)), int(max(a, b))) for a, b in edges):
        if (u, v) in covered:
            continue
        clique = [u, v]
        candidates = adjacency[u] & adjacency[v]
        while candidates:
            w = min(candidates, key=rank.__getitem__)
            clique.append(w)
            candidates &= adjacency[w]
        clique.sort()
        for a in range(len(clique)):
            for b in range(a + 1, len(clique)):
                covered.add((clique[a], clique[b]))
        cliques.append(tuple(clique))
    return cliques


def greedy_independent_set(problem: MaximumIndependentSet) -> np.ndarray:
    """Return the indicator of a maximal independent set chosen greedily by weight / (degree + 1)."""
    n = len(problem.nodes)
    E = problem.edges
    degree = np.bincount(E.reshape(-1), minlength=n)
    neighbours = [[] for _ in range(n)]
    for u, v in E:
        neighbours[u].append(v)
        neighbours[v].append(u)
    x = np.zeros(n, dtype=np.int64)
    blocked = np.zeros(n, dtype=bool)
    for v in np.argsort(-problem.weights / (degree + 1.0), kind="stable"):
        if not blocked[v]:
            x[v] = 1
            blocked[v] = True
            blocked[neighbours[v]] = True
    return x


def mis_model(problem: MaximumIndependentSet, *, cliques: bool = True) -> MilpModel:
    """Return the MIS model with clique constraints (``cliques=True``) or edge constraints."""
    n = len(problem.nodes)
    groups = edge_clique_cover(n, problem.edges) if cliques else [tuple(e) for e in problem.edges.tolist()]
    model = pyo.ConcreteModel(name=problem.name)
    model.x = pyo.Var(range(n), domain=pyo.Binary)
    model.weight = pyo.Objective(expr=_sum(model.x, range(n), problem.weights), sense=pyo.maximize)
    model.clique = pyo.Constraint(range(len(groups)), rule=lambda mdl, k: _sum(mdl.x, groups[k]) <= 1)
    kind = "clique cover" if cliques else "edge"
    return MilpModel(model, read=lambda: _read_bits(model.x, n), start=lambda s: _set_bits(model.x, s),
                     initial=greedy_independent_set(problem), formulation=f"MIS: {kind} constraints",
                     info={"n_cliques" if cliques else "n_edges": len(groups)})


# --- quadratic assignment ------------------------------------------------------------------


def qap_model(problem: QuadraticAssignment) -> MilpModel:
    """Return the Adams–Johnson RLT-1 model of a QAP, starting from the identity permutation."""
    n = problem.size["n"]
    n_pairs = n * n * (n - 1) * (n - 1) // 2
    if n_pairs > MAX_QAP_PAIR_VARIABLES:
        raise ProblemTooLargeError("QAP RLT-1 model (pair variables n²(n-1)²/2)", n_pairs, MAX_QAP_PAIR_VARIABLES)
    F, D = problem.flow, problem.distance
    # one y per unordered pair of assignments (i, k), (j, l) with i < j, k != l
    pairs = [(i, k, j, l) for i in range(n) for j in range(i + 1, n) for k in range(n) for l in range(n) if k != l]
    index = {p: t for t, p in enumerate(pairs)}
    cost = np.array([F[i, j] * D[k, l] + F[j, i] * D[l, k] for i, k, j, l in pairs], dtype=float)

    def pair(i, k, j, l) -> int:
        return index[(i, k, j, l)] if i < j else index[(j, l, i, k)]

    model = pyo.ConcreteModel(name=problem.name)
    model.x = pyo.Var(range(n), range(n), domain=pyo.Binary)
    model.y = pyo.Var(range(len(pairs)), bounds=(0.0, 1.0))
    linear = np.diag(F)[:, None] * np.diag(D)[None, :]
    nz = np.flatnonzero(cost)
    model.cost = pyo.Objective(
        expr=pyo.quicksum(float(linear[i, k]) * model.x[i, k] for i in range(n) for k in range(n) if linear[i, k])
        + _sum(model.y, nz, cost[nz]),
        sense=pyo.minimize)
    model.facility = pyo.Constraint(range(n), rule=lambda mdl, i: pyo.quicksum(mdl.x[i, k] for k in range(n)) == 1)
    model.location = pyo.Constraint(range(n), rule=lambda mdl, k: pyo.quicksum(mdl.x[i, k] for i in range(n)) == 1)
    others = [(i, k, o) for i in range(n) for k in range(n) for o in range(n)]
    model.rlt_facility = pyo.Constraint(  # for (i, k) and facility j != i: exactly one location l
        [t for t in others if t[2] != t[0]],
        rule=lambda mdl, i, k, j: _sum(mdl.y, [pair(i, k, j, l) for l in range(n) if l != k]) == mdl.x[i, k])
    model.rlt_location = pyo.Constraint(  # for (i, k) and location l != k: exactly one facility j
        [t for t in others if t[2] != t[1]],
        rule=lambda mdl, i, k, l: _sum(mdl.y, [pair(i, k, j, l) for j in range(n) if j != i]) == mdl.x[i, k])

    def read():
        X = np.array([[model.x[i, k].value or 0.0 for k in range(n)] for i in range(n)])
        return np.argmax(X, axis=1).astype(np.int64)

    def start(p):
        p = np.asarray(p, dtype=np.int64)
        for i in range(n):
            for k in range(n):
                model.x[i, k].set_value(float(p[i] == k))
        for t, (i, k, j, l) in enumerate(pairs):
            model.y[t].set_value(float(p[i] == k and p[j] == l))

    return MilpModel(model, read=read, start=start, initial=np.arange(n, dtype=np.int64),
                     formulation="QAP: Adams-Johnson RLT-1 linearisation",
                     info={"n_pair_variables": len(pairs)},
                     # the RLT LPs are highly degenerate: simplex took over 60 s on nug12's root LP,
                     # the interior-point solver 5 s
                     highs_options={"mip_lp_solver": "ipm"})


# --- travelling salesman -------------------------------------------------------------------


def nearest_neighbour_tour(distance: np.ndarray, start: int = 0) -> np.ndarray:
    """Return the nearest-neighbour tour from ``start`` (ties to the lowest index)."""
    n = distance.shape[0]
    visited = np.zeros(n, dtype=bool)
    tour = np.empty(n, dtype=np.int64)
    cur = start
    for t in range(n):
        tour[t] = cur
        visited[cur] = True
        if t < n - 1:
            row = np.where(visited, np.inf, distance[cur])
            cur = int(np.argmin(row))
    return tour


def patch_cycles(cycles: list, distance: np.ndarray, symmetric: bool) -> np.ndarray:
    """Return one tour made from disjoint cycles covering all cities (Karp's patching).

    Repeatedly merges the largest cycle with the cycle it joins most cheaply: arc ``a -> b`` of
    one and ``c -> d`` of the other are replaced by ``a -> d`` and ``c -> b`` (or, when the
    distances are symmetric, by ``a -> c`` and ``d -> b`` with the second cycle reversed).
    """
    cycles = [list(map(int, c)) for c in cycles]
    D = distance
    while len(cycles) > 1:
        cycles.sort(key=len, reverse=True)
        main = np.array(cycles[0])
        a, b = main, np.roll(main, -1)
        best = None
        for idx in range(1, len(cycles)):
            other = np.array(cycles[idx])
            c, d = other, np.roll(other, -1)
            base = D[a, b][:, None] + D[c, d][None, :]
            forward = D[a[:, None], d[None, :]] + D[c[None, :], b[:, None]] - base
            options = [(forward, False)]
            if symmetric:
                options.append((D[a[:, None], c[None, :]] + D[d[None, :], b[:, None]] - base, True))
            for delta, reverse in options:
                pos = np.unravel_index(int(np.argmin(delta)), delta.shape)
                if best is None or delta[pos] < best[0] - 1e-12:
                    best = (float(delta[pos]), idx, int(pos[0]), int(pos[1]), reverse)
        _, idx, p, q, reverse = best
        other = cycles[idx]
        # the other cycle entered at d (= other[q+1]) and left at c (= other[q])
        segment = other[q + 1:] + other[:q + 1]
        if reverse:
            segment = segment[::-1]  # enters at c, leaves at d
        merged = list(main[:p + 1]) + segment + list(main[p + 1:])
        cycles = [merged] + [cyc for t, cyc in enumerate(cycles) if t not in (0, idx)]
    return np.array(cycles[0], dtype=np.int64)


@dataclass
class TspModel(MilpModel):
    """The TSP degree model plus what the subtour-elimination loop needs.

    ``pairs`` is the ``(m, 2)`` array of the cities each variable joins (edges ``i < j`` when
    symmetric, arcs ``i -> j`` otherwise); cuts go into the ``ConstraintList`` ``model.subtour``.
    """

    pairs: np.ndarray = None
    symmetric: bool = True
    distance: np.ndarray = None

    def chosen(self) -> np.ndarray:
        """Return the pairs whose variable is 1 in the loaded solution."""
        return self.pairs[_values(self.model.x, len(self.pairs)) > 0.5]

    def cycles(self) -> list[list[int]]:
        """Return the cycles (city sequences) of the loaded integer solution."""
        n = self.distance.shape[0]
        succ = [[] for _ in range(n)]
        for i, j in self.chosen():
            succ[int(i)].append(int(j))
            if self.symmetric:
                succ[int(j)].append(int(i))
        seen = np.zeros(n, dtype=bool)
        cycles = []
        for s in range(n):
            if seen[s]:
                continue
            cycle, prev, cur = [s], -1, s
            seen[s] = True
            while True:
                nxt = [v for v in succ[cur] if v != prev] or succ[cur]
                if not nxt:
                    break
                prev, cur = cur, nxt[0]
                if cur == s or seen[cur]:
                    break
                seen[cur] = True
                cycle.append(cur)
            cycles.append(cycle)
        return cycles

    def add_subtour_cut(self, cities) -> None:
        """Add ``sum of the variables inside S <= |S| - 1`` for the smaller of ``S`` and its complement."""
        n = self.distance.shape[0]
        inside = np.zeros(n, dtype=bool)
        inside[np.asarray(cities, dtype=np.int64)] = True
        if inside.sum() > n // 2:
            inside = ~inside
        idx = np.flatnonzero(inside[self.pairs[:, 0]] & inside[self.pairs[:, 1]])
        if idx.size:
            self.model.subtour.add(_sum(self.model.x, idx) <= int(inside.sum()) - 1)


def tsp_model(problem: TravelingSalesman) -> TspModel:
    """Return the TSP degree model (edges when symmetric, arcs otherwise) with a nearest-neighbour start."""
    D = problem.distance
    n = D.shape[0]
    symmetric = problem.symmetric
    if symmetric:
        I, J = np.triu_indices(n, 1)
    else:
        I, J = np.nonzero(~np.eye(n, dtype=bool))
    if I.shape[0] > MAX_TSP_VARIABLES:
        raise ProblemTooLargeError("TSP model (edge variables)", int(I.shape[0]), MAX_TSP_VARIABLES)
    pairs = np.stack([I, J], axis=1).astype(np.int64)
    model = pyo.ConcreteModel(name=problem.name)
    model.x = pyo.Var(range(len(pairs)), domain=pyo.Binary)
    model.length = pyo.Objective(expr=_sum(model.x, range(len(pairs)), D[I, J]), sense=pyo.minimize)
    if symmetric:
        touching = [np.flatnonzero((I == v) | (J == v)) for v in range(n)]
        model.degree = pyo.Constraint(range(n), rule=lambda mdl, v: _sum(mdl.x, touching[v]) == 2)
    else:
        model.out_degree = pyo.Constraint(range(n), rule=lambda mdl, v: _sum(mdl.x, np.flatnonzero(I == v)) == 1)
        model.in_degree = pyo.Constraint(range(n), rule=lambda mdl, v: _sum(mdl.x, np.flatnonzero(J == v)) == 1)
    model.subtour = pyo.ConstraintList()
    position = {(int(i), int(j)): t for t, (i, j) in enumerate(pairs)}

    def start(tour):
        tour = np.asarray(tour, dtype=np.int64)
        on = np.zeros(len(pairs))
        for i, j in zip(tour, np.roll(tour, -1)):
            key = (min(i, j), max(i, j)) if symmetric else (i, j)
            on[position[(int(key[0]), int(key[1]))]] = 1.0
        _set_bits(model.x, on)

    tsp = TspModel(model, read=lambda: None, start=start, initial=nearest_neighbour_tour(D),
                   formulation=f"TSP: {'edge' if symmetric else 'arc'} degree model + DFJ subtour cuts",
                   pairs=pairs, symmetric=symmetric, distance=D)
    tsp.read = lambda: _tour_of(tsp)
    return tsp


def _tour_of(tsp: TspModel):
    cycles = tsp.cycles()
    return np.array(cycles[0], dtype=np.int64) if len(cycles) == 1 else None


# --- generalized assignment and set covering ------------------------------------------------


def gap_model(problem: GeneralizedAssignment) -> MilpModel:
    """Return the GAP model (assignment rows ``= 1``, capacity rows ``<= c``) with the regret-greedy start."""
    from cutslack.solvers.classical.heuristics.gap import greedy_assignment

    m, n = problem.m, problem.n
    P, W = problem.profits, problem.weights
    model = pyo.ConcreteModel(name=problem.name)
    model.x = pyo.Var(range(m), range(n), domain=pyo.Binary)
    model.objective = pyo.Objective(
        expr=pyo.quicksum(float(P[i, j]) * model.x[i, j] for i in range(m) for j in range(n) if P[i, j]),
        sense=pyo.maximize if problem.sense == "max" else pyo.minimize)
    model.assign = pyo.Constraint(range(n), rule=lambda mdl, j: pyo.quicksum(mdl.x[i, j] for i in range(m)) == 1)

    def capacity(mdl, i):
        nz = np.flatnonzero(W[i])
        if nz.size == 0:
            return pyo.Constraint.Skip
        return pyo.quicksum(float(W[i, j]) * mdl.x[i, int(j)] for j in nz) <= float(problem.capacities[i])

    model.capacity = pyo.Constraint(range(m), rule=capacity)

    def read():
        X = np.array([[model.x[i, j].value or 0.0 for j in range(n)] for i in range(m)])
        return np.where((X > 0.5).sum(axis=0) == 1, np.argmax(X, axis=0), -1).astype(np.int64)

    def start(agents):
        agents = np.asarray(agents, dtype=np.int64)
        for i in range(m):
            for j in range(n):
                model.x[i, j].set_value(float(agents[j] == i))

    greedy = greedy_assignment(problem)
    return MilpModel(model, read=read, start=start, initial=greedy if problem.is_feasible(greedy) else None,
                     formulation="GAP: one binary per (agent, job)")


def set_cover_model(problem: SetCover) -> MilpModel:
    """Return the set-covering model ``min c'x s.t. A x >= 1`` with the greedy cover as start."""
    from cutslack.solvers.classical.heuristics.scp import improve_covers

    n = problem.n
    model = pyo.ConcreteModel(name=problem.name)
    model.x = pyo.Var(range(n), domain=pyo.Binary)
    model.cost = pyo.Objective(expr=_sum(model.x, range(n), problem.costs), sense=pyo.minimize)
    rows = list(_rows(problem.cover))
    model.cover = pyo.Constraint(range(len(rows)), rule=lambda mdl, r: _sum(mdl.x, rows[r][0]) >= 1)
    return MilpModel(model, read=lambda: _read_bits(model.x, n), start=lambda s: _set_bits(model.x, s),
                     initial=improve_covers(problem, np.zeros(n))[0].astype(np.int64),
                     formulation="set cover: one binary per column, one covering row per row")


# --- generic binary program ---------------------------------------------------------------


def _rows(A):
    """Yield ``(columns, values)`` of each row of a dense or sparse matrix (non-zeros only)."""
    A = sp.csr_matrix(A)
    for r in range(A.shape[0]):
        lo, hi = A.indptr[r], A.indptr[r + 1]
        yield A.indices[lo:hi], A.data[lo:hi]


def binary_program_model(program: BinaryProgram) -> MilpModel:
    """Return the MILP of a BinaryProgram: quadratic terms linearised by McCormick products."""
    n = program.n
    maximise = program.sense == "max"
    linear = program.c.copy()
    products = []
    if program.Q is not None:
        U = sp.coo_matrix(fold_upper(program.Q))
        for i, j, q in zip(U.row, U.col, U.data):
            if q == 0:
                continue
            if i == j:
                linear[i] += q
            else:
                products.append((int(i), int(j), float(q)))
    model = pyo.ConcreteModel(name="binary_program")
    model.x = pyo.Var(range(n), domain=pyo.Binary)
    model.w = pyo.Var(range(len(products)), bounds=(0.0, 1.0))
    model.objective = pyo.Objective(
        expr=_sum(model.x, range(n), linear) + _sum(model.w, range(len(products)), [q for _, _, q in products])
        + program.const, sense=pyo.maximize if maximise else pyo.minimize)
    model.mccormick = pyo.ConstraintList()
    for t, (i, j, q) in enumerate(products):
        # a term pushed up by the objective needs the upper McCormick side, pushed down the lower
        if (q > 0) == maximise:
            model.mccormick.add(model.w[t] <= model.x[i])
            model.mccormick.add(model.w[t] <= model.x[j])
        else:
            model.mccormick.add(model.w[t] >= model.x[i] + model.x[j] - 1)
    model.rows = pyo.ConstraintList()
    for (cols, vals), b in zip(_rows(program.A_le), program.b_le):
        if cols.size:
            model.rows.add(_sum(model.x, cols, vals) <= float(b))
    for (cols, vals), b in zip(_rows(program.A_eq), program.b_eq):
        if cols.size:
            model.rows.add(_sum(model.x, cols, vals) == float(b))
    for i, j in program.conflicts:
        model.rows.add(model.x[int(i)] + model.x[int(j)] <= 1)

    def start(bits):
        bits = np.asarray(bits).reshape(-1)
        _set_bits(model.x, bits)
        for t, (i, j, _) in enumerate(products):
            model.w[t].set_value(float(bits[i] * bits[j]))

    return MilpModel(model, read=lambda: _read_bits(model.x, n), start=start, initial=None,
                     formulation="binary program: McCormick products", info={"n_products": len(products)})


#: bytes Pyomo spends per variable and per constraint coefficient (measured: ~0.5-1 kB)
PYOMO_BYTES_PER_TERM = 1_000


def _model_terms(problem) -> int:
    """Return the variables plus constraint coefficients the model of ``problem`` will hold (an estimate)."""
    if isinstance(problem, Knapsack):
        return problem.n * (problem.m + 1)
    if isinstance(problem, MaximumIndependentSet):
        return 3 * problem.graph.number_of_nodes() + 3 * problem.graph.number_of_edges()
    if isinstance(problem, QuadraticAssignment):
        return 4 * problem.n ** 4 // 2 + 3 * problem.n ** 2
    if isinstance(problem, TravelingSalesman):
        return 4 * problem.n * problem.n
    if isinstance(problem, GeneralizedAssignment):
        return 3 * problem.m * problem.n
    if isinstance(problem, SetCover):
        return problem.n + int(problem.cover.nnz)
    n = getattr(problem, "n", 0)
    return 4 * n * n


def build_model(problem, *, cliques: bool = True) -> MilpModel:
    """Return the MILP model of a problem (Knapsack, MIS, QAP, TSP, GAP, set cover or BinaryProgram).

    Raises ProblemTooLargeError (from :func:`cutslack.config.check_memory`) when the estimated
    model would not fit the memory limit, before Pyomo allocates it."""
    terms = _model_terms(problem)
    check_memory("MILP model (Pyomo)", f"{terms} variables and coefficients", terms * PYOMO_BYTES_PER_TERM)
    if isinstance(problem, Knapsack):
        return knapsack_model(problem)
    if isinstance(problem, MaximumIndependentSet):
        return mis_model(problem, cliques=cliques)
    if isinstance(problem, QuadraticAssignment):
        return qap_model(problem)
    if isinstance(problem, TravelingSalesman):
        return tsp_model(problem)
    if isinstance(problem, GeneralizedAssignment):
        return gap_model(problem)
    if isinstance(problem, SetCover):
        return set_cover_model(problem)
    return binary_program_model(problem)
