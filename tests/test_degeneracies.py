"""Exactly degenerate levels: the basis-dependent observables see the basis of split levels
(manybody.simulation.observables.degeneracies). Two testers found, in session 26, that two
identical independent TLS gave a relaxation absorption 0.92-1.16 times the sum of the two (by the
basis LAPACK returned, and by dtype) and a single-TLS fraction from 0.5 to 1 (by the basis)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from manybody.config.probe import Broadening
from manybody.config.solver import SolverParams
from manybody.simulation.ensembles import Realisation
from manybody.simulation.observables.decomposition import single_tls_fraction
from manybody.simulation.observables.degeneracies import (
    degenerate_groups,
    settle_degenerate_basis,
)
from manybody.simulation.observables.relaxation import (
    relaxation_absorption,
    relaxation_velocity_shift,
)
from manybody.simulation.operators import build_operators
from manybody.simulation.solvers.dense import Spectrum, solve

K_PH = 4.865e7
FREQUENCY = [1e-7]
TEMPERATURES = np.array([0.03, 0.1, 0.3])


def _rotated(spectrum, elements, block, angle):
    """The same eigen-decomposition in another basis of the degenerate ``block``."""
    u = np.eye(spectrum.energies.size)
    c, s = math.cos(angle), math.sin(angle)
    u[np.ix_(block, block)] = [[c, -s], [s, c]]
    return Spectrum(spectrum.energies, spectrum.vectors @ u), u.T @ elements @ u


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_identical_independent_tls_relax_as_the_sum_of_the_two(dtype):
    one_spectrum, one_t = solve(Realisation.from_arrays(asymmetry=[0.06], tunnelling=[0.08]))
    single_q = relaxation_absorption(one_spectrum, one_t, FREQUENCY, TEMPERATURES, K_PH)
    single_v = relaxation_velocity_shift(one_spectrum, one_t, FREQUENCY, TEMPERATURES, K_PH)
    real = Realisation.from_arrays(asymmetry=[0.06, 0.06], tunnelling=[0.08, 0.08])
    spectrum, t = solve(real, SolverParams(dtype=dtype))
    tol = 1e-9 if dtype == "float64" else 2e-5
    for angle in (0.0, math.pi / 8, math.pi / 4, 0.3):  # any basis of the block {|eg>, |ge>}
        s, r = _rotated(spectrum, t, [1, 2], angle)
        q = relaxation_absorption(s, r, FREQUENCY, TEMPERATURES, K_PH)
        dv = relaxation_velocity_shift(s, r, FREQUENCY, TEMPERATURES, K_PH)
        np.testing.assert_allclose(q, 2 * single_q, rtol=tol)
        np.testing.assert_allclose(dv, 2 * single_v, rtol=tol)


def test_the_limit_of_split_levels_is_continuous():
    """Exactly identical TLS give the limit of asymmetries 1e-9 K apart (the old code jumped)."""
    def q_of(split):
        real = Realisation.from_arrays(asymmetry=[0.06, 0.06 + split], tunnelling=[0.08, 0.08])
        spectrum, t = solve(real)
        return relaxation_absorption(spectrum, t, FREQUENCY, TEMPERATURES, K_PH)

    np.testing.assert_allclose(q_of(0.0), q_of(1e-9), rtol=1e-7)


@pytest.mark.parametrize("n_tls", [2, 4])
def test_single_tls_fraction_of_identical_independent_tls_is_one_in_any_basis(n_tls):
    real = Realisation.from_arrays(asymmetry=[0.1] * n_tls, tunnelling=[0.05] * n_tls)
    spectrum, t = solve(real)
    groups = degenerate_groups(spectrum.energies)
    assert n_tls in [g.size for g in groups]  # one TLS excited: N-fold degenerate
    rng = np.random.default_rng(1)
    vectors = spectrum.vectors.copy()
    for g in groups:  # a random basis of every degenerate block
        q, _ = np.linalg.qr(rng.standard_normal((g.size, g.size)))
        vectors[:, g] = vectors[:, g] @ q
    kernel = Broadening(kind="gaussian", width=0.01)
    energy = math.hypot(0.1, 0.05)
    fraction = single_tls_fraction(spectrum.energies, vectors, np.ones(n_tls), [energy],
                                   [0.05, 0.2], kernel)
    np.testing.assert_allclose(fraction, 1.0, atol=1e-10)


def test_settled_basis_is_still_an_eigenbasis_with_its_stress_elements():
    real = Realisation.from_arrays(asymmetry=[0.1, 0.1, 0.02], tunnelling=[0.05, 0.05, 0.07])
    h, t = (op.toarray() if hasattr(op, "toarray") else np.asarray(op)
            for op in build_operators(real, np.float64, dense=True))
    spectrum, elements = solve(real)
    assert degenerate_groups(spectrum.energies)
    vectors = spectrum.vectors
    np.testing.assert_allclose(h @ vectors, vectors * spectrum.energies, atol=1e-12)
    np.testing.assert_allclose(vectors.T @ vectors, np.eye(8), atol=1e-12)
    np.testing.assert_allclose(vectors.T @ t @ vectors, elements, atol=1e-12)
    for g in degenerate_groups(spectrum.energies):  # T diagonal inside every block
        block = elements[np.ix_(g, g)]
        assert np.max(np.abs(block - np.diag(np.diagonal(block)))) < 1e-12


def test_without_degeneracies_nothing_is_touched():
    real = Realisation.from_arrays(asymmetry=[0.1, -0.03], tunnelling=[0.05, 0.02])
    spectrum, elements = solve(real)
    assert not degenerate_groups(spectrum.energies)
    vectors, copy = spectrum.vectors.copy(), elements.copy()
    same, settled = settle_degenerate_basis(spectrum, elements)
    assert same is spectrum and settled is elements
    assert np.array_equal(spectrum.vectors, vectors) and np.array_equal(elements, copy)
