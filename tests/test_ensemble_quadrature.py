"""The canonical-ensemble limits by deterministic quadrature, not by a small random sample.

Independent TLS decompose exactly into single-TLS terms, so the code's disorder average over the
canonical ensemble P(eps, Delta) = 1 / (2 eps_max ln(Delta_max/Delta_min) Delta) is an integral of
N = 1 results (``solve`` on ``Realisation.from_arrays`` with the node's eps and Delta, then
``absorption`` / ``velocity_shift`` with ``absorption_normalisation``). It is done by Gauss-Legendre
quadrature in coordinates where the integrand is smooth and compared, to 1e-6, with the closed form
written here: the canonical (Delta/E)^2-weighted density of single-TLS splittings

    rho(E) = [sqrt(E^2 - Delta_lo^2) - sqrt(E^2 - Delta_hi^2)] / (eps_max ln(Delta_max/Delta_min) E),
    Delta_lo = max(Delta_min, sqrt(E^2 - eps_max^2)),  Delta_hi = min(Delta_max, E),

which is 1 / (eps_max ln(...)) (times sqrt(1 - Delta_min^2/E^2)) on the plateau, so that
Q^-1/(pi C0) = tanh(x/2) and delta v / v = C0 ln T (PHYSICS.md sections 2, 3). A normalisation off
by 1 % fails by four orders of magnitude.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad

from manybody.config.model import ModelParams, StressParams, TLSParams
from manybody.config.probe import Broadening
from manybody.laws.fit import fit_law
from manybody.simulation.ensembles import Realisation, absorption_normalisation
from manybody.simulation.observables.absorption import absorption, velocity_shift
from manybody.simulation.solvers.dense import solve

EPS_MAX, DELTA_MIN, DELTA_MAX = 0.3, 1e-3, 0.3
GAMMA = 1.3
LOG_RANGE = math.log(DELTA_MAX / DELTA_MIN)
PARAMS = ModelParams(n_tls=1, tls=TLSParams(asymmetry_max=EPS_MAX, tunnelling_min=DELTA_MIN,
                                            tunnelling_max=DELTA_MAX),
                     stress=StressParams(deformation_potential=GAMMA))


def rho(e: float) -> float:
    """(Delta/E)^2-weighted canonical density of splittings (1/K), closed form (see module doc)."""
    lo = max(DELTA_MIN, math.sqrt(max(e * e - EPS_MAX**2, 0.0)))
    hi = min(DELTA_MAX, e)
    if hi <= lo:
        return 0.0
    return (math.sqrt(e * e - lo * lo) - math.sqrt(e * e - hi * hi)) / (EPS_MAX * LOG_RANGE * e)


def test_density_closed_form_is_the_canonical_measure():
    """int rho(E) g(E) dE against the 2-d integral of P(eps, Delta) (Delta/E)^2 g(E) for smooth g
    (eps = Delta sinh(u): P d(eps) d(Delta) = cosh(u) du dDelta / (2 eps_max L))."""
    e_top = math.hypot(EPS_MAX, DELTA_MAX)
    for scale in (0.003, 0.05, 0.5):
        def g(e, scale=scale):
            return math.exp(-e / scale)

        def over_u(log_delta, g=g):
            d = math.exp(log_delta)
            return quad(lambda u: g(d * math.cosh(u)) / math.cosh(u) * d, 0.0,
                        math.asinh(EPS_MAX / d), epsabs=0, epsrel=1e-12, limit=200)[0]

        direct = 2 * quad(over_u, math.log(DELTA_MIN), math.log(DELTA_MAX), epsabs=0,
                          epsrel=1e-12, limit=200)[0] / (2 * EPS_MAX * LOG_RANGE)
        edges = [DELTA_MIN, 10 * DELTA_MIN, 0.03, EPS_MAX, e_top]
        closed = sum(quad(lambda e, g=g: rho(e) * g(e), a, b, epsabs=0, epsrel=1e-12,
                          limit=200)[0] for a, b in zip(edges[:-1], edges[1:], strict=True))
        assert closed == pytest.approx(direct, rel=1e-8), scale
    # the plateau value sqrt(1 - (Delta_min/E)^2) / (eps_max ln(...))
    assert rho(0.1) * EPS_MAX * LOG_RANGE == pytest.approx(math.sqrt(1 - (DELTA_MIN / 0.1) ** 2),
                                                           rel=1e-14)


def single_tls(eps: float, delta: float):
    return solve(Realisation.from_arrays(asymmetry=[eps], tunnelling=[delta],
                                         deformation_potential=[GAMMA]))


def test_canonical_absorption_is_tanh_by_quadrature():
    """<Q^-1>/(pi C0) over the canonical ensemble = int dE K(w - E) tanh(E/2T) rho(E) eps_max L."""
    w, eta = 0.1, 0.004
    x = np.array([0.3, 0.5, 1.0, 2.0, 5.0])
    temps = w / x
    broadening = Broadening(kind="gaussian", width=eta)
    norm = absorption_normalisation(PARAMS)
    # code: nodes in (E, s), eps = E cos(theta), Delta = E sin(theta), theta = 2 atan(e^s);
    # P d(eps) d(Delta) over both signs of eps = dE ds / (eps_max L): smooth in s
    e_lo, e_hi = w - 12 * eta, w + 12 * eta
    x_e, w_e = np.polynomial.legendre.leggauss(48)
    x_s, w_s = np.polynomial.legendre.leggauss(24)
    code = np.zeros(temps.size)
    for xe, we in zip(x_e, w_e, strict=True):
        e = e_lo + 0.5 * (e_hi - e_lo) * (xe + 1)
        s_min = math.log(math.tan(0.5 * math.asin(DELTA_MIN / e)))
        for xs, ws in zip(x_s, w_s, strict=True):
            s = s_min * 0.5 * (1 - xs)
            theta = 2 * math.atan(math.exp(s))
            spectrum, t_mn = single_tls(e * math.cos(theta), e * math.sin(theta))
            q = absorption(spectrum, t_mn, [w], temps, broadening, norm, method="exact")[:, 0]
            code += 0.25 * (e_hi - e_lo) * (-s_min) * we * ws * q / (EPS_MAX * LOG_RANGE)

    def integrand(e, t):
        kernel = math.exp(-0.5 * ((w - e) / eta) ** 2) / (eta * math.sqrt(2 * math.pi))
        return kernel * math.tanh(e / (2 * t)) * rho(e) * EPS_MAX * LOG_RANGE

    expected = np.array([quad(integrand, e_lo, e_hi, args=(t,), epsabs=0, epsrel=1e-12,
                              points=[w])[0] for t in temps])
    np.testing.assert_allclose(code, expected, rtol=1e-6)
    # and the closed form is tanh(x/2) sqrt(1 - (Delta_min/w)^2) up to the kernel's second-order
    # smoothing, (eta^2/2) f''(w) with |f''| <= 1/(2 T^2) for f = tanh(E/2T)
    plateau = math.sqrt(1 - (DELTA_MIN / w) ** 2)
    bound = 0.5 * eta**2 / (2 * temps**2) + 1e-9
    assert np.all(np.abs(expected - np.tanh(x / 2) * plateau) <= bound)
    assert np.all(bound < 0.1 * np.tanh(x / 2))  # the statement is not vacuous
    # the shape family fitted to the ensemble curve gives TLS index 1
    fit = fit_law(x, code, law="family")
    assert abs(fit.parameters["index"] - 1.0) < 0.02, fit.parameters


def resonant_velocity_closed_form(temps, w, eta):
    """-(1/2) eps_max L int dE rho(E) tanh(E/2T) [R(E - w) + R(E + w)], R Lorentzian PV (C0)."""
    e_top = math.hypot(EPS_MAX, DELTA_MAX)
    out = []
    for t in temps:
        def f(e, t=t):
            r = (e - w) / ((e - w) ** 2 + eta**2) + (e + w) / ((e + w) ** 2 + eta**2)
            return rho(e) * math.tanh(e / (2 * t)) * r * EPS_MAX * LOG_RANGE
        pieces = [DELTA_MIN, 10 * DELTA_MIN, 30 * t, DELTA_MAX, e_top]
        pieces = sorted(p for p in set(pieces) if DELTA_MIN <= p <= e_top)
        out.append(-0.5 * sum(quad(f, a, b, epsabs=0, epsrel=1e-12, limit=200)[0]
                              for a, b in zip(pieces[:-1], pieces[1:], strict=True)))
    return np.array(out)


def test_canonical_velocity_shift_by_quadrature_and_its_slope_is_c0():
    """<delta v/v>(T) (units of C0) over the canonical ensemble against the closed form, to 1e-6;
    its slope in ln T is 1 for w << T << eps_max."""
    w, eta = 1e-5, 1e-6  # w, eta << Delta_min: every line is far from resonance
    temps = np.array([0.004, 0.005, 0.01, 0.012])
    broadening = Broadening(kind="lorentzian", width=eta)
    norm = absorption_normalisation(PARAMS)
    # code: nodes in (ln Delta, u), eps = Delta sinh(u): P d(eps) d(Delta) =
    # Delta cosh(u) du d(ln Delta) / (2 eps_max L); eps -> -eps symmetric, so u >= 0 doubled
    x_d, w_d = np.polynomial.legendre.leggauss(40)
    x_u, w_u = np.polynomial.legendre.leggauss(40)
    code = np.zeros(temps.size)
    for xd, wd in zip(x_d, w_d, strict=True):
        log_delta = math.log(DELTA_MIN) + 0.5 * LOG_RANGE * (xd + 1)
        delta = math.exp(log_delta)
        u_max = math.asinh(EPS_MAX / delta)
        for xu, wu in zip(x_u, w_u, strict=True):
            u = 0.5 * u_max * (xu + 1)
            spectrum, t_mn = single_tls(delta * math.sinh(u), delta)
            dv = velocity_shift(spectrum, t_mn, [w], temps, broadening, norm, method="exact")[:, 0]
            measure = 0.25 * LOG_RANGE * u_max * wd * wu * delta * math.cosh(u)
            code += 2 * measure * dv / (2 * EPS_MAX * LOG_RANGE)
    expected = resonant_velocity_closed_form(temps, w, eta)
    np.testing.assert_allclose(code, expected, rtol=1e-6)
    # slope in ln T: 1 up to corrections of order T/eps_max and Delta_min/T (here <= 0.04 + 0.25)
    for a, b in ((0, 1), (2, 3)):
        slope = (code[b] - code[a]) / math.log(temps[b] / temps[a])
        t = math.sqrt(temps[a] * temps[b])
        assert abs(slope - 1.0) < 2 * (t / EPS_MAX + DELTA_MIN / t), (t, slope)
