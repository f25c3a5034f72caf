"""Invariants checked against closed forms or code written here, never against the code itself.

Detailed balance on the absorption lines, the first-moment sum rule with the double commutator in
closed form, K = 0 spectra as explicit tanh-weighted lines, Poisson <r> with a tolerance from the
sampling error (any seed), independence of the random streams of a run, and the participation
ratio's closed forms.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import expm

from manybody.config.model import CouplingParams, ModelParams
from manybody.config.probe import Broadening
from manybody.simulation.ensembles import Realisation, draw_realisation, realisation_rng
from manybody.simulation.observables.absorption import absorption, transition_lines
from manybody.simulation.observables.statistics import mean_spacing_ratio, participation_ratio
from manybody.simulation.solvers.dense import solve

SX = np.array([[0.0, 1.0], [1.0, 0.0]])
SZ = np.array([[1.0, 0.0], [0.0, -1.0]])


def site(op, i, n):
    out = np.eye(1)
    for k in range(n):
        out = np.kron(out, op if k == i else np.eye(2))
    return out


def coupled_system(n=5, seed=3):
    """Explicit H = sum (eps s^z + Delta s^x)/2 + sum K s^z s^z, T = sum gamma_i s^z_i."""
    rng = np.random.default_rng(seed)
    eps, delta = rng.uniform(-1, 1, n), rng.uniform(0.05, 1, n)
    gamma = rng.normal(0, 1.2, n)
    k = np.triu(rng.normal(0, 0.3, (n, n)), 1)
    real = Realisation.from_arrays(asymmetry=eps, tunnelling=delta, deformation_potential=gamma,
                                   couplings={"zz": k + k.T})
    h = sum(0.5 * (eps[i] * site(SZ, i, n) + delta[i] * site(SX, i, n)) for i in range(n))
    for i, j in itertools.combinations(range(n), 2):
        h = h + k[i, j] * site(SZ, i, n) @ site(SZ, j, n)
    t = sum(gamma[i] * site(SZ, i, n) for i in range(n))
    return real, h, t, (eps, delta, gamma)


def thermal_expectation(h, op, temperature):
    """Tr(e^{-H/T} op) / Tr e^{-H/T} by matrix exponential (no eigendecomposition)."""
    shift = np.trace(h) / h.shape[0]
    rho = expm(-(h - shift * np.eye(h.shape[0])) / temperature)
    return float(np.trace(rho @ op) / np.trace(rho))


@pytest.mark.parametrize("temperature", [0.1, 0.7, 3.0])
@pytest.mark.filterwarnings("ignore:broadening.width")  # w from ~0 on purpose
def test_detailed_balance_on_the_absorption_lines(temperature):
    """Each line's net weight is its absorption p_n |T_mn|^2 times (1 - e^{-w/T}) (the emission
    S(-w) = e^{-w/T} S(w)), with p_n and T_mn from an explicit H diagonalised here."""
    real, h, t, _ = coupled_system()
    spectrum, t_mn = solve(real)
    lines, weights = transition_lines(spectrum, t_mn, temperature)
    e, v = np.linalg.eigh(h)
    tt = v.T @ t @ v
    p = np.exp(-(e - e[0]) / temperature)
    p /= p.sum()
    m, n = np.nonzero(e[:, None] > e[None, :] + 1e-12)
    w = e[m] - e[n]
    up = p[n] * tt[m, n] ** 2  # absorption n -> m
    down = p[m] * tt[n, m] ** 2  # emission m -> n at -w
    np.testing.assert_allclose(down, np.exp(-w / temperature) * up, rtol=1e-9, atol=1e-300)
    order = np.argsort(w)
    np.testing.assert_allclose(lines, w[order], rtol=0, atol=1e-12)
    np.testing.assert_allclose(weights, (up * -np.expm1(-w / temperature))[order], rtol=1e-8,
                               atol=1e-14 * up.max())
    assert np.all(weights >= 0)
    # the broadened absorption is non-negative everywhere
    q = absorption(spectrum, t_mn, np.linspace(0.01, 3.0, 300), [temperature],
                   Broadening(width=0.02))
    assert np.all(q >= -1e-12 * q.max())


@pytest.mark.parametrize("temperature", [0.05, 0.3, 2.0])
@pytest.mark.filterwarnings("ignore:broadening.width")  # w from ~0 on purpose
def test_first_moment_sum_rule_in_closed_form(temperature):
    """sum_{w_mn > 0} w_mn (p_n - p_m) |T_mn|^2 = (1/2) <[T,[H,T]]> = -sum_i gamma_i^2 Delta_i <s^x_i>
    for T = sum gamma_i s^z_i and any s^z s^z couplings ([T,[H,T]] = -2 sum gamma^2 Delta s^x);
    <s^x_i> by matrix exponential of the explicit H. K = 0: sum_i gamma_i^2 Delta_i^2/E_i tanh."""
    real, h, _, (eps, delta, gamma) = coupled_system()
    n = eps.size
    expected = -sum(gamma[i] ** 2 * delta[i] * thermal_expectation(h, site(SX, i, n), temperature)
                    for i in range(n))
    spectrum, t_mn = solve(real)
    lines, weights = transition_lines(spectrum, t_mn, temperature)
    assert np.sum(lines * weights) == pytest.approx(expected, rel=1e-10)
    eta = 0.01
    w = np.linspace(1e-4, lines.max() + 12 * eta, 4001)
    q = absorption(spectrum, t_mn, w, [temperature], Broadening(width=eta), method="binned")[0]
    assert np.trapezoid(w * q, w) == pytest.approx(expected, rel=1e-3)
    # general couplings (zz, xx, xz) and a two-body stress: <[T,[H,T]]>/2 from explicit matrices
    rng = np.random.default_rng(7)
    kzz, kxx = (np.triu(rng.normal(0, 0.3, (n, n)), 1) for _ in range(2))
    kxz = rng.normal(0, 0.2, (n, n))
    np.fill_diagonal(kxz, 0.0)
    kt = np.triu(rng.normal(0, 0.4, (n, n)), 1)
    general = Realisation.from_arrays(
        asymmetry=eps, tunnelling=delta, deformation_potential=gamma,
        couplings={"zz": kzz + kzz.T, "xx": kxx + kxx.T, "xz": kxz}, stress_coupling=kt + kt.T)
    h = sum(0.5 * (eps[i] * site(SZ, i, n) + delta[i] * site(SX, i, n)) for i in range(n))
    t = sum(gamma[i] * site(SZ, i, n) for i in range(n))
    for i, j in itertools.permutations(range(n), 2):
        h = h + kxz[i, j] * site(SX, i, n) @ site(SZ, j, n)
        if i < j:
            h = h + kzz[i, j] * site(SZ, i, n) @ site(SZ, j, n)
            h = h + kxx[i, j] * site(SX, i, n) @ site(SX, j, n)
            t = t + kt[i, j] * site(SZ, i, n) @ site(SZ, j, n)
    c = h @ t - t @ h
    expected = 0.5 * thermal_expectation(h, t @ c - c @ t, temperature)
    lines, weights = transition_lines(*solve(general), temperature)
    assert np.sum(lines * weights) == pytest.approx(expected, rel=1e-9)
    # K = 0 closed form
    free = Realisation.from_arrays(asymmetry=eps, tunnelling=delta, deformation_potential=gamma)
    energy = np.hypot(eps, delta)
    lines, weights = transition_lines(*solve(free), temperature)
    closed = np.sum(gamma**2 * delta**2 / energy * np.tanh(energy / (2 * temperature)))
    assert np.sum(lines * weights) == pytest.approx(closed, rel=1e-10)


def kernel(kind, u, eta):
    if kind == "gaussian":
        return np.exp(-0.5 * (u / eta) ** 2) / (eta * math.sqrt(2 * math.pi))
    if kind == "lorentzian":
        return eta / math.pi / (u**2 + eta**2)
    return (np.abs(u) < 0.5 * eta) / eta


@pytest.mark.parametrize("kind", ["gaussian", "lorentzian", "histogram"])
def test_k0_many_body_spectrum_is_the_tanh_weighted_single_tls_lines(kind, rng):
    """K = 0: Q = sum_i gamma_i^2 (Delta_i/E_i)^2 tanh(E_i/2T) [K(w - E_i) - K(w + E_i)] exactly
    (multi-flip transitions carry no weight)."""
    n = 6
    eps, delta = rng.uniform(-1, 1, n), rng.uniform(0.05, 1, n)
    gamma = rng.normal(size=n)
    spectrum, t_mn = solve(Realisation.from_arrays(asymmetry=eps, tunnelling=delta,
                                                   deformation_potential=gamma))
    eta = 0.02 if kind != "lorentzian" else 0.01
    w = np.linspace(0.05, 1.5, 80)
    temps = np.array([0.05, 0.3, 2.0])
    many = absorption(spectrum, t_mn, w, temps, Broadening(kind=kind, width=eta), method="exact")
    energy = np.hypot(eps, delta)
    weight = gamma**2 * (delta / energy) ** 2 * np.tanh(energy[None, :] / (2 * temps[:, None]))
    lines = kernel(kind, w[:, None] - energy[None, :], eta) - kernel(kind, w[:, None]
                                                                      + energy[None, :], eta)
    expected = weight @ lines.T
    np.testing.assert_allclose(many, expected, rtol=1e-10, atol=1e-10 * np.abs(expected).max())


@pytest.mark.parametrize("temperature", [0.05, 0.25, 1.0])
def test_emission_stripped_absolute_value_for_one_tls(temperature):
    """S+ = Q / (1 - e^{-x}) of one TLS probed at its line (box kernel, exact): the line weight
    gamma^2 (Delta/E)^2 tanh(x/2) / eta becomes gamma^2 (Delta/E)^2 / (eta (1 + e^{-x}))."""
    from manybody.simulation.observables.absorption import emission_stripped

    eps, delta, gamma, eta = 0.3, 0.4, 1.3, 0.01
    energy = math.hypot(eps, delta)
    spectrum, t_mn = solve(Realisation.from_arrays(asymmetry=[eps], tunnelling=[delta],
                                                   deformation_potential=[gamma]))
    q = absorption(spectrum, t_mn, [energy], [temperature], Broadening(kind="histogram",
                                                                      width=eta), method="exact")
    x = energy / temperature
    line = gamma**2 * (delta / energy) ** 2 / eta
    assert q[0, 0] == pytest.approx(line * math.tanh(x / 2), rel=1e-12)
    s_plus = emission_stripped(q, [energy], [temperature])
    assert s_plus[0, 0] == pytest.approx(line / (1 + math.exp(-x)), rel=1e-12)
    # per-realisation stacks (realisation, T, w) are accepted and stripped alike
    stacked = emission_stripped(np.stack([q, 2 * q]), [energy], [temperature])
    np.testing.assert_allclose(stacked[:, 0, 0], np.array([1, 2]) * s_plus[0, 0], rtol=1e-14)


@pytest.mark.parametrize("u", [-0.3, -0.004, 0.0, 0.002, 0.0049, 0.02, 0.5])
def test_histogram_dispersive_kernel_is_the_box_averaged_principal_value(u):
    """R(u) = (1/eta) PV int_{-eta/2}^{eta/2} du' / (u - u') for the box kernel of full width eta."""
    from scipy.integrate import quad

    eta = 0.01
    if abs(u) < 0.5 * eta:  # PV of 1/(u - u') = -1/(u' - u)
        expected = -quad(lambda t: 1.0, -0.5 * eta, 0.5 * eta, weight="cauchy", wvar=u)[0] / eta
    else:
        expected = quad(lambda t: 1.0 / (u - t), -0.5 * eta, 0.5 * eta, epsabs=0)[0] / eta
    got = Broadening(kind="histogram", width=eta).dispersive(np.array([u]))[0]
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_independent_tls_relaxation_closed_form_with_a_stress_scale():
    """independent_tls_susceptibility = (2 gamma eps/E)^2 sech^2(E/2T) / (4T) / (1 - i w tau),
    1/tau = K_ph (gamma/gamma_0)^2 Delta^2 E coth(E/2T), for gamma != gamma_0 (stress scale),
    and the master equation on the same single TLS agrees."""
    from reference import independent_tls_susceptibility

    from manybody.simulation.observables.relaxation import relaxation_susceptibility

    eps, delta, gamma, scale, k_ph = 0.2, 0.15, 1.7, 1.3, 1e9
    w, temps = np.array([1e-3, 1e-2]), np.array([0.05, 0.3])
    energy = math.hypot(eps, delta)
    t = temps[:, None]
    rate = k_ph * (gamma / scale) ** 2 * delta**2 * energy / np.tanh(energy / (2 * t))
    omega = w[None, :] * 1.380649e-23 / 1.054571817e-34
    expected = (2 * gamma * eps / energy) ** 2 / np.cosh(energy / (2 * t)) ** 2 / (4 * t) / (
        1 - 1j * omega / rate)
    got = independent_tls_susceptibility([eps], [delta], gamma, w, temps, k_ph,
                                         stress_scale=scale)[0]
    np.testing.assert_allclose(got, expected, rtol=1e-8)  # CODATA k_B/hbar rounding ~1e-9
    spectrum, t_mn = solve(Realisation.from_arrays(asymmetry=[eps], tunnelling=[delta],
                                                   deformation_potential=[gamma]))
    master = relaxation_susceptibility(spectrum, t_mn, w, temps, k_ph, stress_scale=scale)
    np.testing.assert_allclose(master, expected, rtol=1e-8)
    # the public Q^-1_rel (units of pi*C0 with the normalisation) and delta v/v (units of C0)
    from manybody.simulation.observables.relaxation import relaxation_absorption, relaxation_velocity_shift

    norm = 0.37
    np.testing.assert_allclose(relaxation_absorption(spectrum, t_mn, w, temps, k_ph, norm,
                                                     stress_scale=scale),
                               norm * expected.imag / math.pi, rtol=1e-8)
    np.testing.assert_allclose(relaxation_velocity_shift(spectrum, t_mn, w, temps, k_ph, norm,
                                                         stress_scale=scale),
                               -0.5 * norm * expected.real, rtol=1e-8)


# ---------------------------------------------------------------------------------------------
# level statistics

R_POISSON = 2 * math.log(2) - 1  # 0.3863


def test_k0_eigenvalues_are_the_sums_of_half_splittings():
    params = ModelParams(n_tls=9)
    real = draw_realisation(params, realisation_rng(1, 0))
    spectrum, _ = solve(real)
    signs = np.array(list(itertools.product([-1, 1], repeat=9)))
    np.testing.assert_allclose(spectrum.energies, np.sort(signs @ real.energies / 2), atol=1e-12)


@pytest.mark.parametrize("seed", range(16))
def test_poisson_spacing_ratio_for_any_seed(seed):
    """<r> of K = 0 spectra (sums of +-E_i/2, which is what ED gives: test above) is
    2 ln 2 - 1 within 4 standard errors of the sample mean (plus a finite-N allowance of 0.005
    for N = 12, measured 0.388 +- 0.002 over 400 realisations)."""
    n, count = 12, 48
    params = ModelParams(n_tls=n)
    signs = np.array(list(itertools.product([-1, 1], repeat=n)), dtype=float)
    values = np.array([mean_spacing_ratio(signs @ draw_realisation(
        params, realisation_rng(seed, r)).energies / 2) for r in range(count)])
    error = values.std(ddof=1) / math.sqrt(count)
    assert error < 0.01
    assert abs(values.mean() - R_POISSON) < 4 * error + 0.005, (values.mean(), error)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=12, max_size=60, unique=True))
def test_spacing_ratio_definition(levels):
    """<r> over the central 80 % equals the textbook definition written here (sizes where 10 %
    of the levels is a half-integer are skipped: the code's 0.5 * (1 - 0.8) is 0.0999...)."""
    e = np.sort(np.asarray(levels))
    if e.size % 10 == 5:
        return
    # the documented degeneracy tolerance for float64 eigenvalues: 4 sqrt(D) eps64 max|E|
    # (precision given explicitly: dyadic test levels would otherwise be read as float32 output)
    tolerance = 4 * np.sqrt(e.size) * np.finfo(np.float64).eps * np.abs(e).max()
    cut = int(round(0.1 * e.size))
    s = np.diff(e[cut:e.size - cut])
    s = s[s > tolerance]
    if s.size < 2:
        return
    expected = np.mean(np.minimum(s[:-1], s[1:]) / np.maximum(s[:-1], s[1:]))
    assert mean_spacing_ratio(np.random.default_rng(0).permutation(e),
                              precision=np.float64) == pytest.approx(expected, rel=1e-12)


def test_spacing_ratio_edges_and_bad_window():
    """Three levels give one ratio; two levels, or a window outside (0, 1], are refused with the
    value named."""
    from manybody.simulation.observables.statistics import spacing_ratios

    np.testing.assert_allclose(spacing_ratios([0.0, 1.0, 3.0], window=1.0), [0.5], rtol=1e-15)
    np.testing.assert_allclose(spacing_ratios([3.0, 0.0, 1.0, 1.5], window=1.0), [0.5, 1 / 3],
                               rtol=1e-15)
    with pytest.raises(ValueError, match="at least 3 distinct levels.*got 2"):
        spacing_ratios([0.0, 1.0], window=1.0)
    with pytest.raises(ValueError, match="at least 3 distinct levels.*got 2"):
        spacing_ratios([0.0, 1.0, 1.0], window=1.0)  # an exact degeneracy is removed
    for window in (0.0, 1.5, 2.0, -0.2):
        with pytest.raises(ValueError, match=f"window must be in \\(0, 1\\], got {window}"):
            spacing_ratios(np.arange(10.0), window=window)


# ---------------------------------------------------------------------------------------------
# participation ratio


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 64), st.integers(0, 2**32 - 1))
def test_participation_ratio_of_an_even_spread_is_the_number_of_states(k, seed):
    """A state spread evenly (random signs) over k of D basis states has participation k."""
    rng = np.random.default_rng(seed)
    dim = 64
    v = np.zeros((dim, 3))
    for col in range(3):
        idx = rng.choice(dim, size=k, replace=False)
        v[idx, col] = rng.choice([-1.0, 1.0], size=k) / math.sqrt(k)
    np.testing.assert_allclose(participation_ratio(v), k, rtol=1e-12)


def test_participation_ratio_bounds_and_two_state_closed_form():
    """cos(a)|0> + sin(a)|1>: 1 / (cos^4 a + sin^4 a), from 1 (a = 0) to 2 (a = pi/4)."""
    a = np.linspace(0, math.pi / 2, 11)
    v = np.vstack([np.cos(a), np.sin(a), np.zeros_like(a)])
    np.testing.assert_allclose(participation_ratio(v), 1 / (np.cos(a) ** 4 + np.sin(a) ** 4),
                               rtol=1e-12)
    # eigenvectors of a dense random symmetric matrix: 1 <= PR <= D
    h = np.random.default_rng(0).normal(size=(32, 32))
    pr = participation_ratio(np.linalg.eigh(h + h.T)[1])
    assert np.all(pr >= 1) and np.all(pr <= 32)


# ---------------------------------------------------------------------------------------------
# random streams of a run


def test_streams_of_different_seeds_and_realisations_never_overlap():
    """realisation_rng(s, r) for a grid of small s, r (and the Chebyshev trace streams
    (r, 1)) share no 64-bit draw among their first 512: no stream is another's, shifted."""
    from manybody.simulation.solvers.chebyshev.solver import TRACE_STREAM

    draws = {}
    for s, r in itertools.product(range(8), range(8)):
        draws[(s, r)] = realisation_rng(s, r).integers(0, 2**63, size=512, dtype=np.int64)
        trace = np.random.default_rng(np.random.SeedSequence(s, spawn_key=(r, TRACE_STREAM)))
        draws[(s, r, "trace")] = trace.integers(0, 2**63, size=512, dtype=np.int64)
    everything = np.concatenate(list(draws.values()))
    assert np.unique(everything).size == everything.size


def test_streams_are_uncorrelated():
    """Pairwise correlations of 4096 uniforms from the 64 streams of an 8 x 8 (seed, r) grid are
    within 5.5 sigma (sigma = 1/64) of zero: max over 2016 pairs of |N(0,1)| exceeds 5.5 with
    probability < 1e-4."""
    x = np.array([realisation_rng(s, r).random(4096) for s in range(8) for r in range(8)])
    c = np.corrcoef(x)
    off = np.abs(c[np.triu_indices(64, 1)])
    assert off.max() < 5.5 / math.sqrt(4096)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31), st.integers(0, 1000), st.integers(0, 2**31), st.integers(0, 1000))
def test_realisations_are_the_documented_recipe_and_distinct(s1, r1, s2, r2):
    params = ModelParams(n_tls=4, coupling=CouplingParams(kind="gaussian", strength=0.1))
    a = draw_realisation(params, realisation_rng(s1, r1))
    rng = np.random.default_rng(np.random.SeedSequence(s1, spawn_key=(r1,)))
    np.testing.assert_array_equal(a.asymmetry, rng.uniform(-1.0, 1.0, 4))
    b = draw_realisation(params, realisation_rng(s2, r2))
    assert np.array_equal(a.asymmetry, b.asymmetry) == ((s1, r1) == (s2, r2))


# ---------------------------------------------------------------------------------------------
# shape ratio


@pytest.mark.parametrize("n_points", [4, 5, 9])
def test_shape_ratio_is_exact_for_a_cubic_in_ln_x(n_points):
    """R = Q(2)/Q(0.5) through a cubic spline in ln x reproduces any cubic in ln x exactly, from
    4 points on (x exactly spanning [0.5, 2] is accepted); outside that span it is refused."""
    from manybody.laws.shapes import shape_ratio

    x = np.geomspace(0.4, 2.5, n_points)  # 0.5 and 2 between nodes: interpolation matters

    def q(x):
        lx = np.log(x)
        return 2.0 + 0.7 * lx - 0.4 * lx**2 + 0.9 * lx**3

    assert shape_ratio(x, q(x)) == pytest.approx(q(2.0) / q(0.5), rel=1e-12)
    # per-realisation rows (2-d), and the linear route below 4 points (ends at x = 0.5, 2)
    np.testing.assert_allclose(shape_ratio(x, np.vstack([q(x), 3 * q(x) + 1])),
                               [q(2.0) / q(0.5), (3 * q(2.0) + 1) / (3 * q(0.5) + 1)], rtol=1e-12)
    three = np.array([2.0, 0.5, 1.0])
    np.testing.assert_allclose(shape_ratio(three, np.vstack([q(three), q(three) + 1])),
                               [q(2.0) / q(0.5), (q(2.0) + 1) / (q(0.5) + 1)], rtol=1e-14)
    edges = np.geomspace(0.5, 2.0, n_points)
    assert shape_ratio(edges, q(edges)) == pytest.approx(q(2.0) / q(0.5), rel=1e-12)
    with pytest.raises(ValueError, match="span"):
        shape_ratio(edges * 1.01, q(edges))
    with pytest.raises(ValueError, match="span"):
        shape_ratio(edges / 1.01, q(edges))
