"""The covariance of a least-squares fit from its Jacobian, honest where the data do not
determine a parameter (numpy only: every fitter of the package uses it, :mod:`manybody.laws.fit`
and :mod:`manybody.laws.saturation` alike)."""

from __future__ import annotations

import numpy as np

__all__ = ["NULL_SINGULAR_VALUE", "covariance"]

#: Singular values of the column-normalised Jacobian below this fraction of the largest are
#: numerically zero: the data do not determine that combination of parameters at all.
NULL_SINGULAR_VALUE = 1e-12


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

    Parameters
    ----------
    jacobian : numpy.ndarray, shape (n_points, n_parameters)

    Returns
    -------
    numpy.ndarray, shape (n_parameters, n_parameters)
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
        free[used] = np.all(np.abs(vt[null]) <= 1e-6, axis=0) if null.any() else True
    for i in np.flatnonzero(~free):
        cov[i, :] = cov[:, i] = np.nan
        cov[i, i] = np.inf
    return cov
