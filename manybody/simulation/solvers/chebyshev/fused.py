"""The bookkeeping of one Chebyshev step on the matrix-free path, in one pass over the vectors.

After each step of :func:`.moments.correlation_moments` the new block X_k (D, b) is needed three ways:
its dot products with itself, with X_k-1 and with the probe blocks (the one-operator and probe
moments), and a float32 (or float64) copy of (T - c) X_k, transposed, as row k of the bank that
the GEMM contracts. Done by numpy these are separate passes (an einsum per dot, a row scaling, a
subtraction and a transposing cast), each allocating a (D, b) temporary: measured at N = 16 with 4
vectors they took 20 s of a 51 s solve, more than the products of H. :func:`record` does them in
one parallel pass without temporaries.

Same numbers as the numpy path: the stress row is t_r x - c x in float64 and then cast (numpy's
order of operations); the dots are summed in float64, per chunk of rows in 8-row partial sums,
and the chunks added in a fixed order, so they do not depend on the number of threads (they differ
from numpy's summation order only in the last bits). Measured with 4 float32 vectors and 2
threads, the partial sums made the pass 1.5x (N = 16) and 2.3x (N = 20) faster than one running
sum per column.
"""

from __future__ import annotations

import functools

import numpy as np

from manybody.simulation.solvers.chebyshev.compiled import compile_variant

__all__ = ["record", "store"]

#: Rows per parallel chunk of the dots.
_ROWS = 4096

#: Rows whose entries are summed into separate partial dots (so the dot loop vectorises).
_LANES = 8


def record(new: np.ndarray, bank_row: np.ndarray, *, current: np.ndarray | None = None,
           probes: np.ndarray | None = None, stress: np.ndarray | None = None,
           shift: float = 0.0) -> np.ndarray:
    """Store (T - c) X (or X) into a bank row and return the column dot products of X.

    Parameters
    ----------
    new : numpy.ndarray
        X, shape (D, b), float64, C-contiguous.
    bank_row : numpy.ndarray
        Shape (b, D), float32 or float64 (a view into the bank): receives t_r X_rj - c X_rj with
        ``stress`` t (K per unit strain), or X_rj without it, cast to its dtype.
    current : numpy.ndarray, optional
        X_k-1, shape (D, b): adds the dots <X, X_k-1>.
    probes : numpy.ndarray, optional
        Shape (n_p, D, b): adds the dots <X, U_q> for each probe block (the first in the same
        pass, any further ones by numpy).
    stress : numpy.ndarray, optional
        Diagonal t of T, shape (D,), float64.
    shift : float
        c (K per unit strain).

    Returns
    -------
    numpy.ndarray
        Shape (2 + n_p, b), float64: <X, X>, <X, X_k-1> (0 without ``current``), <X, U_q>.

    Raises
    ------
    ValueError
        When the shapes do not match.
    """
    width = _row_width(new, bank_row)
    n_probes = 0 if probes is None else probes.shape[0]
    first = new if n_probes == 0 else probes[0]
    kernel = _record_kernel(width, current is not None, n_probes > 0, stress is not None)
    flat = np.ascontiguousarray(new).reshape(-1)
    dots = kernel(flat, bank_row, flat if current is None else
                  np.ascontiguousarray(current).reshape(-1), np.ascontiguousarray(first).reshape(-1),
                  new[:, 0] if stress is None else stress, float(shift))
    if n_probes > 1:
        extra = [np.einsum("ij,ij->j", new, u, dtype=np.float64) for u in probes[1:]]
        dots = np.concatenate([dots, np.stack(extra)])
    return dots


def store(new: np.ndarray, bank_row: np.ndarray, *, stress: np.ndarray | None = None,
          shift: float = 0.0) -> None:
    """Store X (D, b), or t_r X_rj - c X_rj with a ``stress`` diagonal t (as :func:`record`),
    transposed into a bank row (b, D), cast to its dtype: :func:`record` without the dots, for
    the l-recursion, whose dots nobody reads (session 14: the dots were half of the pass,
    0.21-0.27 against 0.09-0.12 ms at N = 16 with 4 vectors).

    Raises
    ------
    ValueError
        When the shapes do not match.
    """
    kernel = _store_kernel(_row_width(new, bank_row), stress is not None)
    kernel(np.ascontiguousarray(new).reshape(-1), bank_row,
           new[:, 0] if stress is None else stress, float(shift))


def _row_width(new: np.ndarray, bank_row: np.ndarray) -> int:
    """The block width b of X (D, b), or ValueError unless the bank row is (b, D)."""
    dim, width = new.shape
    if bank_row.shape != (width, dim):
        raise ValueError(f"bank_row must have shape ({width}, {dim}), got {bank_row.shape}")
    return width


@functools.cache
def _store_kernel(width: int, scale_rows: bool = False):
    """Compiled transposing store for one block width (a compile-time constant), optionally of
    the rows scaled by t_r - c (computed t_r x - c x in float64, as :func:`record`)."""
    import numba  # core dependency, heavy: compiled only when first used

    rows_per_chunk = _ROWS

    def store_rows(new, bank, stress, shift):
        dim = bank.shape[1]
        for c in numba.prange((dim + rows_per_chunk - 1) // rows_per_chunk):
            for r in range(c * rows_per_chunk, min(dim, (c + 1) * rows_per_chunk)):
                t = stress[r] if scale_rows else 0.0
                for j in range(width):
                    value = new[r * width + j]
                    if scale_rows:
                        bank[j, r] = t * value - shift * value
                    else:
                        bank[j, r] = value

    return compile_variant(store_rows, width=width, scale=scale_rows)


@functools.cache
def _record_kernel(width: int, with_current: bool, with_probe: bool, scale_rows: bool):
    """Compiled pass for one block width and combination of the optional parts (compile-time
    constants: with the width a runtime value the pass was 1.6x slower at N = 16).

    The dots run over the flattened rows with ``_LANES`` x width partial sums (entry e of a
    chunk adds into partial e mod (``_LANES`` width), so the loop vectorises), then the lanes of
    each column are added in order, then the chunks in order: a fixed order, the same sums for
    any number of threads. The bank rows are stored in a second loop over the chunk (in cache).
    """
    import numba  # core dependency, heavy: compiled only when first used

    rows_per_chunk = _ROWS
    n_out = 2 + int(with_probe)
    lanes = _LANES * width

    def record_rows(new, bank, current, probe, stress, shift):
        dim = bank.shape[1]
        n_chunks = (dim + rows_per_chunk - 1) // rows_per_chunk
        parts = np.zeros((n_chunks, n_out, width))
        for c in numba.prange(n_chunks):
            first = c * rows_per_chunk
            stop = min(dim, first + rows_per_chunk)
            square = np.zeros(lanes)
            along = np.zeros(lanes)
            onto = np.zeros(lanes)
            x = new[first * width:stop * width]
            y = current[first * width:stop * width]
            u = probe[first * width:stop * width]
            full = x.size - x.size % lanes
            for k0 in range(0, full, lanes):  # a compile-time trip count (session 15: up to
                for e in range(lanes):  # 1.15x faster than a runtime one), then the remainder
                    v = np.float64(x[k0 + e])
                    square[e] += v * v
                    if with_current:
                        along[e] += v * y[k0 + e]
                    if with_probe:
                        onto[e] += v * u[k0 + e]
            # the remainder repeats the body: a compiled helper in this closure would defeat
            # numba's disk cache (README, session 13), a module-level one import numba with the
            # solver registry
            for e in range(x.size - full):
                v = np.float64(x[full + e])
                square[e] += v * v
                if with_current:
                    along[e] += v * y[full + e]
                if with_probe:
                    onto[e] += v * u[full + e]
            for j in range(width):
                for lane in range(j, lanes, width):
                    parts[c, 0, j] += square[lane]
                    parts[c, 1, j] += along[lane]
                    if with_probe:
                        parts[c, 2, j] += onto[lane]
            for r in range(first, stop):
                t = stress[r] if scale_rows else 0.0
                for j in range(width):
                    value = new[r * width + j]
                    if scale_rows:
                        bank[j, r] = t * value - shift * value
                    else:
                        bank[j, r] = value
        dots = np.zeros((n_out, width))
        for c in range(n_chunks):  # fixed order: the same sums for any number of threads
            for q in range(n_out):  # explicit loops: numba's parfor pass fails on an in-place
                for j in range(width):  # array += of width 1 (measured)
                    dots[q, j] += parts[c, q, j]
        return dots

    return compile_variant(record_rows, width=width, current=with_current, probe=with_probe,
                           scale=scale_rows)
