"""The covariances the package reports are the exact inverse of J^T J (session 27).

Each fitter's reported errors are compared with (J^T J)^-1 of a Jacobian written out here from the
analytic model and inverted in 50-digit arithmetic (mpmath), at the reported optimum: where a
derivative is tiny against the model (the TLS index at large x, dL/da ~ e^-x), where a parameter
sits at 0 (a background fitted at 0: finite differences with a step sqrt(eps) max(|p|, 1e-8) lost
it), for every kind of nonlinear parameter (index, kernel-smeared index, gap, critical power,
the family's shift partner, the power-saturation exponent) and for the resonator notch fit.
Directions the data do not determine beyond numerical resolution are reported infinite.
Also: canonical_ratio is scale-free, and masked entries are refused.
"""

from __future__ import annotations

import math
import warnings

import mpmath as mp
import numpy as np
import pytest

from manybody.laws.covariance import covariance
from manybody.laws.fit import fit_joint, fit_law, fit_loss
from manybody.laws.inputs import LossCurve, ShiftCurve
from manybody.laws.joint import fit_loss_shift
from manybody.laws.saturation import fit_saturation
from manybody.laws.shift import shift_numerical
from manybody.measured.resonance import fit_notch, notch_s21
from manybody.measured.sweeps import S21Sweep

mp.mp.dps = 50


def _nodes(smearing):
    """Energy ratios and signed weights of the package's kernel average (its quadrature is
    tested against adaptive quadrature in tests/test_analysis.py; here only the covariance)."""
    if not smearing:
        return [(mp.mpf(1), mp.mpf(1))]
    from manybody.laws.shapes import _kernel_nodes

    ratio, weights = _kernel_nodes(smearing)
    return [(mp.mpf(float(r)), mp.mpf(float(w))) for r, w in zip(ratio, weights, strict=True)]


def _law(x, a, smearing=None):
    """The family (1 - e^-x) / (1 + a e^-x), kernel-averaged."""
    return sum(w * (1 - mp.exp(-x * r)) / (1 + a * mp.exp(-x * r)) for r, w in _nodes(smearing))


def _dlaw(x, a, smearing=None):
    """d/da of :func:`_law`: -(1 - e^-x) e^-x / (1 + a e^-x)^2, kernel-averaged."""
    return sum(w * -(1 - mp.exp(-x * r)) * mp.exp(-x * r) / (1 + a * mp.exp(-x * r)) ** 2
               for r, w in _nodes(smearing))


def _exact_errors(rows) -> np.ndarray:
    """sqrt(diag((J^T J)^-1)) in 50 digits."""
    jac = mp.matrix(rows)
    cov = (jac.T * jac) ** -1
    return np.array([float(mp.sqrt(cov[i, i])) for i in range(cov.rows)])


def _family_rows(x, sigma, amplitude, index, smearing=None, background=True, order="law"):
    """Jacobian rows of A L(x; a) (+ B) in (A, a, B) ("law": fit_law's names) or (A, B, a)."""
    a_, idx = mp.mpf(amplitude), mp.mpf(index)
    rows = []
    for xi, s in zip(x, sigma, strict=True):
        xx, s = mp.mpf(float(xi)), mp.mpf(float(s))
        cols = {"A": _law(xx, idx, smearing) / s, "a": a_ * _dlaw(xx, idx, smearing) / s,
                "B": 1 / s}
        names = ("A", "a", "B") if order == "law" else ("A", "B", "a")
        rows.append([cols[n] for n in names if background or n != "B"])
    return rows


# --------------------------------------------------------------- weakly determined directions


@pytest.mark.parametrize("window, smearing, background", [
    ((12.0, 20.0), None, 0.1),   # dL/da ~ e^-x: 100-1000 times too small before
    ((8.0, 16.0), None, 0.1),
    ((14.0, 22.0), 0.2, 0.1),    # kernel-smeared law
    ((14.0, 22.0), 0.2, 0.0),
])
def test_fit_law_errors_are_the_exact_inverse_where_the_index_is_weakly_determined(
        window, smearing, background):
    """fit_law (family + background) at large x: the index's column is ~e^-x of the model, below
    the rounding of the finite differences used before (a +- 3.8e4 where the exact inverse
    gives 6.3e6 at x = 14-22). Now equal to the exact inverse to ~1e-6 (the float SVD of a
    Jacobian with normalised singular values down to 1e-11 is good to eps / s^2)."""
    from manybody.laws.shapes import law_values

    rng = np.random.default_rng(0)
    x = np.linspace(*window, 25)
    sigma = np.full_like(x, 1e-4)
    q = law_values("family", x, 1.0, smearing) + background
    if background:
        q = q + rng.normal(0.0, 1e-4, x.size)
    fit = fit_law(x, q, sigma=sigma, law="family", background=True, smearing=smearing)
    p = fit.parameters
    exact = _exact_errors(_family_rows(x, sigma, p["amplitude"], p["index"], smearing))
    names = ("amplitude", "index", "background")
    # the covariance's diagonal (an index that ran to its bound has the error NaN, session 44,
    # while its row keeps the local curvature tested here)
    order = [fit.parameter_names.index(n) for n in names]
    reported = np.sqrt(np.diag(fit.covariance)[order])
    np.testing.assert_allclose(reported, exact, rtol=2e-5)
    for n, e in zip(names, reported, strict=True):
        assert np.isnan(fit.errors[n]) if n in fit.at_bound else fit.errors[n] == pytest.approx(e)


def test_fit_loss_errors_are_the_exact_inverse_where_the_index_is_weakly_determined():
    """fit_loss (grid start, least_squares) at x = 8-16 with sigma: its covariance came from
    least_squares' 2-point Jacobian (A +- 0.042 where the exact inverse gives 0.26)."""
    rng = np.random.default_rng(0)
    w = 0.27
    x = np.linspace(8.0, 16.0, 25)
    sigma = np.full_like(x, 1e-10)
    q = 1e-6 * np.tanh(x / 2) + 1e-7 + rng.normal(0.0, 1e-10, x.size)
    fit = fit_loss(w / x, q, w, sigma=sigma, law="family", background=True)
    p = fit.parameters
    exact = _exact_errors(_family_rows(x, sigma, p["amplitude"], p["index"], order="engine"))
    reported = [fit.errors[n] for n in ("amplitude", "background", "index")]
    np.testing.assert_allclose(reported, exact, rtol=2e-5)


@pytest.mark.parametrize("fitter", ["fit_law", "fit_loss"])
def test_a_direction_beyond_numerical_resolution_is_reported_undetermined(fitter):
    """x = 18-26: L = 1 to 1e-8, and amplitude - background with the index is determined only
    at a normalised singular value of ~1e-14 (beyond what a float SVD resolves: its inverse is
    1e11 there against 1e14 in 50 digits). The index came out -0.9 +- 0.145: now every
    parameter of that direction is infinite, never a small error."""
    rng = np.random.default_rng(0)
    w = 0.27
    x = np.linspace(18.0, 26.0, 25)
    sigma = np.full_like(x, 1e-10)
    q = 1e-6 * np.tanh(x / 2) + 1e-7 + rng.normal(0.0, 1e-10, x.size)
    fit = (fit_law(x, q, sigma=sigma, law="family", background=True) if fitter == "fit_law"
           else fit_loss(w / x, q, w, sigma=sigma, law="family", background=True))
    for name in ("amplitude", "background", "index"):
        assert not fit.errors[name] < 1e3, (name, fit.errors[name])


def test_covariance_marks_a_parameter_with_weight_on_a_null_direction_undetermined():
    """A parameter whose weight on a numerically null direction was below 1e-6 counted as
    determined, its variance without that direction (the index's 0.145 above). Now it is
    infinite when the null direction, even at the threshold singular value, would add more than
    1e-4 to its variance; a parameter outside the degenerate pair keeps its exact variance."""
    rng = np.random.default_rng(1)
    u, r, z = rng.standard_normal((3, 40))
    jac = np.column_stack([u, u + 1e-13 * r, r])  # a - b = -1e-13 c: rank 2, c in it
    cov = covariance(jac)
    assert np.all(np.isinf(np.diag(cov)))
    apart = np.column_stack([u, 2.5 * u, z])  # the classic degenerate pair and an outsider
    cov = covariance(apart)
    assert np.isinf(cov[0, 0]) and np.isinf(cov[1, 1])
    assert cov[2, 2] == pytest.approx(1.0 / (z @ z - (u @ z) ** 2 / (u @ u)), rel=1e-12)


# --------------------------------------------------------------- parameters at or near 0


@pytest.mark.parametrize("background", [0.0, 1e-12, 1e-3])
def test_fit_law_errors_do_not_depend_on_a_background_fitted_at_zero(background):
    """Noise-free tanh(x/2) + B with the family and a background: A +- 0.0050, a +- 0.051 for
    B = 0 or 1e-12 against 0.0081 and 0.063 for B = 1e-3 (the step of a parameter at 0 was
    1.5e-16). Now the exact inverse, whatever B."""
    x = np.geomspace(0.2, 10.0, 20)
    sigma = np.full_like(x, 0.01)
    fit = fit_law(x, np.tanh(x / 2) + background, sigma=sigma, law="family", background=True)
    p = fit.parameters
    exact = _exact_errors(_family_rows(x, sigma, p["amplitude"], p["index"]))
    reported = [fit.errors[n] for n in ("amplitude", "index", "background")]
    np.testing.assert_allclose(reported, exact, rtol=1e-9)


@pytest.mark.parametrize("background", [0.0, 1e-14, 1e-3])
def test_fit_saturation_errors_do_not_depend_on_a_background_fitted_at_zero(background):
    """fit_saturation, noise-free (1 + P/Pc)^-1/2 + B with beta free: beta +- 0.017 for
    B = 1e-14 against 0.060 (exact) before. Now the exact inverse, whatever B."""
    power = np.geomspace(0.01, 100.0, 15)
    sigma = np.full_like(power, 0.01)
    fit = fit_saturation(power, (1 + power) ** -0.5 + background, sigma=sigma, beta=None,
                         background=True)
    a_, pc, beta = (mp.mpf(fit.parameters[k]) for k in ("amplitude", "critical_power", "beta"))
    rows = []
    for p, s in zip(power, sigma, strict=True):
        p, s = mp.mpf(float(p)), mp.mpf(float(s))
        base = 1 + p / pc
        rows.append([base ** -beta / s, a_ * beta * base ** (-beta - 1) * p / pc**2 / s, 1 / s,
                     -a_ * mp.log(base) * base ** -beta / s])
    reported = [fit.errors[k] for k in ("amplitude", "critical_power", "background", "beta")]
    np.testing.assert_allclose(reported, _exact_errors(rows), rtol=1e-9)


# --------------------------------------------------------------- every kind of nonlinear parameter


@pytest.mark.parametrize("quasiparticle", ["exp", "mattis-bardeen"])
def test_fit_loss_errors_with_a_free_gap_are_the_exact_inverse(quasiparticle):
    """Index and gap both nonlinear (least_squares' 2-point Jacobian was good to ~1e-8)."""
    rng = np.random.default_rng(2)
    w = 0.27
    t = np.geomspace(0.02, 1.2, 40)
    sigma = np.full_like(t, 1e-9)
    q = (1e-6 * np.tanh(w / t / 2) + 1e-7 + 2e-6 * np.exp(-2.0 * (1 / t - 1 / t.max()))
         + rng.normal(0.0, 1e-9, t.size))
    fit = fit_loss(t, q, w, sigma=sigma, law="family", background=True,
                   quasiparticle=quasiparticle)
    p = {k: mp.mpf(val) for k, val in fit.parameters.items()}
    t_ref = mp.mpf(float(t.max()))

    def mb(tt):
        xi = mp.mpf(w) / (2 * tt)
        return mp.sinh(xi) * mp.besselk(0, xi) if quasiparticle != "exp" else mp.mpf(1)

    rows = []
    for ti, s in zip(t, sigma, strict=True):
        tt, s = mp.mpf(float(ti)), mp.mpf(float(s))
        x = mp.mpf(w) / tt
        qp = mp.exp(-p["gap"] * (1 / tt - 1 / t_ref)) * mb(tt) / mb(t_ref)
        rows.append([_law(x, p["index"]) / s, 1 / s, qp / s,
                     p["amplitude"] * _dlaw(x, p["index"]) / s,
                     -p["qp_loss"] * (1 / tt - 1 / t_ref) * qp / s])
    names = ("amplitude", "background", "qp_loss", "index", "gap")
    np.testing.assert_allclose([fit.errors[n] for n in names], _exact_errors(rows), rtol=1e-9)


def test_joint_saturation_fit_errors_are_the_exact_inverse():
    """Shared amplitude, critical power (dB) and index over four powers."""
    rng = np.random.default_rng(3)
    w = 0.27
    t = np.geomspace(0.02, 1.2, 30)
    sigma = np.full_like(t, 1e-9)
    curves = []
    for power in (-100.0, -90.0, -80.0, -70.0):
        factor = 1 / np.sqrt(1 + 10 ** ((power + 85) / 10))
        q = 1e-6 * factor * np.tanh(w / t / 2) + 2e-7 + rng.normal(0.0, 1e-9, t.size)
        curves.append(LossCurve(t, q, sigma, power, f"p{power:g}"))
    fit = fit_joint(curves, w, law="family", background=True, saturation=True)
    p = fit.parameters
    a_, idx, pc = (mp.mpf(p[k]) for k in ("amplitude", "index", "critical_power"))
    rows = []
    for j, c in enumerate(curves):
        u = mp.mpf(10) ** ((mp.mpf(c.power) - pc) / 10)
        for ti, s in zip(t, sigma, strict=True):
            x, s = mp.mpf(w) / mp.mpf(float(ti)), mp.mpf(float(s))
            law = _law(x, idx)
            rows.append([law / mp.sqrt(1 + u) / s]
                        + [1 / s if k == j else mp.mpf(0) for k in range(len(curves))]
                        + [a_ * _dlaw(x, idx) / mp.sqrt(1 + u) / s,
                           a_ * law * u * mp.log(10) / 20 * (1 + u) ** mp.mpf(-1.5) / s])
    reported = [fit.errors[n] for n in fit.parameter_names]
    np.testing.assert_allclose(reported, _exact_errors(rows), rtol=1e-9)


def test_shift_fit_of_the_family_errors_are_the_exact_inverse():
    """The family's shift partner S(x; a) is a quadrature, differentiated in a through it
    (complex step): its column is the same quadrature of d(1 - L)/da = e(1 - e)/(1 + a e)^2,
    e = e^-u, written out here."""
    rng = np.random.default_rng(4)
    w = 0.27
    t = np.geomspace(0.03, 1.0, 30)
    x = w / t
    sigma = np.full_like(t, 1e-8)

    def remainder(u, a):
        e = np.exp(-u)
        return (1 + a) * e / (1 + a * e)

    shift = (2e-6 / math.pi) * shift_numerical(x, lambda u: remainder(u, 0.7)) + 3e-7
    shift = shift + rng.normal(0.0, 1e-8, t.size)
    fit = fit_loss_shift([], ShiftCurve(t, shift, sigma), w, law="family", mode="shift",
                         background=False).fit
    p = fit.parameters
    a = p["index"]

    def d_remainder(u):
        e = np.exp(-u)
        return e * (1 - e) / (1 + a * e) ** 2

    jac = np.column_stack([shift_numerical(x, lambda u: remainder(u, a)) / math.pi,
                           np.ones_like(x),
                           p["amplitude"] * shift_numerical(x, d_remainder) / math.pi]) / sigma[:, None]
    exact = np.sqrt(np.diag(np.linalg.inv(jac.T @ jac)))  # well conditioned: float suffices
    names = ("amplitude", "shift_offset", "index")
    np.testing.assert_allclose([fit.errors[n] for n in names], exact, rtol=1e-10)


# --------------------------------------------------------------- the resonator notch fit


def _notch(fi, f0, ql, qc, phi, a, alpha, tau, slope=0):
    """notch_s21 in 50 digits (with the baseline's slope)."""
    return (a * (1 + slope * (fi / f0 - 1)) * mp.exp(1j * alpha) * mp.exp(-2j * mp.pi * fi * tau)
            * (1 - ql / qc * mp.exp(1j * phi) / (1 + 2j * ql * (fi / f0 - 1))))


def _notch_columns(f, params) -> np.ndarray:
    """d notch_s21 / d params by 50-digit numerical differentiation (mpmath.diff), (n, P)."""
    cols = []
    for k in range(len(params)):
        cols.append([complex(mp.diff(
            lambda v, fi=fi, k=k: _notch(mp.mpf(float(fi)), *[v if j == k else mp.mpf(float(q))
                                                               for j, q in enumerate(params)]),
            mp.mpf(float(params[k])))) for fi in f])
    return np.array(cols).T


def test_notch_jacobian_is_the_derivative_of_the_model():
    """The analytic Jacobian of notch_s21 against 50-digit differentiation of the same model."""
    from manybody.measured.resonance import notch_jacobian

    f = np.linspace(5e9 - 3e5, 5e9 + 3e5, 9)
    params = [5e9, 6e3, 8e3, 0.25, 0.05, 1.1, 45e-9, 37.0]
    jac, ref = notch_jacobian(f, *params), _notch_columns(f, params)
    assert jac.shape == (9, 8)
    for k in range(8):  # f / f0 - 1 rounds to ~1e-11 of itself in the float model
        assert np.max(np.abs(jac[:, k] - ref[:, k])) <= 1e-9 * np.max(np.abs(ref[:, k])), k


def test_notch_fit_errors_are_the_exact_inverse():
    """fit_notch's errors were inv(J^T J) of least_squares' forward differences (step 1e-10
    max(1, |p|): ~1e-6 of each column); now the package's covariance of the analytic Jacobian,
    equal to the 50-digit inverse (of a 50-digit Jacobian) times the reduced chi^2."""
    pytest.importorskip("resonator_tools")
    qi, qc_abs, phi, f0 = 2.0e4, 8.0e3, 0.25, 5.0e9
    ql = 1.0 / (1.0 / qi + math.cos(phi) / qc_abs)
    f = f0 + f0 / ql * np.linspace(-8.0, 8.0, 201)
    rng = np.random.default_rng(5)
    z = notch_s21(f, f0, ql, qc_abs, phi, 0.05, 1.1, 45e-9)
    z = z + 1e-4 * (rng.standard_normal(f.size) + 1j * rng.standard_normal(f.size))
    fit = fit_notch(S21Sweep(f, z, "synthetic", "real-imag"))
    assert not fit.flag, fit.reason
    params = [fit.f0, fit.ql, fit.qc_abs, fit.phi, fit.amplitude, fit.alpha, fit.delay, fit.slope]
    resid = z - notch_s21(f, *params)
    chi2_red = float(np.sum(np.abs(resid) ** 2) / (2 * f.size - 8))
    jac = _notch_columns(f, params)
    rows = [[mp.mpf(float(v)) for v in row] for row in np.concatenate([jac.real, jac.imag])]
    exact = _exact_errors(rows) * math.sqrt(chi2_red)
    reported = [fit.f0_err, fit.ql_err, fit.qc_abs_err, fit.phi_err]
    np.testing.assert_allclose(reported, exact[:4], rtol=1e-8)
    np.testing.assert_allclose(fit.slope_err, exact[7], rtol=1e-8)


# --------------------------------------------------------------- velocity: scale-free reference


def test_canonical_ratio_does_not_depend_on_the_temperature_scale():
    """The ratio of slopes in ln T does not depend on the unit of T. A maximum above ~1e103 K
    raised OverflowError, 1e100 K and 1e-200 K gave NaN (with warnings); now every scale gives
    the ratio of 1 K, without warnings."""
    from manybody.laws.velocity import canonical_ratio

    t = np.geomspace(0.01, 1.0, 40)
    reference = canonical_ratio(t, 0.1)
    assert reference == pytest.approx(-2.0769, abs=1e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for scale in (1e-300, 1e-200, 1e-100, 3.7e-50, 1e-3, 1e50, 1e100, 1e150, 1e200, 1e300):
            assert canonical_ratio(t * scale, 0.1 * scale) == pytest.approx(reference, rel=1e-9)
        # a maximum at 1e150 K inside temperatures from 1e-3 K: the far points are harmless
        wide = np.concatenate([np.geomspace(1e-3, 1e140, 30), t * 1e151])
        assert canonical_ratio(wide, 1e150) == pytest.approx(reference, rel=1e-9)


def test_velocity_functions_refuse_masked_entries():
    """np.asarray read the values under a mask: a masked temperature was fitted as data."""
    from manybody.laws.velocity import canonical_ratio, fit_velocity_slopes, log_slope

    t = np.geomspace(0.01, 1.0, 40)
    masked = np.ma.masked_array(t, mask=np.r_[[False] * 39, True])
    with pytest.raises(ValueError, match="temperatures is a masked array with 1 masked entry"):
        canonical_ratio(masked, 0.1)
    with pytest.raises(ValueError, match="masked"):
        fit_velocity_slopes(masked, np.log(t))
    with pytest.raises(ValueError, match="values is a masked array"):
        log_slope(t, np.ma.masked_array(t, mask=np.r_[True, [False] * 39]))
    # a masked array without masked entries is data like any other
    assert canonical_ratio(np.ma.masked_array(t), 0.1) == canonical_ratio(t, 0.1)
