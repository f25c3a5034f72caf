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


# -- 2. bootstrap errors from too few resamples --------------------------------------------------

X = np.linspace(0.2, 8.0, 24)


def _tls_realisations(n=12, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 1.5, n)[:, None] * law_tls(X) + 0.02 * rng.standard_normal((n, X.size))


def _bootstrap_calls():
    from manybody.laws.analysis import paired_index_difference
    from manybody.laws.collapse import frequency_collapse
    from manybody.laws.gof import law_goodness_of_fit
    from manybody.laws.saturation_comparison import analyse_saturation

    q = _tls_realisations()
    power = np.logspace(-3, 3, 15)
    loss = 1e-5 / np.sqrt(1 + power / 1.0) + 1e-7
    loss = loss[None, :] * np.random.default_rng(1).uniform(0.9, 1.1, (6, 1))
    temperatures = np.linspace(0.01, 0.5, 20)
    frequencies = np.array([0.1, 0.2])
    curves = np.tanh(frequencies[None, None, :] / (2 * temperatures[None, :, None])) * \
        np.random.default_rng(2).uniform(0.9, 1.1, (6, 1, 1))
    fit = mb.fit_law(X, q.mean(axis=0), law="tls")
    return {
        "analyse_shape": lambda n: mb.analyse_shape(X, q, n_bootstrap=n),
        "paired_index_difference": lambda n: paired_index_difference(X, q, 1.01 * q, n_bootstrap=n),
        "law_goodness_of_fit": lambda n: law_goodness_of_fit(X, q, fit, n_bootstrap=n),
        "analyse_saturation": lambda n: analyse_saturation(power, loss, n_bootstrap=n),
        "frequency_collapse": lambda n: frequency_collapse(temperatures, frequencies, curves,
                                                           n_bootstrap=n),
    }


@pytest.mark.parametrize("name", ["analyse_shape", "paired_index_difference", "law_goodness_of_fit",
                                  "analyse_saturation", "frequency_collapse"])
@pytest.mark.parametrize("count", [1, 2, 3, 19])
def test_too_few_bootstrap_resamples_are_refused(name, count):
    """Before: 2 or 3 resamples accepted, errors 5-7x too small and tanh data judged 'beyond
    TLS' (the spread of n resamples is uncertain by 1/sqrt(2(n - 1)))."""
    with pytest.raises(ValueError, match=rf"n_bootstrap must be .*at least 20 \(the spread of n "
                                         rf"resamples is uncertain by about .* at {count}\), got {count}"):
        _bootstrap_calls()[name](count)


def test_paired_difference_needs_its_bootstrap():
    from manybody.laws.analysis import paired_index_difference

    q = _tls_realisations()
    with pytest.raises(ValueError, match=r"n_bootstrap must be at least 20 \(the errors come from "
                                         r"the bootstrap alone\), got 0"):
        paired_index_difference(X, q, q, n_bootstrap=0)


def test_twenty_resamples_give_the_error_of_many():
    """The smallest count accepted gives the index error within its stated uncertainty."""
    q = _tls_realisations(n=16, seed=4)
    few = mb.analyse_shape(X, q, n_bootstrap=20, rng=np.random.default_rng(5))
    many = mb.analyse_shape(X, q, n_bootstrap=400, rng=np.random.default_rng(5))
    assert few.index_error == pytest.approx(many.index_error, rel=3 / np.sqrt(2 * 19))
