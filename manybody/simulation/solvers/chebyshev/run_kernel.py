"""The compiled product of a matrix-free H whose flip weights do not depend on z (imports numba:
loaded by :meth:`.matrix_free.MatrixFreeOperator._run_setup` on first use).

Every flip mask m of such an H (Delta_i s^x_i, s^x s^x couplings; the standard TLS families) has
one weight w_m, so Y = alpha ((d - shift) X + sum_m w_m X[r ^ m]) - P for a C-order (D, width)
block X. The inner loops are module-level functions inlined into the product, so the product's
closure holds only integers and tuples of integers: numba keys its on-disk cache on the closure
values, and a compiled function held in a closure pickles with a random identifier, which made
every process compile the kernel again (~3 s) and add a cache file (found in session 13: 344
files of one kernel in ``__pycache__``).
"""

from __future__ import annotations

import functools

import numba
import numpy as np

from manybody.simulation.solvers.chebyshev.compiled import compile_variant

__all__ = ["run_kernel"]


@numba.njit(inline="always")
def _add4(t, x0, x1, x2, x3, w0, w1, w2, w3, span):
    """t[k] += w0 x0[k] + w1 x1[k] + w2 x2[k] + w3 x3[k] in this order, k < span."""
    for k in range(span):
        v = t[k]
        v += w0 * x0[k]
        v += w1 * x1[k]
        v += w2 * x2[k]
        v += w3 * x3[k]
        t[k] = v


@numba.njit(inline="always")
def _add1(t, x0, w0, span):
    """t[k] += w0 x0[k], k < span."""
    for k in range(span):
        t[k] += w0 * x0[k]


@numba.njit(inline="always")
def _tile_pass(source, target, diag, first_row, offset, shift, weights, tile, width, low, n_low):
    """target = (d - shift) x, then + w_g x[a ^ low[g]] for each mask below the tile in
    increasing order, on one tile of ``tile`` rows starting at flat ``offset`` (a multiple of
    ``width``). One loop per mask with the width's columns innermost, so the compiler vectorises
    them (with the masks innermost, as before session 13, it did not: this pass cost more than all
    other masks together at N = 16, 1.1 against 0.7 ms a step)."""
    row = first_row + offset // width
    for a in range(tile):
        d = diag[row + a] - shift
        for j in range(width):
            target[offset + a * width + j] = d * source[offset + a * width + j]
    for g in range(n_low):
        weight = weights[g]
        for a in range(tile):
            s = offset + (a ^ low[g]) * width
            for j in range(width):
                target[offset + a * width + j] += weight * source[s + j]


@functools.cache
def run_kernel(width: int, tile: int, low: tuple[int, ...]):
    """Compiled fused product for H without z-dependent flip weights.

    Rows are processed in chunks (a power of two, :func:`.matrix_free._run_chunk`) with one
    float64 accumulator per thread. For a mask m the rows of an aligned run of length m & -m (its
    lowest set bit) map to a contiguous run r ^ m, so each term is a contiguous multiply-add over
    run x width entries of the flattened block, which the compiler vectorises (the per-row
    gather of :func:`.matrix_free._product_kernel` it does not). The masks below ``tile`` rows
    (``low``, compile-time constants: the single flips of the lowest sites, runs of 1-4 rows) are
    summed with the diagonal term in a first pass over each tile (:func:`_tile_pass`); the other
    masks are added four at a time in one pass over the accumulator. Every entry sums the
    diagonal term and then the masks one by one in increasing order, the order of
    :func:`.matrix_free._product_kernel`, in float64, and each chunk is computed by one thread the
    same way, so the result is the same to the last bit for any number of threads and either
    kernel. Measured with 4 vectors and 2 threads (results/bench/matrix_free.json, "apply"): see
    the README's large-N section.

    Parameters
    ----------
    width : int
        Columns b of the block (a compile-time constant).
    tile : int
        Rows per tile of the first pass (a power of two, at most D).
    low : tuple of int
        The flip masks below ``tile``, increasing (the first len(low) masks of the operator).
    """
    n_low = len(low)
    low = low or (0,)  # an empty tuple has no item type; the loops over it run n_low = 0 times

    # cached on disk per (width, tile, low): numba keys the cache on the closure values, and
    # each variant has a name of its own (.compiled)
    def product(x, out, diag, alpha, shift, prev, subtract, masks, weights, chunk, threads):
        dim = diag.size
        n_chunks = (dim + chunk - 1) // chunk
        per_thread = (n_chunks + threads - 1) // threads
        for thread in numba.prange(threads):
            acc = np.empty(chunk * width)
            for c in range(thread * per_thread, min(n_chunks, (thread + 1) * per_thread)):
                first_row = c * chunk
                rows = min(dim, first_row + chunk) - first_row
                block = x[first_row * width:(first_row + rows) * width]
                for t0 in range(0, rows, tile):  # diagonal and masks below the tile
                    _tile_pass(block, acc, diag, first_row, t0 * width, shift, weights, tile,
                               width, low, n_low)
                g = n_low
                while g < masks.size:  # the other masks, four per pass (then one by one)
                    q = 4 if g + 4 <= masks.size else 1
                    run = rows
                    for h in range(g, g + q):
                        run = min(run, masks[h] & -masks[h])
                    span = run * width
                    for start in range(0, rows, run):
                        row = first_row + start
                        t = acc[start * width:start * width + span]
                        s0 = (row ^ masks[g]) * width
                        if q == 4:
                            s1 = (row ^ masks[g + 1]) * width
                            s2 = (row ^ masks[g + 2]) * width
                            s3 = (row ^ masks[g + 3]) * width
                            _add4(t, x[s0:s0 + span], x[s1:s1 + span], x[s2:s2 + span],
                                  x[s3:s3 + span], weights[g], weights[g + 1], weights[g + 2],
                                  weights[g + 3], span)
                        else:
                            _add1(t, x[s0:s0 + span], weights[g], span)
                    g += q
                base = first_row * width
                target = out[base:base + rows * width]
                if subtract:
                    before = prev[base:base + rows * width]
                    for k in range(rows * width):
                        target[k] = alpha * acc[k] - before[k]
                else:
                    for k in range(rows * width):
                        target[k] = alpha * acc[k]

    return compile_variant(product, width=width, tile=tile, low=low[:n_low])
