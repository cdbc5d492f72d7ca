"""Quantum variants: Ising operators, a fast statevector simulator, QAOA / MA-QAOA / WS-QAOA,
VQE / CVaR-VQE, PCE and QRAO qubit compression, and adaptive graph shrinking.

Importing this subpackage does not import qiskit: only :mod:`cutslack.quantum.circuits`
(loaded when ``backend="aer"`` is asked for) and the operator converters in
:mod:`cutslack.quantum.ising` do, lazily.
"""

from __future__ import annotations

__all__: list[str] = []
