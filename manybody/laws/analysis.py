"""The study's analysis of a simulated Q^-1(x): the three laws fitted, the TLS index with a
bootstrap error over disorder realisations, the shape ratio and the verdict.

The laws are :mod:`manybody.laws.shapes`, the fits :func:`manybody.laws.fit.fit_law` (the one
engine, with one curve), the verdict :func:`manybody.laws.verdict.judge` (the same function
``fit-data`` uses). The fits weight the mean by its standard error per temperature (the point
estimates); their goodness of fit, and so the verdict's "neither law", is judged with the
covariance of the temperatures over realisations (:mod:`manybody.laws.gof`).

**Few realisations.** The weights and the error of a come from the same n realisations, and
with n of a few both are noisy. Three things keep the error honest (coverage checks in the
notes of :func:`analyse_shape`):

* the weights are *moderated* variances (Smyth, Stat. Appl. Genet. Mol. Biol. 3, 3 (2004)): each
  temperature's sample variance (n - 1 degrees of freedom) is pooled with a variance model
  var(x) = c |mean(x)|^p (0 <= p <= 2: absolute to relative errors) fitted across all
  temperatures by the Gamma likelihood of the sample variances, with ``VARIANCE_PRIOR_DOF``
  degrees of freedom for the model. The raw per-point errors of 2 realisations are
  |N(0, 1)|-distributed: where two realisations happen to agree the weight was huge and pinned
  the fit and every bootstrap resample (a = 0.892 +- 0.00016 from 2 realisations of tanh with 5 %
  noise, against 0.97 +- 0.04 with the true errors). With many realisations the per-point
  variance dominates and the weights are the standard errors as before.
* the spread of the bootstrap (or, without bootstrap, of the realisations' linearised
  influence on a) is scaled by sqrt(n / (n - 1)) (the bootstrap's plug-in variance is
  (n - 1)/n of the unbiased one) and by the Student-t factor t_nu(Phi(2)) / 2 with
  nu = n - 1 degrees of freedom, so that +- ``Z_BAND`` errors is the 95.4 % interval the
  verdict reads it as (without bootstrap: 1.65 at n = 4, 1.16 at n = 10, 1.03 at n = 40).
* Kish's effective number of realisations, (sum_r S_r)^2 / sum_r S_r^2 with
  S_r = sum_x |Q_r(x)|, is reported (n for realisations of similar size, fewer when a few carry
  the mean: independent TLS with a handful of TLS per realisation). It does not enter the error
  (a Student t with n_eff - 1 -> 0 degrees of freedom gives factors of 1e27 and more, which say
  nothing); below ``MIN_VERDICT_REALISATIONS`` (and below half of n) a warning says that the
  error may be understated.
* below ``MIN_VERDICT_REALISATIONS`` (4) realisations the Student-t has no finite variance (no
  error in the standard-deviation sense exists): a, its widened error and the fits are given,
  the verdict is "undecided" with the reason, and a warning says how many realisations there are
  and how many are needed. Identical realisations (zero spread) are exact data and keep their
  verdict.
"""

from __future__ import annotations

import math
import types
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import optimize, stats

from manybody.laws.fit import FAMILY_INDEX_BOUNDS, LawFit, fit_law, rising_loss
from manybody.laws.gof import NO_TEST, law_design, law_goodness_of_fit
from manybody.laws.inputs import MAX_ERROR_RANGE, warn_identical_realisations
from manybody.laws.shapes import (
    MAX_SMEARING,  # noqa: F401 (re-exported)
    check_ratio_span,
    check_smearing,
    distinct_x,
    shape_ratio,
)
from manybody.laws.verdict import AMPLITUDE_RESOLUTION, P_NEITHER, Z_BAND, judge
from manybody.support import validate as v

#: Lower end of the x range of the second TLS index (the region where the laws differ most).
HIGH_X_MIN = 1.0
#: Degrees of freedom given to the variance model of the moderated weights (module notes): with
#: n realisations a temperature's own variance has n - 1; at n = 2 the model carries 4/5.
VARIANCE_PRIOR_DOF = 4.0
#: Fewest realisations for a verdict: the Student-t of the index error has n - 1 degrees of
#: freedom and a finite variance only from 3 of them, n = 4 (module notes).
MIN_VERDICT_REALISATIONS = 4
#: MAX_SMEARING (eta / w < 0.5) now lives in manybody.laws.shapes with check_smearing, the one
#: rule of every function that takes ``smearing``; still importable from here.


@dataclass(frozen=True)
class ShapeAnalysis:
    """Everything the smoking-gun question needs, for one Q^-1(x) curve.

    Attributes
    ----------
    index, index_error : float
        TLS index a of the family fit and its uncertainty: the bootstrap spread over
        realisations (without bootstrap: the spread of the realisations' linearised influence on
        a), times sqrt(n / (n - 1)) and the Student-t factor ``error_factor`` so that
        +- 2 index_error is a 95.4 % interval also for few realisations (module notes); for a
        single curve, the fit covariance scaled by the residuals, times the Student-t factor of
        the fit's degrees of freedom. ``index_error`` is NaN when a ran to a bound of the family
        (``FAMILY_INDEX_BOUNDS``): a is then only bounded (its resamples sit on the bound too,
        and their spread of ~1e-11 said nothing; session 43).
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
        "hotelling", "bootstrap", "exact" or "none" (one realisation or no spread), as in
        :mod:`manybody.laws.gof`; "mixed" when the laws' tests took different branches.
    index_high_x, index_high_x_error : float
        TLS index of the family fitted to x >= ``high_x_min`` only, with its bootstrap error over
        the same resamples as ``index`` (NaN, with a warning, with fewer than 3 such points; the
        error NaN without a bootstrap or linearised error).
    high_x_min : float
        The lower end of that x range (``HIGH_X_MIN`` = 1).
    realisations : int
        Number of realisations (rows of ``q_realisations``).
    effective_realisations : float
        Kish's effective number of realisations (module notes); n when they are of similar size.
    error_factor : float
        The factor applied to the raw spread for ``index_error``, ``ratio_error`` and
        ``index_high_x_error`` (1 without a small-sample correction; inf when no error exists).
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
    realisations: int = 1
    effective_realisations: float = math.nan
    error_factor: float = 1.0


def _constant_p_value(q: np.ndarray, sigma: np.ndarray) -> float:
    """chi2 tail probability of the weighted mean as a model of ``q`` with errors ``sigma``
    (n_x,): small when the data vary with temperature beyond their errors."""
    weights = 1.0 / sigma**2
    level = float(np.sum(weights * q) / np.sum(weights))
    chi2 = float(np.sum(((q - level) / sigma) ** 2))
    return float(stats.chi2.sf(chi2, q.size - 1)) if q.size > 1 else math.nan


def _family_problems(x: np.ndarray, q: np.ndarray, fit: LawFit,
                     sigma: np.ndarray | None = None) -> tuple[list, list]:
    """Reasons why a family fit of :func:`fit_law` cannot decide or is unphysical.

    With honest errors ``sigma`` (n_x,), an amplitude within Z_BAND errors of 0 means "no
    temperature dependence detectable" only when a constant fits the data (chi2 p-value >=
    P_NEITHER); when the constant is rejected the data do vary and the family, pinned near 0,
    does not follow them (realisations exactly 0 at one temperature and tanh elsewhere were
    "undecided: no temperature dependence detectable", session 33)."""
    indeterminate, unphysical = [], []
    n_distinct = np.unique(x).size
    if n_distinct <= len(fit.parameters):
        indeterminate.append(f"only {n_distinct} distinct x for {len(fit.parameters)} parameters")
    amp, err = fit.parameters["amplitude"], fit.errors["amplitude"]
    scale = float(np.max(np.abs(q))) if q.size else 0.0
    if scale == 0.0:
        # a nonzero constant is not "undecided": it is measurably flat, which neither law allows
        # (the index on its bound a = -1, below); it gave "undecided" while the same constant
        # with small noise gave "neither law" (a tester, session 43)
        indeterminate.append("no temperature dependence: the data are 0 at every x")
    elif abs(amp) <= AMPLITUDE_RESOLUTION * scale or not math.isfinite(amp):
        indeterminate.append("no temperature dependence: the amplitude is below numerical "
                             "resolution")
    elif amp < -Z_BAND * err:
        unphysical.append(f"negative amplitude {amp:.3g} +- {err:.2g}")
    elif amp <= Z_BAND * err:
        constant_p = _constant_p_value(q, sigma) if sigma is not None else math.nan
        if constant_p < P_NEITHER:
            unphysical.append(f"amplitude {amp:.3g} +- {err:.2g} is within {Z_BAND:g} errors of "
                              f"0, yet the data vary with temperature (a constant is rejected, "
                              f"p = {constant_p:.2g}): the family does not follow them")
        else:
            indeterminate.append(f"no temperature dependence detectable: amplitude {amp:.3g} +- "
                                 f"{err:.2g} is within {Z_BAND:g} errors of 0")
    index = fit.parameters["index"]
    lo, hi = FAMILY_INDEX_BOUNDS
    if _at_index_bound(index):
        what = ""
        if index - lo < hi - index:
            # T = w / x in units of w; a loss rising with T was called one "that does not change
            # with temperature" (helper-199: the study's rising-loss path had no test)
            rising = rising_loss([types.SimpleNamespace(temperature=1.0 / x, loss=q)])
            what = (f": the loss rises with temperature ({rising}), which neither tanh(x/2) nor "
                    "1 - e^-x allows (both fall as the temperature rises)" if rising else
                    ": a = -1 is a loss that does not change with temperature, which neither "
                    "tanh(x/2) nor 1 - e^-x allows (both vanish as x -> 0)")
        unphysical.append(f"index a = {index:.4g} ran to its bound ({lo}, {hi}){what}")
    return indeterminate, unphysical


def _at_index_bound(index: float) -> bool:
    """Whether the family's index ended on a bound of ``FAMILY_INDEX_BOUNDS``."""
    lo, hi = FAMILY_INDEX_BOUNDS
    return min(index - lo, hi - index) <= 1e-6 * max(1.0, abs(index))


def _fit_index(x, mean, sigma, smearing) -> float:
    """TLS index of the family fitted to (x, mean); NaN when the optimiser fails."""
    try:
        return fit_law(x, mean, sigma, "family", smearing=smearing).parameters["index"]
    except RuntimeError:
        return math.nan


def _variance_model(q: np.ndarray) -> np.ndarray | None:
    """Variance of one realisation per temperature, var(x) = c |mean(x)|^p with 0 <= p <= 2,
    fitted across the temperatures by the Gamma likelihood of the sample variances (zeros
    allowed); shape (n_x,), in units of the largest |mean| squared (so that it is a float at any
    scale of q), or None when the realisations do not differ."""
    big = float(np.abs(q.mean(axis=0)).max())
    if not big > 0:
        return None
    unit = q / big  # in units of the largest |mean|: var of q ~ 1e-400 or 1e400 is not a float
    var = unit.var(axis=0, ddof=1)
    if not var.max() > 0:
        return None
    size = np.maximum(np.abs(unit.mean(axis=0)), 1e-6)
    log_size = np.log(size)

    def profile(power: float) -> float:  # -log likelihood with c at its optimum for this power
        return float(np.log(np.mean(var / size**power)) + power * np.mean(log_size))

    power = optimize.minimize_scalar(profile, bounds=(0.0, 2.0), method="bounded").x
    return float(np.mean(var / size**power)) * size**power


def _sigma(q: np.ndarray) -> np.ndarray:
    """Fit weights of :func:`analyse_shape` and :func:`paired_index_difference`: the moderated
    standard error of the mean per temperature (n_x,) (module notes), floored at 1e-12 of the
    largest |mean| and at 1 / ``MAX_ERROR_RANGE`` of the largest error (the range the fits take:
    a temperature where every realisation is equal would otherwise weigh 1e12 times another)."""
    n = q.shape[0]
    big = float(np.abs(q.mean(axis=0)).max()) or 1.0
    unit = q / big  # scale-free: q of 1e-200 or 1e200 has the weights of q of 1 (session 30)
    var = unit.var(axis=0, ddof=1)
    model = _variance_model(q)
    if model is not None:
        var = (VARIANCE_PRIOR_DOF * model + (n - 1) * var) / (VARIANCE_PRIOR_DOF + n - 1)
    error = np.maximum(np.sqrt(var / n), 1e-12)
    return big * np.maximum(error, float(error.max()) / MAX_ERROR_RANGE)


def effective_realisations(q) -> float:
    """Kish's effective number of realisations, (sum_r S_r)^2 / sum_r S_r^2, S_r = sum_x |Q_r(x)|.

    Parameters
    ----------
    q : array_like
        Q^-1 per realisation, shape (n_realisations, n_x).

    Returns
    -------
    float
        Between 1 (one realisation carries everything) and n (all of the same size); n when
        every realisation is zero.

    Raises
    ------
    TypeError
        ``q`` not an array of real numbers (None, a string or a bool is refused).
    ValueError
        ``q`` with NaN or inf, empty, or of more than 2 dimensions.
    """
    q = np.atleast_2d(v.real_array("q", q))
    if q.ndim != 2 or q.size == 0:
        raise ValueError(f"q must be a non-empty array of shape (n_realisations, n_x), got shape "
                         f"{q.shape}")
    largest = float(np.abs(q).max()) if q.size else 0.0
    # in units of the largest |q|: Q^-1 of 1e200 overflowed the squares (session 31)
    size = np.abs(q / largest if largest > 0 else q).sum(axis=1)
    total = float(np.sum(size**2))
    return float(np.sum(size) ** 2 / total) if total > 0 else float(q.shape[0])


def small_sample_factor(n_realisations: int, bootstrap: bool = True) -> float:
    """Factor from the spread of the estimates to the error ``analyse_shape`` reports.

    sqrt(n / (n - 1)) for a bootstrap spread (its plug-in variance is (n - 1)/n of the unbiased
    one) times t_nu(Phi(Z_BAND)) / Z_BAND with nu = n - 1, so that +- Z_BAND errors is the
    Student-t interval of the normal Z_BAND-sigma level (95.4 %).

    Parameters
    ----------
    n_realisations : int
        n (realisations, or for a single curve the fit's degrees of freedom + 1).
    bootstrap : bool
        Whether the spread is a bootstrap's (else an unbiased variance: no sqrt(n / (n - 1))).

    Returns
    -------
    float
        >= 1 (without bootstrap 1.65 at n = 4, 1.16 at 10); inf when n < 2 (no error exists).

    Raises
    ------
    TypeError
        ``n_realisations`` not a real number (a string or a bool is refused), ``bootstrap`` not
        True or False.
    ValueError
        ``n_realisations`` NaN or infinite.
    """
    n_realisations = v.real("n_realisations", n_realisations)
    bootstrap = v.boolean("bootstrap", bootstrap)
    dof = n_realisations - 1.0
    if not dof > 0:
        return math.inf
    level = float(stats.norm.cdf(Z_BAND))
    factor = float(stats.t.ppf(level, dof)) / Z_BAND
    if bootstrap:
        factor *= math.sqrt(n_realisations / (n_realisations - 1))
    return factor


def _influence_error(q: np.ndarray, x: np.ndarray, sigma: np.ndarray, fit: LawFit,
                     smearing: float | None) -> float:
    """Standard error of the family's a from the realisations without a bootstrap: a is, to first
    order, g . mean with g the index row of (J^T W J)^-1 J^T W (J the Jacobian of the family at
    the fit, W = 1 / sigma^2), so its variance is var_r(g . q_r) / n (any correlation of the
    temperatures included). NaN when the fit gives no Jacobian."""
    a, amp = fit.parameters["index"], fit.parameters["amplitude"]
    unit = float(np.max(np.abs(q))) or 1.0  # in units of the data: J^T W J is a float at any scale
    q, sigma, amp = q / unit, sigma / unit, amp / unit
    jac = law_design("family", x, a, smearing) * np.array([1.0, amp])[None, :]
    weights = 1.0 / sigma**2
    try:
        gain = np.linalg.solve(jac.T @ (weights[:, None] * jac), (jac * weights[:, None]).T)[1]
    except np.linalg.LinAlgError:
        return math.nan
    return float(np.std(q @ gain, ddof=1) / math.sqrt(q.shape[0]))


def _bootstrap(q, x, sigma, smearing, n_bootstrap, rng, high) -> tuple[float, float, float]:
    """Bootstrap spreads of a, R and of a on x[high] over resampled realisations (the raw
    standard deviations; :func:`small_sample_factor` turns them into errors).

    The weights ``sigma`` stay those of all realisations (a resample of one realisation repeated
    has no spread of its own). Resamples whose full-range fit fails are skipped for a and R; the
    high-x index uses the same resamples and skips its own failures. A resample whose mean is
    not positive anywhere has no shape (R was 0/0: NaN errors and RuntimeWarnings when most
    realisations absorb nothing, session 31) and is skipped too.
    """
    n_real = q.shape[0]
    boot_index, boot_ratio, boot_high = [], [], []
    for _ in range(n_bootstrap):
        sample = q[rng.integers(0, n_real, n_real)]
        m = sample.mean(axis=0)
        if not m.max() > 0:
            continue
        try:
            boot_index.append(
                fit_law(x, m, sigma, "family", smearing=smearing).parameters["index"])
        except RuntimeError:  # a resample the optimiser cannot fit: skip it
            continue
        try:
            boot_ratio.append(float(shape_ratio(x, m)))
        except ValueError:  # a resample that is 0 at x = 0.5 has no ratio: skipped for R only
            pass
        if high is not None:
            boot_high.append(_fit_index(x[high], m[high], sigma[high], smearing))
    high_error = (float(np.nanstd(boot_high, ddof=1))
                  if np.isfinite(boot_high).sum() > 1 else math.nan)
    if len(boot_index) < 2:  # no spread from fewer than two resamples
        return math.nan, math.nan, high_error
    ratio_spread = float(np.std(boot_ratio, ddof=1)) if len(boot_ratio) > 1 else math.nan
    return float(np.std(boot_index, ddof=1)), ratio_spread, high_error


def _check_mean_absorption(name: str, mean: np.ndarray) -> None:
    """ValueError unless the mean Q^-1 over realisations is positive somewhere: zero everywhere
    has no shape, negative everywhere is a flipped sign (-tanh(x/2) gave a = 1, session 31)."""
    if not np.abs(mean).max() > 0:
        raise ValueError(f"{name}: the mean absorption is zero at every x (nothing absorbs at "
                         "this frequency): there is no shape to fit")
    if not mean.max() > 0:
        raise ValueError(f"{name}: the mean absorption is negative at every x (largest "
                         f"{mean.max():.6g}); Q^-1 is a loss, positive where anything absorbs "
                         f"(a sign convention, or a background subtracted twice?)")
    tiny = np.finfo(np.float64).tiny
    if np.abs(mean).max() < tiny:  # denormal: its weights, 1e-12 of it, would be 0
        raise ValueError(f"{name}: the mean absorption is at most {np.abs(mean).max():.3g}, too "
                         f"close to the smallest float ({tiny:.3g}) for its errors to be "
                         "numbers; give it in other units (e.g. multiplied by 1e300)")


def _refuse_padding(q_realisations) -> None:
    """Refuse rows of q_realisations that are NaN from end to end, naming where they come from:
    a results file pads the realisations of a sweep point that has fewer than the most with NaN,
    and ``ds.absorption.values`` handed over whole was refused as 'must contain only finite
    numbers' (helper-178)."""
    if not hasattr(q_realisations, "shape"):  # arrays, DataArrays; lists are checked elsewhere
        return
    values = np.asarray(q_realisations)
    if values.ndim != 2 or values.dtype.kind != "f":
        return
    padded = np.isnan(values).all(axis=1)
    if padded.any() and not padded.all():
        raise ValueError(f"q_realisations has {int(padded.sum())} row(s) of NaN from end to end "
                         f"(rows {np.flatnonzero(padded)[:5].tolist()}): a results file pads the "
                         "realisations of a sweep point with fewer than the most with NaN; take "
                         "the point's own with manybody.runs.results.realised(ds.isel(...)) or "
                         "sweep_points(ds)")


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
        error as sigma. A 1-d array of shape (n_x,) is one curve (measured, or averaged
        elsewhere): the fit covariance, scaled by the residual variance, gives the errors (no
        bootstrap and no goodness-of-fit test). Shape (1, n_x) is one realisation of a run: the
        same numbers, but the verdict is "undecided" (one realisation is no disorder average),
        with a warning.
    n_bootstrap : int
        Bootstrap resamples of the realisations for the errors of a and R (and for the
        goodness-of-fit fallback of :mod:`manybody.laws.gof`): 0 (linearised errors) or
        20 ... 10^5.
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
        shape (n_realisations, n_x) or (n_x,), high_x_min not positive, n_bootstrap not 0 or 20 ... 10^5,
        smearing negative, NaN or >= 0.5, x not spanning [0.5, 2], or a mean absorption that is
        zero or negative at every x.

    Notes
    -----
    Source: docs/PHYSICS.md section 2 (the family of laws, the TLS index, the shape ratio and the
    verdict) and section 7.3 (covariance-aware goodness of fit).
    """
    v.check_aligned(x=x, q_realisations=q_realisations)
    x = check_ratio_span(distinct_x("x", x))
    _refuse_padding(q_realisations)
    given = v.real_array("q_realisations", q_realisations)
    q = np.atleast_2d(given)
    if q.ndim != 2 or q.shape[1] != x.size or q.shape[0] == 0:  # (0, n_x): numpy's "mean
        # of empty slice" warnings, then "zero at every x" (session 33)
        raise ValueError(f"q_realisations must have shape (n_realisations >= 1, {x.size}) or "
                         f"({x.size},) for the {x.size} values of x, got {given.shape}")
    high_x_min = v.positive("high_x_min", high_x_min)
    n_bootstrap = v.bootstrap_count("n_bootstrap", n_bootstrap, "linearised errors")
    smearing = check_smearing(smearing)
    rng = v.generator("rng", rng)
    n_real = q.shape[0]
    # the means, spreads and resamples below sum over realisations: refused, by name, where
    # those sums overflow (1e308 said "q must contain only finite numbers", a parameter not
    # given, after numpy's overflow warning; a break test, session 44)
    largest = float(np.max(np.abs(q)))
    if largest * n_real > 0.1 * np.finfo(np.float64).max:
        raise ValueError(f"q_realisations: values up to {largest:.3g} over {n_real} "
                         "realisation(s) overflow the sums over realisations (the floating-point "
                         "range ends at 1.8e308); give the loss in other units (e.g. multiplied "
                         "by 1e-300)")
    mean = q.mean(axis=0)
    _check_mean_absorption("q_realisations", mean)
    sigma = _sigma(q) if n_real > 1 else None
    fits = {law: fit_law(x, mean, sigma, law, smearing=smearing)
            for law in ("tls", "generic", "family")}
    fam = fits["family"]
    index = fam.parameters["index"]
    try:
        ratio = float(shape_ratio(x, mean))
    except ValueError:  # a mean at or below 0 at x = 0.5 (noise) has no shape ratio
        ratio = math.nan
    high = x >= high_x_min * (1 - 1e-12)
    if np.unique(x[high]).size < 3:  # was NaN without a word (an API auditor, session 39)
        warnings.warn(f"analyse_shape: {np.unique(x[high]).size} value(s) of x at or above "
                      f"high_x_min = {high_x_min:g} (the largest x is {x.max():g}); the index "
                      "over that range needs at least 3, so index_high_x is NaN", UserWarning,
                      stacklevel=2)
        high = None
    index_high = _fit_index(x[high], mean[high], None if sigma is None else sigma[high],
                            smearing) if high is not None else math.nan
    high_error = ratio_error = math.nan
    rng = rng or np.random.default_rng(0)
    n_eff = effective_realisations(q)
    varies = n_real > 1 and not warn_identical_realisations(
        "analyse_shape", q, "pass it alone as a 1-d array")
    if n_real > 1:
        factor = small_sample_factor(n_real, bootstrap=n_bootstrap > 0)
        if n_bootstrap > 0:
            index_error, ratio_error, high_error = _bootstrap(q, x, sigma, smearing, n_bootstrap,
                                                              rng, high)
        else:  # the realisations' linearised influence on a (correlations included)
            index_error = _influence_error(q, x, sigma, fam, smearing)
            if high is not None and math.isfinite(index_high):
                high_fit = fit_law(x[high], mean[high], sigma[high], "family",
                                   smearing=smearing)
                high_error = _influence_error(q[:, high], x[high], sigma[high], high_fit,
                                              smearing)
        if not varies:  # identical realisations: exact data, whatever their number
            factor = 1.0
        index_error, ratio_error, high_error = (
            e * factor if e > 0 else e for e in (index_error, ratio_error, high_error))
    else:  # one curve, no sigma: the covariance is scaled by the residual variance
        factor = small_sample_factor(fam.dof + 1, bootstrap=False)
        index_error = fam.errors["index"]
        index_error *= math.sqrt(fam.chi2 / fam.dof) * factor if fam.dof > 0 else math.nan
    indeterminate, unphysical = _family_problems(x, mean, fam, sigma)
    if _at_index_bound(index):  # only bounded: no spread of resamples on the bound is its error
        index_error = math.nan
    if n_real == 1 and fam.dof > 0:  # unit weights: rescale the amplitude error as well
        scale = math.sqrt(fam.chi2 / fam.dof)
        errors = {k: e * scale for k, e in fam.errors.items()}
        indeterminate, unphysical = _family_problems(x, mean, replace(fam, errors=errors))
    if n_real == 1 and given.ndim == 2:  # one realisation of a run, not a curve averaged
        # elsewhere: its fit residuals say nothing about the disorder average (one simulated
        # realisation got a = 1.10 +- 0.006, "beyond TLS"; session 31)
        one = (f"one realisation: the disorder average needs at least "
               f"{MIN_VERDICT_REALISATIONS} realisations (give a 1-d array to judge one curve, "
               "measured or averaged elsewhere, by its fit residuals)")
        indeterminate.append(one)
        warnings.warn(f"analyse_shape: {one}; verdict 'undecided'", UserWarning, stacklevel=2)
    elif 1 < n_real < MIN_VERDICT_REALISATIONS and varies:
        few = (f"only {n_real} realisations: the error of a (+-{index_error:.2g}, widened "
               f"{factor:.1f}x for {n_real - 1} degree(s) of freedom) has no finite variance; a "
               f"verdict needs at least {MIN_VERDICT_REALISATIONS} realisations")
        indeterminate.append(few)
        warnings.warn(f"analyse_shape: {few} (verdict 'undecided'; ~10 give an error good to "
                      "~25 %)", UserWarning, stacklevel=2)
    elif (n_real >= MIN_VERDICT_REALISATIONS and varies
          and n_eff < min(MIN_VERDICT_REALISATIONS, n_real / 2)):
        warnings.warn(f"analyse_shape: the mean is carried by ~{n_eff:.1f} of the {n_real} "
                      "realisations (Kish's effective number): the bootstrap sees few distinct "
                      "curves and the error of a may be understated; more realisations are "
                      "needed for a firm verdict", UserWarning, stacklevel=2)
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
                         high_x_min=high_x_min, realisations=n_real,
                         effective_realisations=n_eff, error_factor=factor)


@dataclass(frozen=True)
class IndexDifference:
    """Change of the TLS index between two sweep points drawn with the same disorder.

    Attributes
    ----------
    difference : float
        a(other) - a(reference) of the family fits to the two disorder-averaged curves.
    error : float
        Its paired bootstrap error: the same resampled realisations at both points, so the
        disorder they share cancels; times the small-sample factor of :func:`analyse_shape`
        (:func:`small_sample_factor`).
    error_unpaired : float
        sqrt(err_reference^2 + err_other^2), the error of the same difference from independent
        disorder at the two points (the marginal spreads of the same resamples, with the same
        factor).
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


def paired_index_difference(x, q_reference, q_other, *, smearing: float | None = None,
                            n_bootstrap: int = 200, rng: np.random.Generator | None = None
                            ) -> IndexDifference:
    """a(other) - a(reference) with a paired bootstrap error over realisations.

    Two sweep points of a run share the disorder of each realisation index (the runner draws
    realisation r from the same seed at every point), so the difference of their TLS indices is
    resampled with the same realisation indices at both points; the shared part of the
    disorder-to-disorder spread cancels. Each fit is the family fit of :func:`analyse_shape`
    (weights: each point's moderated standard error over all its realisations).

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
        Resamples (20 ... 10^5: the spread of fewer is too uncertain to be an error).
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
        shapes or with fewer than 2 realisations; n_bootstrap < 20 or > 10^5; smearing negative, NaN or
        >= 0.5; a mean absorption zero or negative at every x; too few resamples (< 2) fitted at
        both points.

    Notes
    -----
    Source: docs/PHYSICS.md section 7.4 (which parameter the index follows: paired differences).
    The weights are the moderated standard errors of :func:`analyse_shape` (module notes).
    """
    x = v.positive_array("x", x)
    q_ref = v.real_array("q_reference", q_reference)
    q_oth = v.real_array("q_other", q_other)
    for name, q in (("q_reference", q_ref), ("q_other", q_oth)):
        if q.ndim != 2 or q.shape[1] != x.size or q.shape[0] < 2:
            raise ValueError(f"{name} must have shape (n_realisations >= 2, {x.size}) for the "
                             f"{x.size} values of x, got {q.shape}")
    if q_ref.shape != q_oth.shape:
        raise ValueError(f"q_reference and q_other must hold the same realisations (paired), got "
                         f"shapes {q_ref.shape} and {q_oth.shape}")
    for name, q in (("q_reference", q_ref), ("q_other", q_oth)):
        _check_mean_absorption(name, q.mean(axis=0))
    n_bootstrap = v.bootstrap_count("n_bootstrap", n_bootstrap, None)
    for name, q in (("q_reference", q_ref), ("q_other", q_oth)):
        warn_identical_realisations(f"paired_index_difference ({name})", q,
                                    "pass it to analyse_shape as a 1-d array")
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
    factor = small_sample_factor(n_real)  # the small-sample factor of analyse_shape
    spread = boot.std(axis=0, ddof=1)
    paired = float(np.std(boot[:, 1] - boot[:, 0], ddof=1))
    return IndexDifference(
        difference=float(a_oth - a_ref),
        error=paired * factor if paired > 0 else paired,
        error_unpaired=float(math.hypot(spread[0], spread[1])) * factor,
        index_reference=float(a_ref), index_other=float(a_oth), resamples=int(boot.shape[0]))

