"""Operators against explicit Kronecker products; ED invariants; the K = 0 limit."""

import itertools

import numpy as np
import pytest

from manybody.diagonalise import SolverParams, diagonalise, solve, stress_matrix_elements
from manybody.models import (
    CouplingParams,
    ModelParams,
    RandomMatrixParams,
    RandomMatrixTerm,
    Realisation,
    StressParams,
    draw_realisation,
    realisation_rng,
)
from manybody.operators import build_operators, kron_operator, random_block, random_matrix


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
    from manybody.random_matrices import goe
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
    from manybody.diagonalise import estimate_memory
    assert estimate_memory(14, "float64") < 8 * 2**30
