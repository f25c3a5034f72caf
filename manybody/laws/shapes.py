"""The three temperature laws of the resonant loss Q^-1(x), x = w / T, and their shape.

* TLS:            tanh(x/2)
* generic block:  1 - e^-x
* family:         (1 - e^-x) / (1 + a e^-x); a = 1 is tanh(x/2), a = 0 is 1 - e^-x. The index a is
  the "TLS index".

Every law tends to 1 for T -> 0. :func:`smeared` averages a law over a Gaussian line kernel (the
curve a spectrum computed with that kernel should follow); :func:`shape_ratio` is the model-free
measure R = Q(x=2) / Q(x=0.5) of the shape. The fits are in :mod:`manybody.laws.fit`.
"""

from __future__ import annotations

import math
import warnings
from functools import lru_cache

import numpy as np
from scipy.interpolate import CubicSpline

from manybody.support import validate as v

#: Shape ratio R = Q(x=2) / Q(x=0.5) of the two laws.
RATIO_TLS = math.tanh(1.0) / math.tanh(0.25)
RATIO_GENERIC = -math.expm1(-2.0) / -math.expm1(-0.5)

#: Largest kernel width relative to the frequency (eta / w) the fits of the kernel-averaged laws
#: accept (:func:`check_smearing`).
MAX_SMEARING = 0.5


def check_smearing(smearing) -> float | None:
    """``smearing`` of the fits (fit_law, analyse_shape, ...): None, or eta / w in
    [0, MAX_SMEARING), as a float.

    Raises
    ------
    TypeError
        Not a real number (a string, a boolean, an array).
    ValueError
        Negative, NaN or infinite, or >= MAX_SMEARING.
    """
    if smearing is None:
        return None
    return v.non_negative_below(
        "smearing", smearing, MAX_SMEARING, " eta / w",
        " (the kernel's width relative to the frequency; for a relative-width kernel it is the "
        "kernel's width itself)")


def _law_x(x) -> np.ndarray:
    """x of a law as float64: a real number or an array of them (NaN and inf pass, as numpy
    takes them). None gave NaN, "1" and True were taken as 1 (bt192). A float array, what the
    fits pass tens of thousands of times, is taken without a look at its elements."""
    if not (isinstance(x, np.ndarray) and x.dtype.kind == "f"):
        v.check_real_elements("x", x)
        x = v.unwrap_scalar("x", x)
    return np.asarray(x, dtype=np.float64)


def _law_index(index) -> float | np.ndarray:
    """The TLS index a of the family: a real number (NaN and inf pass); a complex one (the fits'
    complex-step derivative) or an array of reals (one curve per index) kept as they are."""
    if isinstance(index, float | complex | np.complexfloating) or v.is_real(index):
        return index  # the fits' own scalars: no further look
    if isinstance(index, np.ndarray) and index.dtype.kind in "fc":
        return index
    if isinstance(index, list | tuple | np.ndarray):
        return v.real_array("index", index)
    return v.real("index", index, allow_nonfinite=True)


def law_tls(x: np.ndarray) -> np.ndarray:
    """tanh(x/2).

    Raises
    ------
    TypeError
        x not a real number or an array of them (None, a string, a boolean).
    """
    return np.tanh(0.5 * _law_x(x))


def law_generic(x: np.ndarray) -> np.ndarray:
    """1 - exp(-x).

    Raises
    ------
    TypeError
        x not a real number or an array of them (None, a string, a boolean).
    """
    return -np.expm1(-_law_x(x))


def law_family(x: np.ndarray, index: float) -> np.ndarray:
    """(1 - e^-x) / (1 + a e^-x) with TLS index a (1: tanh(x/2), 0: 1 - e^-x).

    Raises
    ------
    TypeError
        x or index not a real number (or an array of them).
    """
    x = _law_x(x)
    return -np.expm1(-x) / (1.0 + _law_index(index) * np.exp(-x))


def smeared(law, x: np.ndarray, smearing: float | None, *args) -> np.ndarray:
    """A law averaged over the line kernel: the absorption of a flat density of transitions
    E > 0, each with its line g(w - E) - g(w + E), g normal of width smearing * w.

    A spectrum computed with a Gaussian kernel of width eta at frequency w mixes transition
    energies E = w +- eta, each weighted by its own thermal factor L(E / T). For a density of
    transitions that is flat over the kernel (the regime where results should not depend on eta),
    the expected curve is this average, not L(w / T): fitting it removes the kernel's bias of the
    TLS index (about -0.04 for eta = w/5). ``smearing = None`` or below ``NARROWEST_SMEARING``
    (1e-6, 0 included) returns ``law(x, *args)``.

    Parameters
    ----------
    law : callable
        law_tls, law_generic or law_family.
    x : numpy.ndarray
        x = w / T.
    smearing : float or None
        eta / w, the kernel's standard deviation relative to the frequency: a finite number >= 0
        (the fits accept < MAX_SMEARING = 0.5).

    Notes
    -----
    The kernel of a line at E > 0 is K(w - E) - K(w + E): the emission at -E counts with the
    opposite sign, as in :func:`manybody.absorption` (PHYSICS.md section 2). Over a flat density
    of transitions the average is therefore over the odd extension sign(E) L(|E| / T) of the law,
    integrated over E > 0 with the line g(w - E) - g(w + E) (:func:`_kernel_nodes`); the old rule
    (before session 43) kept only the Gauss-Hermite nodes with E > 0 of <L(x E / w)> and
    renormalised, 8e-3 off at smearing 0.4. For a wide kernel the T -> 0 limit is then
    1 - 2 Phi(-1 / smearing), not 1 (6e-7 at smearing 0.2, 1.3e-2 at 0.4), as in a computed spectrum.

    Raises
    ------
    TypeError, ValueError
        ``smearing`` not a finite real number >= 0.
    """
    # a name ("tls") or None got "'str' object is not callable" (bt192)
    if not any(law is known for known in _LAWS):
        hint = (f" (the law named {law!r} is {_LAWS_BY_NAME[law].__name__}; or use law_values)"
                if isinstance(law, str) and law in _LAWS_BY_NAME else "")
        if not callable(law) or isinstance(law, type):
            raise TypeError(f"law must be a law function (law_tls, law_generic or law_family)"
                            f"{hint}, got {v._describe(law)}")
    if smearing is None:
        return law(x, *args)
    if not v.is_real(smearing):  # TypeError naming it; a 0-d array as its float (an array
        smearing = v.real("smearing", smearing)  # cannot key the cache of _kernel_nodes)
    if smearing < NARROWEST_SMEARING:  # the nodes would collapse onto E = w in round-off
        v.non_negative("smearing", smearing)
        return law(x, *args)
    ratio, weights = _kernel_nodes(smearing)
    xx = np.asarray(x, dtype=np.float64)[..., None] * ratio
    return np.sum(law(xx, *args) * weights, axis=-1)


#: The law functions :func:`smeared` averages (any other callable of (x, *args) is taken too).
_LAWS_BY_NAME = {"tls": law_tls, "generic": law_generic, "family": law_family}
_LAWS = tuple(_LAWS_BY_NAME.values())


#: Gauss-Legendre nodes of the kernel average (:func:`smeared`), on E / w in
#: [max(0, 1 - 8 s), 1 + 8 s]. Against adaptive quadrature, x <= 60: 2.6e-12 for s <= 0.2; for
#: tanh and 1 - e^-x at most 1.2e-8 at s = 0.4 and 3.3e-7 at 0.49; for the family up to 2.3e-5 at
#: index 100 and s -> 0.5 (a break test, session 43); tests/test_input_faults_s43.py holds it to
#: 1e-6 for a <= 3.
KERNEL_NODES = 40
#: Below this smearing :func:`smeared` returns the law itself: the average differs from it by
#: O(s^2 x^2 L''), below 1e-12 x^2, while 40 nodes within 8 s of E = w lose their spacing to
#: round-off (1e-17 gave 3.4 for tanh(1) = 0.76, 1e-20 gave 0; a break test, session 43).
NARROWEST_SMEARING = 1e-6


@lru_cache(maxsize=64)
def _kernel_nodes(smearing: float) -> tuple[np.ndarray, np.ndarray]:
    """Energy ratios u = E / w >= 0 and weights of the kernel average of :func:`smeared`:
    sum_k weight_k L(x u_k) = integral_0^inf [g(u - 1) - g(u + 1)] L(x u) du, g the normal
    density of standard deviation ``smearing``, by Gauss-Legendre on [max(0, 1 - 8 s), 1 + 8 s]
    (the mass outside is below 1e-15). The fits call it tens of thousands of times with the same
    smearing; the arrays are read-only so the cache cannot be altered. ``smearing`` is checked
    here, once per value (a finite real number >= 0)."""
    smearing = v.non_negative("smearing", smearing)
    lower, upper = max(0.0, 1.0 - 8.0 * smearing), 1.0 + 8.0 * smearing
    nodes, weights = np.polynomial.legendre.leggauss(KERNEL_NODES)
    ratio = 0.5 * (upper - lower) * nodes + 0.5 * (upper + lower)
    norm = 1.0 / (smearing * math.sqrt(2.0 * math.pi))
    line = norm * (np.exp(-0.5 * ((ratio - 1.0) / smearing) ** 2)
                   - np.exp(-0.5 * ((ratio + 1.0) / smearing) ** 2))
    weights = 0.5 * (upper - lower) * weights * line
    ratio.flags.writeable = False
    weights.flags.writeable = False
    return ratio, weights


def law_values(law: str, x: np.ndarray, index: float = 0.0, smearing: float | None = None
               ) -> np.ndarray:
    """The law named ``law`` ("tls", "generic" or "family" with TLS index ``index``) at x,
    averaged over the line kernel when ``smearing`` is given (see :func:`smeared`).

    Raises
    ------
    TypeError
        x not real numbers, index (of "family") not a real number.
    ValueError
        law not one of "tls", "generic", "family" (None too); smearing as :func:`smeared`.
    """
    if not isinstance(law, str):  # a ValueError as for an unknown name (tests/test_cli_faults_s56)
        raise ValueError(f"law must be one of {', '.join(map(repr, LAW_NAMES))}, got "
                         f"{v._describe(law)}")
    if law == "tls":
        return smeared(law_tls, x, smearing)
    if law == "generic":
        return smeared(law_generic, x, smearing)
    if law != "family":  # "TLS", None, "tanh" were the family at index 0, 1 - e^-x (helper-187)
        v.choice("law", law, LAW_NAMES)
    return smeared(law_family, x, smearing, index)


#: The names :func:`law_values` takes.
LAW_NAMES = ("tls", "generic", "family")


#: Q(x = 0.5) at or below this fraction of a curve's largest |Q| leaves its shape ratio
#: undefined (:func:`shape_ratio`).
NEGLIGIBLE = 1e-12


def shape_ratio(x: np.ndarray, q: np.ndarray) -> float:
    """R = Q(x=2) / Q(x=0.5), interpolated in ln x (cubic spline with 4 or more points).

    The model-free measure of the shape of docs/PHYSICS.md section 2: tanh(1)/tanh(0.25) = 3.110
    for the TLS law (``RATIO_TLS``), (1 - e^-2)/(1 - e^-0.5) = 2.198 for the generic law
    (``RATIO_GENERIC``).

    Parameters
    ----------
    x : array_like
        x = w / T (dimensionless), shape (n_x,), distinct, finite and > 0 (any order), spanning
        [0.5, 2].
    q : array_like
        Q^-1 at those x, shape (n_x,) or (..., n_x) for several curves (the ratio of each);
        real and finite.

    Returns
    -------
    float or numpy.ndarray
        R, a number for one curve, shape (...) for several.

    Raises
    ------
    TypeError
        x or q not real numbers.
    ValueError
        x not finite and > 0, repeated values of x, x not spanning [0.5, 2], q with NaN/inf or
        whose last axis is not n_x, one curve that is 0, negative or negligible at x = 0.5 (of
        several, such curves' ratios are NaN with a RuntimeWarning).
    """
    v.check_aligned(x=x, q=q)
    x = distinct_x("x", x)
    q = v.real_array("q", q)
    if q.ndim == 0 or q.shape[-1] != x.size:
        raise ValueError(f"q must have shape (..., {x.size}) to match x (n_x = {x.size}), got "
                         f"shape {q.shape}")
    check_ratio_span(x)
    order = np.argsort(x)
    lx, qq = np.log(x[order]), q[..., order]
    # in units of each curve's largest |q| (the ratio is unit-free): the spline overflowed for a
    # curve near 1e308 (R = inf; a break test, session 44)
    size = np.max(np.abs(qq), axis=-1, keepdims=True)
    qq = qq / np.where(size > 0, size, 1.0)
    targets = np.log([2.0, 0.5])
    if lx.size >= 4:
        hi, lo = np.moveaxis(CubicSpline(lx, qq, axis=-1)(targets), -1, 0)
    else:
        hi, lo = (np.apply_along_axis(lambda r, t=t: np.interp(t, lx, r), -1, qq) for t in targets)
    # a curve that is 0 at x = 0.5 has no ratio: numpy's 0/0 warning and a NaN came out (a curve
    # of a realisation with no line near w); one that is negative or negligible there (1e-300
    # of its peak, or a stochastic solver's -1e-20) gave ratios of 1e300 (a helper, session 36)
    peak = np.max(np.abs(qq), axis=-1)
    undefined = np.asarray(lo <= NEGLIGIBLE * peak)
    if undefined.any():
        if q.ndim == 1:
            raise ValueError(f"q at x = 0.5 (interpolated) is {float(lo):.3g}, not above "
                             f"{NEGLIGIBLE:g} of the curve's largest |q|, so the shape ratio "
                             "Q(x=2)/Q(x=0.5) is undefined (a curve with no absorption there)")
        warnings.warn(f"q: {int(undefined.sum())} of {undefined.size} curves are 0, negative or "
                      f"below {NEGLIGIBLE:g} of their peak at x = 0.5 (interpolated): their shape "
                      "ratio is undefined, NaN", RuntimeWarning, stacklevel=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(undefined, np.nan, hi / np.where(undefined, 1.0, lo))
    return ratio if q.ndim > 1 else ratio[()]


def distinct_x(name: str, x) -> np.ndarray:
    """x = w / T for an interpolation in x: a non-empty 1-d array of distinct finite values > 0."""
    arr = v.positive_array(name, x)
    pairs = v.near_repeats(arr)  # within 1e-9 relative: the spline between them blew up R
    if pairs:                    # (3.11 read as 36.7, session 31)
        raise ValueError(f"{name} must not repeat a value (the shape ratio interpolates in x), got "
                         f"{v.describe_repeats(pairs)}")
    return arr


def check_ratio_span(x: np.ndarray) -> np.ndarray:
    """``x`` (validated, > 0) if it spans [0.5, 2] (in ln x to 1e-12), the range of the shape
    ratio; else ValueError."""
    if math.log(x.min()) > math.log(0.5) + 1e-12 or math.log(x.max()) < math.log(2.0) - 1e-12:
        raise ValueError(f"x must span [0.5, 2] for the shape ratio, got [{x.min():.3g}, "
                         f"{x.max():.3g}]")
    return x
