"""The open-file limit (``ulimit -n``, RLIMIT_NOFILE) against what a pool of local worker
processes needs: their pipes, semaphores and (dask) sockets. Standard library only.

Under ``ulimit -n 16`` a run with ``--jobs 2`` ended in a 40-line traceback from loky's start,
whose ``UnboundLocalError`` hid "Too many open files"; with the dask backend a limit of 40 gave
"Nanny failed to start" (session 47)."""

from __future__ import annotations

import os

try:
    import resource
except ImportError:  # pragma: no cover - not on POSIX
    resource = None

#: Files the process needs open with a pool of local workers: base + per worker x workers, by
#: backend. Measured on this machine (session 47, the smallest ``ulimit -n`` that ran): a loky
#: pool of 2, 4, 8, 16 workers needed 20, 24, 28, 40 (``--jobs 1`` starts no pool and ran under
#: 8); a local dask cluster of 1 and 2 workers needed 29-36 and 45-48. Taken with a margin.
OPEN_FILES_NEEDED = {"loky": (18, 2), "dask": (28, 12)}
#: The soft limit is raised to at least this (within the hard limit) when it is below the need:
#: more than enough for any pool, and what many systems set by default.
RAISED_OPEN_FILES = 1024


#: Descriptors a process of this package had open when the measurements above were made (the
#: standard streams and a few of the interpreter's); more already open (inherited from a CI
#: runner or an IDE) are counted on top (a second break test, session 47).
USUAL_OPEN = 5


def open_descriptors() -> int:
    """File descriptors this process has open now (``/proc/self/fd``; :data:`USUAL_OPEN` where
    that cannot be read)."""
    try:
        return max(0, len(os.listdir("/proc/self/fd")) - 1)  # less the listing's own
    except OSError:  # pragma: no cover - not Linux
        return USUAL_OPEN


def least_open_files(n_jobs: int, backend: str = "loky", already_open: int = USUAL_OPEN) -> int:
    """Open files a process with ``n_jobs`` local workers of ``backend`` ("loky" or "dask")
    needs (:data:`OPEN_FILES_NEEDED`), with ``already_open`` descriptors open before the pool
    starts; a loky run with one job starts no pool and needs none beyond the interpreter's
    (returned as 0)."""
    if backend == "loky" and n_jobs <= 1:
        return 0
    base, per_worker = OPEN_FILES_NEEDED[backend]
    return base + per_worker * n_jobs + max(0, already_open - USUAL_OPEN)


def ensure_open_files(n_jobs: int, backend: str = "loky") -> None:
    """Make sure ``n_jobs`` local workers of ``backend`` can start: raise a soft open-file limit
    below :data:`RAISED_OPEN_FILES` to that (or to the hard limit, whichever is smaller), as a
    shell's ``ulimit -n`` would, and refuse a hard limit below :func:`least_open_files` with the
    descriptors already open counted (a limit just above the fixed count, with a few descriptors
    inherited, still gave loky's traceback; a second break test, session 47). The raised limit
    stays for the rest of the process.

    Raises
    ------
    ValueError
        The hard limit is below the need: names ``n_jobs``, the limit and the need, and says to
        run with fewer jobs or to ask for a higher limit.
    """
    need = least_open_files(n_jobs, backend, open_descriptors())
    if resource is None or need == 0:  # pragma: no cover - not on POSIX
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    infinite = resource.RLIM_INFINITY
    if soft == infinite or soft >= max(need, RAISED_OPEN_FILES) or (
            soft >= need and hard != infinite and hard <= soft):
        return
    if hard != infinite and hard < need:
        raise ValueError(
            f"n_jobs={n_jobs} {backend} worker processes need about {need} open files (their "
            f"pipes and sockets, beside the {open_descriptors()} it has open), and this process "
            f"may open at most {hard} (ulimit -n, hard limit): run with one job and the loky "
            "backend (no worker pool), or ask for a higher open-file limit")
    target = max(need, RAISED_OPEN_FILES)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target if hard == infinite else min(hard, target),
                                                hard))
