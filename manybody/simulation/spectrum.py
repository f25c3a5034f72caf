"""The spectrum of one realisation: what a dense solver hands to the observables."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from manybody.support import validate as v


@dataclass(frozen=True, eq=False)
class Spectrum(v.ArrayFields):
    """Eigen-decomposition H = V diag(E) V^T.

    Attributes
    ----------
    energies : numpy.ndarray
        Eigenvalues E_m (K), ascending, finite, shape (D,); stored as float64 (a list is taken).
    vectors : numpy.ndarray or None
        Eigenvectors as columns, real and finite, float64 or float32, shape (D, D), or None when
        only energies were computed. Kept as given, not copied (2 GB at N = 14): do not edit
        the array afterwards. The energies are kept as a read-only copy.

    Raises
    ------
    ValueError
        Energies empty, not 1-d, not finite or not ascending; vectors not of shape (D, D) or not
        finite.
    TypeError
        Energies or vectors that are not real numbers.
    """

    energies: np.ndarray
    vectors: np.ndarray | None = None

    READ_ONLY_ARRAYS = ("energies",)

    def __post_init__(self) -> None:
        # checked here, once: NaN or descending energies and vectors of the wrong shape were
        # taken, and failed deep inside the relaxation code (IndexError, LinAlgError) where it
        # rotates degenerate levels (a helper, session 36)
        if np.ndim(self.energies) == 0 and not isinstance(self.energies, str | bytes):
            raise ValueError(f"spectrum.energies must be a 1-d array of eigenvalues (K), got the "
                             f"number {self.energies!r}")
        energies = v.real_vector("spectrum.energies", self.energies, hint=" (eigenvalues in K)")
        descending = np.flatnonzero(np.diff(energies) < 0)
        if descending.size:  # the bandwidth and the pairs' signs assume E ascending (a tester)
            k = int(descending[0])
            digits = 6 if f"{energies[k]:.6g}" != f"{energies[k + 1]:.6g}" else 17
            raise ValueError(
                f"spectrum.energies must be ascending (E_0 <= E_1 <= ...), got E[{k}] = "
                f"{energies[k]:.{digits}g} K > E[{k + 1}] = {energies[k + 1]:.{digits}g} K; sort them with "
                "np.argsort and permute the rows and columns of stress_elements (and the "
                "eigenvectors) the same way")
        object.__setattr__(self, "energies", v.frozen_copy(energies))  # not the caller's array
        if self.vectors is not None:
            dim = energies.size
            object.__setattr__(self, "vectors", v.real_array(
                "spectrum.vectors", self.vectors, (dim, dim), keep_float=True))

    @property
    def dimension(self) -> int:
        return self.energies.size
