"""Relaxation absorption and velocity shift from a one-phonon Pauli master equation.

PHYSICS.md section 4.

Rates between eigenstates (energies in K, rates in s^-1)::

    Gamma(n -> m) = K_ph |t_mn|^2 w^3 / (1 - exp(-w/T)),   w = E_n - E_m  (signed),

which is K_ph |t|^2 |w|^3 [n_B(|w|) + 1] for emission (w > 0) and K_ph |t|^2 |w|^3 n_B(|w|) for
absorption (w < 0). Unit convention: t_mn = T_mn / stress_scale is the stress matrix element in
units of the deformation-potential scale gamma of the model (``stress.deformation_potential``), and
K_ph (s^-1 K^-3, :mod:`manybody.simulation.materials`) carries the material's own deformation potentials. One
TLS then has t_01 = Delta/E and relaxes at exactly Jackle's tau^-1 = K_ph Delta^2 E coth(E/2T).

The detailed-balance-symmetrised generator S = P^-1/2 W P^1/2 has off-diagonal elements
K_ph |t_mn|^2 |w|^3 / (2 sinh(|w|/2T)) (computed in this form: no overflow) and diagonal minus the
total out-rate. With S = -sum_k lambda_k phi_k phi_k^T (lambda_k = 1/tau_k >= 0), the strain-driven
population lag gives

    chi_rel(w) = (1/T) sum_k c_k^2 / (1 - i omega tau_k),
    c_k = sum_m sqrt(p_m) (T_mm - <T>) phi_k(m),

omega = w k_B / hbar, so that chi_rel(0) = Var_p(T_mm) / T (isothermal minus adiabatic
susceptibility), Q^-1_rel = normalisation * Im chi_rel / pi (units of pi*C0 with
``absorption_normalisation``) and delta v/v = -(normalisation/2) Re chi_rel (units of C0).
Derivation: linearising dp/dt = W(e) p with W(e) p_eq(e) = 0 gives d(dp)/dt = W (dp - dp_eq).

Degenerate levels: T_mm is basis dependent inside a degenerate eigenspace. The strain lifts the
degeneracy, so T is first diagonalised inside every (numerically) degenerate block; transitions
inside a block carry no rate (|w|^3 = 0) and no resonant weight (p_n = p_m). Where T ties inside
a block (two identical TLS: T = 0 between |eg> and |ge>), the populations' equation still depends
on the basis; the dense solver settles it as the limit of split levels
(:mod:`.degeneracies`), which keeps independent TLS additive.

Cost. Only the spectral measure of the generator seen from the vector a_m = sqrt(p_m)(T_mm - <T>)
matters. ``method="krylov"`` runs Lanczos with full reorthogonalisation from a: the
k-step Gauss quadrature is evaluated at the requested frequencies after every step and the run
stops when it has changed by less than ``rtol`` (relative) on two consecutive steps, or when the
Krylov space closes (exact; for K = 0 this happens after about N steps because the generator is a
sum of single-TLS generators). Cost O(k D^2) per temperature against O(D^3) for ``method="dense"``
(full eigendecomposition, the reference). If Lanczos needs more than ``max(64, D/8)`` steps it falls
back to the dense route. ``method="auto"`` (default) takes the dense route while at most
``KRYLOV_MIN_STATES`` = 64 states are kept (there it is both exact and cheaper than the Python-level
Lanczos loop) and Lanczos above. The highest states are dropped from the dynamics when together they hold
less than ``population_cutoff`` of the excited population sum_{m>=1} p_m (their rates still enter
the out-rates of the retained states); the error this causes in chi is of relative order
``population_cutoff``.

Modelling assumption: the phonons couple through the same operator T as the probe strain
(coherent coupling; exact for independent TLS with distinct levels, and for exactly degenerate
ones in the limit of split levels that the dense solver takes: a shared channel's collective dark
states at exact degeneracy are not modelled). A different bath operator, or several incoherent
channels, can be passed as ``bath_elements`` of shape (D, D) or (C, D, D).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.linalg import eigh_tridiagonal

from manybody.config.model import MAX_STRESS, MIN_STRESS
from manybody.config.probe import Broadening
from manybody.config.probe import rate_prefactor as bounded_rate_prefactor
from manybody.simulation.materials import bath
from manybody.simulation.observables.absorption import (
    RELAXATION_FAR_ABOVE_TEMPERATURE,
    FarAboveSpectrumWarning,
    absorption,
    check_spectrum,
    check_symmetric,
    driven_line_scale,
    velocity_shift,
    warn_if_far_above_lines,
    warn_if_far_above_temperatures,
)
from manybody.simulation.observables.degeneracies import (
    DEGENERACY_TOLERANCE,
    degenerate_groups,
    settle_degenerate_basis,
)
from manybody.simulation.observables.responses import (
    relaxation_absorption_from,
    relaxation_velocity_shift_from,
)
from manybody.simulation.observables.statistics import eigenvalue_precision
from manybody.simulation.observables.thermo import boltzmann_weights
from manybody.simulation.spectrum import Spectrum
from manybody.support import validate as v
from manybody.units import BOLTZMANN, HBAR

#: Angular frequency per kelvin: omega (s^-1) = w (K) * k_B / hbar.
OMEGA_PER_KELVIN = BOLTZMANN / HBAR


def check_stress_elements(name: str, elements, dim: int) -> np.ndarray:
    """T_mn (or C channels of them): real, finite and symmetric, shape (D, D) or (C, D, D) (a NaN
    matrix gave Q = 0 and a half-filled one half the answer, a tester, session 34)."""
    arr = v.real_array(name, elements, keep_float=True)
    if arr.shape[-2:] != (dim, dim) or arr.ndim not in (2, 3):
        raise ValueError(f"{name} must have shape ({dim}, {dim}) or (C, {dim}, {dim}) to match the "
                         f"{dim} energies, got {arr.shape}")
    for channel in (arr if arr.ndim == 3 else (arr,)):
        check_symmetric(channel, name=name)
    return arr


def _coupling_squared(elements: np.ndarray, stress_scale: float, rows=None) -> np.ndarray:
    """sum over channels of |T_mn / stress_scale|^2 (float64), rows restricted when given."""
    e = elements if rows is None else elements[..., rows, :]
    sq = np.square(e, dtype=np.float64)
    if sq.ndim == 3:
        sq = sq.sum(axis=0)
    return sq / stress_scale**2


def check_rate_prefactor(where: str, value) -> float:
    """K_ph (s^-1 K^-3) from a number (finite, > 0, at most ``MAX_RATE_PREFACTOR``) or a preset
    name such as "a-SiO2" (as ``Probe.phonon_rate_prefactor`` takes it; the functions here
    refused the preset before session 26)."""
    if isinstance(value, str):
        return bath(value).rate_prefactor
    return bounded_rate_prefactor(where, value)


#: Largest max |T_mn| / stress_scale taken: t = T / gamma of a model stays below N times the
#: largest stress ratio (config.model.MAX_STRESS_RATIO); 1e100 gave rates of 1e200 and NaN.
MAX_RELATIVE_STRESS = 1e9


def check_stress_scale(stress_scale, *elements: np.ndarray | None) -> float:
    """gamma (K per unit strain) in the model's range (ValueError naming stress_scale; 1e200 gave
    an OverflowError and 1e-200 a LinAlgError), and max |T_mn| / gamma of each array at most
    MAX_RELATIVE_STRESS (a break test, session 45)."""
    scale = v.positive("stress_scale", stress_scale)
    if not MIN_STRESS <= scale < MAX_STRESS:
        raise ValueError(f"stress_scale must be between {MIN_STRESS:g} and {MAX_STRESS:g} (gamma, "
                         f"K per unit strain, in the units of the stress elements), got {scale!r}")
    for name, arr in zip(("stress_elements", "bath_elements"), elements, strict=False):
        if arr is None or arr.size == 0:
            continue
        largest = float(np.max(np.abs(arr)))
        if largest > MAX_RELATIVE_STRESS * scale:
            raise ValueError(f"{name} reach {largest:.3g}, {largest / scale:.3g} times "
                             f"stress_scale = {scale:g}: the rates use |T_mn / stress_scale|^2, "
                             f"at most ({MAX_RELATIVE_STRESS:g})^2; give stress_scale in the "
                             "units of the stress elements (gamma of the model)")
    return scale


#: Largest one-phonon rate scale K_ph max|t_mn|^2 max|E_m - E_n|^3 taken (s^-1). Phonon
#: frequencies are ~1e13 s^-1 and a model in range stays below ~1e45; energies of 1e99 K gave
#: overflow warnings and NaN (session 45's open item, fixed in session 46). Far below float64's
#: limit, so that the eigensolver and the Lanczos norms of the generator cannot overflow either.
MAX_RATE_SCALE = 1e100


def check_rate_scale(gaps: np.ndarray, coupling_squared: np.ndarray, rate_prefactor: float) -> None:
    """Refuse rates K_ph |t_mn|^2 |w_mn|^3 above :data:`MAX_RATE_SCALE` s^-1, judged in
    logarithms before any product is formed (ValueError naming the energies' span and K_ph)."""
    coupling = float(np.max(coupling_squared, initial=0.0))
    gap = float(np.max(gaps, initial=0.0))
    if not (coupling > 0 and gap > 0):
        return
    exponent = math.log10(rate_prefactor) + math.log10(coupling) + 3 * math.log10(gap)
    if exponent > math.log10(MAX_RATE_SCALE):
        raise ValueError(f"the one-phonon rates K_ph |t_mn|^2 |E_m - E_n|^3 reach about "
                         f"1e{exponent:.0f} s^-1 (largest gap |E_m - E_n| = {gap:.3g} K, rate_prefactor "
                         f"{rate_prefactor:g} s^-1 K^-3, max |t_mn|^2 = {coupling:.3g}), beyond "
                         f"{MAX_RATE_SCALE:g} s^-1: energies are in K (1 GHz is 0.048 K) and K_ph "
                         "in s^-1 K^-3 (a-SiO2: 4.9e7)")


def _check_common(energies, temperature, rate_prefactor, stress_scale):
    energies = v.real_array("energies", energies)
    if energies.ndim != 1 or energies.size == 0:
        raise ValueError(f"energies must be a non-empty 1-d array, got shape {energies.shape}")
    return (energies, v.positive("temperature", v.single("temperature", temperature)),
            check_rate_prefactor("rate_prefactor", rate_prefactor),
            check_stress_scale(stress_scale))


def _rate_kernel(released: np.ndarray, temperature: float) -> np.ndarray:
    """w^3 / (1 - exp(-w/T)) for the signed released energy w (K); 0 at w = 0."""
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        out = released**3 / -np.expm1(-released / temperature)
    out[released == 0] = 0.0
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)


def transition_rates(
    energies,
    stress_elements,
    temperature: float,
    rate_prefactor: float,
    *,
    stress_scale: float = 1.0,
) -> np.ndarray:
    """One-phonon rates Gamma[m, n] = Gamma(n -> m) between eigenstates.

    Parameters
    ----------
    energies : array_like, shape (D,)
        Eigenvalues E_n (K).
    stress_elements : array_like, shape (D, D) or (C, D, D)
        Bath coupling matrix elements T_mn (K per unit strain, same units as ``stress_scale``);
        channels C are summed incoherently.
    temperature : float
        T (K), > 0.
    rate_prefactor : float
        K_ph (s^-1 K^-3), > 0.
    stress_scale : float
        gamma (K per unit strain) that makes t_mn = T_mn / gamma dimensionless.

    Returns
    -------
    numpy.ndarray
        (D, D) rates (s^-1), zero diagonal, all >= 0; detailed balance
        Gamma(n -> m) p_n = Gamma(m -> n) p_m holds to round-off.
    """
    energies, temperature, rate_prefactor, stress_scale = _check_common(
        energies, temperature, rate_prefactor, stress_scale)
    elements = check_stress_elements("stress_elements", stress_elements, energies.size)
    check_stress_scale(stress_scale, elements)
    released = energies[None, :] - energies[:, None]  # [m, n] = E_n - E_m
    coupling = _coupling_squared(elements, stress_scale)
    check_rate_scale(np.abs(released), coupling, rate_prefactor)
    rates = rate_prefactor * coupling * _rate_kernel(released, temperature)
    np.fill_diagonal(rates, 0.0)
    return rates


def resolve_degeneracies(energies, stress_elements, tolerance: float = DEGENERACY_TOLERANCE):
    """Rotate T inside degenerate eigenspaces so that it is diagonal there.

    Groups as :func:`.degeneracies.degenerate_groups` (a float32 solve is grouped like the
    float64 solve of the same Hamiltonian). A block where T is already diagonal (to round-off) is
    left as it is: the dense solver settles degenerate blocks further, where T ties, by a generic
    perturbation (:func:`.degeneracies.settle_degenerate_basis`), and rotating such a block again
    would undo that.

    Parameters
    ----------
    energies : array_like, shape (D,)
        Eigenvalues E_n (K), ascending.
    stress_elements : numpy.ndarray, shape (D, D)
        T_mn (K per unit strain).
    tolerance : float
        Levels closer than ``tolerance`` * max(bandwidth, 1 K) count as degenerate.

    Returns
    -------
    numpy.ndarray
        T in the rotated basis (the input itself when no block needs a rotation).
    """
    groups = degenerate_groups(energies, tolerance)
    eps = max(float(np.finfo(np.result_type(np.asarray(stress_elements).dtype, np.float32)).eps),
              float(np.finfo(eigenvalue_precision(energies)).eps))
    t = None
    for g in groups:
        block = np.asarray(stress_elements[np.ix_(g, g)], dtype=np.float64)
        off = block - np.diag(np.diagonal(block))
        size = float(np.max(np.abs(stress_elements[g, :])))  # T's scale in these rows
        if np.max(np.abs(off)) <= 1e3 * math.sqrt(len(energies)) * eps * max(size, 1e-300):
            continue  # diagonal already (to round-off of T, not of the block)
        if t is None:
            t = np.array(stress_elements, dtype=np.float64, copy=True)
        _, u = np.linalg.eigh(0.5 * (block + block.T))
        t[:, g] = t[:, g] @ u
        t[g, :] = u.T @ t[g, :]
    return stress_elements if t is None else t


@dataclass(frozen=True)
class RelaxationModes:
    """Spectral measure of the master equation seen by the strain, at one temperature.

    Attributes
    ----------
    rates : numpy.ndarray
        lambda_k = 1/tau_k (s^-1), >= 0 (exact modes for "dense", Gauss-quadrature nodes for
        "krylov").
    weights : numpy.ndarray
        c_k^2 ((K per unit strain)^2); they sum to Var_p(T_mm).
    temperature : float
        T (K).
    method : str
        "dense", "krylov" or "exact-krylov" (the Krylov space closed).
    """

    rates: np.ndarray
    weights: np.ndarray
    temperature: float
    method: str

    def susceptibility(self, frequencies) -> np.ndarray:
        """chi_rel(w) = (1/T) sum_k c_k^2 lambda_k / (lambda_k - i omega), shape (n_w,) complex.

        Zero modes (lambda_k = 0: disconnected sets of states) give nothing at w > 0.
        """
        w = v.positive_array("frequencies", frequencies)
        return _quadrature(self.rates, self.weights, w * OMEGA_PER_KELVIN) / self.temperature


#: Below this largest |component| the Lanczos start vector is normalised before its norm is squared.
TINY_START = 1e-120
#: method "auto": the full eigendecomposition of the kept generator up to this many states, the
#: Lanczos quadrature above. Measured (one core, N = 4 relaxation rows): a dense eigh of 64 x 64
#: costs 0.6 ms, about what the Python-level Lanczos loop spends on its first steps, so below it
#: the exact route is also the cheaper one (3.4x per realisation at D = 16).
KRYLOV_MIN_STATES = 64


def _quadrature(rates, weights, omega):
    lam = rates[:, None]
    return np.sum(weights[:, None] * lam / (lam - 1j * omega[None, :]), axis=0)


def _lanczos(a_matrix, start, omega, rtol, max_steps):
    """Gauss quadrature of lambda/(lambda - i omega) over the measure of PSD ``a_matrix``."""
    dim = start.size
    norm2 = float(start @ start)
    basis = np.empty((min(max_steps, dim) + 1, dim))
    basis[0] = start / math.sqrt(norm2)
    alpha, beta = [], []
    previous = None
    settled = 0
    scale = max(float(np.abs(np.diag(a_matrix)).max()), 1e-300)
    for j in range(min(max_steps, dim)):
        u = a_matrix @ basis[j]
        alpha.append(float(basis[j] @ u))
        for _ in range(2):  # full reorthogonalisation, twice is enough
            u -= basis[: j + 1].T @ (basis[: j + 1] @ u)
        b = float(np.linalg.norm(u))
        if j == 0:
            nodes, vecs = np.array(alpha), np.ones((1, 1))
        else:
            nodes, vecs = eigh_tridiagonal(np.array(alpha), np.array(beta))
        weights = norm2 * vecs[0] ** 2
        value = _quadrature(np.clip(nodes, 0.0, None), weights, omega)
        if b <= 1e-12 * scale or j + 1 == dim:
            return np.clip(nodes, 0.0, None), weights, "exact-krylov"
        if previous is not None:
            change = np.max(np.abs(value - previous) / np.maximum(np.abs(value), 1e-300))
            settled = settled + 1 if change < rtol else 0
            if settled >= 2:
                return np.clip(nodes, 0.0, None), weights, "krylov"
        previous = value
        beta.append(b)
        basis[j + 1] = u / b
    return None


def _kept_states(p: np.ndarray, population_cutoff: float) -> int:
    """Number of lowest states kept: the dropped tail holds at most ``population_cutoff`` of the
    excited population sum_{m >= 1} p_m (chi_rel scales with it, not with p_0 ~ 1 at low T).
    Energies ascend, so the kept states are a prefix (views, no copies)."""
    tail = np.cumsum(p[::-1])[::-1]  # tail[k] = sum_{m >= k} p_m
    excited = tail[1] if p.size > 1 else 0.0
    if excited == 0:
        return 1
    return max(2, int(np.count_nonzero(tail > population_cutoff * excited)))


class _MasterEquation:
    """Temperature-independent parts of the symmetrised generator, built once per spectrum."""

    def __init__(self, spectrum, stress_elements, rate_prefactor, stress_scale, bath_elements):
        energies = check_spectrum(spectrum).energies.astype(np.float64, copy=False)
        rate_prefactor = check_rate_prefactor("rate_prefactor", rate_prefactor)
        dim = energies.size
        self.energies = energies
        elements = check_stress_elements("stress_elements", stress_elements, dim)
        if elements.ndim != 2:
            raise ValueError(f"stress_elements must have shape ({dim}, {dim}), "
                             f"got {elements.shape}")
        if getattr(spectrum, "vectors", None) is not None:  # the basis of split levels
            spectrum, elements = settle_degenerate_basis(spectrum, elements, copy=True)
        elements = resolve_degeneracies(energies, elements)
        self.diagonal = np.diagonal(elements).astype(np.float64)
        bath = elements if bath_elements is None else check_stress_elements("bath_elements",
                                                                      bath_elements, dim)
        stress_scale = check_stress_scale(stress_scale, elements,
                                          None if bath_elements is None else bath)
        self.gap = np.abs(energies[None, :] - energies[:, None])
        # -K_ph |t_mn|^2 |w_mn|^3 / 2: the temperature enters only through 1/sinh(|w|/2T); the
        # sign makes the generator -S positive semi-definite
        strength = _coupling_squared(bath, stress_scale)
        check_rate_scale(self.gap, strength, rate_prefactor)
        strength += strength.T  # T_mn is symmetric only to round-off: make S exactly symmetric
        strength *= (-0.25 * rate_prefactor) * self.gap**3
        self.strength = strength
        # zero gaps (diagonal, degenerate pairs) carry zero strength: give them a harmless gap
        self.gap[self.gap == 0] = 1.0

    def generator(self, temperature: float, kept: int, p: np.ndarray) -> np.ndarray:
        """-S on the ``kept`` lowest states (PSD), its diagonal from the full out-rates.

        Off-diagonal S_mn = K_ph |t_mn|^2 |w|^3 / (2 sinh(|w| / 2T)) (no overflow: sinh -> inf
        gives 0); out-rate of r: sum_m Gamma(r -> m) = sum_m S_rm sqrt(p_m / p_r).
        """
        x = np.multiply(self.gap[:kept], 0.5 / temperature)
        with np.errstate(over="ignore"):
            np.sinh(x, out=x)
        np.divide(self.strength[:kept], x, out=x)  # -S_rm, all m
        sqrt_p = np.sqrt(p)
        out_rates = -(x @ sqrt_p) / sqrt_p[:kept]
        generator = x[:, :kept]
        generator[np.diag_indices(kept)] = out_rates
        return generator

    def modes(self, temperature, method, frequencies, rtol, population_cutoff) -> RelaxationModes:
        temperature = v.positive("temperature", v.single("temperature", temperature))
        p = boltzmann_weights(self.energies, [temperature])[0]
        kept = _kept_states(p, population_cutoff)
        a = np.sqrt(p[:kept]) * (self.diagonal[:kept] - p @ self.diagonal)
        largest = float(np.abs(a).max())
        if not largest > 0:
            return RelaxationModes(np.zeros(0), np.zeros(0), temperature, method)
        # the weights scale as a^2, which underflows where |a| ~ 1e-162 (occupations near the
        # float64 limit, E/T ~ 745) while a itself does not: there, work with a / max|a| and put
        # the scale back into the weights (which may then underflow to 0, never to NaN); elsewhere
        # a is used as it is (results bit for bit as before)
        scale = largest if largest < TINY_START else 1.0
        a = a / scale
        generator = self.generator(temperature, kept, p)
        if method == "krylov" or (method == "auto" and kept > KRYLOV_MIN_STATES):
            omega = frequencies * OMEGA_PER_KELVIN
            found = _lanczos(generator, a, omega, rtol, max(64, kept // 8))
            if found is not None:
                return RelaxationModes(found[0], found[1] * scale**2, temperature, found[2])
        lam, phi = np.linalg.eigh(generator)
        return RelaxationModes(np.clip(lam, 0.0, None), ((phi.T @ a) * scale) ** 2, temperature,
                               "dense")


def symmetrised_rate_matrix(
    spectrum: Spectrum,
    stress_elements: np.ndarray,
    temperature: float,
    rate_prefactor: float,
    *,
    stress_scale: float = 1.0,
    bath_elements: np.ndarray | None = None,
) -> np.ndarray:
    """S = P^-1/2 W P^1/2 on all D states: symmetric, negative semi-definite, S sqrt(p) = 0.

    W is the Pauli generator (W_mn = Gamma(n -> m) for m != n, W_nn = -sum_m Gamma(n -> m)),
    P = diag(p) the Boltzmann occupations; the eigenvalues of S are -1/tau_k (s^-1).
    Arguments as :func:`relaxation_modes` (energies and T in K, K_ph in s^-1 K^-3).
    Degenerate eigenspaces are first rotated as in :func:`resolve_degeneracies`.
    """
    eq = _MasterEquation(spectrum, stress_elements, rate_prefactor, stress_scale, bath_elements)
    p = boltzmann_weights(eq.energies, [v.positive("temperature", v.single("temperature", temperature))])[0]
    if np.any(p == 0):
        raise ValueError(f"temperature {temperature!r} K is too low for a symmetrised matrix over "
                         "all states (occupations underflow); use relaxation_modes")
    return -eq.generator(temperature, eq.energies.size, p)


def _options(method, frequencies, rtol, population_cutoff):
    v.choice("method", method, ("auto", "krylov", "dense"))
    v.positive("rtol", rtol)
    v.non_negative("population_cutoff", population_cutoff)
    if population_cutoff >= 1:
        raise ValueError(f"population_cutoff must be < 1, got {population_cutoff!r}")
    if frequencies is None:
        if method != "dense":
            raise ValueError(f"method={method!r} needs the frequencies (K) at which to converge")
        return None
    return v.positive_array("frequencies", frequencies)


def relaxation_modes(
    spectrum: Spectrum,
    stress_elements: np.ndarray,
    temperature: float,
    rate_prefactor: float,
    *,
    stress_scale: float = 1.0,
    bath_elements: np.ndarray | None = None,
    method: str = "auto",
    frequencies=None,
    rtol: float = 1e-10,
    population_cutoff: float = 1e-16,
) -> RelaxationModes:
    """Relaxation modes (rates and strain weights c_k^2) of the Pauli master equation at one T.

    Parameters
    ----------
    spectrum : Spectrum
        Energies E_n (K), ascending.
    stress_elements : numpy.ndarray, shape (D, D)
        T_mn (K per unit strain): its diagonal is the strain-induced level shift.
    temperature : float
        T (K), > 0.
    rate_prefactor : float
        K_ph (s^-1 K^-3), > 0.
    stress_scale : float
        gamma (K per unit strain), > 0; rates use (T_mn / gamma)^2.
    bath_elements : numpy.ndarray, optional
        Operator(s) (D, D) or (C, D, D) (K per unit strain) that couple to the phonons;
        default ``stress_elements``. Must be given in the eigenbasis after any degeneracy
        resolution (in practice: only for non-degenerate spectra).
    method : {"auto", "krylov", "dense"}
        Lanczos Gauss quadrature (converged at ``frequencies``), full eigendecomposition, or
        "auto": the eigendecomposition while at most ``KRYLOV_MIN_STATES`` states are kept (exact
        and cheaper there), the quadrature above.
    frequencies : array_like, optional
        w (K) at which the Krylov quadrature must have converged (required for "krylov" and
        "auto").
    rtol : float
        Relative convergence tolerance of the Krylov quadrature.
    population_cutoff : float
        Drop the highest states while together they hold less than this fraction of the excited
        population sum_{m>=1} p_m (0 keeps all).

    Returns
    -------
    RelaxationModes
    """
    w = _options(method, frequencies, rtol, population_cutoff)
    eq = _MasterEquation(spectrum, stress_elements, rate_prefactor, stress_scale, bath_elements)
    return eq.modes(temperature, method, w, rtol, population_cutoff)


def relaxation_susceptibility(
    spectrum: Spectrum,
    stress_elements: np.ndarray,
    frequencies,
    temperatures,
    rate_prefactor: float,
    **options,
) -> np.ndarray:
    """chi_rel(w, T) ((K per unit strain)^2 / K), complex, shape (n_T, n_w).

    Parameters
    ----------
    spectrum : Spectrum
        Energies (K).
    stress_elements : numpy.ndarray
        T_mn (K per unit strain), (D, D).
    frequencies : array_like
        w (K), > 0.
    temperatures : array_like
        T (K), > 0.
    rate_prefactor : float
        K_ph (s^-1 K^-3), > 0.
    **options
        ``stress_scale``, ``bath_elements``, ``method``, ``rtol``, ``population_cutoff`` as in
        :func:`relaxation_modes`.
    """
    t = v.positive_array("temperatures", temperatures)
    method = options.pop("method", "auto")
    rtol = options.pop("rtol", 1e-10)
    cutoff = options.pop("population_cutoff", 1e-16)
    w = _options(method, frequencies, rtol, cutoff)
    if w is None:
        raise ValueError("frequencies (K) are required")
    eq = _MasterEquation(spectrum, stress_elements, rate_prefactor,
                         options.pop("stress_scale", 1.0), options.pop("bath_elements", None))
    if options:
        raise TypeError(f"unknown option(s) {', '.join(sorted(options))}; valid: stress_scale, "
                        "bath_elements, method, rtol, population_cutoff")
    out = np.empty((t.size, w.size), dtype=np.complex128)
    omega = w * OMEGA_PER_KELVIN
    for i, temp in enumerate(t):
        modes = eq.modes(temp, method, w, rtol, cutoff)
        # RelaxationModes.susceptibility without re-validating w at every temperature
        out[i] = _quadrature(modes.rates, modes.weights, omega) / temp if modes.rates.size else 0.0
    return out


def _warn_if_no_stress(stress_elements, what: str) -> None:
    """As the resonant functions warn (a run warns at its preflight): T = 0 gave 0 silently (a
    tester, session 34)."""
    if not np.any(stress_elements):
        warnings.warn(f"stress_elements are all 0 (no stress operator): the {what} is exactly 0",
                      UserWarning, stacklevel=3)


def relaxation_absorption(spectrum, stress_elements, frequencies, temperatures, rate_prefactor,
                          normalisation: float = 1.0, **options) -> np.ndarray:
    """Q^-1_rel(w, T) = normalisation * Im chi_rel / pi, shape (n_T, n_w).

    With ``normalisation = absorption_normalisation(params)`` and
    ``stress_scale = params.stress.deformation_potential`` (gamma; the rates use t = T / gamma)
    the result is in units of pi*C0 as :func:`manybody.simulation.observe.observe` gives it
    (canonical ensemble: 1/2 for omega tau_min << 1); without ``stress_scale`` a model with
    gamma != 1 has its rates scaled by gamma^2 (3.3 times off at gamma = 2, a tester, session 26).

    Parameters
    ----------
    spectrum : Spectrum
        Energies E_n (K), ascending (as :func:`manybody.solve` returns them).
    stress_elements : numpy.ndarray, shape (D, D)
        T_mn (K per unit strain), real, finite and symmetric.
    frequencies : array_like, shape (n_w,)
        w = hbar omega (K), > 0.
    temperatures : array_like, shape (n_T,)
        T (K), > 0.
    rate_prefactor : float or str
        K_ph (s^-1 K^-3), > 0, or a preset bath name ("a-SiO2").
    normalisation : float
        Finite, > 0; ``absorption_normalisation(params)`` gives the units stated above.
    **options
        ``stress_scale`` (gamma, K per unit strain, > 0; default 1), ``bath_elements``,
        ``method``, ``rtol``, ``population_cutoff`` as in
        :func:`~manybody.simulation.observables.relaxation.relaxation_modes`.

    Returns
    -------
    numpy.ndarray, shape (n_T, n_w)
        Q^-1_rel (units of pi*C0 with the normalisation above).

    Warns
    -----
    FarAboveSpectrumWarning
        A frequency above ten times the widest line the stress drives in this spectrum (the
        rule of :func:`manybody.simulation.observables.absorption.absorption`): relaxation
        assumes hbar w << E, and the result there is ~0; most likely a unit mistake (w is in K:
        1 kHz is 4.8e-8 K, 1 GHz is 0.048 K). Temperatures all above twenty times that line
        (``FAR_ABOVE_TEMPERATURE``; most likely mK typed as K), as :func:`absorption`.

    Raises
    ------
    TypeError
        spectrum not a Spectrum; arrays or numbers of the wrong type; an unknown option.
    ValueError
        Energies not ascending; stress_elements not finite, real, symmetric or of shape (D, D);
        frequencies, temperatures, rate_prefactor, normalisation or stress_scale not finite
        and > 0; an unknown method.

    Source: docs/PHYSICS.md section 4 (Pauli master equation, Jaeckle relaxation).
    """
    normalisation = v.positive("normalisation", normalisation)
    chi = relaxation_susceptibility(spectrum, stress_elements, frequencies, temperatures,
                                    rate_prefactor, **options)
    _warn_if_no_stress(stress_elements, "relaxation absorption")
    _warn_if_far_above(spectrum, stress_elements, frequencies, temperatures, "relaxation_absorption")
    return relaxation_absorption_from(chi, normalisation)


def _warn_if_far_above(spectrum, stress_elements, frequencies, temperatures, name: str) -> None:
    """The unit-slip warnings of :func:`~manybody.simulation.observables.absorption.absorption`
    for a relaxation function (called after the arguments were checked): a frequency, or all
    temperatures, far above the widest line the stress drives (temperatures were not compared:
    50 typed for 50 mK beside lines of 0.2 K passed silently where the absorption warned; bt220
    F5)."""
    elements = np.asarray(stress_elements)
    widest = driven_line_scale(spectrum.energies, elements)
    warn_if_far_above_lines(spectrum, elements, np.ravel(frequencies), name, stacklevel=4,
                            widest=widest)
    warn_if_far_above_temperatures(np.ravel(temperatures), widest, "temperatures", "every line "
                                   "the stress drives in this spectrum (the widest is",
                                   stacklevel=4, factor=RELAXATION_FAR_ABOVE_TEMPERATURE)


def relaxation_velocity_shift(spectrum, stress_elements, frequencies, temperatures, rate_prefactor,
                              normalisation: float = 1.0, **options) -> np.ndarray:
    """Relaxation part of delta v / v = -(normalisation / 2) Re chi_rel, shape (n_T, n_w).

    Units of C0 with ``normalisation = absorption_normalisation(params)`` and
    ``stress_scale = params.stress.deformation_potential`` (as :func:`relaxation_absorption`;
    canonical ensemble: slope -3/2 in ln T for omega tau_min << 1).

    Parameters
    ----------
    spectrum, stress_elements, frequencies, temperatures, rate_prefactor, normalisation, **options
        As :func:`relaxation_absorption` (shapes, units, the values taken).

    Returns
    -------
    numpy.ndarray, shape (n_T, n_w)
        (delta v / v)_rel (units of C0 with the normalisation above).

    Warns
    -----
    FarAboveSpectrumWarning
        As :func:`relaxation_absorption`.

    Raises
    ------
    TypeError, ValueError
        As :func:`relaxation_absorption`.

    Source: docs/PHYSICS.md section 4 (Pauli master equation, Jaeckle relaxation).
    """
    normalisation = v.positive("normalisation", normalisation)
    chi = relaxation_susceptibility(spectrum, stress_elements, frequencies, temperatures,
                                    rate_prefactor, **options)
    _warn_if_no_stress(stress_elements, "relaxation velocity shift")
    _warn_if_far_above(spectrum, stress_elements, frequencies, temperatures, "relaxation_velocity_shift")
    return relaxation_velocity_shift_from(chi, normalisation)


def total_response(
    spectrum: Spectrum,
    stress_elements: np.ndarray,
    frequencies,
    temperatures,
    rate_prefactor: float,
    broadening: Broadening | None = None,
    normalisation: float = 1.0,
    **options,
) -> tuple[np.ndarray, np.ndarray]:
    """Resonant plus relaxation Q^-1 (units of pi*C0) and delta v / v (units of C0).

    Parameters as :func:`relaxation_susceptibility` plus ``broadening`` (line kernel of the
    resonant part) and ``normalisation`` (``absorption_normalisation(params)``).

    Returns
    -------
    absorption, velocity_shift : numpy.ndarray
        Each (n_T, n_w).
    """
    normalisation = v.positive("normalisation", normalisation)
    chi = relaxation_susceptibility(spectrum, stress_elements, frequencies, temperatures,
                                    rate_prefactor, **options)
    q = absorption(spectrum, stress_elements, frequencies, temperatures, broadening, normalisation)
    with warnings.catch_warnings():  # the absorption above said it for the same arguments
        warnings.simplefilter("ignore", FarAboveSpectrumWarning)
        dv = velocity_shift(spectrum, stress_elements, frequencies, temperatures, broadening,
                            normalisation)
    return (q + relaxation_absorption_from(chi, normalisation),
            dv + relaxation_velocity_shift_from(chi, normalisation))


def jackle_rate(asymmetry, tunnelling, temperature: float, rate_prefactor: float) -> np.ndarray:
    """tau^-1 = K_ph Delta^2 E coth(E / 2T) (s^-1) of independent TLS (Delta, eps, T in K)."""
    eps = v.real_array("asymmetry", asymmetry)
    delta = v.real_array("tunnelling", tunnelling, eps.shape)
    e = np.hypot(eps, delta)
    temperature = v.positive("temperature", v.single("temperature", temperature))
    prefactor = check_rate_prefactor("rate_prefactor", rate_prefactor)
    # E coth(E/2T) -> 2T as E -> 0 (the E = 0 TLS was 0/0 = NaN, a tester, session 34)
    with np.errstate(divide="ignore", invalid="ignore"):
        e_coth = np.where(e > 0, e / np.tanh(e / (2.0 * temperature)), 2.0 * temperature)
    return prefactor * delta**2 * e_coth
