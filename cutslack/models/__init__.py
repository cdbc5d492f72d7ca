"""Your own model in and out: MPS/LP files (through HiGHS), Pyomo, dimod CQM, Qiskit QuadraticProgram.

Readers return a :class:`~cutslack.models.canonical.ModelProgram` (a
:class:`~cutslack.binary.BinaryProgram` that every ``cutslack.solve`` method taking one accepts);
:func:`model_solution` maps its bits back to the model's own variables by name.  Writers
export a program (``to_cqm``, ``to_quadratic_program``) or any QUBO cutslack builds
(:func:`qubo_of`, then ``QUBO.to_bqm``, ``QUBO.to_quadratic_program`` or
:func:`write_qubo_file`).

This package sits on the floor of :mod:`cutslack.binary`: it imports only errors, result and
binary (dimod, qiskit-optimization and Pyomo lazily, inside the functions that need them).
:func:`qubo_of` is the one function that reaches up, lazily, to the formulations.
"""

from __future__ import annotations

from cutslack.models.canonical import ModelMap, ModelProgram, bounded_expansion, model_solution, program_from_rows
from cutslack.models.exchange import from_cqm, from_pyomo, from_quadratic_program, to_cqm, to_quadratic_program
from cutslack.models.files import MODEL_SUFFIXES, is_model_file, read_model, write_model
from cutslack.models.qubo_files import QUBO_ENCODINGS, qubo_of, read_qubo_file, write_qubo_file

__all__ = ["read_model", "write_model", "model_solution", "ModelProgram", "ModelMap", "program_from_rows",
           "bounded_expansion",
           "from_pyomo", "from_cqm", "to_cqm", "from_quadratic_program", "to_quadratic_program",
           "qubo_of", "write_qubo_file", "read_qubo_file", "QUBO_ENCODINGS", "MODEL_SUFFIXES", "is_model_file"]
