"""Random matrices: GOE, Haar-orthogonal eigenvectors and level sequences with a prescribed density.

All functions are pure and take an explicit :class:`numpy.random.Generator`.

Normalisation (PHYSICS.md section 1): a GOE matrix ``G`` of dimension ``D`` has off-diagonal
variance ``1/(4D)`` and diagonal variance ``1/(2D)``, so its semicircle has radius 1.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import eigvalsh_tridiagonal, qr

from manybody.support import validate as v

#: Mean level densities and local level statistics of :func:`prescribed_levels` (the names
#: RandomMatrixTerm's kind / level_statistics take).
DENSITIES = ("flat", "exponential")
STATISTICS = ("goe", "poisson")


def _dim(value: object) -> int:
    return v.integer("dim", value, 1)


def _rng(value: object) -> np.random.Generator:
    return v.generator("rng", value, optional=False)


def _dtype(value: object) -> np.dtype:
    try:
        out = np.dtype(value)
    except TypeError:
        out = None
    if out is None or out.kind not in "fc":
        raise TypeError(f"dtype must be a numpy floating dtype (e.g. numpy.float64), got "
                        f"{v._describe(value)}")
    return out


def goe(dim: int, rng: np.random.Generator, dtype: type = np.float64) -> np.ndarray:
    """Draw a GOE matrix whose semicircle has radius 1.

    Parameters
    ----------
    dim : int
        Matrix dimension D.
    rng : numpy.random.Generator
        Source of randomness.
    dtype : numpy dtype
        Output dtype (the draw is always made in float64 so the numbers do not depend on it).

    Returns
    -------
    numpy.ndarray
        Symmetric (D, D) matrix, off-diagonal variance 1/(4D), diagonal variance 1/(2D).
    """
    dim, rng, dtype = _dim(dim), _rng(rng), _dtype(dtype)
    a = rng.standard_normal((dim, dim))
    a += a.T
    a *= 1.0 / np.sqrt(8.0 * dim)
    return a.astype(dtype, copy=False)


def haar_orthogonal(dim: int, rng: np.random.Generator) -> np.ndarray:
    """Draw a Haar-distributed orthogonal matrix (QR of a Gaussian matrix with the sign fix).

    Parameters
    ----------
    dim : int
        Matrix dimension D.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    numpy.ndarray
        Orthogonal (D, D) matrix whose columns are the eigenvectors of a random block.
    """
    dim, rng = _dim(dim), _rng(rng)
    q, r = qr(rng.standard_normal((dim, dim)), overwrite_a=True, check_finite=False)
    q *= np.sign(np.diag(r))[None, :]
    return q


def goe_levels(dim: int, rng: np.random.Generator) -> np.ndarray:
    """Eigenvalues of a radius-1 GOE matrix, drawn in O(D^2) from the tridiagonal beta = 1 ensemble.

    Uses the Dumitriu-Edelman tridiagonal model, whose eigenvalues have exactly the GOE joint
    distribution, so level repulsion is kept without diagonalising a dense matrix.

    Returns
    -------
    numpy.ndarray
        Sorted eigenvalues (D,), semicircle on [-1, 1].
    """
    dim, rng = _dim(dim), _rng(rng)
    diagonal = rng.normal(0.0, np.sqrt(2.0), size=dim)
    off = np.sqrt(rng.chisquare(np.arange(dim - 1, 0, -1, dtype=float)))
    levels = eigvalsh_tridiagonal(diagonal, off, check_finite=False)
    return np.sort(levels) / (2.0 * np.sqrt(dim))


def semicircle_cdf(energy: np.ndarray) -> np.ndarray:
    """Cumulative distribution of the radius-1 semicircle, clipped to [0, 1] (``energy``: a real
    number or an array of them, finite)."""
    e = np.clip(v.real_array("energy", energy), -1.0, 1.0)
    return 0.5 + (e * np.sqrt(1.0 - e * e) + np.arcsin(e)) / np.pi


#: W / T_s above which e^{W/T_s} is not formed (float64 overflows at 709.8).
_EXP_LIMIT = 700.0


def prescribed_levels(
    density: str,
    dim: int,
    bandwidth: float,
    rng: np.random.Generator,
    growth_temperature: float | None = None,
    statistics: str = "goe",
) -> np.ndarray:
    """Draw D levels with a prescribed mean density on [0, bandwidth].

    GOE levels are unfolded through the semicircle's cumulative distribution (which keeps their
    local correlations, i.e. level repulsion) and mapped onto the target density by its inverse
    cumulative distribution; ``statistics="poisson"`` uses independent uniform numbers instead.

    Parameters
    ----------
    density : {"flat", "exponential"}
        Mean level density rho(E): constant, or proportional to exp(E / growth_temperature).
    dim : int
        Number of levels D.
    bandwidth : float
        Levels lie in [0, bandwidth] (K).
    rng : numpy.random.Generator
        Source of randomness.
    growth_temperature : float, optional
        T_s of the exponential density rho ~ exp(E / T_s) (K); required for "exponential".
    statistics : {"goe", "poisson"}
        Local level correlations.

    Returns
    -------
    numpy.ndarray
        Sorted levels (D,) in K.

    Raises
    ------
    TypeError, ValueError
        A density or statistics not one of the names above (exactly: "GOE" is refused, not read
        as Poisson), dim not an integer >= 1, bandwidth not a number >= 0 (0: the levels of a
        block of weight 0), growth_temperature not a number > 0,
        growth_temperature missing for "exponential", rng not a Generator.
    """
    density = v.choice("density", density, DENSITIES)
    statistics = v.choice("statistics", statistics, STATISTICS)
    dim, rng = _dim(dim), _rng(rng)
    bandwidth = v.non_negative("bandwidth (K)", bandwidth)  # 0: a block of weight 0
    growth_temperature = v.optional_positive("growth_temperature (K)", growth_temperature)
    if density == "exponential" and growth_temperature is None:
        raise ValueError("growth_temperature (K) is needed for density 'exponential' "
                         "(rho ~ exp(E / growth_temperature)), got None")
    if statistics == "goe":
        u = semicircle_cdf(goe_levels(dim, rng))
    else:
        u = np.sort(rng.random(dim))
    if density == "flat":
        return bandwidth * u
    ratio = bandwidth / growth_temperature
    if ratio < _EXP_LIMIT:
        # inverse CDF of rho ~ exp(E/T_s) on [0, W]: E = T_s ln(1 + u (e^{W/T_s} - 1))
        return growth_temperature * (np.log1p(u * np.expm1(ratio)))
    # the same as W + T_s ln(u + (1 - u) e^{-W/T_s}), where e^{W/T_s} overflows (W/T_s > 700:
    # a growth_temperature of 1e-5 K gave inf levels and a LAPACK failure, session 25)
    with np.errstate(divide="ignore"):  # ln 0 at u = 0 or 1: logaddexp takes -inf
        return bandwidth + growth_temperature * np.logaddexp(np.log(u), np.log1p(-u) - ratio)


def eth_matrix(
    levels: np.ndarray, energy_scale: float, rng: np.random.Generator
) -> np.ndarray:
    """A GOE-like matrix in an eigenbasis whose variance falls with the mean energy (ETH ansatz).

    M_mn = g_mn sqrt(exp(-(Ebar_mn - E_0) / energy_scale)), g GOE of radius 1, Ebar_mn = (E_m + E_n)/2,
    E_0 the lowest level: with an exponentially growing density rho ~ exp(E / T_s) and
    energy_scale = T_s, rho(E + w) |M|^2 is independent of E, the random-matrix scenario's assumption.

    Parameters
    ----------
    levels : numpy.ndarray
        Eigenvalues E_m of the block (K), shape (D,).
    energy_scale : float
        Scale of the variance's decay with mean energy (K).
    rng : numpy.random.Generator
        Source of randomness.
    """
    levels = v.real_vector("levels (K)", levels)
    energy_scale = v.positive("energy_scale (K)", energy_scale)
    rng = _rng(rng)
    dim = levels.size
    g = goe(dim, rng)
    # |M_mn|^2 = g_mn^2 exp(-(Ebar_mn - E0)/scale) factorises: M_mn = g_mn a_m a_n with
    # a_m = exp(-(E_m - E0)/(4 scale)), since (E_m - E0)/4 + (E_n - E0)/4 = (Ebar_mn - E0)/2.
    shifted = (levels - levels.min()) / (4.0 * energy_scale)
    envelope = np.exp(-shifted)
    g *= envelope[:, None]
    g *= envelope[None, :]
    return g
