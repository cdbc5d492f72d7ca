"""Registers the quantum methods with :func:`cutslack.solve` by importing their modules.

``qaoa``, ``ma-qaoa``, ``ws-qaoa`` (:mod:`cutslack.quantum.qaoa`), ``vqe`` and ``cvar-vqe``
(:mod:`cutslack.quantum.vqe`), ``pce`` (:mod:`cutslack.quantum.pce`), ``qrao``
(:mod:`cutslack.quantum.qrao`) and ``shrink`` (:mod:`cutslack.quantum.shrink`).  None of them imports qiskit at import time.
"""

from __future__ import annotations

import importlib

__all__ = ["QUANTUM_METHOD_MODULES"]

QUANTUM_METHOD_MODULES = ("cutslack.quantum.qaoa", "cutslack.quantum.vqe", "cutslack.quantum.pce",
                          "cutslack.quantum.qrao", "cutslack.quantum.shrink")

for _module in QUANTUM_METHOD_MODULES:
    importlib.import_module(_module)
