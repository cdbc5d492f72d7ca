"""Maximum (weighted) independent set on a networkx graph.

    max w'x   s.t.  x_u + x_v <= 1 for every edge (u, v),   x in {0,1}^n

Native solutions are 0/1 indicator vectors over ``nodes`` (the graph's node order);
:meth:`MaximumIndependentSet.nodes_of` turns one into the set of chosen node labels.
Generators: :func:`random_mis` (G(n, p)), :func:`random_regular_mis` and
:func:`random_unit_disk_mis`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from cutslack.binary import BinaryProgram, as_bit_matrix
from cutslack.config import check_memory
from cutslack.errors import InvalidInstanceError
from cutslack.problems.base import KnownOptimum, Problem, as_rng, check_array, check_count, check_number

__all__ = ["MaximumIndependentSet", "random_mis", "random_regular_mis", "random_unit_disk_mis"]


@dataclass(frozen=True, eq=False)
class MaximumIndependentSet(Problem):
    """Maximum (vertex-weighted) independent set.

    Parameters
    ----------
    graph : networkx.Graph
        Undirected, without self-loops.  Node labels may be anything hashable.
    weights : (n,) non-negative array, optional
        Vertex weights in ``graph.nodes`` order (default: all 1, the unweighted problem).

    Attributes
    ----------
    nodes : tuple of the node labels, in the order of the indicator vector.
    edges : (k, 2) int array of edges as positions in ``nodes``.
    """

    graph: nx.Graph
    weights: np.ndarray | None = None
    name: str = "mis"
    known_optimum: KnownOptimum | None = None
    meta: dict = field(default_factory=dict, repr=False)
    nodes: tuple = field(init=False, repr=False)
    edges: np.ndarray = field(init=False, repr=False)

    sense = "max"
    family = "mis"

    def __post_init__(self):
        G = self.graph
        if not isinstance(G, nx.Graph):
            raise InvalidInstanceError("graph", f"must be a networkx.Graph, got {type(G).__name__}")
        if G.is_directed():
            raise InvalidInstanceError("graph", "must be undirected")
        loops = list(nx.selfloop_edges(G))
        if loops:
            raise InvalidInstanceError("graph", f"has a self-loop at node {loops[0][0]!r}")
        nodes = tuple(G.nodes)
        index = {v: i for i, v in enumerate(nodes)}
        E = np.array([(index[u], index[v]) for u, v in G.edges], dtype=np.int64).reshape(-1, 2)
        E.sort(axis=1)
        E.setflags(write=False)
        n = len(nodes)
        w = np.ones(n) if self.weights is None else self.weights
        w = check_array(w, "weights", ndim=1, shape=(n,), nonneg=True)
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "nodes", nodes)
        object.__setattr__(self, "edges", E)

    @property
    def weighted(self) -> bool:
        return not np.all(self.weights == 1.0)

    @property
    def size(self) -> dict:
        return {"n": len(self.nodes), "edges": int(self.edges.shape[0])}

    def _bits(self, x):
        X, single = as_bit_matrix(x, len(self.nodes), field_name="solution")
        X = np.asarray(X, dtype=float)
        if np.any((X != 0) & (X != 1)):
            raise ValueError("solution: MIS solutions are 0/1 indicator vectors over the nodes")
        return X, single

    def evaluate(self, solution):
        """Return the total weight of the chosen vertices (per row for a batch)."""
        X, single = self._bits(solution)
        v = X @ self.weights
        return float(v[0]) if single else v

    def violation(self, solution):
        """Return ``max(x_u + x_v - 1, 0)`` per edge."""
        X, single = self._bits(solution)
        V = np.maximum(X[:, self.edges[:, 0]] + X[:, self.edges[:, 1]] - 1.0, 0.0)
        return V[0] if single else V

    def nodes_of(self, solution) -> set:
        """Return the set of node labels chosen by an indicator vector."""
        x = np.asarray(solution).reshape(-1)
        return {self.nodes[i] for i in np.flatnonzero(x)}

    def indicator(self, node_set) -> np.ndarray:
        """Return the indicator vector of a collection of node labels."""
        s = set(node_set)
        unknown = s - set(self.nodes)
        if unknown:
            raise ValueError(f"nodes not in the graph: {sorted(map(repr, unknown))[:5]}")
        return np.array([1 if v in s else 0 for v in self.nodes], dtype=np.int64)

    def to_binary(self) -> BinaryProgram:
        """Return ``max w'x`` with one conflict pair ``x_u x_v = 0`` per edge (decode is the identity)."""
        return BinaryProgram(c=self.weights, sense="max", conflicts=self.edges,
                             names=[f"x{i}" for i in range(len(self.nodes))], info={"family": "mis"})


#: bytes a generated instance takes per node and per edge: networkx's adjacency and attribute dicts
#: plus the edge array built by the constructor (tracemalloc on networkx 3 measured about 220 a node
#: and 160 + 115 at the peak an edge), rounded up
GRAPH_BYTES_PER_NODE, GRAPH_BYTES_PER_EDGE = 600.0, 450.0


def _check_graph_memory(what: str, n: int, edges: float) -> None:
    check_memory(f"{what} (networkx graph)", f"{n} nodes, about {edges:.3g} edges",
                 GRAPH_BYTES_PER_NODE * n + GRAPH_BYTES_PER_EDGE * edges)


def _weights(n: int, weighted, g) -> np.ndarray | None:
    if not weighted:
        return None
    return g.integers(1, 11, size=n).astype(float)


def random_mis(n: int, p: float, *, weighted: bool = False, rng=None) -> MaximumIndependentSet:
    """Return an MIS instance on an Erdős–Rényi G(n, p) graph (weights U{1..10} if ``weighted``)."""
    n = check_count(n, "n", 0)
    p = check_number(p, "p", low=0.0, high=1.0)
    _check_graph_memory("random_mis", n, p * n * (n - 1) / 2)
    g = as_rng(rng)
    G = nx.gnp_random_graph(n, p, seed=int(g.integers(2**31)))
    return MaximumIndependentSet(G, _weights(n, weighted, g), name=f"gnp-n{n}-p{p:g}")


def random_regular_mis(n: int, d: int, *, weighted: bool = False, rng=None) -> MaximumIndependentSet:
    """Return an MIS instance on a random d-regular graph (``n * d`` must be even)."""
    n, d = check_count(n, "n", 1), check_count(d, "d", 0)
    if d >= n or (n * d) % 2:
        raise InvalidInstanceError("d", f"a {d}-regular graph on {n} nodes needs d < n and n*d even")
    _check_graph_memory("random_regular_mis", n, n * d / 2)
    g = as_rng(rng)
    G = nx.random_regular_graph(d, n, seed=int(g.integers(2**31)))
    return MaximumIndependentSet(G, _weights(n, weighted, g), name=f"regular-n{n}-d{d}")


def random_unit_disk_mis(n: int, radius: float, *, weighted: bool = False, rng=None) -> MaximumIndependentSet:
    """Return an MIS instance on a unit-disk graph: n points uniform in the unit square,
    joined when closer than ``radius`` (the Rydberg-atom setting)."""
    n = check_count(n, "n", 0)
    radius = check_number(radius, "radius", low=0.0, low_open=True)
    _check_graph_memory("random_unit_disk_mis", n, min(1.0, np.pi * radius**2) * n * (n - 1) / 2)
    g = as_rng(rng)
    G = nx.random_geometric_graph(n, radius, seed=int(g.integers(2**31)))
    return MaximumIndependentSet(G, _weights(n, weighted, g), name=f"unitdisk-n{n}-r{radius:g}")
