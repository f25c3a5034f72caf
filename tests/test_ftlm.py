"""Finite-temperature Lanczos (FTLM): the independent check of the Chebyshev solver (issue 20).

Exact limits (Lanczos recursion, line-function split, exhausted Krylov spaces with the basis as
vectors = dense ED to round-off) and the stochastic estimate against dense ED within its error bars.
"""

from __future__ import annotations

import numpy as np
import pytest

from manybody.config.model import CouplingParams, ModelParams, RandomMatrixParams
from manybody.config.probe import Broadening
from manybody.simulation.ensembles import (
    absorption_normalisation,
    draw_realisation,
    realisation_rng,
)
from manybody.simulation.observables.absorption import absorption, velocity_shift
from manybody.simulation.solvers import lanczos as fl
from manybody.simulation.solvers.dense import solve

W = np.array([0.1, 0.2])
T = np.geomspace(0.02, 0.2, 5)
GAUSS = Broadening(kind="gaussian", width=0.02)


def _reference(params, real, broadening=GAUSS):
    spectrum, elements = solve(real)
    norm = absorption_normalisation(params)
    q = norm * absorption(spectrum, elements, W, T, broadening, method="exact")
    dv = velocity_shift(spectrum, elements, W, T, broadening, normalisation=norm, method="exact")
    return norm, q, dv


def test_line_function_split_is_exact():
    """|T|^2 F(u) = |C|^2 G(u) + F'(0) u |T|^2 with C = u T: u^2 G(u) + F'(0) u = F(u)."""
    u = np.linspace(-1.5, 1.5, 3001)
    for kind in ("gaussian", "lorentzian"):
        for dispersive in (False, True):
            line = fl.LineFunction(Broadening(kind=kind, width=0.03), 0.2, dispersive)
            full = line.full(u)
            np.testing.assert_allclose(u**2 * line.reduced(u) + line.slope * u, full,
                                       rtol=1e-9, atol=1e-9 * np.abs(full).max())
            # the analytic slope is F'(0)
            h = 1e-6
            assert line.slope == pytest.approx((line.full(np.array([h])) - line.full(
                np.array([-h])))[0] / (2 * h), rel=1e-6)


def test_lanczos_recursion_is_orthonormal_and_exact_when_exhausted():
    rng = np.random.default_rng(4)
    a = rng.standard_normal((40, 40))
    h = a + a.T
    alpha, beta, basis, norm = fl.lanczos_recursion(lambda x: h @ x, rng.standard_normal(40), 40)
    assert alpha.size == 40
    np.testing.assert_allclose(basis @ basis.T, np.eye(40), atol=1e-12)
    energies, _ = fl.ritz_pairs(alpha, beta)
    np.testing.assert_allclose(energies, np.linalg.eigvalsh(h), atol=1e-10)
    # a start vector inside a 3-dimensional invariant subspace stops the recursion after 3 steps
    d = np.diag(np.arange(10.0))
    start = np.zeros(10)
    start[[1, 4, 7]] = 1.0
    alpha, beta, basis, norm = fl.lanczos_recursion(lambda x: d @ x, start, 10)
    assert alpha.size == 3 and norm == pytest.approx(np.sqrt(3))
    np.testing.assert_allclose(fl.ritz_pairs(alpha, beta)[0], [1.0, 4.0, 7.0], atol=1e-12)


@pytest.mark.parametrize("random_matrix", [False, True])
def test_exact_trace_with_exhausted_krylov_spaces_equals_dense_ed(random_matrix):
    """With the D basis vectors as r and M = D, every term is exact: FTLM = dense ED to round-off."""
    params = ModelParams(n_tls=5, coupling=CouplingParams(strength=0.1),
                         random_matrix=RandomMatrixParams(kind="goe", weight=0.5) if random_matrix
                         else None)
    real = draw_realisation(params, realisation_rng(2, 0))
    norm, q, dv = _reference(params, real)
    res = fl.ftlm_absorption(real, W, T, GAUSS, n_steps=32, normalisation=norm, trace="exact",
                             weight_cutoff=0.0)
    assert res.exact_trace and res.n_vectors == 32
    assert np.max(np.abs(res.absorption - q)) < 1e-9 * np.abs(q).max()
    assert np.max(np.abs(res.velocity_shift - dv)) < 1e-8 * np.abs(dv).max()


def test_lorentzian_exact_trace_equals_dense_ed():
    params = ModelParams(n_tls=4, coupling=CouplingParams(strength=0.1))
    real = draw_realisation(params, realisation_rng(5, 0))
    b = Broadening(kind="lorentzian", width=0.02)
    norm, q, dv = _reference(params, real, b)
    res = fl.ftlm_absorption(real, W, T, b, n_steps=16, normalisation=norm, trace="exact",
                             weight_cutoff=0.0)
    assert np.max(np.abs(res.absorption - q)) < 1e-9 * np.abs(q).max()
    assert np.max(np.abs(res.velocity_shift - dv)) < 1e-8 * np.abs(dv).max()


@pytest.mark.parametrize("kind", ["gaussian", "lorentzian"])
def test_relative_kernel_exact_trace_equals_dense_ed(kind):
    """A kernel of width 0.2 w at each w (the study's): exhausted Krylov spaces equal dense ED
    with the same relative kernel, which differs from one absolute width at these w."""
    params = ModelParams(n_tls=4, coupling=CouplingParams(strength=0.1))
    real = draw_realisation(params, realisation_rng(5, 0))
    b = Broadening(kind=kind, width=0.2, scaling="relative")
    norm, q, dv = _reference(params, real, b)
    res = fl.ftlm_absorption(real, W, T, b, n_steps=16, normalisation=norm, trace="exact",
                             weight_cutoff=0.0)
    assert np.max(np.abs(res.absorption - q)) < 1e-9 * np.abs(q).max()
    assert np.max(np.abs(res.velocity_shift - dv)) < 1e-8 * np.abs(dv).max()
    _, q_absolute, _ = _reference(params, real, Broadening(kind=kind, width=0.02))
    assert np.max(np.abs(q_absolute - q)) > 1e-3 * np.abs(q).max()


def test_random_vectors_agree_with_dense_ed_within_error_bars():
    """N = 8, 24 random vectors, M = 60 < D = 256: within 3.5 reported errors everywhere, with
    error bars that resolve the plateau (not a test that cannot fail)."""
    params = ModelParams(n_tls=8, coupling=CouplingParams(strength=0.05))
    real = draw_realisation(params, realisation_rng(7, 0))
    norm, q, dv = _reference(params, real)
    res = fl.ftlm_absorption(real, W, T, GAUSS, n_vectors=24, n_steps=60, normalisation=norm,
                             seed=1)
    assert not res.exact_trace and res.n_vectors == 24
    assert np.all(np.abs(res.absorption - q) <= 3.5 * res.absorption_error + 1e-12)
    assert np.all(np.abs(res.velocity_shift - dv) <= 3.5 * res.velocity_shift_error + 1e-12)
    low = T <= 0.1  # below w: a few vectors resolve Q (at T ~ 2w the typicality noise is large)
    assert np.max(res.absorption_error[low]) < 0.1 * np.abs(q).max()
    again = fl.ftlm_absorption(real, W, T, GAUSS, n_vectors=24, n_steps=60, normalisation=norm,
                               seed=1, velocity=False)
    np.testing.assert_array_equal(again.absorption, res.absorption)  # reproducible by seed
    assert again.velocity_shift is None


def test_tiny_systems_take_the_exact_trace():
    """Where D <= max(16, n_vectors) random vectors coincide (two up to sign at D = 4) and their
    spread can vanish; the Chebyshev solver takes the exact trace there (session 24), and FTLM,
    its cross-check, too: a reviewer saw |z| 3.9 between them at N = 2 (exact against 8 random
    vectors)."""
    params = ModelParams(n_tls=2, coupling=CouplingParams(strength=0.05))
    real = draw_realisation(params, realisation_rng(7, 0))
    norm = absorption_normalisation(params)
    asked = fl.ftlm_absorption(real, W, T, GAUSS, n_vectors=8, normalisation=norm, seed=1)
    exact = fl.ftlm_absorption(real, W, T, GAUSS, trace="exact", normalisation=norm)
    assert asked.exact_trace and asked.n_vectors == 4
    np.testing.assert_array_equal(asked.absorption, exact.absorption)
    np.testing.assert_array_equal(asked.velocity_shift, exact.velocity_shift)


def test_same_vectors_as_chebyshev_agree_far_below_the_statistical_error():
    """Equal seeds give the Chebyshev solver's random vectors: at T = max T both filter them with
    e^{-H/2T} (the top rung of both ladders), so the two expansions of the same typicality estimator
    must agree far below its noise (below, the rungs differ and so does the noise)."""
    from manybody.config.solver import ChebyshevParams
    from manybody.simulation.solvers.chebyshev.solver import chebyshev_absorption

    params = ModelParams(n_tls=7, coupling=CouplingParams(strength=0.05))
    real = draw_realisation(params, realisation_rng(7, 0))
    norm = absorption_normalisation(params)
    res = fl.ftlm_absorption(real, W, T, GAUSS, n_vectors=6, n_steps=128, normalisation=norm,
                             seed=3, velocity=False)
    cheb = chebyshev_absorption(real, W, T, GAUSS, ChebyshevParams(n_vectors=6),
                                normalisation=norm, seed=3, observables=("absorption",))
    top = np.argmax(T)
    gap = np.abs(res.absorption[top] - cheb.absorption[top])
    assert np.all(gap < 0.05 * cheb.absorption_error[top])
    assert np.all(gap < 2e-3 * np.abs(cheb.absorption[top]).max())


def test_ladder_serves_every_temperature_from_a_reference_at_most_ratio_above():
    t = np.array([0.2, 0.03, 0.1, 0.011])
    rungs, index = fl._ladder(t, 2.0)
    assert rungs[0] == 0.2 and rungs[-1] <= 0.011
    served = rungs[index]
    assert np.all(served >= t * (1 - 1e-12)) and np.all(served < 2.0 * t)


@pytest.mark.parametrize("kwargs, name", [
    ({"n_steps": 1}, "n_steps"),
    ({"n_steps": 2}, "n_steps"),  # the truncation estimate would round to M: error exactly 0
    ({"n_steps": 9}, "n_steps"),
    ({"n_vectors": 0}, "n_vectors"),
    ({"n_vectors": 1}, "n_vectors"),  # a random trace's error is the spread over vectors
    ({"normalisation": float("nan")}, "normalisation"),
    ({"normalisation": -1.0}, "normalisation"),
    ({"temperatures": [0.1, -0.05]}, "temperatures"),
    ({"temperatures": [0.0]}, "temperatures"),
    ({"frequencies": [0.0, 0.1]}, "frequencies"),
    ({"trace": "full"}, "trace"),
    ({"broadening": Broadening(kind="histogram", width=0.02)}, "broadening"),
    ({"ladder_ratio": 1.0}, "ladder_ratio"),
])
def test_bad_inputs_are_refused_by_name_before_any_work(kwargs, name):
    args = {"frequencies": W, "temperatures": T, **kwargs}
    with pytest.raises(ValueError, match=name):
        fl.ftlm_absorption(None, **args)  # no realisation: refused before it is touched
