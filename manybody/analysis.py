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

from . import _validate as v

#: Shape ratio R = Q(x=2) / Q(x=0.5) of the two laws.
RATIO_TLS = math.tanh(1.0) / math.tanh(0.25)
RATIO_GENERIC = -math.expm1(-2.0) / -math.expm1(-0.5)


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
        lower = [-np.inf, -0.999] + ([-np.inf] if background else [])
        upper = [np.inf, 100.0] + ([np.inf] if background else [])
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
        "TLS (tanh)", "generic block (1 - e^-x)", "in between", or "neither law" when even the
        family fails (p < 0.001): the data are not of this shape and no law is forced on them.
    """

    index: float
    index_error: float
    ratio: float
    ratio_error: float
    fits: dict = field(repr=False)
    verdict: str = ""


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


def _verdict(index: float, error: float, family: LawFit) -> str:
    if not error < 0.5:  # also NaN: the data cannot tell the laws apart
        return "undecided"
    if family.dof > 0 and family.p_value < 1e-3:
        return "neither law"
    near_tls = abs(index - 1.0) <= 2.0 * error
    near_generic = abs(index) <= 2.0 * error
    if near_tls and not near_generic:
        return "TLS (tanh)"
    if near_generic and not near_tls:
        return "generic block (1 - e^-x)"
    if near_tls and near_generic:
        return "undecided"
    return "in between"


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
        error as sigma. With a single realisation the fit covariance gives the errors.
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
        index_error = fits["family"].errors["index"]
        ratio_error = math.nan
    return ShapeAnalysis(index, index_error, ratio, ratio_error, fits,
                         _verdict(index, index_error, fits["family"]))


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
