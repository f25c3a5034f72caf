"""The smoking-gun analysis: does Q^-1(x) at fixed w follow tanh(x/2) or 1 - e^-x?

Laws (x = w / T):

* TLS:            Q = A tanh(x/2)
* generic block:  Q = A (1 - e^-x)
* family:         Q = A (1 - e^-x) / (1 + a e^-x); a = 1 is tanh(x/2), a = 0 is 1 - e^-x.
  The fitted ``a`` is the "TLS index".

Each may carry a constant background B (for measured data). Fits are weighted least squares; the
TLS index of simulated data gets its uncertainty from a bootstrap over disorder realisations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from manybody import _validate as v

#: Shape ratio R = Q(x=2) / Q(x=0.5) of the two laws.
RATIO_TLS = math.tanh(1.0) / math.tanh(0.25)
RATIO_GENERIC = -math.expm1(-2.0) / -math.expm1(-0.5)
#: Bounds of the index a in :func:`fit_law` (a -> -1 is a constant, no temperature dependence).
FAMILY_INDEX_BOUNDS = (-0.999, 100.0)


def law_tls(x: np.ndarray) -> np.ndarray:
    """tanh(x/2)."""
    return np.tanh(0.5 * np.asarray(x, dtype=np.float64))


def law_generic(x: np.ndarray) -> np.ndarray:
    """1 - exp(-x)."""
    return -np.expm1(-np.asarray(x, dtype=np.float64))


def law_family(x: np.ndarray, index: float) -> np.ndarray:
    """(1 - e^-x) / (1 + a e^-x) with TLS index a (1: tanh(x/2), 0: 1 - e^-x)."""
    x = np.asarray(x, dtype=np.float64)
    return -np.expm1(-x) / (1.0 + index * np.exp(-x))


def smeared(law, x: np.ndarray, smearing: float | None, *args) -> np.ndarray:
    """A law averaged over the line kernel: <L(x E / w)> for E ~ N(w, (smearing w)^2).

    A spectrum computed with a Gaussian kernel of width eta at frequency w mixes transition
    energies E = w +- eta, each weighted by its own thermal factor L(E / T). For a density of
    transitions that is flat over the kernel (the regime where results should not depend on eta),
    the expected curve is this average, not L(w / T): fitting it removes the kernel's bias of the
    TLS index (about -0.04 for eta = w/5). ``smearing = None`` or 0 returns ``law(x, *args)``.

    Parameters
    ----------
    law : callable
        law_tls, law_generic or law_family.
    x : numpy.ndarray
        x = w / T.
    smearing : float or None
        eta / w, the kernel's standard deviation relative to the frequency (< 0.3).
    """
    if not smearing:
        return law(x, *args)
    nodes, weights = np.polynomial.hermite_e.hermegauss(24)
    ratio = 1.0 + smearing * nodes
    keep = ratio > 0
    weights = weights[keep] / weights[keep].sum()
    xx = np.asarray(x, dtype=np.float64)[..., None] * ratio[keep]
    return np.sum(law(xx, *args) * weights, axis=-1)


@dataclass(frozen=True)
class LawFit:
    """Weighted least-squares fit of one law.

    Attributes
    ----------
    name : str
        "tls", "generic" or "family".
    parameters : dict
        Best-fit values (amplitude, and background, index where fitted).
    errors : dict
        One-standard-deviation uncertainties of the parameters.
    chi2 : float
        Sum of squared weighted residuals.
    dof : int
        Degrees of freedom (points minus parameters).
    aic, bic : float
        Akaike and Bayesian information criteria (Gaussian likelihood; lower is better).
    p_value : float
        Probability of a chi2 at least this large if the law were right (meaningful only with
        honest sigmas).
    """

    name: str
    parameters: dict
    errors: dict
    chi2: float
    dof: int
    aic: float
    bic: float
    p_value: float

    @property
    def reduced_chi2(self) -> float:
        return self.chi2 / self.dof if self.dof > 0 else math.nan


def _check_xy(x, y, sigma):
    x = v.positive_array("x", x)
    y = v.real_array("q", y)
    if y.shape != x.shape:
        raise ValueError(f"q must have the shape of x {x.shape}, got {y.shape}")
    if sigma is None:
        sigma = np.ones_like(y)
    else:
        sigma = v.positive_array("sigma", sigma)
        if sigma.shape != x.shape:
            raise ValueError(f"sigma must have the shape of x {x.shape}, got {sigma.shape}")
    if x.size < 3:
        raise ValueError(f"need at least 3 points to fit a law, got {x.size}")
    return x, y, sigma


def fit_law(x, q, sigma=None, law: str = "family", background: bool = False,
            smearing: float | None = None) -> LawFit:
    """Fit one law to Q(x).

    Parameters
    ----------
    x : array_like
        x = w / T (dimensionless), > 0.
    q : array_like
        Q^-1 (any units).
    sigma : array_like, optional
        One-standard-deviation errors of q; unit weights when omitted.
    law : {"tls", "generic", "family"}
        Which law.
    background : bool
        Add a constant background B.
    smearing : float, optional
        eta / w of a Gaussian line kernel: fit the kernel-averaged laws (see :func:`smeared`).

    Returns
    -------
    LawFit
    """
    from scipy import optimize, stats

    x, y, s = _check_xy(x, q, sigma)
    v.choice("law", law, ("tls", "generic", "family"))
    names = ["amplitude"] + (["index"] if law == "family" else []) + (
        ["background"] if background else [])

    def model(xx, *p):
        amp = p[0]
        shape = {"tls": law_tls, "generic": law_generic}.get(law)
        base = smeared(shape, xx, smearing) if shape else smeared(law_family, xx, smearing, p[1])
        return amp * base + (p[-1] if background else 0.0)

    if law == "family":
        p0 = [float(np.max(np.abs(y))) or 1.0, 0.5] + ([0.0] if background else [])
        lower = [-np.inf, FAMILY_INDEX_BOUNDS[0]] + ([-np.inf] if background else [])
        upper = [np.inf, FAMILY_INDEX_BOUNDS[1]] + ([np.inf] if background else [])
        popt, pcov = optimize.curve_fit(model, x, y, p0=p0, sigma=s, absolute_sigma=True,
                                        bounds=(lower, upper), maxfev=20000)
    else:  # linear in the parameters: exact weighted least squares
        columns = [smeared({"tls": law_tls, "generic": law_generic}[law], x, smearing)]
        if background:
            columns.append(np.ones_like(x))
        design = np.stack(columns, axis=1) / s[:, None]
        popt, *_ = np.linalg.lstsq(design, y / s, rcond=None)
        pcov = np.linalg.pinv(design.T @ design)
    resid = (y - model(x, *popt)) / s
    chi2 = float(resid @ resid)
    k = len(popt)
    n = x.size
    dof = n - k
    # Gaussian log-likelihood up to a constant: -chi2/2
    aic = chi2 + 2 * k
    bic = chi2 + k * math.log(n)
    p_value = float(stats.chi2.sf(chi2, dof)) if dof > 0 else math.nan
    errors = np.sqrt(np.clip(np.diag(pcov), 0, None))
    return LawFit(law, dict(zip(names, map(float, popt), strict=True)),
                  dict(zip(names, map(float, errors), strict=True)), chi2, dof, aic, bic, p_value)


@dataclass(frozen=True)
class ShapeAnalysis:
    """Everything the smoking-gun question needs, for one Q^-1(x) curve.

    Attributes
    ----------
    index, index_error : float
        TLS index a of the family fit and its uncertainty (bootstrap over realisations when
        per-realisation data were given, else from the fit covariance).
    ratio, ratio_error : float
        Shape ratio R = Q(x=2) / Q(x=0.5) (3.11 TLS, 2.20 generic block).
    fits : dict of str to LawFit
        "tls", "generic", "family".
    verdict : str
        One of ``VERDICTS``, with the meaning tabled in :func:`classify_index`.
    reason : str
        Why that verdict, in words.
    """

    index: float
    index_error: float
    ratio: float
    ratio_error: float
    fits: dict = field(repr=False)
    verdict: str = ""
    reason: str = ""


def shape_ratio(x: np.ndarray, q: np.ndarray) -> float:
    """R = Q(x=2) / Q(x=0.5), interpolated in ln x (cubic spline with 4 or more points)."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x)
    lx, qq = np.log(x[order]), np.asarray(q, dtype=np.float64)[..., order]
    if lx[0] > math.log(0.5) + 1e-12 or lx[-1] < math.log(2.0) - 1e-12:
        raise ValueError(f"x must span [0.5, 2] for the shape ratio, got [{x.min():.3g}, {x.max():.3g}]")
    targets = np.log([2.0, 0.5])
    if lx.size >= 4:
        from scipy.interpolate import CubicSpline

        hi, lo = np.moveaxis(CubicSpline(lx, qq, axis=-1)(targets), -1, 0)
    else:
        hi, lo = (np.apply_along_axis(lambda r, t=t: np.interp(t, lx, r), -1, qq) for t in targets)
    return hi / lo


#: Verdict labels: one vocabulary for the study (:func:`analyse_shape`) and ``fit-data``
#: (:func:`manybody.discrimination.compare_laws`); their meaning is the table in :func:`classify_index`.
TLS = "TLS (tanh)"
GENERIC = "generic block (1 - e^-x)"
IN_BETWEEN = "in between"
BEYOND_GENERIC = "beyond generic (a < 0)"
BEYOND_TLS = "beyond TLS (a > 1)"
NEITHER = "neither law"
UNDECIDED = "undecided"
VERDICTS = (TLS, GENERIC, IN_BETWEEN, BEYOND_GENERIC, BEYOND_TLS, NEITHER, UNDECIDED)

#: Numerical resolution of the TLS index a: the floor of its error in the verdict, so optimiser
#: round-off (a = 1.00004 +- 1e-5 on noise-free tanh data) is not read as physics.
INDEX_RESOLUTION = 1e-3
#: Coverage factor: a is "consistent with" a value when within Z_BAND (floored) errors of it.
Z_BAND = 2.0
#: Above this error of a the two laws (1 apart in a) cannot be told apart.
MAX_INDEX_ERROR = 0.5
#: Goodness of fit (with honest errors): a family p-value below this means "neither law".
P_NEITHER = 1e-3
#: Below this fraction of the largest loss, a temperature-dependent part is round-off.
AMPLITUDE_RESOLUTION = 1e-9


def classify_index(
    index: float,
    error: float,
    *,
    p_value: float = math.nan,
    indeterminate: tuple[str, ...] | list[str] = (),
    unphysical: tuple[str, ...] | list[str] = (),
) -> tuple[str, str]:
    """The verdict on the shape of Q^-1(x) from the TLS index a of the family fit.

    One vocabulary, used by the study and by ``manybody fit-data``. With the error floored at the
    numerical resolution, s = max(error, INDEX_RESOLUTION) (1e-3), and the rules tried in order:

    ============================  ==============================================================
    verdict                       condition
    ============================  ==============================================================
    "undecided"                   the data cannot tell: a reason in ``indeterminate`` (too few
                                  distinct temperatures, no temperature dependence detectable
                                  against the errors, no convergence), or s >= 0.5 (or NaN)
    "neither law"                 the family does not describe the data: a reason in
                                  ``unphysical`` (negative amplitude, a parameter at its bound)
                                  or, with honest errors, p-value < 1e-3
    "undecided"                   a within 2 s of both 0 and 1
    "TLS (tanh)"                  |a - 1| <= 2 s (and |a| > 2 s)
    "generic block (1 - e^-x)"    |a| <= 2 s (and |a - 1| > 2 s)
    "in between"                  2 s < a < 1 - 2 s: 0 < a < 1 excluding both ends
    "beyond generic (a < 0)"      a < -2 s
    "beyond TLS (a > 1)"          a > 1 + 2 s
    ============================  ==============================================================

    Parameters
    ----------
    index, error : float
        TLS index a (1: tanh(x/2), 0: 1 - e^-x) and its one-standard-deviation error.
    p_value : float
        chi2 tail probability of the family fit; NaN when the errors were estimated from the
        residuals (then no goodness-of-fit test is possible).
    indeterminate, unphysical : sequence of str
        Reasons found by the fit (see :class:`manybody.datafit.LossFit`).

    Returns
    -------
    (str, str)
        The verdict (one of ``VERDICTS``) and the reason in words.
    """
    if indeterminate:
        return UNDECIDED, "; ".join(indeterminate)
    s = max(float(error), INDEX_RESOLUTION) if not math.isnan(error) else math.nan
    if not s < MAX_INDEX_ERROR:  # also NaN
        return UNDECIDED, (f"the error of a ({error:.2g}) is >= {MAX_INDEX_ERROR}: the data "
                           "cannot tell the laws apart")
    if unphysical:
        return NEITHER, "; ".join(unphysical)
    if p_value < P_NEITHER:
        return NEITHER, (f"the family fits badly (p = {p_value:.2g} < {P_NEITHER:g}): the data "
                         "are not of this shape")
    near_tls = abs(index - 1.0) <= Z_BAND * s
    near_generic = abs(index) <= Z_BAND * s
    band = f"a = {index:.4g} +- {s:.2g}"
    if near_tls and near_generic:
        return UNDECIDED, f"{band} is within {Z_BAND:g} errors of both 0 and 1"
    if near_tls:
        return TLS, f"{band} is within {Z_BAND:g} errors of 1 and not of 0"
    if near_generic:
        return GENERIC, f"{band} is within {Z_BAND:g} errors of 0 and not of 1"
    if index < 0:
        return BEYOND_GENERIC, f"{band} is below 0 by more than {Z_BAND:g} errors"
    if index > 1:
        return BEYOND_TLS, f"{band} is above 1 by more than {Z_BAND:g} errors"
    return IN_BETWEEN, f"{band} excludes both 0 and 1 by more than {Z_BAND:g} errors"


def _family_problems(x: np.ndarray, q: np.ndarray, fit: LawFit) -> tuple[list, list]:
    """Reasons why a family fit of :func:`fit_law` cannot decide or is unphysical."""
    indeterminate, unphysical = [], []
    n_distinct = np.unique(x).size
    if n_distinct <= len(fit.parameters):
        indeterminate.append(f"only {n_distinct} distinct x for {len(fit.parameters)} parameters")
    amp, err = fit.parameters["amplitude"], fit.errors["amplitude"]
    scale = float(np.max(np.abs(q))) if q.size else 0.0
    if float(np.ptp(q)) <= AMPLITUDE_RESOLUTION * scale:
        indeterminate.append("no temperature dependence: the data are constant to numerical "
                             "resolution")
    elif abs(amp) <= AMPLITUDE_RESOLUTION * scale or not math.isfinite(amp):
        indeterminate.append("no temperature dependence: the amplitude is below numerical "
                             "resolution")
    elif amp < -Z_BAND * err:
        unphysical.append(f"negative amplitude {amp:.3g} +- {err:.2g}")
    elif amp <= Z_BAND * err:
        indeterminate.append(f"no temperature dependence detectable: amplitude {amp:.3g} +- "
                             f"{err:.2g} is within {Z_BAND:g} errors of 0")
    index = fit.parameters["index"]
    lo, hi = FAMILY_INDEX_BOUNDS
    if min(index - lo, hi - index) <= 1e-6 * max(1.0, abs(index)):
        unphysical.append(f"index a = {index:.4g} ran to its bound ({lo}, {hi})")
    return indeterminate, unphysical


def analyse_shape(
    x,
    q_realisations,
    n_bootstrap: int = 200,
    rng: np.random.Generator | None = None,
    smearing: float | None = None,
) -> ShapeAnalysis:
    """Fit the three laws to the disorder-averaged Q(x), with bootstrap errors over realisations.

    Parameters
    ----------
    x : array_like
        x = w / T, shape (n_x,).
    q_realisations : array_like
        Q^-1 per realisation, shape (n_realisations, n_x); the mean is fitted with its standard
        error as sigma. With a single realisation the fit covariance, scaled by the residual
        variance, gives the errors (and no goodness-of-fit test is made).
    n_bootstrap : int
        Bootstrap resamples of the realisations for the errors of a and R.
    rng : numpy.random.Generator, optional
        For the bootstrap (default: a fixed seed, so the analysis is reproducible).
    smearing : float, optional
        eta / w of the Gaussian line kernel the spectra were computed with; the laws are then
        averaged over the kernel before fitting (:func:`smeared`). The shape ratio R is not
        corrected.

    Returns
    -------
    ShapeAnalysis
    """
    x = v.positive_array("x", x)
    q = np.atleast_2d(v.real_array("q_realisations", q_realisations))
    if q.shape[1] != x.size:
        raise ValueError(f"q_realisations must have shape (n_realisations, {x.size}), got {q.shape}")
    n_real = q.shape[0]
    mean = q.mean(axis=0)
    if n_real > 1:
        sigma = q.std(axis=0, ddof=1) / math.sqrt(n_real)
        floor = 1e-12 * max(np.abs(mean).max(), 1e-300)
        sigma = np.maximum(sigma, floor)
    else:
        sigma = None
    fits = {law: fit_law(x, mean, sigma, law, smearing=smearing)
            for law in ("tls", "generic", "family")}
    index = fits["family"].parameters["index"]
    ratio = float(shape_ratio(x, mean))
    if n_real > 1 and n_bootstrap > 0:
        rng = rng or np.random.default_rng(0)
        boot_index, boot_ratio = [], []
        for _ in range(n_bootstrap):
            sample = q[rng.integers(0, n_real, n_real)]
            m = sample.mean(axis=0)
            try:
                boot_index.append(
                    fit_law(x, m, sigma, "family", smearing=smearing).parameters["index"])
            except RuntimeError:  # a resample the optimiser cannot fit: skip it
                continue
            boot_ratio.append(float(shape_ratio(x, m)))
        index_error = float(np.std(boot_index, ddof=1))
        ratio_error = float(np.std(boot_ratio, ddof=1))
    else:
        fam = fits["family"]
        index_error = fam.errors["index"]
        if n_real == 1:  # no sigma: the covariance is scaled by the residual variance
            index_error *= math.sqrt(fam.chi2 / fam.dof) if fam.dof > 0 else math.nan
        ratio_error = math.nan
    fam = fits["family"]
    indeterminate, unphysical = _family_problems(x, mean, fam)
    if n_real == 1 and fam.dof > 0:  # unit weights: rescale the amplitude error as well
        scale = math.sqrt(fam.chi2 / fam.dof)
        errors = {k: e * scale for k, e in fam.errors.items()}
        indeterminate, unphysical = _family_problems(
            x, mean, LawFit(fam.name, fam.parameters, errors, fam.chi2, fam.dof, fam.aic,
                            fam.bic, fam.p_value))
    # a goodness-of-fit test needs honest errors: only with the standard error over realisations
    p_value = fam.p_value if (n_real > 1 and fam.dof > 0) else math.nan
    verdict, reason = classify_index(index, index_error, p_value=p_value,
                                     indeterminate=indeterminate, unphysical=unphysical)
    return ShapeAnalysis(index, index_error, ratio, ratio_error, fits, verdict, reason)


def log_slope(temperatures, values, sigma=None) -> tuple[float, float]:
    """Slope d(values)/d(ln T) by weighted least squares, and its uncertainty.

    Used for the velocity shift (canonical TTLS: slope C0 for T >> w).
    """
    t = v.positive_array("temperatures", temperatures)
    y = v.real_array("values", values, t.shape)
    s = np.ones_like(y) if sigma is None else v.positive_array("sigma", sigma)
    design = np.stack([np.log(t), np.ones_like(t)], axis=1) / s[:, None]
    coef, *_ = np.linalg.lstsq(design, y / s, rcond=None)
    cov = np.linalg.pinv(design.T @ design)
    if sigma is None:  # scale by the residual variance
        resid = y - (coef[0] * np.log(t) + coef[1])
        cov = cov * (resid @ resid) / max(t.size - 2, 1)
    return float(coef[0]), float(math.sqrt(max(cov[0, 0], 0.0)))
