"""Relaxation absorption from the one-phonon Pauli master equation (PHYSICS.md section 4).

Organised by physics: Jackle's rate for one TLS; invariants of the rates (detailed balance,
Boltzmann stationary state, sign); exactness for K = 0 (sum of single TLS); Krylov == dense; the
static limit against the free energy (with degenerate levels); the canonical ensemble (pi C0 / 2
plateau, T^3 regime, velocity slopes +C0 and -C0/2); materials; bad input; the benchmark script.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from reference import independent_tls_susceptibility

from manybody.config.model import CouplingParams, ModelParams
from manybody.config.probe import Broadening
from manybody.laws.velocity import velocity_slopes
from manybody.simulation import materials
from manybody.simulation.ensembles import Realisation, draw_realisation, realisation_rng
from manybody.simulation.observables.absorption import absorption, velocity_shift
from manybody.simulation.observables.relaxation import (
    OMEGA_PER_KELVIN,
    jackle_rate,
    relaxation_absorption,
    relaxation_modes,
    relaxation_susceptibility,
    relaxation_velocity_shift,
    symmetrised_rate_matrix,
    total_response,
    transition_rates,
)
from manybody.simulation.solvers.dense import Spectrum, solve

ROOT = Path(__file__).resolve().parents[1]


def _single(eps, delta, gamma=1.0):
    real = Realisation.from_arrays(asymmetry=[eps], tunnelling=[delta],
                                   deformation_potential=[gamma])
    return solve(real)


def _single_fast(eps, delta, gamma=1.0):
    """One TLS in its energy basis without building operators: E = -+E/2, T = gamma s^z'."""
    e = math.hypot(eps, delta)
    t = gamma * np.array([[-eps / e, delta / e], [delta / e, eps / e]])
    return Spectrum(np.array([-0.5 * e, 0.5 * e])), t


# --------------------------------------------------------------------------- one TLS: Jackle

@pytest.mark.parametrize("method", ["dense", "krylov"])
@pytest.mark.parametrize("temperature", [0.02, 0.1, 0.5, 3.0])
def test_single_tls_master_equation_rate_is_jackle(method, temperature):
    eps, delta, gamma, k_ph = 0.3, 0.2, 1.7, 3e8
    spectrum, elements = _single(eps, delta, gamma)
    modes = relaxation_modes(spectrum, elements, temperature, k_ph, stress_scale=gamma,
                             method=method, frequencies=[0.01])
    relaxing = modes.rates[modes.weights > 1e-12 * modes.weights.max()]
    assert relaxing.size == 1
    np.testing.assert_allclose(relaxing[0], jackle_rate([eps], [delta], temperature, k_ph)[0],
                               rtol=1e-12)
    # the rate is the sum of emission and absorption rates of the 2x2 master equation
    rates = transition_rates(spectrum.energies, elements, temperature, k_ph, stress_scale=gamma)
    np.testing.assert_allclose(rates[0, 1] + rates[1, 0], relaxing[0], rtol=1e-12)


def test_single_tls_susceptibility_is_the_debye_relaxator():
    """chi = (1/T)(2 gamma eps/E)^2 sech^2(E/2T)/4 / (1 - i omega tau), PHYSICS.md sec. 4."""
    eps, delta, gamma, k_ph = -0.25, 0.05, 0.8, 1e9
    spectrum, elements = _single(eps, delta, gamma)
    w = np.geomspace(1e-5, 1e-1, 7)
    t = np.array([0.03, 0.1, 0.4, 2.0])
    chi = relaxation_susceptibility(spectrum, elements, w, t, k_ph, stress_scale=gamma)
    e = math.hypot(eps, delta)
    for i, temp in enumerate(t):
        tau = 1.0 / (k_ph * delta**2 * e / math.tanh(e / (2 * temp)))
        wt = w * OMEGA_PER_KELVIN * tau
        strength = (2 * gamma * eps / e) ** 2 / (4 * temp * math.cosh(e / (2 * temp)) ** 2)
        np.testing.assert_allclose(chi[i].imag, strength * wt / (1 + wt**2), rtol=1e-11)
        np.testing.assert_allclose(chi[i].real, strength / (1 + wt**2), rtol=1e-11)
    closed = independent_tls_susceptibility([eps], [delta], [gamma], w, t, k_ph,
                                            stress_scale=gamma)[0]
    np.testing.assert_allclose(chi, closed, rtol=1e-11)


def test_stress_scale_only_rescales_rates():
    """Rates depend on T_mn / gamma: doubling gamma at fixed K_ph leaves tau unchanged."""
    spectrum, elements = _single_fast(0.1, 0.3, 1.0)
    r1 = transition_rates(spectrum.energies, elements, 0.2, 1e8)
    r2 = transition_rates(spectrum.energies, 2 * elements, 0.2, 1e8, stress_scale=2.0)
    np.testing.assert_allclose(r1, r2, rtol=1e-14)


# --------------------------------------------------------------------------- invariants

def _coupled(n=5, seed=7):
    params = ModelParams(n_tls=n, coupling=CouplingParams(kind="gaussian", strength=0.3))
    return solve(draw_realisation(params, realisation_rng(seed, 0)))


@pytest.mark.parametrize("temperature", [0.05, 0.3, 2.0])
def test_rates_detailed_balance_sign_and_boltzmann_stationary_state(temperature):
    spectrum, elements = _coupled()
    k_ph = 1e8
    rates = transition_rates(spectrum.energies, elements, temperature, k_ph)
    assert np.all(rates >= 0)
    assert np.all(np.diag(rates) == 0)
    p = np.exp(-(spectrum.energies - spectrum.energies[0]) / temperature)
    p /= p.sum()
    flux = rates * p[None, :]  # Gamma(n -> m) p_n at [m, n]
    np.testing.assert_allclose(flux, flux.T, rtol=1e-11, atol=1e-14 * flux.max())
    generator = rates - np.diag(rates.sum(axis=0))
    assert np.abs(generator @ p).max() <= 1e-12 * np.abs(generator).max()
    # symmetrised matrix: equals P^-1/2 W P^1/2, symmetric, negative semi-definite, S sqrt(p) = 0
    s = symmetrised_rate_matrix(spectrum, elements, temperature, k_ph)
    sq = np.sqrt(p)
    np.testing.assert_allclose(s, generator * sq[None, :] / sq[:, None], rtol=1e-9,
                               atol=1e-12 * np.abs(s).max())
    np.testing.assert_array_equal(s, s.T)
    assert np.abs(s @ sq).max() <= 1e-12 * np.abs(s).max()  # Boltzmann is stationary
    lam = np.linalg.eigvalsh(s)
    assert lam.max() <= 1e-12 * np.abs(lam).max()


def test_rates_are_finite_at_extreme_temperatures():
    spectrum, elements = _coupled()
    for temperature in (1e-4, 1e4):
        rates = transition_rates(spectrum.energies, elements, temperature, 1e8)
        assert np.all(np.isfinite(rates)) and np.all(rates >= 0)
        modes = relaxation_modes(spectrum, elements, temperature, 1e8, frequencies=[0.05])
        assert np.all(np.isfinite(modes.rates)) and np.all(modes.weights >= 0)


# --------------------------------------------------------------------------- K = 0 and Krylov

@pytest.mark.parametrize("method", ["krylov", "dense"])
def test_occupations_at_the_float64_limit_give_finite_weights_not_nan(method):
    """E/T ~ 744-745: the first excited occupation is subnormal, the start vector's norm squared
    underflowed to 0 and the Lanczos quadrature divided by it (a study run at T = 5 mK crashed).
    The weights must stay finite and >= 0, go continuously to 0, and equal the weights just above
    the limit within the change of p across the scan."""
    energies = np.array([0.0, 1.0, 2.5, 3.5])
    stress = np.array([[0.3, 0.2, 0.1, 0.0], [0.2, -0.3, 0.0, 0.1],
                       [0.1, 0.0, 0.25, 0.2], [0.0, 0.1, 0.2, -0.25]])
    totals = []
    for ratio in (700.0, 720.0, 740.0, 744.0, 744.5, 745.0, 760.0):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            modes = relaxation_modes(Spectrum(energies), stress, 1.0 / ratio, 4.9e7,
                                     method=method, frequencies=[4.8e-8])
        assert np.isfinite(modes.weights).all() and (modes.weights >= 0).all()
        assert np.isfinite(modes.rates).all()
        totals.append(float(modes.weights.sum()))
    # Var_p(T_mm) ~ p_1 (T_11 - T_00)^2 = 0.36 e^-E/T: the weights follow it while representable
    assert totals[0] == pytest.approx(0.36 * math.exp(-700.0), rel=1e-6)
    assert totals[1] == pytest.approx(0.36 * math.exp(-720.0), rel=1e-3)
    assert totals[-1] == 0.0


@pytest.mark.parametrize("method", ["dense", "krylov"])
def test_independent_tls_many_body_equals_sum_of_single_tls(method):
    """K = 0: the generator is a sum of single-TLS generators and T_mm - <T> a sum of single-site
    terms, so chi_rel of the N-TLS system is exactly the sum of the N single-TLS chi_rel."""
    params = ModelParams(n_tls=5)
    real = draw_realisation(params, realisation_rng(11, 0))
    spectrum, elements = solve(real)
    w = np.array([1e-4, 3e-3, 0.05])
    t = np.array([0.02, 0.1, 0.5, 2.0])
    k_ph = 2e8
    chi = relaxation_susceptibility(spectrum, elements, w, t, k_ph, method=method)
    single = independent_tls_susceptibility(real.asymmetry, real.tunnelling,
                                            real.deformation_potential, w, t, k_ph).sum(axis=0)
    np.testing.assert_allclose(chi, single, rtol=1e-9, atol=1e-12 * np.abs(single).max())


@pytest.mark.parametrize("kind", ["gaussian", "dipolar"])
def test_krylov_quadrature_matches_dense_modes_for_coupled_tls(kind):
    params = ModelParams(n_tls=7, coupling=CouplingParams(kind=kind, strength=0.3))
    spectrum, elements = solve(draw_realisation(params, realisation_rng(5, 0)))
    w = np.array([1e-3, 0.05])
    t = np.geomspace(0.02, 3.0, 6)
    dense = relaxation_susceptibility(spectrum, elements, w, t, 1e8, method="dense")
    krylov = relaxation_susceptibility(spectrum, elements, w, t, 1e8, method="krylov", rtol=1e-11)
    # complex relative error: a real part 1e7 times smaller than |chi| (modes with lambda << omega,
    # known by eigh only to eps ||S|| absolutely) is not held to a relative tolerance of its own
    nonzero = dense != 0
    assert np.all(krylov[~nonzero] == 0)
    # relative error, floored at 1e-12 of the largest |chi|: at the lowest temperature |chi| ~ 1e-38
    # is set by round-off in the rate matrix's slowest eigenvalues (seen at 5e-8 and 2e-5 relative
    # when T_mn changes in its last bits), which no route resolves
    scale = np.maximum(np.abs(dense), 1e-12 * np.abs(dense).max())
    assert np.max(np.abs(krylov - dense)[nonzero] / scale[nonzero]) < 1e-8
    # dropping a tail of states holding < 1e-16 of the excited population changes nothing visible
    # (the 1e-6 allows for the reference: eigh of the full matrix, whose largest out-rates are
    # ~1e10 times the slowest, gives the slow modes only to eps ||S|| absolutely)
    full = relaxation_susceptibility(spectrum, elements, w, t, 1e8, method="dense",
                                     population_cutoff=0.0)
    assert np.max(np.abs(full - dense)[nonzero] / scale[nonzero]) < 1e-6


# --------------------------------------------------------------------------- static limit

def _degenerate_model(rng):
    energies = np.array([0.0, 0.3, 0.3, 0.3, 0.7, 1.1, 1.1])
    t = rng.standard_normal((7, 7))
    return Spectrum(energies), 0.5 * (t + t.T)


def test_static_limit_is_the_isothermal_susceptibility_with_degenerate_levels(rng):
    """chi_res(0) + chi_rel(w -> 0) = -d^2F/de^2 for H(e) = diag(E) + e T, with 3- and 2-fold
    degenerate levels (T_mm is only meaningful after diagonalising T inside each block)."""
    spectrum, t = _degenerate_model(rng)
    e = spectrum.energies
    temperature = 0.4
    chi_rel = relaxation_susceptibility(spectrum, t, [1e-12], [temperature], 1e9)[0, 0]
    assert abs(chi_rel.imag) < 1e-6 * chi_rel.real
    p = np.exp(-e / temperature)
    p /= p.sum()
    gap = e[:, None] - e[None, :]
    different = np.abs(gap) > 1e-9
    chi_res = np.sum(np.where(different, (p[None, :] - p[:, None]) * t**2
                              / np.where(different, gap, 1.0), 0.0))

    def free(x):
        lam = np.linalg.eigvalsh(np.diag(e) + x * t)
        return -temperature * np.log(np.sum(np.exp(-lam / temperature)))

    h = 1e-3
    # fourth-order central difference of F''
    second = (-free(2 * h) + 16 * free(h) - 30 * free(0) + 16 * free(-h) - free(-2 * h)) / (
        12 * h * h)
    np.testing.assert_allclose(chi_res + chi_rel.real, -second, rtol=1e-6)


def test_degenerate_levels_results_do_not_depend_on_the_basis(rng):
    spectrum, t = _degenerate_model(rng)
    q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    u = np.eye(7)
    u[1:4, 1:4] = q
    rotated = u.T @ t @ u
    w, temps = [1e-3, 0.1], [0.1, 0.5]
    a = relaxation_susceptibility(spectrum, t, w, temps, 1e9)
    b = relaxation_susceptibility(spectrum, rotated, w, temps, 1e9)
    np.testing.assert_allclose(a, b, rtol=1e-10)


# --------------------------------------------------------------------------- canonical ensemble

def _canonical_sample(n, e_lo, e_hi, tunnelling_min, rng, log_energy=False):
    """Importance sample of the canonical ensemble in (E, s), u = Delta/E = 1/cosh(s).

    dEps dDelta / Delta = dE ds, so with E uniform (or log-uniform) on [e_lo, e_hi] and s uniform
    on [0, arccosh(E / Delta_min)] the weight of a sample is (E range) * s_max. The ensemble average
    of Q in units of pi*C0 is (1/(pi gamma^2)) mean(weight * Im chi), of delta v / v in units of C0
    -(1/(2 gamma^2)) mean(weight * Re chi) (Eps >= 0 half, doubled; gamma = 1).
    """
    def uniform():
        return rng.uniform(0.0, 1.0, n)

    if log_energy:
        e = np.exp(math.log(e_lo) + uniform() * math.log(e_hi / e_lo))
        weight = e * math.log(e_hi / e_lo)
    else:
        e = e_lo + uniform() * (e_hi - e_lo)
        weight = np.full(n, e_hi - e_lo)
    s_max = np.arccosh(e / tunnelling_min)
    s = uniform() * s_max
    delta = e / np.cosh(s)
    eps = e * np.tanh(s)
    return eps, delta, weight * s_max


def _ensemble_chi(eps, delta, weight, w, t, k_ph, chunk=20000):
    total = []
    for start in range(0, eps.size, chunk):
        sl = slice(start, start + chunk)
        chi = independent_tls_susceptibility(eps[sl], delta[sl], 1.0, w, t, k_ph)
        total.append(weight[sl, None, None] * chi)
    return np.concatenate(total)  # per-sample contributions (n, n_T, n_w)


def test_canonical_plateau_is_half_of_the_resonant_plateau():
    """omega tau_min << 1: Q_rel / (pi C0) = 1/2."""
    rng = np.random.default_rng(1)
    temperature, w = 0.1, 1e-3
    k_ph = 6e14  # omega tau_min(E = T) ~ 1e-4
    eps, delta, weight = _canonical_sample(200_000, 0.0, 20 * temperature, 1e-9, rng)
    q = _ensemble_chi(eps, delta, weight, [w], [temperature], k_ph)[:, 0, 0].imag / math.pi
    mean, err = q.mean(), q.std(ddof=1) / math.sqrt(q.size)
    assert err < 0.01
    assert abs(mean - 0.5) < 4 * err, (mean, err)


def test_canonical_low_temperature_t_cubed_regime():
    """omega tau_min >> 1: Q_rel / (pi C0) = (pi^3/12) K_ph T^3 / omega."""
    rng = np.random.default_rng(2)
    temperature, w = 0.1, 1e-2
    omega = w * OMEGA_PER_KELVIN
    k_ph = 1e-6 * omega / temperature**3
    eps, delta, weight = _canonical_sample(200_000, 0.0, 40 * temperature, 1e-5, rng)
    q = _ensemble_chi(eps, delta, weight, [w], [temperature], k_ph)[:, 0, 0].imag / math.pi
    expected = math.pi**3 / 12 * k_ph * temperature**3 / omega
    mean, err = q.mean() / expected, q.std(ddof=1) / math.sqrt(q.size) / expected
    assert err < 0.02
    assert abs(mean - 1.0) < 4 * err, (mean, err)


def test_master_equation_over_the_canonical_ensemble_reaches_the_plateau():
    """The same plateau through relaxation_absorption on single TLS (full code path), with the
    ensemble integral (1/pi) int_0 dE int ds Im chi done by Gauss-Legendre quadrature."""
    temperature, w, k_ph, tunnelling_min = 0.1, 1e-3, 6e14, 1e-9
    x_e, w_e = np.polynomial.legendre.leggauss(24)
    x_s, w_s = np.polynomial.legendre.leggauss(48)
    e_hi = 20 * temperature
    total = 0.0
    for xe, we in zip(x_e, w_e, strict=True):
        e = 0.5 * e_hi * (xe + 1)
        s_max = math.acosh(e / tunnelling_min)
        for xs, ws in zip(x_s, w_s, strict=True):
            s = 0.5 * s_max * (xs + 1)
            spectrum, elements = _single_fast(e * math.tanh(s), e / math.cosh(s))
            q = relaxation_absorption(spectrum, elements, [w], [temperature], k_ph,
                                      normalisation=1.0)[0, 0]
            total += 0.25 * e_hi * s_max * we * ws * q
    assert abs(total - 0.5) < 5e-3, total


def _resonant_velocity(temperatures, w, e_hi):
    """Canonical resonant delta v / v (units of C0, up to a constant):
    -PV int_0^e_hi dE tanh(E/2T) E / (E^2 - w^2) (the u integral gives 1)."""
    from scipy.integrate import quad

    out = []
    for t in temperatures:
        def f(e, t=t):
            return np.tanh(e / (2 * t)) * e / (e + w)
        pv = quad(f, 0.0, e_hi, weight="cauchy", wvar=w, limit=400)[0]
        out.append(-pv)
    return np.array(out)


def test_canonical_velocity_slopes_are_plus_one_and_minus_one_half():
    """Total delta v / v: slope +C0 below its maximum, -C0/2 above (ratio 2 : -1)."""
    rng = np.random.default_rng(4)
    w = 1e-5  # K
    t = np.geomspace(1e-3, 1.0, 25)
    k_ph = w * OMEGA_PER_KELVIN / 0.03**3  # omega tau_min ~ 1 near T = 0.03 K
    n_real = 16
    eps, delta, weight = _canonical_sample(16 * 12_000, 1e-6, 40.0, 1e-9, rng, log_energy=True)
    contrib = _ensemble_chi(eps, delta, weight, [w], t, k_ph)[:, :, 0].real
    # relaxation part: -(1/2) (1/gamma^2) int dE ds Re chi, per "realisation" (a batch of samples)
    relax = -0.5 * contrib.reshape(n_real, -1, t.size).mean(axis=1)
    dv = relax + _resonant_velocity(t, w, 40.0)[None, :]
    slopes = velocity_slopes(t, dv, margin=3.0)
    assert 0.01 < slopes.temperature_max < 0.1
    assert slopes.below_error < 0.03 and slopes.above_error < 0.03
    # allowance 0.03 for the finite windows (T/w >= 100, omega tau_min <= 1e-3)
    assert abs(slopes.below - 1.0) < 3 * slopes.below_error + 0.03, slopes
    assert abs(slopes.above + 0.5) < 3 * slopes.above_error + 0.03, slopes
    assert -2.3 < slopes.ratio < -1.7


def test_velocity_slopes_recovers_known_slopes(rng):
    t = np.geomspace(0.01, 10.0, 40)
    lt = np.log(t / 0.3)
    curve = np.where(lt < 0, 1.0 * lt, -0.5 * lt)
    dv = curve[None, :] + 1e-3 * rng.standard_normal((10, t.size))
    s = velocity_slopes(t, dv, margin=1.5)
    assert abs(s.below - 1.0) < 4 * s.below_error + 1e-3
    assert abs(s.above + 0.5) < 4 * s.above_error + 1e-3
    assert s.temperature_max == pytest.approx(0.3, rel=0.2)


# --------------------------------------------------------------------------- totals

def test_total_response_is_resonant_plus_relaxation():
    params = ModelParams(n_tls=4)
    spectrum, elements = solve(draw_realisation(params, realisation_rng(2, 0)))
    w, t = np.array([0.05, 0.2]), np.array([0.05, 0.2, 1.0])
    b = Broadening(width=0.02)
    q, dv = total_response(spectrum, elements, w, t, 1e9, b, normalisation=2.5)
    chi = relaxation_susceptibility(spectrum, elements, w, t, 1e9)
    np.testing.assert_allclose(
        q, absorption(spectrum, elements, w, t, b, 2.5) + 2.5 * chi.imag / math.pi, rtol=1e-12)
    np.testing.assert_allclose(
        dv, velocity_shift(spectrum, elements, w, t, b, 2.5) - 1.25 * chi.real, rtol=1e-12)


# --------------------------------------------------------------------------- materials

def test_silica_rate_prefactor_from_the_formula():
    from scipy import constants as c

    ev = c.electron_volt
    k = ((1.04 * ev) ** 2 / 5800.0**5 + 2 * (0.65 * ev) ** 2 / 3800.0**5) / (
        2 * math.pi * 2200.0 * c.hbar**4)
    assert materials.AMORPHOUS_SIO2.rate_prefactor == pytest.approx(k * c.k**3, rel=1e-12)
    assert materials.AMORPHOUS_SIO2.rate_prefactor == pytest.approx(4.865e7, rel=1e-3)
    assert materials.bath("a-SiO2") is materials.AMORPHOUS_SIO2
    assert materials.bath(1e8).rate_prefactor == 1e8


def test_bath_in_kelvin_equals_bath_in_ev():
    sio2 = materials.AMORPHOUS_SIO2
    again = materials.PhononBath.from_kelvin(
        density=2200.0, velocity_longitudinal=5800.0, velocity_transverse=3800.0,
        deformation_longitudinal=sio2.deformation_longitudinal_kelvin,
        deformation_transverse=sio2.deformation_transverse_kelvin)
    assert again.rate_prefactor == pytest.approx(sio2.rate_prefactor, rel=1e-12)
    assert sio2.deformation_longitudinal_kelvin == pytest.approx(1.04 * 11604.518, rel=1e-6)


# --------------------------------------------------------------------------- bad input

@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"density": -1.0}, ("density", "-1.0")),
        ({"velocity_transverse": 6000.0}, ("velocity_transverse", "6000.0", "5800.0")),
        ({"velocity_transverse": 5100.0}, ("v_l^2 > (4/3) v_t^2", "5100.0")),
        ({"deformation_longitudinal": 0.0}, ("deformation_longitudinal", "0.0")),
        ({"deformation_transverse": -0.1}, ("deformation_transverse", "-0.1")),
        ({"velocity_longitudinal": float("nan")}, ("velocity_longitudinal", "nan")),
    ],
)
def test_inconsistent_material_parameters_are_refused(kwargs, words):
    good = dict(density=2200.0, velocity_longitudinal=5800.0, velocity_transverse=3800.0,
                deformation_longitudinal=1.04, deformation_transverse=0.65)
    with pytest.raises(ValueError) as info:
        materials.PhononBath(**{**good, **kwargs})
    for word in words:
        assert word in str(info.value)


def test_bad_relaxation_input_is_refused():
    spectrum, elements = _single_fast(0.1, 0.2)
    with pytest.raises(ValueError, match=r"rate_prefactor.*-1\.0"):
        relaxation_susceptibility(spectrum, elements, [0.01], [0.1], -1.0)
    with pytest.raises(ValueError, match=r"rate_prefactor.*-1\.0"):
        materials.ReducedPhononBath(rate_prefactor=-1.0)
    with pytest.raises(ValueError, match=r"temperatures.*0\.0"):
        relaxation_susceptibility(spectrum, elements, [0.01], [0.1, 0.0], 1e8)
    with pytest.raises(ValueError, match=r"temperature.*0"):
        transition_rates(spectrum.energies, elements, 0, 1e8)
    with pytest.raises(ValueError, match=r"temperature.*-0\.5"):
        jackle_rate([0.1], [0.2], -0.5, 1e8)
    with pytest.raises(ValueError, match=r"frequencies.*-0\.01"):
        relaxation_susceptibility(spectrum, elements, [-0.01], [0.1], 1e8)
    with pytest.raises(ValueError, match=r"stress_scale.*0"):
        relaxation_susceptibility(spectrum, elements, [0.01], [0.1], 1e8, stress_scale=0)
    with pytest.raises(ValueError, match=r"stress_elements.*\(3, 3\)"):
        relaxation_susceptibility(spectrum, np.zeros((3, 3)), [0.01], [0.1], 1e8)
    with pytest.raises(ValueError, match=r"method.*'lu'"):
        relaxation_susceptibility(spectrum, elements, [0.01], [0.1], 1e8, method="lu")
    with pytest.raises(ValueError, match="ascending"):
        relaxation_susceptibility(Spectrum(spectrum.energies[::-1].copy()), elements, [0.01],
                                  [0.1], 1e8)
    with pytest.raises(ValueError, match="at least 3 temperatures"):
        velocity_slopes([0.1, 0.2, 0.3, 0.4], [1.0, 2.0, 3.0, 2.0])


@pytest.mark.parametrize("function", [relaxation_absorption, relaxation_velocity_shift])
def test_relaxation_checks_its_elements_and_normalisation_as_absorption_does(function):
    """A NaN T gave Q = 0, a half-filled T half the answer, normalisation NaN, -1 or [1, 2] gave
    NaN, a negative Q or an extra column; eigenvalues without a Spectrum an AttributeError
    (a tester, session 34). Each is now refused by name, before the master equation."""
    spectrum, elements = _single_fast(0.03, 0.04)
    call = lambda t, **kw: function(spectrum, t, [1e-6], [0.05], 4.9e7, **kw)  # noqa: E731
    assert np.all(np.isfinite(call(elements)))
    with pytest.raises(ValueError, match=r"stress_elements.*finite.*nan"):
        call(np.full((2, 2), np.nan))
    with pytest.raises(ValueError, match=r"stress_elements must be real symmetric"):
        call(np.triu(elements))
    with pytest.raises(TypeError, match=r"stress_elements.*complex"):
        call(elements.astype(complex))
    for bad, error in ((float("nan"), ValueError), (-1.0, ValueError), ([1, 2], TypeError),
                       ("1", TypeError)):
        with pytest.raises(error, match="normalisation"):
            call(elements, normalisation=bad)
    with pytest.raises(ValueError, match=r"bath_elements must be real symmetric"):
        call(elements, bath_elements=np.stack([elements, np.triu(elements)]))
    with pytest.raises(TypeError, match=r"spectrum must be a Spectrum.*ndarray"):
        function(spectrum.energies, elements, [1e-6], [0.05], 4.9e7)


def test_jackle_rate_of_a_tls_without_splitting_is_zero_not_nan():
    """E coth(E/2T) -> 2T as E -> 0: eps = Delta = 0 gave 0/0 = NaN (a tester, session 34)."""
    rates = jackle_rate([0.0, 1e-9, 0.1], [0.0, 1e-9, 0.1], 0.1, 4.9e7)
    assert rates[0] == 0.0 and np.all(np.isfinite(rates))
    np.testing.assert_allclose(rates[1], 4.9e7 * 1e-18 * 2 * 0.1, rtol=1e-6)


# --------------------------------------------------------------------------- benchmark script

def test_benchmark_script_runs_on_a_tiny_system(tmp_path):
    out = tmp_path / "bench.json"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_relaxation.py"), "--n-tls", "4",
                    "--temperatures", "3", "--repeats", "1", "--output", str(out)],
                   check=True, capture_output=True, timeout=120)
    data = json.loads(out.read_text())
    assert data["n_tls"] == 4
    assert data["relaxation_seconds"] > 0 and data["diagonalisation_seconds"] > 0
    assert data["max_relative_difference_krylov_vs_dense"] < 1e-6


def test_float32_solve_resolves_the_same_degeneracies_as_float64():
    """Three identical TLS (a permutation-degenerate spectrum) with unequal deformation potentials:
    T_mm inside a degenerate eigenspace depends on the basis, so float32 eigenvalues (split by
    ~1e-7 of the bandwidth) must be grouped as degenerate exactly like the float64 ones. Before the
    tolerance followed the precision, float32 was 16 % off here."""
    from manybody.config.solver import SolverParams
    from manybody.simulation.ensembles import Realisation

    real = Realisation.from_arrays(
        asymmetry=np.array([0.1, 0.1, 0.1, 0.2, 0.05]),
        tunnelling=np.array([0.05, 0.05, 0.05, 0.1, 0.02]),
        couplings={"zz": 0.01 * (np.ones((5, 5)) - np.eye(5))},
        deformation_potential=np.array([1.0, -0.5, 0.3, 1.0, 0.7]))
    results = {}
    for dtype in ("float64", "float32"):
        spectrum, t = solve(real, SolverParams(dtype=dtype))
        results[dtype] = relaxation_absorption(spectrum, t, [1e-6], [0.05, 0.1, 0.3], 1e8)
    np.testing.assert_allclose(results["float32"], results["float64"], rtol=1e-4)


def test_auto_method_is_dense_for_small_and_krylov_for_large_generators():
    """method="auto" (the default) takes the exact eigendecomposition while at most
    KRYLOV_MIN_STATES states are kept (cheaper there) and Lanczos above, with the same chi."""
    from manybody.simulation.observables.relaxation import KRYLOV_MIN_STATES, relaxation_modes
    w = np.array([1e-3])
    for n_tls, expected in ((4, "dense"), (7, "krylov")):
        params = ModelParams(n_tls=n_tls, coupling=CouplingParams(kind="dipolar", strength=0.1))
        spectrum, elements = solve(draw_realisation(params, realisation_rng(3, 0)))
        assert (2**n_tls <= KRYLOV_MIN_STATES) == (expected == "dense")
        auto = relaxation_modes(spectrum, elements, 5.0, 1e8, frequencies=w)
        assert auto.method.endswith(expected)  # "krylov" or "exact-krylov" above the threshold
        dense = relaxation_modes(spectrum, elements, 5.0, 1e8, method="dense")
        np.testing.assert_allclose(auto.susceptibility(w), dense.susceptibility(w), rtol=1e-8)
    with pytest.raises(ValueError, match="method='auto' needs the frequencies"):
        relaxation_modes(spectrum, elements, 5.0, 1e8)
