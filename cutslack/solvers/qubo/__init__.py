"""QUBO formulations (slack-bit penalty, unbalanced penalization) and QUBO samplers.

Formulations map a :class:`~cutslack.binary.BinaryProgram` to ``(QUBO, FormulationInverse)``;
samplers take a :class:`~cutslack.binary.QUBO` and return a :class:`~cutslack.result.SampleSet`
over its variables.  The Lagrangian formulation lives in :mod:`cutslack.solvers.qubo.lagrangian`.
"""

from cutslack.solvers.qubo.formulations import FormulationInverse, penalty_qubo, unbalanced_qubo
from cutslack.solvers.qubo.samplers import (SAMPLERS, anneal_sampler, exhaustive_sampler, resolve_sampler,
                                            sample_qubo, sampler_names, tabu_sampler, tempering_sampler)

__all__ = ["FormulationInverse", "penalty_qubo", "unbalanced_qubo", "SAMPLERS", "sample_qubo", "sampler_names",
           "resolve_sampler",
           "exhaustive_sampler", "anneal_sampler", "tempering_sampler", "tabu_sampler"]
