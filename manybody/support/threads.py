"""BLAS/OpenMP thread control through one cached threadpoolctl controller per process.

Library code limits threads only inside a context (:func:`blas_threads`), never globally.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

_USABLE: bool | None = None

#: The most threads numba's parallel kernels may use in this context (:func:`compiled_threads`);
#: None: as numba is configured.
_COMPILED_LIMIT: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "manybody_compiled_thread_limit", default=None)


def thread_controller(openmp: bool = True) -> Any:
    """A threadpoolctl controller of the thread pools loaded now (scipy's BLAS, and with
    ``openmp`` QuSpin's OpenMP runtime, are loaded first), or None where threadpoolctl cannot
    work.

    Made afresh on each call (~1 ms): a controller kept from an earlier call does not see a pool
    loaded since (an OpenMP runtime loaded by a compiled kernel), which then ran unlimited -- a
    fresh-clone CI caught it in test_blas_threads_capped_during_run_and_restored.

    Parameters
    ----------
    openmp : bool
        Load QuSpin's OpenMP runtime first (importing QuSpin: about 0.5 s in a new process), so
        that a limit set now also holds for QuSpin's kernels run later under it. A limit of BLAS
        pools alone (:func:`blas_threads`' default) does not need it: a Chebyshev solve of the
        matrix-free path, which never imports QuSpin, paid that import in every new process
        (session 23: 0.5-0.6 s of a 6 s first solve at N = 16).
    """
    global _USABLE
    if _USABLE is False:
        return None
    try:
        import scipy.linalg  # noqa: F401  (loads scipy's BLAS)
        from threadpoolctl import ThreadpoolController

        if openmp:
            # a QuSpin that cannot be imported (absent, or broken: e.g. an old one under numpy 2
            # raises AttributeError) loads no OpenMP runtime to limit; thread control of the
            # other pools goes on (before session 23 such an error switched it off for good)
            with contextlib.suppress(Exception):
                import quspin.operators  # noqa: F401  (loads its OpenMP runtime)
        controller = ThreadpoolController()
    except Exception:  # noqa: BLE001 - thread control is an optimisation only
        _USABLE = False
        return None
    _USABLE = True
    return controller


@contextlib.contextmanager
def blas_threads(limit: int | None, user_api: str | None = "blas") -> Iterator[None]:
    """Limit BLAS (or, with ``user_api=None``, BLAS and OpenMP) threads to ``limit`` inside the
    block; ``None`` leaves them as configured."""
    controller = (thread_controller(openmp=user_api != "blas") if limit is not None
                  else None)
    if controller is None:
        yield
        return
    with controller.limit(limits=int(limit), user_api=user_api):
        yield


@contextlib.contextmanager
def compiled_threads(limit: int | None) -> Iterator[None]:
    """Hold numba's parallel kernels, wherever they run inside the block, to at most ``limit``
    threads (``None``: no limit of this block), without importing numba.

    A sweep run in the calling process (``--jobs 1``) sets it to its ``blas_threads``, as loky
    does for its workers through ``NUMBA_NUM_THREADS``: before session 24 the matrix-free kernels
    of such a run took every core whatever ``--blas-threads`` said, and on a machine where another
    process held a core each of their parallel regions waited for a time slice (a new user's
    N = 13 run: 4.3 s on one thread, 29-88 s on two). Every compiled solve runs inside
    :func:`numba_threads`, which applies the limit.
    """
    token = _COMPILED_LIMIT.set(None if limit is None else max(1, int(limit)))
    try:
        yield
    finally:
        _COMPILED_LIMIT.reset(token)


@contextlib.contextmanager
def numba_threads(limit: int | None) -> Iterator[None]:
    """Run numba's parallel kernels on at most ``limit`` threads inside the block (this thread's
    setting, restored after), and on at most the limit of an enclosing :func:`compiled_threads`;
    ``None`` with no such limit leaves them as configured. Imports numba (a core dependency,
    heavy) where there is a limit: call it only where compiled kernels run anyway."""
    outer = _COMPILED_LIMIT.get()
    if limit is None or (outer is not None and outer < limit):
        limit = outer
    if limit is None:
        yield
        return
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(limit), before)))
    try:
        yield
    finally:
        numba.set_num_threads(before)


def blas_thread_count() -> int:
    """Threads the BLAS libraries loaded now would use (the largest of their settings; 1 where
    threadpoolctl cannot tell)."""
    controller = thread_controller(openmp=False)  # BLAS pools only: QuSpin's import not needed
    if controller is None:
        return 1
    counts = [int(p.num_threads) for p in controller.lib_controllers if p.user_api == "blas"]
    return max(counts, default=1)
