"""Planning a Chebyshev (KPM + typicality) solve: temperature ladder, line shape, moments, memory, time.

Everything decided before the expensive part of :func:`.solver.chebyshev_absorption` (the solver
options are :class:`~manybody.config.solver.ChebyshevParams`): the ladder of reference temperatures
(:func:`build_ladder`), the frequency function F split for the commutator estimator
(:class:`LineShape`), the number of Chebyshev moments that resolves it in the energy window of each
rung (:func:`required_moments`), and the blocking, memory and time of a solve (:func:`plan_solve`,
weighing them with :mod:`.costs`, and which rungs share a recursion with :mod:`.sharing`); the
checks of the inputs shared with the estimates (:func:`check_inputs`, :func:`check_params`).
The method is described in :mod:`.solver` (the estimator); :mod:`.resources` estimates the cost
from a realisation without building anything.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp
from scipy.special import dawsn, erfc

from manybody.config.probe import RELATIVE_WIDTH_LIMIT, Broadening
from manybody.config.solver import EXACT_TRACE_MAX_DIMENSION, ChebyshevParams
from manybody.simulation.solvers.chebyshev.costs import (
    _rung_other_bytes,
    balanced_rows,
    projects,
    role_bytes,
    rows_that_fit,
    rung_seconds,
    shared_bytes,
    shared_role_bytes,
    shared_seconds,
    solve_bytes,
)
from manybody.simulation.solvers.chebyshev.kpm import (
    DiagonalOperator,
    ScaledOperator,
    SpectralScale,
    boltzmann_filter,
    chebyshev_nodes,
    exponential_coefficients,
    gemm_rate,
    operator_bytes,
    tail_degrees,
)
from manybody.simulation.solvers.chebyshev.sharing import grouped_sharing, shares
from manybody.simulation.solvers.memory import available_memory, fraction_remedy
from manybody.support import validate as v
from manybody.support.threads import blas_threads

__all__ = ["EXACT_TRACE_MAX_DIMENSION", "FILTER_DEPTH", "LineShape", "Plan", "Rung",
           "build_ladder", "check_filter_temperatures", "check_inputs", "check_params",
           "lowest_filter_temperature", "plan_solve", "required_moments", "window_nodes",
           "window_rung"]

#: Cost model used before anything is measured: seconds per stored nonzero of a sparse product,
#: and single/double precision GEMM rates (flop/s) of the 2-core reference machine.
SECONDS_PER_NONZERO = 1.2e-9
GEMM_RATE = {"float32": 4.0e10, "float64": 1.5e10}


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
        if not math.isfinite(self.window_energy):
            return np.ones_like(np.asarray(energy, dtype=np.float64))
        z = (np.asarray(energy, dtype=np.float64) - self.window_energy) / self.window_width
        return 0.5 * erfc(z / math.sqrt(2.0))


#: Largest Hilbert-space dimension at which a Chebyshev memory refusal proposes dense ED (N = 12:
#: its eigenvectors take 128 MB in float64, a second's work).
DENSE_SUGGESTION_DIMENSION = 4096

#: Columns per GEMM of the contraction tried, widest first, when the bank fits whole.
COLUMN_CHOICES = (256, 128)

#: Vectors per block of a stochastic trace under the matrix-free operator (was 16). Measured in
#: session 42 (float32, 2 threads, one realisation of the benchmark, the same numbers to the
#: bit): N = 18 with 8 vectors 43.1-43.5 s in blocks of 4 against 54.7-62.7 s in one block of 8
#: (three pairs in turn); N = 16 within the noise (8.5-11.8 s both); one product of H on a block
#: of 16 vectors took 2.0x the time per vector of a block of 4 at N = 18 (bench_chebyshev.py
#: apply). The whole solve was timed: what the GEMMs gain from a wider block the steps lose.
MATRIX_FREE_BLOCK = 4


@dataclass(frozen=True)
class Plan:
    """Everything decided before the expensive part: bounds, ladder, blocks, memory and time.

    Per rung, ``node_rows``: window nodes formed per pass of the node-projected moments (0: the
    rung keeps the full moment matrix, :func:`.costs.projects`); ``bank_rows``: rows of the k bank per
    GEMM. ``columns``: l-columns per GEMM (:data:`COLUMN_CHOICES`). ``threads``: threads of the
    GEMMs (:mod:`.gemm`). ``workspace_bytes``: bytes per role of the workspace counted in
    ``memory_bytes`` (:func:`.costs.role_bytes`; a kept workspace is trimmed to it,
    :meth:`.workspace.Workspace.fit`). ``node_bases``: per rung the compressed node basis U
    (R, r) of :func:`.contraction.readout_basis` for a rung that projects on nodes (its
    ``node_rows`` then count compressed rows), else None; empty when the plan was made without
    one. ``shared_groups``: per run of consecutive rungs served by one k-recursion
    (:func:`.moments.shared_node_moments`, :func:`.sharing.shares`), (first, stop, K rows); the whole
    ladder in one run where it fits, runs of it under a memory cap (:func:`.sharing.grouped_sharing`,
    session 22), none where each rung runs its own. A shared rung's ``bank_rows`` are the rows
    of its run's bank (all K, or a chunk under a cap)."""

    scale: SpectralScale
    rungs: tuple[Rung, ...]
    block: int
    node_rows: tuple[int, ...]
    bank_rows: tuple[int, ...]
    memory_bytes: int
    seconds: float
    seconds_per_product: float
    vectors_per_rung: int
    columns: int = 64
    threads: int = 1
    workspace_bytes: dict[str, int] = field(default_factory=dict)
    node_bases: tuple[np.ndarray | None, ...] = ()
    shared_groups: tuple[tuple[int, int, int], ...] = ()

    @property
    def shared_bank(self) -> int:
        """K rows of the one k-recursion serving every rung, 0 unless one run holds them all."""
        whole = [k for first, stop, k in self.shared_groups
                 if first == 0 and stop == len(self.rungs)]
        return whole[0] if whole else 0

    def group_of(self, rung: int) -> tuple[int, int, int] | None:
        """The shared run (first, stop, K) holding rung number ``rung``, or None."""
        return next((g for g in self.shared_groups if g[0] <= rung < g[1]), None)


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


#: Largest beta (E_0 - lower) / 2 a rung's filter may have: the filter e^{-(H - lower)/2T0} is
#: expanded to an absolute accuracy of ~1e-13 of its value 1 at the bottom bound, so its value
#: at the ground state, e^{-beta (E_0 - lower)/2}, must stay far above that (here >= 1e-6).
#: Measured in session 16 (exact traces against dense ED, N = 6-8, bare, Gaussian and dipolar
#: couplings): Q within its errors up to a depth of 25 and hundreds of error bars off from 30;
#: C(T) picks up noise from about 15 (1e-9 k_B at 10, 3e-7 at 15, 1e-2 at 20, against a true
#: e^{-gap/T} ~ 0). A user's T0 of 1e-5 K at N = 6 (depth 244) gave NaN, 1e-6 K an overflow.
#: The limit, (E_0 - lower) / (2 FILTER_DEPTH) = half_width / 2760, grows with the spectral
#: width: ~1.8 mK at the N = 16 benchmark, ~18 mK for a 50 K half-width (a close dipolar pair
#: without a hard core).
FILTER_DEPTH = math.log(1e6)


def lowest_filter_temperature(scale: SpectralScale) -> float:
    """The lowest reference temperature T0 (K) whose Boltzmann filter resolves the ground state
    for these spectral bounds: (E_0 - lower) / (2 ``FILTER_DEPTH``)."""
    return 0.5 * (scale.ground - scale.lower) / FILTER_DEPTH


def check_filter_temperatures(scale: SpectralScale, ladder, ratio: float) -> None:
    """Refuse a ladder with a reference temperature below :func:`lowest_filter_temperature`.

    Raises
    ------
    ValueError
        Naming the temperatures concerned and the lowest this realisation's spectrum reaches.
    """
    lowest = lowest_filter_temperature(scale)
    cold = [t0 for t0, _ in ladder if t0 < lowest]
    if cold:
        raise ValueError(
            f"temperature {min(cold):.4g} K is below what the chebyshev solver resolves for this "
            f"realisation: its Boltzmann filter at T0 = {min(cold):.4g} K would weight the ground "
            f"state by exp(-{0.5 * (scale.ground - scale.lower) / min(cold):.3g}) relative to the "
            f"spectrum's bottom bound ({scale.ground - scale.lower:.3g} K below E_0), below the "
            f"series' accuracy; the lowest reference temperature here is about {lowest:.3g} K: "
            f"the lowest temperature the automatic ladder reaches (an explicit rung at it, "
            f"chebyshev.ladder, serves down to {lowest / ratio:.3g} K with ladder_ratio "
            f"{ratio:g}); raise the lowest temperature, or use dense ED (method = \"dense\") "
            "where it fits")


def narrowest_width(broadening: Broadening, frequencies: np.ndarray) -> float:
    """The narrowest kernel width eta (K) over the frequencies w (K): ``broadening.width`` for an
    absolute kernel, width * min(w) for a relative one (it sets the moments and the window)."""
    return min(broadening.at(float(w)).width for w in np.atleast_1d(frequencies))


def describe_width(broadening: Broadening, width: float, frequencies: np.ndarray) -> str:
    """A kernel width for messages: "0.02 K", or "0.2 w (0.01 K at w = 0.05 K)" when relative."""
    if not broadening.relative:
        return f"{width:.4g} K"
    w = float(np.min(frequencies))
    return f"{width:.4g} w ({width * w:.4g} K at w = {w:.4g} K)"


class LineShape:
    """The frequency function of one observable at one w, split for the commutator estimator.

    F(u) = K(w - u) - K(w + u) (absorption) or R(u - w) + R(u + w) (dispersion), odd in u;
    slope = F'(0); ``reduced(u)`` = G(u) = (F(u) - F'(0) u) / u^2, smooth and odd.

    Parameters
    ----------
    broadening : Broadening
        Line kernel K (and its Kramers-Kronig partner R); a relative-width kernel is taken at
        ``frequency`` (eta = width * w, ``Broadening.at``), as dense ED does.
    frequency : float
        w (K).
    dispersive : bool
        Use the dispersion (velocity shift) function instead of the absorption one.
    """

    def __init__(self, broadening: Broadening, frequency: float, dispersive: bool = False):
        if broadening.kind not in ("gaussian", "lorentzian"):
            raise ValueError(f"LineShape needs a gaussian or lorentzian kernel, got {broadening.kind!r}")
        self.frequency = float(frequency)
        self.broadening = broadening.at(self.frequency)
        self.dispersive = dispersive
        self.slope = self._slope()
        self._delta = 1e-2 * self.broadening.width
        self._edge = float((self.full(np.array([self._delta]))[0] - self.slope * self._delta)
                           / self._delta**2)

    def _slope(self) -> float:
        """F'(0) analytically: -2 K'(w) or 2 R'(w) (a finite difference would leave a 1/u pole)."""
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


#: Most nodes on which the slices of F_T are expanded (the largest degree examined: n_max of
#: :func:`.kpm.tail_degree`).
TAIL_NODES = 16384

#: First node count of :func:`required_moments`; it doubles until the degree found is at most
#: half the nodes (or the nodes reach ``TAIL_NODES``).
FIRST_TAIL_NODES = 1024


def required_moments(scale: SpectralScale, rung: Rung, frequencies: np.ndarray,
                      broadening: Broadening, tol: float, velocity: bool,
                      beta_excess: float) -> int:
    """Smallest M with sup|F_T - F_T,M| <= tol * max|F_T| along every slice through the window.

    F_T(E, E') = e^{-beta_excess (E - E_0)} W(E) G(E' - E) is examined along E at fixed
    E' = c + w and along E' at fixed E = c, for c on a grid from E_0 to the top of the window; the
    slices carry the amplitude W(c), so energies without thermal weight do not drive M.

    The slices are expanded on n Gauss-Chebyshev nodes, n = ``FIRST_TAIL_NODES``, 2048, ... up to
    ``TAIL_NODES``: the first n with every degree found <= n / 2 is kept. On n nodes a coefficient
    c_k is aliased by c_2n-k, c_2n+k, ..., and past n / 2 these are the coefficients of degree
    >= 3 M of a slice whose coefficients from M on already sum to less than tol: a Gaussian or
    Lorentzian slice has decayed far below tol there, so the degree is that on ``TAIL_NODES``
    nodes, or one less where the tail sum sits on the tolerance (4 of the 400 plans of the solver
    tests: 598 against 599; tested against it), at a fraction of the cost (session 14: the plans
    of an N = 12 solve took 1.0 s on 16 384 nodes, 0.12 s now). The first n resolves the kernel
    (:func:`first_tail_nodes`): on fewer nodes a kernel can fall between them, its slices look
    smooth, and a few moments were planned for a line they cannot resolve (Q^-1 = 0 +- 0 beside
    dense ED's 123 for a kernel of 1e-6 K; a tester, bt211 F3); a kernel narrower than the
    spacing of ``TAIL_NODES`` nodes needs more than ``TAIL_NODES`` moments: the kernel's own
    degree (:func:`kernel_degree`) is returned, at least ``TAIL_NODES + 1``.
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
    amplitudes = rung.window(centres)
    kept = amplitudes >= tol
    centres, amplitudes = centres[kept], amplitudes[kept]
    if not centres.size:
        return 1
    n = first_tail_nodes(scale, narrowest_width(broadening, frequencies))
    if n > TAIL_NODES:  # a kernel narrower than the nodes' spacing: too many moments to count
        return max(TAIL_NODES + 1, kernel_degree(broadening, frequencies, scale, tol))
    while True:
        needed = _slice_degree(scale, rung, shapes, centres, amplitudes, tol, beta_excess, n)
        if 2 * needed <= n or n >= TAIL_NODES:
            return needed
        n = min(2 * n, TAIL_NODES)


def first_tail_nodes(scale: SpectralScale, width: float) -> int:
    """Fewest Gauss-Chebyshev nodes, ``FIRST_TAIL_NODES`` times a power of 2, whose spacing at
    the centre of the spectrum, pi / n in x = (E - center) / half_width, is at most the kernel
    width eta (K): a node then lies within eta / 2 of every line, where a Gaussian keeps 88 % of
    its peak. Above ``TAIL_NODES`` where no node count examined resolves the kernel. The
    degree such a kernel needs, about sqrt(2 ln(1/tol)) half_width / eta, is at least pi
    half_width / eta for every allowed tolerance, so such counts are not too many."""
    resolving = math.pi * scale.half_width / width
    n = FIRST_TAIL_NODES
    while n < resolving and n <= TAIL_NODES:
        n *= 2
    return n


def kernel_degree(broadening: Broadening, frequencies: np.ndarray, scale: SpectralScale,
                  tol: float) -> int:
    """Chebyshev degree at which the series of the narrowest line kernel (width eta, K) over the
    spectrum's half-width falls below ``tol``: sqrt(2 ln(1/tol)) half_width / eta for a
    Gaussian (its coefficients fall as exp(-(k eta / half_width)^2 / 2) at the centre), ln(1/tol)
    half_width / eta for a Lorentzian (exp(-k eta / half_width)). The estimate where the kernel
    is too narrow for the nodes of :func:`required_moments` to resolve it."""
    ratio = scale.half_width / narrowest_width(broadening, frequencies)
    decay = math.sqrt(2.0 * math.log(1.0 / tol)) if broadening.kind == "gaussian" \
        else math.log(1.0 / tol)
    return math.ceil(decay * ratio)


def _slice_degree(scale, rung, shapes, centres, amplitudes, tol, beta_excess, n) -> int:
    """Largest degree (:func:`.kpm.tail_degrees`) of the slices of :func:`required_moments`
    expanded on n nodes (n + 1 where n is not enough)."""
    ground = scale.ground
    _, x = chebyshev_nodes(n)
    energy = scale.to_energy(x)
    window = rung.window(energy)
    needed = 1
    for shape in shapes:
        ref = shape.reduced_scale()
        w = shape.frequency
        along_initial = shape.reduced((centres[:, None] + w) - energy[None, :])
        for beta in {0.0, beta_excess}:
            weight = np.exp(-beta * (energy - ground)) * window
            needed = max(needed, int(tail_degrees(weight * along_initial, tol, ref).max()))
        along_final = amplitudes[:, None] * shape.reduced(energy[None, :] - centres[:, None])
        needed = max(needed, int(tail_degrees(along_final, tol, ref).max()))
    return needed


def window_rung(t0: float, served, keep: float, eta: float, upper: float) -> Rung:
    """The rung at T0 whose window keeps full weight up to ``keep`` (K) and falls off over 2 eta
    (eta: the narrowest kernel width, K); no window when it would reach the top of the spectrum."""
    width = 2.0 * eta
    cut = keep + 4.0 * width
    if cut + 7.0 * width >= upper:
        cut = math.inf
    return Rung(t0, tuple(served), cut, width, 0, 0)


def window_nodes(rung: Rung, scale: SpectralScale) -> np.ndarray:
    """Indices of the nodes of the rung's M-point Chebyshev grid inside its energy window
    (W > 1e-13): the thermal index of the moments is projected on these nodes only
    (:func:`.moments.node_correlation_moments`), ascending."""
    _, x = chebyshev_nodes(rung.n_moments)
    return np.nonzero(rung.window(scale.to_energy(x)) > 1e-13)[0]


def _achievable_width(scale, t0, served, keep, frequencies, broadening, tol, velocity,
                      beta_excess, n_moments) -> float:
    """Narrowest kernel width whose required M at this rung is <= ``n_moments`` (bisection; the
    value returned is feasible, at most 5 % above the limit), in the kernel's units (K, or eta / w
    for a relative kernel, then possibly above the 0.5 w such a kernel allows: the caller says so).
    The window follows the trial width as it does in the plan."""
    w = np.atleast_1d(np.asarray(frequencies, dtype=np.float64))

    def moments(width: float) -> int:
        if broadening.relative:  # one absolute kernel per extreme frequency: no 0.5 w limit here
            widths = [(np.array([float(x)]), width * float(x)) for x in {w.min(), w.max()}]
            narrowest = width * float(w.min())
        else:
            widths, narrowest = [(w, width)], width
        probe = window_rung(t0, served, keep, narrowest, scale.upper)
        return max(required_moments(scale, probe, x, Broadening(
            kind=broadening.kind, width=eta, resolution=broadening.resolution), tol, velocity,
            beta_excess) for x, eta in widths)

    lo, hi = broadening.width, broadening.width * 8
    while moments(hi) > n_moments:  # widen until feasible (a kernel as wide as the spectrum is)
        lo, hi = hi, hi * 8
        if hi * (float(w.min()) if broadening.relative else 1.0) > 4 * scale.half_width:
            return math.inf
    while hi / lo >= 1.05:
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if moments(mid) > n_moments else (lo, mid)
    return hi


def _round_up(x: float, digits: int = 3) -> float:
    """x rounded up to ``digits`` significant digits (a width quoted as feasible stays so)."""
    scale = 10.0 ** (math.floor(math.log10(x)) - digits + 1)
    return math.ceil(x / scale - 1e-9) * scale


def _default_block(params: ChebyshevParams, sparse: bool, dim: int) -> int:
    """Vectors per block before any memory cap: ``params.block`` if given; else 64 for an exact
    trace (matrix-free or D <= 2^14), :data:`MATRIX_FREE_BLOCK` for a stochastic trace under the
    matrix-free operator, 16 for the sparse operator at D <= 2^14, and 1 above."""
    if params.block is not None:
        return params.block
    if params.trace == "exact" and (not sparse or dim <= 1 << 14):
        return 64
    if not sparse:
        return MATRIX_FREE_BLOCK
    return 16 if dim <= 1 << 14 else 1


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
    threads: int = 1,
    readout: Callable[[Rung], np.ndarray | None] | None = None,
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
    threads : int
        Threads of the solve's GEMMs (time estimate; stored in the plan).
    readout : callable, optional
        rung -> U (R, r) or None, the compressed node basis of the rung's readouts
        (:func:`.contraction.readout_basis`): a rung that projects on nodes then forms r + 1
        node rows instead of R + 1 (``Plan.node_bases``); without it (or where it gives None)
        every window node is formed.

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
    eta = narrowest_width(broadening, frequencies)
    limit = params.n_moments if params.n_moments is not None else params.max_moments
    ladder = build_ladder(temperatures, params)
    check_filter_temperatures(scale, ladder, params.ladder_ratio)
    probes = []  # per rung: (T0, served, window base, <T>, beta_excess, rung, M needed)
    for t0, served in ladder:
        r = boltzmann_filter(op, t0, pilot[:, None])
        norm = float(np.sum(r * r))
        hr = op.h @ r
        mean = float(np.sum(r * hr)) / norm
        spread = math.sqrt(max(float(np.sum(hr * hr)) / norm - mean * mean, 0.0))
        shift = float(np.sum(r * apply_stress(r))) / norm
        keep = max(mean + params.window_sigmas * spread,
                   scale.ground + params.window_temperatures * t0)
        probe = window_rung(t0, served, keep, eta, scale.upper)
        beta_excess = 1.0 / float(np.min(temperatures[served])) - 1.0 / t0
        needed = required_moments(scale, probe, frequencies, broadening,
                                  params.truncation_tol, velocity, beta_excess)
        probes.append((t0, served, keep, shift, beta_excess, probe, needed))
    failed = [p for p in probes if p[-1] > limit]
    if failed:  # the narrowest width every rung resolves with the moments allowed
        best = max(_achievable_width(scale, t0, served, keep, frequencies, broadening,
                                     params.truncation_tol, velocity, beta_excess, limit)
                   for t0, served, keep, _, beta_excess, _, _ in probes)
        best_text = (describe_width(broadening, _round_up(best), frequencies)
                     if math.isfinite(best) else "as wide as the spectrum")
        t0, _, _, _, _, probe, needed = max(failed, key=lambda p: p[-1])
        which = "n_moments" if params.n_moments is not None else "max_moments"
        cut = probe.window_energy
        top = (cut if math.isfinite(cut) else scale.upper) - scale.ground
        raise ValueError(
            f"{which}={limit} is too few moments for a {broadening.kind} kernel of width "
            f"{describe_width(broadening, broadening.width, frequencies)} at reference "
            f"temperature {t0:.4g} K (spectrum half-width "
            f"{scale.half_width:.4g} K, window {top:.4g} K above E_0): it needs "
            + (f"M >= {needed}" if needed <= TAIL_NODES else f"M > {TAIL_NODES}"
               if needed == TAIL_NODES + 1 else f"about M = {needed} (the kernel's own degree)")
            + f" for truncation_tol={params.truncation_tol:g}; with {limit} "
            f"moments the narrowest width is about {best_text}"
            + (f", above the {RELATIVE_WIDTH_LIMIT:g} w a relative kernel allows: raise "
               f"{which} or use an absolute width" if broadening.relative
               and best >= RELATIVE_WIDTH_LIMIT else ""))
    rungs = []
    for t0, served, _, shift, _, probe, needed in probes:
        m_count = params.n_moments if params.n_moments is not None else max(needed, 16)
        terms = exponential_coefficients(0.5 * scale.half_width / t0).size
        rungs.append(Rung(t0, tuple(served), probe.window_energy, probe.window_width,
                          int(m_count), int(terms), shift))
    n_vec = dim if params.trace == "exact" else params.n_vectors
    itemsize = 4 if params.dtype == "float32" else 8
    fixed = operator_bytes(op.h) + extra_bytes
    available = available_memory()
    budget = params.memory_fraction * available - fixed
    m_max = max(r.n_moments for r in rungs) + 1
    # node rows per rung (+ the boundary row A a_M): the window nodes, or the columns of the
    # rung's compressed basis (formed only where the rung's tables fit: the basis is built from
    # them, and a rung whose tables do not fit is refused below)
    windows = [window_nodes(r, scale).size + 1 for r in rungs]
    bases = [readout(r) if readout is not None and _rung_other_bytes(
                 dim, 1, n, r.n_moments, len(frequencies)) <= budget else None
             for r, n in zip(rungs, windows, strict=True)]
    nodes = [n if u is None else u.shape[1] + 1 for n, u in zip(windows, bases, strict=True)]
    r_max = max(nodes)
    block = max(1, min(_default_block(params, sp.issparse(op.h), dim), n_vec))

    def need(b, rows, bank, columns=64):
        return solve_bytes(dim, b, [(n, r.n_moments, rows, bank, full) for r, n, full in
                                    zip(rungs, nodes, windows, strict=True)], columns, itemsize,
                           len(frequencies), summed=params.trace == "exact")

    # under a memory cap, in this order: the k bank down to 256 rows (node vectors are then
    # accumulated over chunks; a full moment matrix reruns the l-recursion per chunk), the block
    # of vectors, the bank down to 64 rows, the node rows per pass (each further pass reruns both
    # recursions)
    wanted = block
    rows, bank = r_max, m_max
    while bank > 256 and need(block, rows, bank) > budget:
        bank = max(256, bank // 2)
    while block > 1 and need(block, rows, bank) > budget:
        block //= 2
    while bank > 64 and need(block, rows, bank) > budget:
        bank = max(64, bank // 2)
    rows = rows_that_fit(r_max, lambda n: need(block, n, bank) <= budget)
    # wider GEMMs of the l-recursion where nothing had to shrink (measured, float32, 2 threads:
    # 145-150, 178 and 193-195 GFlop/s with 64, 128 and 256 columns)
    columns = 64
    if rows == r_max and bank == m_max and block == wanted:
        columns = next((c for c in COLUMN_CHOICES if need(block, rows, bank, c) <= budget), 64)
    memory = int(fixed + need(block, rows, bank, columns))
    if need(block, rows, bank) > budget:
        # a larger memory_fraction only where one would do, and dense ED where D is small: at
        # D = 32 a 1e-4 K kernel needed 293 GB of 24 and "a larger memory_fraction" was advised
        # (bt216 F11)
        advice = ["fewer moments (chebyshev.n_moments)" if params.n_moments is not None
                  else "fewer TLS or a wider kernel"]
        if (fraction := fraction_remedy("chebyshev.memory_fraction", memory, available)):
            advice.append(fraction)
        if dim <= DENSE_SUGGESTION_DIMENSION:
            advice.insert(0, f"solver.method = 'dense' (exact diagonalisation of D = {dim} needs "
                             "no moments)")
        raise MemoryError(
            f"the chebyshev solver needs about {memory / 2**30:.3g} GB (D={dim}, M={m_max}) "
            f"but only {(budget + fixed) / 2**30:.3g} GB is allowed (memory_fraction "
            f"{params.memory_fraction:.3g}, of {available / 2**30:.3g} GB available); use "
            + ", or ".join(advice))
    # 0 node rows: the rung keeps the full moment matrix (its window is too wide to gain)
    node_rows = tuple(balanced_rows(n, rows) if projects(n, r.n_moments) else 0
                      for r, n in zip(rungs, nodes, strict=True))
    bank_rows = tuple(balanced_rows(r.n_moments + 1, bank) for r in rungs)
    t_mv = op.seconds_per_product()
    if not math.isfinite(t_mv):
        entries = (op.h.nnz if sp.issparse(op.h) else
                   dim * op.h.entries_per_row if op.matrix_free else dim * dim)
        t_mv = SECONDS_PER_NONZERO * entries
    rate = threads * _gemm_rate(params.dtype)
    # an exact trace contracts each block's summed moments once (solver._contract)
    share = math.ceil(n_vec / block) / n_vec if params.trace == "exact" else 1.0
    seconds = sum(n_vec * rung_seconds(n, r.n_moments, rows, bank_j, r.filter_terms, dim, t_mv,
                                       rate, share)
                  for r, n, bank_j in zip(rungs, nodes, bank_rows, strict=True))
    roles = role_bytes(dim, block, [(n, r.n_moments, rows, bank) for r, n in
                                    zip(rungs, nodes, strict=True)], columns, itemsize)
    node_bases = tuple(u if rows_j else None for u, rows_j in zip(bases, node_rows, strict=True))
    # one k-recursion for every rung where all rungs form their node vectors in one pass and the
    # shared bank with every rung's node vectors fits (each rung then projects on nodes)
    k_rows = shares(rungs, scale, params, isinstance(apply_stress, DiagonalOperator))
    if k_rows and rows == r_max and block == wanted:
        triples = [(n, r.n_moments, full) for r, n, full in zip(rungs, nodes, windows, strict=True)]

        def shared_need(c):
            return shared_bytes(dim, block, triples, k_rows, c, itemsize, len(frequencies))

        fitting = [c for c in (*COLUMN_CHOICES, 64) if shared_need(c) <= budget]
        if fitting:
            columns = fitting[0]
            memory = int(fixed + shared_need(columns))
            node_rows, bank_rows = tuple(nodes), (k_rows,) * len(rungs)
            roles = shared_role_bytes(dim, block, triples, k_rows, columns, itemsize)
            seconds = n_vec * shared_seconds(triples, k_rows, rungs[0].filter_terms, dim, t_mv,
                                             rate)
            node_bases = tuple(bases)
            groups = ((0, len(rungs), k_rows),)
        else:
            k_rows = 0
    else:
        k_rows = 0
    if not k_rows:  # runs of rungs sharing a recursion each, where that fits (session 22)
        groups = ()
        # chosen with the cost model used before anything is timed (one thread's rates), so
        # that the same inputs give the same plan, and the same bits, whatever the machine's
        # speed at the moment and the number of threads
        entries = (op.h.nnz if sp.issparse(op.h) else
                   dim * op.h.entries_per_row if op.matrix_free else dim * dim)
        split = grouped_sharing(rungs, nodes, windows, scale, params,
                                isinstance(apply_stress, DiagonalOperator), dim, block, rows,
                                bank, columns, itemsize, len(frequencies), budget, t_mv, rate,
                                (SECONDS_PER_NONZERO * entries, GEMM_RATE[params.dtype]))
        if split is not None:
            groups, memory, seconds, roles, bank_rows = split
            memory, seconds = int(fixed + memory), n_vec * seconds
            shared_rungs = {j for first, stop, _ in groups for j in range(first, stop)}
            node_rows = tuple(n if j in shared_rungs else rows_j
                              for j, (n, rows_j) in enumerate(zip(nodes, node_rows, strict=True)))
            node_bases = tuple(u if j in shared_rungs or rows_j else None for j, (u, rows_j)
                               in enumerate(zip(bases, node_rows, strict=True)))
    plan = Plan(scale, tuple(rungs), block, node_rows, bank_rows, memory, seconds, t_mv, n_vec,
                columns, max(1, int(threads)), roles, node_bases, groups)
    if params.max_seconds is not None and seconds > params.max_seconds:
        raise ValueError(
            f"the chebyshev solve is estimated at {seconds:.3g} s (> max_seconds="
            f"{params.max_seconds:g}): rungs T0={[round(r.temperature, 6) for r in rungs]}, "
            f"moments {[r.n_moments for r in rungs]}, {n_vec} vectors each; use fewer vectors, "
            "a wider kernel or fewer low temperatures")
    return plan


_GEMM_CACHE: dict[str, float] = {}


def _gemm_rate(dtype: str) -> float:
    """Single-threaded GEMM rate (flop/s), measured once per process: the solver's GEMMs are
    single-threaded tasks on ``Plan.threads`` threads (:mod:`.gemm`)."""
    if dtype not in _GEMM_CACHE:
        with blas_threads(1):
            _GEMM_CACHE[dtype] = gemm_rate(np.float32 if dtype == "float32" else np.float64)
    return _GEMM_CACHE[dtype]


# ---------------------------------------------------------------------------------------------
# checks of the inputs (shared by the solver and the estimates)


def check_inputs(frequencies, temperatures, broadening, velocity: bool = False):
    """Frequencies and temperatures as positive arrays and the (smooth) line kernel, or raise
    (a kernel below the velocity shift's own floor too when ``velocity``)."""
    w = v.positive_array("frequencies", frequencies)
    t = v.positive_array("temperatures", temperatures)
    broadening = broadening or Broadening()
    if not isinstance(broadening, Broadening):
        raise TypeError(f"broadening must be a Broadening, got {type(broadening).__name__}")
    broadening.check_resolution(w, dispersive=bool(velocity))
    if broadening.kind not in ("gaussian", "lorentzian"):
        raise ValueError(
            "the chebyshev solver needs a smooth line kernel: broadening.kind 'gaussian' or "
            f"'lorentzian', got {broadening.kind!r} (a box has an unbounded Chebyshev tail)")
    return w, t, broadening


def check_params(params, dimension: int | None = None) -> ChebyshevParams:
    """The solver options (defaults for None), or TypeError; with the Hilbert-space dimension
    ``dimension``, a stochastic trace becomes exact where D <= max(EXACT_TRACE_MAX_DIMENSION,
    n_vectors), or max_vectors with a target_error.

    At so small a D the random vectors are poor samples of a trace: there are only 2^(D-1)
    Rademacher vectors up to sign (two at D = 2), so draws coincide, and their spread, which gives
    the error bar, can be zero. A new user's break test (session 24) found error bars up to 10^7
    times too small at N = 1 (one run in eight with 4 vectors drew one vector every time; the
    value was 60 % off) and |z| up to 110 at N = 2-3. The exact trace costs at most 16 vectors
    there (or n_vectors), and its error is the truncation estimate alone; so it runs in float64
    (float32 round-off was up to 1e6 times that error; a break test, session 53), at no cost
    that matters at this D.
    """
    params = params or ChebyshevParams()
    if not isinstance(params, ChebyshevParams):
        raise TypeError(f"params must be a ChebyshevParams, got {type(params).__name__}")
    if dimension is not None and params.trace == "stochastic" and params.exact_at(dimension):
        params = replace(params, trace="exact", dtype="float64")
    return params
