"""Faults found by trying the tool as a new user (session 43), each with the right value or
behaviour."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.stats import norm

import manybody as mb
from manybody.laws.shapes import law_family, law_generic, law_tls, smeared

# -- 1. the kernel-averaged laws: the emission line counts with the opposite sign -------------


def _odd_line_average(law, x, smearing, *args):
    """integral_0^inf [g(u - 1) - g(u + 1)] L(x u) du by adaptive quadrature (g normal of width
    ``smearing``): a flat density of transitions u = E / w, each with its line K(w - E) - K(w + E)."""
    def integrand(u):
        return (norm.pdf(u, 1.0, smearing) - norm.pdf(u, -1.0, smearing)) * law(np.array(u * x), *args)
    points = [1.0 / x] if 1.0 / x < 1.0 + 10.0 * smearing else None
    return quad(integrand, 0.0, 1.0 + 10.0 * smearing, epsabs=1e-14, epsrel=1e-12, limit=200,
                points=points)[0]


@pytest.mark.parametrize("smearing", [0.05, 0.2, 0.3, 0.4, 0.49])
@pytest.mark.parametrize("law, args", [(law_tls, ()), (law_generic, ()), (law_family, (0.4,)),
                                       (law_family, (3.0,))])
def test_smeared_law_is_the_odd_line_average(law, args, smearing):
    """Before: Gauss-Hermite nodes with E <= 0 dropped and the rest renormalised, 8e-3 off at
    smearing 0.4 and 4e-2 at 0.49 (and the T -> 0 limit stayed 1)."""
    x = np.array([0.05, 0.3, 1.0, 3.0, 10.0, 30.0, 60.0])
    expected = [_odd_line_average(law, xi, smearing, *args) for xi in x]
    np.testing.assert_allclose(smeared(law, x, smearing, *args), expected, rtol=0, atol=1e-6)


@pytest.mark.filterwarnings("ignore::manybody.simulation.observables.absorption.FarAboveSpectrumWarning")
def test_smeared_tls_law_equals_the_package_absorption_of_a_flat_band():
    """Cross-check with mb.absorption itself: single TLS with splittings E on a fine grid (a flat
    density), each probed with a relative Gaussian kernel of width 0.4 w, summed over E."""
    smearing, frequency = 0.4, 0.1
    temperatures = frequency / np.array([0.3, 1.0, 3.0, 10.0, 30.0])
    broadening = mb.Broadening(kind="gaussian", width=smearing, scaling="relative")
    splittings, step = np.linspace(0.0, frequency * (1 + 8 * smearing), 1601, retstep=True)
    flip = np.array([[0.0, 1.0], [1.0, 0.0]])   # s^x: |T_01|^2 = 1 for a TLS at Delta = E
    lines = np.array([
        mb.absorption(mb.Spectrum(energies=np.array([-0.5 * e, 0.5 * e])), flip, [frequency],
                      temperatures, broadening)[:, 0]
        for e in splittings[1:]])
    band = step * (lines.sum(axis=0) - 0.5 * lines[-1])   # trapezoid; the E = 0 line is 0
    np.testing.assert_allclose(smeared(law_tls, frequency / temperatures, smearing), band,
                               rtol=0, atol=2e-6)


def test_tanh_data_of_a_wide_kernel_fit_as_tls():
    """Exact kernel-averaged tanh data at smearing 0.4: index 1 (before: 0.992, 'in between')."""
    x = np.linspace(0.2, 12.0, 30)
    fit = mb.fit_law(x, smeared(law_tls, x, 0.4), law="family", smearing=0.4)
    assert abs(fit.parameters["index"] - 1.0) < 1e-4
    assert abs(fit.parameters["amplitude"] - 1.0) < 1e-5


def test_smeared_law_low_temperature_limit_is_the_line_weight_above_zero():
    """T -> 0: every transition absorbs fully, and the line's part below E = 0 is emission."""
    for smearing in (0.2, 0.35, 0.49):
        limit = 1.0 - 2.0 * norm.cdf(-1.0 / smearing)
        for law in (law_tls, law_generic):
            assert smeared(law, np.array([1e4]), smearing)[0] == pytest.approx(limit, abs=1e-9)
