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
vector, not 3M; :func:`manybody.kpm.correlation_moments`). Every temperature T <= T0 then follows
by one quadrature contraction on Chebyshev nodes with

    F_T(E, E') = e^{-(1/T - 1/T0)(E - E_0)} W(E) G(E' - E),

evaluated exactly: Boltzmann factor and kernel are applied as functions, not as a broadened
histogram, so the result converges to dense ED with the *same* kernel (no KPM damping kernel, no
extra broadening) once M resolves F. M is chosen from the Chebyshev tail of F (ValueError when a
fixed or maximal M cannot resolve the kernel, with the narrowest width it can). W(E) is a smooth
window (erfc of width 2 eta) above the energies the filtered vectors occupy at T0, so M only has to
resolve the kernel there (near the bottom of a spectrum of half-width a the Chebyshev resolution is
~ sqrt(2 a L) / M for a window of height L, instead of a / M). Z(T) and the energy moments come
from one-operator moments of the same vectors, so Q = sum_r N_r / sum_r Z_r is a ratio estimator
and its error is the jackknife spread over random vectors.

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
:func:`manybody.absorption.absorption` and :func:`manybody.absorption.velocity_shift`; multiply by
``absorption_normalisation(params)`` for units of pi*C0 (C0 for the velocity shift).
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from . import _validate as v
from .absorption import Broadening
from .diagonalise import available_memory
from .kpm import (
    ScaledOperator,
    SpectralScale,
    boltzmann_filter,
    chebyshev_nodes,
    commutator,
    correlation_moments,
    exponential_coefficients,
    gemm_rate,
    jackknife_ratio,
    operator_applier,
    operator_bytes,
    quadrature_matrix,
    rademacher,
    spectral_bounds,
    tail_degree,
)

__all__ = [
    "CHEBYSHEV_OBSERVABLES", "ChebyshevParams", "ChebyshevResult", "LineShape", "Plan", "Rung",
    "build_ladder", "chebyshev_absorption", "choose_solver", "commutator", "estimate_resources",
    "observe_chebyshev", "plan_chebyshev", "plan_solve",
]

log = logging.getLogger(__name__)

#: Observables the chebyshev solver computes (``spacing_ratio`` needs the spectrum: NaN here).
CHEBYSHEV_OBSERVABLES = ("absorption", "velocity_shift", "specific_heat")
#: Cost model used before anything is measured: seconds per stored nonzero of a sparse product,
#: and single/double precision GEMM rates (flop/s) of the 2-core reference machine.
SECONDS_PER_NONZERO = 1.2e-9
GEMM_RATE = {"float32": 4.0e10, "float64": 1.5e10}
#: Below this dimension BLAS runs single-threaded inside the solver (small products only lose).
SMALL_DIMENSION = 4096
#: Spawn-key suffix of the random vectors of realisation r: SeedSequence(seed, spawn_key=(r, 1)).
TRACE_STREAM = 1


@dataclass(frozen=True, kw_only=True)
class ChebyshevParams:
    """Options of the Chebyshev (KPM + typicality) solver.

    Parameters
    ----------
    n_vectors : int
        Random vectors per rung (the minimum when ``target_error`` is set); >= 2 for error bars.
    max_vectors : int
        Upper limit when ``target_error`` asks for more.
    target_error : float or None
        Keep adding vectors (in blocks) until, at every temperature of a rung,
        max_w sigma(w, T) / max_w |Q(w, T)| <= target_error, or ``max_vectors`` is reached (warning).
    n_moments : int or None
        Fixed number of moments M per axis for every rung; None chooses the smallest M that resolves
        the kernel to ``truncation_tol`` at each rung. A fixed M that is too small is an error.
    max_moments : int
        Refuse (with the narrowest achievable kernel width) when a rung needs more.
    truncation_tol : float
        Bound on the Chebyshev tail of F relative to its maximum.
    ladder_ratio : float
        Largest T0 / T served by one rung (> 1).
    ladder : tuple of float or None
        Explicit reference temperatures T0 (K); None builds the ladder from the temperatures.
    max_rungs : int
        Refuse temperatures that would need more rungs (the error gives the lowest reachable T).
    window_sigmas, window_temperatures : float or None
        The window keeps full weight up to max(<E> + window_sigmas sigma_E,
        E_0 + window_temperatures T0), <E> and sigma_E from a pilot filtered vector at each T0.
        None: sqrt(2 ln(1/tol)) + 1 and ln(1/tol) + 2 with tol = truncation_tol, so that the
        weight lost above the window is of the order of the truncation error.
    trace : {"stochastic", "exact"}
        Random vectors, or every basis vector (exact trace, small N, zero statistical error).
    dtype : {"float32", "float64"}
        Precision of the stored Chebyshev vectors and of the moment GEMM (recursions are float64).
    block : int or None
        Vectors processed together (None: chosen from memory and dimension).
    memory_fraction : float
        Largest fraction of the available memory a solve may plan to use.
    max_seconds : float or None
        Refuse a solve whose time estimate exceeds this (s).
    """

    n_vectors: int = 8
    max_vectors: int = 64
    target_error: float | None = None
    n_moments: int | None = None
    max_moments: int = 4096
    truncation_tol: float = 1e-4
    ladder_ratio: float = 2.0
    ladder: tuple[float, ...] | None = None
    max_rungs: int = 12
    window_sigmas: float | None = None
    window_temperatures: float | None = None
    trace: str = "stochastic"
    dtype: str = "float32"
    block: int | None = None
    memory_fraction: float = 0.8
    max_seconds: float | None = None

    def __post_init__(self) -> None:
        v.integer("chebyshev.n_vectors", self.n_vectors, 1, 1_000_000)
        v.integer("chebyshev.max_vectors", self.max_vectors, self.n_vectors, 1_000_000)
        if self.target_error is not None:
            v.positive("chebyshev.target_error", self.target_error)
        if self.n_moments is not None:
            v.integer("chebyshev.n_moments", self.n_moments, 8, 1 << 16)
        v.integer("chebyshev.max_moments", self.max_moments, 8, 1 << 16)
        v.positive("chebyshev.truncation_tol", self.truncation_tol)
        if v.finite("chebyshev.ladder_ratio", self.ladder_ratio) <= 1.0:
            raise ValueError(f"chebyshev.ladder_ratio must be > 1, got {self.ladder_ratio!r}")
        if self.ladder is not None:
            object.__setattr__(self, "ladder", tuple(
                sorted((float(t) for t in v.positive_array("chebyshev.ladder", self.ladder)),
                       reverse=True)))
        v.integer("chebyshev.max_rungs", self.max_rungs, 1, 64)
        log_tol = math.log(1.0 / min(self.truncation_tol, 0.5))
        if self.window_sigmas is None:
            object.__setattr__(self, "window_sigmas", math.sqrt(2.0 * log_tol) + 1.0)
        if self.window_temperatures is None:
            object.__setattr__(self, "window_temperatures", log_tol + 2.0)
        v.positive("chebyshev.window_sigmas", self.window_sigmas)
        v.positive("chebyshev.window_temperatures", self.window_temperatures)
        v.choice("chebyshev.trace", self.trace, ("stochastic", "exact"))
        v.choice("chebyshev.dtype", self.dtype, ("float32", "float64"))
        if self.block is not None:
            v.integer("chebyshev.block", self.block, 1, 4096)
        v.positive("chebyshev.memory_fraction", self.memory_fraction)
        if self.memory_fraction > 1:
            raise ValueError(f"chebyshev.memory_fraction must be <= 1, got {self.memory_fraction!r}")
        if self.max_seconds is not None:
            v.positive("chebyshev.max_seconds", self.max_seconds)
        if self.trace == "stochastic" and self.n_vectors < 2:
            raise ValueError("chebyshev.n_vectors must be >= 2 for a stochastic trace (the error "
                             f"bar is the spread over vectors), got {self.n_vectors}")

    @property
    def numpy_dtype(self) -> type:
        return np.float32 if self.dtype == "float32" else np.float64


@dataclass(frozen=True)
class Rung:
    """One reference temperature of the ladder and how it is expanded.

    Attributes
    ----------
    temperature : float
        T0 (K) of the filter e^{-(H - E_0)/2T0}.
    served : tuple of int
        Indices (into the requested temperatures) of the T in [T0/ratio, T0] it serves.
    window_energy : float
        E_cut (K): W(E) = erfc((E - E_cut)/(sqrt(2) s))/2, s = ``window_width``; inf for no window.
    window_width : float
        s (K).
    n_moments : int
        M per axis.
    filter_terms : int
        Chebyshev terms of the filter.
    stress_shift : float
        c (K per unit strain) = <T> at T0 from the pilot vector. [H, T - c] = [H, T], so the
        results do not depend on it; the stress moments behind the commutator moments and the
        first-moment term use T - c, which removes the large thermal mean of T from quantities
        that cancel (less float32 round-off, less noise in the first-moment term).
    """

    temperature: float
    served: tuple[int, ...]
    window_energy: float
    window_width: float
    n_moments: int
    filter_terms: int
    stress_shift: float = 0.0

    def window(self, energy: np.ndarray) -> np.ndarray:
        """W(E) in [0, 1]."""
        from scipy.special import erfc

        if not math.isfinite(self.window_energy):
            return np.ones_like(np.asarray(energy, dtype=np.float64))
        z = (np.asarray(energy, dtype=np.float64) - self.window_energy) / self.window_width
        return 0.5 * erfc(z / math.sqrt(2.0))


@dataclass(frozen=True)
class Plan:
    """Everything decided before the expensive part: bounds, ladder, blocks, memory and time."""

    scale: SpectralScale
    rungs: tuple[Rung, ...]
    block: int
    bank_rows: tuple[int, ...]
    memory_bytes: int
    seconds: float
    seconds_per_product: float
    vectors_per_rung: int


@dataclass(frozen=True)
class ChebyshevResult:
    """Q^-1(w, T) and friends with statistical errors (one standard error over random vectors).

    Attributes
    ----------
    frequencies, temperatures : numpy.ndarray
        w (K), T (K) in the order requested.
    absorption, absorption_error : numpy.ndarray
        Q^-1 and its standard error, shape (n_T, n_w), times ``normalisation``.
    velocity_shift, velocity_shift_error : numpy.ndarray or None
        delta v / v = -(normalisation/2) Re chi, shape (n_T, n_w).
    specific_heat, specific_heat_error : numpy.ndarray or None
        C(T) (k_B), shape (n_T,).
    rung_index : numpy.ndarray
        Rung serving each temperature, shape (n_T,).
    plan : Plan
    diagnostics : list of dict
        Per rung: T0, n_moments, n_vectors, window_loss (weight fraction at T0 beyond the window),
        amplification (max Z(T0)/Z(T)), truncation_bound (truncation_tol * amplification), seconds.
    exact_trace : bool
    wall_seconds : float
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

    def emission_stripped(self) -> tuple[np.ndarray, np.ndarray]:
        """S+ = Q^-1 / (1 - e^{-w/T}) and its standard error, shape (n_T, n_w)."""
        factor = -np.expm1(-self.frequencies[None, :] / self.temperatures[:, None])
        return self.absorption / factor, self.absorption_error / factor


# ---------------------------------------------------------------------------------------------
# ladder and plan


def build_ladder(temperatures: np.ndarray, params: ChebyshevParams) -> list[tuple[float, list[int]]]:
    """Reference temperatures T0 and the temperatures each serves (T0/ratio <= T <= T0).

    Raises
    ------
    ValueError
        A temperature above the highest explicit rung, below what the ladder reaches (with the
        lowest reachable temperature), or needing more than ``max_rungs`` rungs.
    """
    t = np.asarray(temperatures, dtype=np.float64)
    ratio = params.ladder_ratio
    order = list(np.argsort(-t, kind="stable"))
    rungs: list[tuple[float, list[int]]] = []
    if params.ladder is None:
        while order:
            t0 = float(t[order[0]])
            served = [i for i in order if t[i] >= t0 / ratio * (1 - 1e-12)]
            rungs.append((t0, served))
            order = [i for i in order if i not in served]
        if len(rungs) > params.max_rungs:
            lowest = rungs[params.max_rungs - 1][0] / ratio
            raise ValueError(
                f"temperatures down to {t.min():.4g} K need {len(rungs)} ladder rungs (ratio "
                f"{ratio:g}) but max_rungs={params.max_rungs}; the lowest reachable temperature is "
                f"about {lowest:.4g} K: raise chebyshev.max_rungs or chebyshev.ladder_ratio")
        return rungs
    ladder = params.ladder
    if t.max() > ladder[0] * (1 + 1e-12):
        raise ValueError(
            f"temperature {t.max():.4g} K is above the highest ladder rung {ladder[0]:.4g} K "
            "(reweighting only runs downwards): add a rung at or above it")
    for t0 in ladder:
        rungs.append((t0, []))
    for i in order:
        k = max(j for j, t0 in enumerate(ladder) if t0 >= t[i] * (1 - 1e-12))
        if t[i] < ladder[k] / ratio * (1 - 1e-12):
            raise ValueError(
                f"temperature {t[i]:.4g} K is below what the ladder supports: rung {ladder[k]:.4g} K "
                f"reaches down to {ladder[k] / ratio:.4g} K (ladder_ratio {ratio:g}); add a rung "
                f"between {t[i]:.4g} and {t[i] * ratio:.4g} K")
        rungs[k][1].append(i)
    return [(t0, s) for t0, s in rungs if s]


class LineShape:
    """The frequency function of one observable at one w, split for the commutator estimator.

    F(u) = K(w - u) - K(w + u) (absorption) or R(u - w) + R(u + w) (dispersion), odd in u;
    slope = F'(0); ``reduced(u)`` = G(u) = (F(u) - F'(0) u) / u^2, smooth and odd.

    Parameters
    ----------
    broadening : Broadening
        Line kernel K (and its Kramers-Kronig partner R).
    frequency : float
        w (K).
    dispersive : bool
        Use the dispersion (velocity shift) function instead of the absorption one.
    """

    def __init__(self, broadening: Broadening, frequency: float, dispersive: bool = False):
        if broadening.kind not in ("gaussian", "lorentzian"):
            raise ValueError(f"LineShape needs a gaussian or lorentzian kernel, got {broadening.kind!r}")
        self.broadening = broadening
        self.frequency = float(frequency)
        self.dispersive = dispersive
        self.slope = self._slope()
        self._delta = 1e-2 * broadening.width
        self._edge = float((self.full(np.array([self._delta]))[0] - self.slope * self._delta)
                           / self._delta**2)

    def _slope(self) -> float:
        """F'(0) analytically: -2 K'(w) or 2 R'(w) (a finite difference would leave a 1/u pole)."""
        from scipy.special import dawsn

        w, eta = self.frequency, self.broadening.width
        if self.broadening.kind == "gaussian":
            if self.dispersive:  # R(u) = (sqrt2/eta) D(u/(sqrt2 eta)), D' = 1 - 2 z D
                z = w / (math.sqrt(2.0) * eta)
                return 2.0 * (1.0 - 2.0 * z * dawsn(z)) / eta**2
            k = math.exp(-0.5 * (w / eta) ** 2) / (eta * math.sqrt(2.0 * math.pi))
            return 2.0 * w / eta**2 * k
        if self.dispersive:  # R(u) = u / (u^2 + eta^2)
            return 2.0 * (eta**2 - w**2) / (w**2 + eta**2) ** 2
        return 4.0 * w * eta / math.pi / (w**2 + eta**2) ** 2

    def full(self, u: np.ndarray) -> np.ndarray:
        """F(u) (1/K)."""
        b, w = self.broadening, self.frequency
        if self.dispersive:
            return b.dispersive(u - w) + b.dispersive(u + w)
        return b.kernel(w - u) - b.kernel(w + u)

    def reduced(self, u: np.ndarray) -> np.ndarray:
        """G(u) = (F(u) - F'(0) u) / u^2 (1/K^3), linear through 0 below 1e-2 eta."""
        u = np.asarray(u, dtype=np.float64)
        out = u * (self._edge / self._delta)
        big = np.abs(u) >= self._delta
        ub = u[big]
        out[big] = (self.full(ub) - self.slope * ub) / (ub * ub)
        return out

    def reduced_scale(self) -> float:
        """max |G| (1/K^3), the reference of the truncation tolerance."""
        w, eta = self.frequency, self.broadening.width
        u = np.linspace(-2 * w - 10 * eta, 2 * w + 10 * eta, 4001)
        return float(np.max(np.abs(self.reduced(u))))


def _required_moments(scale: SpectralScale, rung: Rung, frequencies: np.ndarray,
                      broadening: Broadening, tol: float, velocity: bool,
                      beta_excess: float) -> int:
    """Smallest M with sup|F_T - F_T,M| <= tol * max|F_T| along every slice through the window.

    F_T(E, E') = e^{-beta_excess (E - E_0)} W(E) G(E' - E) is examined along E at fixed
    E' = c + w and along E' at fixed E = c, for c on a grid from E_0 to the top of the window; the
    slices carry the amplitude W(c), so energies without thermal weight do not drive M.
    """
    ground = scale.ground
    top = scale.upper if not math.isfinite(rung.window_energy) else min(
        scale.upper, rung.window_energy + 5.0 * rung.window_width)
    centres = np.unique(np.concatenate([np.linspace(ground, top, 17),
                                        [min(max(scale.center, ground), top)]]))
    shapes = [LineShape(broadening, w) for w in sorted({float(np.min(frequencies)),
                                                        float(np.max(frequencies))})]
    if velocity:
        shapes += [LineShape(broadening, s.frequency, True) for s in list(shapes)]
    needed = 1
    for shape in shapes:
        ref = shape.reduced_scale()
        w = shape.frequency
        for c in centres:
            amp = float(rung.window(np.array([c]))[0])
            if amp < tol:
                continue
            for beta in {0.0, beta_excess}:
                def along_initial(x, c=c, beta=beta, shape=shape, w=w):
                    e = scale.to_energy(x)
                    return (np.exp(-beta * (e - ground)) * rung.window(e)
                            * shape.reduced(c + w - e))
                needed = max(needed, tail_degree(along_initial, tol, ref))

            def along_final(x, c=c, amp=amp, shape=shape):
                return amp * shape.reduced(scale.to_energy(x) - c)
            needed = max(needed, tail_degree(along_final, tol, ref))
    return needed


def _achievable_width(scale, rung, frequencies, broadening, tol, velocity, beta_excess,
                      n_moments) -> float:
    """Narrowest kernel width (K) whose required M is <= ``n_moments`` (bisection, +-5 %)."""
    lo, hi = broadening.width, broadening.width * 64
    for _ in range(12):
        mid = math.sqrt(lo * hi)
        trial = Broadening(kind=broadening.kind, width=mid, resolution=broadening.resolution)
        probe = Rung(rung.temperature, rung.served, rung.window_energy, 2 * mid, 0, 0)
        m = _required_moments(scale, probe, frequencies, trial, tol, velocity, beta_excess)
        lo, hi = (mid, hi) if m > n_moments else (lo, mid)
        if hi / lo < 1.05:
            break
    return hi


def plan_solve(
    op: ScaledOperator,
    apply_stress,
    extra_bytes: int,
    frequencies: np.ndarray,
    temperatures: np.ndarray,
    broadening: Broadening,
    params: ChebyshevParams,
    pilot: np.ndarray,
    velocity: bool = True,
) -> Plan:
    """Ladder, windows, moments per rung, blocking, memory and time, before any bank is allocated.

    Parameters
    ----------
    op : ScaledOperator
        H~ (its product timings so far calibrate the time estimate).
    apply_stress : callable
        T applied to (D, b) blocks.
    extra_bytes : int
        Bytes held by T and C besides H.
    frequencies, temperatures : numpy.ndarray
        w (K) and T (K).
    broadening : Broadening
        Line kernel.
    params : ChebyshevParams
        Solver options.
    pilot : numpy.ndarray
        One random vector (D,): filtered at each T0 it gives <E>, sigma_E and <T> there.
    velocity : bool
        Whether the velocity shift is wanted (its kernel can need more moments).

    Raises
    ------
    ValueError
        Too few moments for the kernel width (with the narrowest width they allow), temperatures
        the ladder cannot reach, a time estimate above ``max_seconds``.
    MemoryError
        When even one vector with a chunked bank does not fit.
    """
    scale = op.scale
    dim = op.dimension
    eta = broadening.width
    rungs = []
    for t0, served in build_ladder(temperatures, params):
        r = boltzmann_filter(op, t0, pilot[:, None])
        norm = float(np.sum(r * r))
        hr = op.h @ r
        mean = float(np.sum(r * hr)) / norm
        spread = math.sqrt(max(float(np.sum(hr * hr)) / norm - mean * mean, 0.0))
        shift = float(np.sum(r * apply_stress(r))) / norm
        keep = max(mean + params.window_sigmas * spread,
                   scale.ground + params.window_temperatures * t0)
        width = 2.0 * eta
        cut = keep + 4.0 * width
        if cut + 7.0 * width >= scale.upper:
            cut = math.inf
        probe = Rung(t0, tuple(served), cut, width, 0, 0)
        beta_excess = 1.0 / float(np.min(temperatures[served])) - 1.0 / t0
        needed = _required_moments(scale, probe, frequencies, broadening,
                                   params.truncation_tol, velocity, beta_excess)
        limit = params.n_moments if params.n_moments is not None else params.max_moments
        if needed > limit:
            best = _achievable_width(scale, probe, frequencies, broadening,
                                     params.truncation_tol, velocity, beta_excess, limit)
            which = "n_moments" if params.n_moments is not None else "max_moments"
            top = (cut if math.isfinite(cut) else scale.upper) - scale.ground
            raise ValueError(
                f"{which}={limit} is too few moments for a {broadening.kind} kernel of width "
                f"{eta:.4g} K at reference temperature {t0:.4g} K (spectrum half-width "
                f"{scale.half_width:.4g} K, window {top:.4g} K above E_0): it needs "
                f"M >= {needed} for truncation_tol={params.truncation_tol:g}; with {limit} "
                f"moments the narrowest width is about {best:.3g} K")
        m_count = params.n_moments if params.n_moments is not None else max(needed, 16)
        terms = exponential_coefficients(0.5 * scale.half_width / t0).size
        rungs.append(Rung(t0, tuple(served), cut, width, int(m_count), int(terms), shift))
    n_vec = dim if params.trace == "exact" else params.n_vectors
    itemsize = 4 if params.dtype == "float32" else 8
    fixed = operator_bytes(op.h) + extra_bytes
    budget = params.memory_fraction * available_memory() - fixed
    m_max = max(r.n_moments for r in rungs) + 1
    if params.block is not None:
        block = params.block
    elif not sp.issparse(op.h) or dim <= 1 << 14:
        block = 64 if params.trace == "exact" else 16
    else:
        block = 1
    block = max(1, min(block, n_vec))

    def need(b, rows):
        vectors = 16 * dim * b * 8
        bank = b * (rows + min(64, m_max)) * dim * itemsize
        moments = 3 * b * m_max * m_max * 8
        contraction = 4 * m_max * m_max * 8 * (2 + 2 * len(frequencies))
        return vectors + bank + moments + contraction

    while block > 1 and need(block, m_max) > budget:
        block //= 2
    rows = m_max
    while rows > 16 and need(block, rows) > budget:
        rows //= 2
    memory = int(fixed + need(block, rows))
    if need(block, rows) > budget:
        raise MemoryError(
            f"the chebyshev solver needs about {memory / 2**30:.1f} GB (D={dim}, M={m_max}) "
            f"but only {(budget + fixed) / 2**30:.1f} GB is allowed (memory_fraction "
            f"{params.memory_fraction:.0%}); use fewer TLS or a wider kernel")
    bank_rows = tuple(min(r.n_moments + 1, rows) for r in rungs)
    t_mv = op.seconds_per_product()
    if not math.isfinite(t_mv):
        t_mv = SECONDS_PER_NONZERO * (op.h.nnz if sp.issparse(op.h) else dim * dim)
    rate = _gemm_rate(params.dtype)
    seconds = 0.0
    for rung, rows_j in zip(rungs, bank_rows, strict=True):
        m = rung.n_moments
        chunks = math.ceil((m + 1) / rows_j)
        products = rung.filter_terms + (m + 1) * (1 + chunks)
        seconds += n_vec * (products * t_mv + 2.0 * m * m * dim / rate + 8.0 * m**3 / 1e10)
    plan = Plan(scale, tuple(rungs), block, bank_rows, memory, seconds, t_mv, n_vec)
    if params.max_seconds is not None and seconds > params.max_seconds:
        raise ValueError(
            f"the chebyshev solve is estimated at {seconds:.0f} s (> max_seconds="
            f"{params.max_seconds:g}): rungs T0={[round(r.temperature, 6) for r in rungs]}, "
            f"moments {[r.n_moments for r in rungs]}, {n_vec} vectors each; use fewer vectors, "
            "a wider kernel or fewer low temperatures")
    return plan


_GEMM_CACHE: dict[str, float] = {}


def _gemm_rate(dtype: str) -> float:
    if dtype not in _GEMM_CACHE:
        _GEMM_CACHE[dtype] = gemm_rate(np.float32 if dtype == "float32" else np.float64)
    return _GEMM_CACHE[dtype]


class _Contraction:
    """Quadrature of one rung: F_T on the node grid, 1D Boltzmann weights for Z and energies."""

    def __init__(self, rung: Rung, scale: SpectralScale, frequencies: np.ndarray,
                 temperatures: np.ndarray, broadening: Broadening, velocity: bool) -> None:
        m_count = rung.n_moments
        ground = scale.ground
        excess = 1.0 / temperatures - 1.0 / rung.temperature
        theta, x = chebyshev_nodes(m_count)
        energy = scale.to_energy(x)
        window = rung.window(energy)
        rows = np.nonzero(window > 1e-13)[0]
        self.cw = quadrature_matrix(theta, m_count)
        self.cw_rows = self.cw[rows]
        self.f = np.exp(-np.outer(excess, energy[rows] - ground)) * window[rows]
        du = energy[None, :] - energy[rows][:, None]  # E' - E, (rows, nodes)
        self.kinds = {"abs": [LineShape(broadening, w) for w in frequencies]}
        if velocity:
            self.kinds["vel"] = [LineShape(broadening, w, True) for w in frequencies]
        self.g = {k: np.stack([s.reduced(du) for s in shapes]) for k, shapes in self.kinds.items()}
        self.slope = {k: np.array([s.slope for s in shapes]) for k, shapes in self.kinds.items()}
        theta1, x1 = chebyshev_nodes(2 * m_count)
        e1 = scale.to_energy(x1)
        self.c1 = quadrature_matrix(theta1, 2 * m_count - 1)
        self.shift1 = e1 - ground
        self.boltzmann1 = np.exp(-np.outer(excess, self.shift1))
        self.outside1 = 1.0 - rung.window(e1)

    def per_vector(self, mu: np.ndarray, m: np.ndarray, p: np.ndarray) -> dict[str, np.ndarray]:
        """Numerators, Z and energy sums for each vector of a block (leading axis b)."""
        b = mu.shape[0]
        pole = (p[:, 0, :] @ self.cw_rows.T) @ self.f.T  # (b, n_T): sum_n p_n (T C)_nn
        out: dict[str, np.ndarray] = {}
        for kind, g in self.kinds.items():
            out[kind] = np.empty((b, self.f.shape[0], len(g)))
        for i in range(b):
            a = (self.cw_rows @ mu[i]) @ self.cw.T  # node weights of the 2D density (rows, nodes)
            for kind in self.kinds:
                along = np.einsum("wrj,rj->wr", self.g[kind], a)
                out[kind][i] = self.f @ along.T + pole[i][:, None] * self.slope[kind][None, :]
        rho = m @ self.c1.T  # (b, 2M): one-operator weights on the nodes
        out.update({
            "z": rho @ self.boltzmann1.T,
            "e1": rho @ (self.boltzmann1 * self.shift1).T,
            "e2": rho @ (self.boltzmann1 * self.shift1**2).T,
            "z0": rho.sum(axis=1),
            "outside": rho @ self.outside1,
        })
        return out


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
    """x -> (T - shift) x."""
    return lambda x: apply_t(x) - shift * x


def _check_inputs(frequencies, temperatures, broadening):
    w = v.positive_array("frequencies", frequencies)
    t = v.positive_array("temperatures", temperatures)
    broadening = broadening or Broadening()
    if not isinstance(broadening, Broadening):
        raise TypeError(f"broadening must be a Broadening, got {type(broadening).__name__}")
    if broadening.kind not in ("gaussian", "lorentzian"):
        raise ValueError(
            "the chebyshev solver needs a smooth line kernel: broadening.kind 'gaussian' or "
            f"'lorentzian', got {broadening.kind!r} (a box has an unbounded Chebyshev tail)")
    return w, t, broadening


def dense_operator_bytes(n_tls: int, random_matrix: bool, stress_random_matrix: bool) -> int:
    """Peak bytes of the dense random-matrix terms of dimension 2^N (H, T, C = [H, T] and draws)."""
    if not (random_matrix or stress_random_matrix):
        return 0
    return int((5.0 if stress_random_matrix else 4.0) * float(2**n_tls) ** 2 * 8)


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
        Gaussian (default width 0.01 K) or Lorentzian line kernel, exactly as in dense ED.
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
        Values and one-standard-error bars (jackknife over random vectors), requested order.

    Raises
    ------
    ValueError
        Non-smooth kernel, too few moments for the kernel width, temperatures below the ladder.
    MemoryError
        Before allocation, when the plan (or a dense random-matrix term) does not fit.

    Examples
    --------
    >>> real = draw_realisation(params, realisation_rng(seed, 0))          # doctest: +SKIP
    >>> res = chebyshev_absorption(real, [0.1], np.geomspace(0.02, 0.2, 20),
    ...                            Broadening(width=0.02), ChebyshevParams(n_vectors=4),
    ...                            absorption_normalisation(params), seed=1)  # doctest: +SKIP
    >>> res.absorption, res.absorption_error                              # doctest: +SKIP
    """
    started = time.perf_counter()
    w, t, broadening = _check_inputs(frequencies, temperatures, broadening)
    params = _check_params(params)
    for name in observables:
        v.choice("observables entry", name, CHEBYSHEV_OBSERVABLES)
    seq = _seed_sequence(seed)
    ops = _Operators(real, params)
    with threadpool_limits(limits=ops.threads, user_api="blas"):
        op = ops.scaled()
        return _run(op, ops.apply_t, ops.apply_c, ops.extra_bytes, w, t, broadening, params,
                    normalisation, seq, observables, started)


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
    w, t, broadening = _check_inputs(frequencies, temperatures, broadening)
    params = _check_params(params)
    seq = _seed_sequence(seed)
    ops = _Operators(real, params)
    with threadpool_limits(limits=ops.threads, user_api="blas"):
        op = ops.scaled()
        pilot = rademacher(seq, 0, op.dimension)
        return plan_solve(op, ops.apply_t, ops.extra_bytes, w, t, broadening, params, pilot,
                          "velocity_shift" in observables)


def _check_params(params) -> ChebyshevParams:
    params = params or ChebyshevParams()
    if not isinstance(params, ChebyshevParams):
        raise TypeError(f"params must be a ChebyshevParams, got {type(params).__name__}")
    return params


def _seed_sequence(seed) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return seed
    return np.random.SeedSequence(v.integer("seed", seed, 0))


class _Operators:
    """H (sparse, or dense with random-matrix terms), T and C = [H, T] of a realisation."""

    def __init__(self, real, params: ChebyshevParams) -> None:
        from .operators import build_operators

        need_dense = dense_operator_bytes(real.n_tls, real.random_matrix is not None,
                                          real.stress_random_matrix is not None)
        if need_dense > params.memory_fraction * available_memory():
            raise MemoryError(
                f"random-matrix terms of n_tls={real.n_tls} are dense 2^N x 2^N matrices needing "
                f"about {need_dense / 2**30:.1f} GB; the chebyshev solver supports them only "
                "where they fit (use a model without random_matrix / stress.random_matrix here)")
        h, stress = build_operators(real, np.float64, dense=False)
        self.h = h if sp.issparse(h) else np.asarray(h, dtype=np.float64)
        comm = commutator(self.h, stress)
        self.apply_t, self.apply_c = operator_applier(stress), operator_applier(comm)
        self.extra_bytes = operator_bytes(stress) + operator_bytes(comm)
        self.threads = 1 if self.h.shape[0] <= SMALL_DIMENSION else None

    def scaled(self) -> ScaledOperator:
        return ScaledOperator(self.h, spectral_bounds(self.h))


def _run(op, apply_t, apply_c, extra_bytes, w, t, broadening, params, normalisation, seq,
         observables, started) -> ChebyshevResult:
    velocity = "velocity_shift" in observables
    exact = params.trace == "exact"
    dim = op.dimension
    pilot = rademacher(seq, 0, dim)
    plan = plan_solve(op, apply_t, extra_bytes, w, t, broadening, params, pilot, velocity)
    log.info("chebyshev plan: D=%d, rungs %s, moments %s, %.2f GB, ~%.0f s", dim,
             [round(r.temperature, 6) for r in plan.rungs], [r.n_moments for r in plan.rungs],
             plan.memory_bytes / 2**30, plan.seconds)
    n_t, n_w = t.size, w.size
    values = {"abs": np.zeros((n_t, n_w)), "vel": np.zeros((n_t, n_w)), "heat": np.zeros(n_t)}
    errors = {k: np.zeros_like(a) for k, a in values.items()}
    rung_index = np.zeros(n_t, dtype=int)
    diagnostics = []
    for j, (rung, rows) in enumerate(zip(plan.rungs, plan.bank_rows, strict=True)):
        rung_start = time.perf_counter()
        served = np.asarray(rung.served)
        rung_index[served] = j
        contraction = _Contraction(rung, plan.scale, w, t[served], broadening, velocity)
        parts: dict[str, list[np.ndarray]] = {}
        count, goal = 0, plan.vectors_per_rung
        while count < goal:
            size = min(plan.block, goal - count)
            if exact:
                r = np.zeros((dim, size))
                r[np.arange(count, count + size), np.arange(size)] = 1.0
            else:
                r = np.stack([rademacher(seq, i, dim) for i in range(count, count + size)],
                             axis=1)
            vecs = boltzmann_filter(op, rung.temperature, r)
            del r
            shifted = _shifted(apply_t, rung.stress_shift)
            probe = shifted(apply_c(vecs))
            mu, m, p = correlation_moments(op, shifted, apply_c, vecs, rung.n_moments,
                                           probes=[probe], left_commutator=True,
                                           bank_dtype=params.numpy_dtype, bank_rows=rows)
            del vecs, probe
            block = contraction.per_vector(mu, m, p)
            del mu
            for key, value in block.items():
                summed = value.sum(axis=0, keepdims=True) if exact else value
                if exact and key in parts:
                    parts[key][0] += summed
                else:
                    parts.setdefault(key, []).append(summed)
            count += size
            if count >= goal and not exact and params.target_error is not None:
                rel = _relative_error(parts)
                if rel > params.target_error and goal < params.max_vectors:
                    goal = min(params.max_vectors, goal + max(plan.block, params.n_vectors // 2))
        arrays = {k: np.concatenate(p) for k, p in parts.items()}
        val, err = jackknife_ratio(arrays["abs"], arrays["z"], exact)
        values["abs"][served], errors["abs"][served] = normalisation * val, abs(normalisation) * err
        if velocity:
            val_v, err_v = jackknife_ratio(arrays["vel"], arrays["z"], exact)
            values["vel"][served] = -0.5 * normalisation * val_v
            errors["vel"][served] = 0.5 * abs(normalisation) * err_v
        values["heat"][served], errors["heat"][served] = _heat(
            arrays["z"], arrays["e1"], arrays["e2"], t[served], exact)
        amplification = float(np.max(arrays["z0"].sum() / arrays["z"].sum(axis=0)))
        loss = float(arrays["outside"].sum() / arrays["z0"].sum())
        rel = _relative_error(parts) if not exact else 0.0
        if not exact and params.target_error is not None and rel > params.target_error:
            warnings.warn(
                f"rung T0={rung.temperature:.4g} K: relative statistical error {rel:.3g} exceeds "
                f"target_error={params.target_error:g} after max_vectors={params.max_vectors} "
                "random vectors", RuntimeWarning, stacklevel=3)
        if loss > 1e-3:
            warnings.warn(
                f"rung T0={rung.temperature:.4g} K: a fraction {loss:.2e} of the thermal weight "
                f"lies above the energy window ({rung.window_energy - plan.scale.ground:.4g} K "
                "above E_0); raise chebyshev.window_sigmas", RuntimeWarning, stacklevel=3)
        diagnostics.append({
            "reference_temperature": rung.temperature,
            "temperatures": t[served].tolist(),
            "n_moments": rung.n_moments,
            "n_vectors": count,
            "filter_terms": rung.filter_terms,
            "window_energy": rung.window_energy - plan.scale.ground,
            "window_loss": loss,
            "amplification": amplification,
            "truncation_bound": params.truncation_tol * amplification,
            "relative_error": rel,
            "seconds": time.perf_counter() - rung_start,
        })
    heat = "specific_heat" in observables
    return ChebyshevResult(
        frequencies=w, temperatures=t, absorption=values["abs"], absorption_error=errors["abs"],
        velocity_shift=values["vel"] if velocity else None,
        velocity_shift_error=errors["vel"] if velocity else None,
        specific_heat=values["heat"] if heat else None,
        specific_heat_error=errors["heat"] if heat else None,
        rung_index=rung_index, plan=plan, diagnostics=diagnostics, exact_trace=exact,
        wall_seconds=time.perf_counter() - started)


def _relative_error(parts: dict[str, list[np.ndarray]]) -> float:
    """max over temperatures of max_w sigma(w, T) / max_w |Q(w, T)| for the vectors so far."""
    val, err = jackknife_ratio(np.concatenate(parts["abs"]), np.concatenate(parts["z"]), False)
    scale = np.max(np.abs(val), axis=1)
    return float(np.max(np.max(err, axis=1) / np.where(scale > 0, scale, np.inf)))


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
    GEMM_RATE. :func:`plan_chebyshev` gives the precise plan (it builds H and filters a pilot).

    Returns
    -------
    dict
        memory_bytes, seconds, n_moments (largest), n_rungs, dimension.
    """
    w, t, broadening = _check_inputs(frequencies, temperatures, broadening)
    params = replace(_check_params(params), n_vectors=max(2, int(n_vectors)))
    n = real.n_tls
    dim = 2**n
    e = real.energies if real.energies is not None else np.zeros(n)
    coupling = sum(float(np.sum(np.abs(np.triu(k, 1)))) if key in ("zz", "xx")
                   else float(np.sum(np.abs(k))) for key, k in real.couplings.items())
    extra = real.random_matrix.weight if real.random_matrix is not None else 0.0
    half = 0.5 * float(np.sum(e)) + coupling + extra
    ground = -half
    scale = SpectralScale(lower=ground - 0.01 * half, upper=half * 1.01, ground=ground)
    m_max, seconds = 16, 0.0
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
        spread = math.sqrt(float(np.sum((0.5 * e / np.cosh(x)) ** 2)))
        keep = ground + max(mean + params.window_sigmas * spread, params.window_temperatures * t0)
        width = 2.0 * broadening.width
        cut = keep + 4.0 * width
        if cut + 7.0 * width >= scale.upper:
            cut = math.inf
        rung = Rung(t0, tuple(served), cut, width, 0, 0)
        beta_excess = 1.0 / float(np.min(t[served])) - 1.0 / t0
        m = max(16, _required_moments(scale, rung, w, broadening, params.truncation_tol, True,
                                      beta_excess))
        m_max = max(m_max, m)
        terms = exponential_coefficients(0.5 * scale.half_width / t0).size
        seconds += params.n_vectors * ((terms + 2 * m) * t_mv
                                       + 2.0 * m * m * dim / GEMM_RATE[params.dtype])
    itemsize = 4 if params.dtype == "float32" else 8
    operators = (2 * nnz * 12 + dim * 12) if not dense else 3 * nnz * 8
    memory = operators * 2 + (m_max + 64) * dim * itemsize + 16 * dim * 8 + 3 * m_max**2 * 8
    return {"memory_bytes": float(memory), "seconds": seconds, "n_moments": m_max,
            "n_rungs": len(rungs), "dimension": dim}


# ---------------------------------------------------------------------------------------------
# integration with the pipeline


def observe_chebyshev(params, seed: int, realisation: int, probe,
                      chebyshev: ChebyshevParams | None = None) -> dict[str, np.ndarray]:
    """The chebyshev counterpart of :func:`manybody.pipeline.observe` (same keys and units).

    The disorder comes from ``realisation_rng(seed, realisation)`` exactly as for dense ED, the
    random vectors from ``SeedSequence(seed, spawn_key=(realisation, TRACE_STREAM))``.

    Parameters
    ----------
    params : ModelParams
        The ensemble.
    seed, realisation : int
        Run seed and realisation index.
    probe : Probe
        Frequencies, temperatures, broadening and observables (``manybody.pipeline.Probe``).
    chebyshev : ChebyshevParams, optional
        Solver options.

    Returns
    -------
    dict of str to numpy.ndarray
        "absorption" (n_T, n_w) in units of pi*C0, "velocity_shift" (n_T, n_w) in units of C0,
        "specific_heat" (n_T,) in units of k_B, "spacing_ratio" () NaN (needs the spectrum), each
        requested one with a one-standard-error companion "<name>_error" of the same shape.

    Raises
    ------
    ValueError
        Observables that need eigenstates (relaxation), and everything
        :func:`chebyshev_absorption` raises.
    """
    from .models import absorption_normalisation, draw_realisation, realisation_rng

    unsupported = sorted(set(probe.observables) - set(CHEBYSHEV_OBSERVABLES) - {"spacing_ratio"})
    if unsupported:
        raise ValueError(
            f"observable(s) {', '.join(map(repr, unsupported))} need eigenstates and are not "
            "available from the chebyshev solver; use solver.method = 'dense' or drop them")
    real = draw_realisation(params, realisation_rng(seed, realisation))
    trace_seed = np.random.SeedSequence(seed, spawn_key=(realisation, TRACE_STREAM))
    wanted = tuple(o for o in CHEBYSHEV_OBSERVABLES if o in probe.observables)
    res = chebyshev_absorption(real, probe.frequencies, probe.temperatures, probe.broadening,
                               chebyshev, absorption_normalisation(params), trace_seed,
                               observables=wanted or ("absorption",))
    out: dict[str, np.ndarray] = {}
    pairs = {"absorption": (res.absorption, res.absorption_error),
             "velocity_shift": (res.velocity_shift, res.velocity_shift_error),
             "specific_heat": (res.specific_heat, res.specific_heat_error)}
    for name in wanted:
        out[name], out[f"{name}_error"] = pairs[name]
    if "spacing_ratio" in probe.observables:
        out["spacing_ratio"] = np.asarray(np.nan)
    return out


#: Largest N for which "auto" prefers dense ED. Measured on the 2-core reference machine
#: (results/bench/chebyshev.json, 20 temperatures, 2 frequencies, eta = 0.02 K): dense ED takes
#: 6.5, 16, 31, 72 s at N = 10..13 (x ~2.3 per TLS, ~7 GB at N = 14); chebyshev with 4 vectors
#: 3.2, 3.4, 4.4, 6.0 s, with 32 vectors see "benchmark_32_vectors". Dense is exact and gives
#: every observable, so it is kept while it costs well under a minute per realisation.
AUTO_DENSE_MAX_TLS = 12


def choose_solver(params, dense_dtype: str = "float64", memory_fraction: float = 0.9) -> str:
    """"dense" or "chebyshev" for ``solver = "auto"``.

    Dense ED when it fits in memory and N <= AUTO_DENSE_MAX_TLS, or whenever the model has
    random-matrix terms (they are dense anyway); chebyshev otherwise.

    Raises
    ------
    MemoryError
        A model with random-matrix terms that dense ED cannot hold.
    """
    from .diagonalise import estimate_memory

    n = params.n_tls
    has_rm = params.random_matrix is not None or params.stress.random_matrix > 0
    dense_fits = estimate_memory(n, dense_dtype, has_rm) <= memory_fraction * available_memory()
    if has_rm:
        if dense_fits:
            return "dense"
        if dense_operator_bytes(n, params.random_matrix is not None,
                                params.stress.random_matrix > 0) <= (
                memory_fraction * available_memory()):
            return "chebyshev"
        raise MemoryError(
            f"n_tls={n} with random-matrix terms: their dense 2^N x 2^N matrices do not fit in "
            "memory for either solver; drop the random-matrix terms or use fewer TLS")
    return "dense" if dense_fits and n <= AUTO_DENSE_MAX_TLS else "chebyshev"
