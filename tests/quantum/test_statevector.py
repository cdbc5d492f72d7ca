"""The fast statevector simulator: diagonal, kernels, memory refusal, and equality with Qiskit Aer."""

from __future__ import annotations

import numpy as np
import pytest

from cutslack.errors import ProblemTooLargeError
from cutslack.gpu.backend import cupy_available
from cutslack.quantum import statevector as sv
from cutslack.quantum.statevector import StatevectorSimulator, check_statevector_size

from .conftest import all_bits


@pytest.mark.parametrize("fixture", ["dense_qubo", "sparse_qubo"])
def test_diagonal_plus_offset_is_the_qubo_energy(fixture, request):
    qubo = request.getfixturevalue(fixture)
    sim = StatevectorSimulator(qubo)
    assert np.allclose(sim.diagonal + sim.offset, qubo.energy(all_bits(qubo.n)), atol=1e-12)


def test_qaoa_state_is_normalised_and_zero_angles_give_the_uniform_mean(dense_qubo):
    sim = StatevectorSimulator(dense_qubo)
    psi = sim.qaoa_state([0.0, 0.0], [0.0, 0.0])
    assert sim.expectation(psi) == pytest.approx(dense_qubo.energy(all_bits(6)).mean(), abs=1e-12)
    psi = sim.qaoa_state([0.4, -0.7], [0.3, 0.9])
    assert np.linalg.norm(psi) == pytest.approx(1.0, abs=1e-12)


def test_cx_and_gates_match_dense_matrices():
    rng = np.random.default_rng(3)

    psi = rng.normal(size=8) + 1j * rng.normal(size=8)
    ref = psi.copy()
    sv.apply_cx(psi, 0, 2)
    # CX(control 0, target 2) swaps amplitudes k and k ^ 4 when bit 0 of k is set
    perm = np.array([k ^ 4 if k & 1 else k for k in range(8)])
    assert np.allclose(psi, ref[perm])
    U = sv.ry_matrix(0.7) @ sv.rz_matrix(-0.3)
    sv.apply_single_qubit_gates(psi, [1], U[None])
    full = np.kron(np.eye(2), np.kron(U, np.eye(2)))  # qubit 1 in the middle (little-endian)
    assert np.allclose(psi, full @ ref[perm])


def test_sampling_is_seeded_and_follows_the_probabilities(dense_qubo):
    sim = StatevectorSimulator(dense_qubo)
    psi = sim.qaoa_state([0.5], [0.4])
    a, b = sim.sample(psi, 4000, rng=5), sim.sample(psi, 4000, rng=5)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.counts, b.counts)
    freq = np.zeros(64)
    from cutslack.quantum.ising import indices_from_bits

    freq[indices_from_bits(a.X)] = a.counts / 4000
    assert np.abs(freq - sv.probabilities(psi)).max() < 0.03
    assert np.allclose(a.energies, dense_qubo.energy(a.X))


def test_too_many_qubits_are_refused_before_allocation():
    with pytest.raises(ProblemTooLargeError, match=r"2\^38 amplitudes.*(exceeds the limit|over the limit)"):
        check_statevector_size(38)
    with pytest.raises(ProblemTooLargeError, match="41 qubits"):
        check_statevector_size(41)
    assert check_statevector_size(10) == sv.BYTES_PER_AMPLITUDE * 1024


@pytest.mark.quantum
@pytest.mark.parametrize("variant", ["standard", "multi_angle", "warm_start"])
@pytest.mark.parametrize("fixture", ["dense_qubo", "sparse_qubo"])
def test_qaoa_expectation_equals_qiskit_aer(variant, fixture, request):
    from cutslack.quantum.circuits import AerEvaluator, qaoa_circuit
    from cutslack.quantum.ising import qubo_to_pauli

    qubo = request.getfixturevalue(fixture)
    rng = np.random.default_rng(2)
    p = 2
    thetas = rng.uniform(0.3, 2.8, qubo.n) if variant == "warm_start" else None
    circ, params = qaoa_circuit(qubo, p, multi_angle=variant == "multi_angle", thetas=thetas)
    aer = AerEvaluator(circ, params, qubo_to_pauli(qubo)[0], offset=qubo_to_pauli(qubo)[1])
    sim = StatevectorSimulator(qubo)
    x = rng.uniform(-1.5, 1.5, len(params))
    if variant == "multi_angle":
        gammas, betas = x[:p * sim.n_terms].reshape(p, -1), x[p * sim.n_terms:].reshape(p, -1)
    else:
        gammas, betas = x[:p], x[p:]
    ours = sim.expectation(sim.qaoa_state(gammas, betas, thetas=thetas))
    assert abs(ours - aer.expectation(x)) < 1e-8


@pytest.mark.gpu
@pytest.mark.skipif(not cupy_available(), reason="CuPy with a CUDA device is not available")
def test_cupy_twin_matches_numba(dense_qubo):
    import cupy as cp

    cpu, gpu = StatevectorSimulator(dense_qubo, backend="numpy"), StatevectorSimulator(dense_qubo, backend="cupy")
    assert np.allclose(cp.asnumpy(gpu.diagonal), cpu.diagonal)
    args = ([0.3, 0.8], [0.5, -0.2])
    assert gpu.expectation(gpu.qaoa_state(*args)) == pytest.approx(cpu.expectation(cpu.qaoa_state(*args)), abs=1e-10)
    psi_c, psi_g = cpu.product_state(), gpu.product_state()
    sv.apply_cx(psi_c, 1, 4)
    sv.apply_cx(psi_g, 1, 4)
    assert np.allclose(cp.asnumpy(psi_g), psi_c)


@pytest.mark.parametrize("warm", [True, False], ids=["warm-start", "x-mixer"])
@pytest.mark.parametrize("n", [5, 16])
def test_blocked_mixer_layer_and_phase_match_the_plain_kernels(n, warm):
    rng = np.random.default_rng(n)
    from cutslack.binary import QUBO

    sim = StatevectorSimulator(QUBO(rng.normal(size=(n, n))))
    phase = sv.ising_phase(sim.h, sim.rows, sim.cols, sim.J, n, 0.37)
    assert np.allclose(phase, np.exp(-0.37j * sim.diagonal), atol=1e-12)
    psi = rng.normal(size=1 << n) + 1j * rng.normal(size=1 << n)
    ref = psi * phase
    mats = sv.x_mixer_matrices(rng.uniform(-1, 1, n), n, thetas=rng.uniform(0, 3, n) if warm else None)
    sv.apply_single_qubit_gates(ref, np.arange(n), mats)
    sv.apply_mixer_layer(psi, mats, phase)
    assert np.allclose(psi, ref, atol=1e-12)


@pytest.mark.parametrize("block", [None, 6], ids=["default-blocks", "small-blocks"])
@pytest.mark.parametrize("multi_angle", [False, True], ids=["standard", "multi-angle"])
@pytest.mark.parametrize("n", [3, 7, 16])
def test_split_state_qaoa_matches_the_complex_kernels(n, multi_angle, block, monkeypatch):
    # thetas = pi/2 make the warm-start mixer RY(pi/2) RZ(-2b) RY(-pi/2) = exp(+i b X) and the start |+>^n,
    # so the general complex path at -betas computes the state of the split real/imaginary X-mixer path
    from cutslack.binary import QUBO

    if block is not None:
        monkeypatch.setattr(sv, "BLOCK_QUBITS", block)
    rng = np.random.default_rng(n)
    sim = StatevectorSimulator(QUBO(rng.normal(size=(n, n))))
    p = 2
    gammas = rng.uniform(-1, 1, (p, sim.n_terms) if multi_angle else p)
    betas = rng.uniform(-1, 1, (p, n) if multi_angle else p)
    fast = sim.qaoa_state(gammas, betas)
    plain = sim.qaoa_state(gammas, -betas, thetas=np.full(n, np.pi / 2))
    assert np.abs(fast - plain).max() < 1e-12
    assert sim.expectation(fast) == pytest.approx(sim.expectation(plain), abs=1e-10)
    again = sim.qaoa_state(gammas, betas)  # the work buffers are reused, the returned state is not
    assert np.array_equal(again, fast) and again is not fast


@pytest.mark.parametrize("n, block", [(20, 14), (24, 14), (26, 14), (34, 14), (14, 6)])
def test_high_qubit_groups_cover_every_high_qubit_once_with_long_runs(n, block):
    groups = sv._high_qubit_groups(n, block)
    assert [q for lo, hi, _ in groups for q in range(lo, hi)] == list(range(block, n))
    for lo, hi, chunk_bits in groups:
        assert sv.CHUNK_BITS <= chunk_bits <= lo and (hi - lo) + chunk_bits <= sv.TILE_QUBITS
    assert len(groups) == (n > block) + (n > block + sv.TILE_QUBITS - sv.CHUNK_BITS)


# --- the in-place kernels against a plain NumPy reference (the previous algorithm, written out densely) ---

def reference_qaoa_state(qubo, gammas, betas):
    """Return the X-mixer QAOA state computed densely: energies of every bit vector, then RX qubit by qubit."""
    n = qubo.n
    energy = qubo.energy(all_bits(n))
    diag = energy - energy.mean()  # the Ising diagonal: the Ising constant is the mean energy
    psi = np.full(1 << n, 2.0 ** (-n / 2), dtype=complex)
    for gamma, beta in zip(np.atleast_1d(gammas), np.atleast_1d(betas)):
        psi = psi * np.exp(-1j * gamma * diag)
        c, s = np.cos(beta), np.sin(beta)
        for q in range(n):
            v = psi.reshape(1 << (n - q - 1), 2, 1 << q)
            a, b = v[:, 0, :].copy(), v[:, 1, :].copy()
            v[:, 0, :] = c * a - 1j * s * b
            v[:, 1, :] = c * b - 1j * s * a
    return psi


def maxcut(n: int, seed: int):
    from cutslack.binary import QUBO

    rng = np.random.default_rng(seed)
    Q = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            if rng.random() < 0.4:
                Q[i, i] -= 1
                Q[j, j] -= 1
                Q[i, j] += 2
    return QUBO(Q)


def dense(n: int, seed: int):
    from cutslack.binary import QUBO

    return QUBO(np.random.default_rng(seed).normal(size=(n, n)), 0.3)


def integer_dense(n: int, seed: int):
    """Integer coefficients up to 3000: an int32 diagonal whose phase needs two tables."""
    from cutslack.binary import QUBO

    return QUBO(np.random.default_rng(seed).integers(-3000, 3000, size=(n, n)).astype(float))


SMALL_TILES = {"BLOCK_QUBITS": 4, "TILE_QUBITS": 7, "CHUNK_BITS": 3}  # n = 12: the low pass and two tile passes


@pytest.mark.parametrize("blocks", ["default", "small"])
@pytest.mark.parametrize("p", [1, 2, 3])
@pytest.mark.parametrize("build, n", [(maxcut, 12), (maxcut, 5), (dense, 12), (dense, 9), (integer_dense, 10)])
def test_in_place_qaoa_matches_the_numpy_reference(build, n, p, blocks, monkeypatch):
    if blocks == "small":
        for name, value in SMALL_TILES.items():
            monkeypatch.setattr(sv, name, value)
    qubo = build(n, 7 + n)
    rng = np.random.default_rng(p)
    sim = StatevectorSimulator(qubo)
    gammas = rng.uniform(-1, 1, p) / qubo.max_abs_coefficient()
    betas = rng.uniform(-1, 1, p)
    ref = reference_qaoa_state(qubo, gammas, betas)
    psi = sim.qaoa_state(gammas, betas)
    assert psi.dtype == np.complex128
    assert np.abs(psi - ref).max() < 1e-12
    energy = qubo.energy(all_bits(n))
    assert sim.expectation(psi) == pytest.approx(float(np.abs(ref) ** 2 @ energy), abs=1e-12 * np.abs(energy).max())


@pytest.mark.parametrize("build, n", [(maxcut, 12), (dense, 11), (integer_dense, 10)])
def test_complex64_is_within_its_stated_error(build, n, monkeypatch):
    for name, value in SMALL_TILES.items():
        monkeypatch.setattr(sv, name, value)
    qubo = build(n, 3)
    rng = np.random.default_rng(n)
    gammas, betas = rng.uniform(-1, 1, 3) / qubo.max_abs_coefficient(), rng.uniform(-1, 1, 3)
    double, single = StatevectorSimulator(qubo), StatevectorSimulator(qubo, dtype=np.complex64)
    a, b = double.qaoa_state(gammas, betas), single.qaoa_state(gammas, betas)
    assert b.dtype == np.complex64
    assert np.abs(a - b).max() < sv.COMPLEX64_AMPLITUDE_ATOL
    scale = np.abs(double.diagonal).max()
    assert abs(double.expectation(a) - single.expectation(b)) < sv.COMPLEX64_EXPECTATION_RTOL * scale
    assert np.abs(a - b).max() > 0  # it is single precision


@pytest.mark.parametrize("build, factor, dtype, scale", [
    (maxcut, 1.0, np.int8, 2.0),  # MaxCut: Ising terms are halves
    (integer_dense, 0.01, np.int16, 4.0),  # integers up to 30: quarters, sums up to a few thousand
    (integer_dense, 1.0, np.int32, 4.0),
    (integer_dense, 2.0 ** 40, np.float32, 1.0),  # too large for int32, yet every entry a float32
    (dense, 1.0, np.float64, 1.0),  # irrational-looking coefficients: nothing smaller is exact
])
def test_the_diagonal_takes_the_smallest_exact_dtype(build, factor, dtype, scale):
    from cutslack.binary import QUBO

    Q = build(10, 5).to_dense()
    qubo = QUBO(np.round(Q * factor) if factor < 1 else Q * factor)
    sim = StatevectorSimulator(qubo)
    assert sim.cost_diagonal.dtype == dtype and sim.cost_scale == scale
    exact = sv.ising_diagonal(sim.h, sim.rows, sim.cols, sim.J, qubo.n)
    assert np.array_equal(sim.cost_diagonal / sim.cost_scale, exact)  # bit for bit
    assert np.array_equal(sim.diagonal, exact) and sim.diagonal.dtype == np.float64
    energies = qubo.energy(all_bits(qubo.n))
    assert np.allclose(sim.energies(np.arange(1 << qubo.n)), energies, rtol=1e-12, atol=1e-9)


def test_a_layer_makes_no_full_size_temporary():
    import tracemalloc

    n = 18
    sim = StatevectorSimulator(maxcut(n, 1))
    out = np.empty(1 << n, dtype=np.complex128)
    sim.qaoa_state([0.2, 0.1], [0.3, -0.4], out=out)  # the scratch and the JIT warm up here
    tracemalloc.start()
    psi = sim.qaoa_state([0.2, 0.1], [0.3, -0.4], out=out)
    sim.expectation(psi)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert psi is out
    assert peak < out.nbytes // 16  # tables and angles only: the previous version made 3.5 state-sized arrays
    with pytest.raises(ValueError, match="out must be"):
        sim.qaoa_state([0.2], [0.3], out=np.empty(1 << n, dtype=np.complex64))
