"""Many-body operators on the 2^N states of N TLS.

Two builders of Pauli-string sums give the same matrices:

- QuSpin (:func:`pauli_sum`, sparse csr) is the builder of record and the reference. It builds the
  sparse operators of the large-N Chebyshev path (``build_operators(dense=False)``) and cross-checks
  the other builder in the tests. QuSpin lives only in this module.
- Bit arithmetic (:func:`pauli_sum_dense`, :func:`pauli_sum_csr`) builds the operators of the dense
  ED path. A Pauli string of "x" and "z" maps state s to s XOR (flip mask of the x sites) with a
  sign from the z sites, so all couplings of one string are a few numpy operations. QuSpin's
  per-term overhead dominated small-N runs: building H and T of a dipolar realisation took
  4.0 ms with QuSpin and 0.31 ms by bit arithmetic at N = 8 (6.6 and 0.66 ms at N = 10), and
  ``observe`` went from 14.9 to 10.7 ms per realisation at N = 8 (process time, one
  BLAS thread; results/bench/operators_build.json).

Conventions: Pauli matrices with eigenvalues +-1 (``pauli=1``), operator strings "x" and "z" only;
basis state index 0 is all spins up (s^z = +1) and site 0 is the leftmost tensor factor, i.e. the
operators equal explicit Kronecker products with s^z = diag(1, -1) (checked in the tests). Site i
is bit N-1-i of the state index. A term ("zx", [[c, i, j]]) is c s^z_i s^x_j: letters pair with
the sites in order, and the product is taken in the written order, which matters only when a site
repeats in one term (s^z_i s^x_i = -s^x_i s^z_i); both builders agree on that too.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import scipy.sparse as sp

from manybody.simulation.ensembles import RandomMatrixTerm, Realisation
from manybody.simulation.random_matrices import eth_matrix, goe, haar_orthogonal, prescribed_levels
from manybody.support import validate as v

#: A QuSpin static list: [(operator string, [[coefficient, site, site, ...], ...]), ...].
StaticList = list[tuple[str, list[list[float]]]]


def pauli_sum(n_tls: int, terms: StaticList, dtype: type = np.float64) -> sp.csr_matrix:
    """Build sum of coefficient * product of Pauli matrices as a sparse (2^N, 2^N) matrix (QuSpin).

    The builder of record (large N, Chebyshev) and the reference for :func:`pauli_sum_dense` and
    :func:`pauli_sum_csr`, which build the same matrix by bit arithmetic.

    Parameters
    ----------
    n_tls : int
        Number of sites N.
    terms : list of (str, list of [float, int, ...])
        QuSpin static list with operator strings made of "x" and "z" (eigenvalues +-1);
        coefficients in the operator's unit (K for H, K per unit strain for T).
    dtype : numpy dtype
        float64 or float32.

    Returns
    -------
    scipy.sparse.csr_matrix
        (2^N, 2^N), explicit zeros removed.

    Raises
    ------
    ValueError
        For a letter other than "x" and "z", a coupling without one site per letter, or a site
        outside 0..N-1.
    """
    from quspin.basis import spin_basis_1d  # heavy optional library, loaded only here
    from quspin.operators import hamiltonian

    dim = 2**n_tls
    _check_terms(n_tls, terms)
    terms = [(op, couplings) for op, couplings in terms if len(couplings)]
    if not terms:
        return sp.csr_matrix((dim, dim), dtype=dtype)
    basis = spin_basis_1d(n_tls, pauli=1)
    op = hamiltonian(terms, [], basis=basis, dtype=dtype,
                     check_herm=False, check_symm=False, check_pcon=False)
    return op.tocsr()


def pauli_sum_dense(
    n_tls: int, terms: StaticList, dtype: type = np.float64, out: np.ndarray | None = None
) -> np.ndarray:
    """Build the matrix of :func:`pauli_sum` as a dense array, by bit arithmetic.

    Parameters
    ----------
    n_tls : int
        Number of sites N.
    terms : list of (str, list of [float, int, ...])
        QuSpin static list as for :func:`pauli_sum` (coefficients in K, or K per unit strain).
    dtype : numpy dtype
        float64 or float32 (ignored when ``out`` is given). Each matrix element is summed in
        float64 and rounded once.
    out : numpy.ndarray, optional
        (2^N, 2^N) array to add the sum to in place (e.g. a random-matrix part), instead of zeros.

    Returns
    -------
    numpy.ndarray
        (2^N, 2^N) array, ``out`` itself when given.

    Raises
    ------
    ValueError
        As :func:`pauli_sum` for bad terms, or when ``out`` has the wrong shape.

    Notes
    -----
    Equals ``pauli_sum(n_tls, terms, dtype).toarray()`` to rounding (tested). A string with x
    sites X and z sites Z maps state s to s ^ m, m = XOR of the bits of X, with the sign
    prod_{i in Z} (1 - 2 bit_i(s)). The entries of all couplings are summed per flip mask m into
    columns v_m(s) (one matrix product), then H[s ^ m, s] = v_m(s) is one scatter with distinct
    positions.

    Examples
    --------
    >>> pauli_sum_dense(1, [("x", [[0.5, 0]]), ("z", [[1.0, 0]])])
    array([[ 1. ,  0.5],
           [ 0.5, -1. ]])
    """
    return _dense_from_arrays(n_tls, _check_terms(n_tls, terms), dtype, out)


def pauli_sum_csr(n_tls: int, terms: StaticList, dtype: type = np.float64) -> sp.csr_matrix:
    """Build the matrix of :func:`pauli_sum` as scipy csr, by bit arithmetic (no QuSpin).

    Parameters
    ----------
    n_tls : int
        Number of sites N.
    terms : list of (str, list of [float, int, ...])
        QuSpin static list as for :func:`pauli_sum` (coefficients in K, or K per unit strain).
    dtype : numpy dtype
        float64 or float32.

    Returns
    -------
    scipy.sparse.csr_matrix
        (2^N, 2^N) with sorted indices and explicit zeros removed, as from :func:`pauli_sum`.

    Raises
    ------
    ValueError
        As :func:`pauli_sum`.
    """
    return _csr_from_arrays(n_tls, _check_terms(n_tls, terms), dtype)


#: A validated term: (operator string, coefficients (n_c,), sites (n_c, len(string)) int64).
_ArrayTerm = tuple[str, np.ndarray, np.ndarray]


def _dense_from_arrays(n_tls: int, terms: list[_ArrayTerm], dtype: type,
                       out: np.ndarray | None = None) -> np.ndarray:
    dim = 2**n_tls
    if out is not None and out.shape != (dim, dim):
        raise ValueError(f"out must have shape {(dim, dim)} for n_tls={n_tls}, got {out.shape}")
    masks, values = _flip_columns(n_tls, terms)
    states = _states(n_tls)[:, None]
    rows = states ^ masks[None, :]  # distinct (row, column) pairs: plain fancy indexing is exact
    if out is None:
        out = np.zeros((dim, dim), dtype=dtype)
        out.reshape(-1)[rows * dim + states] = values
    elif out.flags.c_contiguous:
        out.reshape(-1)[rows * dim + states] += values
    else:
        out[rows, states] += values
    return out


def _csr_from_arrays(n_tls: int, terms: list[_ArrayTerm], dtype: type) -> sp.csr_matrix:
    dim = 2**n_tls
    masks, values = _flip_columns(n_tls, terms)
    states = _states(n_tls)
    # row r holds <r|A|r ^ m> = v_m(r ^ m) in column r ^ m
    cols = states[:, None] ^ masks[None, :]
    data = values[cols, np.arange(masks.size)[None, :]].astype(dtype)
    indptr = np.arange(0, dim * masks.size + 1, masks.size) if masks.size else np.zeros(dim + 1, int)
    out = sp.csr_matrix((data.ravel(), cols.ravel(), indptr), shape=(dim, dim))
    out.eliminate_zeros()
    out.sort_indices()
    return out


@functools.lru_cache(maxsize=16)
def _states(n_tls: int) -> np.ndarray:
    """Read-only state indices 0..2^N - 1 (int64)."""
    states = np.arange(2**n_tls, dtype=np.int64)
    states.flags.writeable = False
    return states


@functools.lru_cache(maxsize=16)
def _spin_table(n_tls: int) -> np.ndarray:
    """Read-only (2^N, N + 1) float64 table: Z[s, i] = 1 - 2 * (bit N-1-i of s), the eigenvalue of
    s^z_i on state s, for i < N, and Z[s, N] = 1 (the "no z factor" column)."""
    shifts = n_tls - 1 - np.arange(n_tls)[None, :]
    table = np.ones((2**n_tls, n_tls + 1))
    table[:, :n_tls] = 1 - 2 * ((_states(n_tls)[:, None] >> shifts) & 1)
    table.flags.writeable = False
    return table


def _check_terms(n_tls: int, terms: StaticList) -> list[_ArrayTerm]:
    """Validate a static list; return its non-empty terms as arrays."""
    if isinstance(n_tls, bool) or not isinstance(n_tls, int | np.integer) or n_tls < 1:
        raise ValueError(f"n_tls must be a positive integer, got {n_tls!r}")
    checked = []
    for op, couplings in terms:
        if not isinstance(op, str) or not op or set(op) - {"x", "z"}:
            raise ValueError(f"terms: operator string must be made of 'x' and 'z' only, got {op!r}")
        if not len(couplings):
            continue
        try:
            table = np.asarray(couplings, dtype=np.float64)
        except ValueError as err:
            raise ValueError(f"terms: couplings of {op!r} must be [coefficient, site, ...] lists of "
                             f"equal length {1 + len(op)}") from err
        if table.ndim != 2 or table.shape[1] != 1 + len(op):
            raise ValueError(f"terms: each coupling of {op!r} must be [coefficient] + {len(op)} site "
                             f"indices, got an array of shape {table.shape}")
        sites = table[:, 1:]
        bad = (sites != np.round(sites)) | (sites < 0) | (sites > n_tls - 1)
        if bad.any():
            raise ValueError(f"terms: site index of {op!r} must be an integer between 0 and "
                             f"{n_tls - 1} for n_tls={n_tls}, got {sites[bad][0]:g}")
        checked.append((op, table[:, 0], sites.astype(np.int64)))
    return checked


def _flip_columns(n_tls: int, terms: list[_ArrayTerm]) -> tuple[np.ndarray, np.ndarray]:
    """Entries of a Pauli-string sum grouped by flip mask.

    Returns the distinct masks m (n_m,) in increasing order and float64 values v (2^N, n_m) with
    <s ^ m| sum |s> = v[s, m]. The sign of a z factor is taken after the x factors to its right
    have acted, i.e. flipped once for each such x on the same site (operator products in the
    written order, as QuSpin).

    Terms with at most one z factor (all of H_TLS, "x", "xz", "zx", "xx", "z") go into one
    (N + 1, n_m) weight matrix W, v = Z W with the spin table Z; diagonal two-z terms ("zz") are
    the quadratic form (Z W2 * Z).sum(1); anything longer is a product of gathered columns.
    """
    dim = 2**n_tls
    spins = _spin_table(n_tls)
    parsed = []
    for op, coef, sites in terms:
        xpos = [p for p, letter in enumerate(op) if letter == "x"]
        zpos = [p for p, letter in enumerate(op) if letter == "z"]
        weight = coef
        if xpos and zpos:  # s^z_i after an s^x_i to its right: one sign flip
            parity = np.zeros(len(coef), dtype=np.int64)
            for p in zpos:
                for q in xpos:
                    if q > p:
                        parity += sites[:, q] == sites[:, p]
            weight = coef * (1 - 2 * (parity & 1))
        if xpos:
            mask = np.bitwise_xor.reduce(np.left_shift(1, n_tls - 1 - sites[:, xpos]), axis=1)
        else:
            mask = np.zeros(len(coef), dtype=np.int64)
        parsed.append((mask, weight, sites[:, zpos]))
    if not parsed:
        return np.zeros(0, dtype=np.int64), np.zeros((dim, 0))
    present = np.zeros(dim, dtype=bool)
    for mask, _, _ in parsed:
        present[mask] = True
    masks = np.flatnonzero(present)
    n_m = masks.size
    slot = np.cumsum(present) - 1  # column of each mask
    linear_index, linear_weight, general = [], [], []
    quadratic = np.zeros(n_tls * n_tls)
    for mask, weight, zsites in parsed:
        if zsites.shape[1] <= 1:
            row = zsites[:, 0] if zsites.shape[1] else np.full(len(weight), n_tls)
            linear_index.append(row * n_m + slot[mask])
            linear_weight.append(weight)
        elif zsites.shape[1] == 2 and not mask.any():
            quadratic += np.bincount(zsites[:, 0] * n_tls + zsites[:, 1], weight, n_tls * n_tls)
        else:
            general.append((mask, weight, zsites))
    if linear_index:
        w = np.bincount(np.concatenate(linear_index), np.concatenate(linear_weight), (n_tls + 1) * n_m)
        values = spins @ w.reshape(n_tls + 1, n_m)
    else:
        values = np.zeros((dim, n_m))
    if quadratic.any():
        z = spins[:, :n_tls]
        values[:, 0] += ((z @ quadratic.reshape(n_tls, n_tls)) * z).sum(axis=1)
    for mask, weight, zsites in general:
        sign = spins[:, zsites[:, 0]]
        for p in range(1, zsites.shape[1]):
            sign *= spins[:, zsites[:, p]]
        combine = np.zeros((len(weight), n_m))
        combine[np.arange(len(weight)), slot[mask]] = weight
        values += sign @ combine
    return masks, values


def tls_terms(real: Realisation) -> StaticList:
    """QuSpin static list of H_TLS + H_int (K)."""
    return _static_list(_tls_arrays(real))


def stress_terms(real: Realisation) -> StaticList:
    """QuSpin static list of the Pauli part of T (K per unit strain)."""
    return _static_list(_stress_arrays(real))


def _tls_arrays(real: Realisation) -> list[_ArrayTerm]:
    """H_TLS + H_int (K) as array terms (the same couplings, in the same order, as tls_terms)."""
    terms = []
    if real.asymmetry is not None:
        terms.append(_site_term("z", 0.5 * np.asarray(real.asymmetry, dtype=np.float64)))
        terms.append(_site_term("x", 0.5 * np.asarray(real.tunnelling, dtype=np.float64)))
    for comp, k in real.couplings.items():
        terms.append(_pair_term(comp, k, symmetric=comp in ("zz", "xx")))
    return terms


def _stress_arrays(real: Realisation) -> list[_ArrayTerm]:
    """Pauli part of T (K per unit strain) as array terms (as stress_terms)."""
    terms = [_site_term("z", np.asarray(real.deformation_potential, dtype=np.float64))]
    if real.stress_coupling is not None:
        terms.append(_pair_term("zz", real.stress_coupling, symmetric=True))
    return terms


def _site_term(op: str, values: np.ndarray) -> _ArrayTerm:
    """One-site term with coefficient values[i] on site i, zeros left out."""
    sites = np.flatnonzero(values)
    return op, values[sites], sites[:, None]


def _pair_term(op: str, k: np.ndarray, symmetric: bool) -> _ArrayTerm:
    """Couplings K_ij on (i, j): i < j for a symmetric matrix (s^a s^a), all i != j otherwise.

    Row-major order, zeros left out.
    """
    k = np.asarray(k, dtype=np.float64)
    keep = np.triu(np.ones(k.shape, dtype=bool), 1) if symmetric else ~np.eye(k.shape[0], dtype=bool)
    i, j = np.nonzero(keep & (k != 0))
    return op, k[i, j], np.stack([i, j], axis=1).astype(np.int64)


def _static_list(terms: list[_ArrayTerm]) -> StaticList:
    """Array terms as a QuSpin static list [(string, [[coefficient, site, ...], ...]), ...]."""
    return [(op, [[float(c), *map(int, row)] for c, row in zip(coef, sites, strict=True)])
            for op, coef, sites in terms]


def random_matrix(term: RandomMatrixTerm, dim: int, block: tuple | None = None) -> np.ndarray:
    """Draw the dense (D, D) matrix of a random-matrix term from its seed.

    Parameters
    ----------
    term : RandomMatrixTerm
        Kind, weight (K) and seed.
    dim : int
        Dimension D.
    block : tuple (levels, eigenvectors), optional
        For an "eth" stress: the random block's eigen-decomposition, as returned by
        :func:`random_block`.
    """
    rng = np.random.default_rng(term.seed)
    if term.kind == "goe":
        g = goe(dim, rng)
        g *= term.weight
        return g
    if term.kind == "eth":
        if block is None:
            raise ValueError("an 'eth' matrix needs the eigen-decomposition of the random block")
        levels, vectors = block
        m = eth_matrix(levels, term.growth_temperature, rng)
        m *= term.weight
        return vectors @ m @ vectors.T
    levels, vectors = random_block(term, dim)
    return (vectors * levels[None, :]) @ vectors.T


def random_block(term: RandomMatrixTerm, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Levels (K) and Haar eigenvectors of a prescribed-density block ("flat" or "exponential")."""
    if term.kind not in ("flat", "exponential"):
        raise ValueError(f"random_block needs kind 'flat' or 'exponential', got {term.kind!r}")
    rng = np.random.default_rng(term.seed)
    levels = prescribed_levels(term.kind, dim, term.weight, rng,
                               growth_temperature=term.growth_temperature,
                               statistics=term.level_statistics)
    return levels, haar_orthogonal(dim, rng)


def build_operators(
    real: Realisation, dtype: type = np.float64, dense: bool = True
) -> tuple[np.ndarray | sp.csr_matrix, np.ndarray | sp.csr_matrix]:
    """Build the Hamiltonian H (K) and stress T (K per unit strain) of a realisation.

    Parameters
    ----------
    real : Realisation
        The realisation.
    dtype : numpy dtype
        float64 (default) or float32.
    dense : bool
        Return H as a dense array (for ED). T is returned sparse when it has no random-matrix
        part (it is then diagonal in the product basis) and dense otherwise. With ``dense=True``
        the Pauli parts are built by bit arithmetic (:func:`~manybody.simulation.operators.pauli_sum_dense`,
        :func:`~manybody.simulation.operators.pauli_sum_csr`),
        with ``dense=False`` by QuSpin (:func:`~manybody.simulation.operators.pauli_sum`); the matrices agree
        to rounding.

    Returns
    -------
    (H, T)
        H (D, D) dense ndarray (``dense=True``) or CSR matrix; T CSR (diagonal) or dense, D = 2^N,
        in ``dtype``.

    Raises
    ------
    TypeError
        ``real`` not a :class:`Realisation`; ``dtype`` not float64 or float32 (an integer dtype
        truncated eps/2 = 0.015 to an H of zeros, a tester, session 34); ``dense`` not True or False.

    Source: docs/PHYSICS.md section 1 (H and T of the model).
    """
    dtype = _check_build(real, dtype, dense)
    dim = real.dimension
    n = real.n_tls
    block = None
    h_extra = None
    if real.random_matrix is not None:
        rm = real.random_matrix
        if rm.kind == "goe":
            h_extra = random_matrix(rm, dim)
        else:
            block = random_block(rm, dim)
            h_extra = (block[1] * block[0][None, :]) @ block[1].T
    # H first, then T's random part: the same peak memory as adding to QuSpin's sparse matrices
    if dense:
        h_out = None if h_extra is None else h_extra.astype(dtype, copy=False)
        del h_extra
        h = _dense_from_arrays(n, _tls_arrays(real), dtype, h_out)
    else:
        h = pauli_sum(n, tls_terms(real), dtype)
        if h_extra is not None:
            h = _add_dense(h, h_extra, dtype)
            del h_extra
    if real.stress_random_matrix is None:
        if dense:
            return h, _csr_from_arrays(n, _stress_arrays(real), dtype)
        return h, pauli_sum(n, stress_terms(real), dtype)
    t_extra = random_matrix(real.stress_random_matrix, dim, block)
    del block
    if dense:
        return h, _dense_from_arrays(n, _stress_arrays(real), dtype, t_extra.astype(dtype, copy=False))
    return h, _add_dense(pauli_sum(n, stress_terms(real), dtype), t_extra, dtype)


def _check_build(real, dtype, dense=True) -> type:
    """The realisation is a Realisation, ``dense`` a bool and the dtype float64 or float32
    (returned as its type)."""
    v.boolean("dense", dense)  # dense="False" built the dense matrix (session 39)
    if not isinstance(real, Realisation):
        raise TypeError(f"real must be a Realisation (manybody.draw_realisation or "
                        f"Realisation.from_arrays), got {type(real).__name__}")
    try:
        chosen = np.dtype(dtype)
    except TypeError:
        chosen = None
    if chosen is not None and chosen.kind == "f" and not chosen.isnative:
        chosen = chosen.newbyteorder("=")  # '>f8' names float64 too (session 46)
    if chosen is None or chosen not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise TypeError(f"dtype must be float64 or float32, got {v._describe(dtype)}")
    return chosen.type


def build_hamiltonian(real: Realisation, dtype: type = np.float64, dense: bool = True):
    """The Hamiltonian H (K) of a realisation: the first of :func:`build_operators` (shape,
    dtype, errors and source there), without building the stress's random matrix."""
    dtype = _check_build(real, dtype, dense)
    if real.stress_random_matrix is None:
        return build_operators(real, dtype, dense)[0]
    stripped = Realisation.from_arrays(
        asymmetry=real.asymmetry, tunnelling=real.tunnelling, couplings=dict(real.couplings),
        deformation_potential=real.deformation_potential, random_matrix=real.random_matrix,
        n_tls=real.n_tls)
    return build_operators(stripped, dtype, dense)[0]


def build_stress(real: Realisation, dtype: type = np.float64):
    """The stress operator T (K per unit strain) of a realisation: the second of
    :func:`build_operators` with ``dense=False`` (shape, dtype, errors and source there)."""
    return build_operators(real, dtype, dense=False)[1]


def _add_dense(sparse_part: sp.spmatrix, dense_part: np.ndarray, dtype: type) -> np.ndarray:
    out = dense_part.astype(dtype, copy=False)
    coo = sparse_part.tocoo()
    np.add.at(out, (coo.row, coo.col), coo.data)
    return out


def stress_unit(real) -> float:
    """The power of two nearest the largest stress magnitude of a realisation (max |gamma_i|,
    max |K^T_ij|, the stress random matrix's weight), 1 when there is none: the unit in which
    the iterative solvers (Chebyshev, FTLM) hold T, so that nothing under- or overflows (gamma
    <= 1e-15 gave Q = 0 in both, >= 1e20 NaN in float32; a break test, session 45). Scaling by
    a power of two is exact: the responses times its square are the same bits."""
    parts = [np.max(np.abs(real.deformation_potential), initial=0.0)]
    if real.stress_coupling is not None:
        parts.append(np.max(np.abs(real.stress_coupling), initial=0.0))
    if real.stress_random_matrix is not None:
        parts.append(real.stress_random_matrix.weight)
    largest = float(max(parts))
    if not largest > 0 or not math.isfinite(largest):
        return 1.0
    return 2.0 ** round(math.log2(largest))


def scaled_stress(real, factor: float):
    """The realisation with every stress term times ``factor`` (a power of two: exact)."""
    term = real.stress_random_matrix
    fields = {f.name: getattr(real, f.name) for f in dataclasses.fields(Realisation)}
    fields.update(  # a plain Realisation: a subclass's own __init__ may take other arguments
        deformation_potential=real.deformation_potential * factor,
        stress_coupling=None if real.stress_coupling is None else real.stress_coupling * factor,
        stress_random_matrix=None if term is None else dataclasses.replace(
            term, weight=term.weight * factor))
    return Realisation(**fields)
