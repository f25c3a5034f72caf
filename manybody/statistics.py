"""Spectral statistics: level-spacing ratios, eigenstate participation, |T_mn|^2 statistics."""

from __future__ import annotations

import numpy as np

#: Mean level-spacing ratio <r> of the standard ensembles (Atas et al., PRL 110, 084101 (2013)).
R_POISSON = 2.0 * np.log(2.0) - 1.0
R_GOE = 0.5307
R_GUE = 0.5996


def spacing_ratios(energies: np.ndarray, window: float = 0.8, tolerance: float = 1e-10) -> np.ndarray:
    """Ratios r_n = min(s_n, s_{n+1}) / max(s_n, s_{n+1}) of consecutive level spacings.

    Parameters
    ----------
    energies : numpy.ndarray
        Eigenvalues (K).
    window : float
        Keep the central fraction of the spectrum (edges have a varying density); 1 keeps all.
    tolerance : float
        Spacings below tolerance * bandwidth count as exact degeneracies and are removed (they
        come from symmetries, e.g. isolated zero-field TLS, not from level statistics).

    Returns
    -------
    numpy.ndarray
        The ratios, in [0, 1].
    """
    e = np.sort(np.asarray(energies, dtype=np.float64))
    if not 0 < window <= 1:
        raise ValueError(f"window must be in (0, 1], got {window!r}")
    cut = int(round(0.5 * (1 - window) * e.size))
    e = e[cut:e.size - cut]
    s = np.diff(e)
    s = s[s > tolerance * max(e[-1] - e[0], 1e-300)] if e.size > 1 else s
    if s.size < 2:
        raise ValueError(f"need at least 3 distinct levels for spacing ratios, got {s.size + 1}")
    a, b = s[:-1], s[1:]
    return np.minimum(a, b) / np.maximum(a, b)


def mean_spacing_ratio(energies: np.ndarray, window: float = 0.8) -> float:
    """<r> over the central ``window`` of the spectrum: 0.386 Poisson, 0.531 GOE."""
    return float(np.mean(spacing_ratios(energies, window)))


def participation_ratio(vectors: np.ndarray) -> np.ndarray:
    """Inverse participation in the product (TLS position) basis: 1 / sum_k |V_km|^4, per eigenstate.

    1 for a product state, D for a state spread evenly over all D basis states.
    """
    v = np.asarray(vectors, dtype=np.float64)
    return 1.0 / np.sum(v**4, axis=0)


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
    """
    e = np.asarray(energies, dtype=np.float64) - np.min(energies)
    m, n = np.nonzero(e[:, None] > e[None, :])
    t2 = np.asarray(stress_elements, dtype=np.float64)[m, n] ** 2
    omega = e[m] - e[n]
    count, _, _ = np.histogram2d(e[m], omega, bins=(energy_bins, frequency_bins))
    total, _, _ = np.histogram2d(e[m], omega, bins=(energy_bins, frequency_bins), weights=t2)
    count_w, _ = np.histogram(omega, bins=frequency_bins)
    total_w, _ = np.histogram(omega, bins=frequency_bins, weights=t2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "mean": np.where(count > 0, total / count, np.nan),
            "count": count,
            "by_frequency": np.where(count_w > 0, total_w / count_w, np.nan),
        }
