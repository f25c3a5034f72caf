"""Finite-temperature Lanczos method (FTLM): an independent check of the Chebyshev solver at large N.

The golden-rule absorption of docs/PHYSICS.md section 2 (and the resonant velocity shift) is

    Z(T) Q(w, T) = sum_nm e^{-(E_n - E_0)/T} |T_mn|^2 F(E_m - E_n),   F(u) = K(w - u) - K(w + u),

(F(u) = R(u - w) + R(u + w) for the dispersive part, R the Kramers-Kronig partner of the kernel K).
It is estimated by the finite-temperature Lanczos method (FTLM) of Jaklic & Prelovsek, Adv. Phys.
49, 1 (2000), eq. (2.12) for Z and eq. (2.19) for dynamical correlations, in the symmetric
(thermal-typicality) form that keeps its noise low at T << w: for each random vector r (Rademacher
+-1 entries, E[r r^T] = 1, so the mean over r is a trace) and a reference temperature T0 >= T,

1. M Lanczos steps on H from r give Ritz pairs (e_i, psi_i), overlaps c_i = <psi_i|r>, and the
   filtered vector r0 = e^{-(H - E_0)/2T0} r = sum_i e^{-(e_i - E_0)/2T0} c_i psi_i (Krylov
   approximation of the exponential, converged long before the dynamics);
2. M Lanczos steps on H from C r0 give Ritz pairs (e~_j, psi~_j) and b_j = <psi~_j|C r0>;
3. Z_r(T) = sum_i e^{-(e_i - E_0)/T} c_i^2 and, with a_i(T) = e^{-(e_i - E_0)(1/T - 1/2T0)} c_i,

       N_r(w, T) = sum_ij a_i <C psi_i|psi~_j> b_j G(e~_j - e_i) + F'(0) sum_i a_i <psi_i|T C r0>,

   with C = [H, T] (C_mn = (E_m - E_n) T_mn) and G(u) = (F(u) - F'(0) u) / u^2, by the exact
   identity |T_mn|^2 F(u) = |C_mn|^2 G(u) + F'(0) u |T_mn|^2 (F(0) = 0). Averaged over r this is
   sum_nm e^{-E_n/T} |C_mn|^2 G + F'(0) sum_n e^{-E_n/T} (T C)_nn = Z Q for any T0 >= T/2.

Why this form: in the textbook FTLM the second recursion starts from C r, which holds every
energy of the spectrum; its cross terms with the thermal states made the error bar at N = 8 (20
vectors, width 0.02 K) larger than Q itself at every temperature from w/5 to 2w (measured).
Filtering the right-hand side with e^{-H/2T0} (typicality) confines both sides to thermal
states; T0 runs over a ladder max T, max T / 2, ... (each T served by the lowest T0 >= T, one
second recursion per rung). Working with C instead of T
removes the large diagonal stress T_mm (~ gamma eps / E, against the resonant gamma Delta / E)
from the noise, and G is smooth where F / u^2 has a pole.

Q = sum_r N_r / sum_r Z_r is a ratio estimator; its statistical error is the jackknife spread over
random vectors. Exact limits (tested): when the Krylov spaces of r and C r0 are exhausted (M at
least their dimension; the recursion stops at an invariant subspace), N_r and Z_r are exact for
that r, so with the D basis vectors as r (``trace="exact"``) the result equals dense ED to round-off;
with the Chebyshev solver's random vectors (same seed) and the same T0 the two agree far below the
statistical error (the difference is then the expansion error alone).

Truncation: the first M' = ``coarse_fraction`` * M steps of the same two recursions are an M'-step
FTLM of the same vectors (Lanczos vectors are nested; r0 is kept), so |Q_M - Q_M'| is reported as
the truncation estimate and combined in quadrature with the statistical error.

Nothing here is shared with the Chebyshev solver (:mod:`.chebyshev`) except the operators
(:func:`manybody.simulation.operators.build_operators`) and the line kernels of
:class:`~manybody.config.probe.Broadening`: different expansion (Krylov, not Chebyshev), its own
random vectors unless given the same seed, Ritz (Gauss) quadrature instead of a polynomial kernel
expansion, no energy window.

Units: H in K, T in K per unit strain; multiply by ``absorption_normalisation(params)`` for Q in
units of pi*C0 and the velocity shift (-normalisation/2 Re chi) in units of C0.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.linalg import eigh_tridiagonal
from scipy.special import dawsn

from manybody.config.probe import Broadening
from manybody.simulation.ensembles import Realisation
from manybody.simulation.operators import build_operators, scaled_stress, stress_unit
from manybody.simulation.solvers.chebyshev.plan import EXACT_TRACE_MAX_DIMENSION
from manybody.support import validate as v

__all__ = ["FTLMResult", "LineFunction", "ftlm_absorption", "lanczos_recursion", "ritz_pairs"]

#: Default fraction of the largest left weight |a_i(T)| of a rung below which a Ritz state is left
#: out of the dynamical sum (it still counts in Z).
WEIGHT_CUTOFF = 1e-9
#: Relative size of the new Lanczos vector (against |H q|) below which the Krylov space is invariant.
INVARIANT_TOL = 1e-10


@dataclass(frozen=True)
class FTLMResult:
    """Q^-1(w, T) and the velocity shift by FTLM, with errors.

    Attributes
    ----------
    frequencies, temperatures : numpy.ndarray
        w (K), shape (n_w,); T (K), shape (n_T,), in the order requested.
    absorption, absorption_error : numpy.ndarray
        Q^-1 times ``normalisation`` and its error, shape (n_T, n_w): jackknife standard error
        over random vectors combined in quadrature with ``absorption_truncation``.
    absorption_truncation : numpy.ndarray
        |Q(M) - Q(M')| of the same vectors, shape (n_T, n_w) (module docstring).
    velocity_shift, velocity_shift_error, velocity_shift_truncation : numpy.ndarray or None
        delta v / v = -(normalisation / 2) Re chi and its errors, shape (n_T, n_w).
    n_vectors, n_steps : int
        R random vectors (D for an exact trace) and M Lanczos steps.
    exact_trace : bool
    thermal_states : numpy.ndarray
        Ritz states per vector kept in the dynamical sum (largest over the rungs), shape (R,).
    wall_seconds : float
    """

    frequencies: np.ndarray
    temperatures: np.ndarray
    absorption: np.ndarray
    absorption_error: np.ndarray
    absorption_truncation: np.ndarray
    velocity_shift: np.ndarray | None
    velocity_shift_error: np.ndarray | None
    velocity_shift_truncation: np.ndarray | None
    n_vectors: int
    n_steps: int
    exact_trace: bool
    thermal_states: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    wall_seconds: float = 0.0


class LineFunction:
    """F(u) of one observable at frequency w and its smooth part G(u) = (F(u) - F'(0) u) / u^2.

    F(u) = K(w - u) - K(w + u) (absorption) or R(u - w) + R(u + w) (``dispersive``), odd in u,
    with F'(0) analytic (-2 K'(w) or 2 R'(w)); below |u| = 1e-3 eta, G is continued linearly
    through 0 (G is odd, G(u) = F'''(0) u / 6 + O(u^3)).

    Parameters
    ----------
    broadening : Broadening
        Gaussian or Lorentzian kernel of width eta (K), or eta / w with ``scaling = "relative"``
        (taken at ``frequency``, ``Broadening.at``).
    frequency : float
        w (K), > 0.
    dispersive : bool
        The velocity-shift function instead of the absorption one.

    Raises
    ------
    ValueError
        For a histogram kernel.
    """

    def __init__(self, broadening: Broadening, frequency: float, dispersive: bool = False) -> None:
        if broadening.kind not in ("gaussian", "lorentzian"):
            raise ValueError("broadening must be a gaussian or lorentzian kernel for FTLM, got "
                             f"kind={broadening.kind!r}")
        self.frequency = float(frequency)
        self.broadening = broadening.at(self.frequency)
        self.dispersive = dispersive
        self.slope = self._slope()
        self._small = 1e-3 * self.broadening.width
        self._edge = float(self._g(np.array([self._small]))[0]) / self._small

    def _slope(self) -> float:
        w, eta = self.frequency, self.broadening.width
        if self.broadening.kind == "gaussian":
            if self.dispersive:  # R(u) = (sqrt2 / eta) D(u / (sqrt2 eta)), R'(w) = (1 - 2 z D(z)) / eta^2
                z = w / (math.sqrt(2.0) * eta)
                return 2.0 * (1.0 - 2.0 * z * float(dawsn(z))) / eta**2
            return 2.0 * w / eta**2 * math.exp(-0.5 * (w / eta) ** 2) / (eta * math.sqrt(2.0 * math.pi))
        if self.dispersive:  # R(u) = u / (u^2 + eta^2)
            return 2.0 * (eta**2 - w**2) / (w**2 + eta**2) ** 2
        return 4.0 * w * eta / math.pi / (w**2 + eta**2) ** 2

    def full(self, u: np.ndarray) -> np.ndarray:
        """F(u) (1/K)."""
        b, w = self.broadening, self.frequency
        if self.dispersive:
            return b.dispersive(u - w) + b.dispersive(u + w)
        return b.kernel(w - u) - b.kernel(w + u)

    def _g(self, u: np.ndarray) -> np.ndarray:
        return (self.full(u) - self.slope * u) / (u * u)

    def reduced(self, u: np.ndarray) -> np.ndarray:
        """G(u) (1/K^3), any shape."""
        u = np.asarray(u, dtype=np.float64)
        out = u * self._edge
        big = np.abs(u) >= self._small
        out[big] = self._g(u[big])
        return out


def lanczos_recursion(apply_h, start: np.ndarray, n_steps: int
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Lanczos tridiagonalisation of a symmetric H from ``start`` with full reorthogonalisation.

    Each new vector is orthogonalised twice against all previous ones (classical Gram-Schmidt,
    "twice is enough"), so the basis stays orthonormal to round-off. The recursion stops early when
    the Krylov space is invariant (new vector below ``INVARIANT_TOL`` |H q|).

    Parameters
    ----------
    apply_h : callable
        x -> H x for a vector of shape (D,).
    start : numpy.ndarray
        Starting vector, shape (D,), not zero.
    n_steps : int
        Largest number of steps M (>= 1).

    Returns
    -------
    alpha : numpy.ndarray
        Diagonal of the tridiagonal matrix, shape (k,), k <= M (K).
    beta : numpy.ndarray
        Off-diagonal, shape (k - 1,) (K).
    basis : numpy.ndarray
        Lanczos vectors as rows, shape (k, D).
    norm : float
        |start|.
    """
    start = np.asarray(start, dtype=np.float64)
    norm = float(np.linalg.norm(start))
    if norm == 0.0:
        raise ValueError("the Lanczos starting vector is zero")
    dim = start.size
    n_steps = min(int(n_steps), dim)
    basis = np.empty((n_steps, dim))
    alpha = np.empty(n_steps)
    beta = np.empty(max(n_steps - 1, 0))
    basis[0] = start / norm
    k = n_steps
    for j in range(n_steps):
        w = np.asarray(apply_h(basis[j]), dtype=np.float64).ravel()
        alpha[j] = basis[j] @ w
        if j == n_steps - 1:
            break
        reference = float(np.linalg.norm(w))
        done = basis[: j + 1]
        for _ in range(2):
            w -= done.T @ (done @ w)
        b = float(np.linalg.norm(w))
        if b <= INVARIANT_TOL * max(reference, 1e-300):
            k = j + 1
            break
        beta[j] = b
        basis[j + 1] = w / b
    return alpha[:k], beta[: k - 1], basis[:k], norm


def ritz_pairs(alpha: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (K), shape (k,), and eigenvectors, shape (k, k) (columns), of the tridiagonal."""
    if alpha.size == 1:
        return alpha.copy(), np.ones((1, 1))
    return eigh_tridiagonal(alpha, beta)


def _ladder(temperatures: np.ndarray, ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """Reference temperatures T0_0 = max T > T0_1 = T0_0 / ratio > ... down to <= min T, and
    the rung serving each temperature (the lowest T0 >= T)."""
    rungs = [float(temperatures.max())]
    while rungs[-1] > temperatures.min() * (1.0 + 1e-12):
        rungs.append(rungs[-1] / ratio)
    rungs = np.array(rungs)
    index = np.array([int(np.nonzero(rungs >= x * (1.0 - 1e-12))[0][-1]) for x in temperatures])
    return rungs, index


class _Krylov:
    """One Lanczos recursion from r: its Ritz pairs at any prefix length and f(H) r."""

    def __init__(self, apply_h, r: np.ndarray, n_steps: int) -> None:
        self.alpha, self.beta, self.basis, self.norm = lanczos_recursion(apply_h, r, n_steps)

    def ritz(self, steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Ritz energies (k,), overlaps c_i = <psi_i|r> (k,), eigenvectors (k, k) of ``steps``."""
        k = min(steps, self.alpha.size)
        e, s = ritz_pairs(self.alpha[:k], self.beta[: k - 1])
        return e, self.norm * s[0], s

    def filtered(self, e0: float, t0: float) -> np.ndarray:
        """e^{-(H - E_0)/2T0} r in the full Krylov space, shape (D,)."""
        e, c, s = self.ritz(self.alpha.size)
        return (s @ (np.exp(-0.5 * (e - e0) / t0) * c)) @ self.basis


def _vector_terms(h, stress, comm, r, steps_list, e0, t, rungs, index, shapes, cutoff):
    """Z_r(T), shape (n_T,), and N_r(w, T) per kind, shape (n_T, n_w), of one random vector, for
    each number of steps in ``steps_list`` (prefixes of the same recursions); and the number of
    thermal Ritz states."""
    def apply_h(x):
        return h @ x

    n_max = max(steps_list)
    first = _Krylov(apply_h, r, n_max)
    out = {m: {"z": np.zeros(t.size), **{k: np.zeros((t.size, len(v_))) for k, v_ in shapes.items()}}
           for m in steps_list}
    kept_count = 0
    for rung, t0 in enumerate(rungs):
        served = np.nonzero(index == rung)[0]
        if served.size == 0:
            continue
        r0 = first.filtered(e0, t0)
        c_r0 = np.asarray(comm @ r0).ravel()
        tc_r0 = np.asarray(stress @ c_r0).ravel()
        second = _Krylov(apply_h, c_r0, n_max) if np.any(c_r0) else None
        excess = 1.0 / t[served] - 0.5 / t0  # > 0: T <= T0 < 2 T0
        for m in steps_list:
            e, c, s = first.ritz(m)
            out[m]["z"][served] = np.exp(-np.outer(1.0 / t[served], e - e0)) @ (c * c)
            left = np.exp(-np.outer(excess, e - e0)) * c[None, :]  # (served, k)
            share = np.abs(left).max(axis=0)
            keep = np.nonzero(share > cutoff * share.max())[0]
            kept_count = max(kept_count, keep.size)
            psi = s[:, keep].T @ first.basis[: s.shape[0]]  # Ritz vectors (kept, D)
            moment = psi @ tc_r0  # <psi_i|T C r0>
            if second is None:
                dyn = np.zeros((keep.size, 1))
                et = np.zeros(1)
            else:
                et, b, st = second.ritz(m)
                c_psi = np.asarray(comm @ psi.T).T  # (kept, D)
                dyn = ((c_psi @ second.basis[: st.shape[0]].T) @ st) * b[None, :]  # (kept, k2)
            du = et[None, :] - e[keep][:, None]
            for kind, lines in shapes.items():
                per_state = np.stack([np.sum(dyn * line.reduced(du), axis=1) for line in lines], 1)
                slopes = np.array([line.slope for line in lines])
                out[m][kind][served] = left[:, keep] @ per_state + np.outer(left[:, keep] @ moment,
                                                                            slopes)
    return out, kept_count


def _jackknife(num: np.ndarray, den: np.ndarray, exact: bool) -> tuple[np.ndarray, np.ndarray]:
    """sum num / sum den over axis 0 (num (R, n_T, n_w), den (R, n_T)) and the jackknife error."""
    sn, sd = num.sum(axis=0), den.sum(axis=0)
    full = sn / sd[:, None]
    count = num.shape[0]
    if exact or count < 2:
        return full, np.zeros_like(full)
    loo = (sn[None] - num) / (sd[None] - den)[:, :, None]
    spread = np.sum((loo - loo.mean(axis=0)) ** 2, axis=0)
    return full, np.sqrt((count - 1) / count * spread)


def _ground_energy(h) -> float:
    """Lowest eigenvalue of H (K): dense below D = 512, else ARPACK."""
    dim = h.shape[0]
    if dim <= 512:
        dense = h.toarray() if sp.issparse(h) else np.asarray(h)
        return float(np.linalg.eigvalsh(dense)[0])
    from scipy.sparse.linalg import eigsh

    v0 = np.random.default_rng(0).standard_normal(dim)
    return float(eigsh(h, k=1, which="SA", tol=1e-10, v0=v0, return_eigenvectors=False)[0])


#: Fewest Lanczos steps accepted: below ~10 the M' = coarse_fraction * M truncation estimate
#: rounds to M (a truncation error of exactly 0) or the Gauss quadrature is no spectral estimate.
MIN_STEPS = 10


def _check(frequencies, temperatures, broadening, n_vectors, n_steps, trace, coarse_fraction,
           weight_cutoff, ladder_ratio, normalisation=1.0, velocity=False):
    w = v.positive_array("frequencies", frequencies)
    t = v.positive_array("temperatures", temperatures)
    if w.ndim != 1 or t.ndim != 1:
        raise ValueError(f"frequencies and temperatures must be 1-D, got shapes {w.shape}, {t.shape}")
    broadening = Broadening(kind="gaussian", width=0.01) if broadening is None else broadening
    if not isinstance(broadening, Broadening):
        raise TypeError(f"broadening must be a Broadening, got {type(broadening).__name__}")
    broadening.check_resolution(w, dispersive=bool(velocity))
    v.choice("trace", trace, ("stochastic", "exact"))
    if trace == "stochastic":  # the error bar is the spread over vectors: one vector has none
        n_vectors = v.integer("n_vectors", n_vectors, 2)
    n_steps = v.integer("n_steps", n_steps, MIN_STEPS)
    normalisation = v.positive("normalisation", normalisation)
    v.in_range("coarse_fraction", coarse_fraction, 0.0, 1.0, low_open=True, high_open=True)
    v.in_range("weight_cutoff", weight_cutoff, 0.0, 1.0, high_open=True)
    v.in_range("ladder_ratio", ladder_ratio, 1.0, 2.0, low_open=True)
    return w, t, broadening


def ftlm_absorption(
    real,
    frequencies,
    temperatures,
    broadening: Broadening | None = None,
    *,
    n_vectors: int = 16,
    n_steps: int = 200,
    normalisation: float = 1.0,
    seed: int | np.random.SeedSequence = 0,
    velocity: bool = True,
    trace: str = "stochastic",
    coarse_fraction: float = 0.8,
    weight_cutoff: float = WEIGHT_CUTOFF,
    ladder_ratio: float = 2.0,
) -> FTLMResult:
    """Golden-rule Q^-1(w, T) (and the velocity shift) of one realisation by FTLM.

    Parameters
    ----------
    real : Realisation
        The realisation; H and T are built sparse (random-matrix terms make them dense, which
        works but costs D^2 memory).
    frequencies : array_like
        w (K), shape (n_w,), all > 0.
    temperatures : array_like
        T (K), shape (n_T,), all > 0. Every temperature comes from the same Ritz pairs.
    broadening : Broadening, optional
        Gaussian (default width 0.01 K) or Lorentzian kernel, absolute or relative
        (``scaling="relative"``: width eta / w), as in dense ED.
    n_vectors : int
        R random vectors (>= 2: the error bar is their spread); ignored for ``trace="exact"``.
    n_steps : int
        M Lanczos steps per recursion (>= ``MIN_STEPS`` = 10); capped at D.
    normalisation : float
        Multiplies Q and the velocity shift (``absorption_normalisation(params)``), > 0.
    seed : int or numpy.random.SeedSequence
        Random vector i has Rademacher (+-1) entries from SeedSequence(seed, spawn_key=(i,)), the
        same vectors as :func:`~manybody.simulation.solvers.chebyshev.solver.chebyshev_absorption`
        with the same seed: equal seeds isolate the difference of the two expansions (the noise of
        the vectors is common), different seeds give independent estimates.
    velocity : bool
        Also compute the velocity shift.
    trace : {"stochastic", "exact"}
        Random vectors (named as ``ChebyshevParams.trace``), or the D basis vectors (an exact
        trace; with M >= D it equals dense ED). Where D <= max(16, n_vectors) the trace is exact
        either way (``exact_trace`` of the result), as for the Chebyshev solver.
    coarse_fraction : float
        M' / M of the truncation estimate, in (0, 1).
    weight_cutoff : float
        Ritz states whose left weight is below this fraction of the largest are left out of the
        dynamical sum of a rung (they still count in Z).
    ladder_ratio : float
        T0_k / T0_k+1 of the reference temperatures, in (1, 2]; one second recursion per rung.

    Returns
    -------
    FTLMResult
        Shapes (n_T, n_w), requested order.

    Raises
    ------
    ValueError
        n_vectors < 2 (stochastic trace), n_steps < 10, a non-positive or non-finite normalisation,
        non-positive frequencies or temperatures, a histogram kernel, an unknown trace; all
        before any operator is built.
    """
    started = time.perf_counter()
    w, t, broadening = _check(frequencies, temperatures, broadening, n_vectors, n_steps, trace,
                              coarse_fraction, weight_cutoff, ladder_ratio, normalisation,
                              velocity)
    seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(
        v.integer("seed", seed, 0, v.MAX_SEED))
    shapes = {"abs": [LineFunction(broadening, x) for x in w]}
    if velocity:
        shapes["vel"] = [LineFunction(broadening, x, True) for x in w]
    # T in its own unit (exact): gamma <= 1e-30 gave Q = 0 (session 45); anything else than a
    # Realisation is refused by build_operators, by name
    unit = stress_unit(real) if isinstance(real, Realisation) else 1.0
    if unit != 1.0:
        real, normalisation = scaled_stress(real, 1.0 / unit), normalisation * unit**2
    h, stress = build_operators(real, np.float64, dense=False)
    h = h.tocsr() if sp.issparse(h) else np.asarray(h)
    stress = stress.tocsr() if sp.issparse(stress) else np.asarray(stress)
    comm = h @ stress - stress @ h
    comm = comm.tocsr() if sp.issparse(comm) else np.asarray(comm)
    dim = h.shape[0]
    e0 = _ground_energy(h)
    # a tiny D takes the exact trace, as the Chebyshev solver's (.chebyshev.plan.check_params):
    # random vectors there coincide and their spread, the error bar, can vanish
    exact = trace == "exact" or dim <= max(EXACT_TRACE_MAX_DIMENSION, int(n_vectors))
    count = dim if exact else int(n_vectors)
    steps = min(int(n_steps), dim)
    coarse = max(2, int(round(coarse_fraction * steps)))
    rungs, index = _ladder(t, ladder_ratio)
    sums = {m: {"z": [], **{k: [] for k in shapes}} for m in (steps, coarse)}
    dims = np.zeros(count, dtype=int)
    for i in range(count):
        if exact:
            r = np.zeros(dim)
            r[i] = 1.0
        else:
            rng = np.random.default_rng(np.random.SeedSequence(
                seq.entropy, spawn_key=tuple(seq.spawn_key) + (i,)))
            r = rng.integers(0, 2, size=dim).astype(np.float64) * 2.0 - 1.0
        terms, dims[i] = _vector_terms(h, stress, comm, r, (steps, coarse), e0, t, rungs, index,
                                       shapes, weight_cutoff)
        for m in (steps, coarse):
            for k in sums[m]:
                sums[m][k].append(terms[m][k])
    values = {}
    for k in shapes:
        q, err = _jackknife(np.array(sums[steps][k]), np.array(sums[steps]["z"]), exact)
        q_coarse, _ = _jackknife(np.array(sums[coarse][k]), np.array(sums[coarse]["z"]), True)
        factor = normalisation if k == "abs" else -0.5 * normalisation
        trunc = np.abs(factor * (q - q_coarse))
        values[k] = (factor * q, np.hypot(abs(factor) * err, trunc), trunc)
    vel = values.get("vel", (None, None, None))
    return FTLMResult(
        frequencies=w, temperatures=t, absorption=values["abs"][0],
        absorption_error=values["abs"][1], absorption_truncation=values["abs"][2],
        velocity_shift=vel[0], velocity_shift_error=vel[1], velocity_shift_truncation=vel[2],
        n_vectors=count, n_steps=steps, exact_trace=exact, thermal_states=dims,
        wall_seconds=time.perf_counter() - started)
