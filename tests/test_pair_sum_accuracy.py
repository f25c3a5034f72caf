"""Accuracy of the Gaussian's dispersive kernel (the broadened principal value, a Dawson function)
in the dense-ED pair sum, against scipy's dawsn.

The compiled kernel took it from a cubic Hermite table within 12 widths and a five-term asymptotic
series beyond: ~1.6e-8 relative at 12 widths, which made dense ED's delta v / v the larger error in
comparisons with the Chebyshev solver (accurate to ~1e-11). Now ~2e-14 (kernel) and ~1e-15 (sums).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import dawsn

import manybody as mb
from manybody.simulation.observables import pair_sum


def _scipy_r(u, eta):
    return (math.sqrt(2.0) / eta) * dawsn(u / (math.sqrt(2.0) * eta))


def test_dispersive_kernel_matches_scipy_dawsn_to_1e_12_relative():
    """Kind 0 of pair_kernels.dispersive_kernel over u/eta in [0, 1000] (dense near the line,
    log-spaced far out, both signs) equals sqrt(2)/eta dawsn(u / (sqrt(2) eta)) to 1e-12 relative."""
    pytest.importorskip("numba")
    from manybody.simulation.observables.pair_kernels import dispersive_kernel

    eta = 0.03
    x = np.concatenate([np.linspace(0.0, 60.0, 120_001)[1:], np.geomspace(60.0, 1000.0, 4000),
                        [11.999999, 12.0, 12.000001, 39.999999, 40.0, 40.000001]])
    u = np.concatenate([x, -x]) * eta
    args = (pair_sum._dawson_table(), pair_sum.DISPERSIVE_REACH, pair_sum._TABLE_STEP)
    got = np.array([dispersive_kernel(0, float(v), eta, *args) for v in u])
    ref = _scipy_r(u, eta)
    rel = np.abs(got - ref) / np.abs(ref)
    assert rel.max() < 1e-12, (rel.max(), x[np.argmax(rel) % x.size])
    assert dispersive_kernel(0, 0.0, eta, *args) == 0.0


@pytest.mark.parametrize("dim", [64, 200])
@pytest.mark.parametrize("compiled", [True, False])
def test_dispersive_pair_sum_matches_direct_scipy_sum_to_1e_11(dim, compiled, monkeypatch):
    """exact_per_state(..., dispersive=True), compiled and numpy paths, against a direct sum
    H_n(w) = sum_m T_mn^2 [R(w_mn - w) + R(w_mn + w)] with scipy's dawsn: 1e-11 of max |H|."""
    if compiled:
        pytest.importorskip("numba")
    monkeypatch.setattr(pair_sum, "_USE_COMPILED", compiled)
    rng = np.random.default_rng(dim)
    eta = 0.02
    energies = rng.uniform(0.0, 1.5, dim)   # gaps from << eta to 75 widths: every kernel branch
    t = rng.standard_normal((dim, dim))
    t = (t + t.T) / 2
    w = np.array([0.013, 0.2, 0.77])
    got = pair_sum.exact_per_state(energies, t, w, mb.Broadening(kind="gaussian", width=eta), True)
    omega = energies[None, :] - energies[:, None]   # w_mn = E_m - E_n at [n, m]
    ref = np.empty((dim, w.size))
    for k, wk in enumerate(w):
        f = _scipy_r(omega - wk, eta) + _scipy_r(omega + wk, eta)
        f[omega == 0.0] = 0.0
        ref[:, k] = np.sum(t * t * f, axis=1)
    err = np.abs(got - ref).max() / np.abs(ref).max()
    assert err < 1e-11, err
