"""Generic Chebyshev (kernel polynomial) machinery: spectral scaling, recursions, filters, quadrature.

Everything here is independent of the physics: a Hermitian operator H given as a sparse or dense
matrix, the affine map of its spectrum onto [-1, 1], Chebyshev recursions on blocks of vectors,
exponential (Boltzmann) filters, two-operator moments and the Gauss-Chebyshev quadrature that turns
moments into sums over nodes.

Conventions. With x = (E - center) / half_width and nodes theta_i = pi (i + 1/2) / n, x_i = cos theta_i,
the discrete Chebyshev coefficients of a function f are

    c_k = (2 - delta_k0) / n * sum_i f(x_i) cos(k theta_i),

and for moments m_k = Tr[rho T_k(H~)] the truncated series sum_{k<M} c_k m_k equals the quadrature
sum_i f(x_i) rho_i with rho_i = (1/n) sum_{k<M} (2 - delta_k0) m_k cos(k theta_i) (:func:`node_weights`),
exactly, for any n >= M. The same holds per axis in two dimensions. So a smooth function of the
energies is contracted with the moments without ever forming its coefficients, and the only error is
the truncation of the function's Chebyshev series at degree M (and the aliasing of degrees >= 2n - M),
which :func:`tail_degree` measures.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.fft import dct
from scipy.sparse.linalg import eigsh
from scipy.special import ive

from manybody.simulation.solvers.chebyshev.fused import record

log = logging.getLogger(__name__)

#: Apply an operator to a block of column vectors, shape (D, b) -> (D, b).
Apply = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class SpectralScale:
    """Affine map of the spectrum [lower, upper] (K) onto [-1, 1].

    Attributes
    ----------
    lower, upper : float
        Bounds (K) that contain every eigenvalue (the Lanczos extremes widened by a margin).
    ground : float
        Best estimate of the lowest eigenvalue E_0 (K); energies in Boltzmann factors are counted
        from it.
    """

    lower: float
    upper: float
    ground: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lower) and math.isfinite(self.upper)) or self.upper <= self.lower:
            raise ValueError(f"spectral bounds must satisfy lower < upper, got {self.lower}, {self.upper}")

    @property
    def center(self) -> float:
        """(upper + lower) / 2 (K)."""
        return 0.5 * (self.upper + self.lower)

    @property
    def half_width(self) -> float:
        """(upper - lower) / 2 (K)."""
        return 0.5 * (self.upper - self.lower)

    def to_x(self, energy):
        """x = (E - center) / half_width."""
        return (np.asarray(energy, dtype=np.float64) - self.center) / self.half_width

    def to_energy(self, x):
        """E = center + half_width * x (K)."""
        return self.center + self.half_width * np.asarray(x, dtype=np.float64)


def spectral_bounds(
    h: np.ndarray | sp.spmatrix, margin: float = 0.005, tol: float = 1e-8, seed: int = 0
) -> SpectralScale:
    """Lowest and highest eigenvalue of a symmetric matrix by Lanczos, widened by a margin.

    Parameters
    ----------
    h : numpy.ndarray, scipy.sparse matrix or MatrixFreeOperator
        Symmetric (D, D) matrix (K), or an operator with ``shape``, ``matvec`` and ``toarray``.
    margin : float
        Fraction of the width added on each side, so that the rescaled spectrum lies inside
        [-1 + ~margin, 1 - ~margin] even though Lanczos extremes converge from inside.
    tol : float
        Relative tolerance of the Lanczos (ARPACK) iteration.
    seed : int
        Seed of the (deterministic) Lanczos starting vector.

    Returns
    -------
    SpectralScale
    """
    dim = h.shape[0]
    if dim <= 512:
        dense = h.toarray() if hasattr(h, "toarray") else np.asarray(h)
        levels = np.linalg.eigvalsh(dense.astype(np.float64))
        low, high = float(levels[0]), float(levels[-1])
    else:
        v0 = np.random.default_rng(seed).standard_normal(dim)
        low = float(eigsh(h, k=1, which="SA", tol=tol, v0=v0, return_eigenvectors=False)[0])
        high = float(eigsh(h, k=1, which="LA", tol=tol, v0=v0, return_eigenvectors=False)[0])
    width = max(high - low, 1e-12 * max(1.0, abs(low)))
    pad = margin * width + 10 * tol * max(abs(low), abs(high), 1.0)
    return SpectralScale(lower=low - pad, upper=high + pad, ground=low)


class ScaledOperator:
    """H~ = (H - center) / half_width acting on blocks of vectors, with a product counter.

    Parameters
    ----------
    h : numpy.ndarray, scipy.sparse matrix or MatrixFreeOperator
        Symmetric (D, D) matrix (K), float64; an operator with a fused ``scaled_product(x, alpha,
        shift, previous)`` (:class:`.matrix_free.MatrixFreeOperator`) does each Chebyshev step in
        one pass over the vectors.
    scale : SpectralScale
        The map onto [-1, 1].
    """

    def __init__(self, h, scale: SpectralScale) -> None:
        self.h = h.tocsr() if sp.issparse(h) else h
        self.scale = scale
        self.products = 0
        self.seconds = 0.0
        self._fused = getattr(h, "scaled_product", None)

    @property
    def matrix_free(self) -> bool:
        """Whether H is applied without a stored matrix."""
        return self._fused is not None

    def _fused_step(self, x: np.ndarray, alpha: float, previous: np.ndarray | None,
                    out: np.ndarray | None = None) -> np.ndarray:
        start = time.perf_counter()
        y = self._fused(x, alpha, self.scale.center, previous, out=out)
        self.seconds += time.perf_counter() - start
        self.products += x.shape[1] if x.ndim == 2 else 1
        return y

    @property
    def dimension(self) -> int:
        return self.h.shape[0]

    def _h_dot(self, x: np.ndarray) -> np.ndarray:
        start = time.perf_counter()
        y = self.h @ x
        self.seconds += time.perf_counter() - start
        self.products += x.shape[1] if x.ndim == 2 else 1
        return np.asarray(y)

    def apply(self, x: np.ndarray) -> np.ndarray:
        """H~ x."""
        if self._fused is not None:
            return self._fused_step(x, 1.0 / self.scale.half_width, None)
        y = self._h_dot(x)
        y -= self.scale.center * x
        y *= 1.0 / self.scale.half_width
        return y

    def step(self, x: np.ndarray, previous: np.ndarray, overwrite: bool = False) -> np.ndarray:
        """One Chebyshev step: 2 H~ x - previous (a new array; with ``overwrite`` a matrix-free
        operator writes it into ``previous`` instead, which is then returned)."""
        if self._fused is not None:
            return self._fused_step(x, 2.0 / self.scale.half_width, previous,
                                    previous if overwrite else None)
        y = self._h_dot(x)
        y -= self.scale.center * x
        y *= 2.0 / self.scale.half_width
        y -= previous
        return y

    def seconds_per_product(self) -> float:
        """Measured wall time of one matrix-vector product (s), or NaN before any."""
        return self.seconds / self.products if self.products else float("nan")


def exponential_coefficients(c: float, tol: float = 1e-13) -> np.ndarray:
    """Chebyshev coefficients of exp(-c (x + 1)) on [-1, 1] (a Boltzmann filter, value 1 at x = -1).

    exp(-c x) = I_0(c) + 2 sum_k (-1)^k I_k(c) T_k(x), so a_k = (2 - delta_k0) (-1)^k I_k(c) e^{-c}
    (scaled Bessel functions, no overflow). The series is cut where the remaining coefficients sum
    to less than ``tol``.

    Parameters
    ----------
    c : float
        beta * half_width / 2 for the filter exp(-beta H / 2), >= 0.
    tol : float
        Absolute truncation error (relative to the value 1 at the bottom of the spectrum).
    """
    if c < 0 or not math.isfinite(c):
        raise ValueError(f"filter exponent must be finite and >= 0, got {c!r}")
    n = int(c + 12.0 * math.sqrt(c + 1.0) + 40)
    k = np.arange(n)
    a = ive(k, c) * np.where(k == 0, 1.0, 2.0) * np.where(k % 2 == 0, 1.0, -1.0)
    tail = np.cumsum(np.abs(a[::-1]))[::-1]
    keep = int(np.searchsorted(-tail, -tol)) + 1  # first index whose tail is below tol
    return a[: max(1, min(keep, n))]


def chebyshev_series(op: ScaledOperator, v: np.ndarray, coefficients: np.ndarray) -> np.ndarray:
    """sum_k a_k T_k(H~) v for a block of vectors v (D, b), by the three-term recursion."""
    out = coefficients[0] * v
    if coefficients.size == 1:
        return out
    previous, current = v, op.apply(v)
    out += coefficients[1] * current
    for a in coefficients[2:]:
        previous, current = current, op.step(current, previous)
        out += a * current
    return out


def chebyshev_nodes(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Chebyshev nodes: theta_i = pi (i + 1/2) / n and x_i = cos theta_i (descending)."""
    theta = np.pi * (np.arange(n) + 0.5) / n
    return theta, np.cos(theta)


def quadrature_matrix(theta: np.ndarray, n_moments: int) -> np.ndarray:
    """C[i, k] = (2 - delta_k0) cos(k theta_i) / n: node weights are C @ moments."""
    k = np.arange(n_moments)
    c = np.cos(np.outer(theta, k))
    c[:, 1:] *= 2.0
    c /= theta.size
    return c


def node_weights(moments: np.ndarray, n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature weights rho_i = C @ m on ``n_nodes`` >= len(m) nodes; returns (x_i, rho_i)."""
    moments = np.asarray(moments, dtype=np.float64)
    if n_nodes < moments.shape[-1]:
        raise ValueError(f"need at least as many nodes as moments, got {n_nodes} < {moments.shape[-1]}")
    theta, x = chebyshev_nodes(n_nodes)
    return x, moments @ quadrature_matrix(theta, moments.shape[-1]).T


def chebyshev_coefficients(values: np.ndarray) -> np.ndarray:
    """Discrete Chebyshev coefficients of f from its values at the n Gauss-Chebyshev nodes (last axis)."""
    c = dct(np.asarray(values, dtype=np.float64), type=2, axis=-1) / values.shape[-1]
    c[..., 0] *= 0.5
    return c


def tail_degree(
    f: Callable[[np.ndarray], np.ndarray], tol: float, scale: float | None = None,
    n_max: int = 16384,
) -> int:
    """Smallest degree M such that the Chebyshev coefficients of f beyond M sum to <= tol * scale.

    Parameters
    ----------
    f : callable
        Function of x in [-1, 1] (vectorised).
    tol : float
        Relative bound on the truncation error sup|f - f_M| <= sum_{k>=M} |c_k|.
    scale : float, optional
        Reference magnitude (default max|f| on the nodes).
    n_max : int
        Largest degree examined; returns ``n_max + 1`` when even that is not enough.
    """
    _, x = chebyshev_nodes(n_max)
    values = f(x)
    if scale is None:
        scale = float(np.max(np.abs(values)))
    if scale == 0:
        return 1
    return int(tail_degrees(values, tol, scale)[0])


def tail_degrees(values: np.ndarray, tol: float, scale: float) -> np.ndarray:
    """:func:`tail_degree` of many functions at once, from their values on the n Gauss-Chebyshev
    nodes (``chebyshev_nodes(n)``; last axis), with one reference ``scale`` > 0.

    Returns
    -------
    numpy.ndarray
        Degrees, shape ``values.shape[:-1]`` (at least 1-d), int; n + 1 where even n is not enough.
    """
    values = np.atleast_2d(np.asarray(values, dtype=np.float64))
    c = np.abs(chebyshev_coefficients(values))
    tail = np.cumsum(c[..., ::-1], axis=-1)[..., ::-1]
    ok = tail <= tol * scale
    first = np.argmax(ok, axis=-1)
    return np.where(ok.any(axis=-1), np.maximum(first, 1), values.shape[-1] + 1)


def _row_dots(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Column-wise dot products of two (D, b) blocks, in float64."""
    return np.einsum("ij,ij->j", a, b, dtype=np.float64)


def _store(out: np.ndarray, x: np.ndarray) -> None:
    """Copy a (D, b) float64 block into rows of ``out`` (b, D) (cast to the bank precision).

    Filtered vectors can have float32-subnormal entries; measured, they slow the GEMM by ~15 % at
    most, less than flushing them would cost, so they are kept.
    """
    out[...] = x.T


def correlation_moments(
    op: ScaledOperator,
    left: Apply,
    right: Apply,
    v: np.ndarray,
    n_moments: int,
    *,
    probes: list[np.ndarray] | None = None,
    left_commutator: bool = False,
    bank_dtype: type = np.float32,
    bank_rows: int | None = None,
    chunk: int = 64,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two-operator Chebyshev moments of a block of vectors.

    For each column v_i of ``v``::

        mu_kl = <v_i| T_k(H~) A^T T_l(H~) B |v_i>,   k, l < M,
        m_k   = <v_i| T_k(H~) |v_i>,                 k < 2M - 1,
        p_jk  = <v_i| T_k(H~) |u_j,i>,               k < M, for each probe block u_j,

    with A = ``left`` and B = ``right``; with ``left_commutator`` the left operator is instead the
    commutator C = [H, A] of a symmetric A, obtained without applying C: per vector exactly,
    (C a_k).b_l = (A a_k).(H b_l) - (A H a_k).b_l and H acting on a Chebyshev vector is an index
    shift (H T_l = center T_l + half_width (T_l+1 + T_|l-1|) / 2), so with nu_kl = (A a_k).b_l
    (k, l <= M) mu_kl = half_width/2 (nu_k,l+1 + nu_k,|l-1| - nu_k+1,l - nu_|k-1|,l). That saves M
    products of C per vector. The vectors A T_k(H~) v are kept in a bank
    (``bank_dtype``, rows of length D) and multiplied by chunks of T_l(H~) B v (a GEMM); the one-
    operator moments come free by the doubling relations m_2k = 2<a_k|a_k> - m_0 and
    m_2k-1 = 2<a_k|a_k-1> - m_1. When the bank does not fit, ``bank_rows`` < M splits k into
    chunks and the l-recursion is rerun for each (M more products per extra chunk).

    The solver uses this full form where a rung's energy window is wide, and
    :func:`node_correlation_moments` (the same moments projected on the nodes it contracts,
    less memory and GEMM work) where it is narrow; this form also serves general A and B and is
    the reference of the node form in the tests.

    Parameters
    ----------
    op : ScaledOperator
        H~.
    left, right : callable
        A and B applied to (D, b) blocks.
    v : numpy.ndarray
        Starting vectors, shape (D, b), float64.
    n_moments : int
        M.
    probes : list of numpy.ndarray, optional
        Blocks u_j of shape (D, b) whose overlaps with T_k(H~) v are wanted.
    bank_dtype : numpy dtype
        float32 (half the memory, single-precision GEMM) or float64.
    bank_rows : int, optional
        Rows of the bank per chunk (default M: one chunk).
    chunk : int
        Columns l per GEMM.

    Returns
    -------
    mu : numpy.ndarray
        Shape (b, M, M), float64.
    m : numpy.ndarray
        Shape (b, 2M - 1), float64.
    p : numpy.ndarray
        Shape (b, n_probes, M), float64.
    """
    dim, b = v.shape
    m_out = int(n_moments)
    if m_out < 2:
        raise ValueError(f"n_moments must be >= 2, got {n_moments}")
    m_count = m_out + 1 if left_commutator else m_out
    probes = list(probes or [])
    rows = m_count if bank_rows is None else max(1, min(int(bank_rows), m_count))
    mu = np.zeros((b, m_count, m_count))
    m = np.zeros((b, 2 * m_count - 1))
    p = np.zeros((b, len(probes), m_count))
    m[:, 0] = _row_dots(v, v)
    fused = op.matrix_free and isinstance(left, ShiftedDiagonal) and v.flags.c_contiguous
    stacked = np.stack(probes) if fused and probes else None
    previous = current = None
    start = 0
    while start < m_count:
        stop = min(m_count, start + rows)
        bank = np.empty((b, stop - start, dim), dtype=bank_dtype)
        for k in range(start, stop):
            if k == 0:
                new = v
            elif k == 1:
                new = op.apply(v)
                m[:, 1] = _row_dots(v, new)
            else:  # the matrix-free step may overwrite X_k-2 (not v, which is kept)
                new = op.step(current, previous, overwrite=fused and previous is not v)
            if fused:  # dots, (T - c) X and the bank store in one pass (:mod:`.fused`)
                dots = record(new, bank[:, k - start, :], current=current if k >= 1 else None,
                              probes=stacked, stress=left.diagonal, shift=left.shift)
                if k >= 1:
                    m[:, 2 * k] = 2.0 * dots[0] - m[:, 0]
                    m[:, 2 * k - 1] = 2.0 * dots[1] - m[:, 1]
                p[:, :, k] = dots[2:].T
            else:
                if k >= 1:
                    m[:, 2 * k] = 2.0 * _row_dots(new, new) - m[:, 0]
                    m[:, 2 * k - 1] = 2.0 * _row_dots(new, current) - m[:, 1]
                for j, u in enumerate(probes):
                    p[:, j, k] = _row_dots(new, u)
                _store(bank[:, k - start, :], left(new))
            previous, current = current, new
        _fill_columns(op, right, v, bank, mu[:, start:stop, :], chunk, fused)
        del bank
        start = stop
    if left_commutator:
        nu = mu
        up = np.concatenate([nu[:, :, 1:], nu[:, :, -2:-1]], axis=2)[:, :m_out, :m_out]
        down = np.concatenate([nu[:, :, 1:2], nu[:, :, :-1]], axis=2)[:, :m_out, :m_out]
        right_k = np.concatenate([nu[:, 1:, :], nu[:, -2:-1, :]], axis=1)[:, :m_out, :m_out]
        left_k = np.concatenate([nu[:, 1:2, :], nu[:, :-1, :]], axis=1)[:, :m_out, :m_out]
        mu = 0.5 * op.scale.half_width * (up + down - right_k - left_k)
        m = m[:, : 2 * m_out - 1]
        p = p[:, :, :m_out]
    return mu, m, p


def _fill_columns(op, right, v, bank, out, chunk, fused=False):
    """out[:, :, l] = bank @ T_l(H~) B v for all l < M, in GEMM chunks of ``chunk`` columns
    (``fused``: matrix-free steps in place and stores by :func:`.fused.record`)."""
    b, _, dim = bank.shape
    m_count = out.shape[2]
    buffer = np.empty((b, min(chunk, m_count), dim), dtype=bank.dtype)
    previous = current = None
    start = 0
    while start < m_count:
        stop = min(m_count, start + chunk)
        for l_index in range(start, stop):
            if l_index == 0:
                new = right(v)
            elif l_index == 1:
                new = op.apply(current)
            else:  # X_l-2 is a temporary of this loop (B v, H~ B v, ...)
                new = op.step(current, previous, overwrite=fused and previous is not v)
            previous, current = current, new
            if fused:
                record(new, buffer[:, l_index - start, :])
            else:
                _store(buffer[:, l_index - start, :], new)
        used = buffer[:, : stop - start, :]
        out[:, :, start:stop] = np.matmul(bank, used.transpose(0, 2, 1))
        start = stop


#: Columns (entries of D) per GEMM when node vectors are accumulated over chunks of the k bank:
#: the product's temporary is (nodes x this), not as large as the node vectors themselves.
ACCUMULATE_COLUMNS = 1 << 14


def node_correlation_moments(
    op: ScaledOperator,
    left: Apply,
    right: Apply,
    v: np.ndarray,
    n_moments: int,
    theta: np.ndarray,
    *,
    probes: list[np.ndarray] | None = None,
    bank_dtype: type = np.float32,
    node_rows: int | None = None,
    bank_rows: int | None = None,
    chunk: int = 64,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Commutator moments projected on Chebyshev nodes along their first index.

    For each column v_i of ``v`` and each node theta_j of the M-point Gauss-Chebyshev grid given::

        y_jl = sum_{k<M} C_jk mu_kl,   C_jk = (2 - delta_k0) cos(k theta_j) / M,   l < M,

    with mu_kl = <v_i| T_k(H~) C^T T_l(H~) B |v_i> the moments of :func:`correlation_moments`
    with ``left_commutator`` (C = [H, A], A = ``left``, B = ``right``), and the same one-operator
    moments m and probe overlaps p. Only the rows (nodes) the contraction uses are formed: where
    the quadrature weight of the first index is zero outside an energy window (the Boltzmann
    window of a rung), the GEMM work is 4 (R + 1)(M + 1) D per vector for R nodes instead of
    2 (M + 1)^2 D, and the memory (R + 1) rows of D numbers instead of M + 1.

    How: the k-recursion stores A a_k in a bank and forms the node vectors
    P_j = sum_{k<M} C_jk A a_k (and keeps A a_M) by one GEMM, or, when the bank is given fewer
    rows than M + 1 (memory), accumulates them over chunks of k (slower: each chunk reads and
    writes the node vectors once); the l-recursion
    then gives x_jl = P_j . b_l, b_l = T_l(H~) B v (l <= M). Since T_k-1 + T_k+1 = 2 x T_k and
    T_M vanishes on the M-point nodes, sum_k C_jk (nu_k+1,l + nu_|k-1|,l) = 2 x_j (P_j . b_l)
    + C_j,M-1 (A a_M . b_l) exactly, so with the index shift of :func:`correlation_moments`
    y_jl = half_width/2 (x_j,l+1 + x_j,|l-1| - 2 x_j x_jl - C_j,M-1 x_M,l).

    Parameters
    ----------
    op : ScaledOperator
        H~.
    left, right : callable
        A (symmetric) and B applied to (D, b) blocks.
    v : numpy.ndarray
        Starting vectors, shape (D, b), float64.
    n_moments : int
        M.
    theta : numpy.ndarray
        Nodes theta_j = pi (j + 1/2) / M of the M-point grid (a subset, any order), shape (R,).
    probes : list of numpy.ndarray, optional
        Blocks u_q of shape (D, b) whose overlaps with T_k(H~) v are wanted.
    bank_dtype : numpy dtype
        float32 (single-precision GEMMs) or float64: the node vectors and the chunk buffers.
    node_rows : int, optional
        Nodes per pass (default all): with fewer, both recursions rerun for each further group
        of nodes (2 (M + 1) more products per pass), to fit memory.
    bank_rows : int, optional
        Rows of the k bank (default M + 1: the whole bank, one GEMM per vector).
    chunk : int
        Columns l per GEMM of the l-recursion.

    Returns
    -------
    y : numpy.ndarray
        Shape (b, R, M), float64.
    m : numpy.ndarray
        Shape (b, 2M - 1), float64.
    p : numpy.ndarray
        Shape (b, n_probes, M), float64.

    Raises
    ------
    ValueError
        M < 2, or a theta that is not a node of the M-point grid.
    """
    dim, b = v.shape
    m_out = int(n_moments)
    if m_out < 2:
        raise ValueError(f"n_moments must be >= 2, got {n_moments}")
    theta = np.asarray(theta, dtype=np.float64).ravel()
    if theta.size and np.max(np.abs(np.cos(m_out * theta))) > 1e-8:
        raise ValueError(f"theta must be nodes pi (j + 1/2) / M of the M = {m_out} point grid")
    m_count = m_out + 1
    n_nodes = theta.size
    projector = np.zeros((n_nodes + 1, m_count))
    projector[:n_nodes, :m_out] = quadrature_matrix(theta, m_out) * (n_nodes / m_out)  # 1/M
    projector[n_nodes, m_out] = 1.0  # A a_M itself: the boundary term of the index shift
    probes = list(probes or [])
    per_pass = n_nodes + 1 if node_rows is None else max(1, min(int(node_rows), n_nodes + 1))
    x = np.zeros((b, n_nodes + 1, m_count))
    m = np.zeros((b, 2 * m_count - 1))
    p = np.zeros((b, len(probes), m_count))
    m[:, 0] = _row_dots(v, v)
    fused = op.matrix_free and isinstance(left, ShiftedDiagonal) and v.flags.c_contiguous
    stacked = np.stack(probes) if fused and probes else None
    rows = m_count if bank_rows is None else max(1, min(int(bank_rows), m_count))
    first = True
    for lo in range(0, n_nodes + 1, per_pass):
        hi = min(n_nodes + 1, lo + per_pass)
        weights = projector[lo:hi].astype(bank_dtype)  # a float64 matrix would upcast the GEMM
        nodes = np.empty((b, hi - lo, dim), dtype=bank_dtype)
        bank = np.empty((b, rows, dim), dtype=bank_dtype)
        previous = current = None
        start = 0
        while start < m_count:  # the k-recursion, in chunks of ``rows`` bank rows
            stop = min(m_count, start + rows)
            for k in range(start, stop):
                if k == 0:
                    new = v
                elif k == 1:
                    new = op.apply(v)
                    m[:, 1] = _row_dots(v, new)
                else:  # the matrix-free step may overwrite X_k-2 (not v, which is kept)
                    new = op.step(current, previous, overwrite=fused and previous is not v)
                row = bank[:, k - start, :]
                if fused:
                    dots = record(new, row, current=current if k >= 1 else None,
                                  probes=stacked, stress=left.diagonal, shift=left.shift)
                    if first:
                        if k >= 1:
                            m[:, 2 * k] = 2.0 * dots[0] - m[:, 0]
                            m[:, 2 * k - 1] = 2.0 * dots[1] - m[:, 1]
                        p[:, :, k] = dots[2:].T
                else:
                    if first:
                        if k >= 1:
                            m[:, 2 * k] = 2.0 * _row_dots(new, new) - m[:, 0]
                            m[:, 2 * k - 1] = 2.0 * _row_dots(new, current) - m[:, 1]
                        for j, u in enumerate(probes):
                            p[:, j, k] = _row_dots(new, u)
                    _store(row, left(new))
                previous, current = current, new
            part = np.ascontiguousarray(weights[:, start:stop])
            for i in range(b):  # node vectors = weights @ bank: one GEMM, or accumulated
                if start == 0:
                    np.matmul(part, bank[i, : stop - start], out=nodes[i])
                    continue
                for c0 in range(0, dim, ACCUMULATE_COLUMNS):  # a temporary of a few MB only
                    cols = slice(c0, c0 + ACCUMULATE_COLUMNS)
                    nodes[i, :, cols] += part @ bank[i, : stop - start, cols]
            start = stop
        del bank
        first = False
        del previous, current
        _fill_columns(op, right, v, nodes, x[:, lo:hi, :], chunk, fused)
        del nodes
    cosine = np.cos(theta)
    y = 0.5 * op.scale.half_width * (
        x[:, :n_nodes, 1:] + np.concatenate([x[:, :n_nodes, 1:2], x[:, :n_nodes, :-2]], axis=2)
        - 2.0 * cosine[None, :, None] * x[:, :n_nodes, :m_out]
        - projector[:n_nodes, m_out - 1][None, :, None] * x[:, n_nodes:, :m_out])
    return y, m[:, : 2 * m_out - 1], p[:, :, :m_out]


def gemm_rate(dtype: type = np.float32, size: int = 1 << 16) -> float:
    """Measured matrix-product speed (floating-point operations per second) for this machine."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((256, size)).astype(dtype)
    b = rng.standard_normal((size, 64)).astype(dtype)
    a @ b  # warm up the BLAS threads
    start = time.perf_counter()
    a @ b
    elapsed = max(time.perf_counter() - start, 1e-6)
    return 2.0 * 256 * size * 64 / elapsed


def boltzmann_filter(op: ScaledOperator, t0: float, r: np.ndarray) -> np.ndarray:
    """e^{-(H - E_0)/2T0} r by its Chebyshev series (E_0 = ``op.scale.ground``; T0 in K)."""
    scale = op.scale
    beta = 1.0 / t0
    coefficients = exponential_coefficients(0.5 * beta * scale.half_width)
    prefactor = math.exp(0.5 * beta * (scale.ground - scale.lower))
    return prefactor * chebyshev_series(op, r, coefficients)


def rademacher(seed: np.random.SeedSequence, index: int, dim: int) -> np.ndarray:
    """Random vector i of a stream: +-1 entries from SeedSequence(seed.entropy, key + (i,))."""
    child = np.random.SeedSequence(seed.entropy, spawn_key=tuple(seed.spawn_key) + (index,))
    return np.random.default_rng(child).integers(0, 2, size=dim).astype(np.float64) * 2.0 - 1.0


def operator_bytes(m) -> int:
    """Bytes held by a sparse or dense matrix, or by a matrix-free operator (its ``nbytes``)."""
    if not sp.issparse(m) and not isinstance(m, np.ndarray) and hasattr(m, "nbytes"):
        return int(m.nbytes)
    if sp.issparse(m):
        return int(m.data.nbytes + m.indices.nbytes + m.indptr.nbytes)
    return int(np.asarray(m).nbytes)


def is_diagonal(m: sp.spmatrix) -> bool:
    """Whether a sparse matrix stores only diagonal entries."""
    coo = m.tocoo()
    return bool(np.all(coo.row == coo.col))


def commutator(h, t):
    """C = [H, T] = H T - T H (K^2 per unit strain), sparse when H and T are.

    For a diagonal T (the Pauli s^z stress) C_ij = H_ij (t_j - t_i) keeps the sparsity of H.
    """
    if sp.issparse(h) and sp.issparse(t):
        h = h.tocsr()
        if is_diagonal(t):
            d = t.diagonal()
            rows = np.repeat(np.arange(h.shape[0]), np.diff(h.indptr))
            c = h.copy()
            c.data = h.data * (d[h.indices] - d[rows])
            c.eliminate_zeros()
            return c
        return (h @ t - t @ h).tocsr()
    hd = h.toarray() if sp.issparse(h) else np.asarray(h)
    if sp.issparse(t) and is_diagonal(t):
        d = t.diagonal()
        return hd * (d[None, :] - d[:, None])
    td = t.toarray() if sp.issparse(t) else np.asarray(t)
    return hd @ td - td @ hd


class DiagonalOperator:
    """x -> diag(t) x for (D, b) blocks (a row scaling), t of shape (D,), float64."""

    def __init__(self, diagonal: np.ndarray) -> None:
        self.diagonal = np.ascontiguousarray(diagonal, dtype=np.float64)
        self._column = self.diagonal[:, None]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self._column * x


class ShiftedDiagonal(DiagonalOperator):
    """x -> (diag(t) - c) x, computed as t x - c x (so the fused path of
    :func:`correlation_moments` gives the same numbers)."""

    def __init__(self, diagonal: np.ndarray, shift: float) -> None:
        super().__init__(diagonal)
        self.shift = float(shift)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self._column * x - self.shift * x


def operator_applier(m) -> Apply:
    """x -> M x for (D, b) blocks: a row scaling (:class:`DiagonalOperator`) for a diagonal
    sparse M."""
    if sp.issparse(m):
        m = m.tocsr()
        if is_diagonal(m):
            return DiagonalOperator(m.diagonal())
        return lambda x: np.asarray(m @ x)
    m = np.asarray(m, dtype=np.float64)
    return lambda x: m @ x


def jackknife_ratio(num: np.ndarray, den: np.ndarray, exact: bool = False
                    ) -> tuple[np.ndarray, np.ndarray]:
    """sum num / sum den over random vectors (axis 0) and its jackknife standard error.

    ``den`` has the leading dimensions of ``num``; ``exact`` (an exact trace) gives zero error.
    """
    r_count = num.shape[0]
    extra = (Ellipsis,) + (None,) * (num.ndim - den.ndim)
    sn, sd = num.sum(axis=0), den.sum(axis=0)
    full = sn / sd[extra]
    if exact or r_count < 2:
        return full, np.zeros_like(full)
    loo = (sn[None] - num) / (sd[None] - den)[extra]
    err = np.sqrt((r_count - 1) / r_count * np.sum((loo - loo.mean(axis=0)) ** 2, axis=0))
    return full, err
