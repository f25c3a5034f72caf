"""The memory this machine has available now, asked by every solver before it allocates."""

from __future__ import annotations

import math
import os
import threading

from manybody.support.address_space import array_room

#: Guards :data:`_HELD` (re-entrant: the workspace's bookkeeping holds it around these calls).
LOCK = threading.RLock()

#: (process id, thread id) -> what that thread holds for reuse (an object with ``nbytes``). Keyed
#: by process too, so a forked child never counts (or reuses) its parent's buffers.
_HELD: dict[tuple[int, int], object] = {}


def _forget_in_child() -> None:
    """A forked child starts with nothing held (its parent's buffers are its parent's) and with a
    fresh lock (the parent's may have been held by another thread at the fork)."""
    global LOCK
    LOCK = threading.RLock()
    _HELD.clear()


os.register_at_fork(after_in_child=_forget_in_child)


def thread_key() -> tuple[int, int]:
    """The key of the calling thread in :data:`_HELD`."""
    return os.getpid(), threading.get_ident()


def available_memory() -> int:
    """Bytes of memory available to this thread's next allocation: what the system has available
    now, plus what this thread holds for reuse (:func:`reusable_bytes`), so every memory check
    and solver choice comes out as in a fresh process; at most what an address-space limit leaves
    for arrays (:func:`manybody.support.address_space.array_room`)."""
    available = _system_available() + reusable_bytes()
    room = array_room()
    return available if room is None else min(available, room)


def fraction_remedy(key: str, need: float, available: float) -> str | None:
    """The remedy "<key> >= f" for a solve of ``need`` bytes refused under a memory fraction,
    with f = need / available rounded up to two significant figures (so that it fits), or None
    when even the whole of ``available`` is too little. A memory_fraction of 1e-12 had left
    dense ED's refusal with "what would fit: " and nothing after it, and the Chebyshev solver's
    with "n_tls <= 1 would fit", which did not (session 53's note)."""
    if not 0 < need <= available:
        return None
    fraction = need / available
    step = 10.0 ** (math.floor(math.log10(fraction)) - 1)
    fraction = min(1.0, math.ceil(fraction / step * (1 - 1e-12)) * step)
    return f"{key} >= {fraction:.2g}"


def reusable_bytes() -> int:
    """Bytes this thread holds for reuse (a sweep worker's Chebyshev workspace,
    :func:`manybody.simulation.solvers.chebyshev.workspace.reusing_workspace`): resident, so
    missing from the system's available memory, but the next Chebyshev solve reuses them (or frees
    what it does not need) and other work releases them first
    (:func:`~manybody.simulation.solvers.chebyshev.workspace.release_kept_workspace`)."""
    holder = held_for_reuse()
    return 0 if holder is None else int(holder.nbytes)


def held_for_reuse(key: tuple[int, int] | None = None):
    """What the thread ``key`` (default: the calling one) holds for reuse, or None."""
    with LOCK:
        return _HELD.get(thread_key() if key is None else key)


def hold_for_reuse(holder, key: tuple[int, int] | None = None) -> None:
    """Record what the thread ``key`` (default: the calling one) holds for reuse (an object with
    ``nbytes``), or None to drop it."""
    key = thread_key() if key is None else key
    with LOCK:
        if holder is None:
            _HELD.pop(key, None)
        else:
            _HELD[key] = holder


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
