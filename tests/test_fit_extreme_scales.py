"""The fitting engines at extreme scales of the data (session 28).

A fit must not depend on the units of the loss, of its errors or of the power axis, nor on a
constant background added to a loss with a background term, beyond the digits the data
themselves lose. Found by a reviewer (session 27) and fixed here:

* ``fit_loss`` (the grid-start engine of ``fit-data``) under a background 1e7-1e9 times the
  temperature-dependent part returned a = 0.72-0.75 where the optimum is 0.70: it fitted the
  loss in units of its median, so the temperature dependence sat in the last digits of every
  residual and least_squares' finite-difference steps lost the index. Its absolute error model
  (base error 1 in the units of the loss) stopped at the grid start for a loss of 1e-9, and failed
  at 1e-200 and 1e200.
* ``fit_law``, ``fit_loss`` and ``fit_saturation`` reported errors of 0 or inf for data of
  1e+-160 and beyond: the variances were scaled to the data's units (var * scale^2), not the
  standard errors. ``fit_saturation`` refused drive amplitudes of 1e-200 or 1e160 (squared before
  they were divided), gave a critical power of 1e160 an infinite error, stopped at its grid start
  with errors 1e6 times the scatter, and turned the infinite variance of an undetermined
  parameter into NaN for every parameter (0 * inf in diag(d) @ cov @ diag(d)).

References are the same fit at unit scale (scaled), or variable projection (exact least squares
in the linear parameters at each index, a bounded 1-d search in the index) on the data measured
from their lowest value, where the subtraction is exact.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import optimize

from manybody.laws.covariance import correlation, covariance, rescale
from manybody.laws.fit import fit_joint, fit_law, fit_loss
from manybody.laws.inputs import LossCurve
from manybody.laws.saturation import fit_saturation, fit_saturation_joint
from manybody.laws.shapes import law_values

# these fits are given quality-factor-sized values on purpose (scale invariance): the
# LossScaleWarning that asks 'Qi passed as the loss?' is expected here, not a fault
pytestmark = pytest.mark.filterwarnings("ignore::manybody.laws.inputs.LossScaleWarning")

W = 0.27  # K
T = np.geomspace(0.02, 1.0, 25)
X = W / T
EXTREME = (1e-200, 1e-160, 1e160, 1e200)
#: Loss scales of the invariance checks: ordinary and extreme.
SCALES = (1e-9, 1e-6, 1e3, *EXTREME)
#: Backgrounds in units of the amplitude of the temperature-dependent part.
BACKGROUNDS = (1.0, 1e3, 1e6, 1e7, 1e9)


def _noise(seed: int, n: int = T.size) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=n)


def _loss(seed: int, index: float = 0.7, background: float = 0.3) -> np.ndarray:
    """A family law of amplitude 1 with background, 1 % noise (of the amplitude)."""
    return law_values("family", X, index) + background + 0.01 * _noise(seed)


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args, **kwargs)


def _variable_projection(y: np.ndarray, base: np.ndarray, lo: float, hi: float) -> float:
    """The index minimising the weighted chi2 of A L(x; a) + B, A and B solved exactly."""
    offset = float(np.min(y))
    rel = (y - offset) / base  # exact subtraction (Sterbenz) for a dominant background

    def chi2_at(a):
        design = np.stack([law_values("family", X, a), np.ones_like(X)], 1) / base[:, None]
        coef, *_ = np.linalg.lstsq(design, rel, rcond=None)
        r = rel - design @ coef
        return float(r @ r)

    return optimize.minimize_scalar(chi2_at, bounds=(lo, hi), method="bounded",
                                    options={"xatol": 1e-10}).x


def _assert_scaled(fit, ref, scale: float, linear: tuple[str, ...], rtol: float,
                   error_scale: float | None = None) -> None:
    """fit's parameters are ref's times scale (linear ones) and its errors ref's times
    error_scale (linear) or error_scale / scale (nonlinear), finite and non-zero."""
    error_scale = scale if error_scale is None else error_scale
    for name, value in ref.parameters.items():
        unit = scale if name.startswith(linear) else 1.0
        assert fit.parameters[name] == pytest.approx(value * unit, rel=rtol, abs=0), name
    for name, err in ref.errors.items():
        unit = error_scale if name.startswith(linear) else error_scale / scale
        got = fit.errors[name]
        if err == 0.0:  # a fixed parameter (beta of a saturation fit with beta given)
            assert got == 0.0
            continue
        assert math.isfinite(got) and got > 0, (name, got)
        assert got == pytest.approx(err * unit, rel=max(rtol, 1e-7)), name
    np.testing.assert_allclose(fit.correlation, ref.correlation, atol=1e-6)


def _assert_covariance_where_representable(fit, ref, scale: float,
                                           linear: tuple[str, ...]) -> None:
    """Every covariance entry whose value is inside the normal floating-point range is the
    unit-scale one times its units; the others are 0 or inf, never NaN."""
    units = np.array([scale if n.startswith(linear) else 1.0 for n in ref.parameter_names])
    for i in range(units.size):
        for j in range(units.size):
            expected_log = (math.log10(abs(ref.covariance[i, j]) or 1e-300)
                            + math.log10(units[i]) + math.log10(units[j]))
            got = fit.covariance[i, j]
            assert not math.isnan(got)
            if -300 < expected_log < 300:
                want = ref.covariance[i, j] * units[i] * units[j] if abs(expected_log) < 150 \
                    else math.copysign(10.0 ** expected_log, ref.covariance[i, j])
                assert got == pytest.approx(want, rel=1e-5), (i, j)


# --------------------------------------------------------------- fault 1: a large background


@pytest.mark.parametrize("seed", [0, 1])
def test_fit_loss_is_invariant_under_a_large_background_and_the_loss_scale(seed):
    """With given errors, adding a constant background (1-1e9 times the amplitude) only moves
    the fitted background: the index, amplitude and their errors are those without it, at every
    loss scale (a = 0.72-0.75 for 0.70 before, at backgrounds 1e7-1e9)."""
    ref = _quiet(fit_loss, T, _loss(seed), W, sigma=0.01, background=True)
    for scale in (1.0, 1e-9, 1e3, 1e-200, 1e200):
        for background in BACKGROUNDS:
            y = scale * (_loss(seed) + background)
            fit = _quiet(fit_loss, T, y, W, sigma=0.01 * scale, background=True)
            # the data's own rounding at a background 1e9 times the amplitude is ~1e-7 of it
            tol = 1e-3 if background >= 1e6 else 1e-6
            for name in ("index", "amplitude"):
                unit = scale if name == "amplitude" else 1.0
                assert abs(fit.parameters[name] - unit * ref.parameters[name]) \
                    <= tol * unit * ref.errors[name], (scale, background, name)
                assert fit.errors[name] == pytest.approx(unit * ref.errors[name], rel=1e-4)
            assert fit.parameters["background"] / scale == pytest.approx(
                ref.parameters["background"] + background, rel=1e-12, abs=1e-8)
            assert fit.chi2 == pytest.approx(ref.chi2, rel=tol), (scale, background)


@pytest.mark.parametrize("seed", [0, 1])
def test_fit_loss_with_a_background_agrees_with_fit_law_and_variable_projection(seed):
    """The grid-start engine (fit_loss, in T) and the fixed-start one (fit_law, in x) fit the
    same model with the same given errors: the same optimum, that of variable projection, at
    every background and scale."""
    for scale in (1e-9, 1.0, 1e3):
        for background in BACKGROUNDS:
            y = scale * (_loss(seed) + background)
            sigma = np.full_like(y, 0.01 * scale)
            loss_fit = _quiet(fit_loss, T, y, W, sigma=sigma, background=True)
            law_fit = _quiet(fit_law, X, y, sigma, background=True)
            a_vp = _variable_projection(y, sigma, 0.0, 2.0)
            err = loss_fit.errors["index"]
            assert abs(loss_fit.parameters["index"] - law_fit.parameters["index"]) <= 1e-3 * err
            assert abs(loss_fit.parameters["index"] - a_vp) <= 1e-3 * err, (scale, background)
            assert loss_fit.chi2 == pytest.approx(law_fit.chi2, rel=1e-6)


@pytest.mark.parametrize("background", BACKGROUNDS)
def test_relative_error_model_under_a_large_background_is_variable_projection(background):
    """Without errors (relative error model, the default of fit-data): the index is that of
    variable projection with the same weights, the fitted |Q^-1| (session 49: the measured
    |Q^-1| before, which biased the amplitude low), whatever the background."""
    for scale in (1e-9, 1.0, 1e3):
        y = scale * (_loss(3) + background)
        fit = _quiet(fit_loss, T, y, W, background=True)
        a_vp = _variable_projection(y, np.abs(fit.predict(T)), 0.0, 2.0)
        assert abs(fit.parameters["index"] - a_vp) <= 1e-3 * fit.errors["index"], scale


@pytest.mark.parametrize("error_model", ["absolute", "relative"])
def test_estimated_scatter_fits_do_not_depend_on_the_loss_scale(error_model):
    """Without given errors, at loss scales 1e-9..1e3 and 1e+-160, 1e+-200: the same index,
    amplitudes scaled, errors scaled and finite, the rms scatter scaled (absolute model) or the
    same (relative); AIC shifted by 2 n ln(scale) for the absolute model (the profile
    likelihood's residual sum is in the loss's units) and unchanged for the relative one. (The
    absolute model stopped at its grid start for a loss of 1e-9 and failed at 1e-200.)"""
    ref = _quiet(fit_loss, T, _loss(4), W, background=True, error_model=error_model)
    for scale in SCALES:
        fit = _quiet(fit_loss, T, scale * _loss(4), W, background=True, error_model=error_model)
        _assert_scaled(fit, ref, scale, ("amplitude", "background"), rtol=1e-7)
        unit = scale if error_model == "absolute" else 1.0
        assert fit.rms_scatter == pytest.approx(ref.rms_scatter * unit, rel=1e-7)
        shift = 2 * T.size * math.log(scale) if error_model == "absolute" else 0.0
        assert fit.aic == pytest.approx(ref.aic + shift, rel=1e-9, abs=1e-6)


def test_per_curve_scatter_joint_fit_does_not_depend_on_the_loss_scale():
    """Two curves, a scatter each (iterated reweighting), absolute and relative error models."""
    curves = [_loss(5), 1.1 * _loss(6) + 0.05]
    for error_model in ("absolute", "relative"):
        ref = _quiet(fit_joint, [LossCurve(T, y, None, None, f"c{i}")
                                 for i, y in enumerate(curves)], W, error_model=error_model)
        for scale in SCALES:
            fit = _quiet(fit_joint, [LossCurve(T, scale * y, None, None, f"c{i}")
                                     for i, y in enumerate(curves)], W, error_model=error_model)
            _assert_scaled(fit, ref, scale, ("amplitude", "background"), rtol=1e-6)
            unit = scale if error_model == "absolute" else 1.0
            np.testing.assert_allclose(fit.curve_scatter, np.array(ref.curve_scatter) * unit,
                                       rtol=1e-6)


def test_given_errors_scaled_alone_leave_the_fit_and_scale_its_errors():
    """Errors 1e-6..1e6 times (and 1e+-150 times) the scatter: the same parameters, errors and
    chi2 scaled by the factor and its inverse square (errors 1e6 times the scatter, residuals of
    1e-6, used to stop the saturation fit at its grid start)."""
    y = _loss(7)
    ref = _quiet(fit_loss, T, y, W, sigma=0.01, background=True)
    p = np.geomspace(0.01, 100.0, 14)
    q = (2.0 / np.sqrt(1 + p / 0.5) + 0.1) * (1 + 0.01 * _noise(8, p.size))
    sat_ref = fit_saturation(p, q, 0.01 * q)
    for factor in (1e-150, 1e-6, 1e6, 1e150):
        fit = _quiet(fit_loss, T, y, W, sigma=0.01 * factor, background=True)
        _assert_scaled(fit, ref, 1.0, ("amplitude", "background"), rtol=1e-7,
                       error_scale=factor)
        assert fit.chi2 == pytest.approx(ref.chi2 / factor**2, rel=1e-7)
        sat = fit_saturation(p, q, 0.01 * q * factor)
        _assert_scaled(sat, sat_ref, 1.0, ("amplitude", "background"), rtol=1e-7,
                       error_scale=factor)
        assert sat.chi2 == pytest.approx(sat_ref.chi2 / factor**2, rel=1e-7)


# --------------------------------------------------------------- fault 2: errors at 1e+-200


@pytest.mark.parametrize("scale", EXTREME)
@pytest.mark.parametrize("background", [False, True])
def test_fit_law_errors_scale_with_the_data(scale, background):
    """fit_law with errors 1 % of the amplitude: at 1e+-160 and 1e+-200 the errors were 0 or
    inf. Now the unit-scale fit's, scaled; the covariance right wherever representable."""
    y = _loss(9, background=0.3 if background else 0.0)
    sigma = np.full_like(y, 0.01)
    ref = fit_law(X, y, sigma, background=background)
    fit = fit_law(X, scale * y, scale * sigma, background=background)
    # (to curve_fit's default tolerances, which fit_law keeps: its inputs differ in rounding)
    _assert_scaled(fit, ref, scale, ("amplitude", "background"), rtol=1e-7)
    _assert_covariance_where_representable(fit, ref, scale, ("amplitude", "background"))
    assert fit.chi2 == pytest.approx(ref.chi2, rel=1e-9)


@pytest.mark.parametrize("scale", EXTREME)
def test_fit_law_with_unit_weights_at_extreme_scales(scale):
    """Unit weights (no sigma): the scatter is estimated from the residuals (since session 28,
    tests/test_fit_scales_followup.py), so the errors scale with the data like the parameters,
    and the rms scatter is the data's (it was sqrt of an overflowed or underflowed residual
    sum)."""
    y = _loss(10)
    ref = fit_law(X, y, background=True)
    fit = fit_law(X, scale * y, background=True)
    for name, value in ref.parameters.items():
        unit = 1.0 if name == "index" else scale
        assert fit.parameters[name] == pytest.approx(value * unit, rel=1e-7)
    assert fit.errors["amplitude"] == pytest.approx(ref.errors["amplitude"] * scale, rel=1e-7)
    assert fit.errors["index"] == pytest.approx(ref.errors["index"], rel=1e-7)
    assert fit.rms_scatter == pytest.approx(ref.rms_scatter * scale, rel=1e-9)


@pytest.mark.parametrize("scale", EXTREME)
@pytest.mark.parametrize("how", ["sigma", "relative", "absolute"])
def test_fit_loss_errors_scale_with_the_data(scale, how):
    """fit_loss with given errors or an estimated scatter: parameters and errors of the
    unit-scale fit, scaled; the covariance right wherever representable (it was 0 or inf for the
    linear parameters at 1e+-160 and beyond, the errors too with given sigma)."""
    y = _loss(11)
    kwargs = {"sigma": 0.01} if how == "sigma" else {"error_model": how}
    ref = _quiet(fit_loss, T, y, W, background=True, **kwargs)
    if how == "sigma":
        kwargs["sigma"] = 0.01 * scale
    fit = _quiet(fit_loss, T, scale * y, W, background=True, **kwargs)
    _assert_scaled(fit, ref, scale, ("amplitude", "background"), rtol=1e-7)
    _assert_covariance_where_representable(fit, ref, scale, ("amplitude", "background"))


def test_fit_loss_with_temperature_and_frequency_scaled_together():
    """x = w / T is all the law sees: T and w scaled together leave the fit."""
    y = _loss(12)
    ref = _quiet(fit_loss, T, y, W, sigma=0.01, background=True)
    for factor in (1e-3, 1e-2, 10.0, 500.0):
        fit = _quiet(fit_loss, T * factor, y, W * factor, sigma=0.01, background=True)
        _assert_scaled(fit, ref, 1.0, ("amplitude", "background"), rtol=1e-7)


def _saturation_data(seed: int):
    p = np.geomspace(0.01, 100.0, 14)
    q = (2.0 / np.sqrt(1 + p / 0.5) + 0.1) * (1 + 0.01 * _noise(seed, p.size))
    return p, q


@pytest.mark.parametrize("scale", EXTREME)
@pytest.mark.parametrize("kwargs", [{"sigma": True}, {}, {"error_model": "absolute"},
                                    {"beta": 0.5}])
def test_fit_saturation_errors_scale_with_the_loss(scale, kwargs):
    """Q^-1_0 and the background scale with the loss, Pc and beta stay; the errors too (0 or inf
    before at 1e+-160 and beyond)."""
    p, q = _saturation_data(13)
    opts = dict(kwargs)
    sigma = 0.01 * q if opts.pop("sigma", False) else None
    ref = fit_saturation(p, q, sigma, **opts)
    fit = fit_saturation(p, scale * q, None if sigma is None else scale * sigma, **opts)
    _assert_scaled(fit, ref, scale, ("amplitude", "background"), rtol=1e-8)
    _assert_covariance_where_representable(fit, ref, scale, ("amplitude", "background"))


@pytest.mark.parametrize("axis", ["linear", "amplitude"])
@pytest.mark.parametrize("scale", [1e-9, 1e6, *EXTREME])
def test_fit_saturation_power_axis_scale(axis, scale):
    """Powers (or drive amplitudes) scaled: Pc scales with them, its error too, the rest stays.
    Amplitudes of 1e-200 and 1e160 were refused (squared first); a linear Pc of 1e160 had an
    infinite error."""
    p, q = _saturation_data(14)
    axis_p = p if axis == "linear" else np.sqrt(p)
    ref = fit_saturation(axis_p, q, 0.01 * q, scale=axis)
    fit = fit_saturation(scale * axis_p, q, 0.01 * q, scale=axis)
    for name, value in ref.parameters.items():
        unit = scale if name == "critical_power" else 1.0
        assert fit.parameters[name] == pytest.approx(value * unit, rel=1e-8), name
        err = fit.errors[name]
        assert math.isfinite(err) and err > 0
        assert err == pytest.approx(ref.errors[name] * unit, rel=1e-7), name
    grid = scale * axis_p[[0, 5, -1]]
    np.testing.assert_allclose(fit.predict(grid), ref.predict(axis_p[[0, 5, -1]]), rtol=1e-8)


def test_joint_saturation_fit_errors_scale_with_the_loss():
    p, q1 = _saturation_data(15)
    _, q2 = _saturation_data(16)
    curves = [(p, q1, 0.01 * q1), (p, 0.5 * q2, 0.005 * q2)]
    ref = fit_saturation_joint(curves)
    for scale in EXTREME:
        fit = fit_saturation_joint([(c[0], scale * c[1], scale * c[2]) for c in curves])
        _assert_scaled(fit, ref, scale, ("amplitude", "background"), rtol=1e-8)


def test_saturation_fit_with_undetermined_parameters_reports_infinite_errors_not_nan():
    """A loss that barely decreases: the data do not determine Pc and beta. The covariance
    marks them infinite; scaled as diag(d) @ cov @ diag(d), 0 * inf made every error NaN."""
    p = np.geomspace(0.01, 100.0, 10)
    q = 1.0 + 0.01 * _noise(0, p.size)
    q[0], q[-1] = 1.05, 0.95
    fit = fit_saturation(p, q, np.full_like(q, 0.01))
    assert not any(math.isnan(e) for e in fit.errors.values()), fit.errors
    assert math.isinf(fit.errors["critical_power"])


# --------------------------------------------------------------- the covariance helpers


def test_rescale_is_the_plain_product_where_it_is_representable_and_right_beyond():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(6, 3))
    cov = np.linalg.inv(a.T @ a)
    f = np.array([3.7e-5, 1.0, 2.2e3])
    scaled, errors = rescale(cov, f)
    assert np.array_equal(scaled, cov * np.outer(f, f))  # bit for bit
    assert np.array_equal(errors, np.sqrt(np.diag(cov)) * f)
    for big in (1e-200, 1e200):
        scaled, errors = rescale(cov, f * big)
        np.testing.assert_allclose(errors, np.sqrt(np.diag(cov)) * f * big, rtol=1e-15)
        # the variances (1e+-400) are beyond the range: 0 or inf, never NaN
        assert not np.any(np.isnan(scaled))
    # one parameter of 1e-200, one of 1e200: the mixed entries are representable
    scaled, _ = rescale(cov[:2, :2], [1e-200, 1e200])
    assert scaled[0, 1] == pytest.approx(cov[0, 1], rel=1e-15)
    # an undetermined parameter keeps inf on the diagonal and NaN in its row, the others finite
    und = covariance(np.c_[a[:, :2], np.zeros(6)])
    scaled, errors = rescale(und, [2.0, 3.0, 5.0])
    assert math.isinf(errors[2]) and np.all(np.isfinite(errors[:2]))
    assert np.all(np.isfinite(scaled[:2, :2])) and np.all(np.isnan(scaled[2, :2]))
    with pytest.raises(ValueError, match="factors must be finite"):
        rescale(cov, [1.0, np.inf, 1.0])
    with pytest.raises(ValueError, match=r"cov must be \(k, k\)"):
        rescale(cov, [1.0, 1.0])


def test_correlation_is_unit_free_and_marks_undetermined_parameters():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(8, 3))
    cov = np.linalg.inv(a.T @ a)
    d = np.array([1e-150, 1.0, 1e150])
    np.testing.assert_allclose(correlation(cov * np.outer(d, d)), correlation(cov), atol=1e-14)
    np.testing.assert_allclose(np.diag(correlation(cov)), 1.0)
    und = correlation(covariance(np.c_[a[:, :2], np.zeros(8)]))
    assert np.all(np.isnan(und[2])) and np.all(np.isnan(und[:, 2]))
    assert und[0, 0] == 1.0 and abs(und[0, 1]) < 1


def test_covariance_of_a_jacobian_column_beyond_1e154():
    """A column of 1e160: its squares overflowed in the column norm, which made the column
    zero after normalisation and its parameter 'undetermined' (inf). Its variance (1e-320 here)
    is below the floating-point range, not infinite; the other parameters are untouched."""
    rng = np.random.default_rng(2)
    jac = rng.normal(size=(30, 3))
    ref = covariance(jac)
    big = jac * np.array([1.0, 1e160, 1.0])
    with np.errstate(over="ignore", under="ignore"):
        cov = covariance(big)
    assert not np.isinf(cov[1, 1]) and cov[1, 1] >= 0
    np.testing.assert_allclose(cov[[0, 2]][:, [0, 2]], ref[[0, 2]][:, [0, 2]], rtol=1e-12)
    np.testing.assert_allclose(cov[0, 1] * 1e160, ref[0, 1], rtol=1e-12)
