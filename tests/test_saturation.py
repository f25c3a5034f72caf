"""Saturation: driven steady state of the Pauli master equation (PHYSICS.md section 8, docs
"Saturation").

Organised by physics: one TLS against the Bloch equations (on and off resonance, any drive, and
where a Gaussian line differs); small systems against the Lindblad steady state (where the rate
equations hold and where two-photon coherence breaks them); exact limits (e0 -> 0 is the linear
golden rule with the Lorentzian kernel of the pair widths; the canonical ensemble's
1/sqrt(1 + P/Pc) with Delta-independent T2 and the elliptic law with T2 = 2 T1; a truncated
harmonic ladder that does not saturate until its top is reached); energy balance; bad input.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from manybody.config.probe import Broadening
from manybody.simulation.observables.absorption import absorption
from manybody.simulation.observables.coherent import bloch_steady_state, lindblad_steady_state
from manybody.simulation.observables.relaxation import (
    OMEGA_PER_KELVIN,
    jackle_rate,
    transition_rates,
)
from manybody.simulation.observables.saturation import (
    critical_amplitude,
    independent_tls_saturation,
    saturated_absorption,
    saturation_responses,
)
from manybody.simulation.spectrum import Spectrum

K_PH = 1e7  # s^-1 K^-3


def _tls(eps, delta):
    """Energies and T_mn (gamma = 1) of one TLS in its eigenbasis."""
    e = math.hypot(eps, delta)
    return np.array([-0.5 * e, 0.5 * e]), np.array([[-eps / e, delta / e], [delta / e, eps / e]])


def _two_tls(eps1, d1, eps2, d2, coupling):
    z, x, one = np.diag([1.0, -1.0]), np.array([[0.0, 1.0], [1.0, 0.0]]), np.eye(2)
    h = 0.5 * (eps1 * np.kron(z, one) + d1 * np.kron(x, one) + eps2 * np.kron(one, z)
               + d2 * np.kron(one, x)) + coupling * np.kron(z, z)
    e, vecs = np.linalg.eigh(h)
    return e, vecs.T @ (np.kron(z, one) + np.kron(one, z)) @ vecs


def _tls_times(eps, delta, temperature, dephasing):
    t1 = 1.0 / float(jackle_rate(eps, delta, temperature, K_PH))
    return t1, 1.0 / (0.5 / t1 + dephasing)


# ------------------------------------------------------------------ one TLS: Bloch equations

@pytest.mark.parametrize("detuning_widths", [0.0, 0.7, 3.0])
@pytest.mark.parametrize("dephasing", [0.0, 1e6])
def test_single_tls_rate_equations_give_the_bloch_steady_state(detuning_widths, dephasing):
    eps, delta, temperature = 0.6, 0.8, 0.5
    energies, t = _tls(eps, delta)
    t1, t2 = _tls_times(eps, delta, temperature, dephasing)
    w = 1.0 - detuning_widths / (t2 * OMEGA_PER_KELVIN)  # E = 1 K
    amps = np.array([0.0, 3e-6, 3e-5, 3e-4])
    out = saturated_absorption(energies, t, w, temperature, amps, K_PH,
                               dephasing_rate=dephasing, counter_rotating=False)
    rabi = amps * (delta / 1.0) * OMEGA_PER_KELVIN
    pol = math.tanh(0.5 / temperature)
    det = (1.0 - w) * OMEGA_PER_KELVIN
    bloch = np.array([bloch_steady_state(det, om, t1, t2, pol) for om in rabi])
    difference = out["populations"][:, 0] - out["populations"][:, 1]
    np.testing.assert_allclose(difference, bloch[:, 2], rtol=1e-9)
    # the Bloch formula itself, and a real range of saturation (not a test that cannot fail)
    s = rabi**2 * t1 * t2 / (1.0 + (det * t2) ** 2)
    np.testing.assert_allclose(difference, pol / (1.0 + s), rtol=1e-9)
    assert difference[-1] < 0.5 * pol
    # absorbed power: quanta up per second from the Bloch coherence, -Omega v / 2
    quanta = -rabi * bloch[:, 1] / 2.0
    np.testing.assert_allclose(out["power"], w * quanta, rtol=1e-8, atol=1e-300)


def test_single_tls_on_resonance_saturation_factor():
    """Q^-1(e0)/Q^-1(0) = 1/(1 + Omega^2 T1 T2) on resonance (Bloch), with the counter-rotating
    term of relative size (eta / 2w)^2 kept."""
    eps, delta, temperature, dephasing = 0.3, 0.5, 0.2, 2e6
    energies, t = _tls(eps, delta)
    e = math.hypot(eps, delta)
    t1, t2 = _tls_times(eps, delta, temperature, dephasing)
    amps = np.geomspace(1e-6, 1e-3, 7)
    out = saturated_absorption(energies, t, e, temperature, amps, K_PH, dephasing_rate=dephasing)
    omega = amps * delta / e * OMEGA_PER_KELVIN
    np.testing.assert_allclose(out["absorption"] / out["linear"], 1.0 / (1.0 + omega**2 * t1 * t2),
                               rtol=1e-6)


def test_gaussian_line_differs_from_bloch_by_sqrt_pi_over_2():
    """A Gaussian line of standard deviation 1/T2 is not what the Bloch equations give: on
    resonance its saturation parameter is sqrt(pi/2) Omega^2 T1 T2 (g(0) = T2/sqrt(2 pi))."""
    eps, delta, temperature, dephasing = 0.0, 1.0, 0.3, 5e6
    energies, t = _tls(eps, delta)
    t1, t2 = _tls_times(eps, delta, temperature, dephasing)
    amps = np.array([1e-5, 1e-4])
    omega = amps * OMEGA_PER_KELVIN
    out = saturated_absorption(energies, t, 1.0, temperature, amps, K_PH,
                               dephasing_rate=dephasing, line="gaussian", counter_rotating=False)
    pol = math.tanh(0.5 / temperature)
    difference = out["populations"][:, 0] - out["populations"][:, 1]
    s = omega**2 * t1 * t2
    np.testing.assert_allclose(difference, pol / (1.0 + math.sqrt(math.pi / 2.0) * s), rtol=1e-9)
    assert np.all((pol / difference - 1.0) / s > 1.2)  # Bloch: exactly 1


# ----------------------------------------------------------- small systems: Lindblad steady state

@pytest.mark.parametrize("case", [
    ((0.5, 0.9, -0.3, 0.6, 0.15), (1, 0), 3e7),   # interacting pair, one line driven
    ((0.5, 0.9, -0.3, 0.6, 0.15), (2, 1), 0.0),   # a line between excited states, phonon T2 only
    ((0.2, 0.7, 0.4, 0.5, -0.1), (3, 0), 1e7),    # the two-TLS (both flipped) line
])
def test_two_tls_rate_equations_match_lindblad(case):
    params, (upper, lower), dephasing = case
    energies, t = _two_tls(*params)
    temperature = 0.4
    w = energies[upper] - energies[lower]
    rates = transition_rates(energies, t, temperature, K_PH)
    amps = np.array([1e-5, 1e-4, 3e-4])
    out = saturated_absorption(energies, t, w, temperature, amps, K_PH, dephasing_rate=dephasing,
                               counter_rotating=False)
    k = np.zeros(4, dtype=int)
    k[upper] = 1
    for i, amp in enumerate(amps):
        rho = lindblad_steady_state(energies, t, w, amp, rates, k, dephasing)
        np.testing.assert_allclose(out["populations"][i], np.real(np.diag(rho)), atol=2e-6)
    # the drive does something: the driven line is far from equilibrium at the largest amplitude
    p_eq = np.exp(-energies / temperature) / np.exp(-energies / temperature).sum()
    assert abs(out["populations"][-1, upper] - p_eq[upper]) > 0.05 * p_eq[upper]


def test_degenerate_ladder_two_photon_coherence_breaks_rate_equations():
    """Two resonant lines sharing a level (0-1-2 equally spaced): the Lindblad steady state has
    a two-photon coherence rho_02 that the rate equations drop. They agree for Omega T2 << 1
    and differ by ~10 % of p_1 at Omega T2 ~ 2 (documented in docs/PHYSICS.md)."""
    energies = np.array([0.0, 1.0, 2.0])
    t = np.zeros((3, 3))
    t[0, 1] = t[1, 0] = 1.0
    t[1, 2] = t[2, 1] = math.sqrt(2.0)
    temperature = 0.3
    rates = transition_rates(energies, t, temperature, K_PH)

    def compare(amp, dephasing):
        out = saturated_absorption(energies, t, 1.0, temperature, [amp], K_PH,
                                   dephasing_rate=dephasing, counter_rotating=False)
        rho = lindblad_steady_state(energies, t, 1.0, amp, rates, [0, 1, 2], dephasing)
        return out["populations"][0], np.real(np.diag(rho))

    weak, weak_ref = compare(1e-5, 1e8)  # Omega T2 ~ 0.01
    np.testing.assert_allclose(weak, weak_ref, rtol=1e-3)
    strong, strong_ref = compare(1e-4, 0.0)  # Omega T2 ~ 2
    assert abs(strong[1] - strong_ref[1]) > 0.1 * strong_ref[1]


# ----------------------------------------------------------------------------- exact limits

def test_weak_drive_is_the_linear_golden_rule_with_the_pair_widths():
    energies, t = _two_tls(0.5, 0.9, -0.3, 0.6, 0.15)
    temperature, w, dephasing = 0.4, 0.7, 2e9
    out = saturated_absorption(energies, t, w, temperature, [0.0, 1e-9], K_PH,
                               dephasing_rate=dephasing, normalisation=2.5)
    # direct pair sum with each pair's own Lorentzian width
    p = np.exp(-energies / temperature)
    p /= p.sum()
    widths = out["dephasing"] / OMEGA_PER_KELVIN
    expected = 0.0
    for n in range(4):
        for m in range(n + 1, 4):
            gap, eta = energies[m] - energies[n], widths[n, m]
            line = (eta / math.pi) * (1 / ((w - gap) ** 2 + eta**2) - 1 / ((w + gap) ** 2 + eta**2))
            expected += (p[n] - p[m]) * t[n, m] ** 2 * line
    np.testing.assert_allclose(out["absorption"], 2.5 * expected, rtol=1e-9)
    np.testing.assert_allclose(out["linear"], 2.5 * expected, rtol=1e-12)
    # and the project's golden rule with one Lorentzian kernel when pure dephasing dominates
    # (phonon rates ~1e-7 of it)
    out = saturated_absorption(energies, t, w, temperature, [1e-9], 1.0, dephasing_rate=dephasing,
                               normalisation=2.5)
    eta = dephasing / OMEGA_PER_KELVIN
    golden = absorption(Spectrum(energies), t, [w], [temperature],
                        Broadening(kind="lorentzian", width=eta), 2.5)
    np.testing.assert_allclose(out["absorption"], golden[0, 0], rtol=1e-5)


def _detuning_average(eps_delta_pairs, w, temperature, amps, dephasing, nodes=96):
    """Sum over single TLS with energies E = w + eta tan(theta) (midpoint rule in theta: the
    Lorentzian average over a flat density of detunings, spectrally accurate)."""
    total = np.zeros(len(amps))
    theta = -0.5 * math.pi + math.pi * (np.arange(nodes) + 0.5) / nodes
    for x, weight in eps_delta_pairs:
        t1 = None
        for th in theta:
            energy0, t = _tls(math.sqrt(1 - x * x), x)
            if t1 is None:
                t1, t2 = _tls_times(math.sqrt(1 - x * x), x, temperature, dephasing)
                eta = 1.0 / (t2 * OMEGA_PER_KELVIN)
            energy = w + eta * math.tan(th)
            if energy <= 0:
                continue
            jac = eta / math.cos(th) ** 2 * (math.pi / nodes)
            out = saturated_absorption(energy * energy0, t, w, temperature, amps, K_PH,
                                       dephasing_rate=dephasing)
            total += weight * jac * out["absorption"]
    return total


def test_canonical_ensemble_with_pure_dephasing_gives_inverse_square_root():
    """K = 0, T2 independent of Delta: Q(P)/Q(0) = 1/sqrt(1 + P/Pc), P/Pc = Omega^2 T1 T2 of a
    resonant TLS (Omega^2 T1 does not depend on Delta)."""
    w, temperature, dephasing = 1.0, 0.3, 2e8  # 1/(2 T1) <= 5e6: T2 Delta-independent to 3 %
    t1_sym, _ = _tls_times(0.0, 1.0, temperature, dephasing)
    amps = np.array([0.0, 2e-4, 6e-4, 2e-3])
    averages = []
    for x in (0.3, 0.6, 0.95):  # Delta / E; each alone shows the law with its own T2
        t2 = _tls_times(math.sqrt(1 - x * x), x, temperature, dephasing)[1]
        ratio_pc = (amps * OMEGA_PER_KELVIN) ** 2 * t1_sym * t2  # Omega^2 T1 of Delta = E
        q = _detuning_average([(x, 1.0)], w, temperature, amps, dephasing)
        np.testing.assert_allclose(q / q[0], independent_tls_saturation(ratio_pc), rtol=2e-3)
        averages.append(q / q[0])
    assert ratio_pc[-1] > 10
    e0_c = critical_amplitude(w, temperature, K_PH, dephasing_rate=dephasing)
    t2_sym = _tls_times(0.0, 1.0, temperature, dephasing)[1]
    np.testing.assert_allclose((amps / e0_c) ** 2,
                               (amps * OMEGA_PER_KELVIN) ** 2 * t1_sym * t2_sym, rtol=1e-12)
    # Delta-independent to the 3 % of T2: the average over Delta keeps the law
    np.testing.assert_allclose(averages[0], averages[-1], rtol=0.03)


def test_canonical_ensemble_with_phonon_dephasing_gives_the_elliptic_law():
    """T2 = 2 T1: s(Delta) = s1 (E/Delta)^2; averaging 1/sqrt(1 + s) over Delta with the absorption
    weight x / sqrt(1 - x^2) dx (x = Delta/E) gives the elliptic law, not 1/sqrt(1 + s1)."""
    w, temperature = 1.0, 0.3
    t1_sym, _ = _tls_times(0.0, 1.0, temperature, 0.0)
    amps = np.array([0.0, 2e-5, 1e-4, 5e-4])
    s1 = 2.0 * (amps * OMEGA_PER_KELVIN * t1_sym) ** 2
    # x = sin(phi): weight x / sqrt(1 - x^2) dx = sin(phi) dphi on (0, pi/2), Gauss-Legendre
    nodes, weights = np.polynomial.legendre.leggauss(16)
    phi = 0.25 * math.pi * (nodes + 1.0)
    # (the module's absorption carries the (Delta/E)^2 = x^2 itself: weight dx / (x sqrt(1 - x^2)))
    pairs = [(math.sin(f), 0.25 * math.pi * g / math.sin(f)) for f, g in zip(phi, weights,
                                                                               strict=True)]
    q = _detuning_average(pairs, w, temperature, amps, 0.0, nodes=64)
    law = independent_tls_saturation(s1, dephasing="phonon")
    np.testing.assert_allclose((amps / critical_amplitude(w, temperature, K_PH)) ** 2, s1,
                               rtol=1e-12)
    np.testing.assert_allclose(q / q[0], law, rtol=5e-3)
    # it is not the pure-dephasing law, and it tends to pi / (4 sqrt(s)) at s >> 1
    assert np.all(np.abs(law[1:] - independent_tls_saturation(s1[1:])) > 0.05 * law[1:])
    big = independent_tls_saturation(1e6, dephasing="phonon")
    assert big == pytest.approx(math.pi / 4e3, rel=1e-5)


def test_truncated_harmonic_ladder_barely_saturates_until_its_top_is_reached():
    """E_n = n w0, T_{n,n+1} = sqrt(n+1): the steady state is geometric with ratio
    r = (g nB + W0)/(g (nB + 1) + W0) per unit (n+1), and Q ~ 1 - D p_top: it stays at its linear
    value while the top level is empty, unlike a TLS under the same drive."""
    dim, w0, temperature = 12, 1.0, 0.25
    energies = w0 * np.arange(dim, dtype=float)
    t = np.zeros((dim, dim))
    idx = np.arange(dim - 1)
    t[idx, idx + 1] = t[idx + 1, idx] = np.sqrt(idx + 1.0)
    k_ph, dephasing = 1.0, 1e8  # phonon rates ~1e-8 of the dephasing: equal widths
    amps = np.array([0.0, 1e-8, 1e-7, 3e-7, 1e-6])
    out = saturated_absorption(energies, t, w0, temperature, amps, k_ph, dephasing_rate=dephasing)
    n_b = 1.0 / math.expm1(w0 / temperature)
    g = k_ph * w0**3
    eta = out["dephasing"][0, 1] / OMEGA_PER_KELVIN
    w_unit = 0.5 * math.pi * OMEGA_PER_KELVIN * amps**2 / (math.pi * eta)  # on resonance, n = 0
    r = (g * n_b + w_unit) / (g * (n_b + 1) + w_unit)
    p_top = r ** (dim - 1) * (1 - r) / (1 - r**dim)
    expected = (1 - dim * p_top) / (1 - dim * p_top[0])
    ratio = out["absorption"] / out["absorption"][0]
    np.testing.assert_allclose(ratio, expected, rtol=1e-4)
    assert ratio[2] > 0.99 and out["populations"][2, -1] < 1e-3  # driven, top still empty
    assert ratio[-1] < 0.3  # the truncation is reached
    # a TLS with the same line and drive: s = 2 W0 / (g coth) is already large at amps[2]
    tls = saturated_absorption(energies[:2], t[:2, :2], w0, temperature, amps[:3], k_ph,
                               dephasing_rate=dephasing)
    assert tls["absorption"][2] / tls["absorption"][0] < 0.5


def test_absorbed_power_equals_power_dissipated_into_the_phonons():
    """Energy balance of the steady state: drive in = phonons out (sum over rates x energy)."""
    energies, t = _two_tls(0.5, 0.9, -0.3, 0.6, 0.15)
    temperature, w = 0.4, energies[1] - energies[0]
    out = saturated_absorption(energies, t, w, temperature, [1e-4], K_PH, dephasing_rate=1e7,
                               counter_rotating=False)
    p = out["populations"][0]
    rates = transition_rates(energies, t, temperature, K_PH)
    # energy released to the bath per second (K/s): sum_{n,m} Gamma(n -> m) p_n (E_n - E_m)
    released = np.sum(rates * p[None, :] * (energies[None, :] - energies[:, None]))
    # the drive's energy in: quanta of w for resonant rates, E_m - E_n exactly -- equal to the
    # detuning/width ratio of the off-resonant lines, here <= 1e-3
    np.testing.assert_allclose(out["power"][0], released, rtol=2e-3)


def test_responses_shape_and_consistency():
    energies, t = _two_tls(0.5, 0.9, -0.3, 0.6, 0.15)
    amps = [0.0, 1e-4]
    chi = saturation_responses(energies, t, [0.7, 0.72], [0.3, 0.5], amps, K_PH,
                               dephasing_rate=1e8)
    assert chi.shape == (2, 2, 2)
    one = saturated_absorption(energies, t, 0.72, 0.5, amps, K_PH, dephasing_rate=1e8)
    np.testing.assert_array_equal(chi[1, 1], one["absorption"])


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("amps, match", [
    ([1e-4, -1e-5], "amplitudes must be >= 0"),
    ([np.nan], "amplitudes"),
    ([np.inf], "amplitudes"),
    ([], "amplitudes"),
])
def test_bad_amplitudes_are_refused(amps, match):
    energies, t = _tls(0.3, 0.4)
    with pytest.raises(ValueError, match=match):
        saturated_absorption(energies, t, 0.5, 0.2, amps, K_PH, dephasing_rate=1e6)


def test_other_bad_input_is_refused():
    energies, t = _tls(0.3, 0.4)
    with pytest.raises(ValueError, match="rate_prefactor"):
        saturated_absorption(energies, t, 0.5, 0.2, [1e-4], 0.0)
    with pytest.raises(ValueError, match="dephasing_rate"):
        saturated_absorption(energies, t, 0.5, 0.2, [1e-4], K_PH, dephasing_rate=-1.0)
    with pytest.raises(ValueError, match="line"):
        saturated_absorption(energies, t, 0.5, 0.2, [1e-4], K_PH, line="voigt")
    with pytest.raises(ValueError, match="ascending"):
        saturated_absorption(energies[::-1], t, 0.5, 0.2, [1e-4], K_PH, dephasing_rate=1e6)
    with pytest.raises(ValueError, match="stress_elements"):
        saturated_absorption(energies, t[:1], 0.5, 0.2, [1e-4], K_PH)
    # a pair with no phonon rate at all (T_01 = 0) and no dephasing has no line width
    with pytest.raises(ValueError, match="dephasing_rate must be > 0"):
        saturated_absorption(energies, np.diag([1.0, -1.0]), 0.5, 0.2, [1e-4], K_PH)
    with pytest.raises(ValueError, match="power_ratio"):
        independent_tls_saturation([-1.0])


def test_a_line_that_reaches_no_transition_says_so():
    """A Gaussian line with phonon-limited widths (micro-kelvin) reaches no transition of a
    finite system away from the probe frequency: every value was exactly 0 and nothing said so
    (session 25). A line that does reach one gives no warning."""
    import warnings

    energies, t = _tls(0.0, 0.05)  # the transition at 0.05 K, the probe at 0.1 K
    with pytest.warns(RuntimeWarning, match=r"exactly 0 .* gaussian line .*phonon rates alone"):
        out = saturation_responses(energies, t, [0.1], [0.05, 0.1], [1e-6], K_PH,
                                   line="gaussian")
    assert not np.any(out)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = saturation_responses(energies, t, [0.1], [0.05, 0.1], [1e-6], K_PH,
                                   dephasing_rate=1e10, line="lorentzian")
    assert np.all(out > 0)


def test_strain_amplitudes_beyond_one_are_refused_before_any_solve():
    """e0 = 1e300 passed (only the rotating-wave warning) and wrote NaN into the results (e0^2
    overflowed; a tester, session 34): refused in the spec's drive and in the function."""
    from manybody.config.probe import SaturationDrive
    from manybody.simulation.observables.saturation import saturated_absorption
    with pytest.raises(ValueError, match=r"probe.saturation.amplitudes must be <= 1.*1e\+300"):
        SaturationDrive(amplitudes=[1e-300, 1e300], dephasing_rate=3e9)
    with pytest.raises(ValueError, match=r"amplitudes must be <= 1.*1e\+200"):
        saturated_absorption(np.array([-0.05, 0.05]), np.array([[0.0, 1.0], [1.0, 0.0]]), 0.1,
                             0.05, [1e-7, 1e200], 4.9e7, dephasing_rate=3e9)
    assert SaturationDrive(amplitudes=[0.0, 1.0], dephasing_rate=3e9).amplitudes == (0.0, 1.0)


@pytest.mark.parametrize("bad, error", [(True, TypeError), ("x", TypeError),
                                        (float("nan"), ValueError), (-1.0, ValueError)])
def test_independent_tls_saturation_names_its_argument(bad, error):
    """True was read as P/Pc = 1 and 'x' gave numpy's 'could not convert string to float'."""
    from manybody.simulation.observables.saturation import independent_tls_saturation
    with pytest.raises(error, match="power_ratio"):
        independent_tls_saturation(bad)
    np.testing.assert_allclose(independent_tls_saturation([0.0, 3.0]), [1.0, 0.5])


@pytest.mark.parametrize("bad", [math.nan, -1.0, 0.0])
def test_a_normalisation_that_is_not_positive_is_refused(bad):
    """NaN, -1 and 0 gave NaN, negative and zero Q^-1 silently, where relaxation_absorption
    refuses them (a helper, session 36)."""
    energies, t = _tls(0.3, 0.4)
    with pytest.raises(ValueError, match="normalisation"):
        saturated_absorption(energies, t, 0.5, 0.2, [1e-4], K_PH, dephasing_rate=1e6,
                             normalisation=bad)


def test_complex_stress_elements_are_refused_by_name():
    """They were cast to real with numpy's ComplexWarning only (a helper, session 36)."""
    energies, t = _tls(0.3, 0.4)
    with pytest.raises(TypeError, match="stress_elements must be an array of real numbers"):
        saturated_absorption(energies, t * (1 + 1j), 0.5, 0.2, [1e-4], K_PH, dephasing_rate=1e6)


def test_critical_amplitude_does_not_overflow_on_the_way():
    """T = 1e300 K gave inf (the product of the two rates overflowed) for a value of 5e294, and
    w = 1e200 K a bare OverflowError (a helper, session 36)."""
    w, temperature = 0.1, 1e300
    inverse_t1 = K_PH * w**3 / math.tanh(0.5 * w / temperature)  # 2 K_ph w^2 T, finite
    expected = math.sqrt(inverse_t1) * math.sqrt(0.5 * inverse_t1) / OMEGA_PER_KELVIN
    assert critical_amplitude(w, temperature, K_PH) == pytest.approx(expected, rel=1e-12)
    # where even the logarithms overflow their float: e0_c itself is beyond a float
    with pytest.raises(ValueError, match=r"e0_c overflows a float .*frequency=1e\+200 K"):
        critical_amplitude(1e200, 0.05, K_PH)
    # w^3 overflows, e0_c does not: by logarithms, the closed form (T << w: 1/T1 = K_ph w^3)
    big = critical_amplitude(1e103, 1e-3, K_PH)
    assert big == pytest.approx(K_PH * 1e206 / math.sqrt(2) / OMEGA_PER_KELVIN * 1e103, rel=1e-9)
    assert critical_amplitude(0.1, 0.05, K_PH, dephasing_rate=1e9) == pytest.approx(
        math.sqrt(K_PH * 1e-3 / math.tanh(1.0) * (0.5 * K_PH * 1e-3 / math.tanh(1.0) + 1e9))
        / OMEGA_PER_KELVIN, rel=1e-12)


@pytest.mark.parametrize("rate", [0.0076, 1e-30])
def test_lines_far_narrower_than_the_level_spacing_warn(rate):
    """dephasing_rate = 0 is refused with the Lorentzian line, but 1e-30 s^-1, or the 7.6 mK
    width typed in K (0.0076), left phonon-limited lines: a comb the probe misses, Q^-1 10^4
    times small and no saturation, without a word (a helper, session 36)."""
    import warnings

    energies, t = _two_tls(0.5, 0.9, -0.3, 0.6, 0.15)
    with pytest.warns(RuntimeWarning, match=r"narrower than 0\.001 of the mean level spacing .*"
                                            r"comb of isolated lines"):
        saturation_responses(energies, t, [0.7], [0.3], [0.0, 1e-4], K_PH, dephasing_rate=rate)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        saturation_responses(energies, t, [0.7], [0.3], [0.0, 1e-4], K_PH, dephasing_rate=1e9)


@pytest.mark.parametrize(("w", "temperature"), [(1e-300, 1e300), (1e-120, 1.0), (1e-5, 1e3)])
def test_critical_amplitude_far_below_the_temperature(w, temperature):
    """w / T underflowing tanh to 0 raised a bare ZeroDivisionError, and w^3 underflowing to 0
    would have given e0_c = 0 (a helper, session 36): for w << T, 1/T1 = 2 K_ph w^2 T."""
    log_t1 = math.log(2 * K_PH) + 2 * math.log(w) + math.log(temperature)
    expected = math.exp(log_t1 - 0.5 * math.log(2) - math.log(OMEGA_PER_KELVIN))
    assert critical_amplitude(w, temperature, K_PH) == pytest.approx(expected, rel=1e-9)


def test_the_phonon_dephasing_reference_curve_holds_at_every_power():
    """sqrt(1 + s) E(m) - s K(m) / sqrt(1 + s) lost its digits to cancellation at s = P/Pc >
    1e12 and went negative at 1e16 (a tester, session 38). Against the defining integral
    int_0^pi/2 sin^2 / sqrt(sin^2 + s) (scipy's quad) from s = 1e-6 to 1e20, and the
    asymptote pi / (4 sqrt(s))."""
    from scipy.integrate import quad

    s = np.logspace(-6, 20, 27)
    law = independent_tls_saturation(s, dephasing="phonon")
    for ratio, value in zip(s, law, strict=True):
        exact = quad(lambda t, r=ratio: np.sin(t) ** 2 / np.sqrt(np.sin(t) ** 2 + r), 0,
                     np.pi / 2, epsabs=0, epsrel=1e-12)[0]
        assert value == pytest.approx(exact, rel=1e-9), ratio
    assert np.all(np.diff(law) < 0) and np.all(law > 0)
    assert law[-1] == pytest.approx(np.pi / 4 / 1e10, rel=1e-12)
    tiny = independent_tls_saturation([1e-320, 1e-300, 1e-200, 1e-30], dephasing="phonon")
    np.testing.assert_allclose(tiny, 1.0, rtol=1e-12)  # inf below 2.2e-308 (session 38)
