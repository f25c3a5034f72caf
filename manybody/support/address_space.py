"""The address space this process may still map: the limits ``ulimit -v`` (RLIMIT_AS) and
``ulimit -d`` (RLIMIT_DATA) that batch systems set, against what is mapped already. Standard
library only, so that the command line can check it before numpy and scipy are imported."""

from __future__ import annotations

try:
    import resource
except ImportError:  # pragma: no cover - not on POSIX
    resource = None

#: Address space a process of this package maps before its first array: the interpreter, numpy,
#: scipy, numba and OpenBLAS's buffers (measured: VmSize 0.86 GB, VmData 0.40 GB, for an N = 5
#: run with one job, session 46). Under ``ulimit -v 600000`` (KiB) OpenBLAS's first allocation
#: failed inside ?syevd and it retried for ever, deaf to Ctrl-C and SIGTERM; at 500000 numba's
#: import failed with a traceback (a break test, session 46). Per limit: (ulimit option,
#: resource name, least bytes).
LIMITS = (("-v", "RLIMIT_AS", 3 * 2**29),     # 1.5 GiB of address space
          ("-d", "RLIMIT_DATA", 3 * 2**28))   # 0.75 GiB of data segment


def _limits() -> list[tuple[str, int, int]]:
    """(ulimit option, finite soft limit in bytes, least bytes needed) of the address-space and
    data-segment limits that are set."""
    if resource is None:  # pragma: no cover - not on POSIX
        return []
    found = []
    for option, which, least in LIMITS:
        kind = getattr(resource, which, None)
        if kind is None:
            continue
        soft, _ = resource.getrlimit(kind)
        if soft != resource.RLIM_INFINITY:
            found.append((option, int(soft), least))
    return found


def address_space_problem() -> str | None:
    """Why the process's address-space (``ulimit -v``) or data-segment (``ulimit -d``) limit is
    too small to run at all (below :data:`LIMITS`' least), or None. Only this floor is checked:
    above it, an array too large for the limit fails as a MemoryError, which the commands report
    in one line."""
    for option, limit, least in _limits():
        if limit < least:
            return (f"the process may map only {limit / 2**20:.0f} MiB (ulimit {option} "
                    f"{limit // 1024}), and manybody needs at least {least / 2**30:.2g} GiB "
                    "before its first array (Python, numpy, scipy, numba and the BLAS buffers; "
                    f"below that the BLAS can hang): raise the limit (ulimit {option} unlimited, "
                    "or a larger virtual-memory request to the batch system)")
    return None


def limit_hint() -> str:
    """'; ...' naming the address-space or data limit set on the process, for a MemoryError's
    message; empty without one."""
    limits = _limits()
    if not limits:
        return ""
    option, limit, _ = min(limits, key=lambda item: item[1])
    return (f"; the process may map at most {limit / 2**30:.3g} GiB (ulimit {option} "
            f"{limit // 1024}): raise the limit, or ask for less")
