"""Generic Chebyshev (kernel polynomial) machinery: spectral scaling, recursions, filters, quadrature.

Everything here is independent of the physics: a Hermitian operator H given as a sparse or dense
matrix, the affine map of its spectrum onto [-1, 1], Chebyshev recursions on blocks of vectors,
exponential (Boltzmann) filters and the Gauss-Chebyshev quadrature that turns moments into sums over
nodes (the two-operator moment recursions on blocks of vectors are in :mod:`.moments`).

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
    h: np.ndarray | sp.spmatrix, margin: float = 0.005, tol: float = 1e-8, seed: int = 0,
    upper_tol: float = 1e-4,
) -> SpectralScale:
    """Lowest and highest eigenvalue of a symmetric matrix by Lanczos, widened by a margin.

    The lowest is found to ``tol`` (it is E_0, the origin of every Boltzmann factor), the highest
    only to ``upper_tol`` (session 16: 0.1 s less at N = 16): nothing near the top is resolved,
    and the margin is ample against that tolerance.

    The pad below stays (tried in session 16): without it the plan took 1-5 % fewer moments at
    N = 12-20, but E_0 then lay outside the outermost Chebyshev node, and in the exact-trace
    tests the actual deviation from dense ED at the same M grew up to 2.3x while the truncation
    estimate (0.9 M and 0.95 M) fell, understating it up to 6x.

    Parameters
    ----------
    h : numpy.ndarray, scipy.sparse matrix or MatrixFreeOperator
        Symmetric (D, D) matrix (K), or an operator with ``shape``, ``matvec`` and ``toarray``.
    margin : float
        Fraction of the width added on each side, so that the rescaled spectrum lies inside
        [-1 + ~margin, 1 - ~margin] even though Lanczos extremes converge from inside.
    tol : float
        Relative tolerance of the Lanczos (ARPACK) iteration for the lowest eigenvalue.
    seed : int
        Seed of the (deterministic) Lanczos starting vector.
    upper_tol : float
        Relative tolerance for the highest eigenvalue (at most ``margin`` / 10, at least
        ``tol``); ten times it (relative to the largest |eigenvalue|, at least 1 K) is added to
        the pad above. Up to D = 512 both extremes are exact (dense) and ``tol`` pads both.

    Returns
    -------
    SpectralScale
    """
    dim = h.shape[0]
    top_tol = max(tol, min(upper_tol, 0.1 * margin))
    if dim <= 512:  # exact extremes: the pads of the Lanczos path
        dense = h.toarray() if hasattr(h, "toarray") else np.asarray(h)
        levels = np.linalg.eigvalsh(dense.astype(np.float64))
        low, high = float(levels[0]), float(levels[-1])
        top_tol = tol
    else:
        v0 = np.random.default_rng(seed).standard_normal(dim)
        low = float(eigsh(h, k=1, which="SA", tol=tol, v0=v0, return_eigenvectors=False)[0])
        high = float(eigsh(h, k=1, which="LA", tol=top_tol, v0=v0, return_eigenvectors=False)[0])
    width = max(high - low, 1e-12 * max(1.0, abs(low)))
    size = max(abs(low), abs(high), 1.0)
    return SpectralScale(lower=low - margin * width - 10 * tol * size,
                         upper=high + margin * width + 10 * top_tol * size, ground=low)


#: Calls of :class:`ScaledOperator` whose times per vector give its rate (the pilot's products and
#: the first steps of the solve).
RATE_CALLS = 256


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
        self._rates: list[float] = []  # seconds per column of the first RATE_CALLS calls
        self._fused = getattr(h, "scaled_product", None)

    @property
    def matrix_free(self) -> bool:
        """Whether H is applied without a stored matrix."""
        return self._fused is not None

    def _fused_step(self, x: np.ndarray, alpha: float, previous: np.ndarray | None,
                    out: np.ndarray | None = None) -> np.ndarray:
        start = time.perf_counter()
        y = self._fused(x, alpha, self.scale.center, previous, out=out)
        self._count(time.perf_counter() - start, x)
        return y

    def _count(self, elapsed: float, x: np.ndarray) -> None:
        columns = x.shape[1] if x.ndim == 2 else 1
        self.seconds += elapsed
        self.products += columns
        if len(self._rates) < RATE_CALLS:
            self._rates.append(elapsed / columns)

    @property
    def dimension(self) -> int:
        return self.h.shape[0]

    def _h_dot(self, x: np.ndarray) -> np.ndarray:
        start = time.perf_counter()
        y = self.h @ x
        self._count(time.perf_counter() - start, x)
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
        """Wall time of one matrix-vector product (s): the median over the first
        :data:`RATE_CALLS` calls of each call's time per vector, or NaN before any.

        The median, not the mean: one pause among the pilot's few products (a garbage
        collection, a kernel compiled on first use, another process) made the plan of an
        N = 8 solve of 1-2 s "estimated at 3.6 h" (a helper, session 35) and could refuse it
        under ``max_seconds``.
        """
        return float(np.median(self._rates)) if self._rates else float("nan")


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


def quadrature_matrix(theta: np.ndarray, n_moments: int, n_grid: int | None = None) -> np.ndarray:
    """C[i, k] = (2 - delta_k0) cos(k theta_i) / n: node weights are C @ moments.

    ``theta`` are nodes of the n-point grid (n = ``n_grid``, default ``theta.size``: the whole
    grid); for a subset of the grid's nodes give ``n_grid``. Shape (theta.size, n_moments)."""
    k = np.arange(n_moments)
    c = np.cos(np.outer(theta, k))
    c[:, 1:] *= 2.0
    c /= theta.size if n_grid is None else n_grid
    return c


def node_values(moments: np.ndarray, n_nodes: int) -> np.ndarray:
    """C @ m along the last axis on the whole ``n_nodes``-point grid, by a DCT-III.

    rho_i = (m_0 + 2 sum_{k>=1} m_k cos(k theta_i)) / n with theta_i = pi (i + 1/2) / n, the
    same numbers as ``moments @ quadrature_matrix(theta, K).T`` to round-off in O(n log n) per row
    (scipy.fft.dct, type 3: y_i = x_0 + 2 sum_k x_k cos(pi k (2i + 1) / 2n)) instead of O(n K)
    with n K cosines formed.

    Parameters
    ----------
    moments : numpy.ndarray
        Shape (..., K), K <= n_nodes (zero-padded to n_nodes).
    n_nodes : int
        n.

    Returns
    -------
    numpy.ndarray
        Shape (..., n_nodes), float64.
    """
    moments = np.asarray(moments, dtype=np.float64)
    count = moments.shape[-1]
    if n_nodes < count:
        raise ValueError(f"need at least as many nodes as moments, got {n_nodes} < {count}")
    padded = np.zeros(moments.shape[:-1] + (n_nodes,))
    padded[..., :count] = moments
    return dct(padded, type=3, axis=-1) / n_nodes


def node_weights(moments: np.ndarray, n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature weights rho_i = C @ m on ``n_nodes`` >= len(m) nodes; returns (x_i, rho_i)."""
    return chebyshev_nodes(n_nodes)[1], node_values(moments, n_nodes)


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


def gemm_rate(dtype: type = np.float32, size: int = 1 << 16) -> float:
    """Measured matrix-product speed (floating-point operations per second) for this machine:
    the faster of two (256, size) x (size, 64) products after a warm-up.

    The factors are constant arrays: a GEMM's speed does not depend on its (normal) values, and
    drawing 2 x 10^7 Gaussian numbers for them made this measurement cost 0.35-0.74 s (the GEMMs
    0.03 s) in every new process, 6-11 % of a first N = 16 solve (session 23).
    """
    a = np.full((256, size), 0.5, dtype=dtype)
    b = np.full((size, 64), 0.25, dtype=dtype)
    a @ b  # warm up the BLAS threads
    elapsed = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        a @ b
        elapsed = min(elapsed, time.perf_counter() - start)
    return 2.0 * 256 * size * 64 / max(elapsed, 1e-6)


def boltzmann_filter(op: ScaledOperator, t0: float, r: np.ndarray) -> np.ndarray:
    """e^{-(H - E_0)/2T0} r by its Chebyshev series (E_0 = ``op.scale.ground``; T0 in K)."""
    scale = op.scale
    beta = 1.0 / t0
    coefficients = exponential_coefficients(0.5 * beta * scale.half_width)
    prefactor = math.exp(0.5 * beta * (scale.ground - scale.lower))
    return prefactor * chebyshev_series(op, r, coefficients)


def relative_filter(scale: SpectralScale, t0: float, top: float) -> np.ndarray:
    """Chebyshev coefficients of psi(H~) = e^{-(1/2T0 - 1/2T_top)(H - E_0)} (T0 <= T_top, in K).

    psi(H~) applied after :func:`boltzmann_filter` at T_top is the filter at T0: both series are
    the exponential's to 1e-13 absolute (:func:`exponential_coefficients`), relative to the value
    1 at E_0 (times e^{(E_0 - E_lower)/2T} <= a few), so their product differs from the filter at
    T0 by about 2e-13 of that (:mod:`.moments`, :func:`.moments.shared_node_moments`).
    [1.0] for T0 = T_top.

    Raises
    ------
    ValueError
        When T0 > T_top.
    """
    excess = 1.0 / t0 - 1.0 / top
    if excess < -1e-12 / top:
        raise ValueError(f"relative_filter needs t0 <= top, got t0={t0!r} > top={top!r}")
    if excess <= 0.0:
        return np.ones(1)
    prefactor = math.exp(0.5 * excess * (scale.ground - scale.lower))
    return prefactor * exponential_coefficients(0.5 * excess * scale.half_width)


def product_matrix(coefficients: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """P[k, m] with T_k(x) f(x) = sum_m P[k, m] T_m(x), f = sum_n c_n T_n (k < rows, m < columns).

    T_k T_n = (T_k+n + T_|k-n|) / 2, so every entry k of a row gets c_n / 2 at m = k + n and at
    |k - n|; ``columns`` must be at least rows + len(c) - 1 (the product's degree + 1).

    Raises
    ------
    ValueError
        When ``columns`` is too small to hold the product.
    """
    c = np.asarray(coefficients, dtype=np.float64).ravel()
    if columns < rows + c.size - 1:
        raise ValueError(f"product_matrix needs columns >= rows + len(c) - 1 = "
                         f"{rows + c.size - 1}, got {columns}")
    out = np.zeros((rows, columns))
    k = np.arange(rows)
    for n, value in enumerate(c):
        out[k, k + n] += 0.5 * value
        out[k, np.abs(k - n)] += 0.5 * value
    return out


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
