"""Exactly degenerate levels: which eigenbasis the basis-dependent observables see.

Inside an exactly degenerate eigenspace of H every orthonormal basis is an eigenbasis, and LAPACK
returns one of them depending on the build, the dtype and the rounding. Resonant absorption, the
velocity shift and C(T) do not depend on that choice. The one-phonon Pauli equation (populations
only, PHYSICS.md section 4), the driven steady state (section 8) and the single-TLS fraction
(section 7.1) do: two identical independent TLS gave a relaxation absorption 0.46-1.16 times the
sum of the two, depending on the basis returned, and a single-TLS fraction anywhere from 0.5 to 1
(two testers, session 26).

The basis is settled as the limit of infinitesimally split levels, which is what every drawn
ensemble (never exactly degenerate) approaches: first T is diagonalised inside each degenerate
block (the strain lifts the degeneracy: :func:`.relaxation.resolve_degeneracies` does this much
on T alone), then, where T leaves a tie (e.g. T = 0 inside the block of |eg> and |ge> of two
identical TLS), the generic one-body perturbation

    P = sum_b (w_b s^z_b + u_b s^x_b),  w_b = 1 / (b + sqrt 2),  u_b = 1 / (b + sqrt 3),

(b the bit of the product basis; weights incommensurate so that no two sites and no symmetry of
the model share them) is diagonalised inside the tie: the eigenstates of H + delta P as
delta -> 0. For independent TLS these are product states, so the Pauli equation is additive and
the single-TLS fraction is 1, as the notes state; the result no longer depends on the dtype or
LAPACK. A shared phonon channel's collective dark states at exact degeneracy (Dicke) are not
modelled; several incoherent channels can be given to the relaxation functions as
``bath_elements``.
"""

from __future__ import annotations

import math

import numpy as np

from manybody.simulation.observables.statistics import degeneracy_tolerance, eigenvalue_precision
from manybody.simulation.spectrum import Spectrum

__all__ = ["DEGENERACY_TOLERANCE", "degenerate_groups", "settle_degenerate_basis"]

#: Relative energy tolerance (of the bandwidth) below which levels count as degenerate.
DEGENERACY_TOLERANCE = 1e-10


def degenerate_groups(energies, tolerance: float = DEGENERACY_TOLERANCE) -> list[np.ndarray]:
    """Index groups of (numerically) degenerate levels, each of two or more.

    Levels count as degenerate when closer than the larger of ``tolerance`` * max(bandwidth, 1 K)
    and the rounding error of the eigensolver in the eigenvalues' precision
    (:func:`.statistics.degeneracy_tolerance`), so a float32 solve, which splits exactly
    degenerate levels by ~1e-7 of the bandwidth, is grouped like the float64 solve.

    Parameters
    ----------
    energies : array_like, shape (D,)
        E_n (K), ascending.
    tolerance : float
        Relative tolerance (of max(bandwidth, 1 K)).

    Returns
    -------
    list of numpy.ndarray
        Consecutive level indices of each degenerate group.
    """
    e = np.asarray(energies, dtype=np.float64)
    if e.size < 2:
        return []
    scale = max(tolerance * max(float(e[-1] - e[0]), 1.0), degeneracy_tolerance(energies))
    breaks = np.flatnonzero(np.diff(e) > scale) + 1
    return [g for g in np.split(np.arange(e.size), breaks) if g.size > 1]


def _perturbation(vectors: np.ndarray) -> np.ndarray:
    """P V for the generic one-body perturbation P of the module docstring, V of shape (D, k)
    in the product basis (D = 2^N)."""
    dim = vectors.shape[0]
    index = np.arange(dim)
    out = np.zeros_like(vectors)
    for b in range(dim.bit_length() - 1):
        signs = 1.0 - 2.0 * ((index >> b) & 1)
        out += vectors * (signs / (b + math.sqrt(2.0)))[:, None]
        out += vectors[index ^ (1 << b)] / (b + math.sqrt(3.0))
    return out


def _ties(values: np.ndarray, scale: float) -> list[np.ndarray]:
    """Groups (two or more) of ascending ``values`` closer than ``scale``."""
    breaks = np.flatnonzero(np.diff(values) > scale) + 1
    return [g for g in np.split(np.arange(values.size), breaks) if g.size > 1]


def settle_degenerate_basis(spectrum: Spectrum, stress_elements: np.ndarray | None = None, *,
                            stress_diagonal: np.ndarray | None = None,
                            tolerance: float = DEGENERACY_TOLERANCE, copy: bool = False
                            ) -> tuple[Spectrum, np.ndarray | None]:
    """The eigenbasis of the limit of split levels inside every degenerate block (module
    docstring): T diagonal there, and where T ties, the generic perturbation P diagonal too.

    Parameters
    ----------
    spectrum : Spectrum
        Energies (ascending) and eigenvectors (columns, product basis of D = 2^N states).
    stress_elements : numpy.ndarray, shape (D, D), optional
        T_mn = V^T T V (K per unit strain); rotated with the vectors.
    stress_diagonal : numpy.ndarray, shape (D,), optional
        T in the product basis when it is diagonal there (sum_i gamma_i s^z_i) and no
        ``stress_elements`` are given: its blocks are formed from the vectors.
    tolerance : float
        As :func:`degenerate_groups`.
    copy : bool
        Rotate copies (a caller's arrays are left alone); False: in place.

    Returns
    -------
    (Spectrum, numpy.ndarray or None)
        The spectrum and T_mn in the settled basis (the inputs themselves when no level is
        degenerate or the spectrum has no vectors). Energies do not change.
    """
    vectors = spectrum.vectors
    groups = degenerate_groups(spectrum.energies, tolerance)
    if not groups or vectors is None:
        return spectrum, stress_elements
    t = stress_elements
    if copy:
        vectors = np.array(vectors, copy=True)
        spectrum = Spectrum(energies=spectrum.energies, vectors=vectors)
        t = None if t is None else np.array(t, copy=True)
    dim = vectors.shape[0]
    dtype = vectors.dtype if t is None else np.result_type(vectors.dtype, t.dtype)
    # the precision the decomposition was computed in (a float32 solve's arrays promoted to
    # float64, e.g. by a caller's rotation, still carry float32 rounding)
    eps = max(float(np.finfo(dtype).eps),
              float(np.finfo(eigenvalue_precision(spectrum.energies)).eps))
    power_of_two = dim & (dim - 1) == 0
    for g in groups:
        columns = np.asarray(vectors[:, g], dtype=np.float64)
        if t is not None:
            block = np.asarray(t[np.ix_(g, g)], dtype=np.float64)
            size = float(np.max(np.abs(t[:, g])))
        elif stress_diagonal is not None:
            applied = np.asarray(stress_diagonal, dtype=np.float64)[:, None] * columns
            block = columns.T @ applied
            size = float(np.max(np.abs(applied)))
        else:
            block, size = np.zeros((g.size, g.size)), 0.0
        values, u = np.linalg.eigh(0.5 * (block + block.T))
        if power_of_two:
            for tie in _ties(values, 1e3 * math.sqrt(dim) * eps * max(size, 1e-300)):
                rotated = columns @ u[:, tie]
                inner = rotated.T @ _perturbation(rotated)
                _, r = np.linalg.eigh(0.5 * (inner + inner.T))
                u[:, tie] = u[:, tie] @ r
        vectors[:, g] = (columns @ u).astype(vectors.dtype)
        if t is not None:
            t[:, g] = (np.asarray(t[:, g], dtype=np.float64) @ u).astype(t.dtype)
            t[g, :] = (u.T @ np.asarray(t[g, :], dtype=np.float64)).astype(t.dtype)
    return spectrum, t
