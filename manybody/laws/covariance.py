"""The covariance of a least-squares fit from its Jacobian, honest where the data do not
determine a parameter (numpy only: every fitter of the package uses it, :mod:`manybody.laws.fit`
and :mod:`manybody.laws.saturation` alike)."""

from __future__ import annotations

import numpy as np

__all__ = ["NULL_SHARE", "NULL_SINGULAR_VALUE", "covariance"]

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
    norms = np.linalg.norm(jac, axis=0)
    used = np.flatnonzero(norms > 0)
    cov = np.full((k, k), np.nan)
    free = norms > 0  # a parameter the residuals ignore is not determined
    if used.size:
        _, sv, vt = np.linalg.svd(jac[:, used] / norms[used], full_matrices=False)
        null = sv <= NULL_SINGULAR_VALUE * sv[0]
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
