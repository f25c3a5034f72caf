"""numba's on-disk cache of compiled kernels, where numba can keep one.

``numba.njit(cache=True)`` needs a writable ``__pycache__`` beside the source or a writable user
cache folder (``~/.cache/numba``, or ``NUMBA_CACHE_DIR``); with neither, a system-wide install run
by a user whose home is absent or read-only (a batch job, a container) ended every ``run`` in a
traceback, "cannot cache function 'line_kernel': no locator available" (a break test,
session 47). :func:`cached_njit` compiles without the disk cache there: the kernels are then
compiled in each new process (seconds), and the results are the same.

A cache that numba finds but cannot use fails later, when a kernel is first called: another
user's unreadable index file ("Permission denied: ....nbi"), a full ``NUMBA_CACHE_DIR`` ("No space
left on device"), a file-size limit (``ulimit -f``), a truncated or corrupt index (a break test,
session 47). Each ended the run. ``TolerantFunctionCache`` treats any failure to read the cache as
a miss and any failure to write it as not caching, removes an index file it cannot read where it
can, says so once per process (a logged warning naming the cache folder, and NUMBA_CACHE_DIR where
that is the way out), and the kernel is compiled in memory as usual.
"""

from __future__ import annotations

import contextlib
import errno
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_failure_reported = False


def _report_cache_failure(folder: str, exc: BaseException, repaired: bool) -> None:
    """Log, once per process, that numba's disk cache failed (the first failure's message), and
    what was done or can be done about it."""
    global _failure_reported
    if _failure_reported:
        return
    _failure_reported = True
    if repaired:
        way = "its unreadable index file was removed: the next run writes it again"
    else:
        way = ("to keep compiled kernels, set NUMBA_CACHE_DIR to a folder this user can write, "
               "with free space")
    log.warning("numba's disk cache of compiled kernels in %s failed (%s: %s); compiling without "
                "it in this process, the results are the same; %s",
                folder, type(exc).__name__, exc, way)


def _tolerant_cache_class() -> type:
    """numba's ``FunctionCache`` whose reads and writes may fail (see the module's text)."""
    from numba.core.caching import FunctionCache

    class TolerantFunctionCache(FunctionCache):
        """A failure to read the cache is a miss; a failure to write it is no cache. An index
        file that cannot be read, but can be removed (corrupt, truncated, not a file), is
        removed, so that the next compile writes a good one (it had been read, failed and
        recompiled in every run; a second break test, session 48)."""

        @contextlib.contextmanager
        def _guard_against_spurious_io_errors(self) -> Iterator[None]:
            try:
                yield
            except Exception as exc:  # noqa: BLE001 - any failure of the cache, not of the kernel
                _report_cache_failure(str(self._cache_path), exc, self._remove_index(exc))

        def _remove_index(self, exc: BaseException) -> bool:
            if isinstance(exc, PermissionError) or (
                    isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT,
                                                               errno.EFBIG, errno.EROFS)):
                return False  # another user's file, or no room: removing it would not help
            index = Path(self._cache_file._index_path)
            try:
                if index.is_dir() and not index.is_symlink():
                    index.rmdir()
                else:
                    index.unlink()
            except OSError:
                return False
            return True

    return TolerantFunctionCache


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
    disk (:func:`disk_cache`), with a cache whose failures are not the run's (module text), else
    ``numba.njit(cache=False, **options)``."""
    def decorate(function: Callable) -> Any:
        import numba  # heavy: imported by the compiled kernels only

        use_disk = disk_cache(function)
        dispatcher = numba.njit(cache=use_disk, **options)(function)
        if use_disk:
            dispatcher._cache = _tolerant_cache_class()(function)
        return dispatcher

    return decorate
