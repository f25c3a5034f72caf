"""Thermodynamics from a spectrum: Boltzmann weights, specific heat, entropy (k_B = 1, energies in K).

The formulas are those of docs/PHYSICS.md section 5 (fluctuation formula for C, the Schottky sum of
independent TLS). Every function takes the eigenvalues as a non-empty 1-d array of finite real
numbers (K; any order) and the temperatures as a non-empty 1-d array (or one number) of finite
values > 0 (K), and refuses anything else with a ValueError or TypeError naming the argument.
"""

from __future__ import annotations

import warnings

import numpy as np

from manybody.support import validate as v


def _energies(energies, name: str = "energies") -> np.ndarray:
    """The eigenvalues as a 1-d float64 array (validated)."""
    return v.real_vector(name, energies, hint=" (eigenvalues E_n in K)")


def boltzmann_weights(energies: np.ndarray, temperatures: np.ndarray) -> np.ndarray:
    """Thermal occupations p_n(T) = exp(-E_n/T) / Z, computed without overflow.

    The energies are measured from the lowest one before exponentiating, so the weights are exact
    down to T -> 0 (all weight on the ground state). Source: docs/PHYSICS.md section 2 (p_n).

    Parameters
    ----------
    energies : array_like
        E_n (K), shape (D,), finite, any order.
    temperatures : array_like
        T (K), shape (n_T,) or a number, all finite and > 0.

    Returns
    -------
    numpy.ndarray
        p_n(T), shape (n_T, D); each row sums to 1.

    Raises
    ------
    TypeError
        Energies or temperatures that are not real numbers (complex, strings, booleans, a
        Spectrum instead of its ``.energies``).
    ValueError
        Energies not a non-empty 1-d array of finite numbers; temperatures not finite and > 0 or
        not 1-d.
    """
    e = _energies(energies)
    t = v.positive_array("temperatures", temperatures)
    _, weights, z = _boltzmann(e, t)
    weights /= z[:, None]
    return weights


def _boltzmann(energies: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """E_n - E_0, the unnormalised weights exp(-(E_n - E_0)/T) (n_T, D) and Z (n_T,)."""
    shifted = np.asarray(energies, dtype=np.float64) - np.min(energies)
    with np.errstate(over="ignore"):  # E/T beyond float64 at tiny T: exp(-inf) = 0, exact
        weights = np.exp(-shifted[None, :] / t[:, None])
    return shifted, weights, weights.sum(axis=1)


def _moments(energies, temperatures) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    e = _energies(energies)
    t = v.positive_array("temperatures", temperatures)
    shifted, boltzmann, z = _boltzmann(e, t)
    p = boltzmann / z[:, None]
    mean = p @ shifted
    with np.errstate(over="ignore"):
        square = shifted**2
    if np.isinf(square).any():  # levels ~1e154 K above E_0: their weight is 0, not 0 * inf = NaN
        second = np.sum(p * np.where(p > 0, square[None, :], 0.0), axis=1)
    else:
        second = p @ square
    return t, mean, second, np.log(z)


#: Every level gap (or every line a stress drives) this many times above every temperature and
#: probe frequency: the observable is exp(-100) ~ 0 or a far tail, most likely energies typed in
#: mK for K (a tester, bt227 F3: eps = 300 for 0.3 K gave Q = 0 and C = 0 without a word).
FAR_BELOW = 100.0


class FarBelowSpectrumWarning(UserWarning):
    """Every temperature (and probe frequency) lies far below every level gap or driven line
    (:data:`FAR_BELOW` times): the observable is exponentially small or exactly 0; most likely
    energies typed in mK where kelvin is meant (300 for 0.3 K). Raised by :func:`specific_heat`
    and by the absorption and velocity shift of the API."""


def warn_if_far_below(scale: float, temperatures: np.ndarray, what: str, observable: str,
                      frequencies: np.ndarray | None = None, stacklevel: int = 3) -> None:
    """Warn (:class:`FarBelowSpectrumWarning`) when ``scale`` (K; the smallest gap or driven
    line) lies more than :data:`FAR_BELOW` times above every temperature and frequency.

    Parameters
    ----------
    scale : float
        The smallest level gap or driven line (K); nothing is said when it is not finite or <= 0.
    temperatures, frequencies : numpy.ndarray
        Checked T and w (K).
    what, observable : str
        What the scale is ("level gap", "line the stress drives") and what is ~0, for the text.
    stacklevel : int
        Of the warning, as :func:`warnings.warn`'s.
    """
    probe = float(np.max(temperatures))
    if frequencies is not None and frequencies.size:
        probe = max(probe, float(np.max(frequencies)))
    if not (np.isfinite(scale) and scale > FAR_BELOW * probe > 0):
        return
    probed = "temperature and frequency" if frequencies is not None else "temperature"
    warnings.warn(f"the smallest {what} ({scale:.4g} K) lies {scale / probe:.3g} times above every "
                  f"{probed} (up to {probe:.4g} K): the {observable} is exponentially small or "
                  "exactly 0; energies are in K (0.3 K, not 300 for 300 mK)",
                  FarBelowSpectrumWarning, stacklevel=stacklevel)


def specific_heat(energies: np.ndarray, temperatures) -> np.ndarray:
    """C(T) = (<E^2> - <E>^2) / T^2 in units of k_B, the fluctuation formula.

    Source: docs/PHYSICS.md section 5. At temperatures so low that T^2 underflows (T < ~1e-154 K)
    the variance is divided by T twice, which gives the T -> 0 limit 0 instead of 0/0.

    Parameters
    ----------
    energies : array_like
        Eigenvalues E_n (K), shape (D,), finite, any order.
    temperatures : array_like
        T (K), shape (n_T,) or a number, all finite and > 0.

    Returns
    -------
    numpy.ndarray
        C(T) (k_B), shape (n_T,).

    Raises
    ------
    TypeError, ValueError
        As :func:`boltzmann_weights`.
    """
    out = fluctuation_specific_heat(energies, temperatures)
    gaps = np.unique(_energies(energies))
    if gaps.size > 1:  # every level far above the ground state at every T (bt227 F3)
        warn_if_far_below(float(0.5 * gaps[1] - 0.5 * gaps[0]) * 2.0,
                          v.positive_array("temperatures", temperatures),
                          "level gap above the ground state", "specific heat")
    return out


def fluctuation_specific_heat(energies: np.ndarray, temperatures) -> np.ndarray:
    """:func:`specific_heat` without its warning of levels far above every temperature: a
    run's realisations (``manybody.simulation.solvers.dense``), whose preflight checks the
    model's units once, call this (one TLS of 0.3 K at 1 mK is an ordinary member of an
    ensemble, not a unit slip). Same arguments, returns and errors."""
    with np.errstate(over="ignore", invalid="ignore"):  # a non-finite C is redone below
        t, mean, second, _ = _moments(energies, temperatures)
        variance = np.maximum(second - mean**2, 0.0)
        t2 = t**2
    out = variance / np.where(t2 > 0, t2, 1.0)
    tiny = t2 == 0  # T^2 underflowed: divide twice (0 where the variance underflowed too)
    if tiny.any():
        out[tiny] = variance[tiny] / t[tiny] / t[tiny]
    huge = ~np.isfinite(out)  # <E^2> overflowed (levels ~1e154 K apart): in units of T
    if huge.any():  # C depends on E/T only; NaN before (a tester, bt227 F1)
        e = _energies(energies)
        with np.errstate(over="ignore", invalid="ignore"):
            # (E - E_0)/T halved first: a span beyond float64 (-1e308 to 1e308) was inf - inf
            x = (0.5 * e[None, :] - 0.5 * e.min()) / t[huge][:, None] * 2.0
            boltzmann = np.exp(-x)
            p = boltzmann / boltzmann.sum(axis=1, keepdims=True)
            square = np.where(p > 0, x**2, 0.0)
            mean_x = np.sum(np.where(p > 0, p * x, 0.0), axis=1)
        out[huge] = np.maximum(np.sum(p * square, axis=1) - mean_x**2, 0.0)
    return out


def entropy(energies: np.ndarray, temperatures) -> np.ndarray:
    """S(T) = ln Z + <E>/T in units of k_B (energies measured from the ground state).

    Source: docs/PHYSICS.md section 5 (canonical ensemble of the full spectrum); S -> ln g_0 for
    T -> 0 (g_0 the ground-state degeneracy) and ln D for T -> infinity.

    Parameters
    ----------
    energies : array_like
        Eigenvalues E_n (K), shape (D,), finite, any order.
    temperatures : array_like
        T (K), shape (n_T,) or a number, all finite and > 0.

    Returns
    -------
    numpy.ndarray
        S(T) (k_B), shape (n_T,).

    Raises
    ------
    TypeError, ValueError
        As :func:`boltzmann_weights`.
    """
    t, mean, _, log_z = _moments(energies, temperatures)
    return log_z + mean / t


def schottky(splittings: np.ndarray, temperatures) -> np.ndarray:
    """Specific heat of independent TLS: sum_i x_i^2 e^{x_i} / (1 + e^{x_i})^2, x_i = E_i / T.

    The Schottky sum of docs/PHYSICS.md section 5 (per TLS at most 0.4392 at x = 2.399); equal
    to :func:`specific_heat` of the 2^N many-body levels of the same TLS.

    Parameters
    ----------
    splittings : array_like
        Single-TLS splittings E_i = sqrt(eps_i^2 + Delta_i^2) (K), shape (N,), finite and >= 0;
        a number (or a 0-d array) is one TLS, as in :func:`manybody.support.validate.real_vector`.
    temperatures : array_like
        T (K), shape (n_T,) or a number, all finite and > 0.

    Returns
    -------
    numpy.ndarray
        C(T) (k_B), shape (n_T,).

    Raises
    ------
    TypeError
        Splittings or temperatures that are not real numbers.
    ValueError
        Splittings neither a number nor a non-empty 1-d array of finite numbers >= 0;
        temperatures not finite and > 0 or not 1-d.
    """
    e = v.real_vector("splittings", splittings, hint=" (single-TLS splittings E_i in K)")
    if np.any(e < 0):
        raise ValueError(f"splittings must be >= 0 (E_i = sqrt(eps_i^2 + Delta_i^2)), got minimum "
                         f"{float(e.min())!r}")
    t = v.positive_array("temperatures", temperatures)
    with np.errstate(over="ignore", invalid="ignore"):
        x = e[None, :] / t[:, None]
        half = 0.5 * x
        return np.sum(np.where(np.isinf(half), 0.0, half / np.cosh(half)) ** 2, axis=1)
