"""Many-body operators on the 2^N states of N TLS.

QuSpin builds the Pauli-string operators (and lives only in this module, so another builder could
replace it). Conventions: Pauli matrices with eigenvalues +-1 (``pauli=1``), operator strings "x"
and "z" only; basis state index 0 is all spins up (s^z = +1) and site 0 is the leftmost tensor
factor, i.e. the operators equal explicit Kronecker products with s^z = diag(1, -1) (checked in
the tests).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from .models import RandomMatrixTerm, Realisation
from .random_matrices import eth_matrix, goe, haar_orthogonal, prescribed_levels

#: A QuSpin static list: [(operator string, [[coefficient, site, site, ...], ...]), ...].
StaticList = list[tuple[str, list[list[float]]]]


def pauli_sum(n_tls: int, terms: StaticList, dtype: type = np.float64) -> sp.csr_matrix:
    """Build sum of coefficient * product of Pauli matrices as a sparse (2^N, 2^N) matrix.

    Parameters
    ----------
    n_tls : int
        Number of sites N.
    terms : list of (str, list of [float, int, ...])
        QuSpin static list with operator strings made of "x" and "z" (eigenvalues +-1).
    dtype : numpy dtype
        float64 or float32.

    Returns
    -------
    scipy.sparse.csr_matrix
    """
    from quspin.basis import spin_basis_1d
    from quspin.operators import hamiltonian

    dim = 2**n_tls
    terms = [(op, couplings) for op, couplings in terms if len(couplings)]
    if not terms:
        return sp.csr_matrix((dim, dim), dtype=dtype)
    for op, _ in terms:
        if set(op) - {"x", "z"}:
            raise ValueError(f"operator string must use only 'x' and 'z', got {op!r}")
    basis = spin_basis_1d(n_tls, pauli=1)
    op = hamiltonian(terms, [], basis=basis, dtype=dtype,
                     check_herm=False, check_symm=False, check_pcon=False)
    return op.tocsr()


def tls_terms(real: Realisation) -> StaticList:
    """QuSpin static list of H_TLS + H_int (K)."""
    terms: StaticList = []
    if real.asymmetry is not None:
        terms.append(("z", [[0.5 * e, i] for i, e in enumerate(real.asymmetry) if e != 0]))
        terms.append(("x", [[0.5 * d, i] for i, d in enumerate(real.tunnelling) if d != 0]))
    for comp, k in real.couplings.items():
        terms.append((comp, _pair_list(k, symmetric=comp in ("zz", "xx"))))
    return terms


def stress_terms(real: Realisation) -> StaticList:
    """QuSpin static list of the Pauli part of T (K per unit strain)."""
    terms: StaticList = [("z", [[g, i] for i, g in enumerate(real.deformation_potential) if g != 0])]
    if real.stress_coupling is not None:
        terms.append(("zz", _pair_list(real.stress_coupling, symmetric=True)))
    return terms


def _pair_list(k: np.ndarray, symmetric: bool) -> list[list[float]]:
    """Couplings as [K_ij, i, j]: i < j for a symmetric matrix (s^a s^a), all i != j otherwise."""
    n = k.shape[0]
    if symmetric:
        pairs = zip(*np.triu_indices(n, 1), strict=True)
    else:
        pairs = ((i, j) for i in range(n) for j in range(n) if i != j)
    return [[float(k[i, j]), int(i), int(j)] for i, j in pairs if k[i, j] != 0]


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
        part (it is then diagonal in the product basis) and dense otherwise.

    Returns
    -------
    (H, T)
    """
    dim = real.dimension
    h = pauli_sum(real.n_tls, tls_terms(real), dtype)
    t = pauli_sum(real.n_tls, stress_terms(real), dtype)
    block = None
    if real.random_matrix is not None:
        rm = real.random_matrix
        if rm.kind == "goe":
            extra = random_matrix(rm, dim)
        else:
            block = random_block(rm, dim)
            extra = (block[1] * block[0][None, :]) @ block[1].T
        h = _add_dense(h, extra, dtype)
    elif dense:
        h = h.toarray()
    if real.stress_random_matrix is not None:
        t = _add_dense(t, random_matrix(real.stress_random_matrix, dim, block), dtype)
    return h, t


def build_hamiltonian(real: Realisation, dtype: type = np.float64, dense: bool = True):
    """The Hamiltonian H (K) of a realisation; see :func:`build_operators`."""
    if real.stress_random_matrix is None:
        return build_operators(real, dtype, dense)[0]
    stripped = Realisation.from_arrays(
        asymmetry=real.asymmetry, tunnelling=real.tunnelling, couplings=dict(real.couplings),
        deformation_potential=real.deformation_potential, random_matrix=real.random_matrix,
        n_tls=real.n_tls)
    return build_operators(stripped, dtype, dense)[0]


def build_stress(real: Realisation, dtype: type = np.float64):
    """The stress operator T (K per unit strain) of a realisation; see :func:`build_operators`."""
    return build_operators(real, dtype, dense=False)[1]


def _add_dense(sparse_part: sp.spmatrix, dense_part: np.ndarray, dtype: type) -> np.ndarray:
    out = dense_part.astype(dtype, copy=False)
    coo = sparse_part.tocoo()
    np.add.at(out, (coo.row, coo.col), coo.data)
    return out


def kron_operator(n_tls: int, factors: Sequence[tuple[str, int]], coefficient: float = 1.0):
    """Reference implementation by explicit Kronecker products (for tests; dense, small N only).

    Parameters
    ----------
    n_tls : int
        Number of sites N.
    factors : sequence of (str, int)
        Pauli letters ("x", "z", "y") on sites, e.g. [("z", 0), ("z", 2)].
    coefficient : float
        Overall factor.
    """
    pauli = {
        "x": np.array([[0.0, 1.0], [1.0, 0.0]]),
        "z": np.array([[1.0, 0.0], [0.0, -1.0]]),
        "i": np.eye(2),
    }
    ops = ["i"] * n_tls
    for letter, site in factors:
        ops[site] = letter
    out = np.array([[coefficient]])
    for letter in ops:
        out = np.kron(out, pauli[letter])
    return out
