"""numba's on-disk cache of compiled kernels, where numba can keep one.

``numba.njit(cache=True)`` needs a writable ``__pycache__`` beside the source or a writable user
cache folder (``~/.cache/numba``, or ``NUMBA_CACHE_DIR``); with neither, a system-wide install run
by a user whose home is absent or read-only (a batch job, a container) ended every ``run`` in a
traceback, "cannot cache function 'line_kernel': no locator available" (a break test,
session 47). :func:`cached_njit` compiles without the disk cache there: the kernels are then
compiled in each new process (seconds), and the results are the same.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


def disk_cache(function: Callable) -> bool:
    """Whether numba finds a place to cache ``function``'s compiled code on disk (numba's own
    search: beside the source file, then the user's cache folder)."""
    try:
        from numba.core.caching import FunctionCache
    except ImportError:  # pragma: no cover - another numba layout: let numba decide
        return True
    try:
        FunctionCache(function)
    except RuntimeError as exc:  # "no locator available for file ..."
        log.info("compiling %s without numba's disk cache: %s", function.__name__, exc)
        return False
    return True


def cached_njit(**options: Any) -> Callable[[Callable], Any]:
    """Decorator: ``numba.njit(cache=True, **options)`` where numba can cache the function on
    disk (:func:`disk_cache`), else ``numba.njit(cache=False, **options)``."""
    def decorate(function: Callable) -> Any:
        import numba  # heavy: imported by the compiled kernels only

        return numba.njit(cache=disk_cache(function), **options)(function)

    return decorate
