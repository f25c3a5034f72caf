"""The address space this process may still map: the limits ``ulimit -v`` (RLIMIT_AS) and
``ulimit -d`` (RLIMIT_DATA) that batch systems set, against what the commands that diagonalise
need. Standard library only, so that the command line can check it before numpy and scipy are
imported."""

from __future__ import annotations

import os

try:
    import resource
except ImportError:  # pragma: no cover - not on POSIX
    resource = None

#: Address space a process that diagonalises maps before its first array: the interpreter,
#: numpy, scipy, numba and OpenBLAS's buffers. Measured on this 2-core machine (session 46): an
#: N = 5 run peaks at VmSize 0.86 GB and runs under ``ulimit -v`` 1000000 KiB; under 800000 it
#: ends with an empty MemoryError, and under 600000 OpenBLAS's first allocation inside ?syevd
#: failed and it retried for ever, deaf to Ctrl-C and SIGTERM (a break test, session 46).
BASE_ADDRESS_SPACE = 2**30
#: OpenBLAS reserves a buffer for each thread it may start (one per core unless told otherwise);
#: counted for every core beyond the two of the machine the base was measured on.
BUFFER_PER_CORE = 2**25
#: The data segment (``ulimit -d``) such a run needs: VmData 0.40 GB measured, 0.75 GiB taken.
DATA_SEGMENT = 3 * 2**28
#: The commands that diagonalise (the others fit curves or read files, and ran under 600000 KiB).
DIAGONALISING_COMMANDS = ("run", "study")


def least_address_space(cores: int | None = None) -> int:
    """Bytes of address space a diagonalising process needs: :data:`BASE_ADDRESS_SPACE` plus
    :data:`BUFFER_PER_CORE` for each core beyond two."""
    if cores is None:  # the job's cores (taskset, a cgroup's cpuset), not the node's
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 2)
    return BASE_ADDRESS_SPACE + BUFFER_PER_CORE * max(0, cores - 2)


def _limits() -> list[tuple[str, int, int]]:
    """(ulimit option, finite soft limit in bytes, least bytes needed) of the address-space and
    data-segment limits that are set."""
    if resource is None:  # pragma: no cover - not on POSIX
        return []
    found = []
    for option, which, least in (("-v", "RLIMIT_AS", least_address_space()),
                                 ("-d", "RLIMIT_DATA", DATA_SEGMENT)):
        kind = getattr(resource, which, None)
        if kind is None:
            continue
        soft, _ = resource.getrlimit(kind)
        if soft != resource.RLIM_INFINITY:
            found.append((option, int(soft), least))
    return found


def address_space_problem(command: str | None = None) -> str | None:
    """Why the process's address-space (``ulimit -v``) or data-segment (``ulimit -d``) limit is
    too small for ``command`` to diagonalise at all, or None (also for commands that do not
    diagonalise, :data:`DIAGONALISING_COMMANDS`). Only this floor is checked: above it, an
    array too large for the limit fails as a MemoryError, which the commands report in one line
    with :func:`limit_hint`."""
    if command not in DIAGONALISING_COMMANDS:
        return None
    for option, limit, least in _limits():
        if limit < least:
            return (f"the process may map only {limit // 2**20} MiB (ulimit {option} "
                    f"{limit // 1024}), and manybody {command} needs at least {least // 2**20} "
                    "MiB before its first array (Python, numpy, scipy, numba and the BLAS "
                    "buffers, one per core; below that the BLAS can hang): raise the limit "
                    f"(ulimit {option} unlimited, or a larger virtual-memory request to the batch "
                    "system)")
    return None


#: What a process of this package maps besides its arrays (VmSize 0.86 GB measured for an N = 5
#: run, session 46), and its data segment (VmData 0.40 GB).
MAPPED_BESIDES_ARRAYS = {"-v": 9 * 10**8, "-d": 45 * 10**7}


def array_room() -> int | None:
    """Bytes the address-space or data limit leaves for arrays (the limit less
    :data:`MAPPED_BESIDES_ARRAYS`), or None without a limit. Memory checks take the smaller of
    this and the machine's free memory: an N = 12 run under ulimit -v 1150000 passed them and
    then hung inside OpenBLAS, deaf to signals (a second break test, session 46)."""
    rooms = [limit - MAPPED_BESIDES_ARRAYS[option] for option, limit, _ in _limits()]
    return max(0, min(rooms)) if rooms else None


def limit_hint() -> str:
    """'; ...' naming the address-space or data limit set on the process, for a MemoryError's
    message; empty without one."""
    limits = _limits()
    if not limits:
        return ""
    option, limit, _ = min(limits, key=lambda item: item[1])
    return (f"; the process may map at most {limit / 2**30:.3g} GiB (ulimit {option} "
            f"{limit // 1024}): raise the limit, or ask for less")
