"""Sparse QUBOs: CSR storage in ``QUBO``, the CSR sampler kernels against the dense ones, and
sparse QUBOs through ``cutslack.solve`` (samplers and the Lagrangian loop) without densifying."""

import numpy as np
import pytest
import scipy.sparse as sp

import cutslack
from cutslack import binary
from cutslack.binary import QUBO
from cutslack.errors import InvalidInstanceError, ProblemTooLargeError
from cutslack.problems import random_regular_mis
from cutslack.solvers.qubo import kernels, samplers
from cutslack.solvers.qubo.lagrangian import lagrangian_qubo
from cutslack.solvers.qubo.samplers import _couplings
from cutslack.solvers.qubo.samplers import (SPARSE_DENSITY, anneal_sampler, default_beta_range, tabu_sampler,
                                            tempering_sampler)


def integer_qubo(n, density, seed):
    """A QUBO with small integer coefficients (every field sum exact in float64 and float32)."""
    rng = np.random.default_rng(seed)
    Q = rng.integers(-5, 6, size=(n, n)) * (rng.random((n, n)) < density)
    return np.triu(Q).astype(float)


def mis_qubo(n, seed):
    bp = random_regular_mis(n, 3, rng=seed).to_binary()
    q, _ = lagrangian_qubo(bp, np.full(bp.n_conflicts, 2.0))
    return q


# --- the representation ---------------------------------------------------------------------------

def test_sparse_input_is_normalised_duplicates_summed_zeros_dropped():
    row = np.array([0, 0, 1, 2, 1, 0])
    col = np.array([1, 1, 0, 2, 2, 2])
    val = np.array([1.0, 2.0, 4.0, -3.0, 0.0, 0.0])  # (0,1) twice, (1,0) folds onto it, two explicit zeros
    q = QUBO(sp.coo_matrix((val, (row, col)), shape=(3, 3)))
    assert q.is_sparse and q.U.format == "csr"
    assert q.U.nnz == 2  # (0,1) = 1 + 2 + 4 and (2,2) = -3; the zeros are gone
    assert q.U[0, 1] == 7.0 and q.U[2, 2] == -3.0
    dense = QUBO(sp.coo_matrix((val, (row, col)), shape=(3, 3)).toarray())
    X = np.array([[1, 1, 1], [1, 1, 0], [0, 0, 1]])
    np.testing.assert_array_equal(q.energy(X), dense.energy(X))
    assert q.density == pytest.approx(1 / 3)


def test_non_square_sparse_input_is_refused_naming_the_field():
    with pytest.raises(InvalidInstanceError, match="Q"):
        QUBO(sp.csr_matrix((3, 4)))
    with pytest.raises(InvalidInstanceError, match="NaN"):
        QUBO(sp.csr_matrix(np.array([[np.nan, 0.0], [0.0, 1.0]])))


def test_sparse_energies_match_dense_in_chunks(monkeypatch):
    Q = integer_qubo(40, 0.2, 1)
    qs, qd = QUBO(sp.csr_matrix(Q), 1.5), QUBO(Q, 1.5)
    X = np.random.default_rng(2).integers(0, 2, size=(25, 40), dtype=np.uint8)
    monkeypatch.setattr(binary, "_SPARSE_CHUNK_BYTES", 3 * 8 * 40)  # three samples per chunk
    np.testing.assert_array_equal(qs.energy(X), qd.energy(X))
    assert qs.energy(X[3]) == qd.energy(X[3])
    np.testing.assert_array_equal(qs.symmetric_csr().toarray(), qd.symmetric())
    np.testing.assert_array_equal(qs.local_fields(X[0]), qd.local_fields(X[0]))


def test_default_beta_range_is_the_same_for_sparse_and_dense():
    Q = integer_qubo(50, 0.1, 3)
    Q[7, :] = 0.0  # a variable with no couplings at all
    Q[:, 7] = 0.0
    assert default_beta_range(QUBO(sp.csr_matrix(Q))) == pytest.approx(default_beta_range(QUBO(Q)))


# --- CSR kernels against the dense ones --------------------------------------------------------------

@pytest.mark.parametrize("sampler, options", [
    # anneal: below HOT_SWEEP_MIN_VARIABLES the CSR anneal keeps the branchy sweeps of the dense one
    (anneal_sampler, {"num_reads": 6, "num_sweeps": 200}),
    (anneal_sampler, {"num_reads": 3, "num_sweeps": 100, "dtype": np.float64, "beta_schedule": "linear"}),
    (tempering_sampler, {"num_reads": 2, "num_replicas": 4, "num_sweeps": 100}),
    (tabu_sampler, {"num_reads": 3, "num_iterations": 400}),
])
def test_csr_kernels_draw_the_same_samples_as_the_dense_ones(sampler, options):
    # the same moves with the same random draws: identical samples for the same seed
    Q = integer_qubo(60, 0.08, 4)
    dense = sampler(QUBO(Q), rng=11, layout="dense", **options)
    sparse = sampler(QUBO(sp.csr_matrix(Q)), rng=11, layout="sparse", **options)
    assert dense.info["layout"] == "dense" and sparse.info["layout"] == "sparse"
    np.testing.assert_array_equal(dense.X, sparse.X)
    np.testing.assert_array_equal(dense.energies, sparse.energies)


def _anneal_kernel_run(Q, layout, betas, **options):
    """Run the dense or CSR anneal kernel on the integer QUBO ``Q`` from fixed states and seeds; return ``X``."""
    C = _couplings(QUBO(Q), np.float32, layout)
    rng = np.random.default_rng(5)
    X = rng.integers(0, 2, size=(6, Q.shape[0]), dtype=np.uint8)
    states = rng.integers(0, 2**62, size=6, dtype=np.int64).astype(np.uint64)
    F = np.empty(X.shape, dtype=np.float32)
    C.kernel("anneal_reads")(*C.args, X, F, betas, states, C.h, init_fields=True, **options)
    return X, C


@pytest.mark.parametrize("hot", [0.0, kernels.HOT_FLIP_FRACTION])
@pytest.mark.parametrize("tabulated", [False, True])
def test_anneal_kernels_draw_the_same_samples_in_both_layouts(hot, tabulated):
    # dense and CSR kernels: the same moves with the same draws, branchy and branch-free (hot) sweeps alike
    Q = integer_qubo(60, 0.08, 4)
    betas = np.geomspace(0.02, 3.0, 200)
    runs = []
    for layout in ("dense", "sparse"):
        C = _couplings(QUBO(Q), np.float32, layout)
        options = {"hot_fraction": hot, "integer_range": int(C.max_field()) if tabulated else 0}
        runs.append(_anneal_kernel_run(Q, layout, betas, **options)[0])
    np.testing.assert_array_equal(runs[0], runs[1])


def test_tabulated_acceptance_makes_the_moves_of_the_expf_test():
    # the table of exp(-beta d) of an integer QUBO holds the same float32 values the expf test computes
    Q = integer_qubo(80, 0.05, 8)
    betas = np.geomspace(0.02, 3.0, 300)
    plain, C = _anneal_kernel_run(Q, "sparse", betas, hot_fraction=0.3)
    table, _ = _anneal_kernel_run(Q, "sparse", betas, hot_fraction=0.3, integer_range=int(C.max_field()))
    np.testing.assert_array_equal(plain, table)
    branchy, _ = _anneal_kernel_run(Q, "sparse", betas)
    assert not np.array_equal(plain, branchy)  # hot sweeps draw their own stream


def test_integer_range_only_for_integer_qubos():
    q_int = mis_qubo(200, 0)
    assert _couplings(q_int, np.float32, "sparse").integer_range() == 7  # |h| 1 plus three couplings of 2
    q_real = QUBO(sp.csr_matrix(integer_qubo(200, 0.02, 1) * 0.5 + np.diag(np.full(200, 0.25))))
    assert _couplings(q_real, np.float32, "sparse").integer_range() == 0


def test_sparse_anneal_is_deterministic_and_independent_of_chunking(monkeypatch):
    # hot sweeps are chosen from the previous sweep's flips, carried across kernel calls: a run split into
    # chunks (a callback forces them) makes the same moves as one call
    q = mis_qubo(1200, 2)
    assert q.n >= samplers.HOT_SWEEP_MIN_VARIABLES
    a = anneal_sampler(q, num_reads=4, num_sweeps=200, rng=7, layout="sparse")
    b = anneal_sampler(q, num_reads=4, num_sweeps=200, rng=7, layout="sparse")
    c = anneal_sampler(q, num_reads=4, num_sweeps=200, rng=7, layout="sparse", callback=lambda s: None)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.X, c.X)
    assert not np.array_equal(a.X, anneal_sampler(q, num_reads=4, num_sweeps=200, rng=8, layout="sparse").X)
    monkeypatch.setattr(samplers, "HOT_SWEEP_MIN_VARIABLES", q.n + 1)  # the branchy stream: other samples
    assert not np.array_equal(a.X, anneal_sampler(q, num_reads=4, num_sweeps=200, rng=7, layout="sparse").X)


def _unit_disk_mis(n, seed):
    # points in random order: RCM moves most variables, so a missed un-permutation would show
    from scipy.spatial import cKDTree

    points = np.random.default_rng(seed).random((n, 2))
    edges = cKDTree(points).query_pairs(np.sqrt(6.0 / (np.pi * n)), output_type="ndarray")
    U = sp.coo_matrix((np.full(len(edges), 2.0), (edges[:, 0], edges[:, 1])), shape=(n, n)) - sp.eye(n)
    return QUBO(U.tocsr())


def test_reordering_is_invisible_to_the_caller():
    q = _unit_disk_mis(400, 3)
    order = _couplings(q, np.float32, "sparse", reorder=True).order
    assert not np.array_equal(order, np.arange(q.n))
    start = np.random.default_rng(1).integers(0, 2, size=(3, q.n))
    ss = anneal_sampler(q, num_reads=3, num_sweeps=100, rng=4, initial_states=start, reorder=True)
    assert ss.info["reordered"]
    np.testing.assert_array_equal(ss.energies, q.energy(ss.X))
    # the same run by hand: the permuted QUBO from the permuted starts, un-permuted afterwards
    inverse = np.argsort(order)
    U = q.U.tocsr()[order][:, order]
    permuted = QUBO(sp.triu(U + sp.tril(U, -1).T).tocsr())
    by_hand = anneal_sampler(permuted, num_reads=3, num_sweeps=100, rng=4, initial_states=start[:, order])
    assert not by_hand.info["reordered"]
    np.testing.assert_array_equal(ss.X, by_hand.X[:, inverse])
    np.testing.assert_array_equal(ss.energies, by_hand.energies)


def test_reordered_warm_start_at_an_optimum_stays_in_the_callers_order():
    # a cold anneal from an optimum of a small graph keeps it: the bits come back where the caller put them
    q = mis_qubo(16, 0)
    best = cutslack.solve(q, method="exhaustive")
    order = _couplings(q, np.float32, "sparse", reorder=True).order
    assert not np.array_equal(order, np.arange(q.n))
    ss = anneal_sampler(q, num_reads=2, num_sweeps=50, rng=0, initial_states=best.x, beta_range=(50.0, 60.0),
                        layout="sparse", reorder=True)
    assert ss.info["reordered"]
    np.testing.assert_array_equal(ss.X, np.tile(best.x, (2, 1)))


def test_layout_is_chosen_by_density():
    sparse_q = QUBO(integer_qubo(80, SPARSE_DENSITY / 4, 6))
    dense_q = QUBO(sp.csr_matrix(integer_qubo(80, 0.6, 7)))
    assert sparse_q.density < SPARSE_DENSITY < dense_q.density
    assert anneal_sampler(sparse_q, num_reads=1, num_sweeps=5, rng=0).info["layout"] == "sparse"
    assert anneal_sampler(dense_q, num_reads=1, num_sweeps=5, rng=0).info["layout"] == "dense"
    with pytest.raises(ValueError, match="layout"):
        anneal_sampler(sparse_q, num_reads=1, num_sweeps=5, rng=0, layout="csr")


def test_sparse_anneal_finds_the_maximum_independent_set_of_a_small_graph():
    # a 3-regular graph on 16 vertices: the CSR anneal reaches the exhaustive minimum
    q = mis_qubo(16, 0)
    best = cutslack.solve(q, method="exhaustive").objective
    ss = anneal_sampler(q, num_reads=8, num_sweeps=500, rng=3, layout="sparse")
    assert ss.best_energy == best


# --- big sparse QUBOs: never densified ---------------------------------------------------------------

def test_sparse_qubo_too_big_to_densify_is_sampled_in_csr():
    n = 40_000  # a dense float32 coupling matrix would take 6.4 GB
    q = mis_qubo(n, 1)
    with pytest.raises(ProblemTooLargeError):
        anneal_sampler(q, num_reads=1, num_sweeps=1, rng=0, layout="dense")
    res = cutslack.solve(q, method="anneal", num_reads=2, num_sweeps=20, rng=0)
    assert res.samples.info["layout"] == "sparse"
    assert res.objective == pytest.approx(q.energy(res.x))
    assert res.objective < -0.3 * n  # far below a random state's energy (about +0.25 n)


def test_sampler_state_too_large_is_refused_before_allocating():
    q = mis_qubo(1000, 2)
    with pytest.raises(ProblemTooLargeError, match="sampler state"):
        anneal_sampler(q, num_reads=10**9, num_sweeps=1, rng=0)


def test_lagrangian_runs_on_a_sparse_mis_qubo_and_repairs_to_a_feasible_set():
    problem = random_regular_mis(3000, 3, rng=4)  # above the Lagrangian form's dense limit: CSR QUBOs
    res = cutslack.solve(problem, method="lagrangian", rng=0, maxiter=3, num_reads=4,
                         sampler_options={"num_sweeps": 100})
    assert res.feasible
    assert res.objective > 0.38 * 3000  # random 3-regular graphs have independence ratio about 0.43


# --- solve() is the kernel's fast path ----------------------------------------------------------------

def test_solve_without_callback_runs_the_sampler_in_one_chunk():
    q = QUBO(integer_qubo(30, 0.3, 8))
    res = cutslack.solve(q, method="anneal", num_reads=2, num_sweeps=200, rng=0)
    assert res.nit == 1  # no intermediate reports: one kernel call
    direct = anneal_sampler(q, num_reads=2, num_sweeps=200, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(res.samples.X, direct.X)
    seen = []
    res = cutslack.solve(q, method="anneal", num_reads=2, num_sweeps=200, rng=0, callback=seen.append)
    assert len(seen) >= 1 and res.nit == len(seen) + 1
