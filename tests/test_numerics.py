"""Numerical robustness and safe loading: coefficient ranges of 1e9 in formulations and
samplers keep a known optimum and overflow nothing; the statevector stays normalised to
1e-10 over p = 10 QAOA layers; no module unpickles a user path."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import cutslack
from cutslack.binary import QUBO
from cutslack.problems import Knapsack
from cutslack.solvers.qubo.formulations import penalty_qubo, unbalanced_qubo
from cutslack.solvers.qubo.samplers import anneal_sampler, exhaustive_sampler
from cutslack.testing import brute_force

PACKAGE = Path(cutslack.__file__).resolve().parent


def _wide_knapsack(seed: int, weight_range: float = 9) -> Knapsack:
    """A knapsack whose profits span nine orders of magnitude (1 .. 1e9), and weights ``weight_range``."""
    rng = np.random.default_rng(seed)
    profits = np.round(10.0 ** rng.uniform(0, 9, size=8))
    weights = np.round(10.0 ** rng.uniform(0, weight_range, size=8))
    return Knapsack(profits, weights[None, :], [float(np.round(weights.sum() / 2))])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_penalty_formulation_keeps_the_optimum_over_a_1e9_range(seed):
    problem = _wide_knapsack(seed, weight_range=2)  # small weights: few slack bits, so exhaustive search fits
    _, optimum = brute_force(problem)
    program = problem.to_binary()
    qubo, inverse = penalty_qubo(program)
    assert qubo.n <= 20
    assert np.all(np.isfinite(qubo.symmetric())) and np.all(np.isfinite(qubo.linear))
    samples = exhaustive_sampler(qubo)
    best = program.decode_bits(inverse.original_bits(samples.X)[0])
    assert problem.is_feasible(best) and problem.evaluate(best) == pytest.approx(optimum, rel=1e-12)


def test_exact_methods_keep_the_optimum_over_a_1e9_range():
    problem = _wide_knapsack(3)
    _, optimum = brute_force(problem)
    with pytest.raises(cutslack.ProblemTooLargeError):  # a 1e9 capacity: the DP table is refused, not attempted
        cutslack.solve(problem, method="dp")
    for method in ("milp", "lagrangian"):
        res = cutslack.solve(problem, method=method, rng=0, time_limit=30)
        if method == "lagrangian":
            assert res.feasible  # a heuristic: feasible, no overflow; exactness is MILP's and DP's promise
            assert np.isfinite(res.objective)
        else:
            assert res.feasible and res.objective == pytest.approx(optimum, rel=1e-12), (method, res.summary())


def test_unbalanced_formulation_and_annealing_overflow_nothing():
    problem = _wide_knapsack(4)
    qubo, _ = unbalanced_qubo(problem.to_binary())
    with np.errstate(over="raise", invalid="raise"):
        samples = anneal_sampler(qubo, num_reads=8, num_sweeps=200, rng=0)
    assert np.all(np.isfinite(samples.energies))
    assert np.allclose(samples.energies, qubo.energy(samples.X), rtol=1e-12)


def test_qubo_with_couplings_from_1_to_1e9_keeps_its_optimum():
    rng = np.random.default_rng(5)
    n = 14
    Q = np.triu(rng.choice([-1, 1], size=(n, n)) * 10.0 ** rng.uniform(0, 9, size=(n, n)))
    qubo = QUBO(Q)
    exact = exhaustive_sampler(qubo)
    X = ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1).astype(np.uint8)
    assert exact.energies[0] == pytest.approx(qubo.energy(X).min(), rel=1e-12)
    res = cutslack.solve(qubo, method="tabu", rng=0, num_reads=8)
    assert qubo.energy(res.samples.best) == pytest.approx(exact.energies[0], rel=1e-9)


def test_statevector_stays_normalised_over_ten_layers():
    from cutslack.quantum.statevector import StatevectorSimulator

    rng = np.random.default_rng(0)
    n = 12
    qubo = QUBO(np.triu(rng.normal(size=(n, n)) * 10.0 ** rng.uniform(-3, 3, size=(n, n))))
    sim = StatevectorSimulator(qubo)
    psi = sim.qaoa_state(rng.uniform(0, 2 * np.pi, size=10), rng.uniform(0, np.pi, size=10))
    norm = float(np.sum(np.abs(np.asarray(psi)) ** 2))
    assert abs(norm - 1.0) < 1e-10


_UNSAFE = [
    (re.compile(r"\bimport pickle\b|\bfrom pickle\b|\bpickle\.loads?\("), "pickle"),
    (re.compile(r"\bcloudpickle\b|\bdill\b|\bjoblib\.load\("), "a pickling loader"),
    (re.compile(r"torch\.load\((?![^)]*weights_only\s*=\s*True)"), "torch.load without weights_only=True"),
    (re.compile(r"allow_pickle\s*=\s*True"), "np.load(allow_pickle=True)"),
    (re.compile(r"\byaml\.load\((?![^)]*SafeLoader)"), "yaml.load without SafeLoader"),
]


def test_no_module_unpickles_a_user_path():
    hits = []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        for pattern, what in _UNSAFE:
            for match in pattern.finditer(text):
                hits.append(f"{path.relative_to(PACKAGE)}:{text[:match.start()].count(chr(10)) + 1}: {what}")
    assert not hits, "\n".join(hits)
