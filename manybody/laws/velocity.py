"""The logarithmic law of the sound velocity: dv/v = C ln T (canonical TTLS: slope C0 for T >> w).

:func:`log_slope` measures the slope d(dv/v)/d(ln T) of a curve by weighted least squares.
:func:`velocity_slopes` is a quick estimate of the public API (the largest point is the maximum;
each side is every point a factor ``margin`` away from it; its numbers are part of the golden set);
the study tabulates :func:`fit_velocity_slopes`, and the two differ beyond their errors on curves
whose maximum is not well sampled.
:func:`fit_velocity_slopes` is the fitter that decides (issue 17): it locates the maximum first (a
quadratic in ln T around the largest value, with its error), then fits the two slopes over
stated windows of decades on each side, with errors from given sigmas, from the covariance of the
mean over realisations, or from the residuals; the ratio below/above carries its error and bad
windows raise a ValueError naming the remedy, never a NaN. Numpy only, so the physics and the
command line can use it without the fitting engine.

All three fit in units where the data and the errors are of order 1 (each divided by a power of
two near its largest magnitude, which is exact): their results scale with the data at any scale
the floating-point range holds (session 28: squares in the units given made errors of 0 or inf
at 1e+-160, and no maximum or a singular matrix at 1e+-200).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass

import numpy as np

from manybody.laws.covariance import SCATTER_P, correlation, covariance, unequal_scatter_p_value
from manybody.laws.inputs import warn_identical_realisations
from manybody.support import validate as v


def _unmasked(name: str, value):
    """``value`` unchanged, unless it is a numpy masked array with masked entries: ValueError
    (np.asarray read the values under the mask, so a masked temperature was fitted as data)."""
    if isinstance(value, np.ma.MaskedArray):
        masked = np.flatnonzero(np.ma.getmaskarray(value))
        if masked.size:
            raise ValueError(f"{name} is a masked array with {masked.size} masked entr"
                             f"{'y' if masked.size == 1 else 'ies'} (first at flat index "
                             f"{masked[0]}): masked values are not data; remove them (e.g. "
                             "numpy.ma.compressed, dropping the same rows of every column) "
                             "before fitting")
        return np.ma.getdata(value)
    return value


def _exponent(values) -> int:
    """e such that values * 2^-e has its largest magnitude in [0.5, 1) (0 for no or all-zero
    values): dividing by 2^e is exact, so a fit in these units is the fit in the units given,
    scaled, while its squares neither over- nor underflow."""
    top = float(np.max(np.abs(values))) if np.size(values) else 0.0
    return math.frexp(top)[1] if top > 0 and math.isfinite(top) else 0


def _ldexp(value: float, exponent: int) -> float:
    """value * 2^exponent, inf or 0 beyond the floating-point range (math.ldexp raises)."""
    with np.errstate(over="ignore", under="ignore"):
        return float(np.ldexp(value, exponent))


def log_slope(temperatures, values, sigma=None) -> tuple[float, float]:
    """Slope C = d(values)/d(ln T) by weighted least squares, and its uncertainty.

    Used for the velocity shift (canonical TTLS: slope C0 for T >> w, docs/PHYSICS.md section 3).

    Parameters
    ----------
    temperatures : array_like, shape (n,)
        T (K), > 0, at least two distinct values.
    values : array_like, shape (n,)
        The curve (e.g. delta v / v in units of C0).
    sigma : array_like, shape (n,), or float, optional
        Errors of ``values`` (> 0; a number: the same for every point); None: unit weights,
        the uncertainty scaled by the residual variance, which needs n >= 3 (one degree of
        freedom).

    Returns
    -------
    (float, float)
        The slope and its standard error (units of ``values`` per e-fold of T).

    Raises
    ------
    TypeError
        ``temperatures``, ``values`` or ``sigma`` not an array of real numbers.
    ValueError
        Shapes that differ, fewer than two distinct temperatures (no slope), or fewer than three
        points without ``sigma`` (no scatter to take the error from): a slope of one point, or
        an error of 9e-16 from two, came back before (session 26); a masked array with masked
        entries.

    Notes
    -----
    Computed with the values and the errors each divided by a power of two near their largest
    magnitude (exact): the slope and its error scale with the values (and the errors) at any
    scale the floating-point range holds. The residual sum and the weights had been formed in
    the units given, so values of 1e-160 had an error of 0 and of 1e160 an error of inf
    (session 28).
    """
    v.check_aligned(temperatures=temperatures, values=values, sigma=sigma)
    t = v.positive_array("temperatures", _unmasked("temperatures", temperatures))
    y = v.real_array("values", _unmasked("values", values), t.shape)
    given = None if sigma is None else np.shape(sigma)
    s = (np.ones_like(y) if sigma is None
         else v.positive_array("sigma", _unmasked("sigma", sigma)))
    if given == ():  # one number: the same error at every temperature
        s = np.full(t.shape, s.item())
    if s.shape != t.shape:
        raise ValueError(f"sigma must be a number or have the shape of temperatures {t.shape}, "
                         f"got {given}")
    if t.ndim != 1 or np.unique(t).size < 2:
        raise ValueError(f"a slope in ln T needs at least two distinct temperatures, got "
                         f"{np.unique(t).size} ({t.size} point(s))")
    if sigma is None and t.size < 3:
        raise ValueError(f"the slope's error from the scatter needs at least 3 points (one "
                         f"degree of freedom), got {t.size}; give sigma")
    # in working units: values / 2^ey, errors / 2^es (exact); the slope comes in units of
    # 2^ey, its error in units of the errors (2^es), or of the values with the scatter
    ey = _exponent(y)
    es = _exponent(s) if sigma is not None else 0
    yw, sw = np.ldexp(y, -ey), np.ldexp(s, -es)
    design = np.stack([np.log(t), np.ones_like(t)], axis=1) / sw[:, None]
    coef, *_ = np.linalg.lstsq(design, yw / sw, rcond=None)
    cov = covariance(design)  # the design is the exact Jacobian (the model is linear)
    if sigma is None:  # scale by the residual variance
        resid = yw - (coef[0] * np.log(t) + coef[1])
        cov = cov * (resid @ resid) / (t.size - 2)
        es = ey
    return _ldexp(coef[0], ey), _ldexp(math.sqrt(max(cov[0, 0], 0.0)), es)


@dataclass(frozen=True)
class VelocitySlopes:
    """Slopes of delta v / v in ln T on both sides of its maximum.

    Attributes
    ----------
    temperature_max : float
        T (K) of the maximum of the (mean) curve.
    below, below_error : float
        Slope (units of delta v / v, e.g. C0) and one-sigma error for T < T_max / margin.
    above, above_error : float
        The same for T > T_max * margin.
    ratio : float
        below / above (canonical TTLS: -2; a-SiO2 and BK7: about -1).
    """

    temperature_max: float
    below: float
    below_error: float
    above: float
    above_error: float

    @property
    def ratio(self) -> float:
        return self.below / self.above if self.above != 0 else math.nan



def _check_ascending(t: np.ndarray) -> None:
    """Refuse temperatures that are not strictly ascending, naming the first pair out of order."""
    bad = np.flatnonzero(np.diff(t) <= 0)
    if bad.size:
        raise ValueError(f"temperatures must be strictly ascending, found {t[bad[0]]:.6g} K "
                         f"then {t[bad[0] + 1]:.6g} K at index {bad[0] + 1}; sort the rows and "
                         "average repeated temperatures")

def velocity_slopes(temperatures, dv, margin: float = 2.0) -> VelocitySlopes:
    """Slopes of delta v / v against ln T below and above its maximum, with uncertainties.

    A quick estimate (the study tabulates :func:`fit_velocity_slopes`): T_max is the temperature
    of the largest point and the errors treat the temperatures as independent. To decide between
    slope ratios (T_max with its error, windows of stated width, errors from the covariance over
    realisations, the ratio with its error) use :func:`fit_velocity_slopes`.

    Parameters
    ----------
    temperatures : array_like, shape (n_T,)
        T (K), > 0, ascending.
    dv : array_like, shape (n_T,) or (n_realisations, n_T)
        delta v / v (e.g. units of C0). With realisations the mean is fitted with its standard
        error as sigma; otherwise the error comes from the fit residuals.
    margin : float
        Points with T_max / margin <= T <= T_max * margin are left out (the rounded top), >= 1.

    Raises
    ------
    TypeError
        ``temperatures`` or ``dv`` not an array of real numbers; ``margin`` not a number.
    ValueError
        Fewer than 3 points on either side, or a maximum at the edge of the range; a masked
        array with masked entries.
    """
    v.check_aligned(temperatures=temperatures, dv=dv)
    t = v.positive_array("temperatures", _unmasked("temperatures", temperatures))
    _check_ascending(t)
    y = np.atleast_2d(v.real_array("dv", _unmasked("dv", dv)))
    if y.ndim == 2:
        warn_identical_realisations("velocity_slopes", y, "pass it alone as a 1-d array")
    if y.shape[-1] != t.size or y.ndim != 2:
        raise ValueError(f"dv must have shape ({t.size},) or (n_realisations, {t.size}), "
                         f"got {np.shape(dv)}")
    if v.finite("margin", margin) < 1:
        raise ValueError(f"margin must be >= 1, got {margin!r}")
    # in units of a power of two near the largest |dv| (exact): the standard error of the mean
    # squared the values in the units given, so its weights were 0 (all floored) at 1e-160 and
    # inf at 1e160 (session 28)
    ey = _exponent(y)
    y = np.ldexp(y, -ey)
    mean = y.mean(axis=0)
    sigma = None
    if y.shape[0] > 1:
        sigma = y.std(axis=0, ddof=1) / math.sqrt(y.shape[0])
        sigma = np.maximum(sigma, 1e-12 * max(np.abs(mean).max(), 1e-300))
    t_max = float(t[int(np.argmax(mean))])
    result = []
    for side, name in ((t < t_max / margin, "below"), (t > t_max * margin, "above")):
        if side.sum() < 3:
            raise ValueError(f"need at least 3 temperatures {name} the maximum at "
                             f"T = {t_max:.4g} K (margin {margin}), got {int(side.sum())}")
        slope, error = log_slope(t[side], mean[side], None if sigma is None else sigma[side])
        result.extend([_ldexp(slope, ey), _ldexp(error, ey)])
    return VelocitySlopes(t_max, *result)


# --------------------------------------------------------------------------- the deciding fitter

#: What the fitter does, in the words its results and messages use.
METHOD = ("maximum: weighted quadratic in ln T through the points within a factor `top` of the "
          "largest value (vertex and its delta-method error); slopes: weighted straight lines in "
          "ln T over `decades` decade(s) on each side, starting a factor `margin` away from T_max "
          "(the rounded top left out); ratio below/above with a delta-method error that includes "
          "the correlation of the two slopes")


@dataclass(frozen=True)
class VelocityFit:
    """The two logarithmic slopes of delta v / v (or resonator df/f) and its maximum, with errors.

    Slopes are d(delta v / v)/d(ln T) in the units of the data (C0 for the simulation); the fitted
    lines are ``offset_side + slope_side * ln(T / temperature_max)``.

    Attributes
    ----------
    temperature_max, temperature_max_error : float
        T (K) of the maximum (vertex of the quadratic in ln T) and its one-sigma statistical
        error (delta method). It leaves out the quadratic's own misfit: a break test of the error
        bars (session 49) found the true maximum within 2 errors in only 73-81 % of simulated
        curves, and in 19 % where the top was sharper than the quadratic over the window; read
        it as a lower bound, and compare fits with another ``top``.
    value_max : float
        delta v / v at the vertex.
    below, below_error, above, above_error : float
        Slopes below and above the maximum and their one-sigma errors.
    slope_covariance : float
        Covariance of the two slopes (non-zero for realisations: the same disorder at every T),
        inf or 0 where it lies beyond the floating-point range (data of 1e+-160 and beyond;
        ``slope_correlation`` keeps it).
    ratio, ratio_error : float
        below / above (canonical TTLS: -2; a-SiO2 and BK7: about -1) and its delta-method error.
    offset_below, offset_above : float
        The fitted lines at T = temperature_max.
    window_top, window_below, window_above : tuple of float
        Lowest and highest temperature (K) of the points each fit used.
    n_top, n_below, n_above : int
        Number of temperatures in each fit.
    margin, decades, top : float
        The window rule (see :data:`~manybody.laws.velocity.METHOD`).
    error_source : str
        "given sigmas", "realisations" (covariance of the mean over realisations), "residuals"
        (one scatter estimated from the residuals of the three fits) or "residuals per window"
        (each window's own, where the three are unequal by Bartlett's test).
    n_realisations : int
        Curves averaged (1 for a single curve).
    chi2_per_dof : float
        Sum of the weighted squared residuals of the three fits over their degrees of freedom
        (1 by construction for "residuals").
    slope_correlation : float
        Correlation of the two slopes, slope_covariance / (below_error above_error), the same in
        any units of the data (0 for independent points).

    Every value scales with the data (slopes, offsets, value_max and their errors with dv,
    temperatures with T) at any scale the floating-point range holds: the fit runs on dv and
    sigma divided by powers of two near their largest magnitudes (exact). In the units given,
    the weights 1/sigma^2 and the covariance of the realisations over- or underflowed, and
    data of 1e-200 had no maximum, of 1e160 and 1e200 a singular matrix (session 28).
    """

    temperature_max: float
    temperature_max_error: float
    value_max: float
    below: float
    below_error: float
    above: float
    above_error: float
    slope_covariance: float
    ratio: float
    ratio_error: float
    offset_below: float
    offset_above: float
    window_top: tuple[float, float]
    window_below: tuple[float, float]
    window_above: tuple[float, float]
    n_top: int
    n_below: int
    n_above: int
    margin: float
    decades: float
    top: float
    error_source: str
    n_realisations: int
    chi2_per_dof: float
    slope_correlation: float = math.nan

    def line(self, side: str, temperatures) -> np.ndarray:
        """The fitted straight line ``side`` ("below" or "above") at ``temperatures`` (K)."""
        slope, offset = ((self.below, self.offset_below) if side == "below"
                         else (self.above, self.offset_above))
        return offset + slope * np.log(np.asarray(temperatures, dtype=np.float64)
                                       / self.temperature_max)

    def windows(self) -> str:
        """The window choice in words (printed by ``manybody fit-data --velocity``)."""
        return (f"maximum from {self.n_top} points in {self.window_top[0]:.4g}-"
                f"{self.window_top[1]:.4g} K (top factor {self.top:g}); below from "
                f"{self.n_below} points in {self.window_below[0]:.4g}-{self.window_below[1]:.4g} K"
                f"; above from {self.n_above} points in {self.window_above[0]:.4g}-"
                f"{self.window_above[1]:.4g} K ({self.decades:g} decade(s) per side from a factor "
                f"{self.margin:g} off T_max)")

    def to_dict(self) -> dict:
        """JSON-ready fields, with the method in words."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        for key in ("window_top", "window_below", "window_above"):
            d[key] = list(d[key])
        d["method"] = METHOD
        return d


def _check_velocity_inputs(temperatures, dv, sigma) -> tuple[np.ndarray, np.ndarray,
                                                              np.ndarray | None]:
    """(T, curves of shape (n_realisations, n_T), sigma or None), or a ValueError naming the
    problem and the remedy."""
    temperatures = _unmasked("temperatures", temperatures)
    dv = _unmasked("dv", dv)
    sigma = None if sigma is None else _unmasked("sigma", sigma)
    for name, value in (("temperatures", temperatures), ("dv", dv), ("sigma", sigma)):
        # complex was cast with a ComplexWarning only; None was "got shape ()" with the advice
        # to measure more temperatures (bt185)
        if value is not None or name != "sigma":
            v.check_real_elements(name, value)
    t = np.asarray(temperatures, dtype=np.float64)
    if t.ndim != 1 or t.size < 7:
        raise ValueError(f"temperatures must be a 1-d array of at least 7 values (3 per side and "
                         f"the maximum), got shape {t.shape}; measure or compute more temperatures")
    bad = np.flatnonzero(~np.isfinite(t) | (t <= 0))
    if bad.size:
        raise ValueError(f"temperatures must be finite and > 0 K, found {float(t[bad[0]])!r} at index "
                         f"{bad[0]}; remove that row")
    _check_ascending(t)
    y = np.asarray(dv, dtype=np.float64)
    if y.ndim == 1:
        y = y[None, :]
    if y.ndim != 2 or y.shape[1] != t.size:
        raise ValueError(f"dv must have shape ({t.size},) or (n_realisations, {t.size}), got "
                         f"{np.shape(dv)}; give one value per temperature")
    bad = np.argwhere(~np.isfinite(y))
    if bad.size:
        raise ValueError(f"dv is NaN or infinite at T = {t[bad[0][1]]:.6g} K (realisation "
                         f"{bad[0][0]}); remove that temperature or realisation before fitting")
    if sigma is None:
        return t, y, None
    if y.shape[0] > 1:
        raise ValueError("give sigma for a single curve only; with realisations the errors come "
                         "from their scatter (pass sigma=None)")
    s = np.asarray(sigma, dtype=np.float64)
    if s.shape != t.shape:
        raise ValueError(f"sigma must have shape ({t.size},), got {s.shape}; one error per "
                         "temperature")
    bad = np.flatnonzero(~np.isfinite(s) | (s <= 0))
    if bad.size:
        raise ValueError(f"sigma must be finite and > 0, found {float(s[bad[0]])!r} at T = "
                         f"{t[bad[0]]:.6g} K; fix the error column or drop it (errors then come "
                         "from the residuals)")
    return t, y, s


def _estimator(u: np.ndarray, weights: np.ndarray, degree: int) -> np.ndarray:
    """Rows of the weighted least-squares polynomial in u (coefficients of u^0, u^1, ...) as
    linear maps of the data: coefficients = A @ y."""
    design = np.vander(u, degree + 1, increasing=True)
    normal = design.T @ (design * weights[:, None])
    return np.linalg.solve(normal, (design * weights[:, None]).T)


def _locate_maximum(t, mean, weights, top, quantity: str = "delta v/v"):
    """(points, estimator rows, index of the largest value) of the quadratic around the maximum;
    ``quantity`` names the curve in the messages."""
    i0 = int(np.argmax(mean))
    if i0 == 0 or i0 == t.size - 1:
        edge, remedy = (("lowest", "lower temperatures (or, for a relaxation maximum, a lower "
                         "frequency)") if i0 == 0 else
                        ("highest", "higher temperatures (or a higher frequency)"))
        i1 = int(np.argmin(mean))
        depth = min(mean[0], mean[-1]) - mean[i1]
        if 2 <= i1 <= t.size - 3 and depth > 0.25 * np.ptp(mean):  # a clear minimum inside:
            # the curve upside down (session 35: it was told to extend the data)
            raise ValueError(f"{quantity} has a minimum inside the data (T = {t[i1]:.4g} K) and "
                             f"its largest value at the {edge} temperature: is its sign flipped "
                             "(f(T_ref) - f(T) instead of f(T) - f(T_ref))? The TLS velocity "
                             "shift rises as ln T up to a maximum")
        raise ValueError(f"the maximum of {quantity} lies at the {edge} temperature, "
                         f"T = {t[i0]:.4g} K, the edge of the data: no maximum to fit; extend "
                         f"the data to {remedy}")
    # Centred on the largest point, the window would follow its noise (the largest value is
    # biased up): re-centre on the point nearest the fitted vertex until the window settles.
    seen = set()
    while i0 not in seen:
        seen.add(i0)
        u = np.log(t / t[i0])
        near = np.abs(u) <= math.log(top) * (1 + 1e-12)
        near[i0 - 1:i0 + 2] = True  # at least the two neighbours
        idx = np.flatnonzero(near)
        est = _estimator(u[idx], weights[idx], 2)
        _, b, c = est @ mean[idx]
        if not c < 0:
            break
        centre = int(np.argmin(np.abs(u + b / (2 * c))))
        if centre in seen or not 0 < centre < t.size - 1:
            break
        i0 = centre
    return idx, est, i0


def _vertex(t, i0, coef, cov, ey: int = 0, quantity: str = "delta v/v"):
    """(T_max, its error, value at the vertex) of the quadratic a + b u + c u^2, u = ln(T/t[i0]),
    with coefficients in units of 2^ey (for the message) and ``cov`` their covariance (in any
    units: the error is in the units of sqrt(cov) per unit of the coefficients)."""
    a, b, c = coef
    if not c < 0:
        raise ValueError(f"no maximum: {quantity} is not curved downwards around its largest value "
                         f"at T = {t[i0]:.4g} K (quadratic coefficient {_ldexp(c, ey):.3g}); "
                         "the top is noise or a plateau: average more data or widen `top`")
    u = -b / (2 * c)
    grad = np.array([0.0, -1 / (2 * c), b / (2 * c * c)])
    t_max = float(t[i0] * math.exp(u))
    return t_max, t_max * math.sqrt(max(grad @ cov @ grad, 0.0)), float(a + b * u + c * u * u)


def _side(t, t_max, lo, hi, name, margin, decades):
    """Indices of the temperatures in [lo, hi] (one side's window), at least 3."""
    idx = np.flatnonzero((t >= lo * (1 - 1e-12)) & (t <= hi * (1 + 1e-12)))
    if idx.size < 3:
        remedy = ("lower temperatures" if name == "below" else "higher temperatures")
        raise ValueError(f"only {idx.size} temperature(s) {name} the maximum at T_max = "
                         f"{t_max:.4g} K in the window {lo:.4g}-{hi:.4g} K ({decades:g} decade(s) "
                         f"from a factor {margin:g} off T_max); need at least 3: extend the data "
                         f"to {remedy}, use denser temperatures, or a smaller margin / more "
                         "decades")
    return idx


def fit_velocity_slopes(temperatures, dv, sigma=None, *, margin: float = 3.0,
                        decades: float = 1.0, top: float = 1.5,
                        quantity: str = "delta v/v") -> VelocityFit:
    """Locate the maximum of delta v / v (T), then fit its logarithmic slopes on both sides.

    The method (:data:`~manybody.laws.velocity.METHOD`): the maximum is the vertex of a weighted quadratic in
    ln T through
    the points within a factor ``top`` of the largest value (at least its two neighbours); the
    slopes are weighted straight lines in ln T through the points in
    [T_max / (margin 10^decades), T_max / margin] and [T_max margin, T_max margin 10^decades].
    The windows follow the fitted T_max and are treated as fixed in the errors.

    Errors: from ``sigma`` when given (absolute); for realisations (``dv`` of shape
    (n_realisations, n_T)) from the covariance of their mean across temperatures (the same
    disorder at every T, so the slopes are correlated; the mean is weighted by its standard
    errors); otherwise from one scatter estimated from the residuals of the three fits, or each
    window's own where the three are unequal beyond chance (Bartlett's test at p < 1e-3 and a
    spread of 3x; a UserWarning says so).
    T_max and the ratio carry delta-method errors.

    Parameters
    ----------
    temperatures : array_like, shape (n_T,)
        T (K), finite, > 0, strictly ascending.
    dv : array_like, shape (n_T,) or (n_realisations, n_T)
        delta v / v or df/f (any units: the slopes come in the same units per e-fold of T).
    sigma : array_like, shape (n_T,), optional
        One-sigma errors of a single curve.
    margin : float
        Each side's window starts a factor ``margin`` (> 1) away from T_max. For canonical TTLS
        the one-decade windows bias the slopes +1 / -1/2 by -0.058 / +0.058 (margin 2),
        -0.030 / +0.030 (margin 3, the default), -0.002 / +0.015 (margin 5), because the
        relaxation part has not yet vanished below / reached its logarithm above the maximum
        (tests/test_velocity_slopes.py).
    decades : float
        Width of each side's window in decades of T (> 0).
    top : float
        The quadratic uses the points within a factor ``top`` (> 1) of the largest value.
    quantity : str
        The curve's name in the error messages (e.g. "df/f" or "df" for a resonator's shift),
        a non-empty string.

    Returns
    -------
    VelocityFit

    Raises
    ------
    ValueError
        Naming the problem and the remedy: non-ascending, non-positive or non-finite T, NaN in
        ``dv``, bad ``sigma``, a maximum at the edge of the data, no downward curvature at the
        top, a vertex outside the top window, fewer than 3 points on a side, a zero slope above,
        a masked array with masked entries.
    TypeError
        Complex or non-numeric arrays.
    """
    v.check_aligned(temperatures=temperatures, dv=dv, sigma=sigma)
    for name, value, low in (("margin", margin, 1.0), ("top", top, 1.0), ("decades", decades, 0)):
        if not v.finite(name, value) > low:  # an array: TypeError, one line (bt187)
            raise ValueError(f"{name} must be a finite number > {low:g}, got {value!r}")
    if not (isinstance(quantity, str) and quantity.strip()):
        raise ValueError(f"quantity must be a non-empty string (the curve's name in messages), "
                         f"got {v._describe(quantity)}")
    t, y, given = _check_velocity_inputs(temperatures, dv, sigma)
    n_real = y.shape[0]
    warn_identical_realisations("fit_velocity_slopes", y, "pass it alone as a 1-d array")
    # working units (exact, powers of two): dv / 2^ey and the errors / 2^es, both of order 1
    # (see VelocityFit); the estimators do not depend on a common factor of the weights
    ey = _exponent(y)
    y = np.ldexp(y, -ey)
    mean = y.mean(axis=0)
    es = ey
    if given is not None:
        es = _exponent(given)
        source, scale = "given sigmas", np.ldexp(given, -es)
        cov = np.diag(scale**2)
    elif n_real > 1:
        dev = (y - mean) / math.sqrt(n_real * (n_real - 1))
        cov = dev.T @ dev
        scale = np.maximum(np.sqrt(np.diag(cov)), 1e-12 * max(float(np.abs(mean).max()), 1e-300))
        source = "realisations"
    else:
        source, scale, cov = "residuals", np.ones_like(t), np.eye(t.size)
    weights = 1.0 / scale**2
    top_idx, top_est, i0 = _locate_maximum(t, mean, weights, top, quantity)
    fit = _vertex_and_sides(t, mean, weights, top_idx, top_est, i0, cov, margin, decades, ey,
                            quantity)
    parts = _chi2_parts(t, mean, weights, top_idx, top_est, i0, fit)
    chi2, dof = sum(c for _, c, _ in parts), sum(d for _, _, d in parts)
    if source == "residuals":  # one scatter from all three fits; the errors scaled with it
        variance, source = _window_variances(parts, t.size, chi2 / dof, quantity, ey,
                                             float(np.max(np.abs(mean))))
        fit = _vertex_and_sides(t, mean, weights, top_idx, top_est, i0, np.diag(variance),
                                margin, decades, ey, quantity)
        chi2 = float(dof)
    else:  # residuals in units of 2^ey, errors in units of 2^es
        chi2 = _ldexp(chi2, 2 * (ey - es))
    t_max, t_err, v_max, sides, (lines, cov_slopes) = fit
    (off_b, s_b), (off_a, s_a) = lines
    if s_a == 0:
        raise ValueError("the slope above the maximum is exactly zero: no ratio; check the data "
                         "above T_max")
    grad = np.array([1 / s_a, -s_b / s_a**2])
    (ib, _), (ia, _) = sides
    # back to the units of the data: values by 2^ey; errors by 2^es (slopes) and 2^(es - ey)
    # (T_max relative, the ratio), the covariance by 2^(2 es): exact, no intermediate over- or
    # underflow (an entry beyond the range itself is inf or 0; the correlation keeps it)
    return VelocityFit(
        temperature_max=t_max, temperature_max_error=_ldexp(t_err, es - ey),
        value_max=_ldexp(v_max, ey),
        below=_ldexp(s_b, ey), below_error=_ldexp(math.sqrt(max(cov_slopes[0, 0], 0.0)), es),
        above=_ldexp(s_a, ey), above_error=_ldexp(math.sqrt(max(cov_slopes[1, 1], 0.0)), es),
        slope_covariance=_ldexp(cov_slopes[0, 1], 2 * es), ratio=s_b / s_a,
        ratio_error=_ldexp(math.sqrt(max(grad @ cov_slopes @ grad, 0.0)), es - ey),
        offset_below=_ldexp(off_b, ey), offset_above=_ldexp(off_a, ey),
        window_top=(float(t[top_idx[0]]), float(t[top_idx[-1]])),
        window_below=(float(t[ib[0]]), float(t[ib[-1]])),
        window_above=(float(t[ia[0]]), float(t[ia[-1]])),
        n_top=int(top_idx.size), n_below=int(ib.size), n_above=int(ia.size),
        margin=float(margin), decades=float(decades), top=float(top), error_source=source,
        n_realisations=n_real, chi2_per_dof=chi2 / dof,
        slope_correlation=float(correlation(cov_slopes)[0, 1]))


def _chi2_parts(t, mean, weights, top_idx, top_est, i0, fit) -> list[tuple[np.ndarray, float, int]]:
    """(points, weighted sum of squared residuals, dof) of the quadratic at the top and of the
    lines below and above, in that order."""
    t_max, sides = fit[0], fit[3]
    parts = [(top_idx, top_est, np.log(t[top_idx] / t[i0]), 3)]
    parts += [(idx, est, np.log(t[idx] / t_max), 2) for idx, est in sides]
    out = []
    for idx, est, u, n_coef in parts:
        r = mean[idx] - np.vander(u, n_coef, increasing=True) @ (est @ mean[idx])
        out.append((idx, float(r @ (r * weights[idx])), idx.size - n_coef))
    return out


#: Window scatters below this fraction of the data's largest |value| are round-off: exact data,
#: not windows that fit unequally (noiseless curves drew the warning, a tester, bt200).
ROUND_OFF_SCATTER = 1e-9


def _window_variances(parts: list[tuple[np.ndarray, float, int]], n_t: int, pooled: float,
                      quantity: str, ey: int = 0, size: float = math.inf
                      ) -> tuple[np.ndarray, str]:
    """The variance of each point (shape (n_t,)) for errors from the residuals, and the error
    source: one pooled scatter for all three fits ("residuals"), unless the windows' own
    scatters are unequal beyond chance (Bartlett's test,
    :func:`~manybody.laws.covariance.unequal_scatter_p_value`): then each window's errors come
    from its own scatter ("residuals per window"), with a UserWarning. The quasiparticle fall of
    a Nb resonator's shift above 1.3 K set the pooled scatter of the shipped table, 17x the
    scatter below the maximum: the slope below had 8.8x its own error and the slope above 0.5x
    (a tester, bt197). Where windows share points the later one's scatter is taken for them.
    The residuals are in units of 2^ey of the data (the scatters are shown in the data's);
    ``size`` is the data's largest |value| in the same units (scatters below
    ``ROUND_OFF_SCATTER`` of it are round-off and keep the pooled scatter)."""
    variance = np.full(n_t, pooled)
    tested = [(idx, c / d, d) for idx, c, d in parts if d > 0]
    p_value = unequal_scatter_p_value([math.sqrt(s2) for _, s2, _ in tested],
                                      [d for *_, d in tested]) if len(tested) > 1 else None
    if p_value is None or p_value >= SCATTER_P or max(
            s2 for _, s2, _ in tested) <= (ROUND_OFF_SCATTER * size) ** 2:
        return variance, "residuals"
    for idx, s2, _ in tested:
        variance[idx] = s2
    names = [name for name, (_, _, d) in zip(("top", "below", "above"), parts, strict=True) if d > 0]
    shown = ", ".join(f"{name} {_ldexp(math.sqrt(s2), ey):.3g}" for name, (_, s2, _) in zip(names, tested,
                                                                                  strict=True))
    warnings.warn(f"the scatter of {quantity} about the fits of the three windows differs ({shown}; "
                  f"unequal by Bartlett's test, p = {p_value:.1g}): each window's errors are "
                  "taken from its own residuals; a window whose line (or quadratic) misses the "
                  "data's shape has the largest (e.g. the fall of a superconductor's shift "
                  "above ~T_c/10: narrow --decades or set --tmax)", UserWarning, stacklevel=3)
    return variance, "residuals per window"


def _vertex_and_sides(t, mean, weights, top_idx, top_est, i0, cov, margin, decades, ey=0,
                      quantity="delta v/v"):
    """T_max (with error and value), the two side windows with their estimators, and the
    fitted lines with the covariance of the two slopes, for data covariance ``cov`` (the
    data in units of 2^ey; the errors come in the units of sqrt(cov) per unit of the data)."""
    coef = top_est @ mean[top_idx]
    t_max, t_err, v_max = _vertex(t, i0, coef, top_est @ cov[np.ix_(top_idx, top_idx)]
                                  @ top_est.T, ey, quantity)
    u_top = np.log(t[top_idx] / t[i0])
    u_vertex = math.log(t_max / t[i0])
    if not u_top[0] <= u_vertex <= u_top[-1]:
        raise ValueError(f"the fitted maximum T = {t_max:.4g} K lies outside the points that "
                         f"locate it ({t[top_idx[0]]:.4g}-{t[top_idx[-1]]:.4g} K): the maximum "
                         "is not resolved; measure denser temperatures around it or widen `top`")
    width = 10.0**decades
    sides, rows, lines = [], [], []
    for name, lo, hi in (("below", t_max / (margin * width), t_max / margin),
                         ("above", t_max * margin, t_max * margin * width)):
        idx = _side(t, t_max, lo, hi, name, margin, decades)
        est = _estimator(np.log(t[idx] / t_max), weights[idx], 1)
        sides.append((idx, est))
        full = np.zeros(t.size)
        full[idx] = est[1]
        rows.append(full)
        coef = est @ mean[idx]
        lines.append((float(coef[0]), float(coef[1])))
    slope_rows = np.array(rows)
    return t_max, t_err, v_max, sides, (lines, slope_rows @ cov @ slope_rows.T)


# --------------------------------------------------------------------------- the canonical reference

_Z_NODES, _Z_WEIGHTS = np.polynomial.legendre.leggauss(48)
#: Panels of the E / T integral on [0, 70] (sech^2(z/2) < 2e-30 beyond).
_Z_EDGES = np.array([0.0, 0.125, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0,
                     32.0, 45.0, 70.0])


#: Beyond |ln(omega tau_min)| = this, U is its asymptote: 2 / (15 a^2) for large a,
#: ln 2 - 1 - (1/2) ln a for small a (the next terms are below 1e-26 of them).
_LN_A_ASYMPTOTE = 60.0


def _u_integral(a: np.ndarray) -> np.ndarray:
    """int_0^1 du sqrt(1 - u^2)/u / (1 + (a/u^2)^2) for a = omega tau_min >= 0, in closed form
    (u = Delta/E; docs/PHYSICS.md section 4)."""
    b = np.sqrt(1.0 - 1j * np.asarray(a, dtype=np.float64))
    return 0.5 * np.real(-2.0 + b * (np.log(b + 1.0) - np.log(b - 1.0)))


def canonical_velocity_shift(temperatures, omega_over_rate_prefactor: float) -> np.ndarray:
    """delta v / v (units of C0, up to a temperature-independent constant) of independent canonical
    TLS with eps_max, Delta_max -> inf and Delta_min -> 0, at a frequency far below T:

        delta v / v = ln T - (1/2) int_0^inf dz sech^2(z/2) U(omega tau_min(z T)),
        omega tau_min(E) = (omega / K_ph) tanh(E / 2T) / E^3,

    the resonant +C0 ln T plus the relaxation part (docs/PHYSICS.md sections 3-4; U is
    :func:`_u_integral`). The curve depends on T only through T / (omega / K_ph)^(1/3): its
    maximum lies at 1.30 (omega / K_ph)^(1/3), and its slopes are +1 below and -1/2 above.

    Parameters
    ----------
    temperatures : array_like, shape (n,)
        T (K), > 0.
    omega_over_rate_prefactor : float
        omega / K_ph (K^3): hbar omega / k_B (K) over the one-phonon prefactor (s^-1 K^-3)
        times omega in s^-1, i.e. the ratio that sets where relaxation takes over.

    Returns
    -------
    numpy.ndarray, shape (n,)
    """
    t = v.positive_array("temperatures", _unmasked("temperatures", temperatures))
    scale = v.positive("omega_over_rate_prefactor", omega_over_rate_prefactor)
    lo, hi = _Z_EDGES[:-1, None], _Z_EDGES[1:, None]
    z = (0.5 * (lo + hi) + 0.5 * (hi - lo) * _Z_NODES).ravel()
    wz = (0.5 * (hi - lo) * _Z_WEIGHTS).ravel()
    sech2 = 1.0 / np.cosh(0.5 * z) ** 2
    with np.errstate(over="ignore", under="ignore", divide="ignore"):
        a = scale * np.tanh(0.5 * z)[None, :] / (z[None, :] * t[:, None]) ** 3
    # far from the maximum a over- or underflowed (T 1e100 K: a = 0, U = inf, NaN with
    # warnings; session 27): there U from its asymptotes in ln a, which never overflows
    ln_a = (math.log(scale) + np.log(np.tanh(0.5 * z) / z**3)[None, :]
            - 3.0 * np.log(t)[:, None])
    big, small = ln_a > _LN_A_ASYMPTOTE, ln_a < -_LN_A_ASYMPTOTE
    u = _u_integral(np.where(big | small, 1.0, a))
    u = np.where(big, (2.0 / 15.0) * np.exp(-2.0 * np.clip(ln_a, 0.0, 700.0)), u)
    u = np.where(small, math.log(2.0) - 1.0 - 0.5 * ln_a, u)
    return np.log(t) - 0.5 * (u * (wz * sech2)[None, :]).sum(axis=1)


def canonical_ratio(temperatures, temperature_max: float, *, margin: float = 3.0,
                    decades: float = 1.0, top: float = 1.5) -> float:
    """The slope ratio :func:`fit_velocity_slopes` gives on the noiseless canonical curve
    (:func:`canonical_velocity_shift`) sampled at ``temperatures``, with its maximum placed at
    ``temperature_max``: what the standard model predicts for this estimator and these windows
    (-2 only for infinitely wide windows; about -2.1 for one decade from a factor 3, docs/PHYSICS.md
    section 4). The ensemble's edges (eps_max, Delta_min) are taken far away.

    Parameters
    ----------
    temperatures : array_like, shape (n,)
        T (K) of the data, strictly ascending.
    temperature_max : float
        T (K) of the data's maximum (e.g. ``VelocityFit.temperature_max``).
    margin, decades, top : float
        The windows, as for :func:`fit_velocity_slopes`.

    Returns
    -------
    float
        The ratio below / above, or NaN where the windows hold too few of these temperatures.
        It does not depend on the unit of temperature: the same for ``temperatures`` and
        ``temperature_max`` multiplied by any positive number that keeps them finite.

    Raises
    ------
    TypeError
        Temperatures not real numbers; ``temperature_max``, ``margin``, ``decades`` or ``top`` not
        a real number.
    ValueError
        Temperatures not finite and > 0, not strictly ascending, or a masked array with masked
        entries; ``temperature_max`` not finite and > 0; ``margin`` or ``top`` not > 1,
        ``decades`` not > 0.

    Notes
    -----
    Source: docs/PHYSICS.md sections 3-4 (the canonical resonant and relaxation velocity shift).
    The curve and the slopes in ln T are computed in units of ``temperature_max`` (scaled by a
    power of two, exactly): in kelvin the placement (T_max / 0.9)^3 overflowed above ~1e103 K
    (OverflowError) and underflowed below ~1e-103 K (NaN), though the ratio does not depend on
    the scale (session 27). Temperatures more than 1e300 times away from ``temperature_max``
    are left out (no window of fewer than 300 decades reaches them).
    """
    t = v.positive_array("temperatures", _unmasked("temperatures", temperatures))
    peak = v.positive("temperature_max", temperature_max)
    _check_ascending(t)
    for name, value, low in (("margin", margin, 1.0), ("top", top, 1.0), ("decades", decades, 0.0)):
        if not v.finite(name, value) > low:
            raise ValueError(f"{name} must be > {low:g}, got {value!r}")
    if not t[0] < peak < t[-1]:
        return math.nan  # a maximum outside these temperatures: no windows to compare
    # in units of the maximum, by a power of two: exact, so every scale gives the same numbers
    shift = math.frexp(peak)[1]
    with np.errstate(over="ignore", under="ignore"):
        t = np.ldexp(t, -shift)
    t = t[(t > 1e-300) & (t < 1e300)]
    peak = math.ldexp(peak, -shift)
    # the curve is a function of T / (omega/K_ph)^(1/3): place its maximum by scaling, then move
    # it until the fitted maximum (the windows' anchor) is the data's
    grid = np.geomspace(0.05, 20.0, 2001)
    unit_peak = float(grid[int(np.argmax(canonical_velocity_shift(grid, 1.0)))])
    scale = (peak / unit_peak) ** 3
    unit = np.ones_like(t)  # noiseless: the errors are not used (and its misfit is no scatter)
    try:
        for _ in range(3):
            fit = fit_velocity_slopes(t, canonical_velocity_shift(t, scale), unit, margin=margin,
                                      decades=decades, top=top)
            scale *= (peak / fit.temperature_max) ** 3
        return float(fit_velocity_slopes(t, canonical_velocity_shift(t, scale), unit,
                                         margin=margin, decades=decades, top=top).ratio)
    except (ValueError, ArithmeticError):  # too few points in a window, maximum at an edge
        return math.nan
