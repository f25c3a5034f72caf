"""Spectral statistics: level-spacing ratios, eigenstate participation, |T_mn|^2 statistics.

Definitions and reference values: docs/PHYSICS.md section 5 (Oganesyan and Huse, PRB 75, 155111
(2007); Atas et al., PRL 110, 084101 (2013)). Energies are a non-empty 1-d array of finite real
numbers (K); anything else is refused with a ValueError or TypeError naming the argument.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from manybody.simulation.observables.absorption import check_symmetric
from manybody.support import validate as v

#: Mean level-spacing ratio <r> of the standard ensembles (Atas et al., PRL 110, 084101 (2013)).
R_POISSON = 2.0 * np.log(2.0) - 1.0
R_GOE = 0.5307
R_GUE = 0.5996


#: Degeneracy tolerance in units of eps(precision) * max|E| * sqrt(D): a dense symmetric eigensolver
#: returns eigenvalues to a few eps * ||H|| (measured: 4-8 eps for D = 256-1024 in float32), so
#: exactly degenerate levels are split by less than 1/16 of this and genuine spacings are far above
#: it in float64 (a mean spacing is ~ max|E| / D).
DEGENERACY_EPS = 4.0


def eigenvalue_precision(energies: np.ndarray) -> np.dtype:
    """The floating-point precision the eigenvalues were computed in.

    float32 for a float32 array, and also for a float64 array whose every value is exactly a
    float32 number (the float32 solver's eigenvalues promoted to float64, as ``Spectrum`` stores
    them); float64 otherwise. A float64 eigensolver practically never returns only float32 numbers;
    if it does (small dyadic eigenvalues), its degeneracies are exact and the wider float32
    tolerance changes nothing.
    """
    e = np.asarray(energies)
    if e.dtype == np.float32:
        return np.dtype(np.float32)
    # a value beyond float32's range cannot be a float32 number (its cast overflowed with numpy's
    # RuntimeWarning, an error under -W error; a break test, session 45)
    if (e.dtype == np.float64 and e.size and np.max(np.abs(e)) <= np.finfo(np.float32).max
            and np.array_equal(e.astype(np.float32), e)):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


#: The precisions an eigenvalue may have been computed in.
PRECISIONS = ("float32", "float64")


def _precision(precision) -> np.dtype:
    """float32 or float64, given as a name, a numpy type or a dtype (ValueError otherwise)."""
    try:
        dtype = np.dtype(precision)
        known = dtype.type in (np.float32, np.float64)
    except TypeError:
        known = False
    if not known or isinstance(precision, bool):
        raise ValueError(f"precision must be one of {', '.join(map(repr, PRECISIONS))} (or None: "
                         f"inferred from the eigenvalues), got {v._describe(precision)}")
    return dtype


def degeneracy_tolerance(energies: np.ndarray, precision=None) -> float:
    """Level spacings at or below this (K) count as exact degeneracies.

    ``DEGENERACY_EPS * sqrt(D) * eps(precision) * max|E|``: the rounding error of a dense symmetric
    eigensolver in that precision, with a wide margin. ``precision`` defaults to
    :func:`eigenvalue_precision`.
    """
    e = np.asarray(energies, dtype=np.float64)
    dtype = eigenvalue_precision(energies) if precision is None else _precision(precision)
    scale = float(np.max(np.abs(e))) if e.size else 0.0
    return DEGENERACY_EPS * math.sqrt(max(e.size, 1)) * float(np.finfo(dtype).eps) * scale


def spacing_ratios(energies: np.ndarray, window: float = 0.8, tolerance: float | None = None,
                   precision=None) -> np.ndarray:
    """Ratios r_n = min(s_n, s_{n+1}) / max(s_n, s_{n+1}) of consecutive level spacings.

    Exactly degenerate levels (from symmetries, e.g. isolated zero-field or identical TLS, not
    from level statistics) are collapsed into one level: spacings at or below the tolerance are
    dropped, and the ratios are those of the distinct levels. The tolerance follows the precision
    of the eigenvalues, so float32 and float64 solves of the same degenerate spectrum give the same
    ratios (to float32 rounding of the spacings).

    Parameters
    ----------
    energies : numpy.ndarray
        Eigenvalues (K), shape (D,), any order.
    window : float
        Keep the central fraction of the spectrum (edges have a varying density); 1 keeps all. The
        cut counts levels with their multiplicity.
    tolerance : float, optional
        Degeneracy tolerance (K); default
        :func:`~manybody.simulation.observables.statistics.degeneracy_tolerance` (4 sqrt(D) eps max|E|).
    precision : numpy dtype, optional
        Precision the eigenvalues were computed in (float32 or float64); default inferred by
        :func:`~manybody.simulation.observables.statistics.eigenvalue_precision`.

    Returns
    -------
    numpy.ndarray
        The ratios, in [0, 1], shape (n_distinct - 2,).

    Raises
    ------
    TypeError
        Energies that are not real numbers (complex, strings; a Spectrum instead of its
        ``.energies``), a window or tolerance that is not a number.
    ValueError
        Energies not a non-empty 1-d array of finite numbers, ``window`` not in (0, 1], a
        negative or non-finite tolerance, or fewer than 3 distinct levels in the window.
    """
    e = _levels(energies)
    window = v.in_range("window", window, 0.0, 1.0, low_open=True)
    if precision is not None:  # "foo" gave numpy's "data type 'foo' not understood" (session 45)
        precision = _precision(precision)
    tol = (degeneracy_tolerance(energies, precision) if tolerance is None
           else v.non_negative("tolerance", tolerance))
    e = np.sort(e)
    cut = int(round(0.5 * (1 - window) * e.size))
    e = e[cut:e.size - cut]
    s = np.diff(e)
    s = s[s > tol]
    if s.size < 2:
        raise ValueError(
            f"need at least 3 distinct levels for spacing ratios, got {s.size + 1} in the central "
            f"{window:g} of {np.size(energies)} levels (levels closer than {tol:.3g} K are one "
            "degenerate level)")
    a, b = s[:-1], s[1:]
    return np.minimum(a, b) / np.maximum(a, b)


def mean_spacing_ratio(energies: np.ndarray, window: float = 0.8, precision=None) -> float:
    """<r> over the central ``window`` of the spectrum: 0.386 Poisson, 0.531 GOE.

    Degenerate levels are collapsed as in :func:`spacing_ratios`. With fewer than 3 distinct levels
    there is no ratio: NaN is returned with a ``RuntimeWarning`` saying why (a sweep keeps going).
    Source: docs/PHYSICS.md section 5 (R_POISSON, R_GOE, R_GUE of Atas et al. 2013).

    Parameters
    ----------
    energies : array_like
        Eigenvalues (K), shape (D,), finite, any order.
    window : float
        Central fraction of the spectrum kept, in (0, 1].
    precision : numpy dtype, optional
        As :func:`spacing_ratios`.

    Returns
    -------
    float
        <r> in [0, 1], or NaN (with a RuntimeWarning) for fewer than 3 distinct levels.

    Raises
    ------
    TypeError, ValueError
        Energies that are not a non-empty 1-d array of finite real numbers, a window not in
        (0, 1] (as :func:`spacing_ratios`; these are refused, not turned into NaN).
    """
    _levels(energies)
    v.in_range("window", window, 0.0, 1.0, low_open=True)
    if precision is not None:
        _precision(precision)
    try:
        return float(np.mean(spacing_ratios(energies, window, precision=precision)))
    except ValueError as err:
        if "distinct levels" not in str(err):
            raise
        warnings.warn(f"mean spacing ratio is NaN: {err}", RuntimeWarning, stacklevel=2)
        return math.nan


def participation_ratio(vectors: np.ndarray) -> np.ndarray:
    """Inverse participation in the product (TLS position) basis: 1 / sum_k |V_km|^4, per eigenstate.

    1 for a product state, D for a state spread evenly over all D basis states (the product basis
    of docs/PHYSICS.md section 1). A vector that is not normalised is counted as normalised:
    (sum_k |V_km|^2)^2 / sum_k |V_km|^4.

    Parameters
    ----------
    vectors : array_like
        Eigenvectors as columns, shape (D, n_states) (``Spectrum.vectors``), or one vector of
        shape (D,); real and finite.

    Returns
    -------
    numpy.ndarray
        The participation ratio per eigenstate, shape (n_states,) (a 0-d array for one vector).

    Raises
    ------
    TypeError
        Not an array of real numbers; a Spectrum (pass ``spectrum.vectors``).
    ValueError
        Not 1-d or 2-d, empty, NaN or inf, or a vector that is zero everywhere.
    """
    if hasattr(vectors, "vectors") and not isinstance(vectors, np.ndarray):
        raise TypeError(f"vectors must be the eigenvectors as columns, shape (D, n_states), got a "
                        f"{type(vectors).__name__} (pass spectrum.vectors; a Spectrum solved "
                        "without eigenvectors has none)")
    vec = v.real_array("vectors", vectors)
    if vec.ndim not in (1, 2) or vec.size == 0:
        raise ValueError(f"vectors must be eigenvectors as columns, shape (D, n_states) or (D,), "
                         f"got shape {vec.shape}")
    quartic = np.sum(vec**4, axis=0)
    if np.any(quartic == 0):
        raise ValueError("vectors must not be zero everywhere (an eigenvector is normalised), "
                         f"got a zero column at index {int(np.argmax(np.atleast_1d(quartic) == 0))}")
    norm = np.sum(vec**2, axis=0)
    # (sum |V|^2)^2 / sum |V|^4: the same for a normalised vector, and a vector given with another
    # norm (np.ones(D)) is D, not 1/D (session 42); eigenvectors are normalised to round-off
    return np.where(np.abs(norm - 1.0) < 1e-12, 1.0 / quartic, norm**2 / quartic)


def matrix_element_statistics(
    energies: np.ndarray,
    stress_elements: np.ndarray,
    energy_bins: np.ndarray,
    frequency_bins: np.ndarray,
) -> dict[str, np.ndarray]:
    """Mean |T_mn|^2 binned by the upper energy E_m and the difference w_mn = E_m - E_n > 0.

    The random-matrix scenario assumes the mean depends on w_mn only; the TLS picture does not.

    Parameters
    ----------
    energies : numpy.ndarray
        E (K), measured from the ground state inside this function.
    stress_elements : numpy.ndarray
        T_mn (K per unit strain).
    energy_bins, frequency_bins : numpy.ndarray
        Bin edges (K) for E_m - E_0 and for w_mn.

    Returns
    -------
    dict
        "mean" (n_E, n_w) mean |T_mn|^2 per bin (NaN where empty), "count" pairs per bin,
        "by_frequency" (n_w,) mean over all E_m.

    Raises
    ------
    TypeError, ValueError
        Energies not a non-empty 1-d array of finite real numbers, stress_elements not a real
        finite (D, D) array, bin edges not 1-d increasing finite arrays of 2 or more values.

    Notes
    -----
    docs/PHYSICS.md section 5 (matrix-element statistics) and section 2 (T_mn).
    """
    energy_bins = _bin_edges("energy_bins", energy_bins)
    frequency_bins = _bin_edges("frequency_bins", frequency_bins)
    upper, omega, t2 = _pairs(energies, stress_elements)
    total, count = _binned_sums(upper, omega, t2, energy_bins, frequency_bins)
    count_w, _ = np.histogram(omega, bins=frequency_bins)
    total_w, _ = np.histogram(omega, bins=frequency_bins, weights=t2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "mean": np.where(count > 0, total / count, np.nan),
            "count": count,
            "by_frequency": np.where(count_w > 0, total_w / count_w, np.nan),
        }


def matrix_element_sums(
    energies: np.ndarray,
    stress_elements: np.ndarray,
    energy_bins: np.ndarray,
    frequency_bins: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Sum of |T_mn|^2 and number of pairs per (E_m - E_0, w_mn) bin, pairs with E_m > E_n.

    The per-realisation sums behind :func:`matrix_element_statistics` ("mean" = total / count):
    unlike means they add up over realisations (the ratio estimator of the study pools them).
    Arguments as in :func:`matrix_element_statistics`.

    Returns
    -------
    total : numpy.ndarray
        (n_E, n_w) sum of |T_mn|^2 (K^2 with T in K per unit strain).
    count : numpy.ndarray
        (n_E, n_w) number of pairs (float).

    Raises
    ------
    TypeError, ValueError
        As :func:`matrix_element_statistics`.
    """
    energy_bins = _bin_edges("energy_bins", energy_bins)
    frequency_bins = _bin_edges("frequency_bins", frequency_bins)
    upper, omega, t2 = _pairs(energies, stress_elements)
    return _binned_sums(upper, omega, t2, energy_bins, frequency_bins)


def _pairs(energies: np.ndarray, stress_elements: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """E_m - E_0, w_mn and |T_mn|^2 of every pair with E_m > E_n (arguments validated)."""
    e = _levels(energies)
    elements = v.real_array("stress_elements", stress_elements, (e.size, e.size), keep_float=True)
    # the magnitude range (and symmetry) every other observable asks of T (1e160 gave inf and
    # NaN, 1e-200 exact zeros; a break test, session 45)
    check_symmetric(elements)
    e = e - np.min(e)
    m, n = np.nonzero(e[:, None] > e[None, :])
    t2 = np.asarray(stress_elements, dtype=np.float64)[m, n] ** 2
    return e[m], e[m] - e[n], t2


def _levels(energies) -> np.ndarray:
    """Eigenvalues as a validated 1-d float64 array."""
    return v.real_vector("energies", energies, hint=" (eigenvalues in K)")


def _bin_edges(name: str, edges) -> np.ndarray:
    """Histogram bin edges: a 1-d array of 2 or more increasing finite numbers (K)."""
    arr = v.real_vector(name, edges, hint=" of bin edges (K)")
    if arr.size < 2 or np.any(np.diff(arr) <= 0):
        shown = arr.tolist() if arr.size <= 8 else f"{arr.size} values, not increasing"
        raise ValueError(f"{name} must be 2 or more increasing bin edges (K), got {shown!r}")
    return arr


def _binned_sums(upper, omega, t2, energy_bins, frequency_bins) -> tuple[np.ndarray, np.ndarray]:
    count, _, _ = np.histogram2d(upper, omega, bins=(energy_bins, frequency_bins))
    total, _, _ = np.histogram2d(upper, omega, bins=(energy_bins, frequency_bins), weights=t2)
    return total, count
