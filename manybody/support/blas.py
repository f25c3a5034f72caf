"""Which BLAS does the dense linear algebra, with which kernel and threads, and is it a slow one?

Dense ED spends almost all its time in LAPACK ``?syevd`` and BLAS level 3, so the kernel OpenBLAS
picked for this CPU matters by factors of 2-4: an SSE-era kernel (e.g. forced with
``OPENBLAS_CORETYPE=Prescott``/``Nehalem``, an old workaround for crashes of early OpenBLAS
builds) on a CPU with AVX2 and FMA runs the eigensolver several times slower. :func:`check_blas`
inspects the loaded libraries with threadpoolctl, warns once per process with
:class:`SlowBLASWarning` when such a kernel is active, and :func:`blas_metadata` gives the same
information as a JSON-ready dict for the metadata of results files.

Nothing here changes thread counts or environment variables.
"""

from __future__ import annotations

import functools
import os
import warnings
from typing import Any

#: Environment variables that change the BLAS kernel or its threads (reported, never changed).
BLAS_ENVIRONMENT = (
    "OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OPENBLAS_VERBOSE", "GOTO_NUM_THREADS",
    "OMP_NUM_THREADS", "MKL_NUM_THREADS", "MKL_ENABLE_INSTRUCTIONS", "MKL_DEBUG_CPU_TYPE",
    "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMBA_NUM_THREADS",
)

#: SIMD level of OpenBLAS x86-64 kernels (lower case): 1 = SSE2/SSE3/SSSE3 only, 2 = AVX,
#: 3 = AVX2 + FMA, 4 = AVX-512. Unknown names (other architectures) are not judged.
_OPENBLAS_KERNEL_LEVEL = {
    **dict.fromkeys(
        ("generic", "prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "athlon",
         "opteron", "opteron_sse3", "barcelona", "bobcat", "nano", "katmai", "coppermine",
         "northwood", "banias", "yonah", "sse_generic"), 1),
    **dict.fromkeys(("sandybridge", "bulldozer", "piledriver"), 2),
    **dict.fromkeys(("haswell", "zen", "steamroller", "excavator", "alderlake"), 3),
    **dict.fromkeys(("skylakex", "cooperlake", "sapphirerapids"), 4),
}

_LEVEL_NAME = {0: "none", 1: "SSE", 2: "AVX", 3: "AVX2+FMA", 4: "AVX-512"}


class SlowBLASWarning(RuntimeWarning):
    """A BLAS kernel much slower than this CPU allows is doing the dense linear algebra."""


def cpu_simd_level(flags: set[str] | None = None) -> int:
    """Best SIMD level of this CPU (same scale as the kernel levels), 0 when unknown.

    Parameters
    ----------
    flags : set of str, optional
        CPU flags (as in /proc/cpuinfo); read from the system when omitted.
    """
    if flags is None:
        flags = _cpu_flags()
    if not flags:
        return 0
    if "avx512f" in flags:
        return 4
    if "avx2" in flags and "fma" in flags:
        return 3
    if "avx" in flags:
        return 2
    if "sse2" in flags:
        return 1
    return 0


def kernel_level(architecture: str | None) -> int | None:
    """SIMD level of an OpenBLAS kernel name (threadpoolctl ``architecture``); None if unknown."""
    if not architecture:
        return None
    return _OPENBLAS_KERNEL_LEVEL.get(architecture.lower())


@functools.lru_cache(maxsize=1)
def _cpu_flags() -> frozenset[str]:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def assess(libraries: list[dict[str, Any]], cpu_level: int) -> list[str]:
    """Reasons why the BLAS in ``libraries`` is slow on a CPU of SIMD level ``cpu_level``.

    A kernel is slow when it lacks AVX2+FMA on a CPU that has them (a factor >= 2 in dense linear
    algebra), or when no optimised BLAS is loaded at all. AVX2 kernels on AVX-512 CPUs are not
    flagged (OpenBLAS itself picks them on some AVX-512 CPUs, and the loss is modest).

    Parameters
    ----------
    libraries : list of dict
        Entries of ``threadpoolctl.threadpool_info()``.
    cpu_level : int
        From :func:`cpu_simd_level`.

    Returns
    -------
    list of str
        Empty when nothing is wrong.
    """
    reasons = []
    blas = [lib for lib in libraries if lib.get("user_api") == "blas"]
    if not blas:
        reasons.append("no optimised BLAS library is loaded (reference BLAS is 10-100x slower)")
    for lib in blas:
        arch = lib.get("architecture")
        level = kernel_level(arch)
        if level is None or cpu_level == 0:
            continue
        if level < min(cpu_level, 3):
            name = os.path.basename(str(lib.get("filepath")))
            factor = 2 ** (min(cpu_level, 3) - level)
            reasons.append(
                f"{lib.get('internal_api')} {lib.get('version')} ({name}) uses the {arch} kernel "
                f"({_LEVEL_NAME[level]}) but this CPU supports {_LEVEL_NAME[cpu_level]}: dense "
                f"eigensolvers run ~{factor}x slower"
            )
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    if coretype and reasons:
        reasons.append(f"OPENBLAS_CORETYPE={coretype} is set and forces this kernel; unset it "
                       "unless this OpenBLAS is known to crash without it")
    return reasons


def _libraries(load_scipy: bool) -> list[dict[str, Any]]:
    import numpy  # noqa: F401  (loads numpy's BLAS)
    from threadpoolctl import threadpool_info

    if load_scipy:
        try:
            import scipy.linalg  # noqa: F401  (loads scipy's own BLAS/LAPACK)
        except ImportError:  # pragma: no cover - scipy is a dependency
            pass
    return threadpool_info()


def blas_metadata(load_scipy: bool = True) -> dict[str, Any]:
    """BLAS libraries, kernels, threads, CPU SIMD level and BLAS-related environment (JSON-ready).

    Parameters
    ----------
    load_scipy : bool
        Import scipy.linalg first so that its BLAS (which may differ from numpy's) is listed.

    Returns
    -------
    dict
        ``libraries`` (threadpoolctl entries), ``cpu`` (model, SIMD level, logical CPUs),
        ``environment`` (the variables in :data:`BLAS_ENVIRONMENT` that are set, including
        ``OPENBLAS_CORETYPE``), ``slow_kernel`` (bool) and ``slow_reasons`` (list of str).
    """
    libraries = _libraries(load_scipy)
    level = cpu_simd_level()
    reasons = assess(libraries, level)
    return {
        "libraries": [
            {key: lib.get(key) for key in ("user_api", "internal_api", "prefix", "version",
                                           "architecture", "threading_layer", "num_threads",
                                           "filepath")}
            for lib in libraries
        ],
        "cpu": {"model": _cpu_model(), "simd": _LEVEL_NAME[level], "logical_cpus": os.cpu_count(),
                "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                else None},
        "environment": {k: os.environ[k] for k in BLAS_ENVIRONMENT if k in os.environ},
        "slow_kernel": bool(reasons),
        "slow_reasons": reasons,
    }


_warned = False


def check_blas(warn: bool = True, load_scipy: bool = True) -> dict[str, Any]:
    """Inspect the BLAS in use; warn (once per process) with :class:`SlowBLASWarning` if it is slow.

    Parameters
    ----------
    warn : bool
        Emit the warning when a slow kernel is active.
    load_scipy : bool
        See :func:`blas_metadata`.

    Returns
    -------
    dict
        As :func:`blas_metadata`.
    """
    global _warned
    meta = blas_metadata(load_scipy)
    if warn and meta["slow_kernel"] and not _warned:
        _warned = True
        warnings.warn("slow BLAS kernel: " + "; ".join(meta["slow_reasons"]), SlowBLASWarning,
                      stacklevel=2)
    return meta


def summary(meta: dict[str, Any]) -> str:
    """One line: library version kernel threads for each BLAS, plus OPENBLAS_CORETYPE if set."""
    parts = []
    for lib in meta["libraries"]:
        if lib.get("user_api") != "blas":
            continue
        parts.append(f"{lib.get('internal_api')} {lib.get('version')} {lib.get('architecture')} "
                     f"x{lib.get('num_threads')} ({lib.get('prefix')})")
    line = "; ".join(parts) or "no BLAS found"
    coretype = meta["environment"].get("OPENBLAS_CORETYPE")
    line += f"; OPENBLAS_CORETYPE={coretype}" if coretype else "; OPENBLAS_CORETYPE unset"
    line += f"; CPU {meta['cpu']['simd']}"
    if meta["slow_kernel"]:
        line += " -- SLOW KERNEL"
    return line
