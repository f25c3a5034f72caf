"""Which exponent the data prefer: beta free against beta = 1/2 for the saturation law
(:mod:`manybody.laws.saturation`), and beta and Pc of an ensemble of curves with bootstrap errors
over realisations (as :func:`manybody.laws.analysis.analyse_shape` for the TLS index).

The fits are nested (beta free has one parameter more), so with known errors
Delta chi2 = chi2(1/2) - chi2(free) follows chi2 with one degree of freedom (likelihood ratio);
with a scatter estimated from the residuals F = Delta RSS / (RSS_free / dof_free) follows
F(1, dof_free) (docs/PHYSICS.md section 8).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from manybody.laws.inputs import warn_identical_realisations
from manybody.laws.saturation import (
    ERROR_MODELS,
    REFERENCE_BETA,
    REJECTION_LEVEL,
    SCALES,
    SaturationFit,
    check_curves,
    fit_saturation_joint,
)
from manybody.support import validate as v


@dataclass(frozen=True)
class ExponentComparison:
    """beta free against beta fixed at ``reference_beta`` (nested: one parameter more).

    Attributes
    ----------
    free, fixed : SaturationFit
        The two fits of the same points.
    reference_beta : float
        The fixed exponent (1/2).
    delta_chi2 : float
        chi2(fixed) - chi2(free) (>= 0 up to the optimiser's tolerance).
    test : str
        "likelihood-ratio" (known sigma: Delta chi2 ~ chi2(1)) or "F" (estimated scatter).
    statistic, p_value : float
        The test statistic and the probability of a value at least as large if beta were
        ``reference_beta``.
    preferred : str
        "fixed" (beta = reference not rejected at ``REJECTION_LEVEL``) or "free".
    z : float
        (beta - reference_beta) / error of beta in the free fit.
    """

    free: SaturationFit
    fixed: SaturationFit
    reference_beta: float
    delta_chi2: float
    test: str
    statistic: float
    p_value: float
    preferred: str
    z: float

    def to_dict(self) -> dict:
        return {"free": self.free.to_dict(), "fixed": self.fixed.to_dict(),
                "reference_beta": self.reference_beta, "delta_chi2": self.delta_chi2,
                "test": self.test, "statistic": self.statistic, "p_value": self.p_value,
                "preferred": self.preferred, "z": self.z, "rejection_level": REJECTION_LEVEL}


def compare_exponent(curves, *, reference_beta: float = REFERENCE_BETA,
                     **options) -> ExponentComparison:
    """Fit beta free and fixed at ``reference_beta`` to the same curves and test the fixed law.

    Parameters
    ----------
    curves : sequence of (power, loss[, sigma])
        As :func:`manybody.laws.saturation.fit_saturation_joint` (one curve: ``[(power, loss)]``).
    reference_beta : float
        The exponent of the fixed law (default 1/2, independent TLS).
    **options
        background, scale, error_model, labels of :func:`manybody.laws.saturation.fit_saturation_joint`.

    Returns
    -------
    ExponentComparison

    Raises
    ------
    TypeError
        ``curves`` not a list of curves (one curve is ``[(power, loss)]``), or an unknown
        keyword (the message lists the valid ones).
    ValueError, RuntimeError
        As :func:`manybody.laws.saturation.fit_saturation_joint` (bad curves or options; the
        optimiser did not converge), from either fit.
    """
    from scipy import stats

    _check_keywords("compare_exponent", options, ())
    # by its own name before any fit ("beta must be > 0" named a parameter not passed; 45)
    reference_beta = v.positive("reference_beta", reference_beta)

    free = fit_saturation_joint(curves, beta=None, **options)
    fixed = fit_saturation_joint(curves, beta=reference_beta, **options)
    delta = max(fixed.chi2 - free.chi2, 0.0)
    if not free.errors_scaled:
        test, statistic = "likelihood-ratio", delta
        p = float(stats.chi2.sf(delta, 1))
    else:
        test = "F"
        statistic = delta / (free.chi2 / free.dof) if free.chi2 > 0 else math.inf
        p = float(stats.f.sf(statistic, 1, free.dof))
    err = free.errors["beta"]
    z = (free.parameters["beta"] - reference_beta) / err if err > 0 else math.nan
    return ExponentComparison(free, fixed, float(reference_beta), float(delta), test,
                              float(statistic), p, "fixed" if p >= REJECTION_LEVEL else "free", z)


@dataclass(frozen=True)
class SaturationAnalysis:
    """The saturation law of an ensemble of curves (e.g. disorder realisations).

    Attributes
    ----------
    comparison : ExponentComparison
        Fits of the realisation mean (weighted by its standard error).
    beta, beta_error : float
        Free exponent and its error: bootstrap over realisations with more than one, else the
        fit covariance.
    critical_power, critical_power_error : float
        Pc of the free fit (input scale) and its error, estimated the same way.
    error_source : str
        "bootstrap" or "covariance".
    n_bootstrap : int
        Resamples whose fit succeeded.
    """

    comparison: ExponentComparison
    beta: float
    beta_error: float
    critical_power: float
    critical_power_error: float
    error_source: str
    n_bootstrap: int

    def to_dict(self) -> dict:
        return {"comparison": self.comparison.to_dict(), "beta": self.beta,
                "beta_error": self.beta_error, "critical_power": self.critical_power,
                "critical_power_error": self.critical_power_error,
                "error_source": self.error_source, "n_bootstrap": self.n_bootstrap}


def analyse_saturation(power, loss_realisations, n_bootstrap: int = 200,
                       rng: np.random.Generator | None = None, **options) -> SaturationAnalysis:
    """beta and Pc of an ensemble of saturation curves, with bootstrap errors over realisations.

    As :func:`manybody.laws.analysis.analyse_shape` for the TLS index: the realisation mean is
    fitted with its standard error as sigma; the errors of beta and Pc are the standard
    deviations over ``n_bootstrap`` resamples of the realisations (a resample whose fit fails
    is skipped).

    Parameters
    ----------
    power : array_like
        Drive power (or amplitude) on the ``scale`` axis, shape (n_power,).
    loss_realisations : array_like
        Q^-1 per realisation, shape (n_realisations, n_power).
    n_bootstrap : int
        Resamples: 0 (errors from the fit covariance) or 20 ... 10^5.
    rng : numpy.random.Generator, optional
        For the bootstrap (default: a fixed seed, so the analysis is reproducible).
    **options
        background, scale, error_model, reference_beta (see :func:`compare_exponent`).

    Returns
    -------
    SaturationAnalysis

    Raises
    ------
    TypeError
        ``rng`` not a numpy.random.Generator (an int seed: pass numpy.random.default_rng(seed));
        an unknown keyword (the message lists the valid ones).
    ValueError
        loss_realisations not of shape (n_realisations, n_power), a 1-d curve included (one
        curve is ``loss[None, :]``, shape (1, n_power), whose errors come from the fit
        covariance; :func:`compare_exponent` fits curves of measured loss); n_bootstrap not 0
        or 20 ... 10^5; and as :func:`manybody.laws.saturation.fit_saturation_joint`.
    """
    v.check_aligned(power=power, loss_realisations=loss_realisations)
    _check_keywords("analyse_saturation", options, ("reference_beta",))
    p = v.real_array("power", power)
    q = v.real_array("loss_realisations", loss_realisations)
    if q.ndim != 2 or q.shape[1] != p.size:
        hint = (f"; one curve is loss[None, :] (shape (1, {p.size})), or use compare_exponent("
                "[(power, loss)])" if q.ndim == 1 else "")
        raise ValueError(f"loss_realisations must have shape (n_realisations, {p.size}) for the "
                         f"{p.size} powers, got {q.shape}{hint}")
    n_bootstrap = v.bootstrap_count("n_bootstrap", n_bootstrap, "no bootstrap")
    rng = v.generator("rng", rng)
    n_real = q.shape[0]
    warn_identical_realisations("analyse_saturation", q, "pass it alone as loss[None, :] (errors "
                                "from the fit covariance)")

    def curve(sample):
        mean = sample.mean(axis=0)
        if n_real == 1:
            return [(p, mean)]
        sigma = sample.std(axis=0, ddof=1) / math.sqrt(n_real)
        return [(p, mean, np.maximum(sigma, 1e-12 * float(np.abs(mean).max())))]

    cmp = compare_exponent(curve(q), **options)
    beta, pc = cmp.free.parameters["beta"], cmp.free.parameters["critical_power"]
    if n_real > 1 and n_bootstrap > 0:
        rng = rng or np.random.default_rng(0)
        fit_options = {k: val for k, val in options.items() if k != "reference_beta"}
        draws = []
        for _ in range(n_bootstrap):
            sample = q[rng.integers(0, n_real, n_real)]
            try:
                f = fit_saturation_joint(curve(sample), **fit_options)
            except (RuntimeError, ValueError):  # a resample the fit cannot take: skip it
                continue
            draws.append((f.parameters["beta"], f.parameters["critical_power"]))
        d = np.array(draws).reshape(-1, 2)
        ok = len(draws) > 1
        return SaturationAnalysis(cmp, beta, float(np.std(d[:, 0], ddof=1)) if ok else math.nan,
                                  pc, float(np.std(d[:, 1], ddof=1)) if ok else math.nan,
                                  "bootstrap", len(draws))
    return SaturationAnalysis(cmp, beta, cmp.free.errors["beta"], pc,
                              cmp.free.errors["critical_power"], "covariance", 0)


def _check_keywords(function: str, options: dict, extra: tuple[str, ...]) -> None:
    """Refuse keywords that ``function`` passes on to fit_saturation_joint but it does not take,
    naming ``function`` (a misspelt keyword named the internal fit_saturation_joint; session 39)."""
    import inspect

    accepted = [name for name in inspect.signature(fit_saturation_joint).parameters
                if name not in ("curves", "beta")] + list(extra)
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise TypeError(f"{function}() got unexpected keyword argument(s) "
                        f"{', '.join(map(repr, unknown))}; its options are {', '.join(accepted)}")


def per_curve_exponents(curves, labels, **options) -> list:
    """beta free fitted to each curve alone: a list of ExponentComparison or, for a curve that
    cannot be fitted, the reason (str).

    Parameters
    ----------
    curves : list of (power, loss[, sigma])
        As :func:`compare_exponent`.
    labels : list or tuple of str
        One name per curve.
    **options
        reference_beta, background, scale, error_model of :func:`compare_exponent`.

    Raises
    ------
    TypeError, ValueError
        ``curves`` not a list of curves, ``labels`` not one string per curve, an unknown
        keyword or a wrong option: checked once before any fit (a wrong option came back as
        the "failure" of every curve, bt193).
    """
    _check_keywords("per_curve_exponents", options, ("reference_beta",))
    if "labels" in options:  # given as the second argument
        raise TypeError("per_curve_exponents() takes labels as its second argument, not as a "
                        "keyword option")
    curves = check_curves(curves)
    labels = v.labels("labels", labels, len(curves))
    v.positive("reference_beta", options.get("reference_beta", REFERENCE_BETA))
    v.choice("scale", options.get("scale", "linear"), SCALES)
    v.choice("error_model", options.get("error_model", "relative"), ERROR_MODELS)
    v.boolean("background", options.get("background", True))
    out = []
    for c, lb in zip(curves, labels, strict=True):
        try:
            out.append(compare_exponent([c], labels=[lb], **options))
        except (ValueError, RuntimeError) as exc:
            out.append(f"{lb}: {exc}")
    return out


__all__ = ["ExponentComparison", "compare_exponent", "SaturationAnalysis",
           "analyse_saturation", "per_curve_exponents"]
