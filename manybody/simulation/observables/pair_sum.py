"""Exact pair sums for the golden-rule absorption and the resonant velocity shift.

Per-state terms (PHYSICS.md sections 2-3, notation of :mod:`manybody.simulation.observables.absorption`)

    F_n(w) = sum_m |T_mn|^2 [K(w - w_mn) - K(w + w_mn)],
    H_n(w) = sum_m |T_mn|^2 [R(w_mn - w) + R(w_mn + w)],   w_mn = E_m - E_n,

evaluated with the kernel on every pair (no frequency grid). Both brackets are odd in w_mn, so each
unordered pair (n < m in ascending energy) is visited once, adding +g to row n and -g to row m.

Accuracy: the Gaussian K is cut at 12 widths (exp(-72) ~ 5e-32 of its peak); the Gaussian R
(the broadened principal value, sqrt(2)/eta * dawsn(u / (sqrt(2) eta))) comes within 40 widths from
a table of degree-7 Taylor polynomials about nodes 0.05 width apart (coefficients from scipy's dawsn
and the recurrence of r' = 1 - x r) and beyond from its asymptotic series 1/u sum_k (2k-1)!! a^k,
a = (eta/u)^2, to k = 5 (first omitted term 3e-16 relative): R is within 2e-14 relative of scipy's
(measured 1.6e-14 on u/eta in [0, 1000]; the former Hermite table to 12 widths and five-term series
were 1.6e-8). Lorentzian and histogram kernels are evaluated in closed form. So the result equals
the direct evaluation with scipy's kernels to rounding (measured ~1e-15 of max |H_n| at D = 64-256;
tested to 1e-11); the numpy path below evaluates the scipy kernels themselves.

Cost: absorptive sums over compact kernels visit only the pairs with |w_mn| within 12 widths of a
requested frequency (binary search per state); Lorentzian and dispersive sums visit all D(D-1)/2
pairs, n_w kernel evaluations each (a few ns per evaluation compiled with numba). Without numba a
numpy loop over column blocks gives the same sums (O(D^2 n_w) memory-bounded temporaries).
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy.special import dawsn

#: Half range of the compact kernels (in widths); matches manybody.simulation.observables.absorption._REACH.
REACH = 12.0
#: Half range (in widths) of the Dawson table of the Gaussian's dispersive kernel; beyond it the
#: asymptotic series to a^5 (first omitted term 10395 a^6 = 3e-16 relative at 40 widths).
DISPERSIVE_REACH = 40.0
#: Step (in widths) between the Dawson table's nodes and the degree of its Taylor polynomials
#: (fixed in :func:`.pair_kernels.dispersive_kernel`): error < 2e-14 relative (tested).
_TABLE_STEP = 0.05
_TABLE_DEGREE = 7
_KINDS = {"gaussian": 0, "lorentzian": 1, "histogram": 2}


def exact_per_state(energies: np.ndarray, stress_elements: np.ndarray, frequencies: np.ndarray,
                    broadening, dispersive: bool) -> np.ndarray:
    """F_n(w) (``dispersive=False``) or H_n(w) (``dispersive=True``), shape (D, n_w).

    Parameters
    ----------
    energies : numpy.ndarray
        E_n (K), shape (D,), any order.
    stress_elements : numpy.ndarray
        T_mn (K per unit strain), (D, D), real symmetric (float32 or float64; squared in float64).
    frequencies : numpy.ndarray
        w (K), shape (n_w,), > 0.
    broadening : manybody.config.probe.Broadening
        Kernel kind and width eta (K).
    dispersive : bool
        Sum R (Re chi) instead of K (Q).

    Returns
    -------
    numpy.ndarray
        Per-state sums in units of T^2 / K, shape (D, n_w), rows in the order of ``energies``.
    """
    energies = np.asarray(energies, dtype=np.float64)
    frequencies = np.asarray(frequencies, dtype=np.float64)
    kernel = _compiled_pair_sum()
    if kernel is None or not _USE_COMPILED:
        return _numpy_per_state(energies, stress_elements, frequencies, broadening, dispersive)
    order = None
    if np.any(np.diff(energies) < 0):
        order = np.argsort(energies, kind="stable")
        energies = energies[order]
        stress_elements = np.asarray(stress_elements)[np.ix_(order, order)]
    out = np.zeros((energies.size, frequencies.size))
    kernel(energies, stress_elements, frequencies, _KINDS[broadening.kind],
           float(broadening.width), bool(dispersive), _dawson_table(), REACH, DISPERSIVE_REACH,
           _TABLE_STEP, out)
    if order is not None:
        unsorted = np.empty_like(out)
        unsorted[order] = out
        out = unsorted
    return out


#: Use the compiled pair sum when numba is importable (QuSpin depends on it).
_USE_COMPILED = True


def _numpy_per_state(energies, stress_elements, frequencies, broadening, dispersive, chunk=256):
    """Direct evaluation on all ordered pairs with the Broadening's own (scipy) kernels."""
    dim = energies.size
    out = np.zeros((dim, frequencies.size))
    for start in range(0, dim, chunk):
        stop = min(dim, start + chunk)
        omega = energies[:, None, None] - energies[None, start:stop, None]  # (m, n, 1)
        weight = np.square(stress_elements[:, start:stop], dtype=np.float64)[:, :, None]
        w = frequencies[None, None, :]
        if dispersive:
            f = broadening.dispersive(omega - w) + broadening.dispersive(omega + w)
            f[np.broadcast_to(omega == 0.0, f.shape)] = 0.0  # R(-w) + R(w) = 0 exactly
        else:
            f = broadening.kernel(w - omega) - broadening.kernel(w + omega)
        out[start:stop] = np.sum(weight * f, axis=0)
    return out


@functools.lru_cache(maxsize=1)
def _dawson_table() -> np.ndarray:
    """Taylor coefficients c_k (row i, column k) of r(x) = sqrt(2) dawsn(x / sqrt(2)) about the
    nodes x_i = i step, i = 0 ... DISPERSIVE_REACH / step + 1, to degree _TABLE_DEGREE.

    From r' = 1 - x r: (k + 1) c_{k+1} = [k == 0] - x_i c_k - c_{k-1}. The node at 0 gives
    c_0 = 0 exactly, so r keeps its full relative accuracy near 0 (odd, r ~ x).
    """
    x = np.arange(int(round(DISPERSIVE_REACH / _TABLE_STEP)) + 2) * _TABLE_STEP
    c = np.zeros((x.size, _TABLE_DEGREE + 1))
    c[:, 0] = math.sqrt(2.0) * dawsn(x / math.sqrt(2.0))
    c[:, 1] = 1.0 - x * c[:, 0]
    for k in range(1, _TABLE_DEGREE):
        c[:, k + 1] = -(x * c[:, k] + c[:, k - 1]) / (k + 1)
    return c


@functools.lru_cache(maxsize=1)
def _compiled_pair_sum():
    """The pair sum as a numba kernel (:func:`.pair_kernels.pair_sum`), or None without numba."""
    try:
        from manybody.simulation.observables import pair_kernels
    except ImportError:  # pragma: no cover - numba comes with QuSpin
        return None
    return pair_kernels.pair_sum
