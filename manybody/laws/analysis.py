"""The study's analysis of a simulated Q^-1(x): the three laws fitted, the TLS index with a
bootstrap error over disorder realisations, the shape ratio and the verdict.

The laws are :mod:`manybody.laws.shapes`, the fits :func:`manybody.laws.fit.fit_law` (the one
engine, with one curve), the verdict :func:`manybody.laws.verdict.judge` (the same function
``fit-data`` uses).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from manybody.laws.fit import FAMILY_INDEX_BOUNDS, LawFit, fit_law
from manybody.laws.shapes import shape_ratio
from manybody.laws.verdict import AMPLITUDE_RESOLUTION, Z_BAND, judge
from manybody.support import validate as v


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
        One of ``manybody.laws.verdict.VERDICTS``, with the meaning tabled in
        :func:`manybody.laws.verdict.classify_index`.
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
        averaged over the kernel before fitting (:func:`manybody.laws.shapes.smeared`). The
        shape ratio R is not corrected.

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
        indeterminate, unphysical = _family_problems(x, mean, replace(fam, errors=errors))
    fits["family"] = replace(fam, indeterminate=tuple(indeterminate),
                             unphysical=tuple(unphysical))
    # a goodness-of-fit test needs honest errors: only with the standard error over realisations
    verdict = judge(fits, index_error=index_error, honest_errors=n_real > 1)
    return ShapeAnalysis(index, index_error, ratio, ratio_error, fits, verdict.verdict,
                         verdict.reason)
