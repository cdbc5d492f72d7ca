"""cutslack — constrained optimization: exact MILP and heuristics, slack-free Lagrangian
QUBO, quantum variants and learned surrogates, benchmarked side by side.

>>> import cutslack
>>> from cutslack.problems import random_knapsack
>>> p = random_knapsack(30, rng=7)
>>> res = cutslack.solve(p, method="dp")
>>> res.status.value, res.feasible
('optimal', True)

Importing cutslack imports no optional extra (qiskit, torch, cupy, dask) and no solver
module; subpackages load on first attribute access.
"""

from __future__ import annotations

import importlib

from cutslack.api import SOLVERS, available_methods, solve
from cutslack.binary import QUBO, BinaryProgram
from cutslack.errors import (BackendUnavailableError, CutslackError, InvalidInstanceError, ParseError,
                             ProblemTooLargeError, SolverError)
from cutslack.result import Result, SampleSet, Status

__version__ = "0.1.0"

__all__ = [
    "solve", "SOLVERS", "available_methods",
    "Result", "Status", "SampleSet", "BinaryProgram", "QUBO",
    "CutslackError", "InvalidInstanceError", "ParseError", "BackendUnavailableError",
    "ProblemTooLargeError", "SolverError",
    "problems", "solvers", "gpu",
]

_SUBPACKAGES = {"problems", "models", "solvers", "gpu", "quantum", "surrogates", "bench", "cli", "testing"}


def __getattr__(name):
    if name in _SUBPACKAGES:
        return importlib.import_module(f"cutslack.{name}")
    raise AttributeError(f"module 'cutslack' has no attribute {name!r}")
