"""The GEMMs of the moment recursions, cut into fixed tasks and run on a pool of Python threads
with single-threaded BLAS.

Why not OpenBLAS's own threads: after each call its worker threads spin for ~0.1 s
(OPENBLAS_THREAD_TIMEOUT, 2^28 cycles by default) waiting for more work. The recursions call a
GEMM every few dozen Chebyshev steps, so on a 2-core machine a spinning BLAS thread shared the
cores with the compiled steps all the time: measured in session 13 at N = 14 (4 vectors, 2
threads), the steps and their bookkeeping took 1.5-1.7x as long inside a solve as with
OPENBLAS_NUM_THREADS=1. Threads of :class:`concurrent.futures.ThreadPoolExecutor` sleep between
tasks, and numpy releases the GIL inside a GEMM.

The cut is fixed (per vector of the block, and in blocks of D, the long dimension of both GEMMs:
its columns when D is the output's, its sum when D is summed over), never chosen from the number
of threads, and each task is one single-threaded GEMM: the numbers do not depend on how many
threads run them. The caller limits BLAS to one thread for the
duration (:func:`manybody.support.threads.blas_threads`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["INNER_PER_TASK", "inner_block", "matmul_columns", "matmul_inner", "run_tasks"]

#: Entries of the inner (summed) dimension per task of :func:`matmul_inner`, at least; a fixed
#: cut of D (never the number of threads) so the partial sums, added in order, are the same
#: for any number of threads.
INNER_PER_TASK = 1 << 14


_POOLS: dict[tuple[int, int], ThreadPoolExecutor] = {}


def _pool(threads: int) -> ThreadPoolExecutor:
    """The pool of this process with ``threads`` threads (a process forked from one that had a
    pool gets its own: the parent's threads do not exist in the child, and work handed to the
    inherited pool would wait forever)."""
    key = (os.getpid(), threads)
    if key not in _POOLS:
        _POOLS[key] = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="manybody-gemm")
    return _POOLS[key]


def run_tasks(tasks: Sequence[Callable[[], None]], threads: int = 1) -> None:
    """Run callables that write disjoint outputs: in order on this thread when ``threads`` is 1
    (or there is one task), else on a pool of ``threads`` threads; waits for all and re-raises the
    first error."""
    if threads <= 1 or len(tasks) <= 1:
        for task in tasks:
            task()
        return
    for future in [_pool(int(threads)).submit(task) for task in tasks]:
        future.result()


def inner_block(inner: int) -> int:
    """Entries of the summed dimension per task: D / 8 for large D, at least
    :data:`INNER_PER_TASK` (a function of D only)."""
    return max(INNER_PER_TASK, inner >> 3)


def matmul_inner(left: np.ndarray, right: np.ndarray, out: np.ndarray, threads: int = 1) -> None:
    """out[i] = left[i] @ right[i] with a long inner dimension (the vectors' D), in tasks over
    blocks of it whose partial products are added in order (in float64).

    Each task reads its own part of both factors once (a cut of the rows or columns of a factor
    would have every task read all of the other one, several times the memory traffic).

    Parameters
    ----------
    left : numpy.ndarray
        Shape (n, R, K).
    right : numpy.ndarray
        Shape (n, K, C) (any strides numpy's matmul takes, e.g. a transposed view).
    out : numpy.ndarray
        Shape (n, R, C), written in place (any real dtype; the sum is formed in float64).
    threads : int
        Threads to run the tasks on (:func:`run_tasks`).
    """
    n, rows, cols = out.shape
    inner = left.shape[-1]
    block = inner_block(inner)
    starts = range(0, inner, block)
    partial = np.empty((n, len(starts), rows, cols), dtype=np.result_type(left, right))

    def task(i: int, b: int, k0: int) -> Callable[[], None]:
        k = slice(k0, k0 + block)
        return lambda: np.matmul(left[i, :, k], right[i, k, :], out=partial[i, b])

    run_tasks([task(i, b, k0) for i in range(n) for b, k0 in enumerate(starts)], threads)
    total = partial[:, 0].astype(np.float64)
    for b in range(1, len(starts)):
        total += partial[:, b]
    out[...] = total


def matmul_columns(left: np.ndarray, right: np.ndarray, out: np.ndarray, columns: int,
                   threads: int = 1, accumulate: bool = False) -> None:
    """out[i] = left @ right[i] (or += with ``accumulate``) for a shared left factor and long
    rows of the right one (D), in tasks of ``columns`` columns: each task reads its own columns of
    the right factor and writes its own of the output (a temporary of (R, columns) when
    accumulating).

    Parameters
    ----------
    left : numpy.ndarray
        Shape (R, K).
    right : numpy.ndarray
        Shape (n, K, C).
    out : numpy.ndarray
        Shape (n, R, C), written (or added to) in place.
    columns : int
        Columns per task.
    threads : int
        Threads to run the tasks on (:func:`run_tasks`).
    accumulate : bool
        Add to ``out`` instead of overwriting it.
    """
    n, _, width = out.shape

    def task(i: int, c0: int) -> Callable[[], None]:
        cols = slice(c0, c0 + columns)

        def run() -> None:
            if accumulate:
                out[i, :, cols] += left @ right[i, :, cols]
            else:
                np.matmul(left, right[i, :, cols], out=out[i, :, cols])
        return run

    run_tasks([task(i, c0) for i in range(n) for c0 in range(0, width, columns)], threads)
