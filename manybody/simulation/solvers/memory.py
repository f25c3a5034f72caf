"""The memory this machine has available now, asked by every solver before it allocates."""

from __future__ import annotations

import os
import threading

#: Per thread: what it holds for reuse by its next solve (``holder``, with an ``nbytes``).
_REUSABLE = threading.local()


def available_memory() -> int:
    """Bytes of memory available to this thread's next allocation: what the system has available
    now, plus what this thread holds for reuse (:func:`reusable_bytes`), so every memory check
    and solver choice comes out as in a fresh process."""
    return _system_available() + reusable_bytes()


def reusable_bytes() -> int:
    """Bytes this thread holds for reuse (a sweep worker's Chebyshev workspace,
    :func:`manybody.simulation.solvers.chebyshev.workspace.reusing_workspace`): resident, so
    missing from the system's available memory, but the next solve reuses them and other work
    releases them first (:func:`~manybody.simulation.solvers.chebyshev.workspace.release_kept_workspace`)."""
    holder = getattr(_REUSABLE, "holder", None)
    return 0 if holder is None else int(holder.nbytes)


def hold_for_reuse(holder) -> None:
    """Record what this thread holds for reuse (an object with ``nbytes``), or None."""
    _REUSABLE.holder = holder


def _system_available() -> int:
    """Bytes of memory currently available (MemAvailable on Linux; else physical memory)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - exotic platforms
        return 2**62
