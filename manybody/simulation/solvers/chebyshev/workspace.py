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
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["Workspace"]


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
