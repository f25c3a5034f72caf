"""The Kramers-Kronig partners of the loss laws (manybody.laws.shift; docs/PHYSICS.md section 9):
closed forms against direct numerical principal-value transforms of the loss spectra, limits."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from scipy import integrate, optimize
from scipy.special import psi

from manybody.laws.shift import (
    family_remainder,
    shift_generic,
    shift_numerical,
    shift_tls,
    shift_values,
)

X = np.geomspace(0.05, 30.0, 9)


def test_complex_digamma_of_scipy_matches_mpmath():
    for z in (0.5 + 0.01j, 0.5 + 0.3j, 0.5 + 2.0j, 0.5 + 47.0j, 0.5 + 3e3j):
        ours = complex(psi(z))
        ref = complex(mpmath.digamma(z))
        assert abs(ours - ref) <= 1e-13 * abs(ref)


def _direct_kk(loss, x: float, band: tuple[float, float]) -> float:
    """-P int_band nu L(nu x) / (nu^2 - 1) d nu: the shift of the loss L over the band, with
    QUADPACK's Cauchy-weight rule (1/(nu - 1)) near the pole and plain quad elsewhere."""
    lo, hi = band

    def f(nu):
        return nu * loss(nu * x) / (nu + 1.0)

    near = (max(lo, 0.0), min(hi, 3.0))
    pv = integrate.quad(f, *near, weight="cauchy", wvar=1.0, epsabs=1e-13, epsrel=1e-12,
                        limit=400)[0]
    if hi > near[1]:
        pv += integrate.quad(lambda nu: f(nu) / (nu - 1.0), near[1], hi, epsabs=1e-13,
                             epsrel=1e-12, limit=400)[0]
    return -pv


@pytest.mark.parametrize("x", [0.1, 0.6, 2.0, 7.0])
def test_digamma_law_is_the_kramers_kronig_transform_of_the_tanh_loss(x):
    """The full tanh(x/2) spectrum over a band whose edges are far away (0, 2000 w): its
    principal-value transform, relative to a reference temperature (x_ref = 40, where the shift
    is -pi^2/(6 x_ref^2) from its T = 0 value), equals the digamma law to 1e-8."""
    band = (0.0, 2000.0)
    x_ref = 40.0

    def tanh_loss(u):
        return np.tanh(0.5 * u)

    direct = _direct_kk(tanh_loss, x, band) - _direct_kk(tanh_loss, x_ref, band)
    law = shift_tls([x])[0] - shift_tls([x_ref])[0]
    assert direct == pytest.approx(law, abs=1e-8)


@pytest.mark.parametrize("band", [(0.0, 2000.0), (0.3, 4.0), (0.8, 1.5)])
@pytest.mark.parametrize("x", [0.2, 1.0, 5.0])
def test_generic_partner_is_the_kramers_kronig_transform_of_one_minus_exp(x, band):
    """The closed form with the band edges (exponential integrals) against the direct transform
    of the loss 1 - e^-x flat over the band, relative to x_ref = 40."""
    x_ref = 40.0

    def generic_loss(u):
        return -np.expm1(-u)

    direct = _direct_kk(generic_loss, x, band) - _direct_kk(generic_loss, x_ref, band)
    law = shift_generic([x], band)[0] - shift_generic([x_ref], band)[0]
    assert direct == pytest.approx(law, abs=1e-8)


def test_numerical_transform_reproduces_both_closed_forms():
    x = np.geomspace(0.01, 50.0, 60)
    assert np.allclose(shift_numerical(x, lambda u: family_remainder(u, 1.0)), shift_tls(x),
                       rtol=1e-10, atol=1e-13)
    assert np.allclose(shift_numerical(x, lambda u: family_remainder(u, 0.0)), shift_generic(x),
                       rtol=1e-10, atol=1e-13)
    for band in ((0.2, 5.0), (0.5, 1.3), (0.0, 1.7)):
        assert np.allclose(shift_numerical(x, lambda u: family_remainder(u, 0.0), band),
                           shift_generic(x, band), rtol=1e-9, atol=1e-12)


def test_partners_stay_accurate_at_large_x():
    """At x ~ 1e3-1e5 the numerical partner of the family was 4e-5 to 100 % off (uniform panels
    missed the integrand at nu ~ 1/x) and the digamma law lost up to 6e-6 of itself to
    cancellation (session 26). Both against the asymptotic series and each other, 1e-3 <= x <=
    1e5, in the infinite band and in a finite one."""
    x = np.geomspace(1e-3, 1e5, 81)
    tls = shift_tls(x)
    assert np.allclose(shift_values("family", x, 1.0), tls, rtol=1e-9, atol=0.0)
    assert np.allclose(shift_values("family", x, 0.0), shift_generic(x), rtol=1e-9, atol=0.0)
    big = x[x >= 300.0]  # where the series' next term is below 1e-11 of S
    x2 = big**2
    series = -(math.pi**2 / 6 + 7 * math.pi**4 / 60 / x2 + 31 * math.pi**6 / 126 / x2**2) / x2
    assert np.allclose(shift_tls(big), series, rtol=2e-9, atol=0.0)
    # the closed form and the series join at the switch to 1e-10
    edge = np.array([299.999999, 300.0])
    assert shift_tls(edge)[0] == pytest.approx(shift_tls(edge)[1], rel=1e-10)
    band = (0.0, 1e4)
    assert np.allclose(shift_numerical(x, lambda u: family_remainder(u, 0.0), band),
                       shift_generic(x, band), rtol=1e-9, atol=1e-16)


def test_family_between_the_two_partners_and_dispatch():
    x = np.geomspace(0.1, 20.0, 15)
    assert np.array_equal(shift_values("tls", x), shift_tls(x))
    assert np.array_equal(shift_values("generic", x), shift_generic(x))
    s_half = shift_values("family", x, 0.5)
    lo = np.minimum(shift_tls(x), shift_generic(x))
    hi = np.maximum(shift_tls(x), shift_generic(x))
    assert np.all((s_half >= lo - 1e-12) & (s_half <= hi + 1e-12))  # r_a grows with a
    assert np.allclose(shift_values("tls", x, band=(0.0, 1e6)), shift_tls(x), atol=1e-9)


def test_limits():
    big = np.array([200.0, 400.0])
    assert np.allclose(shift_tls(big) * big**2, -math.pi**2 / 6, rtol=1e-3)
    assert np.allclose(shift_generic(big) * big**2, -1.0, rtol=1e-3)
    assert np.allclose(shift_generic(np.array([700.0, 1e4])) * np.array([700.0, 1e4]) ** 2, -1.0,
                       rtol=1e-3)  # the asymptotic branch joins the closed form
    # high temperature: slope +1 per e-fold of T (ln(1/x)) for both laws, offsets differ
    small = np.array([1e-4, 1e-3])
    for law in (shift_tls, shift_generic):
        s = law(small)
        assert s[0] - s[1] == pytest.approx(math.log(10.0), abs=1e-3)
    assert shift_tls([1e-6])[0] - shift_generic([1e-6])[0] == pytest.approx(
        math.log(math.pi / 2), abs=1e-5)  # (-gamma - 2 ln 2 + ln 2 pi) - (-gamma)


@pytest.mark.parametrize(("law", "t_min", "depth"), [(shift_tls, 0.4408, -0.20764),
                                                     (shift_generic, 0.5377, -0.15575)])
def test_minimum_of_the_shift(law, t_min, depth):
    """The dip of docs/PHYSICS.md section 9: TLS -0.208 at T = 0.44 w, generic -0.156 at 0.54 w."""
    res = optimize.minimize_scalar(lambda lt: law([1.0 / math.exp(lt)])[0], bounds=(-3, 2),
                                   method="bounded", options={"xatol": 1e-8})
    assert math.exp(res.x) == pytest.approx(t_min, abs=2e-4)
    assert res.fun == pytest.approx(depth, abs=1e-5)


def test_bad_input_names_the_parameter():
    with pytest.raises(ValueError, match="x must be > 0"):
        shift_tls([0.0, 1.0])
    with pytest.raises(ValueError, match="band edges"):
        shift_generic([1.0], (1.2, 3.0))
    with pytest.raises(ValueError, match="band must be a pair"):
        shift_generic([1.0], 3.0)
    with pytest.raises(ValueError, match="index must be > -1"):
        shift_values("family", [1.0], -1.0)
    with pytest.raises(ValueError, match="law"):
        shift_values("lorentz", [1.0])
