"""Finite-temperature absorption without diagonalising: 2D Chebyshev expansion and typicality.

The golden-rule spectral function of PHYSICS.md section 2 is a contraction of a two-operator
spectral density,

    Z(T) Q(w, T) = sum_mn e^{-E_n/T} |T_mn|^2 F(E_m - E_n),   F(u) = K(w - u) - K(w + u),

with K the line kernel (the same Gaussian or Lorentzian as dense ED). Stress elements enter through
the commutator C = [H, T] (C_mn = (E_m - E_n) T_mn), using the exact identity

    |T_mn|^2 F(u) = |C_mn|^2 G(u) + F'(0) u |T_mn|^2,   G(u) = (F(u) - F'(0) u) / u^2  (smooth),

so that Z Q = Tr[e^{-H/T} G(L)(C) C^T] + F'(0) Tr[e^{-H/T} T C] (L the Liouvillian). Why: C has an
exactly zero diagonal in the eigenbasis. With T itself, the stochastic estimate carries cross terms
~ T_nm T_mm between each thermal state n and its resonant partner m, and for tunnelling systems the
diagonal stress T_mm - T_nn ~ gamma eps/E is much larger than the resonant element gamma Delta/E:
measured at N = 10 the noise per random vector falls from 4.5 to 0.8 times the signal at x = 2 (and
is unchanged at x = 0.5). The second term is a one-operator thermal average (the first-moment sum
rule) with a small prefactor F'(0) = -2 K'(w).

The two-operator density is expanded in Chebyshev polynomials of the rescaled H~ (:mod:`.kpm`),

    mu_kl = Tr[e^{-(H - E_0)/T0} T_k(H~) C^T T_l(H~) C] ~ (1/R) sum_r <r0| T_k C^T T_l C |r0>,
    |r0> = e^{-(H - E_0)/2T0} |r>,  r a Rademacher (+-1) vector  (typicality),

computed without ever applying C: per vector, (C a_k).b_l = (T a_k).(H b_l) - (T H a_k).b_l and H on
a Chebyshev vector is an index shift, so the bank holds the cheap T a_k (2M sparse products per
vector, not 3M; :func:`.moments.correlation_moments`). Where the energy window is narrow (R + 1 <=
0.4 (M + 1), :func:`.costs.projects`) only their projection on the Chebyshev nodes of the thermal
index inside the window is formed, y_jl = sum_k C_jk mu_kl for the R window nodes x_j
(:func:`.moments.node_correlation_moments`: R + 1 node vectors instead of a bank of M + 1, GEMMs of
4 (R + 1)(M + 1) D flops per vector instead of 2 (M + 1)^2 D; R/M ~ 0.15-0.4 on the benchmark
rungs, the lower the T0 the smaller), because the contraction below uses no other node of that
index; a wider window keeps the full matrix and projects it. The window nodes themselves are
compressed (:mod:`.contraction`, :func:`.contraction.readout_basis`): every readout of a rung is a
smooth function of the node energy, and a basis of about 0.69 R of the R nodes carries them all
to 1e-6 (N = 16-20), so only r + 1 combinations of the node vectors are formed (GEMMs and node memory x r/R;
Q moves by < 2 % of its error bar, tests/test_chebyshev.py). Every temperature T <= T0 then
follows by one quadrature contraction on Chebyshev nodes with

    F_T(E, E') = e^{-(1/T - 1/T0)(E - E_0)} W(E) G(E' - E),

evaluated exactly: Boltzmann factor and kernel are applied as functions, not as a broadened
histogram, so the result converges to dense ED with the *same* kernel (no KPM damping kernel, no
extra broadening) once M resolves F. M is chosen from the Chebyshev tail of F (ValueError when a
fixed or maximal M cannot resolve the kernel, with the narrowest width it can). W(E) is a smooth
window (erfc of width 2 eta) above the energies the filtered vectors occupy at T0, so M only has to
resolve the kernel there (near the bottom of a spectrum of half-width a the Chebyshev resolution is
~ sqrt(2 a L) / M for a window of height L, instead of a / M). Z(T) and the energy moments come
from one-operator moments of the same vectors, so Q = sum_r N_r / sum_r Z_r is a ratio estimator
and its statistical error is the jackknife spread over random vectors.

Truncation error: the same moments contracted with only the first 0.9 M and 0.95 M of them (an
exact trace: 0.9, 0.925, 0.95 and 0.975 M; contraction.EXACT_TRUNCATION_FRACTIONS) give
the change of the result with M (the random vectors are the same, so their noise cancels in the
difference; the moments are recovered from the window nodes by discrete orthogonality, mu_kl =
sum_j T_k(x_j) y_jl, leaving out the nodes above the window where the filtered vectors carry
no weight); the larger change, enveloped over the temperatures of the rung (per frequency), is the
truncation error estimate. To it is added the error from the thermal weight above the rung's
window, which the thermal index leaves out while Z counts it: WINDOW_SAFETY x L(T) x max|response|
(L(T) the fraction of Z(T) above the window, from the one-operator moments; session 52). Its floor
is the round-off, a fraction of max|response| over the solve: FLOAT64_ROUND_OFF (session 52) or,
for an exact trace in float32, FLOAT32_ROUND_OFF_OF_LARGEST (session 53). Every ``*_error`` is
sqrt(statistical^2 + truncation^2), so an exact trace reports a non-zero error too. Calibrated
against dense ED (exact traces, N = 5-6, four model families, default truncation):
|chebyshev - dense| <= 3 x the reported error everywhere, the reported error 2-23 x (on average
8 x) the actual deviation (tests/test_chebyshev.py, tests/test_chebyshev_window.py).

Low temperatures: a ladder of reference temperatures T0_0 = max(T) > T0_1 > ... with ratio
<= ``ladder_ratio``; each T is served by the lowest rung with T0 >= T, reweighting downwards only
(F_T <= 1, so truncation errors are amplified at most by Z(T0)/Z(T), which is reported). The
ladder is importance sampling in earnest: at N = 10, reweighting from 0.4 K down to 0.04 K instead
of filtering at 0.063 K makes the error bar 250 times larger. Same random vectors on every rung.

Statistical error: at T << w the commutator estimator is accurate with a few vectors; at T ~ w the
remaining noise (per vector ~ the signal at N = 10-16) comes from near-degenerate thermal pairs
(two resonant TLS exchanging an excitation), intrinsic to any trace estimator. For disorder
averages a few vectors per realisation are efficient: the vector noise then adds to the much
larger realisation-to-realisation spread. ``target_error`` adds vectors where a single realisation
must be precise.

Normalisation, Boltzmann weights and sign conventions are those of
:func:`manybody.simulation.observables.absorption.absorption` and
:func:`~manybody.simulation.observables.absorption.velocity_shift`; multiply by
``absorption_normalisation(params)`` for units of pi*C0 (C0 for the velocity shift).

Operators: with ``chebyshev.operator`` "matrix_free" (and "auto" for D > 4096) H is applied to the
whole block of random vectors by bit operations (:mod:`.matrix_free`: diagonal once, single and
pair flips by XOR masks, the Chebyshev step fused into one pass), T as its diagonal and C = [H, T]
by the same kernel, so no matrix is stored; realisations with random-matrix terms (dense) fall back
to the sparse/dense path, logged and reported in ``ChebyshevResult.operator_fallback``; the
bookkeeping of each step (dots, (T - c) X, bank store) is one compiled pass (:mod:`.fused`).
Measured side by side with 2 threads (results/bench/matrix_free.json): the matrix-free solve is
2.1x (N = 16) and 3.0x (N = 18) faster per realisation than the sparse path, with the same Q
(differences < 3e-9 of the error bars).

This module is the estimator (:func:`chebyshev_absorption`; raw responses for the pipeline by
:func:`respond`, the solver's entry in :mod:`manybody.simulation.solvers`). The ladder, the line
shape F and the planning of moments, memory and time are in :mod:`.plan` (the options,
:class:`~manybody.config.solver.ChebyshevParams`, in the configuration layer); the cost estimate
from a realisation alone in :mod:`.resources`; the choice for ``solver.method = "auto"`` is
:func:`manybody.simulation.solvers.choose_solver`.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from manybody.config.probe import Broadening
from manybody.config.solver import ChebyshevParams
from manybody.simulation.ensembles import Realisation
from manybody.simulation.observables.absorption import emission_stripped
from manybody.simulation.observables.responses import Responses, physical_observables
from manybody.simulation.operators import build_operators, scaled_stress, stress_unit
from manybody.simulation.solvers.chebyshev import contraction as contraction_module
from manybody.simulation.solvers.chebyshev import resources
from manybody.simulation.solvers.chebyshev.contraction import (
    coarse_moments,
    readout_basis,
    rung_contractions,
)
from manybody.simulation.solvers.chebyshev.kpm import (
    DiagonalOperator,
    ScaledOperator,
    ShiftedDiagonal,
    SpectralScale,
    boltzmann_filter,
    commutator,
    jackknife_ratio,
    operator_applier,
    operator_bytes,
    rademacher,
    relative_filter,
    spectral_bounds,
)
from manybody.simulation.solvers.chebyshev.matrix_free import (
    matrix_free_operators,
    matrix_free_refusal,
)
from manybody.simulation.solvers.chebyshev.moments import (
    NodeRung,
    correlation_moments,
    node_correlation_moments,
    shared_node_moments,
)
from manybody.simulation.solvers.chebyshev.plan import (
    Plan,
    Rung,
    build_ladder,
    check_inputs,
    check_params,
    lowest_filter_temperature,
    plan_solve,
    window_nodes,
)
from manybody.simulation.solvers.chebyshev.resources import (
    chebyshev_minimum_bytes,
    check_chebyshev_memory,
    check_realisation_memory,
    check_time_budget,
    dense_operator_bytes,
    uses_matrix_free,
)
from manybody.simulation.solvers.chebyshev.workspace import (
    Workspace,
    current_workspace,
    release_kept_workspace,
)
from manybody.simulation.solvers.memory import available_memory
from manybody.support import validate as v
from manybody.support.threads import blas_thread_count, blas_threads, numba_threads

__all__ = [
    "CHEBYSHEV_OBSERVABLES", "ChebyshevOperators", "ChebyshevResult", "build", "chebyshev_absorption",
    "check_point", "commutator", "dense_alternative", "plan_chebyshev", "prepare", "respond", "route",
    "respond_with_plan",
]

log = logging.getLogger(__name__)

#: Observables the chebyshev solver computes (``spacing_ratio`` needs the spectrum: NaN here).
CHEBYSHEV_OBSERVABLES = ("absorption", "velocity_shift", "specific_heat")
#: Below this dimension BLAS runs single-threaded inside the solver (small products only lose).
SMALL_DIMENSION = 4096
#: A plan longer than this (s) for a dimension up to SMALL_DIMENSION warns (dense ED is seconds).
LONG_PLAN_SECONDS = 600.0
#: ``chebyshev.operator = "auto"`` applies H matrix-free above this dimension (N >= 13), where the
#: sparse products are memory-bound and run one vector at a time; below it both take milliseconds
#: and "auto" keeps the sparse path, whose results are the recorded ones bit for bit (the
#: matrix-free sums differ in rounding, ~1e-14 relative; results/golden).
AUTO_MATRIX_FREE_DIMENSION = resources.AUTO_MATRIX_FREE_DIMENSION
#: Spawn-key suffix of the random vectors of realisation r: SeedSequence(seed, spawn_key=(r, 1)).
TRACE_STREAM = 1
#: The truncation error of a rung with M moments is estimated as TRUNCATION_SAFETY times the change
#: of the result when only the first ``coarse_moments(M)`` moments are contracted (same vectors,
#: so the statistical noise cancels in the difference; :mod:`.contraction`). Calibrated on
#: dense-ED comparisons (tests/test_chebyshev.py::test_reported_error_covers_truncation).
TRUNCATION_SAFETY = 1.0
#: Floor of the specific heat's truncation error, relative to its largest value on the rung: the
#: one-operator moments are resolved far beyond what C(T) needs (M is set by the line kernel), so
#: the coarse-moment change is pure round-off (~1e-14), below the round-off of the moments
#: themselves: with exact traces at N = 6-8 C(T) deviated from dense ED by up to 3e-12 relative
#: (3-7 times its reported error) at T ~ w/5, and by 1.4e-8 relative at 6.5 mK (a second break
#: test, session 16). Not covered: within a factor ~3 of the lowest temperature the filter
#: allows, an absolute C of ~1e-7 k_B where the true one is ~0 (the series' leakage below E_0,
#: weighted by e^{(E_0 - E)/T}).
HEAT_ROUND_OFF = 1e-7
#: Absolute floor of the specific heat's error (k_B, the whole realisation): the series' leakage
#: below E_0, weighted by e^{(E_0 - E)/T}, left C of 1.7e-10 and 1.5e-9 k_B where the true one was
#: 1e-39 and 1e-21 (N = 5-6, T = 1-4 mK, default and loose truncation_tol), at 4-12 of the
#: error bars then reported, or 0 +- 0 (a break test, session 53). Near the lowest temperature the
#: filter allows it reaches ~1e-7 k_B (session 35), which this floor does not cover.
HEAT_LEAKAGE = 1e-8
#: The error of Q and delta v/v from the thermal weight above a rung's energy window, which the
#: moments' thermal index leaves out (Z counts it): WINDOW_SAFETY x L(T) x max|response| over the
#: solve, L(T) the fraction of Z(T) above the window. Measured (session 52, exact traces at
#: N = 5-7, dipolar, Gaussian, GOE and independent TLS, the window error taken as the change to a
#: 40-sigma window at the same M): the error was up to 20 times L(T) max|Q| (a state above the
#: window absorbs or emits like a polarised one, far more than the thermal average at T >> w),
#: and the window error of an exact trace under the old default window was 1.3e-4 of max|Q| at
#: 2e8 of its error bars (helper-158, session 51).
WINDOW_SAFETY = 30.0
#: float64 round-off of Q and delta v/v relative to their largest value over the solve, a floor
#: of the error: with the window's weight gone an exact trace reported 1e-14 against deviations of
#: 4e-13 (session 52), and 2e-12 at w = 3 K (z = 132; helper-158, session 51).
FLOAT64_ROUND_OFF = 1e-11
#: float32 round-off of Q and delta v/v relative to their largest value over the solve, a floor of
#: the error of an exact float32 solve: measured as float32 - float64 with the same
#: vectors and plan (session 53; N = 6-10, Gaussian, dipolar and independent TLS, exact and
#: stochastic traces, relative and absolute kernels, M = 230-1800): up to 2.5e-3 of max|Q| and
#: 4.3e-6 of max|delta v/v| (Q's narrow kernel cancels absorption against emission; the
#: principal value is smooth). Stochastic traces' spread over vectors covered it (z <= 0.4), so
#: the floor is for an exact trace in float32 (asked for by name: an exact trace defaults to
#: float64), which reported delta v/v to 5e-13 against float32 deviations of 5e-7 (z = 1e6) and Q
#: at z = 56-363 (a break test, session 53). Twice the largest measured deviation; for one TLS,
#: whose round-off is ~1e-6 of Q, it overstates up to ~2000 times.
FLOAT32_ROUND_OFF_OF_LARGEST = {"abs": 5e-3, "vel": 1e-5}


@dataclass(frozen=True)
class ChebyshevResult:
    """Q^-1(w, T) and friends with statistical errors (one standard error over random vectors).

    Attributes
    ----------
    frequencies, temperatures : numpy.ndarray
        w (K), T (K) in the order requested.
    absorption, absorption_error : numpy.ndarray
        Q^-1 and its error, shape (n_T, n_w), times ``normalisation``: one standard error over
        random vectors combined in quadrature with the truncation estimate (module docstring).
    velocity_shift, velocity_shift_error : numpy.ndarray or None
        delta v / v = -(normalisation/2) Re chi, shape (n_T, n_w).
    specific_heat, specific_heat_error : numpy.ndarray or None
        C(T) (k_B), shape (n_T,).
    rung_index : numpy.ndarray
        Rung serving each temperature, shape (n_T,).
    plan : Plan
    diagnostics : list of dict
        Per rung: reference_temperature (T0, K), temperatures (those it serves, K), n_moments,
        nodes (window nodes + 1: rows of the node-projected moments),
        node_rows (of them per pass), bank_rows (k rows per GEMM), n_vectors, window_loss
        (weight fraction at T0 beyond the window), window_fraction (largest fraction of Z(T)
        above the window over the rung's T, which enters the error as WINDOW_SAFETY x it x
        max|Q|), amplification (max Z(T0)/Z(T)),
        truncation_bound (truncation_tol * amplification), coarse_moments, truncation_error
        (largest truncation estimate of Q on the rung), seconds.
    exact_trace : bool
    wall_seconds : float
    operator : str
        "matrix_free" or "sparse": how H, T and C were applied.
    operator_fallback : str or None
        Why the matrix-free operator was not used although ``chebyshev.operator`` allowed it
        (random-matrix terms), else None.
    """

    frequencies: np.ndarray
    temperatures: np.ndarray
    absorption: np.ndarray
    absorption_error: np.ndarray
    velocity_shift: np.ndarray | None
    velocity_shift_error: np.ndarray | None
    specific_heat: np.ndarray | None
    specific_heat_error: np.ndarray | None
    rung_index: np.ndarray
    plan: Plan
    diagnostics: list = field(default_factory=list)
    exact_trace: bool = False
    wall_seconds: float = 0.0
    operator: str = "sparse"
    operator_fallback: str | None = None

    def emission_stripped(self) -> tuple[np.ndarray, np.ndarray]:
        """S+ = Q^-1 / (1 - e^{-w/T}) and its standard error, shape (n_T, n_w)."""
        return (emission_stripped(self.absorption, self.frequencies, self.temperatures),
                emission_stripped(self.absorption_error, self.frequencies, self.temperatures))


def _heat(z, e1, e2, t, exact) -> tuple[np.ndarray, np.ndarray]:
    """C(T) = (<E^2> - <E>^2) / T^2 from summed moments, with jackknife error."""
    def value(sz, s1, s2):
        mean = s1 / sz
        return np.maximum(s2 / sz - mean**2, 0.0) / t**2
    full = value(z.sum(0), e1.sum(0), e2.sum(0))
    r_count = z.shape[0]
    if exact or r_count < 2:
        return full, np.zeros_like(full)
    loo = value(z.sum(0) - z, e1.sum(0) - e1, e2.sum(0) - e2)
    err = np.sqrt((r_count - 1) / r_count * np.sum((loo - loo.mean(axis=0)) ** 2, axis=0))
    return full, err


def _shifted(apply_t, shift: float):
    """x -> (T - shift) x (a :class:`.kpm.ShiftedDiagonal` for a diagonal T)."""
    if isinstance(apply_t, DiagonalOperator):
        return ShiftedDiagonal(apply_t.diagonal, shift)
    return lambda x: apply_t(x) - shift * x


def chebyshev_absorption(
    real,
    frequencies,
    temperatures,
    broadening: Broadening | None = None,
    params: ChebyshevParams | None = None,
    normalisation: float = 1.0,
    seed: int | np.random.SeedSequence = 0,
    observables: tuple[str, ...] = CHEBYSHEV_OBSERVABLES,
) -> ChebyshevResult:
    """Golden-rule Q^-1(w, T), velocity shift and specific heat by 2D KPM and typicality.

    Parameters
    ----------
    real : Realisation
        The realisation. H, T and C = [H, T] are sparse for TLS and couplings; random-matrix terms
        are dense D x D, so they are supported only where a dense matrix fits in memory.
    frequencies : array_like
        w = hbar omega (K), all > 0.
    temperatures : array_like
        T (K), all > 0.
    broadening : Broadening, optional
        Gaussian (default width 0.01 K) or Lorentzian line kernel, exactly as in dense ED; with
        ``scaling = "relative"`` the kernel at each w has the width eta = width * w (the moments
        do not depend on the kernel; the narrowest width, at the lowest w, sets their number).
    params : ChebyshevParams, optional
        Moments, vectors, ladder, precision and limits.
    normalisation : float
        Multiplies Q and the velocity shift (``absorption_normalisation(params)``: units of pi*C0
        and C0).
    seed : int or numpy.random.SeedSequence
        Source of the random vectors (vector i uses spawn key (..., i), so results do not depend
        on blocking or on the rung); ignored for an exact trace.
    observables : tuple of str
        Subset of ("absorption", "velocity_shift", "specific_heat"); absorption is always computed.

    Returns
    -------
    ChebyshevResult
        Values and error bars (one standard error over random vectors, jackknife, combined in
        quadrature with the truncation estimate), requested order.

    Raises
    ------
    ValueError
        Non-smooth kernel, too few moments for the kernel width, temperatures below the ladder
        or below what the Boltzmann filter resolves for this spectrum
        (:func:`.plan.check_filter_temperatures`), a normalisation that is not a finite number
        > 0, observables not an iterable of the names listed (a string included).
    MemoryError
        Before allocation, when the plan (or a dense random-matrix term) does not fit.
    TypeError
        ``real`` not a Realisation, ``params`` not a ChebyshevParams.

    Notes
    -----
    Where D <= max(16, n_vectors) a stochastic trace is replaced by the exact one
    (:func:`.plan.check_params`; ``exact_trace`` of the result says so): at so small a D the
    random vectors can coincide and their spread understate the error many times.

    Examples
    --------
    >>> real = draw_realisation(params, realisation_rng(seed, 0))          # doctest: +SKIP
    >>> res = chebyshev_absorption(real, [0.1], np.geomspace(0.02, 0.2, 20),
    ...                            Broadening(width=0.02), ChebyshevParams(n_vectors=4),
    ...                            absorption_normalisation(params), seed=1)  # doctest: +SKIP
    >>> res.absorption, res.absorption_error                              # doctest: +SKIP
    """
    started = time.perf_counter()
    observables = _checked_observables(observables)
    w, t, broadening = check_inputs(frequencies, temperatures, broadening,
                                    "velocity_shift" in observables)
    params = check_params(params, _checked_realisation(real).dimension)
    normalisation = v.positive("normalisation", normalisation)
    seq = _seed_sequence(seed)
    broadening.warn_if_wider_than_frequency(w)  # as dense ED's absorption (a break test, 53)
    check_realisation_memory(real, params)  # before the time: N = 30 is refused in 1 ms
    # max_seconds before H is built and its spectral bounds found (ARPACK on the 2^N operator:
    # 128 s at N = 24 before "estimated at 3.56e3 s (> max_seconds=5)"; bt220 F4)
    check_time_budget(real, w, t, broadening, params, "velocity_shift" in observables)
    ops = ChebyshevOperators(real, params)
    raw, plan, extra = respond_with_plan(ops, w, t, broadening, params, seq, observables,
                                         checked=True)
    values = physical_observables(raw, normalisation, ("absorption", *observables), errors=True)
    for rung in extra["diagnostics"]:
        rung["truncation_error"] = abs(normalisation) * rung["truncation_error"]
    return ChebyshevResult(
        frequencies=w, temperatures=t, absorption=values["absorption"],
        absorption_error=values["absorption_error"],
        velocity_shift=values.get("velocity_shift"),
        velocity_shift_error=values.get("velocity_shift_error"),
        specific_heat=values.get("specific_heat"),
        specific_heat_error=values.get("specific_heat_error"),
        rung_index=extra["rung_index"], plan=plan, diagnostics=extra["diagnostics"],
        exact_trace=params.trace == "exact", wall_seconds=time.perf_counter() - started,
        operator=ops.operator, operator_fallback=ops.fallback)


def plan_chebyshev(
    real,
    frequencies,
    temperatures,
    broadening: Broadening | None = None,
    params: ChebyshevParams | None = None,
    seed: int | np.random.SeedSequence = 0,
    observables: tuple[str, ...] = CHEBYSHEV_OBSERVABLES,
) -> Plan:
    """The plan of :func:`chebyshev_absorption` without running it (a dry run).

    Builds H, T and C, finds the spectral bounds, filters one pilot vector per rung and returns
    the ladder, moments per rung, memory (bytes) and time (s) estimates; raises the same errors
    (too few moments, unreachable temperatures, MemoryError, max_seconds) as the solve would.
    Arguments as :func:`chebyshev_absorption`.
    """
    observables = _checked_observables(observables)
    w, t, broadening = check_inputs(frequencies, temperatures, broadening,
                                    "velocity_shift" in observables)
    params = check_params(params, _checked_realisation(real).dimension)
    seq = _seed_sequence(seed)
    check_realisation_memory(real, params)
    check_time_budget(real, w, t, broadening, params, "velocity_shift" in observables)
    ops = ChebyshevOperators(real, params)
    threads = ops.gemm_threads()
    # a small D runs wholly on one thread, the compiled kernels too: their parallel regions
    # gained nothing there, and on a loaded machine each one's wake-up cost up to 250x the
    # solve (N = 10: 0.12 s on one thread, 0.5-31 s on two; session 16)
    compiled = 1 if ops.threads == 1 and ops.operator == "matrix_free" else None
    with blas_threads(1), numba_threads(compiled):
        _check_measured_time(ops, w, t, broadening, params, "velocity_shift" in observables)
        op = ops.scaled()
        pilot = rademacher(seq, 0, op.dimension)
        velocity = "velocity_shift" in observables
        return plan_solve(op, ops.apply_t, ops.extra_bytes, w, t, broadening, params, pilot,
                          velocity, threads, _readout(op.scale, w, t, broadening, velocity, params,
                                        op.dimension))


def _checked_observables(observables) -> tuple[str, ...]:
    """``observables`` as a tuple of names from CHEBYSHEV_OBSERVABLES, or ValueError."""
    if isinstance(observables, str | bytes):  # iterating a string would check its letters
        raise ValueError(f"observables must be a tuple of names from {CHEBYSHEV_OBSERVABLES}, "
                         f"got the string {observables!r} (write ({observables!r},))")
    try:  # a generator would be used up by the check below
        observables = tuple(observables)
    except TypeError:
        raise ValueError(f"observables must be a tuple of names from {CHEBYSHEV_OBSERVABLES}, "
                         f"got {observables!r}") from None
    for name in observables:
        v.choice("observables entry", name, CHEBYSHEV_OBSERVABLES)
    return observables


def _readout(scale, w, t, broadening, velocity, params, dim, built: dict | None = None):
    """rung -> the compressed node basis of its readouts (:func:`.contraction.readout_basis`),
    or None where it would keep every window node, for :func:`.plan.plan_solve`. None for every
    rung (all window nodes, the numbers of the solver before session 20) with
    ``contraction.BASIS_TOL`` = 0, below ``contraction.BASIS_MIN_DIMENSION`` (where building
    the bases costs more than it saves), and for an exact trace, whose reported error is the
    truncation's alone (~1e-7 relative in the calibration cases, the size of what the
    compression changes). The rung's contractions it builds are kept in ``built`` (rung ->
    (contraction, probes)) for the solve to use again."""
    if (params.trace == "exact" or contraction_module.BASIS_TOL == 0
            or dim < contraction_module.BASIS_MIN_DIMENSION):
        return None

    def basis(rung: Rung) -> np.ndarray | None:
        served = np.asarray(rung.served)
        contractions = rung_contractions(rung, scale, w, t[served], broadening, velocity)
        if built is not None:
            built[rung] = contractions
        u = readout_basis(*contractions)
        return None if u.shape[1] == u.shape[0] else u
    return basis


def _seed_sequence(seed) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return seed
    return np.random.SeedSequence(v.integer("seed", seed, 0, v.MAX_SEED))


def _checked_realisation(real) -> Realisation:
    """``real`` itself, or TypeError naming what was given (a ModelParams or None used to fail
    deep inside with an AttributeError; session 24)."""
    if not isinstance(real, Realisation):
        raise TypeError("real must be a Realisation (manybody.draw_realisation(model, "
                        f"manybody.realisation_rng(seed, r))), got {type(real).__name__}")
    return real


#: (operator option, reason) of the matrix-free fallbacks already logged by this process.
_FALLBACKS_SAID: set[tuple[str, str]] = set()


class ChebyshevOperators:
    """H, T and C = [H, T] of a realisation, applied as functions to (D, b) blocks: matrix-free
    (bit operations, :mod:`.matrix_free`) or as matrices (sparse, or dense with random-matrix
    terms), chosen by ``params.operator``. ``operator`` says which was used and ``fallback`` why
    the matrix-free form was not (None when it was, or was not asked for); ``threads`` is 1 for a
    small D (the whole solve on one thread) or None (the GEMMs on as many threads as BLAS is
    configured to use, :meth:`gemm_threads`)."""

    def __init__(self, real, params: ChebyshevParams) -> None:
        check_realisation_memory(real, params)  # the lower bound, before anything is built
        self.realisation = real  # for the a-priori time bound (resources.check_time_budget)
        self.fallback = None
        self.dimension = real.dimension
        # T in units of a power of two near its scale (exact in any precision), the responses
        # times its square (:func:`respond_with_plan`): T of gamma <= 1e-15 gave Q = 0 and of
        # gamma >= 1e20 NaN in float32, where the dense solver is right (a break test, 45)
        self.stress_unit = stress_unit(real)
        if self.stress_unit != 1.0:
            real = scaled_stress(real, 1.0 / self.stress_unit)
        wanted = uses_matrix_free(real.n_tls, params)  # the rule :func:`route` reports
        refusal = matrix_free_refusal(real) if wanted else None
        if refusal is not None:
            self.fallback = f"using the sparse/dense operators: the model's {refusal}"
            if (params.operator, refusal) not in _FALLBACKS_SAID:  # once per process, not per
                _FALLBACKS_SAID.add((params.operator, refusal))  # realisation
                (log.warning if params.operator == "matrix_free" else log.info)(
                    "chebyshev.operator = %r cannot be used for this model (said once per "
                    "process): %s", params.operator, self.fallback)
        self.threads = 1 if real.dimension <= SMALL_DIMENSION else None
        if wanted and refusal is None:
            self.operator = "matrix_free"
            with numba_threads(1 if self.threads == 1 else None):  # its compiled diagonal too
                self.h, t = matrix_free_operators(real)
            self.apply_t, self.apply_c = operator_applier(sp.diags(t)), self.h.commutator_product
            self.extra_bytes = 0  # the diagonal of T is held by (and counted with) H
            return
        self.operator = "sparse"
        need_dense = dense_operator_bytes(real.n_tls, real.random_matrix is not None,
                                          real.stress_random_matrix is not None)
        if need_dense:  # dense matrices cannot use a kept workspace's memory (.workspace)
            release_kept_workspace()
        if need_dense > params.memory_fraction * available_memory():
            raise MemoryError(
                f"random-matrix terms of n_tls={real.n_tls} are dense 2^N x 2^N matrices needing "
                f"about {need_dense / 2**30:.3g} GB; the chebyshev solver supports them only "
                "where they fit (use a model without random_matrix / stress.random_matrix here)")
        h, stress = build_operators(real, np.float64, dense=False)
        self.h = h if sp.issparse(h) else np.asarray(h, dtype=np.float64)
        comm = commutator(self.h, stress)
        self.apply_t, self.apply_c = operator_applier(stress), operator_applier(comm)
        self.extra_bytes = operator_bytes(stress) + operator_bytes(comm)

    def scaled(self) -> ScaledOperator:
        return ScaledOperator(self.h, spectral_bounds(self.h))

    def gemm_threads(self) -> int:
        """Threads of the solve's GEMMs (:mod:`.gemm`): 1 for small D, else as many as BLAS is
        configured to use. The solve itself runs with BLAS limited to one thread, so that no
        BLAS thread spins beside the compiled steps."""
        return 1 if self.threads == 1 else blas_thread_count()


def respond_with_plan(ops: ChebyshevOperators, w, t, broadening, params, seq, observables,
                      checked: bool = False) -> tuple[Responses, Plan, dict]:
    """Raw responses of a realisation (im_chi, re_chi, specific heat and their error components),
    its plan, and per-rung diagnostics and the rung serving each temperature. A stochastic trace
    of a tiny D becomes exact here (:func:`.plan.check_params`), for a sweep's realisations as
    for :func:`chebyshev_absorption` (before a reviewer's check in session 24 only the latter).
    ``max_seconds`` is checked against an a-priori bound (:func:`.resources.check_time_budget`)
    before the spectral bounds are found, unless ``checked`` says the caller did."""
    params = check_params(params, ops.dimension)
    if not checked:  # max_seconds before the spectral bounds (a sweep's realisations)
        check_time_budget(ops.realisation, w, t, broadening, params,
                          "velocity_shift" in observables)
    threads = ops.gemm_threads()
    # a small D runs wholly on one thread, the compiled kernels too: their parallel regions
    # gained nothing there, and on a loaded machine each one's wake-up cost up to 250x the
    # solve (N = 10: 0.12 s on one thread, 0.5-31 s on two; session 16)
    compiled = 1 if ops.threads == 1 and ops.operator == "matrix_free" else None
    with blas_threads(1), numba_threads(compiled):
        _check_measured_time(ops, w, t, broadening, params, "velocity_shift" in observables)
        op = ops.scaled()
        raw, plan, info = _run(op, ops.apply_t, ops.apply_c, ops.extra_bytes, w, t, broadening,
                               params, seq, "velocity_shift" in observables, threads)
    if ops.stress_unit != 1.0:  # back from T in units of stress_unit: chi ~ |T|^2
        square = ops.stress_unit**2
        for key in ("im_chi", "re_chi"):
            if getattr(raw, key) is not None:
                setattr(raw, key, getattr(raw, key) * square)
            raw.errors[key] = tuple(part * square for part in raw.errors[key])
        for rung in info["diagnostics"]:
            rung["truncation_error"] = rung["truncation_error"] * square
    _unresolved_heat(raw, plan, np.atleast_1d(np.asarray(t, dtype=float)),
                     "specific_heat" in observables)
    return raw, plan, info


#: The second early check of ``max_seconds`` (:func:`_check_measured_time`) counts products with
#: H at this fraction of their measured rate (the median of MEASURED_PRODUCTS).
MEASURED_RATE_FRACTION = 0.1
MEASURED_PRODUCTS = 5


def _check_measured_time(ops: ChebyshevOperators, w, t, broadening, params, velocity) -> None:
    """With ``max_seconds``, once H is built but before its spectral bounds (ARPACK on the 2^N
    operator): the a-priori bound of :func:`.resources.check_time_budget` with the product rate
    measured on H itself (a few products with one vector; no state of the solve is touched, so
    the numbers of a solve that goes ahead are unchanged), at a tenth of it (one slow product
    among few moves a median). The cost model's rate, reduced 50-fold for fast machines, left a
    dipolar N = 22 solve planned at 2.6e3 s to run 110 s of ARPACK under max_seconds = 60
    (helper-222); now refused after 11 s (building H and the products), bound 549 s."""
    if params.max_seconds is None:
        return
    probe = ScaledOperator(ops.h, SpectralScale(lower=-1.0, upper=1.0, ground=-1.0))
    x = np.ones((ops.dimension, 1))
    for _ in range(MEASURED_PRODUCTS):
        probe.apply(x)
    check_time_budget(ops.realisation, w, t, broadening, params, velocity,
                      seconds_per_product=MEASURED_RATE_FRACTION * probe.seconds_per_product())


def _unresolved_heat(raw: Responses, plan: Plan, t: np.ndarray, asked: bool) -> None:
    """C(T) is NaN below the filter's lowest reference temperature
    (:func:`.plan.lowest_filter_temperature`), with a warning when asked for.

    A rung at T0 above that limit serves temperatures down to T0 / ladder_ratio; Q^-1 there is
    within its errors, but C(T), ~e^(-gap/T) ~ 0, picked up the series' leakage below E_0
    weighted by e^((E_0 - E)/T): 3.7e-6 +- 5.3e-7 k_B against 1e-62 at 0.3 mK (N = 8, limit
    0.37 mK), while the same temperature in a shorter list was refused (a new user, session 35).
    """
    limit = lowest_filter_temperature(plan.scale)
    below = t < limit
    if raw.specific_heat is None or not below.any():
        return
    raw.specific_heat[below] = np.nan
    for part in raw.errors.get("specific_heat", ()):
        part[below] = np.nan
    if asked:
        warnings.warn(f"specific heat is NaN at {int(below.sum())} temperature(s) below "
                      f"{limit:.3g} K, the lowest this realisation's Boltzmann filter resolves "
                      "(Q^-1 there is served by a warmer rung; C(T) would carry the series' "
                      "leakage, many times its error bar); use dense ED for C(T) there",
                      RuntimeWarning, stacklevel=3)


def _run(op, apply_t, apply_c, extra_bytes, w, t, broadening, params, seq, velocity, threads=1
         ) -> tuple[Responses, Plan, dict]:
    exact = params.trace == "exact"
    dim = op.dimension
    pilot = rademacher(seq, 0, dim)
    built: dict = {}  # the contractions the plan built for the bases, per rung
    plan = plan_solve(op, apply_t, extra_bytes, w, t, broadening, params, pilot, velocity,
                      threads, _readout(op.scale, w, t, broadening, velocity, params,
                                        op.dimension, built))
    # a rung solved alone builds its own contractions (the plan counts one at a time); of the
    # shared runs only the first keeps the plan's (a run holds its own rungs' tables)
    first_run = plan.shared_groups[0] if plan.shared_groups else (0, 0, 0)
    for rung in plan.rungs[: first_run[0]] + plan.rungs[first_run[1]:]:
        built.pop(rung, None)
    log.info("chebyshev plan: D=%d, rungs %s, moments %s, %.2f GB, ~%.0f s", dim,
             [round(r.temperature, 6) for r in plan.rungs], [r.n_moments for r in plan.rungs],
             plan.memory_bytes / 2**30, plan.seconds)
    if dim <= SMALL_DIMENSION and plan.seconds > LONG_PLAN_SECONDS:
        # n_moments = 8192 at D = 16 planned ten hours and 16 GB and started silently (a tester,
        # session 25); dense ED of such a system takes seconds
        warnings.warn(
            f"the chebyshev plan for D = {dim} is estimated at {plan.seconds / 3600:.2g} h and "
            f"{plan.memory_bytes / 2**30:.3g} GB ({max(r.n_moments for r in plan.rungs)} "
            "moments); dense ED of a system this small takes seconds: use solver.method = "
            "'dense' (or fewer chebyshev.n_moments)", RuntimeWarning, stacklevel=2)
    n_t, n_w = t.size, w.size
    values = {"abs": np.zeros((n_t, n_w)), "vel": np.zeros((n_t, n_w)), "heat": np.zeros(n_t)}
    statistical = {k: np.zeros_like(a) for k, a in values.items()}
    truncation = {k: np.zeros_like(a) for k, a in values.items()}
    rung_index = np.zeros(n_t, dtype=int)
    above_window = np.zeros(n_t)  # L(T): the fraction of Z(T) above the rung's window
    diagnostics = []
    # the large arrays, reused by every rung and block, and by the next solve of this thread
    # inside reusing_workspace (a sweep worker; .workspace), which keeps no more than this plan
    # counted with it: a buffer larger than this solve needs for its role is freed
    workspace = current_workspace()
    workspace.fit(plan.workspace_bytes)
    shared: dict[int, tuple[dict[str, list[np.ndarray]], int, float]] = {}
    for group in plan.shared_groups:
        shared.update(_shared_sums(op, apply_t, apply_c, plan, group, w, t, broadening, params,
                                   seq, velocity, workspace, built))
    built.clear()
    for j, (rung, rows, bank) in enumerate(zip(plan.rungs, plan.node_rows, plan.bank_rows,
                                               strict=True)):
        rung_start = time.perf_counter()
        served = np.asarray(rung.served)
        rung_index[served] = j
        m_coarse = coarse_moments(rung.n_moments, exact)
        basis = plan.node_bases[j] if plan.node_bases else None
        if j not in shared:
            parts, count = _rung_sums(op, apply_t, apply_c, rung, rows, bank, plan, w,
                                      t[served], broadening, params, seq, velocity, m_coarse,
                                      workspace, basis)
        else:  # the rung's share of its run's time (the k-recursion on the run's top rung)
            parts, count, seconds = shared[j]
            rung_start -= seconds
        arrays = {k: np.concatenate(p) for k, p in parts.items()}
        kinds = ("abs", "vel") if velocity else ("abs",)
        for kind in kinds:
            val, err, change = _ratio_with_truncation(arrays, kind, len(m_coarse), exact)
            values[kind][served] = val
            statistical[kind][served] = err
            # envelope over the rung's temperatures (per frequency): the change can pass through
            # zero at one temperature while the truncation error does not
            truncation[kind][served] = TRUNCATION_SAFETY * np.broadcast_to(change.max(axis=0),
                                                                           change.shape)
        above_window[served] = np.maximum(arrays["above"].sum(axis=0) / arrays["z"].sum(axis=0), 0.0)
        window_fraction = float(above_window[served].max())
        heat, heat_err = _heat(arrays["z"], arrays["e1"], arrays["e2"], t[served], exact)
        change = np.zeros_like(heat)
        for i in range(len(m_coarse)):
            heat_c, _ = _heat(arrays[f"coarse{i}_z"], arrays[f"coarse{i}_e1"],
                              arrays[f"coarse{i}_e2"], t[served], True)
            change = np.maximum(change, np.abs(heat - heat_c))
        values["heat"][served] = heat
        statistical["heat"][served] = heat_err
        truncation["heat"][served] = np.full_like(change, max(
            TRUNCATION_SAFETY * change.max(), HEAT_ROUND_OFF * np.abs(heat).max()))
        diagnostics.append(_diagnostics(rung, plan, arrays, parts, params, t[served], count,
                                        m_coarse, truncation["abs"][served], exact, rung_start))
        nodes = int(window_nodes(rung, plan.scale).size) + 1
        group = plan.group_of(j)
        diagnostics[-1].update(nodes=nodes, node_rows=plan.node_rows[j],
                               bank_rows=plan.bank_rows[j],
                               formed_rows=nodes if basis is None else basis.shape[1] + 1,
                               shared_bank=group[2] if group else 0,
                               shared_first=bool(group) and group[0] == j,
                               window_fraction=window_fraction)
    for kind in ("abs", "vel") if velocity else ("abs",):  # the weight above the windows
        largest = np.abs(values[kind]).max()
        truncation[kind] += WINDOW_SAFETY * largest * above_window[:, None]
        if params.dtype == "float64":
            truncation[kind] = np.maximum(truncation[kind], FLOAT64_ROUND_OFF * largest)
        elif exact:  # a stochastic trace's spread over vectors holds the round-off
            truncation[kind] = np.maximum(truncation[kind],
                                          FLOAT32_ROUND_OFF_OF_LARGEST[kind] * largest)
    # a rung whose C(T) is all ~0 had an error of exactly 0 from its own floor (0.0 +- 0.0
    # against 2.9e-13 from dense ED), and cold C of ~1e-10 k_B (true: 1e-39) carried errors of
    # 10 % (two break tests, session 53): the leakage's floor
    truncation["heat"] = np.maximum(truncation["heat"], HEAT_LEAKAGE)
    if params.dtype == "float32":  # round-off, not in the spread over vectors (check_point)
        hot = np.maximum(t[:, None] / np.asarray(w)[None, :], 1.0)
        truncation["abs"] = np.maximum(truncation["abs"],
                                       FLOAT32_ROUND_OFF * hot * np.abs(values["abs"]))
    raw = Responses(im_chi=values["abs"], re_chi=values["vel"] if velocity else None,
                    specific_heat=values["heat"],
                    errors={"im_chi": (statistical["abs"], truncation["abs"]),
                            "re_chi": (statistical["vel"], truncation["vel"]),
                            "specific_heat": (statistical["heat"], truncation["heat"])})
    return raw, plan, {"rung_index": rung_index, "diagnostics": diagnostics}


def _contract(parts: dict[str, list[np.ndarray]], contraction, coarse, y, m, q, exact: bool
              ) -> None:
    """Add one block's numerators, Z and energy sums (full and coarse) to ``parts`` (per vector,
    or summed for an exact trace, whose contraction is linear in the moments)."""
    if exact:  # the contraction is linear in the moments: contract the block's sum once
        y, m, q = (a.sum(axis=0, keepdims=True) for a in (y, m, q))
    block = contraction.per_vector(y, m, q)
    for i, contract in enumerate(coarse):
        block.update({f"coarse{i}_{k}": a for k, a in contract.per_vector(y, m, q).items()})
    for key, value in block.items():
        summed = value.sum(axis=0, keepdims=True) if exact else value
        if exact and key in parts:
            parts[key][0] += summed
        else:
            parts.setdefault(key, []).append(summed)


def _shared_sums(op, apply_t, apply_c, plan, group, w, t, broadening, params, seq, velocity,
                 workspace, built: dict) -> dict[int, tuple[dict[str, list[np.ndarray]], int, float]]:
    """Per rung of the run ``group`` = (first, stop, K) of ``plan.shared_groups``, by rung number,
    what :func:`_rung_sums` returns and the seconds spent on it, from one k-recursion for the
    run's rungs per block of vectors (:func:`.moments.shared_node_moments`; its time is counted
    on the run's top rung, whose filter it uses). The rungs' contractions, whose window nodes the
    shared recursion projects on, come from ``built`` (those the plan built for the bases; the
    others are built here first) and are dropped from it when the run ends:
    :func:`.costs.shared_bytes` counts a run's tables."""
    first, stop, _ = group
    rungs = plan.rungs[first:stop]
    top = rungs[0].temperature
    specs = []
    for j, rung in enumerate(rungs, start=first):
        if rung not in built:
            built[rung] = rung_contractions(rung, plan.scale, w, t[np.asarray(rung.served)],
                                            broadening, velocity, params.trace == "exact")
        specs.append(NodeRung(rung.n_moments, built[rung][0].theta_rows,
                              relative_filter(plan.scale, rung.temperature, top),
                              rung.stress_shift, plan.node_bases[j] if plan.node_bases else None))
    results: list[tuple[dict[str, list[np.ndarray]], int, float]] = [
        ({}, 0, 0.0) for _ in rungs]
    dim = op.dimension
    count = 0
    while count < plan.vectors_per_rung:
        size = min(plan.block, plan.vectors_per_rung - count)
        start = time.perf_counter()
        r = np.stack([rademacher(seq, i, dim) for i in range(count, count + size)], axis=1)
        vecs = boltzmann_filter(op, top, r)
        del r
        moments = shared_node_moments(op, apply_t, apply_c, vecs, specs,
                                      bank_dtype=params.numpy_dtype,
                                      bank_rows=plan.bank_rows[first], chunk=plan.columns,
                                      threads=plan.threads, workspace=workspace)
        for i, (y, m, q) in enumerate(moments):
            contraction, coarse = built[rungs[i]]
            parts, _, seconds = results[i]
            _contract(parts, contraction, coarse, y, m, q, False)
            del y
            now = time.perf_counter()
            results[i] = (parts, count + size, seconds + now - start)
            start = now
        del vecs
        count += size
    for rung in rungs:
        built.pop(rung, None)
    return {first + i: result for i, result in enumerate(results)}


def _rung_sums(op, apply_t, apply_c, rung, rows, bank, plan, w, t_served, broadening, params,
               seq, velocity, m_coarse, workspace: Workspace | None = None,
               basis: np.ndarray | None = None) -> tuple[dict[str, list[np.ndarray]], int]:
    """Per-vector (or, for an exact trace, summed) numerators, Z and energy sums of one rung,
    full and coarse, adding vectors until ``target_error`` is met; and the number of vectors."""
    exact = params.trace == "exact"
    dim = op.dimension
    contraction, coarse = rung_contractions(rung, plan.scale, w, t_served, broadening, velocity,
                                            exact)
    parts: dict[str, list[np.ndarray]] = {}
    count, goal = 0, plan.vectors_per_rung
    while count < goal:
        size = min(plan.block, goal - count)
        if exact:
            r = np.zeros((dim, size))
            r[np.arange(count, count + size), np.arange(size)] = 1.0
        else:
            r = np.stack([rademacher(seq, i, dim) for i in range(count, count + size)], axis=1)
        vecs = boltzmann_filter(op, rung.temperature, r)
        del r
        shifted = _shifted(apply_t, rung.stress_shift)
        # the pole term needs <(T - c) T_k v | C v>: the overlaps q of the moment functions, the
        # l = 0 column of their GEMMs (a probe block of (T - c) C v dotted in every k step gave
        # the same sums; session 16)
        if rows:  # node-projected moments (costs.projects)
            y, m, _, q = node_correlation_moments(op, shifted, apply_c, vecs, rung.n_moments,
                                                  contraction.theta_rows,
                                                  bank_dtype=params.numpy_dtype, node_rows=rows,
                                                  bank_rows=bank, chunk=plan.columns,
                                                  threads=plan.threads, workspace=workspace,
                                                  basis=basis)
        else:  # a window too wide to gain: the full moment matrix, projected afterwards
            mu, m, _, q = correlation_moments(op, shifted, apply_c, vecs, rung.n_moments,
                                              left_commutator=True,
                                              bank_dtype=params.numpy_dtype, bank_rows=bank,
                                              chunk=plan.columns, threads=plan.threads,
                                              workspace=workspace, summed=exact)
            if exact:  # linear in the moments: project the block's sum, not each vector's (a
                # D = 64 exact solve at M ~ 2000 spent 46 s of 92 in 64 projections per rung);
                # mu comes summed (64 per-vector M x M matrices peaked at 6.9 GB)
                m = m.sum(axis=0, keepdims=True)
            y = np.matmul(contraction.cw_rows, mu)
            q = q @ contraction.cw_rows.T
            del mu
        del vecs
        _contract(parts, contraction, coarse, y, m, q, exact)
        del y
        count += size
        if count >= goal and not exact and params.target_error is not None:
            rel = _relative_error(parts)
            if rel > params.target_error and goal < params.max_vectors:
                goal = min(params.max_vectors, goal + max(plan.block, params.n_vectors // 2))
    return parts, count


def _ratio_with_truncation(arrays, kind: str, n_coarse: int, exact: bool):
    """Ratio estimate of one response on a rung, its jackknife error, and the largest change
    when only the coarse moments are contracted (the truncation probe)."""
    val, err = jackknife_ratio(arrays[kind], arrays["z"], exact)
    change = np.zeros_like(val)
    for i in range(n_coarse):
        val_c, _ = jackknife_ratio(arrays[f"coarse{i}_{kind}"], arrays[f"coarse{i}_z"], True)
        change = np.maximum(change, np.abs(val - val_c))
    return val, err, change


def _diagnostics(rung, plan, arrays, parts, params, t_served, count, m_coarse, truncation_abs,
                 exact, rung_start) -> dict:
    """What a rung did (reported in ChebyshevResult.diagnostics), warning when the statistical
    target was missed or thermal weight was lost above the energy window."""
    amplification = float(np.max(arrays["z0"].sum() / arrays["z"].sum(axis=0)))
    loss = float(arrays["outside"].sum() / arrays["z0"].sum())
    rel = _relative_error(parts) if not exact else 0.0
    if not exact and params.target_error is not None and rel > params.target_error:
        warnings.warn(
            f"rung T0={rung.temperature:.4g} K: relative statistical error {rel:.3g} exceeds "
            f"target_error={params.target_error:g} after max_vectors={params.max_vectors} "
            "random vectors", RuntimeWarning, stacklevel=5)
    if loss > 1e-3:
        warnings.warn(
            f"rung T0={rung.temperature:.4g} K: a fraction {loss:.2e} of the thermal weight "
            f"lies above the energy window ({rung.window_energy - plan.scale.ground:.4g} K "
            "above E_0); raise chebyshev.window_sigmas", RuntimeWarning, stacklevel=5)
    return {
        "reference_temperature": rung.temperature,
        "temperatures": t_served.tolist(),
        "n_moments": rung.n_moments,
        "n_vectors": count,
        "filter_terms": rung.filter_terms,
        "window_energy": rung.window_energy - plan.scale.ground,
        "window_loss": loss,
        "amplification": amplification,
        "truncation_bound": params.truncation_tol * amplification,
        "coarse_moments": list(m_coarse),
        "truncation_error": float(np.max(truncation_abs)),  # per unit normalisation
        "relative_error": rel,
        "seconds": time.perf_counter() - rung_start,
    }


def _relative_error(parts: dict[str, list[np.ndarray]]) -> float:
    """max over temperatures of max_w sigma(w, T) / max_w |Q(w, T)| for the vectors so far."""
    val, err = jackknife_ratio(np.concatenate(parts["abs"]), np.concatenate(parts["z"]), False)
    scale = np.max(np.abs(val), axis=1)
    return float(np.max(np.max(err, axis=1) / np.where(scale > 0, scale, np.inf)))


# ---------------------------------------------------------------------------------------------
# the solver entry (manybody.simulation.solvers): the pipeline draws, builds and converts units


def prepare(model, probe, solver) -> None:
    """Refuse, before anything is drawn or built, what the chebyshev solver cannot do here:
    memory (the lower bound, or dense random-matrix terms), a line kernel without a Chebyshev
    expansion (histogram) and observables that need eigenstates.
    """
    check_inputs(probe.frequencies, probe.temperatures, probe.broadening)
    check_chebyshev_memory(model, solver.chebyshev)
    unsupported = sorted(set(probe.observables) - set(CHEBYSHEV_OBSERVABLES) - {"spacing_ratio"})
    if unsupported:
        raise ValueError(
            f"observable(s) {', '.join(map(repr, unsupported))} need eigenstates and are not "
            "available from the chebyshev solver; use solver.method = 'dense' or drop them")


def build(real, solver) -> ChebyshevOperators:
    """H, T and C = [H, T] of the realisation (sparse where they can be)."""
    return ChebyshevOperators(real, solver.chebyshev)


def respond(real, operators: ChebyshevOperators, probe, solver, *, model, seed: int,
            realisation: int) -> Responses:
    """Raw responses of one realisation by 2D KPM and typicality.

    The random vectors come from ``SeedSequence(seed, spawn_key=(realisation, TRACE_STREAM))``
    (the disorder, drawn by the pipeline, from ``realisation_rng(seed, realisation)``).
    ``spacing_ratio`` needs the spectrum: NaN here.
    """
    w, t, broadening = check_inputs(probe.frequencies, probe.temperatures, probe.broadening,
                                    "velocity_shift" in probe.observables)
    wanted = tuple(o for o in CHEBYSHEV_OBSERVABLES if o in probe.observables)
    if not wanted:  # the spacing ratio alone: nothing this solver computes. An equilibrated run
        # asks the full N for it alone, and Q^-1 was solved and thrown away (72 s at N = 13
        # under "auto"; session 53's note)
        return Responses(spacing_ratio=np.asarray(np.nan))
    trace_seed = np.random.SeedSequence(seed, spawn_key=(realisation, TRACE_STREAM))
    raw, _, _ = respond_with_plan(operators, w, t, broadening, solver.chebyshev, trace_seed,
                                  wanted)
    if "spacing_ratio" in probe.observables:
        raw.spacing_ratio = np.asarray(np.nan)
    return raw


#: T / w above which float32 round-off of the Chebyshev solve is warned about (check_point).
FLOAT32_HOT = 1000.0
#: float32 round-off of Q^-1 relative to the value, per unit of T / w (absorption and emission
#: cancel to ~w / T): measured 2e-8 (one TLS, exact trace; a break test, session 50) to 1e-6
#: (session 38) per unit; its floor joins the truncation error of a float32 solve, which had
#: reported errors 13 times too small at T = 100 w and 2000 times at 1e4 w.
FLOAT32_ROUND_OFF = 1e-6


def check_point(model, probe, solver) -> None:
    """Preflight of a sweep point (nothing drawn or built): observables that need eigenstates,
    a line kernel without a Chebyshev expansion, temperatures the ladder cannot reach, and the
    memory lower bound."""
    eigenstate_only = sorted(set(probe.observables) - set(CHEBYSHEV_OBSERVABLES)
                             - {"spacing_ratio"})
    if eigenstate_only:
        how = ("solver.method = 'chebyshev'" if solver.method == "chebyshev" else
               f"solver.method = 'auto' (which picks chebyshev at n_tls={model.n_tls})")
        raise ValueError(
            f"probe.observables {eigenstate_only!r} need eigenstates, which {how} does not "
            "compute; use solver.method = 'dense' or drop them")
    check_inputs(probe.frequencies, probe.temperatures, probe.broadening)
    build_ladder(np.asarray(probe.temperatures), solver.chebyshev)
    check_chebyshev_memory(model, solver.chebyshev)
    hot = max(probe.temperatures) / min(probe.frequencies)
    if solver.chebyshev.dtype == "float32" and hot > FLOAT32_HOT:
        # absorption and emission cancel to ~w / T of either: float32's round-off was 1 % of
        # Q^-1 at T = 1e4 w (z = -2.4 against dense ED) and 6 % at 1e5 w, outside the error
        # bar (a tester, session 38); 7e-5 at 100 w
        warnings.warn(f"probe.temperatures reach {hot:.4g} times the lowest frequency with "
                      "solver.chebyshev.dtype = 'float32': the absorption and emission terms "
                      "cancel to w / T there, and float32 round-off (about 1e-6 T / w of the "
                      "value, 1 % at T = 1e4 w) is not in the error bars; use dtype = 'float64'",
                      UserWarning, stacklevel=2)
    if "spacing_ratio" in probe.observables:  # NaN in the results, and nothing said so (a
        # tester, session 25); one message for every such point (the warnings module shows it
        # once)
        warnings.warn("probe.observables 'spacing_ratio' needs the full spectrum, which the "
                      "chebyshev solver does not compute: it is NaN where that solver runs; use "
                      "solver.method = 'dense' for it (or drop it)", UserWarning, stacklevel=2)


def route(model, solver) -> str:
    """How a point of ``model`` is solved, for the results' provenance: "chebyshev,
    matrix_free operator", or "chebyshev, sparse operator" (with the reason when the matrix-free
    form was asked for but the model has random-matrix terms), then the vectors' precision
    ("float32 vectors") and an exact trace where D is too small for random vectors. The same rule as
    :class:`ChebyshevOperators` (:func:`.resources.uses_matrix_free`), from the parameters alone."""
    has_rm = model.random_matrix is not None or model.stress.random_matrix > 0
    resolved = check_params(solver.chebyshev, 2**model.n_tls)
    # the vectors' precision: [solver] dtype is dense ED's, and a run that set it to float64
    # ran the Chebyshev solver in float32 with nothing in the file saying so (a break test,
    # session 54)
    vectors = (f", {resolved.dtype} vectors" + (
        "" if resolved.trace == solver.chebyshev.trace
        else f", exact trace (D = {2**model.n_tls} is too small for random vectors)"))
    if model.equilibration is not None and solver.method == "chebyshev" and resolved.trace != "exact":
        # the reduced problems of the temperatures where equilibration freezes most TLS are
        # solved with an exact float64 trace; the label said nothing of them (session 54's note)
        most = next(n for n in range(model.n_tls, -1, -1)
                    if check_params(solver.chebyshev, 2**n).trace == "exact")
        vectors += (f" (an exact float64 trace at temperatures where equilibration leaves at "
                    f"most {most} TLS active)")
    if uses_matrix_free(model.n_tls, solver.chebyshev, has_rm):
        return "chebyshev, matrix_free operator" + vectors
    if uses_matrix_free(model.n_tls, solver.chebyshev):
        return ("chebyshev, sparse/dense operators (random-matrix terms have no matrix-free "
                "form)" + vectors)
    return "chebyshev, sparse operators" + vectors


def dense_alternative(n_tls: int, random_matrix: bool, observables) -> tuple[int, str] | None:
    """(lower bound in bytes, remedy) offered when dense ED does not fit, or None when this
    solver cannot compute what is asked (observables that need eigenstates) or the model (dense
    random-matrix terms)."""
    if random_matrix or set(observables) - set(CHEBYSHEV_OBSERVABLES) - {"spacing_ratio"}:
        return None
    low = chebyshev_minimum_bytes(n_tls)
    return low, (f"solver.method = 'chebyshev' (sparse H and a few vectors, at least "
                 f"~{low / 2.0**30:.2g} GB)")
