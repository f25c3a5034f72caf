"""Cost of a Chebyshev solve before anything is built: memory and time estimates and checks.

:func:`estimate_resources` bounds memory and time from the realisation alone (no operator built),
:func:`dense_operator_bytes` gives the memory of dense random-matrix terms (the choice for
``solver.method = "auto"`` is :func:`manybody.simulation.solvers.choose_solver`). The
precise plan (H built, a pilot vector filtered) is :func:`.plan.plan_solve`; the
solver itself is :mod:`manybody.simulation.solvers.chebyshev.solver`.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from manybody.config.probe import Broadening
from manybody.config.solver import ChebyshevParams
from manybody.simulation.solvers.chebyshev.costs import rung_seconds, shared_seconds, solve_bytes
from manybody.simulation.solvers.chebyshev.kpm import SpectralScale, exponential_coefficients
from manybody.simulation.solvers.chebyshev.plan import (
    GEMM_RATE,
    SECONDS_PER_NONZERO,
    build_ladder,
    check_inputs,
    check_params,
    narrowest_width,
    required_moments,
    window_nodes,
    window_rung,
)
from manybody.simulation.solvers.chebyshev.sharing import shares
from manybody.simulation.solvers.memory import available_memory, fraction_remedy

__all__ = ["EARLY_RATE_FRACTION", "check_chebyshev_memory", "check_realisation_memory",
           "check_time_budget", "chebyshev_minimum_bytes", "dense_operator_bytes",
           "estimate_resources", "minimum_seconds", "uses_matrix_free"]

#: The a-priori lower bound of a solve's time (:func:`minimum_seconds`) counts each product with H
#: at this fraction of the cost model (SECONDS_PER_NONZERO per stored entry): the plan's own
#: estimate uses the measured rate, and the early refusal must not refuse what the plan would
#: accept. Measured (helper-222, 2 threads): matrix-free products at 1.9-2e-10 s per entry
#: (N = 14-16), sparse at 6e-10 (N = 12) to 1.2e-9 (N = 9); with 0.25 one plan of 54 (N = 14,
#: independent TLS) was estimated below the bound. 0.02 leaves a factor ~8 for faster machines.
EARLY_RATE_FRACTION = 0.02


def estimate_resources(
    real,
    frequencies,
    temperatures,
    broadening: Broadening | None = None,
    n_vectors: int = 8,
    params: ChebyshevParams | None = None,
) -> dict[str, float]:
    """Memory (bytes) and time (s) of a chebyshev solve from the realisation alone (nothing built).

    The spectral half-width is bounded by sum_i E_i/2 + sum_{i<j} |K_ij| (+ the random-matrix
    weight) and the thermal windows come from the independent-TLS energy distribution at each
    T0, so the moments are an upper-side estimate; the cost model is SECONDS_PER_NONZERO and
    GEMM_RATE, and the time that of one k-recursion for the whole ladder where the solver's rules
    allow it (:func:`.sharing.shares`; session 22), else rung by rung. The memory is the
    rung-by-rung solve's, the least a solve needs (the plan shares only where that fits).
    :func:`manybody.simulation.solvers.chebyshev.solver.plan_chebyshev` gives the precise plan
    (it builds H and filters a pilot).

    Returns
    -------
    dict
        memory_bytes, seconds, n_moments (largest), n_rungs, dimension.

    Raises
    ------
    ValueError
        Temperatures the ladder cannot reach. Temperatures below what the Boltzmann filter
        resolves (:func:`.plan.check_filter_temperatures`) are not refused here: that limit
        depends on the actual spectral bounds, and these estimated ones are wider (refusing
        with them refused temperatures the solver accepts, 1.1-2x above its limit; session 16).
        The filter's cost is counted without building it (1e-7 K took 3 s before).
    """
    w, t, broadening = check_inputs(frequencies, temperatures, broadening)
    params = replace(check_params(params), n_vectors=max(2, int(n_vectors)))
    n = real.n_tls
    dim = 2**n
    e = real.energies if real.energies is not None else np.zeros(n)
    coupling = sum(float(np.sum(np.abs(np.triu(k, 1)))) if key in ("zz", "xx")
                   else float(np.sum(np.abs(k))) for key, k in real.couplings.items())
    extra = real.random_matrix.weight if real.random_matrix is not None else 0.0
    half = 0.5 * float(np.sum(e)) + coupling + extra
    ground = -half
    scale = SpectralScale(lower=ground - 0.01 * half, upper=half * 1.01, ground=ground)
    m_max, seconds, stored, planned = 16, 0.0, [], []
    itemsize = 4 if params.dtype == "float32" else 8
    rungs = build_ladder(t, params)
    offdiag = int(np.count_nonzero(real.tunnelling)) if real.tunnelling is not None else 0
    offdiag += sum(int(np.count_nonzero(np.triu(k, 1) if key == "xx" else k))
                   for key, k in real.couplings.items() if key != "zz")
    dense = real.random_matrix is not None or real.stress_random_matrix is not None
    nnz = dim * dim if dense else dim * (1 + offdiag)
    t_mv = SECONDS_PER_NONZERO * nnz
    for t0, served in rungs:
        x = e / (2.0 * t0)
        mean = float(np.sum(e * 0.5 * (1.0 - np.tanh(x))))
        spread = math.sqrt(float(np.sum((e * np.exp(-x) / (1.0 + np.exp(-2.0 * x))) ** 2)))
        keep = ground + max(mean + params.window_sigmas * spread, params.window_temperatures * t0)
        rung = window_rung(t0, served, keep, narrowest_width(broadening, w), scale.upper)
        beta_excess = 1.0 / float(np.min(t[served])) - 1.0 / t0
        m = max(16, required_moments(scale, rung, w, broadening, params.truncation_tol, True,
                                      beta_excess))
        m_max = max(m_max, m)
        c = 0.5 * scale.half_width / t0  # the filter's degree ~ c: counted, not built, when huge
        terms = exponential_coefficients(c).size if c < 1e5 else int(c + 12.0 * math.sqrt(c))
        nodes = window_nodes(replace(rung, n_moments=m), scale).size + 1
        stored.append((nodes, m, nodes, m + 1))
        planned.append(replace(rung, n_moments=m, filter_terms=terms))
        seconds += params.n_vectors * rung_seconds(nodes, m, nodes, m + 1, terms, dim, t_mv,
                                                   GEMM_RATE[params.dtype])
    # one k-recursion for the whole ladder where the solver would share it (the same rules,
    # with these wider bounds; the memory stays the rung-by-rung minimum, which the plan falls
    # back to where sharing does not fit)
    k_rows = shares(planned, scale, params, real.stress_random_matrix is None)
    if k_rows:
        seconds = params.n_vectors * shared_seconds(
            [(n, m, n) for n, m, _, _ in stored], k_rows, planned[0].filter_terms, dim, t_mv,
            GEMM_RATE[params.dtype])
    work = solve_bytes(dim, 1, stored, 64, itemsize, w.size)
    if dense:
        operators = 3 * nnz * 8
    elif uses_matrix_free(n, params):
        operators = 2 * dim * 8  # the diagonals of H and T: nothing else is stored
    else:
        operators = 2 * nnz * 12 + dim * 12
    memory = operators * 2 + work
    return {"memory_bytes": float(memory), "seconds": seconds, "n_moments": m_max,
            "n_rungs": len(rungs), "dimension": dim}


def _half_width_lower_bound(real) -> float:
    """A lower bound (K) of the half-width (E_max - E_0)/2 of H from the realisation alone.

    Variational: E_0 <= <psi|H|psi> <= E_max for every state psi. Two families of states:

    * the product states of every TLS in its own excited (ground) state: TLS energies +-S,
      S = sum_i E_i / 2, and a two-body term K_ij s^a_i s^b_j has the same expectation in both
      (each factor changes sign), so E_max - E_0 >= 2 S whatever the couplings (S - sum |K_ij|
      of Weyl's bound was 0 for a dipolar glass of N ~ 20);
    * s^z basis states, whose energy is the diagonal eps.s/2 + sum_{i<j} K^zz_ij s_i s_j: the
      largest and smallest a greedy single-flip search finds (:func:`_ising_extremes`), which
      the couplings widen where they dominate the fields.

    A random-matrix term moves each expectation by at most its norm (about its weight:
    radius-1 GOE, or levels on [0, weight]; taken as twice the weight), so the half-width by at
    most that."""
    if real.energies is None:
        return 0.0
    half = 0.5 * float(np.sum(real.energies))
    zz = real.couplings.get("zz")
    if zz is not None:
        low, high = _ising_extremes(np.asarray(real.asymmetry, dtype=float),
                                    np.asarray(zz, dtype=float))
        half = max(half, 0.5 * (high - low))
    extra = 2.0 * real.random_matrix.weight if real.random_matrix is not None else 0.0
    return max(half - extra, 0.0)


def _ising_extremes(eps: np.ndarray, coupling: np.ndarray) -> tuple[float, float]:
    """The smallest and largest diagonal energy eps.s/2 + s.K.s/2 (K symmetric, zero diagonal)
    a greedy single-flip search reaches from the field-aligned configurations and the uniform
    ones: true energies of s^z basis states, not the extremes (O(N^2) per start)."""
    k = coupling - np.diag(np.diag(coupling))
    n = eps.size
    aligned = np.where(eps >= 0, 1.0, -1.0)
    found = []
    for sign in (1.0, -1.0):  # maximise, then minimise (sign * energy)
        best = -math.inf
        for start in (aligned, -aligned, np.ones(n), -np.ones(n)):
            spins = start.copy()
            field = 0.5 * eps + k @ spins
            for _ in range(10 * n):
                gain = -2.0 * sign * spins * field  # change of sign * energy on flipping i
                i = int(np.argmax(gain))
                if gain[i] <= 0:
                    break
                spins[i] = -spins[i]
                field += 2.0 * spins[i] * k[:, i]
            best = max(best, sign * float(0.5 * eps @ spins + 0.5 * spins @ k @ spins))
        found.append(sign * best)
    high, low = found
    return low, high


def _off_diagonals_per_row(real, matrix_free: bool = False) -> int:
    """Off-diagonal work per row of one product with H in the s^z basis: one entry per spin a
    term flips alone (tunnelling Delta_i s^x_i, and the s^x factor of the xz and zx couplings)
    and one per pair that xx couplings flip together; matrix-free, each of those entries sums
    its terms (the tunnelling and one per xz or zx coupling of the spin,
    :mod:`.matrix_free`), so every coupling with an x factor counts. Counting the tunnelling
    alone put the early max_seconds bound of dense xx/xz couplings hundreds of times low
    (refused only after H was built and timed, 38-271 s; a tester, bt224 F1a)."""
    single = np.zeros(real.n_tls, dtype=bool)
    terms = 0
    if real.tunnelling is not None:
        single |= np.asarray(real.tunnelling) != 0
        terms += int(np.count_nonzero(single))
    couplings = real.couplings
    for key, axis in (("xz", 1), ("zx", 0)):  # K^xz_ij s^x_i s^z_j flips i; zx flips j
        if couplings.get(key) is not None:
            nonzero = np.asarray(couplings[key]) != 0
            single |= np.any(nonzero, axis=axis)
            terms += int(np.count_nonzero(nonzero))
    pairs = 0
    if couplings.get("xx") is not None:
        pairs = int(np.count_nonzero(np.triu(np.asarray(couplings["xx"]), 1)))
    return (terms if matrix_free else int(np.count_nonzero(single))) + pairs


def minimum_seconds(real, frequencies, temperatures, broadening: Broadening,
                    params: ChebyshevParams, velocity: bool = True,
                    seconds_per_product: float | None = None) -> float:
    """A lower bound (s) of the time :func:`.plan.plan_solve` estimates for a solve, from the
    realisation alone: nothing built, no spectral bounds (the ARPACK step on the 2^N operator,
    128 s at N = 24; bt220 F4).

    Per vector and rung the plan counts the Boltzmann filter's terms and at least 2 (M + 1)
    products with H (both recursions), plus GEMMs. Here, with the half-width bounded below
    (:func:`_half_width_lower_bound`), the filter's terms of that half-width, M that needed for
    that half-width and the narrowest window the plan allows (``window_temperatures`` T0 above
    E_0; at least 16, or ``n_moments``, capped at the moments allowed), products at
    EARLY_RATE_FRACTION of the cost model, no GEMMs, and the largest rung alone (rungs may share
    their k-recursion). ``params`` as :func:`.plan.check_params` resolved it for D;
    ``seconds_per_product`` (s per product with one vector), where given, replaces the
    products' cost model (a measured rate, already reduced by the caller's safety fraction).
    """
    w = np.atleast_1d(np.asarray(frequencies, dtype=float))
    t = np.atleast_1d(np.asarray(temperatures, dtype=float))
    dim = real.dimension
    half = _half_width_lower_bound(real)
    limit = params.n_moments if params.n_moments is not None else params.max_moments
    dense_terms = real.random_matrix is not None or real.stress_random_matrix is not None
    flips = _off_diagonals_per_row(real, uses_matrix_free(real.n_tls, params, dense_terms))
    t_mv = (EARLY_RATE_FRACTION * SECONDS_PER_NONZERO * dim * (1 + flips)
            if seconds_per_product is None else seconds_per_product)
    n_vec = dim if params.trace == "exact" else params.n_vectors
    eta = narrowest_width(broadening, w)
    largest = 0.0
    for t0, served in build_ladder(t, params):
        if params.n_moments is not None:
            m = params.n_moments
        elif half > 0:
            scale = SpectralScale(lower=-half, upper=half, ground=-half)
            rung = window_rung(t0, served, scale.ground + params.window_temperatures * t0, eta,
                               scale.upper)
            beta_excess = 1.0 / float(np.min(t[served])) - 1.0 / t0
            m = min(max(16, required_moments(scale, rung, w, broadening, params.truncation_tol,
                                             velocity, beta_excess)), limit)
        else:
            m = 16
        c = 0.5 * half / t0
        terms = exponential_coefficients(c).size if c < 1e5 else int(c + 12.0 * math.sqrt(c))
        largest = max(largest, (terms + 2 * (m + 1)) * t_mv)
    return n_vec * largest


def check_time_budget(real, frequencies, temperatures, broadening: Broadening,
                      params: ChebyshevParams, velocity: bool = True,
                      seconds_per_product: float | None = None) -> None:
    """Refuse, before any operator is built or the spectral bounds are found, a solve whose
    a-priori lower bound of time (:func:`minimum_seconds`) exceeds ``params.max_seconds``; the
    plan checks its own estimate against it later (:func:`.plan.plan_solve`). Nothing is done
    without ``max_seconds``, and nothing here changes a solve that goes ahead.
    ``seconds_per_product`` as :func:`minimum_seconds` (the solver's second check, with a
    measured rate, once H is built: :func:`.solver.respond_with_plan`).

    Raises
    ------
    ValueError
        Naming the bound, max_seconds, N and what to change.
    """
    if params.max_seconds is None:
        return
    seconds = minimum_seconds(real, frequencies, temperatures, broadening, params, velocity,
                              seconds_per_product)
    if seconds > params.max_seconds:
        n_vec = real.dimension if params.trace == "exact" else params.n_vectors
        raise ValueError(
            f"the chebyshev solve is estimated at more than {seconds:.3g} s (> max_seconds="
            f"{params.max_seconds:g}) before its spectral bounds are found (n_tls={real.n_tls}, "
            f"D = {real.dimension}, {n_vec} vectors; a lower bound from the realisation's TLS "
            "energies and couplings); use fewer TLS or vectors, a wider kernel or fewer low "
            "temperatures")


#: Dimension above which ``chebyshev.operator = "auto"`` applies H matrix-free (the solver's
#: ``AUTO_MATRIX_FREE_DIMENSION``; N >= 13).
AUTO_MATRIX_FREE_DIMENSION = 4096


def uses_matrix_free(n_tls: int, params: ChebyshevParams | None = None,
                     random_matrix: bool = False) -> bool:
    """Whether a solve of N TLS applies H matrix-free (no random-matrix terms, and
    ``chebyshev.operator`` "matrix_free", or "auto" with 2^N > AUTO_MATRIX_FREE_DIMENSION)."""
    operator = "auto" if params is None else params.operator
    if random_matrix or operator == "sparse":
        return False
    return operator == "matrix_free" or 2**n_tls > AUTO_MATRIX_FREE_DIMENSION


def chebyshev_minimum_bytes(n_tls: int, params: ChebyshevParams | None = None,
                            tunnelling: bool = True, random_matrix: bool = False) -> int:
    """A lower bound on the memory (bytes) of any Chebyshev solve of N TLS, from N alone.

    Nothing is drawn or built: sparse H in CSR form with at least the diagonal and one tunnelling
    entry per TLS in every row (12 bytes per stored entry), a diagonal T, the 16 float64 work
    vectors of one block and the smallest moment bank (32 rows of D numbers in the vector dtype).
    With the matrix-free operator (:func:`uses_matrix_free`: not for models with random-matrix
    terms, which keep the CSR part) only the diagonals of H and T (8 bytes each per row) replace
    the CSR matrices.
    The real plan (:func:`.plan.plan_solve`) needs at least this, so a point
    whose bound exceeds the memory can be refused before anything is allocated.

    Parameters
    ----------
    n_tls : int
        N (D = 2^N).
    params : ChebyshevParams, optional
        Solver options (the vector dtype).
    tunnelling : bool
        Whether the model has the TLS term (N off-diagonal entries per row of H).
    random_matrix : bool
        Whether the model has random-matrix terms (H or stress): no matrix-free operator then.
    """
    dim = float(2**n_tls)
    itemsize = 4 if (params is None or params.dtype == "float32") else 8
    operators = (16 if uses_matrix_free(n_tls, params, random_matrix)
                 else 12 * (1 + (n_tls if tunnelling else 0)) + 12)
    per_row = operators + 16 * 8 + 32 * itemsize
    return int(dim * per_row)


def check_chebyshev_memory(model, params: ChebyshevParams | None = None) -> int:
    """Refuse a Chebyshev solve of ``model`` that cannot fit, before anything is drawn or built.

    Parameters
    ----------
    model : ModelParams
        The ensemble (N and which terms are present).
    params : ChebyshevParams, optional
        Solver options (memory_fraction, dtype).

    Returns
    -------
    int
        The lower bound in bytes.

    Raises
    ------
    MemoryError
        The lower bound (or the dense random-matrix terms) exceeds the allowed memory; the message
        gives the largest N that would pass.
    """
    return _check_memory(model.n_tls, check_params(params), model.tls is not None,
                         model.random_matrix is not None, model.stress.random_matrix > 0)


def check_realisation_memory(real, params: ChebyshevParams) -> int:
    """:func:`check_chebyshev_memory` for a drawn realisation (the Python API,
    :func:`.solver.chebyshev_absorption` and :func:`.solver.plan_chebyshev`), before any
    operator is built: at N = 30 the API spent minutes on the matrix-free diagonal of 2^30
    entries (17 GB) where ``manybody run`` refused the same N in a second (a break test,
    session 53)."""
    return _check_memory(real.n_tls, params, real.tunnelling is not None,
                         real.random_matrix is not None, real.stress_random_matrix is not None)


def _check_memory(n: int, params: ChebyshevParams, tunnelling: bool, rm: bool,
                  stress_rm: bool) -> int:
    """The lower bound (bytes) of a solve of N TLS, or MemoryError naming n_tls, its value, the
    memory needed and allowed, and the largest N that would fit."""
    available = available_memory()  # once: every remedy below is against the same figure
    budget = params.memory_fraction * available
    gb = 2.0**30
    dense = dense_operator_bytes(n, rm, stress_rm)
    need = chebyshev_minimum_bytes(n, params, tunnelling, rm or stress_rm)
    if dense > budget:
        # with the memory fraction that fits, where one does (only "drop the random-matrix
        # terms or use fewer TLS" was said under memory_fraction = 1e-6; a break test, 54)
        fraction = fraction_remedy("chebyshev.memory_fraction", max(dense, need), available)
        raise MemoryError(
            f"n_tls={n} with random-matrix terms: the chebyshev solver needs their dense "
            f"2^N x 2^N matrices, about {dense / gb:.3g} GB, but only {budget / gb:.3g} GB is "
            f"allowed (chebyshev.memory_fraction {params.memory_fraction:.3g}); "
            + (f"{fraction}, or " if fraction else "") + "drop random_matrix / "
            "stress.random_matrix or use fewer TLS")
    if need > budget:
        fit = n
        while fit > 0 and chebyshev_minimum_bytes(fit, params, tunnelling, rm or stress_rm) > budget:
            fit -= 1
        # memory_fraction = 1e-12 allows 24 bytes, where even N = 1 does not fit; the message
        # said "n_tls <= 1 would fit" (session 53's note)
        remedies = [f"n_tls <= {fit}"] if fit >= 1 else []
        if (fraction := fraction_remedy("chebyshev.memory_fraction", need,
                                        available)) is not None:
            remedies.append(fraction)
        remedy = ("what would fit: " + " or ".join(remedies) if remedies else
                  f"not even n_tls = 1 fits in {budget:.3g} bytes")
        raise MemoryError(
            f"n_tls={n} with the chebyshev solver needs at least {need / gb:.3g} GB (sparse H and "
            f"a few vectors of D = 2^{n}) but only {budget / gb:.3g} GB is allowed "
            f"(chebyshev.memory_fraction {params.memory_fraction:.3g}); {remedy}")
    return need


def dense_operator_bytes(n_tls: int, random_matrix: bool, stress_random_matrix: bool) -> int:
    """Peak bytes of the dense random-matrix terms of dimension 2^N (H, T, C = [H, T] and draws)."""
    if not (random_matrix or stress_random_matrix):
        return 0
    return int((5.0 if stress_random_matrix else 4.0) * float(2**n_tls) ** 2 * 8)
