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

The plan counts the memory this way (:func:`.plan.solve_bytes`: per role the largest request of
any rung, not the largest rung), so reuse never holds more than the plan says.

Across solves (session 19): inside :func:`reusing_workspace` every solve of the calling thread
takes the same :class:`Workspace`, so a sweep worker faults its pages in once, not once per
realisation. Measured at N = 16 on the 2-core VM (same realisation, the same bits): 7.9-8.5 s per
solve with the workspace kept against 10.3-10.9 s with a new one, and 0.1 against 3 s of system
time. The VM's host takes freed guest memory back within about a second and faults it in again
at 0.5-1.4 s per GB, and even where it does not the kernel zeroes every new page. A sweep's
worker process keeps it from one task to the next (:func:`manybody.runs.tasks.run_task`); a
solve outside such a block allocates its own, released on return, as before. The plan counts
the bytes a thread's kept workspace holds as available (:func:`.memory.available_memory`): they
are resident and the solve reuses them.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator

import numpy as np

from manybody.simulation.solvers import memory

__all__ = ["Workspace", "current_workspace", "kept_bytes", "release_kept_workspace",
           "reusing_workspace"]


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
            held = np.empty(max(nbytes, 1), dtype=np.uint8)
            self._buffers[role] = held
        return held[:nbytes].view(dtype).reshape(shape)

    @property
    def nbytes(self) -> int:
        """Bytes held by all roles."""
        return sum(b.size for b in self._buffers.values())


#: Per thread: the depth of open :func:`reusing_workspace` blocks and the bytes kept after the
#: first block that kept any (``reference``); the kept workspace itself is recorded with
#: :func:`.memory.hold_for_reuse`, so memory checks count it as available.
_LOCAL = threading.local()

#: A workspace kept after a block is released instead when it holds more than this over what the
#: thread kept after its first such block: loky, joblib's process pool, restarts a worker whose
#: memory grew by more than 300 MB after its first task (its leak protection) and warns about
#: it, and a realisation with more moments than the first one's needs a larger bank.
KEEP_GROWTH_LIMIT = 256 * 2**20


def _kept() -> Workspace | None:
    return getattr(memory._REUSABLE, "holder", None)


@contextlib.contextmanager
def reusing_workspace(keep_after: bool = False) -> Iterator[Workspace]:
    """Every Chebyshev solve of this thread inside the block uses one :class:`Workspace`.

    Parameters
    ----------
    keep_after : bool
        Keep the buffers after the outermost block ends, for this thread's next solve (a sweep's
        worker process: its next task reuses them), unless they hold more than
        :data:`KEEP_GROWTH_LIMIT` over what the thread kept after its first such block. By
        default they are released when the outermost block ends, so nothing is held after, e.g.,
        an in-process sweep.

    Yields
    ------
    Workspace
        The thread's kept workspace (the one of an earlier block if it was kept).

    Notes
    -----
    Per thread (:class:`threading.local`): solves running at the same time in different threads
    never share buffers. Blocks nest; only the outermost one releases. While kept, the buffers'
    bytes count as available memory (:func:`.memory.available_memory`): the plan of the next
    solve, and the choice between solvers, come out as in a fresh process; work of another
    solver releases them first (:func:`release_kept_workspace`).
    """
    if _kept() is None:
        memory.hold_for_reuse(Workspace())
    _LOCAL.depth = getattr(_LOCAL, "depth", 0) + 1
    try:
        yield _kept()
    finally:
        _LOCAL.depth -= 1
        if _LOCAL.depth == 0:
            kept = _kept()
            reference = getattr(_LOCAL, "reference", None)
            if not keep_after or kept is None:
                memory.hold_for_reuse(None)
            elif reference is None:
                _LOCAL.reference = kept.nbytes
            elif kept.nbytes > reference + KEEP_GROWTH_LIMIT:
                memory.hold_for_reuse(None)  # the next block starts afresh (see the limit)


def current_workspace() -> Workspace:
    """The workspace of a solve starting now: the thread's kept one (inside
    :func:`reusing_workspace`, or kept after one), else a new one, released with the solve."""
    kept = _kept()
    return Workspace() if kept is None else kept


def kept_bytes() -> int:
    """Bytes held by this thread's kept workspace (0 when it keeps none)."""
    return memory.reusable_bytes()


def release_kept_workspace() -> None:
    """Drop this thread's kept buffers, so that other work (another solver) finds the memory
    free; a block still open goes on with an empty workspace."""
    if _kept() is not None:
        memory.hold_for_reuse(Workspace() if getattr(_LOCAL, "depth", 0) > 0 else None)
