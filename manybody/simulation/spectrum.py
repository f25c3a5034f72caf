"""The spectrum of one realisation: what a dense solver hands to the observables."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Spectrum:
    """Eigen-decomposition H = V diag(E) V^T.

    Attributes
    ----------
    energies : numpy.ndarray
        Eigenvalues E_m (K), ascending, float64, shape (D,).
    vectors : numpy.ndarray or None
        Eigenvectors as columns, shape (D, D), or None when only energies were computed.
    """

    energies: np.ndarray
    vectors: np.ndarray | None = None

    @property
    def dimension(self) -> int:
        return self.energies.size
