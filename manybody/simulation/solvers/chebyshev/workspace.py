"""The large arrays of a Chebyshev solve, allocated once and reused by every rung and block.

A solve fills two kinds of large arrays of rows of D numbers (float32 or float64) before reading
them: "scratch", the k bank (then, on a rung that projects on nodes, the l-recursion's GEMM
buffer), and "left", the node vectors (or, on a rung that keeps the full moment matrix, the l
buffer). Allocated afresh for each rung and block, as before session 15, every one of their pages
was faulted in and zeroed by the kernel again: at N = 16 about 4.5 GB per realisation, 2.2-2.5 s
of system time in a 17 s solve (``getrusage`` around the solve; about 0.1 s with the arrays
reused). A :class:`Workspace` hands out views of one buffer per role, grown when a larger one is
asked for, so the pages are touched once per solve. The solve's wall and CPU time did not change
measurably on the 2-core machine (README, "The large arrays reused"): it is kept for the page
faults and the memory churn it saves a worker, not as a speed-up.

The plan counts the memory this way (:func:`.costs.solve_bytes`: per role the largest request of
any rung, not the largest rung), so reuse never holds more than the plan says.

Across solves (session 19): inside :func:`reusing_workspace` every solve of the calling thread
takes the same :class:`Workspace`, so a sweep worker faults its pages in once, not once per
realisation. Measured on the 2-core VM against allocating afresh (the same realisation solved
again in one process, paired, the same bits): 1.06-1.11x faster at N = 16 and 18, system time
1 -> 0.1 s and 7-10 -> 0.5 s (docs/chebyshev_performance.md, session 19). The VM's host takes
freed guest memory back within about a second and faults it in again at 0.5-1.4 s per GB, and
even where it does not the kernel zeroes every new page. A sweep's worker process keeps it from
one task to the next (:func:`manybody.runs.tasks.run_task`); a solve outside such a block
allocates its own, released on return, as before. Memory checks count the bytes a thread's kept
workspace holds as available (:func:`.memory.available_memory`); each solve frees what its plan
does not count (:meth:`Workspace.fit`).

Small pages (session 22): the buffers are anonymous maps of ordinary 4 KB pages
(:func:`small_page_buffer`), not numpy arrays with its huge-page advice; a first solve's system
time fell from 3.6-3.8 to 0.6-0.8 s at N = 16 (docs/chebyshev_performance.md, session 22).
"""

from __future__ import annotations

import contextlib
import logging
import math
import mmap
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from manybody.simulation.solvers import memory

__all__ = ["GAP_FROM", "KEEP_GROWTH_LIMIT", "KEEP_IDLE_SECONDS", "VECTOR_GAP", "Workspace",
           "block_bytes", "current_workspace", "kept_bytes", "release_kept_workspace",
           "reusing_workspace", "small_page_buffer"]

log = logging.getLogger(__name__)

#: Bytes left free between the rows of consecutive vectors of a block (:meth:`Workspace.take_rows`)
#: when one vector's rows take at least :data:`GAP_FROM` bytes. Session 21: the compiled passes
#: that store a step into a bank row write the b vectors' rows at once, b streams one vector's
#: rows apart; where that distance was a large power of two (2^27 bytes and more: 256 l-columns
#: at N = 18, 64 at N = 20, a 256-row bank chunk at N = 18) each store took 10-40x as long
#: (alone, 4 vectors: N = 18 7.1-8.0 ms against 0.2-0.4 ms; N = 20 28-32 ms against 1.5-1.8 ms;
#: in a solve at N = 18, 7.9 against 0.80 ms, 23 s of 56 s). A gap of 64 KB removed it in every
#: case measured.
VECTOR_GAP = 1 << 16
#: One vector's rows from which :data:`VECTOR_GAP` is added (4 MB: below it no slow store was seen).
GAP_FROM = 1 << 22


def small_page_buffer(nbytes: int) -> np.ndarray:
    """An uninitialised uint8 array of ``nbytes`` in anonymous memory of ordinary (4 KB) pages.

    numpy asks the kernel for transparent huge pages on every large array (``madvise``), and on
    this VM a huge page faulted in for the first time costs far more than its 512 small pages
    (session 22: a first N = 16 solve spent 3.6-3.8 s in the kernel with huge pages, 0.9-1.0 s
    without; N = 18 17 s against 8.6 s). The workspace's buffers are written before they are
    read and streamed in order, so they gain nothing from huge pages. The memory is returned to
    the system (``munmap``) when the last view of the array goes.

    Parameters
    ----------
    nbytes : int
        Size in bytes (at least 1).

    Returns
    -------
    numpy.ndarray
        Shape (nbytes,), uint8, writable, page-aligned.

    Raises
    ------
    MemoryError
        When the system refuses the map (as :func:`numpy.empty` would raise; ``mmap`` raises
        OSError, which the callers' memory handling would not catch).
    """
    try:
        area = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    except OSError as error:
        raise MemoryError(f"cannot map {nbytes / 2**30:.3g} GB for the Chebyshev workspace "
                          f"({error.strerror or error})") from error
    if hasattr(mmap, "MADV_NOHUGEPAGE"):  # where THP is "always", not only on madvise
        area.madvise(mmap.MADV_NOHUGEPAGE)
    return np.frombuffer(area, dtype=np.uint8)


def block_bytes(shape: tuple[int, int, int], itemsize: int) -> int:
    """Bytes of a (b, rows, D) block of :meth:`Workspace.take_rows`, its gaps included."""
    b, rows, dim = shape
    per_vector = rows * dim * itemsize
    return b * (per_vector + (VECTOR_GAP if per_vector >= GAP_FROM else 0))


class Workspace:
    """Reusable uninitialised arrays, one buffer per role (``"left"``, ``"scratch"``).

    Like :func:`numpy.empty`, an array it returns has undefined contents: every caller writes
    the entries it reads. A new request for a role invalidates the arrays handed out for it before.
    """

    def __init__(self) -> None:
        self._buffers: dict[str, np.ndarray] = {}

    def take(self, role: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        """A C-contiguous array of ``shape`` and ``dtype`` in the buffer of ``role``.

        Parameters
        ----------
        role : str
            Which buffer (arrays of one role are never needed at the same time).
        shape : tuple of int
            Shape of the array.
        dtype : numpy dtype
            Its dtype.

        Returns
        -------
        numpy.ndarray
            A view into the role's buffer (grown first if it is smaller than asked for).
        """
        dtype = np.dtype(dtype)
        nbytes = math.prod(shape) * dtype.itemsize
        held = self._buffers.get(role)
        if held is None or held.size < nbytes:
            self._buffers.pop(role, None)  # release the old buffer before the larger one
            held = small_page_buffer(max(nbytes, 1))
            self._buffers[role] = held
        return held[:nbytes].view(dtype).reshape(shape)

    def take_rows(self, role: str, shape: tuple[int, int, int], dtype) -> np.ndarray:
        """A (b, rows, D) block of rows of D numbers per vector in the buffer of ``role``: each
        vector's rows C-contiguous, :data:`VECTOR_GAP` bytes between those of consecutive
        vectors where one vector's rows take at least :data:`GAP_FROM` bytes (why: there).
        The buffer holds :func:`block_bytes` bytes."""
        b, rows, dim = (int(n) for n in shape)
        dtype = np.dtype(dtype)
        stride = block_bytes((1, rows, dim), dtype.itemsize) // dtype.itemsize
        flat = self.take(role, (max(b * stride, 1),), dtype)
        return flat[: b * stride].reshape(b, stride)[:, : rows * dim].reshape(b, rows, dim)

    @property
    def nbytes(self) -> int:
        """Bytes held by all roles."""
        return sum(b.size for b in self._buffers.values())

    def fit(self, role_bytes: dict[str, int]) -> None:
        """Free the buffers larger than a solve's plan needs for their role (``role_bytes``:
        role -> bytes; a role not listed needs none), so that a kept workspace never holds more
        than the plan counted with it (:func:`.costs.role_bytes`)."""
        for role in list(self._buffers):
            if self._buffers[role].size > role_bytes.get(role, 0):
                del self._buffers[role]


#: A workspace kept after a block is released instead when it holds more than this over what the
#: thread kept after its first block: loky, joblib's process pool, restarts a worker whose memory
#: grew by more than 300 MB after its first task (its leak protection) and warns about it, and a
#: realisation with more moments than the first one's needs a larger bank. 192 MB since session
#: 21 (256 MB before), leaving room for what the worker's C heap holds after a task even after
#: :func:`manybody.support.heap.return_freed_memory` (up to a few tens of MB measured).
KEEP_GROWTH_LIMIT = 192 * 2**20

#: A workspace kept after a block is released when no block of its thread starts within this many
#: seconds (an idle sweep worker, e.g. loky's pool after the run, gives its memory back).
KEEP_IDLE_SECONDS = 5.0


@dataclass
class _ThreadState:
    """Per (process, thread): open blocks, blocks started so far, and the bytes kept after the
    thread's first block (the reference of :data:`KEEP_GROWTH_LIMIT`)."""

    depth: int = 0
    generation: int = 0
    reference: int | None = None
    timer: threading.Timer | None = None


_STATES: dict[tuple[int, int], _ThreadState] = {}
os.register_at_fork(after_in_child=_STATES.clear)  # a forked child keeps nothing of its parent's


@contextlib.contextmanager
def reusing_workspace(keep_after: bool = False) -> Iterator[Workspace]:
    """Every Chebyshev solve of this thread inside the block uses one :class:`Workspace`.

    Parameters
    ----------
    keep_after : bool
        Keep the buffers after the outermost block ends, for this thread's next block (a sweep's
        worker process: its next task reuses them), unless they hold more than
        :data:`KEEP_GROWTH_LIMIT` over what the thread kept after its first block; they are
        released when no block starts within :data:`KEEP_IDLE_SECONDS`. By default they are
        released when the outermost block ends, so nothing is held after, e.g., an in-process
        sweep.

    Yields
    ------
    Workspace
        The thread's kept workspace (the one of an earlier block if it was kept).

    Notes
    -----
    Per thread and process: solves running at the same time in different threads never share
    buffers, and a forked child does not see its parent's. Blocks nest; only the outermost one
    releases, in the state of the thread that opened it (a generator holding the block may be
    closed from another thread). While kept, the buffers' bytes count as available memory
    (:func:`.memory.available_memory`), so the plan and the choice between solvers come out as in
    a fresh process: a solve frees the buffers larger than its plan needs (:meth:`Workspace.fit`)
    and work of another solver releases them first (:func:`release_kept_workspace`).
    """
    key = memory.thread_key()
    with memory.LOCK:
        state = _STATES.setdefault(key, _ThreadState())
        if state.timer is not None:  # at most one idle timer (thread) per kept workspace
            state.timer.cancel()
            state.timer = None
        state.depth += 1
        state.generation += 1
        if memory.held_for_reuse(key) is None:
            memory.hold_for_reuse(Workspace(), key)
        kept = memory.held_for_reuse(key)
    try:
        yield kept
    finally:
        with memory.LOCK:
            state.depth -= 1
            if state.depth == 0:
                _after_outermost(key, state, keep_after)


def _after_outermost(key, state: _ThreadState, keep_after: bool) -> None:
    """Release or keep a thread's workspace when its outermost block ends (lock held)."""
    held = memory.held_for_reuse(key)
    if not keep_after or held is None:
        memory.hold_for_reuse(None, key)
        return
    if state.reference is None:
        state.reference = held.nbytes
    elif held.nbytes > state.reference + KEEP_GROWTH_LIMIT:
        log.debug("Chebyshev workspace of %.2f GB not kept (%.2f GB after the first task)",
                  held.nbytes / 2**30, state.reference / 2**30)
        memory.hold_for_reuse(None, key)
        return
    state.timer = threading.Timer(KEEP_IDLE_SECONDS, _release_if_idle, (key, state.generation))
    state.timer.daemon = True
    state.timer.start()


def _release_if_idle(key, generation: int) -> None:
    """Drop a kept workspace whose thread started no block since (a timer's callback)."""
    with memory.LOCK:
        state = _STATES.get(key)
        if state is not None and state.depth == 0 and state.generation == generation:
            memory.hold_for_reuse(None, key)


def current_workspace() -> Workspace:
    """The workspace of a solve starting now: the thread's kept one (inside
    :func:`reusing_workspace`, or kept after one), else a new one, released with the solve."""
    kept = memory.held_for_reuse()
    return Workspace() if kept is None else kept


def kept_bytes() -> int:
    """Bytes held by this thread's kept workspace (0 when it keeps none)."""
    return memory.reusable_bytes()


def release_kept_workspace() -> None:
    """Drop this thread's kept buffers, so that other work (another solver) finds the memory
    free; a block still open goes on with an empty workspace."""
    key = memory.thread_key()
    with memory.LOCK:
        if memory.held_for_reuse(key) is not None:
            state = _STATES.get(key)
            open_block = state is not None and state.depth > 0
            memory.hold_for_reuse(Workspace() if open_block else None, key)
