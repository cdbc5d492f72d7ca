"""Quantum variants: Ising operators, a fast statevector simulator, QAOA / MA-QAOA / WS-QAOA,
VQE / CVaR-VQE, the qubit-compressing encodings PCE and QRAO, and adaptive graph shrinking.

:data:`SAMPLERS` maps sampler names to functions with the QUBO sampler signature
``sampler(qubo, *, num_reads=..., rng=None, time_limit=None, initial_states=None, backend=..., **options)
-> SampleSet``; it is built on first access.  Importing this subpackage does not import qiskit:
only :mod:`cutslack.quantum.circuits` (loaded when ``backend="aer"`` is asked for) and the
operator converters in :mod:`cutslack.quantum.ising` do, lazily.
"""

from __future__ import annotations

import importlib

__all__ = ["SAMPLERS", "SAMPLER_LOCATIONS"]

#: sampler name -> (module, function)
SAMPLER_LOCATIONS = {
    "qaoa": ("cutslack.quantum.qaoa", "qaoa_sampler"),
    "ma-qaoa": ("cutslack.quantum.qaoa", "ma_qaoa_sampler"),
    "ws-qaoa": ("cutslack.quantum.qaoa", "ws_qaoa_sampler"),
    "vqe": ("cutslack.quantum.vqe", "vqe_sampler"),
    "cvar-vqe": ("cutslack.quantum.vqe", "cvar_vqe_sampler"),
    "pce": ("cutslack.quantum.pce", "pce_sampler"),
    "qrao": ("cutslack.quantum.qrao", "qrao_sampler"),
    "shrink": ("cutslack.quantum.shrink", "shrink_sampler"),
}


def __getattr__(name):
    if name == "SAMPLERS":
        samplers = {key: getattr(importlib.import_module(mod), fn) for key, (mod, fn) in SAMPLER_LOCATIONS.items()}
        globals()["SAMPLERS"] = samplers
        return samplers
    raise AttributeError(f"module 'cutslack.quantum' has no attribute {name!r}")
