"""Giving the C heap's freed memory back to the operating system (glibc's ``malloc_trim``).

Why (session 21): joblib's loky pool restarts a worker whose resident memory after a task exceeds
what it was after its first task by 300 MB (its leak protection), warning "A worker stopped while
some jobs were given to the executor". A Chebyshev solve frees all it allocates, but glibc keeps
freed arrays of up to 32 MB on its heap (its mmap threshold rises to the size of the largest
chunk freed), and the heap fragments: in a loky worker solving 120 realisations of the study's
N = 12 model one after the other, the resident memory after a task rose to 290 MB over the first
task's, with no kept workspace at that moment; with ``malloc_trim(0)`` after each task the
largest excess was 115 MB (kept workspace included). :func:`manybody.runs.tasks.run_task` calls
:func:`return_freed_memory` after each task of a worker process.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

__all__ = ["return_freed_memory"]


@functools.cache
def _trim():
    """glibc's malloc_trim, or None where the C library has none (macOS, musl)."""
    name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None)
    except OSError:
        return None


def return_freed_memory() -> bool:
    """Return the C heap's free pages to the operating system; False where that is not possible.

    A few ms after a solve; the memory in use is not touched.
    """
    trim = _trim()
    if trim is None:
        return False
    trim(0)
    return True
