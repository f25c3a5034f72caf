"""Compiling the variants of a kernel closure under names of their own (imports numba only when
called).

The compiled kernels of the Chebyshev solver are closures over compile-time constants (a block's
width, which optional parts a pass has), cached on disk by numba where it can (``cached_njit``),
which keys the cache on the closure's values. Every variant of one closure has the same qualified name, and
numba names a compiled function and its environment by that name, a counter of the process that
compiled it and the argument types. Two variants with the same argument types, compiled in two
processes whose counters happened to agree and both loaded from the cache into a third, then
share one environment name: found in session 22 when a solve with a stress-scaled record pass
(block width 1) and then one without it in the same test process failed with numba's
"In 'NRT_adapt_ndarray_to_python', 'descr' is NULL" (numba issues 6093 and 6130 are of this
family). Naming each variant after its constants keeps the names apart whatever the counters.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from manybody.support.compiled_cache import cached_njit

__all__ = ["compile_variant", "kernels_cached"]

#: About how long the first Chebyshev solve in a new checkout compiles its kernels (2 cores).
COMPILE_SECONDS = "20-30 s"


def kernels_cached() -> bool:
    """Whether numba's disk cache holds compiled run kernels of this package (in the package's
    ``__pycache__`` or under ``NUMBA_CACHE_DIR``): False in a new checkout, where the first solve
    spends :data:`COMPILE_SECONDS` compiling before its first product (the progress bar showed
    27 s per realisation, then 0.5 s, without a word; a new user, session 37). A cache numba
    keeps elsewhere (a read-only package) is not seen: then this says False though the kernels
    may be cached."""
    places = [Path(__file__).parent / "__pycache__"]
    if os.environ.get("NUMBA_CACHE_DIR"):
        places.append(Path(os.environ["NUMBA_CACHE_DIR"]))
    for place in places:
        if place.is_dir() and next(place.rglob("run_kernel*.nbi"), None) is not None:
            return True
    return False


def compile_variant(function: Callable, **constants) -> Callable:
    """``numba.njit(parallel=True)`` of ``function`` renamed after ``constants``, cached on disk
    where numba can (:func:`manybody.support.compiled_cache.cached_njit`).

    Parameters
    ----------
    function : callable
        A Python function (a closure over the constants), not yet compiled.
    **constants : int, bool or tuple of int
        The compile-time constants of this variant, in the name as ``key`` + value.

    Returns
    -------
    numba dispatcher
        Compiled on first call, cached on disk under the variant's own name.
    """
    parts = [function.__name__]
    for key, value in constants.items():
        text = "_".join(str(int(v)) for v in value) if isinstance(value, tuple) else str(
            int(value))
        parts.append(f"{key}{text}")
    name = re.sub(r"\W", "_", "_".join(parts))
    function.__name__ = function.__qualname__ = name
    return cached_njit(parallel=True)(function)
