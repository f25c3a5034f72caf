"""Saturation: the driven steady state of the one-phonon Pauli master equation.

PHYSICS.md section 8 (Saturation). A classical strain e0 cos(w t) couples the eigenstates through
H_drive = e0 cos(w t) T; the Rabi (angular) frequency of a pair is

    Omega_nm = e0 |T_mn| k_B / hbar    (T_mn in K per unit strain, e0 dimensionless, Omega in s^-1).

In the rate-equation (incoherent) limit the drive adds symmetric transition rates (s^-1)

    W_nm = (pi/2) Omega_nm^2 [g(w - w_nm) + g(w + w_nm)],   w_nm = |E_m - E_n| (K),

to the phonon rates Gamma of :func:`.relaxation.transition_rates`, with g the homogeneous line
(1/K, unit area) of the pair. The Lorentzian line has the half width eta_nm = hbar / (k_B T2_nm)
(K), with

    1 / T2_nm = (Gamma_n^out + Gamma_m^out) / 2 + gamma_phi    (s^-1),

the half sum of the two states' total phonon out-rates plus an optional pure-dephasing rate; on
resonance this is W = (Omega^2/2) T2 / (1 + delta^2 T2^2), which reproduces the Bloch steady state
population exactly (PHYSICS.md section 8). The Gaussian line (standard deviation eta_nm) stands in
for a line broadened by something else than a Markovian dephasing; the rate equations then no
longer match the Bloch equations (their on-resonance saturation parameter is sqrt(pi/2) times
larger). The second term of W is the counter-rotating (emission) partner, of relative size
(eta / 2w)^2 near resonance; ``counter_rotating=False`` drops it (the rotating-wave Bloch limit).

The steady state p solves (Gamma + W - diag(out-rates)) p = 0, sum p = 1, one dense LU per drive
amplitude (:func:`scipy.linalg.lu_factor`), written for the deviation d = p - p_eq from the Boltzmann
occupations so that e0 -> 0 is exact (d ~ e0^2). The absorbed power and Q^-1 follow from the
net number of absorbed quanta:

    chi_sat = sum_{E_m > E_n} (p_n - p_m) |T_mn|^2 [g(w - w_mn) - g(w + w_mn)]     (K^2 / K),
    Q^-1 = normalisation * chi_sat   (units of pi*C0, as the linear absorption),
    P_abs = w (pi/2) e0^2 (k_B / hbar) chi_sat   (K s^-1, i.e. W / k_B, per realisation),

so at e0 -> 0 Q^-1 is the golden-rule absorption with the Lorentzian kernel of the pair widths.

Validity. The rate equations need the coherence of a driven pair to follow the populations:
W and Omega small against the pair's dephasing rate 1/T2, or a Lorentzian (Markovian) line, for
which one isolated pair is exact at any Omega; and driven lines that share a level must be
separated by more than their widths and than Omega (otherwise two-photon coherences, which the
Pauli equation drops, matter). Degenerate levels are first rotated as in
:func:`.relaxation.resolve_degeneracies`.

Phonon-limited widths of many TLS. 1/T2_nm counts every phonon flip out of m or n, flips of
other TLS too. Where those TLS are weakly coupled, such a flip carries the coherence to a pair of
the same Bohr frequency (coherence transfer, which the secular Pauli equation drops) instead of
destroying it: the line comes out too wide, by the spectators' rates. At K = 0 two TLS at
gamma_phi = 0 gave Q^-1 18 % below the sum of the two TLS's own Bloch results (a tester, bt220
F1), 1 % at gamma_phi = 1e5 s^-1 against phonon rates of ~6e3 s^-1; a glass's pure dephasing
(spectral diffusion, 1e8-1e9 s^-1) makes it negligible. :func:`saturated_absorption` warns
(:class:`PhononLimitedWidthWarning`) where flips to other states than a line's own make more
than :data:`PHONON_WIDTH_FRACTION` of the width of the lines it drives.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy.linalg import lu_factor, lu_solve

from manybody.config.probe import check_drive_amplitudes, check_drive_line
from manybody.simulation.observables.absorption import (
    driven_line_scale,
    warn_if_far_above_lines,
    warn_if_far_above_temperatures,
)
from manybody.simulation.observables.relaxation import (
    OMEGA_PER_KELVIN,
    check_rate_prefactor,
    check_stress_elements,
    resolve_degeneracies,
    transition_rates,
)
from manybody.simulation.observables.thermo import boltzmann_weights
from manybody.support import validate as v

#: Homogeneous line shapes of the drive rates.
LINE_SHAPES = ("lorentzian", "gaussian")

#: Driven lines narrower than this fraction of the mean level spacing (E_max - E_0) / (D - 1) make
#: the saturated Q^-1 a comb of isolated lines (warned by :func:`saturation_responses`).
NARROW_LINE = 1e-3


def drive_amplitudes(amplitudes) -> np.ndarray:
    """Validated strain amplitudes e0 (dimensionless), shape (A,): finite, >= 0, at most
    ``MAX_STRAIN_AMPLITUDE`` (1) and each given once, as :class:`SaturationDrive` checks them
    (:func:`~manybody.config.probe.check_drive_amplitudes`).

    Raises
    ------
    ValueError
        Empty, non-finite, negative, too large or repeated entries, naming the value.
    """
    return check_drive_amplitudes("amplitudes", amplitudes)


def dephasing_rates(rates: np.ndarray, dephasing_rate: float = 0.0) -> np.ndarray:
    """1/T2_nm = (Gamma_n^out + Gamma_m^out)/2 + gamma_phi (s^-1), shape (D, D).

    Parameters
    ----------
    rates : numpy.ndarray, shape (D, D)
        Phonon rates Gamma[m, n] = Gamma(n -> m) (s^-1), zero diagonal.
    dephasing_rate : float
        Pure-dephasing rate gamma_phi (s^-1), >= 0.
    """
    gamma_phi = v.non_negative("dephasing_rate", dephasing_rate)
    out = rates.sum(axis=0)
    return 0.5 * (out[:, None] + out[None, :]) + gamma_phi


def line_shape(detuning: np.ndarray, width: np.ndarray, line: str = "lorentzian") -> np.ndarray:
    """Normalised homogeneous line g(detuning) (1/K).

    Parameters
    ----------
    detuning : numpy.ndarray
        w - w_mn (K).
    width : numpy.ndarray
        eta = hbar / (k_B T2) (K), > 0, broadcastable: the Lorentzian's half width at half maximum,
        the Gaussian's standard deviation.
    line : {"lorentzian", "gaussian"}
    """
    if line == "lorentzian":
        return (width / math.pi) / (detuning * detuning + width * width)
    if line == "gaussian":
        return np.exp(-0.5 * (detuning / width) ** 2) / (width * math.sqrt(2.0 * math.pi))
    raise ValueError(f"line must be one of {', '.join(LINE_SHAPES)}, got {v._describe(line)}")


def _pair_lines(energies, frequency, widths, line, counter_rotating):
    """(resonant + counter-rotating, resonant - counter-rotating) line factors (1/K), (D, D),
    with zero diagonal."""
    gap = np.abs(energies[None, :] - energies[:, None])
    with np.errstate(divide="ignore", invalid="ignore"):
        up = line_shape(frequency - gap, widths, line)
        down = line_shape(frequency + gap, widths, line) if counter_rotating else 0.0 * up
    total, net = up + down, up - down
    for m in (total, net):
        m[~np.isfinite(m)] = 0.0
        np.fill_diagonal(m, 0.0)
    return total, net


def steady_states(rates: np.ndarray, unit_drive: np.ndarray, equilibrium: np.ndarray,
                  scales) -> np.ndarray:
    """Steady states of dp/dt = (Gamma + s W1) p - (out-rates) p, sum p = 1, for each s, (S, D).

    Solved for d = p - p_eq with one row (that of the most populated state) replaced by the
    normalisation sum d = 0: one dense LU per s (:func:`scipy.linalg.lu_factor`;
    ``scipy.linalg.solve`` adds a condition estimate that costs ~40 % more at D = 1024). The
    generators are assembled once; each s costs two passes over D x D plus the LU.

    Parameters
    ----------
    rates : numpy.ndarray, shape (D, D)
        Phonon rates Gamma[m, n] = Gamma(n -> m) (s^-1); ``equilibrium`` must be their
        stationary state.
    unit_drive : numpy.ndarray, shape (D, D)
        Symmetric drive rates W1 (s^-1) at s = 1 (here W / e0^2, so s = e0^2).
    equilibrium : numpy.ndarray, shape (D,)
        Boltzmann occupations p_eq.
    scales : array_like, shape (S,)
        s >= 0 (s = 0 gives p_eq).
    """
    phonon = rates - np.diag(rates.sum(axis=0))
    drive = unit_drive - np.diag(unit_drive.sum(axis=0))
    source = drive @ equilibrium  # (G_phonon + s G_drive) p_eq = s * source
    k = int(np.argmax(equilibrium))
    scales = np.atleast_1d(np.asarray(scales, dtype=np.float64))
    out = np.empty((scales.size, equilibrium.size))
    for i, scale in enumerate(scales):
        if scale == 0:
            out[i] = equilibrium
            continue
        generator = np.multiply(drive, scale)
        generator += phonon
        generator[k, :] = 1.0
        rhs = -scale * source
        rhs[k] = 0.0
        factors = lu_factor(generator, overwrite_a=True, check_finite=False)
        out[i] = equilibrium + lu_solve(factors, rhs, overwrite_b=True, check_finite=False)
    return out


def _check(energies, stress_elements, frequency, dephasing_rate, line):
    energies = v.real_array("energies", energies)
    if energies.ndim != 1 or energies.size < 2:
        raise ValueError(f"energies must be a 1-d array of at least 2 levels, got shape "
                         f"{energies.shape}")
    if np.any(np.diff(energies) < 0):
        raise ValueError("energies must be in ascending order (as the dense solver returns them)")
    dim = energies.size
    # real, finite and symmetric as the relaxation functions check them: complex elements were
    # cast with numpy's warning only (a helper, session 36)
    elements = np.asarray(check_stress_elements("stress_elements", stress_elements, dim),
                          dtype=np.float64)
    if elements.shape != (dim, dim):
        raise ValueError(f"stress_elements must have shape ({dim}, {dim}) to match the energies, "
                         f"got {elements.shape}")
    # SaturationDrive's rules (bt211 F5), but for phonon-limited Lorentzian widths: one TLS's
    # T2 = 2 T1 is the Bloch limit the tests check (a pair without any width is refused below)
    gamma_phi, _ = check_drive_line("", dephasing_rate, line, require_dephasing=False)
    return energies, elements, v.positive("frequency", v.single("frequency", frequency)), gamma_phi


#: Largest share of the driven lines' widths that flips to other states than the line's own may
#: make in a spectrum of more than two levels before :func:`saturated_absorption` warns that
#: spectators' flips are counted as dephasing (the module docstring; bt220 F1).
PHONON_WIDTH_FRACTION = 0.1


class PhononLimitedWidthWarning(UserWarning):
    """The driven lines of a many-level spectrum are phonon-limited: their 1/T2 counts flips of
    other (weakly coupled) TLS as dephasing, which for independent TLS they are not (no coherence
    transfer in the Pauli equation; module docstring). Give the pure dephasing rate."""


def saturated_absorption(
    energies,
    stress_elements,
    frequency: float,
    temperature: float,
    amplitudes,
    rate_prefactor: float,
    *,
    stress_scale: float = 1.0,
    dephasing_rate: float = 0.0,
    line: str = "lorentzian",
    normalisation: float = 1.0,
    counter_rotating: bool = True,
) -> dict[str, np.ndarray]:
    """Driven steady state, absorbed power and Q^-1 at one frequency and temperature.

    Parameters
    ----------
    energies : array_like, shape (D,)
        Eigenvalues E_n (K), ascending.
    stress_elements : array_like, shape (D, D)
        T_mn (K per unit strain): it couples both the drive and the phonons.
    frequency : float
        Drive w = hbar omega / k_B (K), > 0.
    temperature : float
        T (K), > 0. Each of the two may be an array of one element (taken as its number); a
        longer one is refused (call once per value).
    amplitudes : array_like, shape (A,)
        Strain amplitudes e0 (dimensionless), finite, >= 0; Omega_nm = e0 |T_mn| k_B / hbar.
    rate_prefactor : float
        K_ph (s^-1 K^-3) of the phonon bath, > 0 (no drive without a bath: nothing would relax).
    stress_scale : float
        gamma (K per unit strain) of the phonon rates' (T_mn / gamma)^2.
    dephasing_rate : float
        Pure-dephasing rate gamma_phi (s^-1), >= 0, added to every pair's 1/T2. Unlike
        :class:`~manybody.config.probe.SaturationDrive`, 0 is accepted with the Lorentzian line
        (phonon-limited widths of one given spectrum, e.g. one TLS's T2 = 2 T1, exact). With
        more than two levels, phonon-limited widths count other TLS's flips as dephasing (module
        docstring): exact only where those flips change the line's frequency by more than its
        width; warned (PhononLimitedWidthWarning).
    line : {"lorentzian", "gaussian"}
        Line shape g of width eta_nm = hbar / (k_B T2_nm) (module docstring).
    normalisation : float
        Finite, > 0; ``absorption_normalisation(params)``: Q^-1 in units of pi*C0.
    counter_rotating : bool
        Keep the counter-rotating term g(w + w_nm) (False: rotating-wave limit).

    Returns
    -------
    dict
        "absorption": Q^-1 (A,) in units of pi*C0 (``normalisation`` times chi_sat);
        "power": absorbed power P_abs (A,) in K s^-1 per realisation;
        "populations": steady-state p (A, D);
        "linear": Q^-1 at e0 -> 0 (scalar array), the Lorentzian/Gaussian golden rule;
        "dephasing": 1/T2_nm (D, D) in s^-1.

    Raises
    ------
    ValueError
        Bad shapes, non-finite or non-symmetric stress elements, negative, non-finite or
        repeated amplitudes, a non-positive K_ph, frequency, temperature or normalisation, an
        unknown line, a negative dephasing rate, or a pair with no dephasing at all (1/T2 = 0)
        when the line needs a width.
    TypeError
        Complex stress elements.

    Warns
    -----
    FarAboveSpectrumWarning
        The frequency more than ten times above the widest line the stress drives, or the
        temperature more than twenty times (``FAR_ABOVE_TEMPERATURE``) above it (as
        :func:`absorption` warns): most likely GHz or mK typed as K.
    PhononLimitedWidthWarning
        More than two levels, and flips to other states than a line's own make more than
        :data:`PHONON_WIDTH_FRACTION` of the widths of the lines that carry the linear
        absorption (weighted by their share).
    """
    rate_prefactor = check_rate_prefactor("rate_prefactor", rate_prefactor)
    energies, elements, w, gamma_phi = _check(energies, stress_elements, frequency,
                                              dephasing_rate, line)
    # NaN, -1 and 0 gave NaN, negative and zero Q^-1 silently (a helper, session 36)
    normalisation = v.positive("normalisation", normalisation)
    e0 = drive_amplitudes(amplitudes)
    temperature = v.positive("temperature", v.single("temperature", temperature))
    # the probe layer's unit checks (observe and a run's preflight warn per model; bt211 F5)
    widest = driven_line_scale(energies, elements)
    warn_if_far_above_lines(energies, elements, np.array([w]), "saturation", stacklevel=3,
                            widest=widest)
    warn_if_far_above_temperatures(temperature, widest, "temperature", "every line the stress "
                                   "drives in this spectrum (the widest is", stacklevel=3)
    result, rates = _steady_state(energies, elements, w, temperature, e0, rate_prefactor,
                                  stress_scale, gamma_phi, line, normalisation, counter_rotating)
    if energies.size > 2:
        _warn_if_phonon_limited(energies, elements, w, rates, result["dephasing"], gamma_phi,
                                line)
    return result


def _warn_if_phonon_limited(energies, elements, w, rates, inverse_t2, gamma_phi, line) -> None:
    """Warn (:class:`PhononLimitedWidthWarning`) when the flips out of a driven pair's two
    states to other states than each other (other TLS's, for weakly coupled TLS) make more than
    :data:`PHONON_WIDTH_FRACTION` of the widths of the lines driven at ``w``, each line weighted
    by |T_mn|^2 g(w - w_mn). A pair's own relaxation (m <-> n) is its Bloch T1, not counted: a
    TLS beside one that never flips was warned about, its Q^-1 right to 4 digits (bt224 F4a)."""
    total, _ = _pair_lines(energies, w, inverse_t2 / OMEGA_PER_KELVIN, line, False)
    weight = np.square(elements) * total
    if not np.any(weight > 0) or not np.all(np.isfinite(weight)):
        return
    out = rates.sum(axis=0)  # rates[m, n] = Gamma(n -> m)
    others = 0.5 * (out[:, None] + out[None, :] - rates - rates.T)
    spectators = np.clip(others, 0.0, None) / np.where(inverse_t2 > 0, inverse_t2, 1.0)
    share = float(np.sum(weight * spectators) / np.sum(weight))
    if share > PHONON_WIDTH_FRACTION:
        warnings.warn(
            f"flips to other states than the line's own make {share:.0%} of the widths of the "
            f"driven lines (dephasing_rate={gamma_phi:g} s^-1): with {energies.size} levels each "
            "line's 1/T2 counts the flips of other TLS as dephasing, which for weakly coupled "
            "TLS they are not (the Pauli equation has no coherence transfer): the lines come out "
            "too wide (two independent TLS at dephasing_rate=0: Q^-1 18 % low); give the pure "
            "dephasing rate (a glass's spectral diffusion, e.g. 1e8-1e9 s^-1)",
            PhononLimitedWidthWarning, stacklevel=3)


def _steady_state(energies, elements, w, temperature, e0, rate_prefactor, stress_scale,
                  gamma_phi, line, normalisation, counter_rotating
                  ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """:func:`saturated_absorption` on checked arguments, without its warnings (which
    :func:`saturation_responses` leaves to the model-level checks of observe and the run), and
    the phonon rates (D, D) it used (for the spectator warning, not computed twice)."""
    elements = resolve_degeneracies(energies, elements)
    rates = transition_rates(energies, elements, temperature, rate_prefactor,
                             stress_scale=stress_scale)
    inverse_t2 = dephasing_rates(rates, gamma_phi)
    off = ~np.eye(energies.size, dtype=bool)
    if np.any(inverse_t2[off] <= 0):
        raise ValueError("dephasing_rate must be > 0 here: some pairs have no phonon rates at all "
                         "(1/T2 = 0), so their line has no width")
    widths = inverse_t2 / OMEGA_PER_KELVIN
    total, net = _pair_lines(energies, w, widths, line, counter_rotating)
    t2 = np.square(elements)
    unit_drive = (0.5 * math.pi * OMEGA_PER_KELVIN) * t2 * total  # W / e0^2 (s^-1)
    absorbing = np.triu(t2 * net, 1)  # [n, m], E_m > E_n: |T_mn|^2 [g(w - w_mn) - g(w + w_mn)]
    p_eq = boltzmann_weights(energies, [temperature])[0]
    populations = steady_states(rates, unit_drive, p_eq, e0**2)
    chi = np.einsum("an,nm->a", populations, absorbing) - np.einsum("am,nm->a", populations,
                                                                    absorbing)
    chi_linear = p_eq @ absorbing.sum(axis=1) - p_eq @ absorbing.sum(axis=0)
    return {
        "absorption": normalisation * chi,
        "power": w * (0.5 * math.pi * OMEGA_PER_KELVIN) * e0**2 * chi,
        "populations": populations,
        "linear": np.asarray(normalisation * chi_linear),
        "dephasing": inverse_t2,
    }, rates


def saturation_responses(
    energies,
    stress_elements,
    frequencies,
    temperatures,
    amplitudes,
    rate_prefactor: float,
    *,
    stress_scale: float = 1.0,
    dephasing_rate: float = 0.0,
    line: str = "lorentzian",
) -> np.ndarray:
    """Raw saturated absorption chi_sat (K^2/K) of one realisation, shape (n_T, n_w, A).

    Q^-1 = normalisation * chi_sat (units of pi*C0; responses.py). Arguments as
    :func:`saturated_absorption`; frequencies w (K) and temperatures T (K) > 0.
    """
    w = v.positive_array("frequencies", frequencies)
    t = v.positive_array("temperatures", temperatures)
    e0 = drive_amplitudes(amplitudes)
    rate_prefactor = check_rate_prefactor("rate_prefactor", rate_prefactor)
    levels_checked, elements, _, gamma_phi = _check(energies, stress_elements, float(w[0]),
                                                    dephasing_rate, line)
    out = np.empty((t.size, w.size, e0.size))
    widest, narrowest, widest_coupled = 0.0, math.inf, 0.0
    magnitude = np.abs(np.asarray(stress_elements, dtype=np.float64))
    coupled = magnitude > 1e-12 * max(float(magnitude.max(initial=0.0)), 1e-300)
    np.fill_diagonal(coupled, False)
    for i, temp in enumerate(t):
        for j, freq in enumerate(w):
            result, _ = _steady_state(levels_checked, elements, freq, temp, e0, rate_prefactor,
                                      stress_scale, gamma_phi, line, 1.0, True)
            out[i, j] = result["absorption"]
            widths = np.asarray(result["dephasing"]) / OMEGA_PER_KELVIN
            widest = max(widest, float(np.max(widths)))
            if coupled.any():  # the lines of the pairs the drive couples
                narrowest = min(narrowest, float(np.min(widths[coupled])))
                widest_coupled = max(widest_coupled, float(np.max(widths[coupled])))
    if narrowest > float(np.max(w)):
        # dephasing_rate = 1e20 s^-1, or K_ph given in SI units (1.8e76): lines of 1e8 K, every
        # value ~0 at every amplitude and nothing said so (a tester, session 26)
        warnings.warn(
            f"saturation: every transition's line is wider than the probe frequency (narrowest "
            f"half width {narrowest:.3g} K > w = {float(np.max(w)):.3g} K): the drive is resonant "
            f"with nothing; check dephasing_rate={dephasing_rate:g} s^-1 and the phonon rate "
            f"prefactor K_ph={rate_prefactor:.3g} s^-1 K^-3 (a-SiO2: 4.9e7)", RuntimeWarning,
            stacklevel=2)
    levels = np.asarray(energies, dtype=float)
    spacing = float(np.ptp(levels)) / max(1, levels.size - 1)
    if not np.any(out) and np.any(np.asarray(stress_elements)) and widest < 1e-3 * spacing:
        # a Gaussian line with phonon-limited widths (micro-kelvin) reaches no transition of a
        # finite system: every value was exactly 0 and nothing said so (session 25); a line of
        # ordinary width that misses every transition (one TLS far from w) is not warned about
        warnings.warn(
            f"saturation: the absorption is exactly 0 at every temperature, frequency and "
            f"amplitude: no transition lies within the {line} line of the probe frequencies "
            f"(widest line width {widest:.3g} K, 1/T2 from the phonon rates"
            + (f" plus dephasing_rate={dephasing_rate:g} s^-1" if dephasing_rate else
               " alone") + "); give probe.saturation.dephasing_rate (e.g. 1e9 s^-1 = 7.6 mK)",
            RuntimeWarning, stacklevel=2)
    elif coupled.any() and widest_coupled < NARROW_LINE * spacing:
        # dephasing_rate = 1e-30 s^-1, or the 7.6 mK width typed in K (0.0076 s^-1), left the
        # lines phonon-limited: a comb of isolated lines, Q^-1 100-10000x small and no saturation
        # at all, where 0 is refused (a helper, session 36)
        warnings.warn(
            f"saturation: every driven line is narrower than {NARROW_LINE:g} of the mean level "
            f"spacing (widest half width {widest_coupled:.3g} K, spacing {spacing:.3g} K; "
            f"dephasing_rate={dephasing_rate:g} s^-1): Q^-1 at a fixed frequency is a comb of "
            "isolated lines that the probe frequencies mostly miss; give the pure-dephasing "
            "rate in s^-1 (1e9 s^-1 = 7.6 mK)", RuntimeWarning, stacklevel=2)
    return out


def warn_if_beyond_rotating_wave(model, probe) -> None:
    """Warn when the strongest drive's Rabi energy e0 gamma (K; a symmetric TLS has
    |T_mn| = gamma) exceeds the lowest probe frequency: the steady state of section 8 is that of
    the rotating-wave Bloch equations, which need Omega << w (strain amplitudes of 1 and 1000
    were taken silently; a tester, session 26). Also warns (:class:`PhononLimitedWidthWarning`)
    of a drive without pure dephasing on more than one TLS or a random block, whose line widths
    then count other TLS's flips as dephasing. Called once per sweep point by the preflight
    (:func:`manybody.runs.spec.check_point`); ``model`` a ModelParams, ``probe`` a Probe."""
    drive = probe.saturation
    if drive is None or "saturation" not in probe.observables:
        return
    rabi = max(drive.amplitudes) * model.stress.deformation_potential
    lowest = min(probe.frequencies)
    if rabi > lowest:
        warnings.warn(
            f"probe.saturation.amplitudes up to e0 = {max(drive.amplitudes):g} give a Rabi energy "
            f"e0 gamma up to {rabi:.3g} K (gamma = stress.deformation_potential = "
            f"{model.stress.deformation_potential:g} K per unit strain), above the probe frequency "
            f"{lowest:g} K: beyond the rotating-wave steady state (docs/PHYSICS.md section 8); "
            "acoustic strains are 1e-9-1e-4", UserWarning, stacklevel=2)
    if drive.dephasing_rate == 0 and (model.n_tls > 1 or (model.random_matrix is not None
                                                          and model.random_matrix.weight > 0)):
        # the run's form of saturated_absorption's PhononLimitedWidthWarning (bt220 F1): a
        # Gaussian line takes dephasing_rate = 0, and its widths are then the phonon rates
        warnings.warn(
            f"probe.saturation.dephasing_rate = 0 with line = {drive.line!r}: each line's width "
            "is then the phonon rates of its two states, which count the flips of other TLS as "
            "dephasing (no coherence transfer in the Pauli equation; lines too wide for weakly "
            "coupled TLS); give the pure dephasing rate (e.g. 1e9 s^-1 = 7.6 mK)",
            PhononLimitedWidthWarning, stacklevel=2)


def critical_amplitude(frequency: float, temperature: float, rate_prefactor: float, *,
                       dephasing_rate: float = 0.0, stress_scale: float = 1.0) -> float:
    """Strain amplitude e0_c at which a resonant symmetric TLS (Delta = E = w) has Omega^2 T1 T2 = 1.

    With Omega = e0 gamma k_B / hbar, 1/T1 = K_ph w^3 coth(w / 2T) (Jackle) and
    1/T2 = 1/(2 T1) + gamma_phi: P / Pc = (e0 / e0_c)^2 is the argument of
    :func:`independent_tls_saturation` ("pure": Omega^2 T1 does not depend on Delta, so it holds for
    every resonant TLS when gamma_phi >> 1/T1; "phonon": gamma_phi = 0, s_1 of the symmetric TLS).

    Parameters
    ----------
    frequency, temperature : float
        w and T (K), > 0.
    rate_prefactor : float
        K_ph (s^-1 K^-3), > 0.
    dephasing_rate : float
        gamma_phi (s^-1), >= 0.
    stress_scale : float
        gamma (K per unit strain), > 0: T_01 = gamma Delta / E.

    Returns
    -------
    float
        e0_c (dimensionless strain).
    """
    w = v.positive("frequency", v.single("frequency", frequency))
    t = v.positive("temperature", v.single("temperature", temperature))
    prefactor = check_rate_prefactor("rate_prefactor", rate_prefactor)
    gamma_phi = v.non_negative("dephasing_rate", dephasing_rate)
    rabi_per_strain = v.positive("stress_scale", stress_scale) * OMEGA_PER_KELVIN
    try:
        inverse_t1 = prefactor * w**3 / math.tanh(0.5 * w / t)
        inverse_t2 = 0.5 * inverse_t1 + gamma_phi
        value = math.sqrt(inverse_t1) * math.sqrt(inverse_t2) / rabi_per_strain
    except (OverflowError, ZeroDivisionError):  # w / T underflows tanh to 0 (w = 1e-300, T = 1e300)
        value = math.inf
    if math.isfinite(value) and value > 0:  # 0: w^3 underflowed (w = 1e-120 K)
        return value
    # in logarithms: w^3 and the product of the two rates overflowed (inf at T = 1e300 K, a bare
    # OverflowError at w = 1e200 K; a helper, session 36), where e0_c itself may be representable
    half_x = 0.5 * w / t
    log_tanh = (math.log(math.tanh(half_x)) if half_x > 1e-8 else  # tanh(y) = y below 1e-8
                math.log(0.5) + math.log(w) - math.log(t))
    log_t1 = math.log(prefactor) + 3.0 * math.log(w) - log_tanh
    log_half_t1 = math.log(0.5) + log_t1
    log_t2 = (log_half_t1 if gamma_phi == 0 else max(log_half_t1, math.log(gamma_phi))
              + math.log1p(math.exp(-abs(log_half_t1 - math.log(gamma_phi)))))
    log_e0 = 0.5 * (log_t1 + log_t2) - math.log(rabi_per_strain)
    if log_e0 >= math.log(np.finfo(float).max):
        raise ValueError(f"critical_amplitude: e0_c overflows a float (log e0_c = {log_e0:.4g}) at "
                         f"frequency={w:g} K, temperature={t:g} K")
    return math.exp(log_e0)


def independent_tls_saturation(power_ratio, dephasing: str = "pure") -> np.ndarray:
    """Q^-1(P) / Q^-1(0) of the canonical independent-TLS ensemble (flat detunings, P(Delta) ~ 1/Delta).

    Parameters
    ----------
    power_ratio : array_like
        P / Pc >= 0: the on-resonance saturation parameter Omega^2 T1 T2 of a resonant TLS
        ("pure") or of the symmetric resonant TLS, Delta = E ("phonon").
    dephasing : {"pure", "phonon"}
        "pure": T2 independent of Delta (pure dephasing dominates): 1 / sqrt(1 + P/Pc).
        "phonon": T2 = 2 T1 from the phonon rates, s(Delta) = (P/Pc) (E/Delta)^2, averaged over
        Delta with the absorption weight (Delta/E)^2 P(Delta | E):
        sqrt(1 + s) E(m) - s K(m) / sqrt(1 + s), m = 1 / (1 + s), s = P/Pc (complete elliptic
        integrals of parameter m; PHYSICS.md section "Saturation"), computed as
        (1 - m) R_D(0, 1, 1 - m) / (3 sqrt(1 + s)) (Carlson's form, DLMF 19.25.1: no
        cancellation); -> pi / (4 sqrt(s)) at s >> 1.

    Returns
    -------
    numpy.ndarray
        Q^-1(P) / Q^-1(0), the shape of ``power_ratio``, in (0, 1].

    Raises
    ------
    TypeError
        power_ratio not real numbers.
    ValueError
        power_ratio negative; unknown dephasing.
    """
    s = v.real_array("power_ratio", power_ratio)  # a bool, a string: named (a tester, session 34)
    if np.any(s < 0):
        raise ValueError(f"power_ratio must be >= 0 (P / Pc), got {power_ratio!r}")
    v.choice("dephasing", dephasing, ("pure", "phonon"))
    if dephasing == "pure":
        return 1.0 / np.sqrt(1.0 + s)
    from scipy.special import ellipe, ellipkm1, elliprd

    # sqrt(1 + s) E(m) - s K(m) / sqrt(1 + s) = (1 - m) R_D(0, 1, 1 - m) / (3 sqrt(1 + s)) with
    # Carlson's R_D (DLMF 19.25.1): the difference of E and K lost every digit at s > 1e12 and
    # went negative at 1e16 (a tester, session 38); the product has no cancellation there, but
    # R_D(0, 1, 1 - m) overflows as 1 - m -> 0 (inf at s < 1e-308), where the E, K form is exact
    m = 1.0 / (1.0 + s)
    complement = s / (1.0 + s)  # 1 - m
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        large = complement * elliprd(0.0, 1.0, complement) / (3.0 * np.sqrt(1.0 + s))
        # K(m) as ellipkm1(1 - m): m = 1/(1 + s) rounds to 1 below s ~ 1e-16, where K is inf
        small = np.sqrt(1.0 + s) * ellipe(m) - s * ellipkm1(complement) / np.sqrt(1.0 + s)
    return np.where(s == 0, 1.0, np.where(s >= 1.0, large, small))
