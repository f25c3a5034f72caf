"""Dense exact diagonalisation and stress matrix elements in the eigenbasis.

The memory a dense solve needs is estimated before anything is allocated, and a system that would
not fit is refused with the estimate and what to do instead.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from scipy.linalg import eigh

from manybody.config.model import MAX_TLS
from manybody.config.probe import (
    DECOMPOSITION_OBSERVABLES,
    MATRIX_ELEMENT_OBSERVABLES,
    OBSERVABLE_MIN_TLS,
    RELAXATION_OBSERVABLES,
    SATURATION_OBSERVABLES,
)
from manybody.config.solver import SolverParams
from manybody.simulation.ensembles import Realisation
from manybody.simulation.materials import bath
from manybody.simulation.observables.absorption import check_symmetric, resonant_responses
from manybody.simulation.observables.decomposition import decomposition_responses
from manybody.simulation.observables.degeneracies import settle_degenerate_basis
from manybody.simulation.observables.relaxation import relaxation_susceptibility
from manybody.simulation.observables.responses import Responses
from manybody.simulation.observables.saturation import saturation_responses
from manybody.simulation.observables.statistics import matrix_element_sums, mean_spacing_ratio
from manybody.simulation.observables.thermo import FAR_BELOW, fluctuation_specific_heat
from manybody.simulation.operators import build_hamiltonian, build_operators
from manybody.simulation.solvers.memory import available_memory, fraction_remedy
from manybody.simulation.spectrum import Spectrum
from manybody.support import validate as v
from manybody.support.address_space import limit_hint
from manybody.support.blas import check_blas
from manybody.support.threads import blas_threads

log = logging.getLogger(__name__)

#: Dense (D, D) arrays alive at the peak of one solve: H/eigenvectors, the LAPACK evd workspace
#: (about 2 D^2), then eigenvectors + T_mn + one (D, chunk) temporary; plus random-matrix draws.
_PEAK_MATRICES = 3.2
_PEAK_MATRICES_RANDOM = 4.2


#: float64 arrays of shape (temperatures, D) a dense solve holds at once (Boltzmann weights and
#: their temporaries): measured 1.9 at N = 10 and 12 with 10^5 temperatures (1.55 and 6.2 GB over
#: the matrices; session 32, where 10^5 temperatures at N = 13-14 passed the D^2 estimate).
_THERMAL_ARRAYS = 2.0



#: Memory of the largest machine worth suggesting for dense ED (4 TB, a large cluster node); a
#: refusal beyond it names no machine (a tester, session 37: "a machine with >= 3.05e+10 GB").
LARGEST_MACHINE = 4 * 2**40

#: CPU seconds of one realisation's whole dense pipeline (draw, build, eigh, T_mn, Q^-1 at 50
#: temperatures x 400 frequencies, C(T)) on one core of this project's 2-core machine
#: (results/bench/bench-20261204-pair-window.json, pipeline64 and pipeline32, 1 BLAS thread):
#: N -> (float64, float32). N = 2-7 are N = 8's times their ratio to N = 8 in one run
#: (results/bench/bench-20261208-small-n.json): N = 8's time was used below it, 50x too much at
#: N = 2 (session 62's note).
DENSE_CPU_SECONDS = {2: (0.00128, 0.00135), 3: (0.00131, 0.00134), 4: (0.00172, 0.00175),
                     5: (0.00352, 0.0036), 6: (0.0123, 0.0127), 7: (0.0286, 0.0292),
                     8: (0.065, 0.063), 9: (0.172, 0.158), 10: (0.491, 0.419), 11: (1.84, 1.33),
                     12: (10.2, 6.16), 13: (89.7, 45.2)}


def dense_cpu_seconds(n_tls: int, dtype: str = "float64") -> float:
    """CPU seconds of one realisation of dense ED of N TLS on one core of this project's machine:
    :data:`DENSE_CPU_SECONDS`, 8^(N - 13) times N = 13's above it (eigh's D^3; N = 14 ran 528 s
    wall on two threads, bench-n14-pipeline64.json) and N = 2's below it (the overhead of a
    small solve). An order of magnitude for a run's cost, not a promise: the machine, its load
    and the probe change it."""
    f64, f32 = DENSE_CPU_SECONDS[min(max(n_tls, 2), 13)]
    return (f64 if dtype == "float64" else f32) * 8.0 ** max(n_tls - 13, 0)


def estimate_memory(n_tls: int, dtype: str = "float64", random_matrix: bool = False,
                    n_temperatures: int = 0) -> int:
    """Peak bytes of a dense solve of N TLS (H, eigh workspace, eigenvectors and T_mn, and the
    thermal arrays of ``n_temperatures`` temperatures).

    Parameters
    ----------
    n_tls : int
        Number of TLS N (D = 2^N).
    dtype : {"float64", "float32"} or numpy dtype
        Working precision.
    random_matrix : bool
        Whether dense random matrices are drawn (one more D x D temporary).
    n_temperatures : int
        Temperatures of the probe (arrays of shape (n_T, D) in float64); 0: the matrices only.

    Returns
    -------
    int
        Bytes.

    Raises
    ------
    TypeError, ValueError
        ``n_tls`` not an integer between 1 and ``MAX_TLS`` (30), ``dtype`` not "float64" or
        "float32", ``n_temperatures``
        not an integer >= 0 (-3 TLS gave 0 bytes and "float16" was sized as float32, a tester,
        session 34).
    """
    # the model's own bound: 1000 gave an OverflowError and 2**70 a minute of big-integer
    # arithmetic before a MemoryError (a break test, session 46)
    n_tls = v.integer("n_tls", n_tls, 1, MAX_TLS)
    if not isinstance(dtype, str):  # np.float32, as build_operators takes it
        try:
            dtype = np.dtype(dtype).name
        except TypeError:
            pass
    v.choice("dtype", dtype, ("float64", "float32"))
    if not isinstance(random_matrix, bool | np.bool_):
        raise TypeError(f"random_matrix must be True or False, got {v._describe(random_matrix)}")
    n_temperatures = v.integer("n_temperatures", n_temperatures, 0)
    itemsize = 8 if dtype == "float64" else 4
    factor = _PEAK_MATRICES_RANDOM if random_matrix else _PEAK_MATRICES
    return int(factor * (2**n_tls) ** 2 * itemsize
               + _THERMAL_ARRAYS * n_temperatures * 2**n_tls * 8)


def largest_dense_tls(budget: float, dtype: str = "float64", random_matrix: bool = False,
                      n_temperatures: int = 0) -> int:
    """Largest N whose dense solve fits in ``budget`` bytes (0 when not even N = 1 fits)."""
    n = 0
    while n < 30 and estimate_memory(n + 1, dtype, random_matrix, n_temperatures) <= budget:
        n += 1
    return n


def dense_memory_message(n_tls: int, solver: SolverParams, random_matrix: bool = False, *,
                         alternatives: Sequence[tuple[int, str]] = (),
                         available: int | None = None, n_temperatures: int = 0) -> str | None:
    """Why a dense solve does not fit and the remedies that would, with numbers; None if it fits.

    Only remedies that fit the memory allowed now are suggested: float32 (half of float64) when
    its estimate fits, another solver from ``alternatives`` when its lower bound fits, fewer TLS
    (the largest N that fits), and the memory a machine would need.

    Parameters
    ----------
    n_tls : int
        N.
    solver : SolverParams
        dtype and memory_fraction.
    random_matrix : bool
        Dense random-matrix draws (one more D x D temporary).
    alternatives : sequence of (int, str)
        (lower bound in bytes, remedy) of the other solvers that could compute what is asked
        (:func:`manybody.simulation.solvers.dense_alternatives`).
    available : int, optional
        Bytes available (default :func:`available_memory`).
    n_temperatures : int
        Temperatures of the probe (:func:`estimate_memory`).
    """
    n_t = n_temperatures
    need = estimate_memory(n_tls, solver.dtype, random_matrix, n_t)
    have = available_memory() if available is None else int(available)
    budget = solver.memory_fraction * have
    if need <= budget:
        return None
    gb = 2.0**30
    fits: list[str] = []
    if solver.dtype == "float64":
        half = estimate_memory(n_tls, "float32", random_matrix, n_t)
        if half <= budget:
            fits.append(f"solver.dtype = 'float32' (~{half / gb:.3g} GB)")
    fits.extend(remedy for low, remedy in alternatives if low <= budget)
    n_fit = largest_dense_tls(budget, solver.dtype, random_matrix, n_t)
    if n_fit >= 1:
        fits.append(f"n_tls <= {n_fit} with dtype {solver.dtype} "
                    f"(~{estimate_memory(n_fit, solver.dtype, random_matrix, n_t) / gb:.2g} GB)")
    thermal = _THERMAL_ARRAYS * n_t * 2**n_tls * 8
    if n_t and need - thermal <= budget:
        most = int((budget - (need - thermal)) / (_THERMAL_ARRAYS * 2**n_tls * 8))
        if most >= 1:
            fits.append(f"at most {most} temperatures (probe.temperatures has {n_t})")
    if (fraction := fraction_remedy("solver.memory_fraction", need, have)) is not None:
        fits.append(fraction)
    # a bigger machine only where this one lacks the memory: 'a machine with >= 2.5e3 GB' was
    # offered for a 25 MB solve refused under memory_fraction = 1e-5 (a break test, session 54)
    if need > have and need / solver.memory_fraction <= LARGEST_MACHINE:  # not 3e10 GB (N = 30)
        fits.append(f"a machine with >= {need / solver.memory_fraction / gb:.3g} GB available")
    what = f" (with the thermal arrays of {n_t} temperatures)" if n_t else ""
    allowed = (f"only {have / gb:.3g} GB is available" if need > have else
               f"solver.memory_fraction {solver.memory_fraction:.3g} allows only "
               f"{budget / gb:.3g} GB of the {have / gb:.3g} GB available")
    if need > have:
        allowed += (f" (solver.memory_fraction {solver.memory_fraction:.3g}: "
                    f"{budget / gb:.3g} GB)")
    return (f"n_tls={n_tls} with dtype={solver.dtype} needs about {need / gb:.3g} GB for dense ED"
            f"{what} but {allowed}; what would fit: "
            f"{'; '.join(fits) or 'nothing on this machine'}{limit_hint()}")


def check_memory(n_tls: int, solver: SolverParams, random_matrix: bool = False, *,
                 alternatives: Sequence[tuple[int, str]] = (), n_temperatures: int = 0) -> int:
    """Refuse a dense solve that would not fit, before anything is allocated.

    Parameters
    ----------
    n_tls : int
        N.
    solver : SolverParams
        dtype and memory_fraction.
    random_matrix : bool
        Dense random-matrix draws.
    alternatives : sequence of (int, str)
        Other solvers the message may suggest (see :func:`dense_memory_message`).
    n_temperatures : int
        Temperatures of the probe (:func:`estimate_memory`).

    Returns
    -------
    int
        The estimate in bytes.

    Raises
    ------
    MemoryError
        With N, dtype, the estimate, what is available and only the remedies that would fit.
    """
    message = dense_memory_message(n_tls, solver, random_matrix, alternatives=alternatives,
                                   n_temperatures=n_temperatures)
    if message is not None:
        raise MemoryError(message)
    return estimate_memory(n_tls, solver.dtype, random_matrix, n_temperatures)


def diagonalise(h: np.ndarray, vectors: bool = True, overwrite: bool = True) -> Spectrum:
    """Diagonalise a dense real symmetric matrix with LAPACK ?syevd.

    Parameters
    ----------
    h : numpy.ndarray
        Symmetric (D, D) matrix (K), float64 or float32 (computed in that precision: float32 runs
        LAPACK ssyevd, about twice as fast as dsyevd; numpy's eigh would compute in double). It is
        overwritten when ``overwrite`` is True.
    vectors : bool
        Compute eigenvectors.
    overwrite : bool
        Let LAPACK overwrite ``h`` (saves a D x D copy).

    Returns
    -------
    Spectrum
        Energies as float64 (ascending) and eigenvectors in the dtype of ``h`` (Fortran order).

    Notes
    -----
    LAPACK wants Fortran order; a C-ordered ``h`` is passed as its transpose with the other
    triangle flag (LAPACK reads the same numbers as before: ``h``'s lower triangle), so with
    ``overwrite`` no D x D copy is made and the eigenvectors are written into ``h``'s memory.
    The peak is then ``h`` plus the ?syevd workspace of 2 D^2 numbers.

    Raises
    ------
    TypeError
        ``h`` not a numpy array (a list, a scipy sparse matrix) or not float32/float64;
        ``vectors`` or ``overwrite`` not True or False.
    ValueError
        ``h`` empty, not square, not finite or not symmetric (LAPACK reads one triangle: a NaN
        gave finite eigenvalues and [[0, 5], [1, 0]] gave +-1, a tester, session 34).

    Source: docs/PHYSICS.md section 1 (H of the model); LAPACK ?syevd.
    """
    h = v.native_order(h)
    _check_matrix(h)
    v.boolean("vectors", vectors)  # vectors="False" computed them (session 39)
    v.boolean("overwrite", overwrite)
    _warn_slow_blas()
    # the transposed view of a C-ordered h is Fortran-ordered; its upper triangle is h's lower one
    transposed = h.flags.c_contiguous and not h.flags.f_contiguous
    a, lower = (h.T, False) if transposed else (h, True)
    with _blas_threads_for(h.shape[0]):
        if vectors:
            energies, vecs = eigh(a, lower=lower, driver="evd", overwrite_a=overwrite,
                                  check_finite=False)
        else:
            energies = eigh(a, lower=lower, eigvals_only=True, driver="evd",
                            overwrite_a=overwrite, check_finite=False)
            vecs = None
    return Spectrum(energies.astype(np.float64), vecs)


def _check_matrix(h) -> None:
    """A finite real symmetric square float32/float64 ndarray (checks cost O(D^2), no D x D
    temporary; the eigh after them O(D^3))."""
    if sp.issparse(h):
        raise TypeError("h must be a dense numpy array, got a scipy sparse matrix; pass "
                        "h.toarray() (or use manybody.solve for a model)")
    if not isinstance(h, np.ndarray):
        raise TypeError(f"h must be a numpy array of float64 or float32, got "
                        f"{type(h).__name__}; pass np.asarray(h, dtype=float)")
    if h.dtype not in (np.float64, np.float32):
        raise TypeError(f"h must be a numpy array of float64 or float32, got dtype {h.dtype}; "
                        "pass h.astype(float) (a complex Hermitian H is not supported)")
    if h.ndim != 2 or h.shape[0] != h.shape[1] or h.shape[0] == 0:
        raise ValueError(f"h must be a non-empty square matrix, got shape {h.shape}")
    v.real_array("h", h, keep_float=True)
    check_symmetric(h, name="h", symbol="H", source="a real symmetric Hamiltonian", smallest=None)


#: Up to this dimension dense ED and T_mn run BLAS on one thread: threads cannot pay off for such
#: small matrices, and when the cores are shared with other jobs OpenBLAS threads that wait for
#: each other make ?syevd 5-80x slower (measured at D = 128..1024 with the load above the core
#: count). Larger problems keep the configured thread count (capped per worker by sweeps).
SINGLE_THREAD_MAX_DIM = 512


def _blas_threads_for(dim: int):
    """One BLAS thread for 64 <= D <= SINGLE_THREAD_MAX_DIM, else as configured."""
    return blas_threads(None if dim > SINGLE_THREAD_MAX_DIM or dim < 64 else 1)


_blas_checked = False


def _warn_slow_blas() -> None:
    """Warn once per process (SlowBLASWarning) when a slow BLAS kernel is active."""
    global _blas_checked
    if _blas_checked:
        return
    _blas_checked = True
    try:
        check_blas(warn=True)
    except Exception as exc:  # inspection must never break a solve  # noqa: BLE001
        log.debug("BLAS inspection failed: %s", exc)


def stress_matrix_elements(
    vectors: np.ndarray, stress: np.ndarray | sp.spmatrix, chunk: int = 1024
) -> np.ndarray:
    """T_mn = <m|T|n> in the eigenbasis: V^T (T V), built in column chunks.

    A diagonal T (Pauli s^z terms only, the usual case) is applied as a row scaling, a general
    sparse T as a sparse product and a dense T as a matrix product. When T is symmetric (always for
    a diagonal T; checked otherwise) only the upper block triangle of V^T (T V) is multiplied out
    and then mirrored, which halves the D^3 flops of the final product; only one (D, chunk)
    temporary is alive besides the result.

    Parameters
    ----------
    vectors : numpy.ndarray
        Eigenvectors V (D, D) as columns.
    stress : numpy.ndarray or scipy.sparse matrix
        T in the product basis (K per unit strain).
    chunk : int
        Columns per block (the symmetric path uses at most D / 16 so that the triangle is cut
        finely: its flops are (1 + 1/n_blocks) / 2 of the full product's).

    Returns
    -------
    numpy.ndarray
        (D, D) matrix T_mn in the dtype of ``vectors``; exactly symmetric when T is symmetric.

    Raises
    ------
    TypeError
        ``vectors`` not a float32/float64 numpy array; ``stress`` not a numpy array or scipy
        sparse matrix of real numbers (a complex T lost its imaginary part, a tester, session 34).
    ValueError
        Shapes not (D, D); NaN or inf in either (they went through to every T_mn); a stress
        that is not symmetric; ``chunk`` < 1; columns of
        ``vectors`` not orthonormal (checked in O(D^2) on a fixed random probe r: |V^T V r - r|
        within 10^3 eps sqrt(D) |r|; unnormalised vectors scaled every T_mn silently).

    Source: docs/PHYSICS.md section 1 (the stress operator T).
    """
    vectors, stress = v.native_order(vectors), v.native_order(stress)
    if not isinstance(vectors, np.ndarray) or vectors.dtype not in (np.float64, np.float32):
        raise TypeError("vectors must be a numpy array of float64 or float32 eigenvectors, got "
                        + (f"dtype {vectors.dtype}" if isinstance(vectors, np.ndarray)
                           else type(vectors).__name__))
    if vectors.ndim != 2 or vectors.shape[0] != vectors.shape[1] or vectors.size == 0:
        raise ValueError(f"vectors must be a non-empty square (D, D) array of eigenvectors as "
                         f"columns, got shape {vectors.shape}")
    dim = vectors.shape[0]
    v.real_array("vectors", vectors, keep_float=True)
    _check_orthonormal(vectors)
    if sp.issparse(stress):
        if not np.issubdtype(stress.dtype, np.number) or np.iscomplexobj(stress.data):
            raise TypeError(f"stress must hold real numbers, got dtype {stress.dtype}")
        v.real_array("stress", stress.data)
    elif isinstance(stress, np.ndarray):
        v.real_array("stress", stress, keep_float=True)
    else:
        raise TypeError(f"stress must be a numpy array or a scipy sparse matrix, got "
                        f"{type(stress).__name__}")
    if stress.shape != (dim, dim):
        raise ValueError(f"stress must have shape {(dim, dim)}, got {stress.shape}")
    chunk = v.integer("chunk", chunk, 1)  # 0 and -1 were taken (a new user, session 35)
    diagonal = None
    if sp.issparse(stress):
        stress = stress.tocsr()
        if stress.nnz == np.count_nonzero(stress.diagonal()):
            diagonal = stress.diagonal().astype(vectors.dtype)
            symmetric = True
        else:
            asymmetry = abs(stress - stress.T)
            symmetric = asymmetry.count_nonzero() == 0
            if not symmetric:
                _refuse_asymmetric(float(asymmetry.max()), float(abs(stress).max()))
    else:
        stress = stress.astype(vectors.dtype, copy=False)
        symmetric = bool(np.array_equal(stress, stress.T))
        if not symmetric:
            check_symmetric(stress, name="stress", symbol="T",
                            source="a real symmetric stress operator (an observable)")

    def apply(block: np.ndarray) -> np.ndarray:
        return diagonal[:, None] * block if diagonal is not None else stress @ block

    with _blas_threads_for(dim):
        return _elements(vectors, apply, symmetric, chunk)


def _check_orthonormal(vectors: np.ndarray) -> None:
    """Refuse columns that are not orthonormal, probed by V^T (V r) for one fixed random r
    (two matrix-vector products: O(D^2) against the O(D^3) of T_mn)."""
    dim = vectors.shape[0]
    probe = np.random.default_rng(20261204).standard_normal(dim).astype(vectors.dtype)
    back = vectors.T @ (vectors @ probe)
    error = float(np.linalg.norm(back - probe) / np.linalg.norm(probe))
    tolerance = 1e3 * np.finfo(vectors.dtype).eps * np.sqrt(dim)
    if not error <= tolerance:
        raise ValueError(
            f"vectors must have orthonormal columns (eigenvectors of a symmetric H), but "
            f"|V^T V r - r| / |r| = {error:.3g} for a random r (expected <= {tolerance:.2g}); "
            "pass the eigenvectors of manybody's diagonalise (or numpy.linalg.eigh) unscaled")


def _refuse_asymmetric(largest_difference: float, largest: float) -> None:
    """A sparse stress whose T - T^T exceeds rounding: T is an observable (real symmetric); a
    non-symmetric one gave a non-symmetric T_mn, refused only later in absorption (session 35)."""
    if largest_difference > 1e-10 * max(largest, 1e-300):
        raise ValueError(f"stress must be a real symmetric operator (an observable), but "
                         f"max |T - T^T| = {largest_difference:.3g} (largest |T| "
                         f"{largest:.3g}); pass (T + T.T) / 2 if the asymmetry is rounding")


def _elements(vectors: np.ndarray, apply, symmetric: bool, chunk: int) -> np.ndarray:
    dim = vectors.shape[0]
    if not symmetric:
        out = np.empty((dim, dim), dtype=vectors.dtype)
        vt = vectors.T
        for start in range(0, dim, chunk):
            block = vectors[:, start:start + chunk]
            np.matmul(vt, apply(block), out=out[:, start:start + chunk])
        return out
    # upper block triangle: out[:stop, start:stop] = V[:, :stop]^T (T V[:, start:stop])
    out = np.empty((dim, dim), dtype=vectors.dtype, order="F")
    cols = max(1, min(chunk, -(-dim // 16)))
    for start in range(0, dim, cols):
        stop = min(dim, start + cols)
        np.matmul(vectors[:, :stop].T, apply(vectors[:, start:stop]), out=out[:stop, start:stop])
    _mirror_upper(out)
    return out


def _mirror_upper(a: np.ndarray, tile: int = 512) -> None:
    """Copy the upper triangle of the Fortran-ordered square ``a`` into its lower one, in tiles."""
    dim = a.shape[0]
    c = a.T  # C-ordered view: its lower triangle is a's upper triangle
    for i0 in range(0, dim, tile):
        i1 = min(dim, i0 + tile)
        for j0 in range(0, i1, tile):
            j1 = min(i1, j0 + tile)
            if j0 == i0:  # diagonal tile: mirror within it
                blk = c[i0:i1, j0:j1]
                upper = np.triu_indices(i1 - i0, 1)
                blk[upper] = blk.T[upper]
            else:
                c[j0:j1, i0:i1] = c[i0:i1, j0:j1].T


def solve(
    real: Realisation, solver: SolverParams | None = None
) -> tuple[Spectrum, np.ndarray]:
    """Build H and T of a realisation, diagonalise H (dense ED) and return (spectrum, T_mn).

    Parameters
    ----------
    real : Realisation
        The realisation (``Realisation.from_arrays`` or ``draw_realisation``).
    solver : SolverParams, optional
        Precision (``dtype``) and memory limits (``memory_fraction``) of the dense solve; its
        ``method`` must be "dense" or "auto" (the default SolverParams() is dense). The Chebyshev
        solver of one realisation is
        ``manybody.simulation.solvers.chebyshev.solver.chebyshev_absorption(real, frequencies,
        temperatures, broadening, params=solver.chebyshev)``.

    Returns
    -------
    spectrum : Spectrum
        Eigenvalues E_n (K), ascending, shape (D,), D = 2^N, and the eigenvectors.
    stress_elements : numpy.ndarray
        T_mn (K per unit strain), (D, D), in ``solver.dtype``.

    Raises
    ------
    TypeError
        ``real`` not a Realisation (a dict of parameters is refused: draw one with
        ``draw_realisation(ModelParams(...), realisation_rng(seed, r))``), ``solver`` not a
        SolverParams (a string such as "dense" is refused).
    ValueError
        ``solver.method`` "chebyshev": this function is dense ED only.
    MemoryError
        Before any allocation, when the solve would not fit in memory.

    Notes
    -----
    H and T are those of docs/PHYSICS.md section 1; T_mn = <m|T|n> enters section 2.
    """
    return eigenbasis(build(*_solve_arguments(real, solver)))


def _solve_arguments(real, solver) -> tuple[Realisation, SolverParams]:
    """The checked (realisation, solver) of :func:`solve`."""
    if not isinstance(real, Realisation):
        raise TypeError("real must be a Realisation (Realisation.from_arrays(...) or "
                        "draw_realisation(params, realisation_rng(seed, r))), got "
                        f"{type(real).__name__}")
    if solver is None:
        return real, SolverParams()
    if not isinstance(solver, SolverParams):
        got = repr(solver) if isinstance(solver, str) else type(solver).__name__
        raise TypeError("solver must be a SolverParams (e.g. SolverParams(dtype='float32')) or "
                        f"None, got {got}")
    if solver.method not in ("dense", "auto"):
        raise ValueError(
            f"solver.method = {solver.method!r}, but solve() is dense exact diagonalisation only "
            "(solver.method must be 'dense' or 'auto'; solver gives its dtype and memory limits); "
            "for the Chebyshev solver of one realisation use manybody.simulation.solvers.chebyshev"
            ".solver.chebyshev_absorption(real, frequencies, temperatures, broadening, "
            "params=solver.chebyshev), or observe()/run_sweep with [solver] method = 'chebyshev'")
    return real, solver


def eigenbasis(operators: tuple) -> tuple[Spectrum, np.ndarray]:
    """(spectrum, T_mn) from the dense (H, T) of :func:`build`; H is overwritten. Inside exactly
    degenerate eigenspaces the basis is that of split levels
    (:func:`.degeneracies.settle_degenerate_basis`: T diagonal, ties broken by a generic one-body
    perturbation), so the basis-dependent observables (relaxation, saturation, single-TLS
    fraction) do not depend on what LAPACK returned."""
    h, t = operators
    spectrum = diagonalise(h, vectors=True, overwrite=True)
    del h, operators
    elements = stress_matrix_elements(spectrum.vectors, t)
    return settle_degenerate_basis(spectrum, elements)


# ---------------------------------------------------------------------------------------------
# the solver entry (manybody.simulation.solvers): the pipeline draws, builds and converts units


def prepare(model, probe, solver: SolverParams) -> None:
    """Refuse before the draw what the model cannot give: the decomposition observables of a
    model without TLS (the memory check needs the realisation's terms: :func:`build`)."""
    check_tls_structure(model, probe)


def check_tls_structure(model, probe) -> None:
    """The decomposition observables need the TLS term of the model.

    Raises
    ------
    ValueError
        ``probe.observables`` names one of ``DECOMPOSITION_OBSERVABLES`` and ``model.tls`` is None.
    """
    wanted = [name for name in DECOMPOSITION_OBSERVABLES if name in probe.observables]
    if wanted and model.tls is None:
        raise ValueError(f"probe.observables {wanted!r} decompose the absorption into TLS "
                         "transitions and need a model with TLS (model.tls), got model.tls = None "
                         "(a pure random-matrix block); drop them for this model")


def build(real: Realisation, solver: SolverParams, alternatives: Sequence[tuple[int, str]] = ()
          ) -> tuple:
    """Dense H and T of the realisation in the solver's precision, after the memory check."""
    has_rm = real.random_matrix is not None or real.stress_random_matrix is not None
    check_memory(real.n_tls, solver, has_rm, alternatives=alternatives)
    return build_operators(real, solver.numpy_dtype, dense=True)


#: A kernel narrower than this fraction of the mean level spacing cannot give a spectrum.
NARROW_KERNEL = 1e-3


def _warn_if_no_line_reached(im_chi, elements, spectrum: Spectrum, broadening,
                             probe_frequencies) -> None:
    """Warn when the absorption is exactly 0 everywhere although the stress couples levels and
    the kernel is below NARROW_KERNEL of the mean level spacing: no transition lies within it
    (a reviewer, session 25: a kernel of 1e-7 K gave zeros and nothing said so). A kernel of
    ordinary width that misses every line (one TLS far from w, common in an ensemble) is not
    warned about."""
    if im_chi is None or np.any(im_chi):
        return
    off = elements - np.diag(np.diag(elements))
    if not np.any(off):
        return  # nothing couples the levels: 0 is the answer
    spacing = float(np.ptp(spectrum.energies)) / max(1, spectrum.energies.size - 1)
    top = float(max(probe_frequencies))
    eta = broadening.width * (top if broadening.scaling == "relative" else 1.0)
    if eta >= NARROW_KERNEL * spacing:
        return  # a realisation with no line near w (a lone off-resonant TLS): 0 is the answer
    width = (f"{broadening.width:g} w" if broadening.scaling == "relative"
             else f"{broadening.width:g} K")
    # a spacing far above every w: more likely energies in mK than a narrow kernel (bt227 F3)
    units = (f", or give the model's energies in K (the spacing is {spacing / top:.3g} times the "
             "highest frequency: 300 typed for 300 mK?)" if spacing > FAR_BELOW * top else "")
    warnings.warn(f"absorption is exactly 0 at every temperature and frequency: no transition "
                  f"lies within the {broadening.kind} kernel (width {width}) of the probe "
                  f"frequencies (mean level spacing {spacing:.3g} K); widen "
                  f"probe.broadening.width{units}", RuntimeWarning, stacklevel=2)


def float64_energies(real: Realisation) -> np.ndarray:
    """The eigenvalues (K, ascending, shape (D,)) of the realisation's H in float64, without
    eigenvectors (LAPACK dsyevd, workspace O(D)): the level statistics of a float32 solve.

    A float32 eigensolver returns levels to ~20 eps32 max|E| (measured at N = 8), as close as the
    nearest genuine levels of independent TLS: its degeneracy tolerance dropped them and <r> of
    independent TLS rose from 0.385 to 0.470 at N = 8, 0.05-0.06 at N = 12 (a break test,
    session 55). In float64 the same spectrum is resolved 2^29 times finer. The peak, 8 D^2 bytes
    beside the float32 H (4 D^2), is below the float32 solve's (H, eigenvectors and the ?syevd
    workspace of 2 D^2 numbers: 16 D^2); the time is that of dsyevd without vectors, 0.1-0.7 of
    the float32 solve with them at D = 1024-4096.
    """
    return diagonalise(np.asarray(build_hamiltonian(real, np.float64, dense=True)),
                       vectors=False, overwrite=True).energies


def respond(real: Realisation, operators: tuple, probe, solver: SolverParams, *, model,
            seed: int, realisation: int) -> Responses:
    """Raw responses of one realisation from its exact eigenbasis (the exact pair sums); the
    spacing ratio of a float32 solve from its float64 levels (:func:`float64_energies`)."""
    wanted = set(probe.observables)
    levels = (float64_energies(real) if "spacing_ratio" in wanted
              and operators[0].dtype != np.float64 else None)
    spectrum, elements = eigenbasis(operators)
    del operators
    raw = Responses()
    w = np.asarray(probe.frequencies)
    t = np.asarray(probe.temperatures)
    if {"absorption", "velocity_shift"} & wanted:
        raw.im_chi, raw.re_chi = resonant_responses(
            spectrum, elements, w, t, probe.broadening, absorptive="absorption" in wanted,
            dispersive="velocity_shift" in wanted)
        if "absorption" in wanted:
            _warn_if_no_line_reached(raw.im_chi, elements, spectrum, probe.broadening, w)
    if "specific_heat" in wanted:
        raw.specific_heat = fluctuation_specific_heat(spectrum.energies, t)
    if "spacing_ratio" in wanted:
        raw.spacing_ratio = np.asarray(mean_spacing_ratio(
            spectrum.energies if levels is None else levels))
    if set(RELAXATION_OBSERVABLES) & wanted:
        raw.relaxation_chi = relaxation_susceptibility(
            spectrum, elements, w, t, bath(probe.phonon_rate_prefactor).rate_prefactor,
            stress_scale=model.stress.deformation_potential)
    if set(MATRIX_ELEMENT_OBSERVABLES) & wanted:
        bins = probe.matrix_element_bins
        raw.stress_squared_sum, raw.pair_count = matrix_element_sums(
            spectrum.energies, elements, np.asarray(bins.energy), np.asarray(bins.frequency))
    if set(DECOMPOSITION_OBSERVABLES) & wanted:
        for key, value in decomposition_responses(real, spectrum, probe, wanted).items():
            setattr(raw, key, value)
    if set(SATURATION_OBSERVABLES) & wanted:
        drive = probe.saturation
        raw.saturation = saturation_responses(
            spectrum.energies, elements, w, t, drive.amplitudes,
            bath(probe.phonon_rate_prefactor).rate_prefactor,
            stress_scale=model.stress.deformation_potential, dephasing_rate=drive.dephasing_rate,
            line=drive.line)
    return raw


def check_point(model, probe, solver: SolverParams,
                alternatives: Sequence[tuple[int, str]] = ()) -> None:
    """Preflight of a sweep point (nothing drawn or built): observables that need more levels
    than 2^N has and those that need the TLS term, all in one message (they came one at a time;
    a tester, bt196), then the memory estimate."""
    problems = [f"probe.observables entry {name!r} {OBSERVABLE_MIN_TLS[name][1]}: n_tls must be "
                f">= {OBSERVABLE_MIN_TLS[name][0]}, got n_tls={model.n_tls}"
                for name in probe.observables
                if name in OBSERVABLE_MIN_TLS and model.n_tls < OBSERVABLE_MIN_TLS[name][0]]
    try:
        check_tls_structure(model, probe)
    except ValueError as exc:
        problems.append(str(exc))
    if problems:
        raise ValueError("; ".join(problems))
    has_rm = model.random_matrix is not None or model.stress.random_matrix > 0
    check_memory(model.n_tls, solver, has_rm, alternatives=alternatives,
                 n_temperatures=len(probe.temperatures))
