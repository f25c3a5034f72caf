"""The study's analysis of a simulated Q^-1(x): the three laws fitted, the TLS index with a
bootstrap error over disorder realisations, the shape ratio and the verdict.

The laws are :mod:`manybody.laws.shapes`, the fits :func:`manybody.laws.fit.fit_law` (the one
engine, with one curve), the verdict :func:`manybody.laws.verdict.judge` (the same function
``fit-data`` uses). The fits weight the mean by its standard error per temperature (the point
estimates); their goodness of fit, and so the verdict's "neither law", is judged with the
covariance of the temperatures over realisations (:mod:`manybody.laws.gof`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from manybody.laws.fit import FAMILY_INDEX_BOUNDS, LawFit, fit_law
from manybody.laws.gof import NO_TEST, law_goodness_of_fit
from manybody.laws.shapes import (
    MAX_SMEARING,  # noqa: F401 (re-exported)
    check_ratio_span,
    check_smearing,
    distinct_x,
    shape_ratio,
)
from manybody.laws.verdict import AMPLITUDE_RESOLUTION, Z_BAND, judge
from manybody.support import validate as v

#: Lower end of the x range of the second TLS index (the region where the laws differ most).
HIGH_X_MIN = 1.0
#: MAX_SMEARING (eta / w < 0.5) now lives in manybody.laws.shapes with check_smearing, the one
#: rule of every function that takes ``smearing``; still importable from here.


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
    p_value_tls, p_value_generic, p_value_family : float
        Covariance-aware goodness of fit of each law (:func:`manybody.laws.gof.
        law_goodness_of_fit`): uses the covariance of the temperatures over realisations, unlike
        ``fits[law].p_value``, which treats them as independent. NaN without a test. The verdict
        uses ``p_value_family``.
    p_value_method : str
        "hotelling", "bootstrap" or "none" (one realisation or no spread), as in
        :mod:`manybody.laws.gof`; "mixed" when the laws' tests took different branches.
    index_high_x, index_high_x_error : float
        TLS index of the family fitted to x >= ``high_x_min`` only, with its bootstrap error over
        the same resamples as ``index`` (NaN with fewer than 3 such points or no bootstrap).
    high_x_min : float
        The lower end of that x range (``HIGH_X_MIN`` = 1).
    """

    index: float
    index_error: float
    ratio: float
    ratio_error: float
    fits: dict = field(repr=False)
    verdict: str = ""
    reason: str = ""
    p_value_tls: float = math.nan
    p_value_generic: float = math.nan
    p_value_family: float = math.nan
    p_value_method: str = NO_TEST
    index_high_x: float = math.nan
    index_high_x_error: float = math.nan
    high_x_min: float = HIGH_X_MIN


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


def _fit_index(x, mean, sigma, smearing) -> float:
    """TLS index of the family fitted to (x, mean); NaN when the optimiser fails."""
    try:
        return fit_law(x, mean, sigma, "family", smearing=smearing).parameters["index"]
    except RuntimeError:
        return math.nan


def _bootstrap(q, x, sigma, smearing, n_bootstrap, rng, high) -> tuple[float, float, float]:
    """Bootstrap errors of a, R and of a on x[high] over resampled realisations.

    Resamples whose full-range fit fails are skipped for a and R (as always); the high-x index
    uses the same resamples and skips its own failures.
    """
    n_real = q.shape[0]
    boot_index, boot_ratio, boot_high = [], [], []
    for _ in range(n_bootstrap):
        sample = q[rng.integers(0, n_real, n_real)]
        m = sample.mean(axis=0)
        try:
            boot_index.append(
                fit_law(x, m, sigma, "family", smearing=smearing).parameters["index"])
        except RuntimeError:  # a resample the optimiser cannot fit: skip it
            continue
        boot_ratio.append(float(shape_ratio(x, m)))
        if high is not None:
            boot_high.append(_fit_index(x[high], m[high], sigma[high], smearing))
    high_error = (float(np.nanstd(boot_high, ddof=1))
                  if np.isfinite(boot_high).sum() > 1 else math.nan)
    return float(np.std(boot_index, ddof=1)), float(np.std(boot_ratio, ddof=1)), high_error


def analyse_shape(
    x,
    q_realisations,
    n_bootstrap: int = 200,
    rng: np.random.Generator | None = None,
    smearing: float | None = None,
    high_x_min: float = HIGH_X_MIN,
) -> ShapeAnalysis:
    """Fit the three laws to the disorder-averaged Q(x), with bootstrap errors over realisations.

    Parameters
    ----------
    x : array_like
        x = w / T, shape (n_x,), distinct, finite and > 0, spanning [0.5, 2] (for the shape
        ratio).
    q_realisations : array_like
        Q^-1 per realisation, shape (n_realisations, n_x); the mean is fitted with its standard
        error as sigma. A 1-d array of shape (n_x,) is one curve (a single realisation, or a
        curve averaged elsewhere): with a single realisation the fit covariance, scaled by the
        residual variance, gives the errors (no bootstrap and no goodness-of-fit test).
    n_bootstrap : int
        Bootstrap resamples of the realisations for the errors of a and R (and for the
        goodness-of-fit fallback of :mod:`manybody.laws.gof`).
    rng : numpy.random.Generator, optional
        For the bootstrap (default: a fixed seed, so the analysis is reproducible). An int seed
        is refused: pass ``numpy.random.default_rng(seed)``.
    smearing : float, optional
        eta / w of the Gaussian line kernel the spectra were computed with, in [0, 0.5)
        (:func:`manybody.laws.shapes.check_smearing`); the laws are then
        averaged over the kernel before fitting (:func:`manybody.laws.shapes.smeared`). The
        shape ratio R is not corrected.
    high_x_min : float
        Lower end of the x range of the second TLS index ``index_high_x`` (default 1).

    Returns
    -------
    ShapeAnalysis
        The verdict judges the family's goodness of fit by the covariance-aware
        ``p_value_family`` ("neither law" below 1e-3).

    Raises
    ------
    TypeError
        x or q_realisations not real numbers; n_bootstrap not an integer; rng not a
        numpy.random.Generator; smearing or high_x_min not a number.
    ValueError
        x not finite and > 0 or with a repeated value, q_realisations with NaN/inf or not of
        shape (n_realisations, n_x) or (n_x,), high_x_min not positive, n_bootstrap < 0,
        smearing negative, NaN or >= 0.5, x not spanning [0.5, 2], or a mean absorption that is
        zero at every x.

    Notes
    -----
    Source: docs/PHYSICS.md section 2 (the family of laws, the TLS index, the shape ratio and the
    verdict) and section 7.3 (covariance-aware goodness of fit).
    """
    x = check_ratio_span(distinct_x("x", x))
    q = np.atleast_2d(v.real_array("q_realisations", q_realisations))
    if q.ndim != 2 or q.shape[1] != x.size:
        raise ValueError(f"q_realisations must have shape (n_realisations, {x.size}) or "
                         f"({x.size},), got {q.shape}")
    high_x_min = v.positive("high_x_min", high_x_min)
    n_bootstrap = v.integer("n_bootstrap", n_bootstrap, 0)
    smearing = check_smearing(smearing)
    rng = v.generator("rng", rng)
    n_real = q.shape[0]
    mean = q.mean(axis=0)
    if not np.abs(mean).max() > 0:
        raise ValueError("q_realisations: the mean absorption is zero at every x (nothing absorbs "
                         "at this frequency): there is no shape to fit")
    sigma = _sigma(q) if n_real > 1 else None
    fits = {law: fit_law(x, mean, sigma, law, smearing=smearing)
            for law in ("tls", "generic", "family")}
    index = fits["family"].parameters["index"]
    ratio = float(shape_ratio(x, mean))
    high = x >= high_x_min * (1 - 1e-12)
    high = high if np.unique(x[high]).size >= 3 else None
    index_high = _fit_index(x[high], mean[high], None if sigma is None else sigma[high],
                            smearing) if high is not None else math.nan
    high_error = math.nan
    rng = rng or np.random.default_rng(0)
    if n_real > 1 and n_bootstrap > 0:
        index_error, ratio_error, high_error = _bootstrap(q, x, sigma, smearing, n_bootstrap,
                                                          rng, high)
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
    tests = {law: law_goodness_of_fit(x, q, fit, smearing=smearing, n_bootstrap=n_bootstrap,
                                      rng=rng) for law, fit in fits.items()}
    # a goodness-of-fit test needs honest errors: the covariance of the realisations
    verdict = judge(fits, index_error=index_error, honest_errors=n_real > 1,
                    p_value=tests["family"].p_value)
    methods = {t.method for t in tests.values()}
    return ShapeAnalysis(index, index_error, ratio, ratio_error, fits, verdict.verdict,
                         verdict.reason, p_value_tls=tests["tls"].p_value,
                         p_value_generic=tests["generic"].p_value,
                         p_value_family=tests["family"].p_value,
                         p_value_method=methods.pop() if len(methods) == 1 else "mixed",
                         index_high_x=index_high, index_high_x_error=high_error,
                         high_x_min=high_x_min)


@dataclass(frozen=True)
class IndexDifference:
    """Change of the TLS index between two sweep points drawn with the same disorder.

    Attributes
    ----------
    difference : float
        a(other) - a(reference) of the family fits to the two disorder-averaged curves.
    error : float
        Its paired bootstrap error: the same resampled realisations at both points, so the
        disorder they share cancels.
    error_unpaired : float
        sqrt(err_reference^2 + err_other^2), the error of the same difference from independent
        disorder at the two points (the marginal spreads of the same resamples).
        ``(error_unpaired / error)^2`` is the factor in realisations the pairing saves.
    index_reference, index_other : float
        a at each point (as :func:`analyse_shape` gives them).
    resamples : int
        Bootstrap resamples whose fits succeeded at both points.
    """

    difference: float
    error: float
    error_unpaired: float
    index_reference: float
    index_other: float
    resamples: int


def _sigma(q: np.ndarray) -> np.ndarray:
    """Standard error of the mean over realisations (n_x,), floored at 1e-12 of the largest |mean|
    (the fit weights of :func:`analyse_shape` and :func:`paired_index_difference`)."""
    mean = q.mean(axis=0)
    sigma = q.std(axis=0, ddof=1) / math.sqrt(q.shape[0])
    return np.maximum(sigma, 1e-12 * max(np.abs(mean).max(), 1e-300))


def paired_index_difference(x, q_reference, q_other, *, smearing: float | None = None,
                            n_bootstrap: int = 200, rng: np.random.Generator | None = None
                            ) -> IndexDifference:
    """a(other) - a(reference) with a paired bootstrap error over realisations.

    Two sweep points of a run share the disorder of each realisation index (the runner draws
    realisation r from the same seed at every point), so the difference of their TLS indices is
    resampled with the same realisation indices at both points; the shared part of the
    disorder-to-disorder spread cancels. Each fit is the family fit of :func:`analyse_shape`
    (weights: each point's standard error over all its realisations).

    Parameters
    ----------
    x : array_like
        x = w / T, shape (n_x,).
    q_reference, q_other : array_like
        Q^-1 per realisation at the two points, shape (n_realisations, n_x) each, row r of both
        from the same disorder realisation.
    smearing : float, optional
        eta / w of the Gaussian line kernel, in [0, 0.5) (as in :func:`analyse_shape`).
    n_bootstrap : int
        Resamples (>= 2).
    rng : numpy.random.Generator, optional
        For the resamples (default: a fixed seed); an int seed is refused (pass
        ``numpy.random.default_rng(seed)``).

    Returns
    -------
    IndexDifference

    Raises
    ------
    TypeError
        x or the q arrays not real numbers; n_bootstrap not an integer; rng not a
        numpy.random.Generator; smearing not a number.
    ValueError
        x not positive; q arrays with NaN/inf, not of shape (n_realisations, n_x), of different
        shapes or with fewer than 2 realisations; n_bootstrap < 2; smearing negative, NaN or
        >= 0.5; too few resamples (< 2) fitted at both points.

    Notes
    -----
    Source: docs/PHYSICS.md section 7.4 (which parameter the index follows: paired differences).
    """
    x = v.positive_array("x", x)
    q_ref = np.atleast_2d(v.real_array("q_reference", q_reference))
    q_oth = np.atleast_2d(v.real_array("q_other", q_other))
    for name, q in (("q_reference", q_ref), ("q_other", q_oth)):
        if q.ndim != 2 or q.shape[1] != x.size or q.shape[0] < 2:
            raise ValueError(f"{name} must have shape (n_realisations >= 2, {x.size}), got "
                             f"{q.shape}")
    if q_ref.shape != q_oth.shape:
        raise ValueError(f"q_reference and q_other must hold the same realisations (paired), got "
                         f"shapes {q_ref.shape} and {q_oth.shape}")
    n_bootstrap = v.integer("n_bootstrap", n_bootstrap, 2)
    smearing = check_smearing(smearing)
    rng = v.generator("rng", rng)
    sigma_ref, sigma_oth = _sigma(q_ref), _sigma(q_oth)
    a_ref = _fit_index(x, q_ref.mean(axis=0), sigma_ref, smearing)
    a_oth = _fit_index(x, q_oth.mean(axis=0), sigma_oth, smearing)
    rng = rng or np.random.default_rng(0)
    n_real = q_ref.shape[0]
    pairs = []
    for _ in range(n_bootstrap):
        sample = rng.integers(0, n_real, n_real)  # the same realisations at both points
        pairs.append((_fit_index(x, q_ref[sample].mean(axis=0), sigma_ref, smearing),
                      _fit_index(x, q_oth[sample].mean(axis=0), sigma_oth, smearing)))
    boot = np.array(pairs)
    boot = boot[np.isfinite(boot).all(axis=1)]
    if boot.shape[0] < 2:
        raise ValueError("paired_index_difference: fewer than 2 bootstrap resamples could be "
                         "fitted at both points; the curves do not determine the index")
    spread = boot.std(axis=0, ddof=1)
    return IndexDifference(
        difference=float(a_oth - a_ref),
        error=float(np.std(boot[:, 1] - boot[:, 0], ddof=1)),
        error_unpaired=float(math.hypot(spread[0], spread[1])),
        index_reference=float(a_ref), index_other=float(a_oth), resamples=int(boot.shape[0]))

