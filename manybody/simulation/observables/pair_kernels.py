"""The compiled (numba) pair sums of the dense-ED observables: imports numba, so it is loaded
only when first used (:func:`.pair_sum._compiled_pair_sum`, :func:`.absorption._compiled_deposit`).

The kernels are module-level functions that call each other as globals. Defined inside a factory
function, the main kernels held their helpers in their closure, and numba keys the disk cache of
a closure on its pickled closure values, where a compiled function pickles with a random id: every
process compiled the kernels again (~1-3 s) and added a cache file (found in session 13: 215 files
of the pair sum in ``__pycache__``). Constants the callers own (the compact kernels' reach, the
Dawson table, its reach and step) are arguments.
"""

from __future__ import annotations

import math

import numpy as np

from manybody.support.compiled_cache import cached_njit

__all__ = ["deposit", "pair_sum"]

INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)

#: Columns per tile of the deposit for a C-ordered T_mn (their deposit rows stay in cache).
TILE = 32


@cached_njit(nogil=True, error_model="numpy")
def line_kernel(kind, u, eta, reach):
    """Compact (Gaussian, box) or Lorentzian line shape at u (1/K) for kind 0, 1, 2."""
    if kind == 0:
        a = abs(u) / eta
        if a >= reach:
            return 0.0
        return math.exp(-0.5 * a * a) * INV_SQRT_2PI / eta
    if kind == 1:
        return (eta / math.pi) / (u * u + eta * eta)
    return 1.0 / eta if abs(u) < 0.5 * eta else 0.0

@cached_njit(nogil=True, error_model="numpy")
def dispersive_kernel(kind, u, eta, table, reach, step):
    """Principal-value (dispersive) partner of :func:`line_kernel` (1/K). The Gaussian's within
    ``reach`` widths from the Dawson ``table`` (row i: the degree-7 Taylor coefficients of
    r(x) = sqrt(2) dawsn(x / sqrt(2)) about x = i ``step``), beyond from its asymptotic series
    1/u sum_k (2k - 1)!! a^k, a = (eta/u)^2, to k = 5.

    One division per call (the reciprocals of the loop constants eta and step are hoisted): the
    pair sum's cost is these few flops per evaluation.
    """
    if kind == 0:
        inv_eta = 1.0 / eta
        x = abs(u) * inv_eta
        if x >= reach:
            v = 1.0 / u
            a = (eta * v) ** 2
            return (1.0 + a * (1.0 + a * (3.0 + a * (15.0 + a * (105.0 + 945.0 * a))))) * v
        i = int(x * (1.0 / step) + 0.5)
        d = x - i * step
        r = table[i, 0] + d * (table[i, 1] + d * (table[i, 2] + d * (table[i, 3] + d * (
            table[i, 4] + d * (table[i, 5] + d * (table[i, 6] + d * table[i, 7]))))))
        return math.copysign(r, u) * inv_eta
    if kind == 1:
        return u / (u * u + eta * eta)
    return math.log(abs((u + 0.5 * eta) / (u - 0.5 * eta))) / eta

@cached_njit(nogil=True, error_model="numpy")
def pair_sum(energies, tmn, freqs, kind, eta, disp, table, reach, dreach, step, out):
    """Per-state pair sums into ``out`` (D, n_w); see
    :func:`manybody.simulation.observables.pair_sum.exact_per_state`."""
    dim = energies.size
    n_w = freqs.size
    row_major = tmn.strides[1] <= tmn.strides[0]
    lo = 0.0
    hi = np.inf
    compact = not disp and kind != 1
    half = reach * eta if kind == 0 else 0.5 * eta
    # the frequencies in increasing order, for the window of a compact kernel: each pair adds
    # to the frequencies within reach of it only (every frequency was visited, and its kernel
    # evaluated to 0: 400 frequencies made the pair sum 90 % of an N = 10 pipeline; session 33).
    # The window is a hair wider than the kernel's support, whose edge line_kernel decides:
    # the terms are the same, in the same order, as over every frequency.
    order = np.argsort(freqs)
    fs = freqs[order]
    wide = half * (1.0 + 1e-9)
    if compact:  # only |w_mn| within reach of a frequency
        lo = max(0.0, freqs.min() - half)
        hi = freqs.max() + half
    for n in range(dim):
        en = energies[n]
        m0 = max(n + 1, np.searchsorted(energies, en + lo))
        for m in range(m0, dim):
            om = energies[m] - en
            if om > hi:
                break
            if om == 0.0:
                continue
            t = np.float64(tmn[n, m]) if row_major else np.float64(tmn[m, n])
            t2 = t * t
            if t2 == 0.0:
                continue
            if compact:
                # [j0, j1): w - om within reach (and w + om, if also); [0, j2): w + om only
                # (small w_mn); each frequency once
                j0 = np.searchsorted(fs, om - wide)
                j1 = np.searchsorted(fs, om + wide, side="right")
                j2 = min(np.searchsorted(fs, wide - om, side="right"), j0)
                for part in range(2):
                    for j in range(j0 if part == 0 else 0, j1 if part == 0 else j2):
                        k = order[j]
                        w = fs[j]
                        g = line_kernel(kind, w - om, eta, reach) - line_kernel(kind, w + om,
                                                                                eta, reach)
                        out[n, k] += t2 * g
                        out[m, k] -= t2 * g
                continue
            for k in range(n_w):
                w = freqs[k]
                if disp:
                    g = (dispersive_kernel(kind, om - w, eta, table, dreach, step)
                         + dispersive_kernel(kind, om + w, eta, table, dreach, step))
                else:
                    g = line_kernel(kind, w - om, eta, reach) - line_kernel(kind, w + om, eta, reach)
                out[n, k] += t2 * g
                out[m, k] -= t2 * g


@cached_njit(nogil=True)
def locate(om, nodes, inv_gap, table, scale, origin):
    """Tent coordinates (k, f) of om on the sorted grid ``nodes`` (see
    :class:`manybody.simulation.observables.absorption._NodeLocator`)."""
    last = nodes.size - 2
    c = int((om - origin) * scale)
    c = min(max(c, 0), table.size - 1)
    k = table[c]
    while k < last and om >= nodes[k + 1]:
        k += 1
    f = (om - nodes[k]) * inv_gap[k]
    return k, min(max(f, 0.0), 1.0)

@cached_njit(nogil=True)
def add_pair(out, n, om, t, nodes, inv_gap, table, scale, origin):
    """Deposit sign(w_mn) |T_mn|^2 of one pair at |w_mn| on row n (tent weights)."""
    w = t * t
    if om < 0.0:
        w, om = -w, -om
    k, f = locate(om, nodes, inv_gap, table, scale, origin)
    out[n, k] += w - w * f
    out[n, k + 1] += w * f

@cached_njit(nogil=True)
def deposit(energies, tmn, nodes, inv_gap, table, scale, origin, out):
    """All pairs' deposits into ``out`` (D, n_nodes); see
    :func:`manybody.simulation.observables.absorption.pair_spectrum`, which calls it."""
    dim = energies.size
    if tmn.strides[0] < tmn.strides[1]:  # column-major: walk down each column n
        for n in range(dim):
            en = energies[n]
            for m in range(dim):
                om = energies[m] - en
                if om != 0.0:
                    add_pair(out, n, om, np.float64(tmn[m, n]), nodes, inv_gap, table,
                             scale, origin)
    else:  # row-major: tiles of columns, rows m outer
        for n0 in range(0, dim, TILE):
            n1 = min(dim, n0 + TILE)
            for m in range(dim):
                em = energies[m]
                for n in range(n0, n1):
                    om = em - energies[n]
                    if om != 0.0:
                        add_pair(out, n, om, np.float64(tmn[m, n]), nodes, inv_gap, table,
                                 scale, origin)
