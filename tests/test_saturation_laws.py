"""The saturation law Q^-1(P) = Q^-1_0 (1 + P/Pc)^-beta + Q^-1_bg (manybody.laws.saturation):
exact recovery on every power scale, recovery within errors under noise, the beta = 1/2 test,
joint fits with a shared beta, the bootstrap over realisations, and bad input refused by name."""

from __future__ import annotations

import math

import numpy as np
import pytest

from manybody.laws.saturation import (
    REJECTION_LEVEL,
    fit_saturation,
    fit_saturation_joint,
    saturation_factor,
)
from manybody.laws.saturation_comparison import (
    analyse_saturation,
    compare_exponent,
    per_curve_exponents,
)

P = np.geomspace(1e-3, 1e3, 16)  # linear power, 6 decades
TRUE = {"amplitude": 3e-6, "critical_power": 0.2, "background": 2e-7}


def law(p, beta, amplitude=TRUE["amplitude"], critical_power=TRUE["critical_power"],
        background=TRUE["background"]):
    return amplitude * (1 + p / critical_power) ** -beta + background


def test_factor_is_the_independent_tls_law_and_refuses_negative_ratios():
    r = np.array([0.0, 1.0, 3.0, 99.0])
    np.testing.assert_allclose(saturation_factor(r), [1.0, 1 / math.sqrt(2), 0.5, 0.1])
    np.testing.assert_allclose(saturation_factor(r, 1.0), 1 / (1 + r))
    with pytest.raises(ValueError, match="power_ratio"):
        saturation_factor([-0.1])


@pytest.mark.parametrize("scale", ["linear", "dB", "amplitude"])
@pytest.mark.parametrize("beta", [0.5, 0.2])
def test_noiseless_curve_recovered_exactly_on_every_scale(scale, beta):
    axis = {"linear": P, "dB": 10 * np.log10(P) - 120.0, "amplitude": np.sqrt(P)}[scale]
    pc = {"linear": 0.2, "dB": 10 * math.log10(0.2) - 120.0, "amplitude": math.sqrt(0.2)}[scale]
    fit = fit_saturation(axis, law(P, beta), scale=scale)
    assert fit.parameters["beta"] == pytest.approx(beta, rel=1e-6)
    assert fit.parameters["critical_power"] == pytest.approx(pc, rel=1e-6, abs=1e-6)
    assert fit.parameters["amplitude"] == pytest.approx(TRUE["amplitude"], rel=1e-6)
    assert fit.parameters["background"] == pytest.approx(TRUE["background"], rel=1e-5)
    np.testing.assert_allclose(fit.predict(axis), law(P, beta), rtol=1e-8)
    assert fit.at_bound == ()


def test_zero_power_is_allowed_on_a_linear_scale_and_gives_the_unsaturated_loss():
    p = np.concatenate([[0.0], P])
    fit = fit_saturation(p, law(p, 0.5, background=0.0), background=False)
    assert fit.predict([0.0])[0] == pytest.approx(TRUE["amplitude"], rel=1e-8)
    assert "background" not in fit.parameters


@pytest.mark.parametrize("seed", range(6))
def test_noisy_curves_recovered_within_their_errors(seed):
    rng = np.random.default_rng(seed)
    beta = 0.3
    q = law(P, beta)
    sigma = 0.02 * q
    fit = fit_saturation(P, q + sigma * rng.standard_normal(P.size), sigma)
    for name, truth in {**TRUE, "beta": beta}.items():
        assert abs(fit.parameters[name] - truth) < 3.5 * fit.errors[name], name
    assert not fit.errors_scaled and 0 < fit.p_value <= 1


def test_known_sigma_errors_match_the_scatter_of_repeated_fits():
    rng = np.random.default_rng(7)
    q = law(P, 0.3)
    betas, errors = [], []
    for _ in range(60):
        fit = fit_saturation(P, q * (1 + 0.02 * rng.standard_normal(P.size)), 0.02 * q)
        betas.append(fit.parameters["beta"])
        errors.append(fit.errors["beta"])
    assert np.std(betas, ddof=1) == pytest.approx(np.median(errors), rel=0.3)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_beta_one_half_is_not_rejected_and_beta_0_2_is(seed):
    rng = np.random.default_rng(seed)
    noise = 1 + 0.02 * rng.standard_normal(P.size)
    half = compare_exponent([(P, law(P, 0.5) * noise)])
    assert half.test == "F" and half.p_value > REJECTION_LEVEL and half.preferred == "fixed"
    assert abs(half.z) < 3
    weak = compare_exponent([(P, law(P, 0.2) * noise)])
    assert weak.p_value < 1e-3 and weak.preferred == "free"
    assert weak.free.parameters["beta"] == pytest.approx(0.2, abs=4 * weak.free.errors["beta"])


def test_likelihood_ratio_with_known_sigma_is_the_chi2_difference():
    rng = np.random.default_rng(3)
    q = law(P, 0.35)
    sigma = 0.01 * q
    cmp = compare_exponent([(P, q + sigma * rng.standard_normal(P.size), sigma)])
    assert cmp.test == "likelihood-ratio"
    assert cmp.statistic == pytest.approx(cmp.fixed.chi2 - cmp.free.chi2)
    assert cmp.p_value < 1e-3  # 0.35 vs 0.5 at 1 % noise over six decades


def test_joint_fit_shares_beta_and_keeps_each_critical_power():
    rng = np.random.default_rng(11)
    pcs = (0.02, 0.2, 2.0)
    curves = []
    for pc in pcs:
        q = law(P, 0.25, critical_power=pc)
        curves.append((P, q * (1 + 0.01 * rng.standard_normal(P.size))))
    fit = fit_saturation_joint(curves, labels=["a", "b", "c"])
    assert fit.parameters["beta"] == pytest.approx(0.25, abs=4 * fit.errors["beta"])
    for lb, pc in zip("abc", pcs, strict=True):
        got, err = fit.parameters[f"critical_power[{lb}]"], fit.errors[f"critical_power[{lb}]"]
        assert abs(got - pc) < 4 * err
    assert fit.value("critical_power", 2) == fit.parameters["critical_power[c]"]
    single = per_curve_exponents(curves, ["a", "b", "c"])
    assert all(abs(c.free.parameters["beta"] - 0.25) < 4 * c.free.errors["beta"] for c in single)


def test_bootstrap_over_realisations_gives_the_error_of_beta():
    rng = np.random.default_rng(5)
    q = law(P, 0.3)[None, :] * (1 + 0.05 * rng.standard_normal((12, P.size)))
    res = analyse_saturation(P, q, n_bootstrap=40, rng=np.random.default_rng(0))
    assert res.error_source == "bootstrap" and res.n_bootstrap == 40
    assert 0 < res.beta_error < 0.2
    assert abs(res.beta - 0.3) < 4 * res.beta_error
    one = analyse_saturation(P, q[:1])
    assert one.error_source == "covariance" and one.beta_error > 0


@pytest.mark.parametrize(("power", "loss", "kwargs", "match"), [
    ([0.1, np.nan, 1.0, 10.0, 100.0], [5, 4, 3, 2, 1], {}, "power must contain only finite"),
    ([0.1, 1.0, 10.0, 100.0, 1e3], [5, 4, np.inf, 2, 1], {}, "loss must contain only finite"),
    ([-1.0, 1.0, 10.0, 100.0, 1e3], [5, 4, 3, 2, 1], {}, "power must be >= 0 on the linear"),
    ([-1.0, 1.0, 10.0, 100.0, 1e3], [5, 4, 3, 2, 1], {"scale": "amplitude"}, "amplitude scale"),
    ([0.1, 1.0, 10.0, 100.0], [5, 4, 3, 2], {}, "more points than parameters: 4 point"),
    ([0.1, 1.0, 10.0, 100.0, 1e3], [1, 2, 3, 4, 5], {}, "must decrease with power"),
    ([0.1, 1.0, 10.0, 100.0, 1e3], [5, 4, 0, 2, 1], {}, "loss must be > 0"),
    ([0.1, 1.0, 10.0, 100.0, 1e3], [5, 4, 3, 2, 1], {"scale": "log"}, "scale must be one of"),
    ([0.1, 1.0, 10.0, 100.0, 1e3], [5, 4, 3, 2, 1], {"beta": -0.5}, "beta must be > 0"),
    ([1.0, 1.0, 10.0, 10.0, 10.0], [5, 4, 3, 2, 1], {}, "2 distinct power"),
])
def test_bad_input_is_refused_by_name(power, loss, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit_saturation(power, loss, **kwargs)


def test_sigma_for_some_curves_only_is_refused():
    with pytest.raises(ValueError, match="sigma must be given for all curves"):
        fit_saturation_joint([(P, law(P, 0.5), 0.01 * law(P, 0.5)), (P, law(P, 0.5))])


def test_bad_ensemble_shape_is_refused():
    with pytest.raises(ValueError, match="loss_realisations must have shape"):
        analyse_saturation(P, np.ones((3, P.size + 1)))


@pytest.mark.parametrize(("powers", "warned"), [((-120, -110, -100, -90), True),
                                                ((-160, -140, -120, -100, -80), False)])
def test_a_critical_power_below_every_drive_power_is_warned_about(powers, warned):
    """Powers at or above Pc only: amplitude and Pc correlate (-0.92) and the amplitude's pulls
    had rms 1.33, one at -4.7 (a new user, session 35); powers spanning Pc gave rms ~1.0."""
    import warnings

    from manybody.laws.inputs import LossCurve, parse_frequency
    from manybody.measured.comparison import compare_laws

    w = parse_frequency("5GHz")
    t = np.geomspace(0.02, 0.8, 10)
    rng = np.random.default_rng(11)
    curves = []
    for p in powers:
        loss = 1e-6 * np.tanh(w / (2 * t)) / np.sqrt(1 + 10 ** ((p + 120) / 10)) + 2e-7
        noisy = loss * (1 + 0.03 * rng.standard_normal(t.size))
        curves.append(LossCurve(t, noisy, 0.03 * noisy, power=float(p), label=f"{p} dBm"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compare_laws(curves, w, saturation=True)
    said = [str(x.message) for x in caught if "critical power" in str(x.message)]
    assert bool(said) == warned, said


def test_uneven_per_curve_scatter_of_a_saturation_fit_is_warned_about():
    """Without given errors a wrong saturation exponent (0.3 against the law's 1/2) went into
    per-curve scatters of 1.4-10 % (truth 3 %) with no word (a new user, session 35); the
    warning is rare for data of the law (1 in 60 seeds measured) and common for beta = 0.3."""
    import warnings

    from manybody.laws.inputs import LossCurve, parse_frequency
    from manybody.measured.comparison import compare_laws

    w = parse_frequency("5GHz")
    t = np.geomspace(0.02, 0.8, 10)
    counts = {}
    for beta in (0.5, 0.3):
        counts[beta] = 0
        for seed in range(12):
            rng = np.random.default_rng(seed)
            curves = [LossCurve(t, (1e-6 * np.tanh(w / (2 * t)) * (1 + 10 ** ((p + 120) / 10))
                                    ** (-beta) + 2e-7) * (1 + 0.03 * rng.standard_normal(t.size)),
                                None, power=float(p), label=f"{p} dBm")
                      for p in range(-160, -79, 10)]
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                compare_laws(curves, w, saturation=True)
            counts[beta] += any("scatter estimated for each curve" in str(x.message)
                                for x in caught)
    assert counts[0.5] <= 1 and counts[0.3] >= 4, counts


@pytest.mark.parametrize("noise", [0.03, 0.0])
def test_few_points_per_curve_or_no_noise_raise_no_scatter_warning(noise):
    """A fixed 5x bound on the scatters fired on data of the law in 13 of 20 seeds with 5
    points x 17 curves, and on noise-free data (scatters of rounding); session 35."""
    import warnings

    from manybody.laws.inputs import LossCurve, parse_frequency
    from manybody.measured.comparison import compare_laws

    w = parse_frequency("5GHz")
    t = np.geomspace(0.02, 0.8, 5)
    warned = 0
    for seed in range(6 if noise else 1):
        rng = np.random.default_rng(seed + 1000)
        curves = [LossCurve(t, (1e-6 * np.tanh(w / (2 * t)) / np.sqrt(1 + 10 ** ((p + 120) / 10))
                                + 2e-7) * (1 + noise * rng.standard_normal(t.size)),
                            None, power=float(p), label=f"{p} dBm")
                  for p in range(-160, -79, 5)]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            compare_laws(curves, w, saturation=True)
        warned += any("scatter estimated for each curve" in str(x.message) for x in caught)
    assert warned == 0
