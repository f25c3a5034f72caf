"""Two-operator Chebyshev moments of blocks of vectors: the recursions and GEMMs of the solver.

:func:`correlation_moments` forms the full moment matrix mu_kl = <v| T_k(H~) A^T T_l(H~) B |v>
(k, l < M) from a bank of stored vectors; :func:`node_correlation_moments` forms only its
projection on chosen Chebyshev nodes of the first index, which is all the solver's contraction
uses where the thermal window is narrow. Both take the commutator C = [H, A] without applying it
and do a step's bookkeeping in one compiled pass on the matrix-free path (:mod:`.fused`).
Conventions (nodes, quadrature, scaling) are those of :mod:`.kpm`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from manybody.simulation.solvers.chebyshev.fused import record, store
from manybody.simulation.solvers.chebyshev.gemm import matmul_columns, matmul_inner
from manybody.simulation.solvers.chebyshev.kpm import (
    Apply,
    ScaledOperator,
    ShiftedDiagonal,
    product_matrix,
    quadrature_matrix,
)
from manybody.simulation.solvers.chebyshev.workspace import Workspace

__all__ = ["ACCUMULATE_COLUMNS", "NodeRung", "correlation_moments", "node_correlation_moments",
           "shared_node_moments", "shared_rows"]


def _row_dots(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Column-wise dot products of two (D, b) blocks, in float64."""
    return np.einsum("ij,ij->j", a, b, dtype=np.float64)


def _store(out: np.ndarray, x: np.ndarray) -> None:
    """Copy a (D, b) float64 block into rows of ``out`` (b, D) (cast to the bank precision).

    Filtered vectors can have float32-subnormal entries; measured, they slow the GEMM by ~15 % at
    most, less than flushing them would cost, so they are kept.
    """
    out[...] = x.T



def _advance(op: ScaledOperator, v: np.ndarray, k: int, current, previous, fused: bool):
    """X_k = T_k(H~) v from X_k-1 (``current``) and X_k-2 (``previous``); the matrix-free step may
    overwrite X_k-2 (never v, which is kept)."""
    if k == 0:
        return v
    if k == 1:
        return op.apply(v)
    return op.step(current, previous, overwrite=fused and previous is not v)


def _keep(new, current, k, row, left, fused, probes, stacked, m, p) -> None:
    """Store A X_k (X_k itself for ``left`` None) into the bank ``row`` (b, D) and, unless ``m``
    is None, record the one-operator moments m_2k = 2<X_k|X_k> - m_0, m_2k-1 = 2<X_k|X_k-1> - m_1
    and the probe moments <X_k|u_q> (on the matrix-free path all in one pass, :mod:`.fused`)."""
    if m is not None and k == 1:
        m[:, 1] = _row_dots(current, new)
    if fused:
        dots = record(new, row, current=current if k >= 1 else None, probes=stacked,
                      stress=None if left is None else left.diagonal,
                      shift=0.0 if left is None else left.shift)
    else:
        _store(row, new if left is None else left(new))
        if m is None:
            return
        dots = np.stack([_row_dots(new, new), _row_dots(new, current) if k >= 1 else m[:, 0],
                         *(_row_dots(new, u) for u in probes)])
    if m is None:
        return
    if k >= 1:
        m[:, 2 * k] = 2.0 * dots[0] - m[:, 0]
        m[:, 2 * k - 1] = 2.0 * dots[1] - m[:, 1]
    p[:, :, k] = dots[2:].T

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
    threads: int = 1,
    workspace: Workspace | None = None,
    summed: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two-operator Chebyshev moments of a block of vectors.

    For each column v_i of ``v``::

        mu_kl = <v_i| T_k(H~) A^T T_l(H~) B |v_i>,   k, l < M,
        m_k   = <v_i| T_k(H~) |v_i>,                 k < 2M - 1,
        p_jk  = <v_i| T_k(H~) |u_j,i>,               k < M, for each probe block u_j,

    with A = ``left`` and B = ``right``, and the overlaps with B v,

        q_k   = <A T_k(H~) v_i | B v_i>,             k < M,

    which are the l = 0 column of the GEMMs (of A's moments, before the commutator's index shift
    below) and cost nothing: the solver's pole term uses them instead of a probe's dots (session
    16: one stream fewer in every step's bookkeeping). With ``left_commutator`` the left
    operator is instead the commutator C = [H, A] of a symmetric A, obtained without applying C:
    per vector exactly, (C a_k).b_l = (A a_k).(H b_l) - (A H a_k).b_l and H acting on a
    Chebyshev vector is an index shift (H T_l = center T_l + half_width (T_l+1 + T_|l-1|) / 2),
    so with nu_kl = (A a_k).b_l (k, l <= M)
    mu_kl = half_width/2 (nu_k,l+1 + nu_k,|l-1| - nu_k+1,l - nu_|k-1|,l). That saves M
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
    threads : int
        Threads of the GEMMs (:mod:`.gemm`: fixed tasks, single-threaded BLAS; the numbers do not
        depend on it).
    workspace : Workspace, optional
        Where the bank ("scratch", as the bank of :func:`node_correlation_moments`, the largest
        array of either form) and the l buffer ("left") are taken from (default: a new one); a
        solve passes one to all its rungs and blocks (:mod:`.workspace`).
    summed : bool
        Return mu summed over the block, shape (1, M, M), formed chunk by chunk without the
        per-vector matrices (an exact trace uses only the sum: at D = 64, M ~ 1700 the 64
        per-vector matrices and the commutator's copy of them peaked at 6.9 GB).

    Returns
    -------
    mu : numpy.ndarray
        Shape (b, M, M), float64 (``summed``: (1, M, M)).
    m : numpy.ndarray
        Shape (b, 2M - 1), float64.
    p : numpy.ndarray
        Shape (b, n_probes, M), float64.
    q : numpy.ndarray
        Shape (b, M), float64: <A T_k(H~) v | B v> (with ``left_commutator``, A is ``left``
        itself, not C; ``summed``: (1, M), the sum over the block).
    """
    dim, b = v.shape
    m_out = int(n_moments)
    if m_out < 2:
        raise ValueError(f"n_moments must be >= 2, got {n_moments}")
    m_count = m_out + 1 if left_commutator else m_out
    probes = list(probes or [])
    rows = m_count if bank_rows is None else max(1, min(int(bank_rows), m_count))
    mu = np.zeros((1 if summed else b, m_count, m_count))
    m = np.zeros((b, 2 * m_count - 1))
    p = np.zeros((b, len(probes), m_count))
    m[:, 0] = _row_dots(v, v)
    fused = op.matrix_free and isinstance(left, ShiftedDiagonal) and v.flags.c_contiguous
    stacked = np.stack(probes) if fused and probes else None
    workspace = Workspace() if workspace is None else workspace
    previous = current = None
    start = 0
    while start < m_count:
        stop = min(m_count, start + rows)
        bank = workspace.take_rows("scratch", (b, stop - start, dim), bank_dtype)
        for k in range(start, stop):
            new = _advance(op, v, k, current, previous, fused)
            _keep(new, current, k, bank[:, k - start, :], left, fused, probes, stacked, m, p)
            previous, current = current, new
        _fill_columns(op, right, v, bank, mu[:, start:stop, :], chunk, fused, threads, workspace,
                      "left")
        del bank
        start = stop
    q = mu[:, :m_out, 0].copy()
    if left_commutator:  # nu_k,l+1 + nu_k,|l-1| - nu_k+1,l - nu_|k-1|,l in that order, in one
        nu = mu  # array (four shifted copies of nu were 4 M^2 b float64 more at the peak)
        mu = nu[:, :m_out, 1:].copy()
        mu[:, :, 0] += nu[:, :m_out, 1]
        mu[:, :, 1:] += nu[:, :m_out, : m_out - 1]
        mu -= nu[:, 1:, :m_out]
        mu[:, 0, :] -= nu[:, 1, :m_out]
        mu[:, 1:, :] -= nu[:, : m_out - 1, :m_out]
        mu *= 0.5 * op.scale.half_width
        del nu
        m = m[:, : 2 * m_out - 1]
        p = p[:, :, :m_out]
    return mu, m, p, q


def _fill_columns(op, right, v, bank, out, chunk, fused=False, threads=1, workspace=None,
                  role="scratch", scale=None):
    """out[:, :, l] = bank @ T_l(H~) B v for all l < M (bank @ S T_l(H~) B v with a diagonal
    ``scale`` S, a :class:`.kpm.ShiftedDiagonal`), in GEMM chunks of ``chunk`` columns
    (``fused``: matrix-free steps in place and stores by :func:`.fused.store`; GEMMs on
    ``threads`` threads, :mod:`.gemm`; the buffer is the workspace's ``role``)."""
    b, _, dim = bank.shape
    m_count = out.shape[2]
    workspace = Workspace() if workspace is None else workspace
    buffer = workspace.take_rows(role, (b, min(chunk, m_count), dim), bank.dtype)
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
            if fused:  # the l-recursion needs no dots
                store(new, buffer[:, l_index - start, :],
                      stress=None if scale is None else scale.diagonal,
                      shift=0.0 if scale is None else scale.shift)
            else:
                _store(buffer[:, l_index - start, :], new if scale is None else scale(new))
        used = buffer[:, : stop - start, :]
        if out.shape[0] == b:
            matmul_inner(bank, used.transpose(0, 2, 1), out[:, :, start:stop], threads)
        else:  # the block's sum (correlation_moments' ``summed``), in vector order
            each = np.empty((b, out.shape[1], stop - start))
            matmul_inner(bank, used.transpose(0, 2, 1), each, threads)
            out[0, :, start:stop] = each.sum(axis=0)
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
    threads: int = 1,
    workspace: Workspace | None = None,
    basis: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Commutator moments projected on Chebyshev nodes along their first index.

    For each column v_i of ``v`` and each node theta_j of the M-point Gauss-Chebyshev grid given::

        y_jl = sum_{k<M} C_jk mu_kl,   C_jk = (2 - delta_k0) cos(k theta_j) / M,   l < M,

    with mu_kl = <v_i| T_k(H~) C^T T_l(H~) B |v_i> the moments of :func:`correlation_moments`
    with ``left_commutator`` (C = [H, A], A = ``left``, B = ``right``), the same one-operator
    moments m and probe overlaps p, and the overlaps q of :func:`correlation_moments` projected on
    the same nodes, q_j = sum_{k<M} C_jk <A T_k(H~) v_i | B v_i> = P_j . B v_i: the l = 0 column
    of the l-recursion's first GEMM, so free. Only the rows (nodes) the contraction uses are formed: where
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

    With a ``basis`` U (R, r) of orthonormal columns only the r node vectors P'_p = sum_j U_jp P_j
    are formed (r + 1 rows instead of R + 1: GEMM work and memory), and x is replaced by its
    projection U U^T x before y is formed: a readout of y whose x-form lies in span(U) is
    unchanged (:func:`.contraction.readout_basis`); y itself is not.

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
    threads : int
        Threads of the GEMMs (:mod:`.gemm`: fixed tasks, single-threaded BLAS; the numbers do not
        depend on it).
    workspace : Workspace, optional
        Where the node vectors ("left"), the bank and the l buffer ("scratch") are taken from
        (default: a new one); a solve passes one to all its rungs and blocks (:mod:`.workspace`).
    basis : numpy.ndarray, optional
        U, shape (R, r), orthonormal columns: form the r compressed node vectors only (``node_rows``
        then counts compressed rows).

    Returns
    -------
    y : numpy.ndarray
        Shape (b, R, M), float64 (with a ``basis``, from U U^T x).
    m : numpy.ndarray
        Shape (b, 2M - 1), float64.
    p : numpy.ndarray
        Shape (b, n_probes, M), float64.
    q : numpy.ndarray
        Shape (b, R), float64: the node-projected overlaps with B v.

    Raises
    ------
    ValueError
        M < 2, a theta that is not a node of the M-point grid, or a basis whose rows are not
        the R nodes.
    """
    dim, b = v.shape
    m_out = int(n_moments)
    if m_out < 2:
        raise ValueError(f"n_moments must be >= 2, got {n_moments}")
    theta = np.asarray(theta, dtype=np.float64).ravel()
    m_count = m_out + 1
    basis = None if basis is None else np.asarray(basis, dtype=np.float64)
    projector, quadrature = _node_projector(theta, m_out, basis)
    n_rows = projector.shape[0] - 1
    probes = list(probes or [])
    per_pass = n_rows + 1 if node_rows is None else max(1, min(int(node_rows), n_rows + 1))
    x = np.zeros((b, n_rows + 1, m_count))
    m = np.zeros((b, 2 * m_count - 1))
    p = np.zeros((b, len(probes), m_count))
    m[:, 0] = _row_dots(v, v)
    fused = op.matrix_free and isinstance(left, ShiftedDiagonal) and v.flags.c_contiguous
    stacked = np.stack(probes) if fused and probes else None
    rows = m_count if bank_rows is None else max(1, min(int(bank_rows), m_count))
    workspace = Workspace() if workspace is None else workspace
    first = True
    for lo in range(0, n_rows + 1, per_pass):
        hi = min(n_rows + 1, lo + per_pass)
        weights = projector[lo:hi].astype(bank_dtype)  # a float64 matrix would upcast the GEMM
        nodes = workspace.take_rows("left", (b, hi - lo, dim), bank_dtype)
        bank = workspace.take_rows("scratch", (b, rows, dim), bank_dtype)
        previous = current = None
        start = 0
        while start < m_count:  # the k-recursion, in chunks of ``rows`` bank rows
            stop = min(m_count, start + rows)
            for k in range(start, stop):  # the moments m and p once, in the first pass
                new = _advance(op, v, k, current, previous, fused)
                _keep(new, current, k, bank[:, k - start, :], left, fused, probes, stacked,
                      m if first else None, p)
                previous, current = current, new
            part = np.ascontiguousarray(weights[:, start:stop])
            # node vectors = weights @ bank: one GEMM, or accumulated over chunks of the bank
            # (in column blocks of D; accumulating, a temporary of a few MB only)
            matmul_columns(part, bank[:, : stop - start], nodes, ACCUMULATE_COLUMNS, threads,
                           accumulate=start > 0)
            start = stop
        del bank
        first = False
        del previous, current
        _fill_columns(op, right, v, nodes, x[:, lo:hi, :], chunk, fused, threads, workspace)
        del nodes
    y, q = _index_shift(x, theta, quadrature, basis, op.scale.half_width)
    return y, m[:, : 2 * m_out - 1], p[:, :, :m_out], q


def _node_projector(theta: np.ndarray, m_out: int, basis: np.ndarray | None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The weights of the node vectors on the k bank, shape (rows + 1, M + 1): the quadrature
    rows C_jk of the nodes (or U^T C with a basis) and the boundary row picking A a_M; and C
    itself (R, M). Raises ValueError for theta off the M-point grid or a basis of other rows."""
    if theta.size and np.max(np.abs(np.cos(m_out * theta))) > 1e-8:
        raise ValueError(f"theta must be nodes pi (j + 1/2) / M of the M = {m_out} point grid")
    n_nodes = theta.size
    quadrature = quadrature_matrix(theta, m_out, m_out)
    if basis is not None and (basis.ndim != 2 or basis.shape[0] != n_nodes
                              or basis.shape[1] > n_nodes):
        raise ValueError(f"basis must have shape (R, r) with R = {n_nodes} nodes and r <= R, "
                         f"got {basis.shape}")
    n_rows = n_nodes if basis is None else basis.shape[1]  # node vectors formed
    projector = np.zeros((n_rows + 1, m_out + 1))
    projector[:n_rows, :m_out] = quadrature if basis is None else basis.T @ quadrature
    projector[n_rows, m_out] = 1.0  # A a_M itself: the boundary term of the index shift
    return projector, quadrature


def _index_shift(x: np.ndarray, theta: np.ndarray, quadrature: np.ndarray,
                 basis: np.ndarray | None, half_width: float) -> tuple[np.ndarray, np.ndarray]:
    """y (b, R, M) and q (b, R) from the overlaps x (b, rows + 1, M + 1) of the node vectors (the
    last row: A a_M) with the l-recursion: x -> U U^T x with a basis, then the commutator's
    index shift of :func:`node_correlation_moments`."""
    n_nodes, m_out = quadrature.shape
    if basis is not None:  # x -> U U^T x on the nodes; the boundary row A a_M . b_l as it is
        x = np.concatenate([np.matmul(basis, x[:, :-1]), x[:, -1:]], axis=1)
    cosine = np.cos(theta)
    y = 0.5 * half_width * (
        x[:, :n_nodes, 1:] + np.concatenate([x[:, :n_nodes, 1:2], x[:, :n_nodes, :-2]], axis=2)
        - 2.0 * cosine[None, :, None] * x[:, :n_nodes, :m_out]
        - quadrature[:, m_out - 1][None, :, None] * x[:, n_nodes:, :m_out])
    return y, x[:, :n_nodes, 0].copy()


@dataclass(frozen=True)
class NodeRung:
    """One rung of :func:`shared_node_moments`.

    Attributes
    ----------
    n_moments : int
        M of the rung.
    theta : numpy.ndarray
        Its window nodes theta_j of the M-point grid, shape (R,).
    relative : numpy.ndarray
        Chebyshev coefficients of psi (:func:`.kpm.relative_filter`): the rung's vectors are
        psi(H~) v for the shared v ([1.0] for the rung v was filtered for).
    shift : float
        c of its stress operator T - c (K per unit strain; :class:`.plan.Rung`).
    basis : numpy.ndarray or None
        Its compressed node basis U (R, r), or None.
    """

    n_moments: int
    theta: np.ndarray
    relative: np.ndarray
    shift: float
    basis: np.ndarray | None = None


def shared_rows(rungs: list[NodeRung] | tuple[NodeRung, ...]) -> int:
    """Rows of the shared k bank: max over the rungs of M + len(psi) (a_0 ... a_{M + deg psi})."""
    return max(r.n_moments + r.relative.size for r in rungs)


def shared_node_moments(
    op: ScaledOperator,
    stress: ShiftedDiagonal,
    right: Apply,
    v: np.ndarray,
    rungs: list[NodeRung] | tuple[NodeRung, ...],
    *,
    bank_dtype: type = np.float32,
    bank_rows: int | None = None,
    chunk: int = 64,
    threads: int = 1,
    workspace: Workspace | None = None,
):
    """The node-projected moments of every rung of a ladder from one k-recursion (session 21).

    Rung i of the ladder needs, per vector, the Chebyshev vectors T_k(H~) v_i of its filtered
    vector v_i = e^{-(H - E_0)/2T0_i} r, k <= M_i, for its node vectors, and the l-recursion
    T_l(H~) C v_i. With v = v_0 (the filter at the top rung, T0_0 >= T0_i) and
    v_i = psi_i(H~) v (:func:`.kpm.relative_filter`: the filter at T0_i to 1e-13), the first are
    polynomials in H~ of v, T_k psi_i = sum_m P_km T_m (:func:`.kpm.product_matrix`), so one
    k-recursion a_m = T_m(H~) v, m < K = max_i(M_i + deg psi_i) + 1, serves every rung: its bank
    holds a_m (not (T - c) a_m), the node vectors of rung i are W_i P_i applied to it (W_i the
    weights of :func:`node_correlation_moments`; all rungs in one GEMM), and the rung's
    stress T - c_i multiplies the l-vectors instead, x_jl = (W_i P_i a) . (T - c_i) b_l, which is
    the same number since T is diagonal. The one-operator moments of v_i follow exactly from
    those of v: <v_i|T_k|v_i> = sum_n s_n (m_k+n + m_|k-n|) / 2 with s the coefficients of psi_i^2.
    The l-recursions start from C v_i, v_i = sum_n psi_n a_n accumulated during the k-recursion;
    they cannot be shared (C does not commute with H). Products: K + sum_i (M_i + 1) per vector,
    against sum_i (2 (M_i + 1) + filter terms) rung by rung: at N = 16-18 about 35 % fewer.

    The results equal those of :func:`node_correlation_moments` with the rung's own filtered
    vector and ``left`` = T - c_i to the filters' 1e-13 and the bank's rounding (tests).

    Parameters
    ----------
    op : ScaledOperator
        H~.
    stress : ShiftedDiagonal
        T (its diagonal; the shift is each rung's own).
    right : callable
        C applied to (D, b) blocks.
    v : numpy.ndarray
        The vectors filtered at the top rung, shape (D, b), float64.
    rungs : sequence of NodeRung
        The rungs, any order.
    bank_dtype, chunk, threads : as in :func:`node_correlation_moments`
    bank_rows : int, optional
        Rows of the bank (default K, the whole bank: one GEMM per block of vectors). With fewer
        (session 22: under a memory cap) the node vectors are accumulated over chunks of the
        bank, as :func:`node_correlation_moments` does; the same numbers to the GEMMs' rounding.
    workspace : Workspace, optional
        The bank ("scratch"), the node vectors of all rungs ("left") and the l buffer
        ("scratch" again, after the bank): :func:`.costs.shared_bytes` counts them.

    Yields
    ------
    tuple of numpy.ndarray
        Per rung, in order: y (b, R, M), m (b, 2M - 1), q (b, R), as
        :func:`node_correlation_moments` returns them (without the probes).

    Raises
    ------
    ValueError
        For theta off a rung's grid, or a basis of other rows.
    """
    dim, b = v.shape
    rungs = list(rungs)
    k_count = shared_rows(rungs)
    weights, quadratures, offsets = [], [], [0]
    for rung in rungs:
        basis = None if rung.basis is None else np.asarray(rung.basis, dtype=np.float64)
        projector, quadrature = _node_projector(np.asarray(rung.theta, dtype=np.float64),
                                                rung.n_moments, basis)
        weights.append(projector @ product_matrix(rung.relative, rung.n_moments + 1, k_count))
        quadratures.append(quadrature)
        offsets.append(offsets[-1] + projector.shape[0])
    fused = op.matrix_free and v.flags.c_contiguous
    workspace = Workspace() if workspace is None else workspace
    m = np.zeros((b, 2 * k_count - 1))
    m[:, 0] = _row_dots(v, v)
    no_probes = np.zeros((b, 0, k_count))
    starts = [v if r.relative.size == 1 and r.relative[0] == 1.0 else np.zeros_like(v)
              for r in rungs]
    rows = k_count if bank_rows is None else max(1, min(int(bank_rows), k_count))
    stacked = np.vstack(weights).astype(bank_dtype)  # a float64 matrix would upcast the GEMM
    nodes = workspace.take_rows("left", (b, offsets[-1], dim), bank_dtype)
    bank = workspace.take_rows("scratch", (b, rows, dim), bank_dtype)
    previous = current = None
    for first in range(0, k_count, rows):  # the k-recursion, in chunks of ``rows`` bank rows
        stop = min(k_count, first + rows)
        for k in range(first, stop):
            new = _advance(op, v, k, current, previous, fused)
            _keep(new, current, k, bank[:, k - first, :], None, fused, [], None, m, no_probes)
            for rung, start in zip(rungs, starts, strict=True):
                if start is not v and k < rung.relative.size:
                    start += rung.relative[k] * new
            previous, current = current, new
        # node vectors of every rung = weights @ bank: one GEMM, or accumulated over the chunks
        matmul_columns(np.ascontiguousarray(stacked[:, first:stop]), bank[:, : stop - first],
                       nodes, ACCUMULATE_COLUMNS, threads, accumulate=first > 0)
    del previous, current, bank
    for i, rung in enumerate(rungs):
        lo, hi = offsets[i], offsets[i + 1]
        m_count = rung.n_moments + 1
        x = np.zeros((b, hi - lo, m_count))
        _fill_columns(op, right, starts[i], nodes[:, lo:hi], x, chunk, fused, threads,
                      workspace, scale=ShiftedDiagonal(stress.diagonal, rung.shift))
        starts[i] = None
        theta = np.asarray(rung.theta, dtype=np.float64)
        y, q = _index_shift(x, theta, quadratures[i], rung.basis, op.scale.half_width)
        del x
        yield y, _rung_moments(m, rung.relative, 2 * rung.n_moments - 1), q


def _rung_moments(m: np.ndarray, relative: np.ndarray, count: int) -> np.ndarray:
    """<psi v|T_k|psi v> for k < count from m_n = <v|T_n|v> (b, n): psi^2 = sum_n s_n T_n, then
    T_k psi^2 = sum_n s_n (T_k+n + T_|k-n|) / 2 (:func:`.kpm.product_matrix`)."""
    if relative.size == 1 and relative[0] == 1.0:
        return m[:, :count].copy()
    square = product_matrix(relative, relative.size, 2 * relative.size - 1).T @ relative
    return m[:, : count + square.size - 1] @ product_matrix(square, count,
                                                          count + square.size - 1).T
