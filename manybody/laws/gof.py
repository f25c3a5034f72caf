"""Goodness of fit of a law to a mean over disorder realisations, with the covariance of the
temperatures (docs/PHYSICS.md section 7, "Covariance-aware statistics").

All temperatures of a simulated Q^-1(x) are computed on the same realisations, so their errors
are strongly correlated: a chi^2 that weights each temperature by its own standard error and
counts the n_x temperatures as independent has neither the mean nor the spread of chi^2(n_x - k).
The test here uses the covariance of the realisations.

**Hotelling test (default).** Let q_r (r = 1..n) be the realisations (vectors over the n_x
temperatures), qbar their mean and S their sample covariance. A law with k parameters is linear
in them near the fit, qbar ~ D theta with D (n_x, k) the model's tangent space (the law itself for
"tls" and "generic", [f_a, df/da] for the family). With L (n_x, p = n_x - k) an orthonormal
basis of the complement of D, z_r = L^T q_r has mean 0 under the law, and

    T^2 = n zbar^T S_z^-1 zbar  =  min_theta n (qbar - D theta)^T S^-1 (qbar - D theta),

the generalised-least-squares chi^2 with the covariance of the mean S/n. For Gaussian
realisations T^2 (n - p) / (p (n - 1)) ~ F(p, n - p) exactly (Hotelling 1931; Anderson, *An
Introduction to Multivariate Statistical Analysis*, 3rd ed. 2003, section 5.2), whatever the
covariance: the F distribution is the correction for a covariance estimated from n realisations
not >> p, so no shrinkage (which would bias the null distribution) is needed. Exact for the
linear laws, to first order in the index for the family; by the central limit theorem the mean
of many non-Gaussian realisations behaves the same.

**Bootstrap (fallback).** When n <= p + 1 or S_z is singular to round-off, the statistic is the
chi^2 of the diagonal-weighted least-squares fit of qbar in the same tangent space D (weights: the
standard error per temperature; for the linear laws this is the chi^2 of
:func:`manybody.laws.fit.fit_law`, for the family its linearisation at the fitted a), and its null
distribution is found by resampling realisations recentred on that fit (q_r - qbar + fit); the
p-value is the tail of the scaled chi^2 g chi^2_h with the bootstrap mean and variance
(Satterthwaite 1946), so p-values below 1 / n_bootstrap can be given. The study's absorption
takes this branch: a realisation's Q(x) is a sum of a few smooth thermal factors, so the
covariance over 25 temperatures is numerically of low rank (condition number > 1e12).
**Exact.** When every realisation lies in the law's tangent space to round-off (its contrasts
below ``EXACT_RESOLUTION`` of the largest |q|; e.g. each realisation an exact tanh(x/2) with its
own amplitude), the law holds exactly: statistic 0, p-value 1, method "exact" (both tests above
ran on pure round-off and gave p = 1e-5 ... 5e-34 "neither law", session 31).
Below ``MIN_BOOTSTRAP_REALISATIONS`` realisations there is no test (p-value NaN, method "none"):
n rows have only C(2n - 1, n) distinct resamples (3 for n = 2, 92378 for n = 10) and the
per-temperature errors that weight the statistic come from n rows themselves, so the resampled
null distribution is meaningless for a handful of realisations (it gave p ~ 1 for any law at n = 2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import linalg, stats

from manybody.laws.fit import LawFit
from manybody.laws.inputs import SPREAD_RESOLUTION
from manybody.laws.shapes import check_smearing, law_values, smeared
from manybody.support import validate as v

#: Condition number of the realisations' covariance above which it is treated as singular.
MAX_CONDITION = 1e12
#: Fewest realisations the bootstrap fallback tests with (module notes).
MIN_BOOTSTRAP_REALISATIONS = 10

#: Contrasts (the part of every realisation outside the law's tangent space) below this, relative
#: to the largest |q|, are round-off: the law holds exactly.
EXACT_RESOLUTION = 1e-9

HOTELLING = "hotelling"
BOOTSTRAP = "bootstrap"
EXACT = "exact"
NO_TEST = "none"


@dataclass(frozen=True)
class GoodnessOfFit:
    """A covariance-aware goodness-of-fit test of one law.

    Attributes
    ----------
    statistic : float
        Hotelling T^2 (the GLS chi^2 with the covariance of the mean), or the diagonal-weighted
        chi^2 for the bootstrap; NaN without a test.
    dof : int
        p = n_x - k, the number of directions the law does not fit.
    p_value : float
        Tail probability of ``statistic`` under the law; NaN without a test.
    method : str
        "hotelling", "bootstrap", "exact" (every realisation on the law to round-off: p = 1) or
        "none" (one realisation, zero spread, or no resamples).
    """

    statistic: float
    dof: int
    p_value: float
    method: str


def _family_index_derivative(x: np.ndarray, index: float) -> np.ndarray:
    """d/da of (1 - e^-x) / (1 + a e^-x)."""
    e = np.exp(-np.asarray(x, dtype=np.float64))
    return -(1.0 - e) * e / (1.0 + index * e) ** 2


def law_design(law: str, x: np.ndarray, index: float = 0.0,
               smearing: float | None = None) -> np.ndarray:
    """Tangent space of a law at its fit: the columns the fit can move the curve along.

    Parameters
    ----------
    law : {"tls", "generic", "family"}
    x : numpy.ndarray
        x = w / T, shape (n_x,).
    index : float
        TLS index a of the family fit (used for "family" only).
    smearing : float, optional
        eta / w of the line kernel (:func:`manybody.laws.shapes.smeared`), in [0, 0.5).

    Returns
    -------
    numpy.ndarray
        Shape (n_x, k): [L(x)] for "tls" and "generic"; [f_a(x), df_a/da(x)] for "family".

    Raises
    ------
    TypeError, ValueError
        ``smearing`` not None or a finite number in [0, 0.5)
        (:func:`manybody.laws.shapes.check_smearing`).
    """
    smearing = check_smearing(smearing)
    columns = [law_values(law, x, index, smearing)]
    if law == "family":
        columns.append(smeared(_family_index_derivative, x, smearing, index))
    return np.stack(columns, axis=1)


def _samples_and(name: str, samples, matrix) -> tuple[np.ndarray, np.ndarray]:
    """``samples`` (n, m) and ``matrix`` (m, p) (contrasts or a design) as float arrays, else an
    error naming the one at fault (None gave numpy's "unsupported operand type(s) for @",
    bt192)."""
    samples = v.real_array("samples", samples)
    matrix = v.real_array(name, matrix)
    if samples.ndim != 2:
        raise ValueError(f"samples must be 2-d (one row per realisation), got shape {samples.shape}")
    if matrix.ndim != 2 or matrix.shape[0] != samples.shape[1]:
        raise ValueError(f"{name} must have shape ({samples.shape[1]}, p) to match samples "
                         f"{samples.shape}, got shape {matrix.shape}")
    return samples, matrix


def exact_test(samples: np.ndarray, contrasts: np.ndarray) -> GoodnessOfFit | None:
    """The "exact" outcome (statistic 0, p-value 1) when every row of ``samples`` (n, m) has
    contrasts ``samples @ contrasts`` below ``EXACT_RESOLUTION`` of the largest |sample|: the
    hypothesis holds to round-off, and a test on those contrasts would test round-off (module
    notes). None otherwise, for the tests to run.

    Raises
    ------
    TypeError, ValueError
        samples or contrasts not 2-d arrays of finite real numbers with matching inner sizes.
    """
    samples, contrasts = _samples_and("contrasts", samples, contrasts)
    z = samples @ contrasts
    if np.abs(z).max(initial=0.0) <= EXACT_RESOLUTION * float(np.abs(samples).max(initial=0.0)):
        return GoodnessOfFit(0.0, contrasts.shape[1], 1.0, EXACT)
    return None


def hotelling(samples: np.ndarray, contrasts: np.ndarray) -> GoodnessOfFit:
    """Hotelling's test that the mean of ``samples @ contrasts`` is zero.

    Parameters
    ----------
    samples : numpy.ndarray
        Shape (n, m): one row per realisation.
    contrasts : numpy.ndarray
        Shape (m, p): the combinations whose mean vanishes under the hypothesis.

    Returns
    -------
    GoodnessOfFit
        Method "hotelling"; or method "none" (NaN) when n <= p + 1 or the covariance of the
        contrasts is singular (condition number > MAX_CONDITION), for the caller to fall back.

    Raises
    ------
    TypeError, ValueError
        samples or contrasts not 2-d arrays of finite real numbers with matching inner sizes.
    """
    samples, contrasts = _samples_and("contrasts", samples, contrasts)
    n, p = samples.shape[0], contrasts.shape[1]
    if n <= p + 1 or p < 1:
        return GoodnessOfFit(math.nan, p, math.nan, NO_TEST)
    z = samples @ contrasts
    zbar = z.mean(axis=0)
    cov = np.atleast_2d(np.cov(z, rowvar=False, ddof=1))
    scale = np.sqrt(np.diag(cov))
    if not np.all(scale > 0):
        return GoodnessOfFit(math.nan, p, math.nan, NO_TEST)
    corr = cov / np.outer(scale, scale)
    eig = np.linalg.eigvalsh(corr)
    if not eig[0] > eig[-1] / MAX_CONDITION:
        return GoodnessOfFit(math.nan, p, math.nan, NO_TEST)
    u = zbar / scale
    t2 = float(n * u @ np.linalg.solve(corr, u))
    f = t2 * (n - p) / (p * (n - 1))
    return GoodnessOfFit(t2, p, float(stats.f.sf(f, p, n - p)), HOTELLING)


def law_goodness_of_fit(x, q_realisations, fit, *, smearing: float | None = None,
                        n_bootstrap: int = 200,
                        rng: np.random.Generator | None = None) -> GoodnessOfFit:
    """Covariance-aware goodness of fit of a law fitted to the mean over realisations.

    Parameters
    ----------
    x : numpy.ndarray
        x = w / T, shape (n_x,).
    q_realisations : numpy.ndarray
        Q^-1 per realisation, shape (n_realisations, n_x).
    fit : LawFit
        The fit of :func:`manybody.laws.fit.fit_law` to the mean (law "tls", "generic" or
        "family", no background): its law and TLS index fix the tangent space D.
    smearing : float, optional
        eta / w of the line kernel the fit used, in [0, 0.5).
    n_bootstrap : int
        Resamples for the fallback (module notes); 0 gives no test there, else 20 ... 10^5.
    rng : numpy.random.Generator, optional
        For the fallback (default: a fixed seed); an int seed is refused (pass
        ``numpy.random.default_rng(seed)``).

    Returns
    -------
    GoodnessOfFit
        "exact" (p = 1) when every realisation lies on the law to round-off; else Hotelling
        when the realisations allow it, else the bootstrap, else "none" (one realisation, or
        realisations that do not differ beyond round-off).

    Raises
    ------
    TypeError, ValueError
        ``smearing`` not None or a finite number in [0, 0.5); ``rng`` not a
        numpy.random.Generator; ``n_bootstrap`` not 0 or 20 ... 10^5.
    """
    smearing = check_smearing(smearing)
    rng = v.generator("rng", rng)
    n_bootstrap = v.bootstrap_count("n_bootstrap", n_bootstrap, "no bootstrap fallback")
    v.instance("fit", fit, LawFit, "the LawFit of fit_law to the mean over realisations")
    x = v.real_vector("x", x)
    q = np.atleast_2d(v.real_array("q_realisations", q_realisations))
    if q.ndim != 2 or q.shape[1] != x.size:
        raise ValueError(f"q_realisations must have shape (n_realisations, {x.size}) to match x, "
                         f"got shape {q.shape}")
    # in units of the largest |mean|: the tests are invariant under a common scale, their
    # covariances of q ~ 1e-200 (or 1e200) are not floats (p-value NaN, LinAlgError; session 30)
    q = q / (float(np.abs(q.mean(axis=0)).max()) or 1.0)
    law = fit.law
    index = fit.parameters.get("index", 0.0)
    design = law_design(law, x, index, smearing)
    dof = x.size - design.shape[1]
    mean = q.mean(axis=0)
    spread = float(q.std(axis=0).max()) if q.shape[0] > 1 else 0.0
    if spread <= SPREAD_RESOLUTION * max(float(np.abs(mean).max()), 1e-300):
        return GoodnessOfFit(math.nan, dof, math.nan, NO_TEST)
    contrasts = linalg.null_space(design.T)
    exact = exact_test(q, contrasts)
    if exact is not None:  # the law holds to round-off (module notes)
        return exact
    test = hotelling(q, contrasts)
    if test.method == HOTELLING or n_bootstrap <= 0:
        return test
    return linear_bootstrap(q, design, n_bootstrap, rng or np.random.default_rng(0))


def linear_bootstrap(samples: np.ndarray, design: np.ndarray, n_bootstrap: int,
                     rng: np.random.Generator) -> GoodnessOfFit:
    """The fallback for a linear hypothesis mean(samples) in span(design), without Hotelling.

    Statistic: the chi^2 of the diagonal-weighted least-squares fit of the mean onto the design
    (weights 1 / standard error^2 per column); null distribution: resamples of the rows recentred
    on the fit, matched to g chi^2_h (module notes).

    Parameters
    ----------
    samples : numpy.ndarray
        Shape (n, m).
    design : numpy.ndarray
        Shape (m, k).
    n_bootstrap : int
        Resamples (0: no test).
    rng : numpy.random.Generator

    Returns
    -------
    GoodnessOfFit
        Method "bootstrap"; "none" (NaN p-value) with fewer than ``MIN_BOOTSTRAP_REALISATIONS``
        rows, or without resamples, degrees of freedom or spread of the resampled statistic.

    Raises
    ------
    TypeError, ValueError
        samples or design not 2-d arrays of finite real numbers with matching inner sizes,
        n_bootstrap not 0 or 20 ... 10^5, rng not a numpy.random.Generator.
    """
    samples, design = _samples_and("design", samples, design)
    n_bootstrap = v.bootstrap_count("n_bootstrap", n_bootstrap)
    v.generator("rng", rng, optional=False)
    n, m = samples.shape
    dof = m - design.shape[1]

    def statistic(rows: np.ndarray) -> tuple[float, np.ndarray]:
        mean = rows.mean(axis=0)
        sigma = rows.std(axis=0, ddof=1) / math.sqrt(n)
        sigma = np.maximum(sigma, SPREAD_RESOLUTION * max(float(np.abs(mean).max()), 1e-300))
        coef = np.linalg.lstsq(design / sigma[:, None], mean / sigma, rcond=None)[0]
        fitted = design @ coef
        return float(np.sum(((mean - fitted) / sigma) ** 2)), fitted

    observed, fitted = statistic(samples)
    if n < MIN_BOOTSTRAP_REALISATIONS or n_bootstrap <= 0 or dof < 1:
        return GoodnessOfFit(observed, dof, math.nan, NO_TEST)
    centred = samples - samples.mean(axis=0) + fitted
    draws = [statistic(centred[rng.integers(0, n, n)])[0] for _ in range(n_bootstrap)]
    mean, var = float(np.mean(draws)), float(np.var(draws, ddof=1))
    if not (mean > 0 and var > 0):
        return GoodnessOfFit(observed, dof, math.nan, NO_TEST)
    g, h = var / (2.0 * mean), 2.0 * mean**2 / var
    return GoodnessOfFit(observed, dof, float(stats.chi2.sf(observed / g, h)), BOOTSTRAP)
