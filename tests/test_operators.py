"""Operators against explicit Kronecker products; ED invariants; the K = 0 limit."""

import itertools

import numpy as np
import pytest
from reference import kron_operator

from manybody.config.model import CouplingParams, ModelParams, RandomMatrixParams, StressParams
from manybody.config.solver import SolverParams
from manybody.simulation.ensembles import RandomMatrixTerm, Realisation, draw_realisation, realisation_rng
from manybody.simulation.operators import (
    build_operators,
    pauli_sum,
    pauli_sum_csr,
    pauli_sum_dense,
    random_block,
    random_matrix,
)
from manybody.simulation.solvers.dense import diagonalise, solve, stress_matrix_elements


def kron_reference(real: Realisation):
    n = real.n_tls
    dim = 2**n
    h = np.zeros((dim, dim))
    if real.asymmetry is not None:
        for i in range(n):
            h += kron_operator(n, [("z", i)], real.asymmetry[i] / 2)
            h += kron_operator(n, [("x", i)], real.tunnelling[i] / 2)
    for comp, k in real.couplings.items():
        for i, j in itertools.product(range(n), repeat=2):
            if (comp in ("zz", "xx") and i < j) or (comp in ("xz", "zx") and i != j):
                h += kron_operator(n, [(comp[0], i), (comp[1], j)], k[i, j])
    t = np.zeros((dim, dim))
    for i in range(n):
        t += kron_operator(n, [("z", i)], real.deformation_potential[i])
    if real.stress_coupling is not None:
        for i in range(n):
            for j in range(i + 1, n):
                t += kron_operator(n, [("z", i), ("z", j)], real.stress_coupling[i, j])
    return h, t


def test_site_zero_is_leftmost_factor():
    real = Realisation.from_arrays(asymmetry=[2.0, 0.0], tunnelling=[0.0, 0.0])
    h, _ = build_operators(real)
    # s^z_0 / 2 * 2 = diag(1, 1, -1, -1) for site 0 leftmost with up first
    np.testing.assert_array_equal(np.diag(h), [1.0, 1.0, -1.0, -1.0])


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_every_term_matches_kronecker_products(n, rng):
    couplings = {c: rng.normal(size=(n, n)) for c in ("zz", "xx", "xz", "zx")}
    for c in ("zz", "xx"):
        couplings[c] = couplings[c] + couplings[c].T
    for c in couplings:
        np.fill_diagonal(couplings[c], 0.0)
    k_t = rng.normal(size=(n, n))
    k_t = k_t + k_t.T
    np.fill_diagonal(k_t, 0.0)
    real = Realisation.from_arrays(
        asymmetry=rng.normal(size=n), tunnelling=rng.uniform(0.1, 1, n), couplings=couplings,
        deformation_potential=rng.normal(size=n), stress_coupling=k_t)
    h, t = build_operators(real)
    h_ref, t_ref = kron_reference(real)
    np.testing.assert_allclose(h, h_ref, atol=1e-14)
    np.testing.assert_allclose(t.toarray(), t_ref, atol=1e-14)


@pytest.mark.parametrize("kind", ["goe", "flat", "exponential"])
def test_random_matrix_terms_are_added_and_symmetric(kind):
    term = RandomMatrixTerm(kind=kind, weight=0.7, seed=5, growth_temperature=0.3)
    real = Realisation.from_arrays(asymmetry=[0.1, 0.2, 0.3], tunnelling=[0.3, 0.2, 0.1],
                                   random_matrix=term,
                                   stress_random_matrix=RandomMatrixTerm(kind="goe", weight=0.2, seed=9))
    h, t = build_operators(real)
    h_ref, t_ref = kron_reference(real)
    extra = random_matrix(term, 8)
    np.testing.assert_allclose(h, h_ref + extra, atol=1e-13)
    np.testing.assert_allclose(t, t_ref + random_matrix(real.stress_random_matrix, 8), atol=1e-13)
    np.testing.assert_allclose(h, h.T, atol=1e-13)
    np.testing.assert_allclose(t, t.T, atol=1e-13)


def test_prescribed_density_block_has_its_levels():
    term = RandomMatrixTerm(kind="flat", weight=2.0, seed=3)
    levels, vectors = random_block(term, 64)
    np.testing.assert_allclose(vectors.T @ vectors, np.eye(64), atol=1e-12)
    energies = np.linalg.eigvalsh(random_matrix(term, 64))
    np.testing.assert_allclose(energies, levels, atol=1e-12)
    assert 0 <= levels.min() and levels.max() <= 2.0


def test_goe_semicircle_radius(rng):
    from manybody.simulation.random_matrices import goe
    g = goe(1000, rng)
    e = np.linalg.eigvalsh(g)
    assert abs(e.max() - 1) < 0.05 and abs(e.min() + 1) < 0.05
    off = g[np.triu_indices(1000, 1)]
    assert abs(off.var() * 4000 - 1) < 0.02
    assert abs(np.diag(g).var() * 2000 - 1) < 0.15


@pytest.mark.parametrize("dtype,tol", [("float64", 1e-12), ("float32", 2e-5)])
def test_eigen_residual_and_orthogonality(dtype, tol):
    params = ModelParams(n_tls=7, coupling=CouplingParams(kind="dipolar", strength=0.1),
                         random_matrix=RandomMatrixParams(kind="goe", weight=0.3))
    real = draw_realisation(params, realisation_rng(3, 0))
    h, _ = build_operators(real, np.float64)
    s = diagonalise(h.astype(dtype), overwrite=False)
    v = s.vectors.astype(np.float64)
    norm = np.linalg.norm(h, 2)
    assert np.linalg.norm(h @ v - v * s.energies[None, :]) <= tol * norm * 128
    np.testing.assert_allclose(v.T @ v, np.eye(128), atol=tol * 100)
    assert np.all(np.diff(s.energies) >= 0)


def test_k0_spectrum_is_sums_of_single_tls_energies(rng):
    n = 5
    eps, delta = rng.uniform(-1, 1, n), rng.uniform(0.05, 1, n)
    real = Realisation.from_arrays(asymmetry=eps, tunnelling=delta)
    spectrum, _ = solve(real)
    e = np.hypot(eps, delta)
    sums = np.sort([np.dot(signs, e) / 2 for signs in itertools.product([-1, 1], repeat=n)])
    np.testing.assert_allclose(spectrum.energies, sums, atol=1e-13)


def test_k0_stress_elements_single_flips_only(rng):
    """T_mn between product eigenstates differing by one flip of TLS i is gamma_i Delta_i / E_i."""
    n = 4
    eps, delta = rng.uniform(-1, 1, n), rng.uniform(0.05, 1, n)
    gamma = rng.normal(size=n)
    real = Realisation.from_arrays(asymmetry=eps, tunnelling=delta, deformation_potential=gamma)
    spectrum, t_mn = solve(real)
    e = np.hypot(eps, delta)
    # label eigenstates by their TLS configuration through the energies (all distinct here)
    configs = list(itertools.product([-1, 1], repeat=n))
    energy_of = {c: np.dot(c, e) / 2 for c in configs}
    index = {c: int(np.argmin(np.abs(spectrum.energies - energy_of[c]))) for c in configs}
    for a, b in itertools.combinations(configs, 2):
        flips = [i for i in range(n) if a[i] != b[i]]
        value = abs(t_mn[index[a], index[b]])
        expected = abs(gamma[flips[0]] * delta[flips[0]] / e[flips[0]]) if len(flips) == 1 else 0.0
        assert value == pytest.approx(expected, abs=1e-12)


def test_stress_matrix_elements_diagonal_sparse_and_dense_agree(rng):
    params = ModelParams(n_tls=6, coupling=CouplingParams(strength=0.2),
                         stress=StressParams(two_body=0.3))
    real = draw_realisation(params, realisation_rng(1, 2))
    h, t = build_operators(real)
    s = diagonalise(h)
    via_sparse = stress_matrix_elements(s.vectors, t, chunk=7)
    via_dense = s.vectors.T @ t.toarray() @ s.vectors
    np.testing.assert_allclose(via_sparse, via_dense, atol=1e-12)
    general = t.tolil()
    general[0, 1] = general[1, 0] = 0.5  # not diagonal: the general sparse path
    np.testing.assert_allclose(stress_matrix_elements(s.vectors, general.tocsr()),
                               s.vectors.T @ general.toarray() @ s.vectors, atol=1e-12)


def test_float32_solve_matches_float64():
    params = ModelParams(n_tls=6, coupling=CouplingParams(strength=0.2))
    real = draw_realisation(params, realisation_rng(1, 0))
    s64, t64 = solve(real)
    s32, t32 = solve(real, SolverParams(dtype="float32"))
    assert t32.dtype == np.float32
    np.testing.assert_allclose(s32.energies, s64.energies, atol=1e-5)


def test_too_large_system_refused_before_allocation():
    params = ModelParams(n_tls=20)
    real = draw_realisation(params, realisation_rng(0, 0))
    with pytest.raises(MemoryError, match=r"n_tls=20 with dtype=float64 needs about .* GB"):
        solve(real)


def test_memory_estimate_n14_fits_this_machine():
    from manybody.simulation.solvers.dense import estimate_memory
    assert estimate_memory(14, "float64") < 8 * 2**30


# --- bit-arithmetic builder (dense ED path) against QuSpin (builder of record) -----------------

STRINGS = ("z", "x", "zz", "xx", "xz", "zx", "zxz")


def random_terms(n, strings, rng, n_couplings=10, distinct=True):
    """A static list with random coefficients; distinct sites in a term unless told otherwise."""
    terms = []
    for op in strings:
        if distinct and len(op) > n:
            continue
        rows = []
        for _ in range(n_couplings):
            sites = rng.choice(n, len(op), replace=not distinct)
            rows.append([float(rng.normal()), *map(int, sites)])
        terms.append((op, rows))
    return terms


def assert_same_matrix(a, b, terms, dtype):
    """Equal up to a few roundings of the summed coefficients (float64: ~1e-15 relative)."""
    scale = sum(abs(row[0]) for _, rows in terms for row in rows) or 1.0
    np.testing.assert_allclose(a, b, rtol=0, atol=4 * np.finfo(dtype).eps * scale)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", range(1, 8))
@pytest.mark.parametrize("op", STRINGS)
def test_bit_builder_matches_quspin_per_string(op, n, dtype, rng):
    terms = random_terms(n, [op], rng)
    reference = pauli_sum(n, terms, dtype)
    dense = pauli_sum_dense(n, terms, dtype)
    csr = pauli_sum_csr(n, terms, dtype)
    assert dense.dtype == dtype and csr.dtype == dtype and csr.format == "csr"
    assert_same_matrix(dense, reference.toarray(), terms, dtype)
    assert_same_matrix(csr.toarray(), reference.toarray(), terms, dtype)
    assert csr.nnz == reference.nnz and csr.has_sorted_indices


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", range(1, 8))
def test_bit_builder_matches_quspin_all_strings_together(n, dtype, rng):
    """Several strings sharing flip masks (x_i, x_i z_j, ...) are merged before the scatter."""
    terms = random_terms(n, STRINGS + ("xxz", "xzx", "zzz"), rng)
    assert_same_matrix(pauli_sum_dense(n, terms, dtype), pauli_sum(n, terms, dtype).toarray(),
                       terms, dtype)
    assert_same_matrix(pauli_sum_csr(n, terms, dtype).toarray(), pauli_sum(n, terms, dtype).toarray(),
                       terms, dtype)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_bit_builder_repeated_sites_multiply_in_written_order(n, rng):
    """s^z_i s^x_i = -s^x_i s^z_i: both builders take the product in the written order."""
    terms = random_terms(n, ("zx", "xz", "zz", "xx", "zxz", "xzx", "zxx"), rng, distinct=False)
    assert_same_matrix(pauli_sum_dense(n, terms, np.float64), pauli_sum(n, terms).toarray(),
                       terms, np.float64)
    zx = pauli_sum_dense(n, [("zx", [[1.0, 0, 0]])])
    np.testing.assert_array_equal(zx, kron_operator(n, [("z", 0)]) @ kron_operator(n, [("x", 0)]))


@pytest.mark.parametrize("op,sites,coefficient", [
    ("z", [0], 0.5), ("x", [2], -1.5), ("zz", [0, 3], 0.25), ("xx", [1, 2], 2.0),
    ("xz", [3, 0], -0.75), ("zx", [0, 2], 1.25), ("zxz", [2, 0, 3], 0.5), ("xxz", [0, 3, 1], -2.0),
])
def test_bit_builder_matches_kronecker_products(op, sites, coefficient):
    n = 4
    expected = kron_operator(n, list(zip(op, sites, strict=True)), coefficient)
    terms = [(op, [[coefficient, *sites]])]
    np.testing.assert_array_equal(pauli_sum_dense(n, terms), expected)
    np.testing.assert_array_equal(pauli_sum_csr(n, terms).toarray(), expected)


def test_bit_builder_adds_into_out_in_any_layout(rng):
    terms = random_terms(3, STRINGS, rng)
    base = rng.normal(size=(8, 8))
    expected = base + pauli_sum(3, terms).toarray()
    for layout in (np.ascontiguousarray(base), np.asfortranarray(base)):
        out = layout.copy(order="K")
        assert pauli_sum_dense(3, terms, out=out) is out
        np.testing.assert_allclose(out, expected, atol=1e-14)


def test_bit_builder_empty_terms_give_zero_matrices():
    terms = [("z", []), ("xx", [])]
    assert not pauli_sum_dense(3, terms).any()
    assert pauli_sum_csr(3, terms).nnz == 0 and pauli_sum_csr(3, terms).shape == (8, 8)


@pytest.mark.parametrize("builder", [pauli_sum, pauli_sum_dense, pauli_sum_csr])
@pytest.mark.parametrize("terms,message", [
    ([("zy", [[1.0, 0, 1]])], r"terms: operator string must be made of 'x' and 'z' only, got 'zy'"),
    ([("z", [[1.0, 3]])], r"terms: site index of 'z' must be an integer between 0 and 2 for n_tls=3, "
                          r"got 3"),
    ([("xz", [[1.0, 0, -1]])], r"terms: site index of 'xz' .* got -1"),
    ([("x", [[1.0, 0.5]])], r"terms: site index of 'x' .* got 0.5"),
    ([("zz", [[1.0, 0]])], r"terms: each coupling of 'zz' must be \[coefficient\] \+ 2 site indices"),
])
def test_bad_terms_are_refused_naming_parameter_and_value(builder, terms, message):
    with pytest.raises(ValueError, match=message):
        builder(3, terms)


def test_bit_builder_refuses_bad_out_shape():
    with pytest.raises(ValueError, match=r"out must have shape \(8, 8\) for n_tls=3, got \(4, 4\)"):
        pauli_sum_dense(3, [("z", [[1.0, 0]])], out=np.zeros((4, 4)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("stress_rm", [False, True])
def test_dense_build_matches_quspin_build(dtype, stress_rm):
    """Dipolar realisation with xz/zx couplings, random-matrix admixture and two-body stress."""
    params = ModelParams(
        n_tls=6,
        coupling=CouplingParams(kind="dipolar", strength=0.3, components=("zz", "xx", "xz", "zx")),
        stress=StressParams(two_body=0.3, random_matrix=0.2 if stress_rm else 0.0),
        random_matrix=RandomMatrixParams(kind="goe", weight=0.3))
    real = draw_realisation(params, realisation_rng(7, 1))
    assert real.random_matrix is not None and set(real.couplings) == {"zz", "xx", "xz", "zx"}
    assert (real.stress_random_matrix is not None) == stress_rm
    h, t = build_operators(real, dtype, dense=True)
    h_ref, t_ref = build_operators(real, dtype, dense=False)  # QuSpin
    assert isinstance(h, np.ndarray) and h.dtype == dtype and t.dtype == dtype
    tol = 8 * np.finfo(dtype).eps * np.abs(h_ref).max() * 6
    np.testing.assert_allclose(h, h_ref, rtol=0, atol=tol)
    if stress_rm:
        assert isinstance(t, np.ndarray)
        np.testing.assert_allclose(t, t_ref, rtol=0, atol=tol)
    else:
        assert t.format == "csr" and t.nnz == t_ref.nnz
        np.testing.assert_allclose(t.toarray(), t_ref.toarray(), rtol=0, atol=tol)


def test_dense_build_without_random_matrix_is_quspin_h_and_diagonal_t():
    params = ModelParams(n_tls=7, coupling=CouplingParams(kind="dipolar", strength=0.3),
                         stress=StressParams(two_body=0.2))
    real = draw_realisation(params, realisation_rng(3, 4))
    h, t = build_operators(real)
    h_ref, t_ref = build_operators(real, dense=False)
    np.testing.assert_allclose(h, h_ref.toarray(), rtol=0, atol=1e-14 * np.abs(h).max())
    assert t.format == "csr" and t.nnz == np.count_nonzero(t.diagonal()) == t_ref.nnz
    np.testing.assert_allclose(t.toarray(), t_ref.toarray(), rtol=0, atol=1e-14 * abs(t).max())


@pytest.mark.parametrize("growth_temperature", [1e-5, 1e-9])
def test_exponential_levels_with_a_steep_density_are_finite(growth_temperature):
    """rho ~ exp(E / T_s) on [0, W] with W / T_s above ~710: e^{W/T_s} overflowed, the levels
    were inf and the eigensolver failed with a LAPACK message (session 25). The levels stay in
    [0, W], sorted, crowding towards W as the density says."""
    from manybody.simulation.random_matrices import prescribed_levels

    levels = prescribed_levels("exponential", 256, 0.1, np.random.default_rng(3),
                               growth_temperature)
    assert np.all(np.isfinite(levels)) and np.all(np.diff(levels) >= 0)
    assert levels.min() >= 0.0 and levels.max() <= 0.1
    # the median distance below W is T_s ln 2 (an exponential density, cut at 0 far away)
    assert np.median(0.1 - levels) == pytest.approx(growth_temperature * np.log(2), rel=0.2)


def test_exponential_levels_are_continuous_across_the_overflow_switch():
    """Both forms of the inverse cumulative distribution give the same levels (the stable one
    takes over at W / T_s = 700)."""
    from manybody.simulation import random_matrices as rm

    for ratio in (699.0, 701.0):
        levels = rm.prescribed_levels("exponential", 64, 0.1, np.random.default_rng(1),
                                      0.1 / ratio)
        u = rm.semicircle_cdf(rm.goe_levels(64, np.random.default_rng(1)))
        with np.errstate(divide="ignore"):
            stable = 0.1 + (0.1 / ratio) * np.logaddexp(np.log(u), np.log1p(-u) - ratio)
        np.testing.assert_allclose(levels, stable, rtol=0, atol=1e-15)


def test_a_dense_refusal_suggests_only_machines_that_exist():
    """n_tls = 30 was told to use 'a machine with >= 3.05e+10 GB' (a tester, session 37); at
    N = 16 a large machine is still a remedy."""
    from manybody.config.solver import SolverParams
    from manybody.simulation.solvers.dense import dense_memory_message

    solver = SolverParams()
    assert "a machine with" not in dense_memory_message(30, solver, available=8 * 2**30)
    assert "a machine with >= " in dense_memory_message(16, solver, available=2**30)
