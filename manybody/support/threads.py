"""BLAS/OpenMP thread control through one cached threadpoolctl controller per process.

Library code limits threads only inside a context (:func:`blas_threads`), never globally.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

_CONTROLLER: Any = None


def thread_controller() -> Any:
    """The process's threadpoolctl controller, made after the numerical libraries are loaded
    (scipy's BLAS, QuSpin's OpenMP runtime), or None where threadpoolctl cannot work."""
    global _CONTROLLER
    if _CONTROLLER is None:
        try:
            import scipy.linalg  # noqa: F401  (loads scipy's BLAS)
            from threadpoolctl import ThreadpoolController

            with contextlib.suppress(ImportError):
                import quspin.operators  # noqa: F401  (loads its OpenMP runtime)
            _CONTROLLER = ThreadpoolController()
        except Exception:  # noqa: BLE001 - thread control is an optimisation only
            _CONTROLLER = False
    return _CONTROLLER or None


@contextlib.contextmanager
def blas_threads(limit: int | None, user_api: str | None = "blas") -> Iterator[None]:
    """Limit BLAS (or, with ``user_api=None``, BLAS and OpenMP) threads to ``limit`` inside the
    block; ``None`` leaves them as configured."""
    controller = thread_controller() if limit is not None else None
    if controller is None:
        yield
        return
    with controller.limit(limits=int(limit), user_api=user_api):
        yield
