"""Thermodynamics from a spectrum: Boltzmann weights, specific heat, entropy (k_B = 1, energies in K)."""

from __future__ import annotations

import numpy as np

from manybody.support import validate as v


def boltzmann_weights(energies: np.ndarray, temperatures: np.ndarray) -> np.ndarray:
    """Thermal occupations p_n(T) = exp(-E_n/T) / Z, shape (n_T, D), computed without overflow.

    Parameters
    ----------
    energies : numpy.ndarray
        E_n (K).
    temperatures : numpy.ndarray
        T (K), all > 0.
    """
    t = v.positive_array("temperatures", temperatures)
    _, weights, z = _boltzmann(energies, t)
    weights /= z[:, None]
    return weights


def _boltzmann(energies: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """E_n - E_0, the unnormalised weights exp(-(E_n - E_0)/T) (n_T, D) and Z (n_T,)."""
    shifted = np.asarray(energies, dtype=np.float64) - np.min(energies)
    weights = np.exp(-shifted[None, :] / t[:, None])
    return shifted, weights, weights.sum(axis=1)


def _moments(energies: np.ndarray, temperatures) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    t = v.positive_array("temperatures", temperatures)
    shifted, boltzmann, z = _boltzmann(energies, t)
    p = boltzmann / z[:, None]
    mean = p @ shifted
    second = p @ shifted**2
    return t, mean, second, np.log(z)


def specific_heat(energies: np.ndarray, temperatures) -> np.ndarray:
    """C(T) = (<E^2> - <E>^2) / T^2 in units of k_B, shape (n_T,).

    Parameters
    ----------
    energies : numpy.ndarray
        Eigenvalues (K).
    temperatures : array_like
        T (K) > 0.
    """
    t, mean, second, _ = _moments(energies, temperatures)
    return np.maximum(second - mean**2, 0.0) / t**2


def entropy(energies: np.ndarray, temperatures) -> np.ndarray:
    """S(T) = ln Z + <E>/T in units of k_B, shape (n_T,)."""
    t, mean, _, log_z = _moments(energies, temperatures)
    return log_z + mean / t


def schottky(splittings: np.ndarray, temperatures) -> np.ndarray:
    """Specific heat of independent TLS: sum_i x_i^2 e^{x_i} / (1 + e^{x_i})^2, x_i = E_i / T."""
    t = v.positive_array("temperatures", temperatures)
    x = np.asarray(splittings, dtype=np.float64)[None, :] / t[:, None]
    half = 0.5 * x
    return np.sum((half / np.cosh(half)) ** 2, axis=1)
