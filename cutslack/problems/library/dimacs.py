"""DIMACS graph reader (second DIMACS challenge ASCII format: ``.clq``, ``.col``, Sloane's
independent-set graphs).

Lines: ``c`` comments, one ``p edge N M`` (or ``p col N M``) line, ``e u v`` edges with
1-based vertex ids, and optional ``n v w`` vertex weights.  The clique benchmarks are read
with ``complement=True``: a maximum clique of G is a maximum independent set of the
complement of G.

networkx has no DIMACS reader; this one checks what the format promises (one ``p`` line
before any edge, ids in 1..N, no self-loops, the declared edge count) and builds the
complement with one boolean adjacency matrix.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from cutslack.config import check_memory
from cutslack.errors import ParseError, ProblemTooLargeError
from cutslack.problems.library._text import build_instance, last_line, read_source, source_name, source_stem
from cutslack.problems.mis import GRAPH_BYTES_PER_EDGE, GRAPH_BYTES_PER_NODE, MaximumIndependentSet

__all__ = ["read_dimacs", "MAX_COMPLEMENT_NODES", "MAX_NODES"]

#: The complement is built from a dense N×N boolean matrix; larger graphs are refused.
MAX_COMPLEMENT_NODES = 30_000

#: Graphs declaring more vertices are refused before a node is allocated (networkx keeps
#: a dict per node: about 500 bytes each).
MAX_NODES = 20_000_000

_FORMATS = ("edge", "edges", "col")


def _parse_int(token: str, what: str, file: str, line: int) -> int:
    try:
        return int(token)
    except ValueError:
        raise ParseError(f"expected an integer {what}, got {token!r}", file=file, line=line) from None


def _vertex(token: str, n_nodes: int, file: str, line: int) -> int:
    v = _parse_int(token, "vertex id", file, line)
    if not 1 <= v <= n_nodes:
        raise ParseError(f"expected a vertex id in 1..{n_nodes}, got {v}", file=file, line=line)
    return v


def read_dimacs(path_or_text, complement: bool = False, *, weighted: bool = False) -> MaximumIndependentSet:
    """Return the :class:`~cutslack.problems.MaximumIndependentSet` of a DIMACS graph file.

    Parameters
    ----------
    path_or_text : str or os.PathLike
        A path, or the file's text (any string containing a newline).
    complement : bool
        Return the instance on the complement graph (use for clique benchmarks: the clique
        number of G is the independence number of its complement).
    weighted : bool
        Use the ``n v w`` vertex weights (vertices without a line weigh 1); otherwise the
        problem is unweighted and the weights are kept in ``meta["vertex_weights"]``.

    Returns
    -------
    MaximumIndependentSet
        Nodes labelled ``1..N`` in that order (isolated vertices included), ``name`` = file
        stem, ``meta`` with ``source``, ``complement`` and ``declared_edges``.

    Raises
    ------
    ParseError
        A missing or repeated ``p`` line, an edge before it, ids outside 1..N, self-loops,
        non-integer tokens, unknown line types, or a declared edge count that does not
        match the ``e`` lines (duplicate edges count as lines and are merged).
    ProblemTooLargeError
        ``complement=True`` with more than :data:`MAX_COMPLEMENT_NODES` vertices.

    Examples
    --------
    >>> path = read_dimacs("p edge 3 2\\ne 1 2\\ne 2 3\\n", complement=True)
    >>> sorted(path.graph.edges)
    [(1, 3)]
    """
    text, file = read_source(path_or_text)
    n_nodes = declared = None
    p_line = None
    edges: list[tuple[int, int]] = []
    weights: dict[int, float] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        words = raw.split()
        if not words or words[0] == "c":
            continue
        kind = words[0]
        if kind == "p":
            if p_line is not None:
                raise ParseError(f"expected one 'p' line, found a second (the first is line {p_line})",
                                 file=file, line=number)
            if len(words) != 4 or words[1] not in _FORMATS:
                raise ParseError("expected 'p edge N M'", file=file, line=number)
            n_nodes = _parse_int(words[2], "vertex count N", file, number)
            declared = _parse_int(words[3], "edge count M", file, number)
            if n_nodes < 0 or declared < 0:
                raise ParseError("expected non-negative N and M on the 'p' line", file=file, line=number)
            if n_nodes > MAX_NODES:
                raise ProblemTooLargeError("DIMACS graph (vertices)", n_nodes, MAX_NODES)
            p_line = number
        elif kind in ("e", "n"):
            if p_line is None:
                raise ParseError(f"expected the 'p edge N M' line before the first {kind!r} line",
                                 file=file, line=number)
            if len(words) != 3:
                raise ParseError(f"expected '{kind} " + ("u v'" if kind == "e" else "v weight'")
                                 + f", got {len(words)} tokens", file=file, line=number)
            if kind == "e":
                u, v = _vertex(words[1], n_nodes, file, number), _vertex(words[2], n_nodes, file, number)
                if u == v:
                    raise ParseError(f"self-loop at vertex {u}", file=file, line=number)
                edges.append((u, v))
            else:
                try:
                    weights[_vertex(words[1], n_nodes, file, number)] = weight = float(words[2])
                    if not np.isfinite(weight):
                        raise ValueError(weight)
                except ValueError:
                    raise ParseError(f"expected a numeric vertex weight, got {words[2]!r}",
                                     file=file, line=number) from None
        else:
            raise ParseError(f"expected a 'c', 'p', 'e' or 'n' line, got {kind!r}", file=file, line=number)
    if p_line is None:
        raise ParseError("expected a 'p edge N M' line, found none", file=file, line=last_line(text))
    if len(edges) != declared:
        raise ParseError(f"the 'p' line declares {declared} edges but the file has {len(edges)} 'e' lines",
                         file=file, line=p_line)
    if complement and n_nodes > MAX_COMPLEMENT_NODES:
        raise ProblemTooLargeError("DIMACS complement graph (vertices)", n_nodes, MAX_COMPLEMENT_NODES)
    n_graph_edges = max(0, n_nodes * (n_nodes - 1) // 2 - len(edges)) if complement else len(edges)
    # the networkx graph and the problem's edge array; the complement adds three n x n boolean matrices
    check_memory("DIMACS graph" + (" complement" if complement else ""), f"{n_nodes} vertices, {n_graph_edges} edges",
                 GRAPH_BYTES_PER_NODE * n_nodes + GRAPH_BYTES_PER_EDGE * n_graph_edges
                 + (3.0 * n_nodes * n_nodes if complement else 0.0))
    graph = nx.Graph()
    graph.add_nodes_from(range(1, n_nodes + 1))
    if complement:
        adjacent = np.eye(n_nodes, dtype=bool)
        if edges:
            E = np.asarray(edges, dtype=np.int64) - 1
            adjacent[E[:, 0], E[:, 1]] = adjacent[E[:, 1], E[:, 0]] = True
        rows, cols = np.nonzero(np.triu(~adjacent, 1))
        graph.add_edges_from(zip((rows + 1).tolist(), (cols + 1).tolist()))
    else:
        graph.add_edges_from(edges)
    vertex_weights = np.ones(n_nodes)
    for v, w in weights.items():
        vertex_weights[v - 1] = w
    meta = {"source": source_name(file), "complement": complement, "declared_edges": declared}
    if weights:
        meta["vertex_weights"] = vertex_weights
    return build_instance(MaximumIndependentSet, graph, vertex_weights if weighted else None,
                          name=source_stem(file, "dimacs"), meta=meta, file=file, line=p_line)
