"""Errors of the normalised curves the study's figures draw (manybody.study.normalised_curves,
CollapseResult.flatness_error): the error of the ratio drawn, not of its numerator scaled (a
tester, session 39: 9x too large in the decomposition figure, 19x in the collapse figure, and a
bar at the normalisation point). Checked against a bootstrap over realisations."""

from __future__ import annotations

import numpy as np
import pytest

from manybody.laws.collapse import frequency_collapse
from manybody.laws.shapes import law_tls
from manybody.study.normalised_curves import difference_of_means, ratio_of_means


def _bootstrap(statistic, samples, n=4000, seed=1):
    rng = np.random.default_rng(seed)
    rows = samples.shape[0]
    draws = [statistic(samples[rng.integers(0, rows, rows)]) for _ in range(n)]
    return np.std(draws, axis=0, ddof=1)


def _realisations(n=400, m=12, seed=0):
    """Amplitudes that vary a lot between realisations times a shape with a little noise: the
    level is common to every column, as in the study's rho_eff(T)."""
    rng = np.random.default_rng(seed)
    amplitude = rng.lognormal(0.0, 0.8, size=(n, 1))
    shape = 1.0 + 0.2 * np.linspace(0, 1, m)
    return amplitude * shape * (1 + 0.05 * rng.standard_normal((n, m)))


def test_ratio_of_means_error_equals_the_bootstrap_and_is_zero_at_the_reference():
    q = _realisations()
    ratio, error = ratio_of_means(q, q[:, 0])
    np.testing.assert_allclose(ratio, q.mean(0) / q[:, 0].mean(), rtol=1e-14)
    assert error[0] == 0.0
    boot = _bootstrap(lambda s: s.mean(0) / s[:, 0].mean(), q)
    np.testing.assert_allclose(error[1:], boot[1:], rtol=0.1)
    # the scaled error of the numerator, which the figures drew, is many times larger here
    scaled = q.std(0, ddof=1) / np.sqrt(q.shape[0]) / q[:, 0].mean()
    assert np.all(scaled[1:] > 5 * error[1:])


def test_difference_of_means_error_equals_the_bootstrap():
    q = _realisations(seed=3)
    diff, error = difference_of_means(q, 5)
    np.testing.assert_allclose(diff, q.mean(0) - q[:, 5].mean(), rtol=1e-12, atol=1e-12)
    assert error[5] == 0.0
    boot = _bootstrap(lambda s: s.mean(0) - s[:, 5].mean(), q)
    np.testing.assert_allclose(np.delete(error, 5), np.delete(boot, 5), rtol=0.1)


def test_one_realisation_has_no_error_and_shapes_are_checked():
    ratio, error = ratio_of_means(np.array([[1.0, 2.0]]), np.array([1.0]))
    np.testing.assert_array_equal(ratio, [1.0, 2.0])
    assert np.all(np.isnan(error))
    with pytest.raises(ValueError, match="same realisations"):
        ratio_of_means(np.ones((3, 2)), np.ones(4))


def test_collapse_flatness_error_equals_the_bootstrap():
    """Independent-TLS-like data at two frequencies: each realisation a tanh(x/2) with its own
    amplitude at each frequency (the TLS resonant at one w are not those at the other) and 3 %
    noise; the flatness R(x)/mean R(x) has a small error, R itself a large one (the level)."""
    rng = np.random.default_rng(2)
    t = np.geomspace(0.01, 0.5, 16)
    w = np.array([0.05, 0.1])
    amplitude = rng.lognormal(0.0, 0.7, size=(300, 1, 2))
    q = amplitude * law_tls(w[None, None, :] / t[None, :, None]) * (
        1 + 0.03 * rng.standard_normal((300, t.size, w.size)))
    result = frequency_collapse(t, w, q, n_bootstrap=0)
    ratio, flat, level = result.ratio[0], result.flatness_error[0], result.ratio_error[0]

    def flatness(s):
        r = frequency_collapse(t, w, s, n_bootstrap=0).ratio[0]
        return r / r.mean()

    boot = _bootstrap(flatness, q, n=300)
    np.testing.assert_allclose(flat, boot, rtol=0.25)
    assert np.median(level / ratio.mean()) > 5 * np.median(flat)
