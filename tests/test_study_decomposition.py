"""The study's reduction of one sweep point to the decomposition numbers
(manybody.study.decomposition; docs/PHYSICS.md section 7)."""

import math

import numpy as np
import pytest

from manybody.config.model import CouplingParams, ModelParams, TLSParams
from manybody.laws.shapes import law_values
from manybody.study.decomposition import control_parameters, decompose

X = np.geomspace(0.2, 12.8, 25)


def test_control_parameters_are_lambda_and_chi():
    model = ModelParams(n_tls=4, tls=TLSParams(asymmetry_max=0.3, tunnelling_min=1e-3,
                                               tunnelling_max=0.3),
                        coupling=CouplingParams(kind="dipolar", strength=0.01))
    lam, chi = control_parameters(model)
    assert lam == pytest.approx(0.01 / 0.3, rel=1e-15)
    assert chi == pytest.approx(0.01 / (0.3 * math.log(300.0)), rel=1e-15)
    assert control_parameters(ModelParams(n_tls=4)) == (0.0, 0.0)
    no_tls = ModelParams.from_dict({"n_tls": 3, "tls": False,
                                    "random_matrix": {"kind": "goe", "weight": 1.0}})
    assert all(math.isnan(v) for v in control_parameters(no_tls))


def test_a_temperature_independent_resonant_density_rises_by_exactly_one():
    rng = np.random.default_rng(1)
    amplitude = rng.uniform(0.5, 1.5, (40, 1))  # per-realisation resonant density
    q = amplitude * law_values("tls", X, smearing=0.2)
    d = decompose(X, {"absorption": q}, 0.2)
    assert d.resonant_density_rise == pytest.approx(1.0, abs=1e-12)


def test_a_rising_resonant_density_is_measured_with_a_calibrated_error():
    """rho_eff growing by 1.5 from the coldest to the hottest temperature, realisation noise:
    the reported rise covers the truth within 3 of its errors in >= 95 % of draws, and the error
    is the spread of the estimate over draws."""
    rho = 1.0 + 0.5 * (1.0 / X) / (1.0 / X).max()  # 1.5 at x = 0.2 ... ~1.0 at x = 12.8
    truth = rho[0] / rho[-1]
    estimates, errors = [], []
    rng = np.random.default_rng(2)
    for _ in range(300):
        noise = rng.gamma(4.0, 0.25, (60, X.size))  # positive, skewed, mean 1
        q = noise * rho * law_values("tls", X)
        d = decompose(X, {"absorption": q}, None)
        estimates.append(d.resonant_density_rise)
        errors.append(d.resonant_density_rise_error)
    estimates, errors = np.array(estimates), np.array(errors)
    assert np.mean(np.abs(estimates - truth) < 3 * errors) >= 0.95
    assert np.median(errors) == pytest.approx(np.std(estimates), rel=0.25)


def test_single_tls_fraction_is_weighted_by_the_absorption():
    q = np.array([[1.0] * X.size, [3.0] * X.size])
    fraction = np.array([[1.0] * X.size, [0.5] * X.size])
    d = decompose(X, {"absorption": q, "single_tls_fraction": fraction}, None)
    assert d.single_tls_fraction == pytest.approx((1.0 + 1.5) / 4.0)
    assert d.single_tls_fraction_min == pytest.approx(0.625)


def test_a_rise_carried_by_one_realisation_has_an_error_as_wide_as_its_resamples():
    """One realisation carrying most of both the hot and the cold mean: the delta method's
    covariance term cancelled its variances and a rise of 188 came out +- 0.22 (a new user,
    session 27); the error is now at least the spread over resamples of the realisations."""
    q = np.full((8, X.size), 1e-9)
    q[:, -1] = np.linspace(0.0, 1e-9, 8)
    q[5] = np.linspace(0.052 * 8, 2.8e-3 * 8, X.size)
    d = decompose(X, {"absorption": q}, None)
    assert d.resonant_density_rise_error > 0.2 * d.resonant_density_rise


def test_a_value_with_an_infinite_error_is_not_printed_as_if_exact():
    """The tiny study printed a contrast of 8.44e137 whose bootstrap error had overflowed as a
    bare number (a new user, session 27)."""
    from manybody.support.table_text import plus_minus

    assert plus_minus(8.44e137, math.inf) == plus_minus(8.44e137, math.nan) == "8.44e+137 ± ?"
    assert plus_minus(0.5, 0.1) == "0.50 ± 0.10"


def test_an_index_at_the_family_bound_is_printed_as_a_bound():
    """A fit that ran to the family's bound printed '-0.999 ± 0.000' (its bootstrap resamples
    sit there too), which looks precise (a new user, session 27)."""
    from manybody.study.summary import index_text

    assert index_text(-0.999, 2e-14) == "<= -0.999 (at bound)"
    assert index_text(100.0, 0.0) == ">= 100 (at bound)"
    assert index_text(0.974, 0.017) == "0.974 ± 0.017"
    assert index_text(-0.999 + 2e-6, 1e-9) == "<= -0.999 (at bound)"  # '-1.00 ± 0.00' (s38)


def test_a_rise_whose_resampled_ratios_overflow_has_an_infinite_error_and_no_warning():
    """A cold absorption of ~1e-300 in most realisations: the resampled ratios overflowed in the
    bootstrap's std and the study printed a bare 'overflow encountered in square' warning
    (a new user, session 35); the ratio is not determined: the error is infinite, quietly."""
    import warnings

    q = np.full((8, X.size), 1.0)
    q[:, -1] = 1e-300
    q[3, -1] = 1e-3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = decompose(X, {"absorption": q}, None)
    assert d.resonant_density_rise_error == math.inf


def test_the_decomposition_table_prints_a_scb_index_at_the_family_bound_as_a_bound():
    """The shape table printed an index at the family bound as '<= -0.999 (at bound)', the
    decomposition table the same situation of the SCB index as '-1.00 ± 0.00' (a tester,
    session 38)."""
    from manybody.study.summary import PointSummary, format_decomposition_table

    row = PointSummary(study="decomposition", parameter="strength", value=0.03, n_tls=4,
                       realisations=5, index=0.5, index_error=0.1, ratio=2.5, ratio_error=0.1,
                       spacing_ratio=0.39, spacing_ratio_error=math.nan, reduced_chi2_tls=1.0,
                       reduced_chi2_generic=2.0, verdict="in between",
                       index_configuration_bath=-0.999, index_configuration_bath_error=2.1e-14,
                       index_configuration_bath_infinite=0.63,
                       index_configuration_bath_infinite_error=0.15)
    line = format_decomposition_table([row]).splitlines()[2]
    assert "| <= -0.999 (at bound) | 0.63 ± 0.15 |" in line and "-1.00 ± 0.00" not in line
