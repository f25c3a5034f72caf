"""The quadrature of one rung of the Chebyshev solver, and the node basis its readouts span.

:class:`Contraction` turns the node-projected moments y_jl of a rung (thermal index j on the
rung's window nodes, final index l; :func:`.moments.node_correlation_moments`) into the
numerators, Z and energy sums of each random vector (the estimator is described in
:mod:`.solver`); :func:`coarse_moments` gives the truncation probes, contractions with fewer
moments of the same vectors.

:func:`readout_basis` compresses the window nodes (session 20). Every number the rung reports is
linear in the overlaps x_jl = P_j . b_l of the node vectors P_j with the l-recursion, through
readouts that are smooth functions of the node energy E_j: Boltzmann factors times the line
shape G(E' - E_j), and the pole term's Boltzmann factors, of the rung and of its probes. On the
benchmark's rungs at N = 16-20 they span about 0.69 of the R window nodes to 1e-6 (the Chebyshev
nodes crowd at the bottom of the spectrum, where the windows lie, and sample the window more
finely than its smooth readouts need). With an orthonormal basis U (R, r) of that span the solver
forms only the r combinations P'_p = sum_j U_jp P_j (GEMM rows and node-vector memory r + 1
instead of R + 1) and uses x = U U^T x, which changes every readout by at most ``tol`` relative
to its own norm. The commutator's index shift multiplies x_jl by x_j = cos(theta_j), so the basis
spans the readouts times x_j as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from manybody.config.probe import Broadening
from manybody.simulation.solvers.chebyshev.kpm import (
    SpectralScale,
    chebyshev_nodes,
    node_values,
    quadrature_matrix,
)
from manybody.simulation.solvers.chebyshev.plan import LineShape, Rung, window_nodes

__all__ = ["BASIS_MIN_DIMENSION", "BASIS_TOL", "Contraction", "EXACT_TRUNCATION_FRACTIONS",
           "TRUNCATION_FRACTIONS", "coarse_moments", "readout_basis", "rung_contractions"]

#: Moments of the truncation probes, as fractions of the rung's M (:func:`coarse_moments`).
TRUNCATION_FRACTIONS = (0.9, 0.95)
#: The probes of an exact trace, whose error bar is the truncation estimate alone. Where the
#: result oscillates with M instead of converging smoothly (few levels; large diagonal stress
#: elements, whose absorption and emission terms cancel only to the kernel's truncation), the
#: change from two probes can pass near zero: two TLS left active by equilibration (D = 4,
#: |T_nn| ~ 1.9 against the resonant |T_nm| = 0.03) were 10 error bars off dense ED at the
#: plan's M = 157, within 0.9 of them at M = 158-175 (a break test, session 53). Four probes put
#: it at 1.0. Not for stochastic traces: there they cost 7 % (N = 13) to 50 % (N = 10) more and
#: changed no error bar of a 20-temperature solve (the spread over vectors dominates).
EXACT_TRUNCATION_FRACTIONS = (0.9, 0.925, 0.95, 0.975)
#: Relative accuracy of every readout in the compressed node basis (:func:`readout_basis`): the
#: norm of the part of each readout outside the basis, over the readout's norm, is at most this.
#: The float32 bank's own GEMMs round the node overlaps at about 1e-7 to 1e-6 of their norm.
BASIS_TOL = 1e-6
#: Smallest dimension D at which the solver compresses the window nodes: building the bases
#: costs about 0.2 s per solve whatever D (the readouts' Gram matrices, R^2 M per line shape, and
#: the rung's contractions built once more), while the GEMM work they save grows with D. Measured
#: on the benchmark realisation in one process (session 20): N = 12 1.19 s compressed against
#: 1.11 s; N = 14 2.6-2.8 s against 3.1-3.4 s.
BASIS_MIN_DIMENSION = 1 << 14


def coarse_moments(n_moments: int, exact: bool = False) -> tuple[int, ...]:
    """Moments of the coarse contractions that probe the truncation error of an M-moment rung
    (``exact``: of an exact trace, EXACT_TRUNCATION_FRACTIONS)."""
    fractions = EXACT_TRUNCATION_FRACTIONS if exact else TRUNCATION_FRACTIONS
    return tuple(max(4, min(n_moments - 1, int(round(f * n_moments)))) for f in fractions)


class Contraction:
    """Quadrature of one rung: F_T on the node grid, 1D Boltzmann weights for Z and energies.

    The thermal (first, E) index lives on the rung's M-point node grid restricted to the nodes
    inside the energy window (``theta_rows``; :func:`.moments.node_correlation_moments` forms the
    moments projected on these nodes only), the final (E') index on all M nodes. A truncation
    probe (``fine``: the rung's contraction with M moments, this one having M' < M) first
    recovers the moments mu_kl = sum_j T_k(x_j) y_jl (k, l < M', discrete orthogonality; the
    nodes outside the window, where the filtered vectors have no weight, are left out) and
    projects them on its own window nodes, so it contracts the first M' moments on M' nodes in
    both indices, as a plain truncation would."""

    def __init__(self, rung: Rung, scale: SpectralScale, frequencies: np.ndarray,
                 temperatures: np.ndarray, broadening: Broadening, velocity: bool,
                 fine: Contraction | None = None) -> None:
        m_count = rung.n_moments
        ground = scale.ground
        excess = 1.0 / temperatures - 1.0 / rung.temperature
        theta, x = chebyshev_nodes(m_count)
        energy = scale.to_energy(x)
        window = rung.window(energy)
        rows = window_nodes(rung, scale)
        self.n_moments = m_count
        self.theta_rows = theta[rows]
        self.cw_rows = quadrature_matrix(theta[rows], m_count, m_count)
        self.from_fine = None if fine is None else self.cw_rows @ np.cos(
            np.outer(np.arange(m_count), fine.theta_rows))  # (rows, fine rows)
        self.f = np.exp(-np.outer(excess, energy[rows] - ground)) * window[rows]
        du = energy[None, :] - energy[rows][:, None]  # E' - E, (rows, nodes)
        self.kinds = {"abs": [LineShape(broadening, w) for w in frequencies]}
        if velocity:
            self.kinds["vel"] = [LineShape(broadening, w, True) for w in frequencies]
        self.g = {k: np.stack([s.reduced(du) for s in shapes]) for k, shapes in self.kinds.items()}
        self.slope = {k: np.array([s.slope for s in shapes]) for k, shapes in self.kinds.items()}
        _, x1 = chebyshev_nodes(2 * m_count)
        e1 = scale.to_energy(x1)
        self.shift1 = e1 - ground
        self.boltzmann1 = np.exp(-np.outer(excess, self.shift1))
        self.outside1 = 1.0 - rung.window(e1)

    def readout_gram(self) -> np.ndarray:
        """Sum over this contraction's readouts of K K^T / |K|^2 on its window nodes, shape
        (rows, rows) (:func:`readout_basis`). Per line shape g (rows, M nodes) the readout in
        moments is Gt = g Dm^T, Dm the node values of unit moments (:func:`.kpm.node_values`),
        and Dm^T Dm = (2/M) 1 - (1/M^2) e e^T exactly (discrete orthogonality of the M-point
        grid; e the vector of ones), so Gt Gt^T = (2/M) g g^T - (1/M^2) s s^T with s = g e;
        weighted by f_T(E_j) f_T(E_j') per temperature. The pole term adds f_T f_T^T."""
        m_count = self.n_moments
        rows = self.f.shape[1]
        gram = np.zeros((rows, rows))
        for g in self.g.values():
            for shape in g:  # (rows, nodes)
                sums = shape.sum(axis=1)
                gg = (2.0 / m_count) * (shape @ shape.T) - np.outer(sums, sums) / m_count**2
                diagonal = np.diag(gg)
                for f_t in self.f:
                    norm = float(f_t**2 @ diagonal)
                    if norm > 0.0:
                        gram += np.outer(f_t, f_t) * gg / norm
        for f_t in self.f:
            norm = float(f_t @ f_t)
            if norm > 0.0:
                gram += np.outer(f_t, f_t) / norm
        return gram

    def per_vector(self, y: np.ndarray, m: np.ndarray, q: np.ndarray) -> dict[str, np.ndarray]:
        """Numerators, Z and energy sums for each vector of a block (leading axis b) from the
        node-projected moments y (b, rows, M) of the rung (of ``fine`` for a probe), the
        one-operator moments m (b, >= 2M - 1) and the node-projected overlaps q (b, rows) of
        (T - c) T_k(H~) v with C v (of ``fine`` for a probe: a probe takes both y and q from the
        fine nodes, by discrete orthogonality)."""
        m_count = self.n_moments
        if self.from_fine is not None:
            y = np.matmul(self.from_fine, y[:, :, :m_count])
            q = q @ self.from_fine.T
        b = y.shape[0]
        pole = q @ self.f.T  # (b, n_T): sum_n p_n (T C)_nn
        out: dict[str, np.ndarray] = {}
        for kind, g in self.kinds.items():
            out[kind] = np.empty((b, self.f.shape[0], len(g)))
        for i in range(b):
            a = node_values(y[i], m_count)  # node weights of the 2D density (rows, nodes)
            for kind in self.kinds:
                along = np.einsum("wrj,rj->wr", self.g[kind], a)
                out[kind][i] = self.f @ along.T + pole[i][:, None] * self.slope[kind][None, :]
        rho = node_values(m[:, : 2 * m_count - 1], 2 * m_count)  # (b, 2M): one-operator weights
        out.update({
            "z": rho @ self.boltzmann1.T,
            "e1": rho @ (self.boltzmann1 * self.shift1).T,
            "e2": rho @ (self.boltzmann1 * self.shift1**2).T,
            "z0": rho.sum(axis=1),
            "outside": rho @ self.outside1,
            "above": rho @ (self.boltzmann1 * self.outside1).T,  # Z's part above the window
        })
        return out


def rung_contractions(rung: Rung, scale: SpectralScale, frequencies: np.ndarray,
                      temperatures: np.ndarray, broadening: Broadening, velocity: bool,
                      exact: bool = False) -> tuple[Contraction, list[Contraction]]:
    """The rung's contraction and its truncation probes (:func:`coarse_moments`; ``exact``: of an
    exact trace), for the temperatures it serves (K), the frequencies w (K) and the line kernel."""
    main = Contraction(rung, scale, frequencies, temperatures, broadening, velocity)
    coarse = [Contraction(replace(rung, n_moments=mc), scale, frequencies, temperatures,
                          broadening, velocity, fine=main)
              for mc in coarse_moments(rung.n_moments, exact)]
    return main, coarse


def readout_basis(main: Contraction, coarse: Sequence[Contraction] = (),
                  tol: float | None = None) -> np.ndarray:
    """Orthonormal basis of the window nodes that carries every readout of a rung.

    The readouts of the overlaps x_jl (see the module docstring) are, per line shape (kind and
    w), temperature and contraction (the rung's and each probe's, lifted to the rung's nodes by
    ``from_fine``), the matrices K[j, l] = f_T(E_j) Gt_j(l), with Gt the line shape's node values
    mapped to moments; the pole term adds f_T(E_j) alone. Each is normalised to unit Frobenius
    norm, and with it enters x_j K (the index shift). U holds the leading eigenvectors of the sum
    of their Gram matrices K K^T; the eigenvalues left out sum to at most tol^2, which bounds the
    part of every normalised readout outside span(U) by tol (Frobenius norm).

    Parameters
    ----------
    main : Contraction
        The rung's contraction.
    coarse : sequence of Contraction
        Its truncation probes (``fine=main``).
    tol : float, optional
        Relative accuracy of every readout, >= 0 (default :data:`BASIS_TOL`; 0 keeps every
        node: U = identity).

    Returns
    -------
    numpy.ndarray
        U, shape (R, r) with r <= R (R = main's window nodes), orthonormal columns, float64.

    Raises
    ------
    ValueError
        When ``tol`` is negative or a probe is not ``main``'s.
    """
    tol = BASIS_TOL if tol is None else tol
    if not tol >= 0:
        raise ValueError(f"readout_basis needs tol >= 0, got {tol!r}")
    rows = main.theta_rows.size
    if tol == 0 or rows == 0:
        return np.eye(rows)
    gram = main.readout_gram()
    for probe in coarse:
        if probe.from_fine is None or probe.from_fine.shape[1] != rows:
            raise ValueError("readout_basis needs probes built with fine=main")
        gram += probe.from_fine.T @ probe.readout_gram() @ probe.from_fine
    cosine = np.cos(main.theta_rows)
    gram += cosine[:, None] * gram * cosine[None, :]
    values, vectors = np.linalg.eigh(gram)  # ascending
    left_out = int(np.searchsorted(np.cumsum(np.clip(values, 0.0, None)), tol * tol,
                                   side="right"))
    return np.ascontiguousarray(vectors[:, left_out:][:, ::-1])
