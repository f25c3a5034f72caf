"""Thermodynamics from a spectrum: specific heat, entropy, energy (k_B = 1, energies in K)."""

from __future__ import annotations

import numpy as np

from manybody import _validate as v


def _moments(energies: np.ndarray, temperatures) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    t = v.positive_array("temperatures", temperatures)
    e = np.asarray(energies, dtype=np.float64)
    shifted = e - e.min()
    x = shifted[None, :] / t[:, None]
    boltzmann = np.exp(-x)
    z = boltzmann.sum(axis=1)
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


def internal_energy(energies: np.ndarray, temperatures) -> np.ndarray:
    """<E>(T) (K), shape (n_T,)."""
    t, mean, _, _ = _moments(energies, temperatures)
    return mean + float(np.min(energies))


def schottky(splittings: np.ndarray, temperatures) -> np.ndarray:
    """Specific heat of independent TLS: sum_i x_i^2 e^{x_i} / (1 + e^{x_i})^2, x_i = E_i / T."""
    t = v.positive_array("temperatures", temperatures)
    x = np.asarray(splittings, dtype=np.float64)[None, :] / t[:, None]
    half = 0.5 * x
    return np.sum((half / np.cosh(half)) ** 2, axis=1)
