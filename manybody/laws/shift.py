"""The Kramers-Kronig partners of the loss laws: the resonant frequency (or velocity) shift.

For a loss A L(x) (x = w / T, L -> 1 for T -> 0, see :mod:`manybody.laws.shapes`) that is flat
in frequency over a band, the shift of a resonator is

    delta f / f0 (T) = (A / pi) S(x) + const,
    S(x) = P int_{nu_lo}^{nu_hi} nu (1 - L(nu x)) / (nu^2 - 1) d nu,

with nu = w' / w the transition energy in units of the measurement frequency (docs/PHYSICS.md
section 9). S(x) -> 0 for T -> 0; the band (nu_lo, nu_hi) sets only the T-independent constant
as long as its edges are far from w and T. For an acoustic velocity shift in units of C0 with
the loss in units of pi C0, delta v / v = A S(x) + const (A = 1 for independent TLS).

* ``"tls"`` (L = tanh(x/2)), infinite band: S = Re psi(1/2 + i x/(2 pi)) - ln(x/(2 pi)) (Phillips
  1972; Gao et al., APL 92, 152505 (2008)), with scipy's complex digamma;
* ``"generic"`` (L = 1 - e^-x): S = (1/2)[e^x E1(x) - e^-x Ei(x)] for the infinite band, and the
  same exponential integrals at the band edges for a finite band (closed form, section 9);
* ``"family"`` ((1 - e^-x)/(1 + a e^-x)): the principal value computed numerically
  (:func:`shift_numerical`: the symmetric part around nu = 1 folded, Gauss-Legendre panels).

A density that is not flat is a :class:`ResonantDensity` given as ``band``: rho(nu) relative to
its value at the measurement frequency weights the integrand, S(x) = P int rho(nu) nu
(1 - L(nu x)) / (nu^2 - 1) d nu (every law then computed numerically).

Units: x dimensionless; S dimensionless (multiply by A/pi for df/f0 with A the loss amplitude).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from manybody.laws.inputs import LAWS
from manybody.support import validate as v

#: Beyond nu x = this, 1 - L(nu x) < e^-60 (1e-26) for every law of the family (a > -1).
_DECAY = 60.0
_PANELS = 12
#: From this x on, the TLS partner is its asymptotic series (the closed form cancels).
_TLS_SERIES_FROM = 300.0
#: The integral below 1 starts at nu = this / max(x, 1) (what lies below is < 1e-16 of S).
_SMALLEST_NU = 1e-8
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(24)


def _check_x(x) -> np.ndarray:
    return v.positive_array("x", x)


def _shaped(x, values: np.ndarray) -> np.ndarray:
    """``values`` (1-d, one per x) in the shape of ``x``: a 0-d result for a number, as the loss
    laws (:func:`manybody.laws.shapes.law_tls`) give; a number gave shape (1,) though the
    docstrings said "same shape" (bt220 F2)."""
    return values.reshape(()) if np.ndim(x) == 0 else values


@dataclass(frozen=True)
class ResonantDensity:
    """A resonant density of the loss that is not flat: rho(nu) over nu = w'/w, tabulated and
    interpolated linearly, 0 outside [nu[0], nu[-1]], scaled to rho(1) = 1 (the density at the
    measurement frequency, which the loss amplitude A carries). Given as ``band`` to the shift
    partners (:func:`shift_values`, :func:`manybody.laws.joint.fit_loss_shift`).

    Parameters
    ----------
    nu : tuple of float
        Increasing transition energies in units of w, nu[0] >= 0, nu[0] < 1 < nu[-1] < inf.
    weight : tuple of float
        rho at ``nu`` (any positive scale; divided by its value at nu = 1), >= 0 and finite.

    Raises
    ------
    ValueError
        Shapes that differ, fewer than 3 points, nu not increasing or not around 1, a weight
        negative or not finite, or zero at nu = 1 (nothing resonates at w: no loss to pair).
    """

    nu: tuple
    weight: tuple

    def __post_init__(self) -> None:
        nu = np.asarray(self.nu, dtype=float)
        weight = np.asarray(self.weight, dtype=float)
        if nu.ndim != 1 or nu.shape != weight.shape or nu.size < 3:
            raise ValueError(f"a resonant density needs nu and weight of one shape, at least 3 "
                             f"points; got shapes {nu.shape} and {weight.shape}")
        if not (np.all(np.isfinite(nu)) and np.all(np.diff(nu) > 0) and nu[0] >= 0.0
                and nu[0] < 1.0 < nu[-1]):
            raise ValueError("a resonant density's nu must be finite, increasing, >= 0 and "
                             f"around 1 (the measurement frequency), got {nu[0]:g} to {nu[-1]:g}")
        if not np.all(np.isfinite(weight)) or np.any(weight < 0):
            raise ValueError("a resonant density's weight must be finite and >= 0")
        at_one = float(np.interp(1.0, nu, weight))
        if not at_one > 0.0:
            raise ValueError("a resonant density that is 0 at nu = 1: nothing resonates at the "
                             "measurement frequency")
        object.__setattr__(self, "nu", tuple(nu.tolist()))
        object.__setattr__(self, "weight", tuple((weight / at_one).tolist()))

    @property
    def edges(self) -> tuple[float, float]:
        """(nu_lo, nu_hi): where the density starts and ends."""
        return self.nu[0], self.nu[-1]

    def summary(self) -> dict:
        """What a fit's options record of it: its edges and number of points (the table itself
        is recorded once, by the caller that made it)."""
        return {"resonant_density": True, "edges": list(self.edges), "points": len(self.nu)}

    def __call__(self, nu) -> np.ndarray:
        """rho(nu), 0 outside the table."""
        return np.interp(nu, self.nu, self.weight, left=0.0, right=0.0)


def _density(band) -> ResonantDensity | None:
    return band if isinstance(band, ResonantDensity) else None


def check_band(band) -> tuple[float, float]:
    """(nu_lo, nu_hi) with 0 <= nu_lo < 1 < nu_hi <= inf, or an error naming ``band``; a
    :class:`ResonantDensity`'s edges. A string (the command line's ``--band LO,HI`` typed in
    Python) was read character by character ("could not convert string to float: ','") and
    ("0", "2") as numbers (a break test, bt185): refused with TypeError, as a non-number edge."""
    if band is None:
        return 0.0, math.inf
    if isinstance(band, ResonantDensity):
        return band.edges
    expected = "band must be a pair (nu_lo, nu_hi) of band edges in units of the measurement frequency"
    if isinstance(band, str | bytes):
        raise TypeError(f"{expected} (e.g. (0.5, 2) or (0, math.inf)), got {v._describe(band)}")
    try:
        edges = list(band)
    except TypeError:
        raise ValueError(f"{expected}, got {v._describe(band)}") from None
    if len(edges) != 2:
        raise ValueError(f"{expected}, got {v._describe(band)} ({len(edges)} value(s))")
    lo = v.real("band[0] (nu_lo)", edges[0])
    hi = v.real("band[1] (nu_hi)", edges[1], allow_nonfinite=True)
    if not (0.0 <= lo < 1.0 < hi) or math.isnan(hi):
        raise ValueError(f"band edges must satisfy 0 <= nu_lo < 1 < nu_hi (the measurement "
                         f"frequency inside the band, in units of it), got ({lo:g}, {hi:g})")
    return lo, hi


def shift_tls(x) -> np.ndarray:
    """TLS digamma law S(x) = Re psi(1/2 + x/(2 pi i)) - ln(x/(2 pi)) (infinite flat band).

    Parameters
    ----------
    x : float or array_like, shape (n,)
        x = w / T > 0.

    Returns
    -------
    numpy.ndarray
        S(x), same shape (0-d for a number): -> 0 for x -> inf (as -pi^2/(6 x^2)), minimum
        -0.208 at x = 2.27, ln(1/x) + const for x -> 0. df/f0 = (F delta0 / pi) S.

    Raises
    ------
    ValueError
        x not positive and finite, or of more than one dimension.
    """
    given = x
    x = _check_x(x)
    y = np.minimum(x, _TLS_SERIES_FROM) / (2.0 * math.pi)
    from scipy.special import psi  # scipy when a shift is computed: the command line stays light

    closed = psi(0.5 + 1j * y).real - np.log(y)
    # the two terms cancel to S ~ 1/x^2: beyond x ~ 300 their difference lost 1e-10 (x = 1e3) to
    # 6e-6 (x = 1e5) of itself (session 26); there the asymptotic series, -sum_k 2 Gamma(2k)
    # eta(2k) / x^2k, whose next term is below 1e-10 of S
    x2 = x * x
    series = -(math.pi**2 / 6.0 + (7.0 * math.pi**4 / 60.0
                                   + 31.0 * math.pi**6 / 126.0 / x2) / x2) / x2
    return _shaped(given, np.where(x >= _TLS_SERIES_FROM, series, closed))


def _scaled_ei(y: np.ndarray) -> np.ndarray:
    """e^-|y| Ei(y) for y > 0 and e^|y| Ei(y) = -e^|y| E1(|y|) for y < 0: finite for every y
    (asymptotic series beyond |y| = 700, where the exponentials over- or underflow)."""
    from scipy.special import expi  # scipy when a shift is computed: the command line stays light

    a = np.abs(y)
    small = a < 700.0
    safe = np.where(small, y, 1.0)
    direct = np.where(safe > 0, np.exp(-np.abs(safe)) * expi(safe),
                      np.exp(np.abs(safe)) * expi(safe))
    sign = np.where(y > 0, 1.0, -1.0)  # e^-y Ei(y) ~ (1/y) sum k!/y^k; e^y E1(y) alternates
    big = np.where(small, 1.0, a)
    series, term = np.ones_like(big), np.ones_like(big)
    for k in range(1, 9):  # through 8!/y^8: the next term is below 1e-19 of the first
        term = term * sign * k / big
        series = series + term
    return np.where(small, direct, sign * series / big)


def _ei_at(x: np.ndarray, nu: float, sign: float) -> np.ndarray:
    """e^{-sign x} Ei(-x (nu - sign)): the antiderivative of e^{-nu x}/(nu - sign) at nu,
    written as e^{-nu x} times the scaled Ei (:func:`_scaled_ei`): the two exponentials of the
    plain form overflowed to inf * 0 = NaN beyond x ~ 700 with a finite band (session 26)."""
    if math.isinf(nu):
        return np.zeros_like(x)
    return np.exp(-nu * x) * _scaled_ei(-x * (nu - sign))


def shift_generic(x, band=None) -> np.ndarray:
    """Partner of the generic-block loss 1 - e^-x flat over the band (nu_lo, nu_hi).

    S(x) = P int nu e^{-nu x} / (nu^2 - 1) d nu over the band
         = (1/2) [e^{-x} Ei(-x (nu - 1)) + e^{x} Ei(-x (nu + 1))] from nu_lo to nu_hi,
    which for the infinite band (0, inf) is (1/2)[e^x E1(x) - e^-x Ei(x)] (docs/PHYSICS.md
    section 9).

    Parameters
    ----------
    x : array_like
        x = w / T > 0.
    band : (float, float), optional
        Band edges (nu_lo, nu_hi) in units of the measurement frequency w, 0 <= nu_lo < 1 < nu_hi
        (nu_hi may be inf); default (0, inf).

    Returns
    -------
    numpy.ndarray
        S(x), the shape of x (0-d for a number): -> 0 for x -> inf (as -1/x^2 for the infinite
        band), ln(1/x) + const for x -> 0.

    Raises
    ------
    ValueError
        x not positive and finite, or of more than one dimension; band edges outside
        0 <= nu_lo < 1 < nu_hi.
    """
    given = x
    x = _check_x(x)
    if _density(band) is not None:
        return _shaped(given, shift_numerical(x, lambda u: np.exp(-u), band))
    return _shaped(given, _generic(x, band))


def _generic(x: np.ndarray, band) -> np.ndarray:
    """:func:`shift_generic` of a checked 1-d x for a flat band."""
    from scipy.special import exp1, expi  # scipy when a shift is computed: the command line stays light

    lo, hi = check_band(band)
    with np.errstate(over="ignore", invalid="ignore"):
        if lo == 0.0 and math.isinf(hi):
            # e^x E1(x) - e^-x Ei(x); exp1 and expi scaled to stay finite at large x
            big = x > 600.0
            xs = np.where(big, 1.0, x)
            out = 0.5 * (np.exp(xs) * exp1(xs) - np.exp(-xs) * expi(xs))
            if np.any(big):  # asymptotic series: -1/x^2 - 6/x^4 - ...
                xb = x[big]
                out = np.where(big, 0.0, out)
                out[big] = -1.0 / xb**2 - 6.0 / xb**4 - 120.0 / xb**6
            return out
        upper = _ei_at(x, hi, 1.0) + _ei_at(x, hi, -1.0)
        lower = _ei_at(x, lo, 1.0) + _ei_at(x, lo, -1.0)
        return 0.5 * (upper - lower)


def shift_numerical(x, remainder, band=None) -> np.ndarray:
    """S(x) = P int_{nu_lo}^{nu_hi} nu r(nu x) / (nu^2 - 1) d nu for a remainder r = 1 - L.

    The part symmetric around nu = 1 is folded, int_0^d [f(1 + t) - f(1 - t)] / t dt with
    f(nu) = nu r(nu x) / (nu + 1) (no singularity left) over 0 <= t <= min(d, 1/2); above it the
    rest is integrated in ln(nu - 1) up to where r(nu x) < e^-60, below it in ln(nu) from
    1e-8 / max(x, 1) (the integrand lives at nu ~ 1/x for large x). Composite Gauss-Legendre
    (12 panels x 24 nodes each); checked against the closed forms for 1e-3 <= x <= 1e5 in the
    tests (relative accuracy ~1e-10; uniform panels on [0, 1] had lost it beyond x ~ 1000).

    Parameters
    ----------
    x : array_like
        x = w / T > 0.
    remainder : callable
        r(u) = 1 - L(u) for u >= 0 (vectorised), decaying at least like e^-u.
    band : (float, float) or ResonantDensity, optional
        As for :func:`shift_generic`; a :class:`ResonantDensity` weights the integrand by
        rho(nu) between its edges.

    Returns
    -------
    numpy.ndarray
        S(x), shape of x (0-d for a number).
    """
    given = x
    x = _check_x(x)
    lo, hi = check_band(band)
    flat = x.reshape(-1, 1)
    d = min(1.0 - lo, hi - 1.0, 0.5)

    density = _density(band)

    def f(nu):
        value = nu * remainder(nu * flat) / (nu + 1.0)
        return value if density is None else value * density(nu)

    def panels(a, b):  # nodes and weights of composite Gauss-Legendre on [a, b], (n, nodes)
        edges = a + (b - a) * np.linspace(0.0, 1.0, _PANELS + 1)[None, :]
        mid, half = 0.5 * (edges[:, 1:] + edges[:, :-1]), 0.5 * (edges[:, 1:] - edges[:, :-1])
        nodes = (mid[..., None] + half[..., None] * _NODES).reshape(edges.shape[0], -1)
        weights = (half[..., None] * _WEIGHTS).reshape(edges.shape[0], -1)
        return nodes, weights

    # the part symmetric around nu = 1, folded (at most 1/2 on each side)
    t, wt = panels(np.zeros_like(flat), np.full_like(flat, d))
    total = np.sum(wt * (f(1.0 + t) - f(1.0 - t)) / t, axis=1)
    # the rest above 1 + d, in s = ln(nu - 1): dnu/(nu - 1) = ds
    top = np.minimum(hi, 1.0 + d + _DECAY / flat)
    has_top = top > 1.0 + d
    s, ws = panels(np.full_like(flat, math.log(d)), np.log(np.maximum(top, 1.0 + d) - 1.0))
    nu = 1.0 + np.exp(s)
    total += np.where(has_top[:, 0], np.sum(ws * f(nu), axis=1), 0.0)
    if 1.0 - d > lo:  # the rest below 1 - d, in s = ln(nu): at large x the integrand lives at
        # nu ~ 1/x (it gave S(1e4) 49 % off on uniform panels, session 26); below
        # nu = _SMALLEST_NU / x it adds less than (_SMALLEST_NU)^2 / 2 of S
        bottom = np.maximum(lo, _SMALLEST_NU / np.maximum(flat, 1.0))
        s, ws = panels(np.log(bottom), np.full_like(flat, math.log(1.0 - d)))
        nu = np.exp(s)
        total += np.sum(ws * nu * f(nu) / (nu - 1.0), axis=1)
    return _shaped(given, total.reshape(x.shape))


def family_remainder(u, index: float) -> np.ndarray:
    """1 - L(u) of the family, (1 + a) e^-u / (1 + a e^-u), without cancellation (a = 1:
    1 - tanh(u/2); a = 0: e^-u)."""
    e = np.exp(-np.asarray(u, dtype=np.float64))
    return (1.0 + index) * e / (1.0 + index * e)


def shift_values(law: str, x, index: float | None = None, band=None) -> np.ndarray:
    """The partner S(x) of the law named ``law`` ("tls", "generic" or "family" with TLS index
    ``index``, default 0), for a flat loss over ``band`` (default the infinite band); the shape
    of x (a number gives a 0-d result, an array of shape (n,) one of that shape).

    The TLS law with a finite band and the family are computed numerically
    (:func:`~manybody.laws.shift.shift_numerical`); TLS (infinite band) and generic in closed form.

    A complex ``index`` (real part > -1) is carried through, so that the fitting engine's
    complex-step derivative in the index (:meth:`manybody.laws.fit._LeastSquares.jacobian`) is
    exact: S is linear in the remainder, which is analytic in a.

    Raises
    ------
    TypeError
        ``index`` a boolean.
    ValueError
        An unknown law, x <= 0, bad band edges, index <= -1; an ``index`` given with "tls" or
        "generic" other than their own (1 and 0): those laws have no free index (it was ignored
        without a word before session 43; use law="family").
    """
    v.choice("law", law, LAWS)
    own = {"tls": 1.0, "generic": 0.0}.get(law)
    if index is not None and not isinstance(index, complex | np.complexfloating):
        # a string ("0.5") was taken as the number, a list got float()'s own TypeError (bt185);
        # a complex index (complex-step derivatives) is kept as it is
        index = v.real("index", index, allow_nonfinite=True)
    if own is not None and index is not None:
        given = complex(index) if isinstance(index, complex | np.complexfloating) else index
        if given != own:
            raise ValueError(f"index applies to law 'family' only: law {law!r} is the family at "
                             f"a = {own:g}, got index={index!r} (use law='family' for another "
                             "index)")
    if law == "tls" and band is None:
        return shift_tls(x)
    if law == "generic":
        return shift_generic(x, band)
    index = 0.0 if index is None else index
    a = 1.0 if law == "tls" else index
    if isinstance(a, complex | np.complexfloating):
        a = complex(a)
        real = a.real
    else:
        a = real = float(a)
    if not real > -1.0:
        raise ValueError(f"index must be > -1 for the shift of the family, got {index!r}")
    return shift_numerical(x, lambda u: family_remainder(u, a), band)
