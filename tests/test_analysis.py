"""The smoking-gun analysis: law fits, the TLS index, kernel-averaged laws, verdicts."""

import math

import numpy as np
import pytest

from manybody.analysis import (
    RATIO_GENERIC,
    RATIO_TLS,
    analyse_shape,
    fit_law,
    law_family,
    law_generic,
    law_tls,
    log_slope,
    shape_ratio,
    smeared,
)

X = np.geomspace(0.2, 10, 25)


def test_family_interpolates_the_two_laws_and_ratios():
    np.testing.assert_allclose(law_family(X, 1.0), law_tls(X), rtol=1e-14)
    np.testing.assert_allclose(law_family(X, 0.0), law_generic(X), rtol=1e-14)
    assert RATIO_TLS == pytest.approx(3.11, abs=0.01)
    assert RATIO_GENERIC == pytest.approx(2.20, abs=0.01)
    assert shape_ratio(X, law_tls(X)) == pytest.approx(RATIO_TLS, rel=2e-3)


@pytest.mark.parametrize("index", [1.0, 0.5, 0.0, -0.3])
def test_noisy_family_data_recover_the_index(index):
    rng = np.random.default_rng(int(10 * index) + 7)
    truth = 2.0 * law_family(X, index)
    q = truth + rng.normal(0, 0.01, size=(40, X.size))
    shape = analyse_shape(X, q, rng=np.random.default_rng(1))
    assert abs(shape.index - index) < 3 * shape.index_error
    assert shape.index_error < 0.05
    fits = shape.fits
    best = "tls" if index == 1.0 else "generic" if index == 0.0 else None
    if best:
        other = "generic" if best == "tls" else "tls"
        assert fits[best].aic < fits[other].aic - 10


def test_smeared_law_is_the_kernel_average():
    w, eta = 0.1, 0.02
    temperature = w / X
    energies = np.linspace(w - 8 * eta, w + 8 * eta, 4001)
    kernel = np.exp(-0.5 * ((energies - w) / eta) ** 2)
    kernel /= np.trapezoid(kernel, energies)
    direct = np.trapezoid(kernel[None, :] * np.tanh(energies[None, :] / (2 * temperature[:, None])),
                          energies, axis=1)
    np.testing.assert_allclose(smeared(law_tls, X, eta / w), direct, rtol=1e-6)
    np.testing.assert_allclose(smeared(law_tls, X, None), law_tls(X))


def test_kernel_averaged_fit_removes_the_kernel_bias():
    """A TLS spectrum broadened by eta = w/5 looks like a < 1 unless the laws are averaged too."""
    data = smeared(law_tls, X, 0.2)
    q = data + np.random.default_rng(3).normal(0, 1e-4, size=(30, X.size))
    biased = analyse_shape(X, q, n_bootstrap=50)
    corrected = analyse_shape(X, q, n_bootstrap=50, smearing=0.2)
    assert abs(corrected.index - 1) < 3 * corrected.index_error + 1e-4
    assert abs(biased.index - 1) > 10 * biased.index_error
    assert corrected.fits["family"].chi2 < 0.01 * biased.fits["family"].chi2


def test_a_curve_of_another_shape_is_called_neither():
    """S+ growing like sqrt(T) (a density vanishing at a band edge) fits neither law."""
    q_mean = law_generic(X) * np.sqrt(1 / X)
    q = q_mean + np.random.default_rng(4).normal(0, 1e-3, size=(50, X.size))
    shape = analyse_shape(X, q)
    assert shape.verdict == "neither law"
    assert shape.fits["family"].p_value < 1e-3


def test_few_noisy_realisations_are_undecided():
    rng = np.random.default_rng(5)
    q = law_tls(X) + rng.normal(0, 0.5, size=(3, X.size))
    assert analyse_shape(X, q).verdict == "undecided"


def test_log_slope():
    t = np.geomspace(0.01, 1, 9)
    slope, err = log_slope(t, 1.5 * np.log(t) + 0.2)
    assert slope == pytest.approx(1.5, abs=1e-12) and err < 1e-10
    with pytest.raises(ValueError, match="temperatures must be > 0"):
        log_slope([0.0, 1.0, 2.0], [1, 2, 3])


def test_bad_input():
    with pytest.raises(ValueError, match="at least 3 points"):
        fit_law([1.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="law must be one of"):
        fit_law(X, law_tls(X), law="gaussian")
    with pytest.raises(ValueError, match=r"q_realisations must have shape \(n_realisations, 25\)"):
        analyse_shape(X, np.ones((3, 4)))
    with pytest.raises(ValueError, match="x must span"):
        shape_ratio(np.array([1.0, 2.0, 3.0]), np.ones(3))
    assert math.isfinite(RATIO_TLS)
