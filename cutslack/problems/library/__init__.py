"""Readers for benchmark libraries and the registry of known optima.

* TSPLIB95 — :func:`read_tsplib`, :func:`read_tsplib_tour`
* QAPLIB — :func:`read_qaplib`, :func:`read_qaplib_solution`
* OR-Library multi-dimensional knapsack — :func:`read_mknap1` (also ``mknapcb``),
  :func:`read_mknap2` (SAC-94)
* OR-Library generalized assignment and set covering — :func:`read_orlib_gap`, :func:`read_orlib_scp`
* DIMACS graphs — :func:`read_dimacs` (``complement=True`` for clique benchmarks)
* Two-stage robust knapsack (Arslan & Detienne) — :func:`read_robust_knapsack`
* Known optima — :func:`manifest`, :func:`load_instance` (the benchmark library beside the
  repository) and :func:`load_shipped` (the small instances shipped in ``data/``)

Every reader takes a path or the file's text and raises
:class:`~cutslack.errors.ParseError` with the file, the line and what was expected.
"""

from cutslack.problems.library.dimacs import read_dimacs
from cutslack.problems.library.orlib import read_mknap1, read_mknap2
from cutslack.problems.library.orlib_gap_scp import read_orlib_gap, read_orlib_scp
from cutslack.problems.library.qaplib import invert_permutation, read_qaplib, read_qaplib_solution
from cutslack.problems.library.registry import (PUBLISHED, SHIPPED, attach_known_optimum, default_benchmark_dir, load_instance,
                                                load_shipped, manifest, manifest_entries, shipped_names, shipped_path)
from cutslack.problems.library.robust_kp import read_branch_and_price_results, read_robust_knapsack
from cutslack.problems.library.tsplib import read_tsplib, read_tsplib_tour, tsplib_distances

__all__ = [
    "attach_known_optimum",
    "read_tsplib", "read_tsplib_tour", "tsplib_distances",
    "read_qaplib", "read_qaplib_solution", "invert_permutation",
    "read_mknap1", "read_mknap2", "read_orlib_gap", "read_orlib_scp",
    "read_dimacs",
    "read_robust_knapsack", "read_branch_and_price_results",
    "manifest", "manifest_entries", "load_instance", "load_shipped", "shipped_names", "shipped_path",
    "default_benchmark_dir", "SHIPPED", "PUBLISHED",
]
