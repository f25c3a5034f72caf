"""The covariance of a least-squares fit from its Jacobian, honest where the data do not
determine a parameter (numpy only: every fitter of the package uses it, :mod:`manybody.laws.fit`
and :mod:`manybody.laws.saturation` alike)."""

from __future__ import annotations

import numpy as np

__all__ = ["NULL_SHARE", "NULL_SINGULAR_VALUE", "SCATTER_P", "SCATTER_SPREAD", "correlation",
           "covariance", "rescale", "unequal_scatter_p_value"]

#: Singular values of the column-normalised Jacobian below this fraction of the largest are
#: numerically zero: the data do not determine that combination of parameters at all.
NULL_SINGULAR_VALUE = 1e-12
#: A parameter counts as determined beside a null direction only if that direction, at the
#: threshold singular value, would add at most this fraction to its variance (rounding of an
#: exact Jacobian puts ~eps^2 / NULL_SINGULAR_VALUE^2 ~ 1e-7 there).
NULL_SHARE = 1e-4


def covariance(jacobian: np.ndarray) -> np.ndarray:
    """(J^T J)^-1 of a least-squares Jacobian J (residuals in units of their errors), from the SVD
    of J with columns scaled to unit norm.

    ``pinv(J^T J)`` dropped every direction whose eigenvalue was below 1e-15 of the largest: a
    saturation fit whose TLS term was a millionth of the backgrounds reported its amplitude to
    2e-4 of itself, with the amplitude and the critical power fully correlated and neither
    determined (session 26). The columns are normalised first (an amplitude column 10^6 times
    smaller than a background's is not a degeneracy), and the SVD of J squares no condition
    number. A combination the data do not determine at all (a singular value below
    :data:`NULL_SINGULAR_VALUE` of the largest, or a zero column) gives its parameters infinite
    variances (other entries of their rows NaN); a poorly determined one, large variances.
    A parameter takes part in such a combination when the combination, even at the threshold
    singular value, would add more than :data:`NULL_SHARE` to its variance: its true variance
    there is at least that and unbounded (the amplitude and background of a law at x = 18-26
    with a weight of 3e-10 on the index made the index's error 0.15 for a variance beyond
    1e10; session 27; a fixed 1e-6 cut on the weight had let it through).

    The covariance is only as good as the Jacobian: every column must be accurate to relative
    precision, tiny derivatives included (the fitters pass exact columns: design matrices,
    analytic or complex-step derivatives).

    Parameters
    ----------
    jacobian : numpy.ndarray, shape (n_points, n_parameters)
        d(residual_i / sigma_i) / d(parameter_j) (the sign does not matter).

    Returns
    -------
    numpy.ndarray, shape (n_parameters, n_parameters)
        In the parameters' units; inf on the diagonal (NaN elsewhere in the row) for an
        undetermined parameter.

    Raises
    ------
    numpy.linalg.LinAlgError
        The SVD did not converge (a Jacobian with NaN or inf).

    Notes
    -----
    Source: the least-squares covariance (J^T J)^-1 (e.g. Press et al., Numerical Recipes,
    section 15.4, with the SVD of section 15.4.2).
    """
    jac = np.asarray(jacobian, dtype=np.float64)
    k = jac.shape[1]
    norms = _column_norms(jac)
    used = np.flatnonzero(norms > 0)
    cov = np.full((k, k), np.nan)
    free = norms > 0  # a parameter the residuals ignore is not determined
    if used.size:
        _, sv, vt = np.linalg.svd(jac[:, used] / norms[used], full_matrices=False)
        null = sv <= NULL_SINGULAR_VALUE * sv[0]
        # a singular value or column norm whose square underflows is an infinite variance, not
        # a warning (x ~ 1e-300: the laws are all linear there; session 33)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore", under="ignore"):
            inner = (vt[~null].T / sv[~null] ** 2) @ vt[~null]
            cov[np.ix_(used, used)] = inner / np.outer(norms[used], norms[used])
            if null.any():  # the least a null direction adds, against the variance without it
                floor = np.sum(vt[null] ** 2, axis=0) / (NULL_SINGULAR_VALUE * sv[0]) ** 2
                free[used] = floor <= NULL_SHARE * np.diag(inner)
            else:
                free[used] = True
    for i in np.flatnonzero(~free):
        cov[i, :] = cov[:, i] = np.nan
        cov[i, i] = np.inf
    return cov


def _column_norms(jac: np.ndarray) -> np.ndarray:
    """Euclidean norms of the columns, each column first divided by a power of two near its
    largest entry: the same bits as ``numpy.linalg.norm(jac, axis=0)`` where its squares neither
    over- nor underflow, and right where they do (entries beyond ~1e+-154 gave a norm of inf or
    0, and a column of 1e-160 counted as one the residuals ignore; session 28)."""
    with np.errstate(invalid="ignore"):
        top = np.max(np.abs(jac), axis=0) if jac.shape[0] else np.zeros(jac.shape[1])
    expo = np.where(np.isfinite(top) & (top > 0), np.frexp(top)[1], 0)
    return np.ldexp(np.linalg.norm(np.ldexp(jac, -expo[None, :]), axis=0), expo)


def rescale(cov: np.ndarray, factors) -> tuple[np.ndarray, np.ndarray]:
    """A covariance and its standard errors in other units, p_i -> f_i p_i, without an
    intermediate product that over- or underflows: f_i f_j cov_ij and f_i sqrt(cov_ii).

    Each factor is split into a mantissa and a power of two (``numpy.frexp``): the mantissas
    (in [0.5, 1)) multiply the covariance, the powers of two are applied last (``numpy.ldexp``,
    exact). Where ``cov * outer(f, f)`` neither over- nor underflows, the result is that product
    bit for bit; where the factors are beyond ~1e+-154 (a loss of 1e-200 or 1e200 fitted in
    units of its typical value), the errors are still right (1e-202, not 0; 1e198, not inf:
    the variances had been scaled, var * f**2, and over- or underflowed; session 28), and so is
    every covariance entry the floating-point range can hold (those beyond it are inf or 0:
    :func:`correlation` of the covariance in working units keeps what they lose).

    Parameters
    ----------
    cov : numpy.ndarray, shape (k, k)
        Covariance in the working units (inf on the diagonal, NaN elsewhere in its row, for an
        undetermined parameter, as :func:`covariance` gives it).
    factors : array_like, shape (k,)
        Finite factors f_i, the new unit of parameter i per working unit (the sign is kept).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The covariance, shape (k, k), and the standard errors, shape (k,) (>= 0; inf for an
        undetermined parameter).

    Raises
    ------
    ValueError
        The shapes do not match, or a factor is not finite.
    """
    cov = np.asarray(cov, dtype=np.float64)
    f = np.asarray(factors, dtype=np.float64)
    if cov.ndim != 2 or cov.shape != (f.size, f.size) or f.ndim != 1:
        raise ValueError(f"cov must be (k, k) for k factors, got shapes {cov.shape} and "
                         f"{f.shape}")
    if not np.all(np.isfinite(f)):
        raise ValueError(f"factors must be finite, got {f.tolist()}")
    mant, expo = np.frexp(f)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        out = np.ldexp(cov * np.outer(mant, mant), expo[:, None] + expo[None, :])
        sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        errors = np.ldexp(sd * np.abs(mant), expo)
    return out, errors


def correlation(cov: np.ndarray) -> np.ndarray:
    """The correlation matrix cov_ij / sqrt(cov_ii cov_jj) of a covariance (the same in any
    units of the parameters, so it survives where a covariance in the data's units over- or
    underflows).

    Parameters
    ----------
    cov : numpy.ndarray, shape (k, k)
        A covariance as :func:`covariance` gives it.

    Returns
    -------
    numpy.ndarray, shape (k, k)
        1 on the diagonal of a parameter with a finite, positive variance; NaN in the row and
        column of an undetermined parameter (infinite variance) or of one with variance 0.
    """
    cov = np.asarray(cov, dtype=np.float64)
    var = np.diag(cov).copy()
    good = np.isfinite(var) & (var > 0)
    sd = np.where(good, np.sqrt(np.where(good, var, 1.0)), np.nan)
    with np.errstate(invalid="ignore"):
        out = cov / sd[:, None] / sd[None, :]
    out = np.clip(out, -1.0, 1.0)  # rounding of an exact +-1
    np.fill_diagonal(out, np.where(good, 1.0, np.nan))
    return out


#: Scatters estimated from residuals (of curves, or of a fit's windows) further apart than this
#: factor, and unequal by Bartlett's test at p < SCATTER_P, are unequal beyond chance (the
#: thresholds measured on the saturation fits, :mod:`manybody.measured.comparison`).
SCATTER_SPREAD = 3.0
SCATTER_P = 1e-3


def unequal_scatter_p_value(scatters, dofs) -> float | None:
    """Bartlett's test that residual scatters s_j, each estimated with nu_j degrees of freedom,
    are one scatter: the p-value, or None when the test does not apply (fewer than two groups,
    a scatter that is not finite and > 0, nu_j <= 0) or the spread max/min s_j is below
    :data:`SCATTER_SPREAD` (then they are taken as equal whatever p).

    Parameters
    ----------
    scatters, dofs : array_like, shape (n_groups,)
        s_j (any units) and nu_j (> 0, not necessarily integers).

    Returns
    -------
    float or None
        P(statistic >= observed) under chi^2 with n_groups - 1 degrees of freedom (M. S.
        Bartlett, Proc. R. Soc. A 160, 268 (1937), the statistic with its correction factor).
    """
    from scipy.stats import chi2  # scipy: only where a scatter is tested

    s = np.asarray(scatters, dtype=float)
    nu = np.asarray(dofs, dtype=float)
    if s.size < 2 or s.shape != nu.shape or not np.all(np.isfinite(s)) or np.any(s <= 0) \
            or np.any(nu <= 0) or s.max() < SCATTER_SPREAD * s.min():
        return None
    pooled = np.sum(nu * s**2) / nu.sum()
    correction = 1.0 + (np.sum(1.0 / nu) - 1.0 / nu.sum()) / (3.0 * (s.size - 1))
    statistic = (nu.sum() * np.log(pooled) - np.sum(nu * np.log(s**2))) / correction
    return float(chi2.sf(statistic, s.size - 1))
