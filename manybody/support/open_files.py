"""The open-file limit (``ulimit -n``, RLIMIT_NOFILE) against what a pool of local worker
processes needs: their pipes, semaphores and (dask) sockets. Standard library only.

Under ``ulimit -n 16`` a run with ``--jobs 2`` ended in a 40-line traceback from loky's start,
whose ``UnboundLocalError`` hid "Too many open files"; with the dask backend a limit of 40 gave
"Nanny failed to start" (session 47)."""

from __future__ import annotations

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


def least_open_files(n_jobs: int, backend: str = "loky") -> int:
    """Open files a process with ``n_jobs`` local workers of ``backend`` ("loky" or "dask")
    needs (:data:`OPEN_FILES_NEEDED`); a loky run with one job starts no pool and needs none
    beyond the interpreter's (returned as 0)."""
    if backend == "loky" and n_jobs <= 1:
        return 0
    base, per_worker = OPEN_FILES_NEEDED[backend]
    return base + per_worker * n_jobs


def ensure_open_files(n_jobs: int, backend: str = "loky") -> None:
    """Make sure ``n_jobs`` local workers of ``backend`` can start: raise the soft open-file
    limit, within the hard one, when it is below :func:`least_open_files` (to
    :data:`RAISED_OPEN_FILES` or the hard limit, whichever is smaller), as a shell's
    ``ulimit -n`` would.

    Raises
    ------
    ValueError
        The hard limit is below the need: names ``n_jobs``, the limit and the need, and says to
        run with fewer jobs or to ask for a higher limit.
    """
    need = least_open_files(n_jobs, backend)
    if resource is None or need == 0:  # pragma: no cover - not on POSIX
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    infinite = resource.RLIM_INFINITY
    if soft == infinite or soft >= need:
        return
    if hard != infinite and hard < need:
        raise ValueError(
            f"n_jobs={n_jobs} {backend} worker processes need about {need} open files (their "
            f"pipes and sockets), and this process may open at most {hard} (ulimit -n, hard "
            "limit): run with one job and the loky backend (no worker pool), or ask for a "
            "higher open-file limit")
    target = max(need, RAISED_OPEN_FILES)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target if hard == infinite else min(hard, target),
                                                hard))
