"""Matrix-free H, T and C = [H, T] of a TLS realisation, applied to blocks of vectors by bit operations.

A Pauli string of "x" and "z" factors maps basis state s to s ^ m (m: the flip mask of its x sites)
with the sign (-1)^popcount(s & z) of its z sites (z: the XOR of their bits; see
:mod:`manybody.simulation.operators` for the conventions and the sign of a z acting after an x on
the same site). So every TLS Hamiltonian of the model families (site terms eps_i s^z_i and
Delta_i s^x_i, couplings K^ab_ij s^a_i s^b_j with a, b in {x, z}) is

    H = diag(d) + sum_m V_m,    <s ^ m| V_m |s> = sum_t c_t (-1)^popcount(s & z_t),

with the diagonal d (all strings without x factors: eps, K^zz) computed ONCE as a length-D array,
and one group of (coefficient, z mask) per distinct flip mask m (Delta_i and K^xz_ij: single flips;
K^xx_ij: pair flips). One application to a block X (D, b) is, for every row r,

    Y[r] = d[r] X[r] + sum_m w_m(r ^ m) X[r ^ m],

a gather (each output row is written by one thread, so the result does not depend on the number
of threads), fused with the Chebyshev scaling and recursion Y = alpha (H - shift) X - P so the vectors
are read and written once per step. Nothing of size D x (entries per row) is stored: the operator
holds the diagonal of H and of T (2 x 8 D bytes) where the sparse path holds H, T and C in CSR
(about 3 x 12 D (N + 1) bytes).

The stress operator T of these families is diagonal (s^z and s^z s^z terms), so T X is a row
scaling and C = [H, T] has the elements C_rs = H_rs (t_s - t_r) of H's off-diagonal part: the same
gather with the weight multiplied by t[r ^ m] - t[r].

Random-matrix terms (``random_matrix``, ``stress.random_matrix``) are dense D x D: a realisation
with them has no matrix-free form (:func:`matrix_free_refusal` says why) and the solver uses its
sparse/dense path.
"""

from __future__ import annotations

import functools

import numpy as np

from manybody.simulation.ensembles import Realisation
from manybody.simulation.operators import StaticList, _check_terms, stress_terms, tls_terms
from manybody.simulation.solvers.chebyshev.compiled import compile_variant
from manybody.support.compiled_cache import cached_njit

__all__ = ["MatrixFreeOperator", "matrix_free_operators", "matrix_free_refusal", "pauli_groups"]


def matrix_free_refusal(real: Realisation) -> str | None:
    """Why a realisation has no matrix-free form (random-matrix terms), or None when it has one."""
    parts = []
    if real.random_matrix is not None:
        parts.append("random_matrix")
    if real.stress_random_matrix is not None:
        parts.append("stress.random_matrix")
    if not parts:
        return None
    return (f"{' and '.join(parts)} term(s) are dense 2^N x 2^N matrices without a matrix-free "
            "form")


def pauli_groups(n_tls: int, terms: StaticList) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                          np.ndarray, np.ndarray]:
    """A Pauli-string sum as flip groups: diagonal terms and (mask, coefficient, z mask) lists.

    Parameters
    ----------
    n_tls : int
        Number of sites N (site i is bit N-1-i of the state index).
    terms : list of (str, list of [float, int, ...])
        QuSpin static list with operator strings of "x" and "z" (coefficients in K or K per unit
        strain), as built by :func:`manybody.simulation.operators.tls_terms`.

    Returns
    -------
    diagonal : numpy.ndarray
        Shape (n_d, 2): (coefficient, z mask) of the strings without x factors (z mask as float64
        holding an integer < 2^N).
    masks : numpy.ndarray
        Distinct non-zero flip masks m, increasing, shape (n_m,), int64.
    pointers : numpy.ndarray
        Group g holds entries pointers[g]:pointers[g + 1], shape (n_m + 1,), int64.
    coefficients, zmasks : numpy.ndarray
        Per entry, shape (n_e,): coefficient (float64, sign of the operator order included) and
        z mask (int64): <s ^ m| sum |s> = sum_t coefficients[t] (-1)^popcount(s & zmasks[t]).

    Raises
    ------
    ValueError
        As :func:`manybody.simulation.operators.pauli_sum` for bad terms.
    """
    entries = []  # (flip mask, z mask, coefficient) arrays per term
    for op, coef, sites in _check_terms(n_tls, terms):  # the one parser of static lists
        bits = np.left_shift(np.int64(1), n_tls - 1 - sites)
        flip = np.zeros(len(coef), dtype=np.int64)
        zmask = np.zeros(len(coef), dtype=np.int64)
        parity = np.zeros(len(coef), dtype=np.int64)
        for p, letter in enumerate(op):
            if letter == "x":
                flip ^= bits[:, p]
            else:
                zmask ^= bits[:, p]
                for q in range(p + 1, len(op)):  # an x to the right acts first: one sign flip
                    if op[q] == "x":
                        parity += sites[:, q] == sites[:, p]
        entries.append((flip, zmask, coef * (1 - 2 * (parity & 1))))
    if entries:
        flip = np.concatenate([e[0] for e in entries])
        zmask = np.concatenate([e[1] for e in entries])
        coef = np.concatenate([e[2] for e in entries])
    else:
        flip = zmask = np.zeros(0, dtype=np.int64)
        coef = np.zeros(0)
    on_diagonal = flip == 0
    diagonal = np.stack([coef[on_diagonal], zmask[on_diagonal].astype(np.float64)], axis=1)
    order = np.argsort(flip[~on_diagonal], kind="stable")
    flip, zmask, coef = (a[~on_diagonal][order] for a in (flip, zmask, coef))
    masks, starts = np.unique(flip, return_index=True)
    pointers = np.append(starts, flip.size).astype(np.int64)
    return diagonal, masks.astype(np.int64), pointers, coef, zmask


class MatrixFreeOperator:
    """H (K) of a realisation as a diagonal plus flip groups, applied to (D, b) blocks.

    Duck-types the part of a scipy matrix the Chebyshev machinery uses (``shape``, ``dtype``,
    ``@``, ``matvec`` for ARPACK, ``toarray`` for small D, ``diagonal``) and adds the fused
    Chebyshev product :meth:`scaled_product`.

    Parameters
    ----------
    n_tls : int
        Number of sites N (D = 2^N).
    terms : list of (str, list of [float, int, ...])
        QuSpin static list of H (K).
    stress_diagonal : numpy.ndarray, optional
        Diagonal t of a diagonal T (K per unit strain), shape (D,): enables :meth:`commutator_product`.
    """

    def __init__(self, n_tls: int, terms: StaticList, stress_diagonal: np.ndarray | None = None
                 ) -> None:
        self.n_tls = int(n_tls)
        dim = 2**self.n_tls
        self.shape = (dim, dim)
        self.dtype = np.dtype(np.float64)
        diagonal, self.masks, self.pointers, self.coefficients, self.zmasks = pauli_groups(n_tls, terms)
        self._diagonal = _diagonal_kernel()(dim, diagonal[:, 0].copy(), diagonal[:, 1].astype(np.int64))
        # per group: the sum of its z-independent entries, and the z-dependent ones separately
        group = np.repeat(np.arange(self.masks.size), np.diff(self.pointers))
        plain = self.zmasks == 0
        # float64 even with no flips (bincount of nothing is int64; the run kernel takes float64
        # weights only: a reviewer found a diagonal operator failing to compile, session 24)
        self._weights = np.bincount(group[plain], self.coefficients[plain],
                                    self.masks.size).astype(np.float64)
        self._coefficients, self._zmasks = self.coefficients[~plain], self.zmasks[~plain]
        self._pointers = np.searchsorted(group[~plain], np.arange(self.masks.size + 1)).astype(
            np.int64)
        self._run_setups: dict[int, tuple] = {}  # width -> (compiled run kernel, chunk)
        self.stress = None
        if stress_diagonal is not None:
            self.stress = np.ascontiguousarray(stress_diagonal, dtype=np.float64)
            if self.stress.shape != (dim,):
                raise ValueError(f"stress_diagonal must have shape ({dim},), got {self.stress.shape}")

    def __getstate__(self) -> dict:
        """Pickled without the compiled kernels (a process that unpickles it compiles or loads
        its own)."""
        return {**self.__dict__, "_run_setups": {}}

    @property
    def nbytes(self) -> int:
        """Bytes held (the diagonals and the flip groups)."""
        held = [self._diagonal, self.masks, self.pointers, self.coefficients, self.zmasks]
        if self.stress is not None:
            held.append(self.stress)
        return int(sum(a.nbytes for a in held))

    @property
    def entries_per_row(self) -> int:
        """Stored entries per row a CSR matrix of the same operator would have (at most)."""
        return 1 + int(self.masks.size)

    def diagonal(self) -> np.ndarray:
        """The diagonal of H (K), shape (D,), float64 (a copy)."""
        return self._diagonal.copy()

    def scaled_product(self, x: np.ndarray, alpha: float = 1.0, shift: float = 0.0,
                       previous: np.ndarray | None = None, out: np.ndarray | None = None
                       ) -> np.ndarray:
        """alpha (H - shift) X - previous for a block X (D, b) or a vector (D,), as a new array
        (or into ``out``).

        Parameters
        ----------
        x : numpy.ndarray
            Shape (D, b) or (D,), float32 or float64; the result has its dtype (sums in float64).
        alpha, shift : float
            Scale (1/K) and shift (K): 2/half_width and center for a Chebyshev step.
        previous : numpy.ndarray, optional
            Subtracted, same shape as ``x``.
        out : numpy.ndarray, optional
            Receives the result: C-contiguous, the shape and dtype of ``x``, not ``x`` itself;
            it may be ``previous`` (each entry reads its own entry of ``previous`` first).
        """
        return self._product(x, alpha, shift, previous, commutator=False, out=out)

    def commutator_product(self, x: np.ndarray) -> np.ndarray:
        """C X with C = [H, T] = H T - T H (K^2 per unit strain) for the diagonal T given."""
        if self.stress is None:
            raise ValueError("commutator_product needs the stress_diagonal of T")
        return self._product(x, 1.0, 0.0, None, commutator=True)

    def _run_setup(self, width: int):
        """The compiled run kernel for blocks of ``width`` columns and its rows per chunk, made
        once per operator and width (looked up on every step before session 14: about 8 of the
        24 us a step cost outside the kernel)."""
        setups = self._run_setups
        if width not in setups:
            from manybody.simulation.solvers.chebyshev.run_kernel import run_kernel

            tile = min(_TILE_ROWS, self.shape[0])
            low = tuple(int(m) for m in self.masks if m < tile)
            setups[width] = (run_kernel(width, tile, low), _run_chunk(width))
        return setups[width]

    def _product(self, x, alpha, shift, previous, commutator, out=None):
        x = np.asarray(x)
        if x.ndim not in (1, 2) or x.dtype not in (np.float32, np.float64):
            # a 3-D block came back with its trailing part uninitialised, an integer or boolean
            # one truncated or failing to compile (a reviewer's check, session 24)
            raise TypeError("x must be a 1-D vector or a 2-D block (D, b) of float32 or float64, "
                            f"got shape {x.shape} and dtype {x.dtype}")
        vector = x.ndim == 1
        if not vector and x.shape[1] == 0:  # no columns: nothing to compute
            if x.shape[0] != self.shape[0]:
                raise ValueError(f"x must have {self.shape[0]} rows, got shape {x.shape}")
            return np.empty_like(x) if out is None else out
        block = np.ascontiguousarray(x[:, None] if vector else x)
        if block.shape[0] != self.shape[0]:
            raise ValueError(f"x must have {self.shape[0]} rows, got shape {x.shape}")
        if out is None:
            out = np.empty_like(block)
        else:
            if (out.shape != x.shape or out.dtype != block.dtype or not out.flags.c_contiguous
                    or np.may_share_memory(out, x)):
                raise ValueError("out must be a C-contiguous array of the shape and dtype of x, "
                                 "not sharing memory with x")
            out = out[:, None] if vector else out
        prev = block if previous is None else np.ascontiguousarray(
            previous[:, None] if vector else previous, dtype=block.dtype)
        if previous is not None and prev.shape != block.shape:
            raise ValueError(f"previous must have shape {x.shape}, got {previous.shape}")
        stress = self.stress if commutator else self._diagonal[:0]
        kernel_args = (self._diagonal, float(alpha), float(shift))
        group_args = (self.masks, self._weights, self._pointers, self._coefficients, self._zmasks,
                      stress)
        signed = bool(self._zmasks.size)
        if not commutator and not signed:  # constant weight per flip mask: contiguous runs
            width = block.shape[1]
            kernel, chunk = self._run_setup(width)
            threads = max(1, min(_num_threads(), -(-self.shape[0] // chunk)))
            kernel(block.reshape(-1), out.reshape(-1), self._diagonal, float(alpha), float(shift),
                   prev.reshape(-1), previous is not None, self.masks, self._weights, chunk,
                   threads)
            return out[:, 0] if vector else out
        for first in range(0, block.shape[1], MAX_WIDTH):
            cols = slice(first, first + MAX_WIDTH)
            whole = block.shape[1] <= MAX_WIDTH
            x_part = block if whole else np.ascontiguousarray(block[:, cols])
            p_part = prev if whole or previous is None else np.ascontiguousarray(prev[:, cols])
            o_part = out if whole else np.empty_like(x_part)
            _product_kernel(x_part.shape[1], commutator, signed)(
                x_part, o_part, *kernel_args, p_part, previous is not None, *group_args)
            if not whole:
                out[:, cols] = o_part
        return out[:, 0] if vector else out

    def __matmul__(self, x: np.ndarray) -> np.ndarray:
        return self.scaled_product(np.asarray(x))

    def matvec(self, x: np.ndarray) -> np.ndarray:
        """H x for ARPACK (scipy's LinearOperator protocol)."""
        return self.scaled_product(np.asarray(x, dtype=np.float64).reshape(-1))

    def toarray(self) -> np.ndarray:
        """The dense (D, D) matrix (small D only: tests and exact small-D bounds)."""
        return self.scaled_product(np.eye(self.shape[0]))


def matrix_free_operators(real: Realisation) -> tuple[MatrixFreeOperator, np.ndarray]:
    """H (matrix-free) and the diagonal of T of a realisation without random-matrix terms.

    Returns
    -------
    (MatrixFreeOperator, numpy.ndarray)
        H (K), with T attached for the commutator, and t = diag T (K per unit strain), shape (D,).

    Raises
    ------
    ValueError
        When the realisation has random-matrix terms (:func:`matrix_free_refusal`), or its stress
        is not diagonal.
    """
    reason = matrix_free_refusal(real)
    if reason is not None:
        raise ValueError(f"no matrix-free operator for this realisation: {reason}")
    stress = MatrixFreeOperator(real.n_tls, stress_terms(real))
    if stress.masks.size:
        raise ValueError("no matrix-free commutator: the stress operator T is not diagonal")
    t = stress.diagonal()
    return MatrixFreeOperator(real.n_tls, tls_terms(real), stress_diagonal=t), t


#: Widest block with one compiled product: the loops over a row's columns are unrolled for the
#: block's width (a compile-time constant; with the width a runtime value, or a column offset into
#: a wider block, the product was 1.6-3.6x slower at N = 16), so each width in use is compiled once
#: per process; wider blocks are processed in strips of this width.
MAX_WIDTH = 16


@functools.lru_cache(maxsize=1)
def _diagonal_kernel():
    """Compiled sum_t c_t (-1)^popcount(s & z_t) for every state s."""
    import numba  # core dependency, heavy: compiled only when first used

    @cached_njit(parallel=True)
    def diagonal(dim, coefficients, zmasks):
        out = np.zeros(dim)
        for s in numba.prange(dim):
            acc = 0.0
            for t in range(coefficients.size):
                v = s & zmasks[t]  # parity of popcount(v) by folding
                v ^= v >> 32
                v ^= v >> 16
                v ^= v >> 8
                v ^= v >> 4
                v ^= v >> 2
                v ^= v >> 1
                if v & 1:
                    acc -= coefficients[t]
                else:
                    acc += coefficients[t]
            out[s] = acc
        return out

    return diagonal


#: Rows per parallel chunk of the product (one accumulator allocation per chunk).
_ROWS_PER_CHUNK = 2048


@functools.cache
def _product_kernel(width: int, commutator: bool, signed: bool):
    """Compiled fused product on a C-contiguous (D, width) block; the width, the choice of H or
    C = [H, T] and whether any entry has a z sign (``signed``) are compile-time constants."""
    import numba

    chunk = _ROWS_PER_CHUNK

    # cached on disk per (width, commutator, signed): numba keys the cache on the closure values,
    # and each variant has a name of its own (.compiled)
    def product(x, out, diag, alpha, shift, prev, subtract, masks, weights, pointers,
                coefficients, zmasks, stress):
        dim = x.shape[0]
        n_groups = masks.size
        for c in numba.prange((dim + chunk - 1) // chunk):
            acc = np.empty(width)
            for r in range(c * chunk, min(dim, (c + 1) * chunk)):  # row r: written by one thread
                d = 0.0 if commutator else diag[r] - shift
                for j in range(width):
                    acc[j] = d * x[r, j]
                for g in range(n_groups):
                    s = r ^ masks[g]
                    w = weights[g]
                    if signed:
                        for t in range(pointers[g], pointers[g + 1]):
                            v = s & zmasks[t]
                            v ^= v >> 32
                            v ^= v >> 16
                            v ^= v >> 8
                            v ^= v >> 4
                            v ^= v >> 2
                            v ^= v >> 1
                            if v & 1:
                                w -= coefficients[t]
                            else:
                                w += coefficients[t]
                    if commutator:
                        w *= stress[s] - stress[r]
                    for j in range(width):
                        acc[j] += w * x[s, j]
                if subtract:
                    for j in range(width):
                        out[r, j] = alpha * acc[j] - prev[r, j]
                else:
                    for j in range(width):
                        out[r, j] = alpha * acc[j]

    return compile_variant(product, width=width, commutator=commutator, signed=signed)


#: Entries (rows x width) of one row chunk of the run kernel: its float64 accumulator, 32 KB, stays
#: in the level-1/2 cache while every flip mask adds into it.
_RUN_CHUNK_ENTRIES = 4096

#: Rows of the tiles in whose first pass the flips of masks below it are summed (their runs, 1-4
#: rows, are too short for the run loops; 8 measured best of 1-16 at N = 16-20).
_TILE_ROWS = 8


def _run_chunk(width: int) -> int:
    """Rows per chunk of the run kernel: a power of two (so runs of every mask stay aligned
    inside a chunk), at least 256, about ``_RUN_CHUNK_ENTRIES`` / width."""
    return 1 << max(8, (_RUN_CHUNK_ENTRIES // max(1, width)).bit_length() - 1)


def _num_threads() -> int:
    """numba's thread count for the calling thread (numba is imported by the first product)."""
    import numba

    return numba.get_num_threads()
