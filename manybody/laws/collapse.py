"""Frequency collapse of Q^-1(w, T): do curves at several frequencies fall on one function of
x = w / T? (docs/PHYSICS.md section 7, "Frequency collapse".)

Every pure law makes Q(w, T) = A(w) f(w / T): the ratio of two frequencies at the same x,

    R_k(x) = Q(w_k, T = w_k / x) / Q(w_ref, T = w_ref / x) = A(w_k) / A(w_ref),

is a constant. For interacting TLS Q = tanh(x/2) rho_eff(w, T) (section 7); with rho_eff(w, T) =
A(w) rho(T),

    ln R(x) = const + ln rho(w_k / x) - ln rho(w_ref / x),
    d ln R / d ln x = beta(T_ref) - beta(T_k),      beta(T) = d ln rho / d ln T,

with T_k = w_k / x. For w_k > w_ref (T_k > T_ref) the slope is **positive when the logarithmic
temperature slope of rho falls with T** (rho rising and saturating, e.g. a dipolar-gap-like
depletion filling in above the coupling scale: rho = T / (T + T0)) and **negative when it grows**
(rho = 1 + T / T0). A power law rho ~ T^beta collapses (it is a frequency-dependent amplitude);
only a temperature scale in rho breaks the collapse.

Reported (:func:`frequency_collapse`): the ratios R_k(x) of every frequency to the reference; the
slope d ln R / d ln x of the highest to the lowest frequency, fitted by diagonal-weighted least
squares in ln x over their common x, with a paired bootstrap error (the same resampled
realisations at all frequencies); the contrast exp(slope ln(x_max / x_min)) - 1, the relative change
of that ratio across the common x range, which a two-resonator experiment at those frequencies
must resolve; and a covariance-aware test of "all R_k constant" (Hotelling on the linearised
ln R_k, :mod:`manybody.laws.gof`; the bootstrap fallback when the realisations are too few).

x grows as T falls: a positive slope (contrast) means Q(w_max) / Q(w_min) at equal x is larger at
low temperature. A Gaussian line kernel of fixed width eta breaks the collapse by itself (the
kernel-averaged law depends on eta / w: eta = 0.02 K at w = 0.05 and 0.2 K gives a slope of 0.02
for pure tanh(x/2) on x = 0.4..6.4), so spectra for a collapse need eta proportional to w.

The ratios are ratios of means over realisations. Their per-realisation linearisation
(influence values) d_r(x) = q_k,r(x) / Q_k(x) - q_ref,r(x) / Q_ref(x) gives the covariance of
ln R over x.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from manybody.laws.gof import EXACT, HOTELLING, NO_TEST, exact_test, hotelling, linear_bootstrap
from manybody.laws.inputs import warn_identical_realisations
from manybody.support import validate as v

#: Relative tolerance in x for two frequencies' grids to coincide exactly.
X_MATCH = 1e-9
#: Fewest common x points for a ratio.
MIN_COMMON = 3


@dataclass(frozen=True)
class CollapseResult:
    """The frequency-collapse statistic of Q^-1(w, T).

    Attributes
    ----------
    frequencies : numpy.ndarray
        w (K), shape (n_w,).
    reference : int
        Index of the reference frequency.
    pairs : tuple of int
        The frequency indices k != reference, in order, of ``x``, ``ratio``, ``ratio_error``.
    x, ratio, ratio_error : tuple of numpy.ndarray
        Per pair: the common x (ascending), R_k(x) = Q(w_k, x) / Q(w_ref, x) of the means over
        realisations, and its standard error (linearised).
    flatness_error : tuple of numpy.ndarray
        Per pair: the standard error (linearised) of R_k(x) / mean_x R_k(x), the flatness a
        collapse tests; the error of R_k itself is mostly the level common to every x, about
        20 times larger for independent TLS (a tester, session 39).
    interpolated : bool
        Whether some grid did not coincide and Q was interpolated (cubic spline in ln x).
    slope, slope_error : float
        d ln R / d ln x for R = Q(w_max, x) / Q(w_min, x) (the module notes give its sign), with
        the standard deviation of a paired bootstrap over realisations (NaN without bootstrap).
    contrast, contrast_error : float
        exp(slope ln(x_max / x_min)) - 1 over the common x range of w_max and w_min.
    x_range : (float, float)
        That common x range.
    chi2, dof, p_value : float, int, float
        Test of "every R_k constant": Hotelling T^2 (or the bootstrap's diagonal chi^2), its
        degrees of freedom sum_k (n_k - 1) and p-value (NaN without a test).
    p_value_method : str
        "hotelling", "bootstrap", "exact" (every realisation collapses to round-off: p = 1) or
        "none".
    n_realisations : int
    """

    frequencies: np.ndarray
    reference: int
    pairs: tuple
    x: tuple = field(repr=False)
    ratio: tuple = field(repr=False)
    ratio_error: tuple = field(repr=False)
    flatness_error: tuple = field(repr=False)
    interpolated: bool
    slope: float
    slope_error: float
    contrast: float
    contrast_error: float
    x_range: tuple
    chi2: float
    dof: int
    p_value: float
    p_value_method: str
    n_realisations: int


def _on_grid(x_from: np.ndarray, q_from: np.ndarray, x_to: np.ndarray) -> tuple[np.ndarray, bool]:
    """q_from (n_real, n) at x_from, taken at x_to (inside the range): exact coincidence where
    every point matches, else a cubic spline in ln x (not-a-knot). Linear interpolation biased
    the ratio of an exactly collapsing tanh(x/2) by ~1e-3 on a 20-point grid, a slope of -0.0017
    that 40 realisations with 0.1 % noise rejected at p = 6e-7; the spline's bias is ~1e-6
    (session 32). Returns (values, interpolated)."""
    lf, lt = np.log(x_from), np.log(x_to)
    nearest = np.abs(lf[None, :] - lt[:, None]).argmin(axis=1)
    if np.all(np.abs(lf[nearest] - lt) <= X_MATCH):
        return q_from[:, nearest], False
    from scipy.interpolate import CubicSpline  # only for grids that do not coincide

    order = np.argsort(lf)
    if order.size < 4:  # a cubic needs four points: linear, as before
        return np.stack([np.interp(lt, lf[order], row[order]) for row in q_from]), True
    return CubicSpline(lf[order], q_from[:, order], axis=1)(lt), True


def _pair(x_a, q_a, x_b, q_b) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Common x (ascending, on grid b) and both frequencies' realisations there."""
    lo, hi = max(x_a.min(), x_b.min()), min(x_a.max(), x_b.max())
    keep = (x_b >= lo * (1 - X_MATCH)) & (x_b <= hi * (1 + X_MATCH))
    order = np.argsort(x_b[keep])
    x = x_b[keep][order]
    if x.size < MIN_COMMON:
        raise ValueError(f"the x ranges of two frequencies overlap in {x.size} points of the "
                         f"temperature grid, need at least {MIN_COMMON}: frequencies too far "
                         "apart for the temperatures")
    a, interpolated = _on_grid(x_a, q_a, x)
    return x, a, q_b[:, keep][:, order], interpolated


def _log_ratio(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ln of the ratio of means and the per-realisation influence values (n_real, n_x)."""
    ma, mb = a.mean(axis=0), b.mean(axis=0)
    if not (np.all(ma > 0) and np.all(mb > 0)):
        raise ValueError("the mean absorption must be > 0 on the common x range, got "
                         f"minimum {float(min(ma.min(), mb.min()))!r}")
    return np.log(ma / mb), a / ma - b / mb


def _line(lx: np.ndarray, y: np.ndarray, sigma: np.ndarray) -> float:
    """Slope of the weighted least-squares line y = c + s lx."""
    design = np.stack([np.ones_like(lx), lx], axis=1) / sigma[:, None]
    return float(np.linalg.lstsq(design, y / sigma, rcond=None)[0][1])


def _flatness_error(ratio: np.ndarray, influence: np.ndarray) -> np.ndarray:
    """Standard error of g(x) = R(x) / mean_x R(x) from the influence values d_r(x) of ln R:
    d g_r(x) = g(x) (d_r(x) - mean_x(R d_r) / mean_x R)."""
    g = ratio / ratio.mean()
    level = (influence * ratio).mean(axis=1, keepdims=True) / ratio.mean()
    return _standard_error(g * (influence - level), 1.0)


def _standard_error(influence: np.ndarray, scale: float) -> np.ndarray:
    n = influence.shape[0]
    err = influence.std(axis=0, ddof=1) / math.sqrt(n) if n > 1 else np.zeros(influence.shape[1])
    return np.maximum(err, 1e-12 * max(scale, 1e-300))


def _slope(x, a, b, n_bootstrap, rng) -> tuple[float, float, float, float]:
    """Slope of ln(mean a / mean b) in ln x, its contrast, and their paired bootstrap errors."""
    lx = np.log(x)
    y, d = _log_ratio(a, b)
    sigma = _standard_error(d, 1.0)
    span = float(lx[-1] - lx[0])
    slope = _line(lx, y, sigma)
    n = a.shape[0]
    if n < 2 or n_bootstrap <= 0:
        return slope, math.nan, math.expm1(slope * span), math.nan
    draws = []
    for _ in range(n_bootstrap):
        idx = rng.integers(0, n, n)  # paired: the same realisations at both frequencies
        ma, mb = a[idx].mean(axis=0), b[idx].mean(axis=0)
        if np.all(ma > 0) and np.all(mb > 0):
            draws.append(_line(lx, np.log(ma / mb), sigma))
    draws = np.asarray(draws)
    return (slope, float(np.std(draws, ddof=1)), math.expm1(slope * span),
            float(np.std(np.expm1(draws * span), ddof=1)))


def _check(temperatures, frequencies, q_realisations, reference):
    t = v.positive_array("temperatures", temperatures)
    pairs = v.near_repeats(t)  # the x grids are interpolated: scipy's "x must be strictly
    if pairs:                  # increasing" named no parameter (session 33)
        raise ValueError(f"temperatures must not repeat a value (each temperature is one point "
                         f"of Q^-1(w, T)), got {v.describe_repeats(pairs)}")
    w = v.positive_array("frequencies", frequencies)
    q = v.real_array("q_realisations", q_realisations)
    if q.ndim == 2:
        q = q[None]
    if q.ndim != 3 or q.shape[1:] != (t.size, w.size) or q.shape[0] == 0:
        raise ValueError("q_realisations must have shape (n_realisations >= 1, n_temperatures="
                         f"{t.size}, n_frequencies={w.size}), got {q.shape}")
    if w.size < 2:
        raise ValueError(f"frequencies must hold at least 2 values for a collapse, got {w.size}")
    if np.unique(w).size != w.size:
        raise ValueError(f"frequencies must be distinct, got {w.tolist()}")
    reference = v.integer("reference", reference, 0, w.size - 1)
    return t, w, q, reference


def frequency_collapse(temperatures, frequencies, q_realisations, *, reference: int = 0,
                       n_bootstrap: int = 200,
                       rng: np.random.Generator | None = None) -> CollapseResult:
    """The frequency-collapse statistic of Q^-1(w, T) over realisations (module notes).

    Parameters
    ----------
    temperatures : array_like
        T (K), shape (n_temperatures,), > 0, any order.
    frequencies : array_like
        w (K), shape (n_frequencies,), >= 2 distinct values > 0.
    q_realisations : array_like
        Q^-1 (any units, e.g. pi*C0), shape (n_realisations, n_temperatures, n_frequencies)
        (a results file's absorption, realisation first); a 2-d array is one realisation.
    reference : int
        Index of the reference frequency of the ratios R_k.
    n_bootstrap : int
        Paired bootstrap resamples of the realisations for the errors (and for the test's
        fallback): 0 (no errors) or 20 ... 10^5.
    rng : numpy.random.Generator, optional
        For the bootstrap (default: a fixed seed, so the analysis is reproducible).

    Returns
    -------
    CollapseResult

    Raises
    ------
    TypeError
        ``rng`` not a numpy.random.Generator (an int seed: pass numpy.random.default_rng(seed));
        ``n_bootstrap`` not an integer.
    ValueError
        Bad shapes, no realisations, a repeated temperature, fewer than 2 or repeated
        frequencies, a reference out of range, fewer than 3 common x points of two
        frequencies, a mean absorption <= 0 on a common x range; ``n_bootstrap`` not 0 or
        20 ... 10^5.
    """
    t, w, q, reference = _check(temperatures, frequencies, q_realisations, reference)
    n_bootstrap = v.bootstrap_count("n_bootstrap", n_bootstrap, "no bootstrap")
    warn_identical_realisations("frequency_collapse", q.reshape(q.shape[0], -1),
                                "pass each frequency's curve to analyse_shape as a 1-d array")
    rng = v.generator("rng", rng) or np.random.default_rng(0)
    grids = [w_k / t for w_k in w]
    pairs = tuple(k for k in range(w.size) if k != reference)
    xs, ratios, errors, flatness, blocks, interpolated = [], [], [], [], [], False
    for k in pairs:
        x, a, b, interp = _pair(grids[k], q[:, :, k], grids[reference], q[:, :, reference])
        y, d = _log_ratio(a, b)
        xs.append(x)
        ratios.append(np.exp(y))
        errors.append(np.exp(y) * _standard_error(d, 1.0))
        flatness.append(_flatness_error(np.exp(y), d))
        blocks.append(y + d)  # pseudo-values: mean ln R, covariance of the influence values
        interpolated |= interp
    samples = np.concatenate(blocks, axis=1)
    sizes = [b.shape[1] for b in blocks]
    constants = np.zeros((samples.shape[1], len(sizes)))
    differences = np.zeros((samples.shape[1], samples.shape[1] - len(sizes)))
    start = col = 0
    for j, size in enumerate(sizes):
        constants[start:start + size, j] = 1.0
        for i in range(size - 1):
            differences[start + i, col], differences[start + i + 1, col] = -1.0, 1.0
            col += 1
        start += size
    # every realisation collapsing to round-off: "exact", p = 1 (a test of round-off gave
    # p = 0.007 for exactly collapsing realisations on coinciding grids; session 32)
    test = exact_test(samples, differences) or hotelling(samples, differences)
    if test.method not in (HOTELLING, EXACT) and q.shape[0] > 1:
        spread = float(samples.std(axis=0).max())
        test = (linear_bootstrap(samples, constants, n_bootstrap, rng) if spread > 1e-12
                else test)
    hi, lo = int(np.argmax(w)), int(np.argmin(w))
    x, a, b, interp = _pair(grids[hi], q[:, :, hi], grids[lo], q[:, :, lo])
    slope, slope_error, contrast, contrast_error = _slope(x, a, b, n_bootstrap, rng)
    return CollapseResult(
        frequencies=w, reference=reference, pairs=pairs, x=tuple(xs), ratio=tuple(ratios),
        ratio_error=tuple(errors), flatness_error=tuple(flatness),
        interpolated=interpolated or interp, slope=slope,
        slope_error=slope_error, contrast=contrast, contrast_error=contrast_error,
        x_range=(float(x[0]), float(x[-1])), chi2=test.statistic, dof=test.dof,
        p_value=test.p_value if test.method != NO_TEST else math.nan,
        p_value_method=test.method, n_realisations=q.shape[0])
