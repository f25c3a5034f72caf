"""Golden-rule absorption, velocity shift and thermodynamics: exact limits, invariants, cross-checks."""

import itertools
import math
import warnings

import numpy as np
import pytest

from manybody.config.model import CouplingParams, ModelParams, RandomMatrixParams, StressParams
from manybody.config.probe import Broadening
from manybody.simulation.ensembles import Realisation, draw_realisation, realisation_rng
from manybody.simulation.observables.absorption import (
    absorption,
    emission_stripped,
    pair_spectrum,
    transition_lines,
    velocity_shift,
)
from manybody.simulation.observables.thermo import entropy, schottky, specific_heat
from manybody.simulation.operators import build_operators
from manybody.simulation.solvers.dense import solve
from manybody.simulation.spectrum import Spectrum

KERNELS = [Broadening(kind="gaussian", width=0.02), Broadening(kind="lorentzian", width=0.01),
           Broadening(kind="histogram", width=0.02)]


def one_tls(eps=0.3, delta=0.4, gamma=1.3):
    return solve(Realisation.from_arrays(asymmetry=[eps], tunnelling=[delta],
                                         deformation_potential=[gamma]))


@pytest.mark.parametrize("temperature", [0.02, 0.1, 0.5, 3.0])
def test_one_tls_single_line_weight(temperature):
    eps, delta, gamma = 0.3, 0.4, 1.3
    spectrum, t_mn = one_tls(eps, delta, gamma)
    energy = math.hypot(eps, delta)
    lines, weights = transition_lines(spectrum, t_mn, temperature)
    assert lines.size == 1
    assert lines[0] == pytest.approx(energy, rel=1e-14)
    expected = gamma**2 * (delta / energy) ** 2 * math.tanh(energy / (2 * temperature))
    assert weights[0] == pytest.approx(expected, rel=1e-13)
    # the broadened spectrum integrates to the same weight, centred on w = E
    w = np.linspace(energy - 0.3, energy + 0.3, 3001)
    q = absorption(spectrum, t_mn, w, [temperature], Broadening(kind="gaussian", width=0.01))[0]
    assert np.trapezoid(q, w) == pytest.approx(expected, rel=1e-9)
    assert np.trapezoid(q * w, w) / np.trapezoid(q, w) == pytest.approx(energy, rel=1e-9)


@pytest.mark.parametrize("broadening", KERNELS[:2], ids=lambda b: b.kind)
def test_binned_method_matches_exact(broadening):
    """(The binned side took the default, exact, since the default changed: it compared the
    exact sum with itself; session 34 passes method="binned".)"""
    params = ModelParams(n_tls=6, coupling=CouplingParams(strength=0.1),
                         random_matrix=RandomMatrixParams(weight=0.2))
    spectrum, t_mn = solve(draw_realisation(params, realisation_rng(4, 0)))
    w = np.linspace(0.1, 1.0, 50)
    temps = np.array([0.05, 0.2, 1.0])
    fine = Broadening(kind=broadening.kind, width=broadening.width, resolution=16)
    exact = absorption(spectrum, t_mn, w, temps, fine, method="exact")
    binned = absorption(spectrum, t_mn, w, temps, fine, method="binned")
    assert not np.array_equal(binned, exact)
    # tent deposit error ~ (1/resolution)^2/8 of an isolated line's peak
    assert np.abs(binned - exact).max() <= 2e-3 * np.abs(exact).max()
    vb = velocity_shift(spectrum, t_mn, w, temps, fine, method="binned")
    ve = velocity_shift(spectrum, t_mn, w, temps, fine, method="exact")
    assert np.abs(vb - ve).max() <= 2e-3 * np.abs(ve).max()


def test_binned_method_refuses_the_histogram_kernel():
    """Binning the discontinuous box kernel erred by up to 73 % of a line's peak, and grid nodes on
    its edges gave a NaN velocity shift (a tester, session 34): refused by name."""
    spectrum, t_mn = one_tls()
    box = Broadening(kind="histogram", width=0.0625)
    for function in (absorption, velocity_shift):
        with pytest.raises(ValueError, match=r"method='binned'.*histogram.*method='exact'"):
            function(spectrum, t_mn, [0.1], [0.05], box, method="binned")
    with pytest.raises(ValueError, match=r"method='binned'.*histogram"):
        pair_spectrum(spectrum, t_mn, [0.1], box, method="binned")


def test_a_line_on_the_edge_of_the_box_kernel_is_named():
    """E = 1.25 K, w = 1.125 K, eta = 0.25 K: the line sits exactly at w + eta/2, where the box's
    dispersive partner is infinite; it returned NaN without a word (a tester, session 34), then
    was refused for the whole call. Now NaN in that column only, with a BoxEdgeWarning naming w
    (one behaviour for exact hits and hits within round-off, session 43). Off the edge finite."""
    from manybody.simulation.observables.absorption import BoxEdgeWarning

    spectrum, t_mn = one_tls(0.75, 1.0, 1.0)
    box = Broadening(kind="histogram", width=0.25)
    with pytest.warns(BoxEdgeWarning, match=r"velocity shift at w = 1\.125 K is NaN: the "
                                            r"transition E_m - E_n = 1\.25 K"):
        shift = velocity_shift(spectrum, t_mn, [1.125, 1.0], [0.5], box)
    assert np.isnan(shift[0, 0]) and np.isfinite(shift[0, 1])
    assert np.all(np.isfinite(velocity_shift(spectrum, t_mn, [1.1251], [0.5], box)))


def interacting_goe_system(n=6, seed=2):
    params = ModelParams(n_tls=n, coupling=CouplingParams(kind="dipolar", strength=0.2),
                         random_matrix=RandomMatrixParams(kind="goe", weight=0.5),
                         stress=StressParams(distribution="gaussian", two_body=0.2,
                                             random_matrix=0.3))
    real = draw_realisation(params, realisation_rng(seed, 0))
    h, t = build_operators(real)
    spectrum, t_mn = solve(real)
    return h, np.asarray(t.todense() if hasattr(t, "todense") else t), spectrum, t_mn


def test_emission_stripped_of_one_tls_is_fermi_function():
    spectrum, t_mn = one_tls(0.0, 0.5, 1.0)
    temps = np.geomspace(0.05, 5, 9)
    w = np.array([0.5])
    q = absorption(spectrum, t_mn, w, temps, Broadening(kind="histogram", width=0.01),
                   method="exact")
    s_plus = emission_stripped(q, w, temps)[:, 0]
    x = 0.5 / temps
    np.testing.assert_allclose(s_plus / s_plus[0], (1 / (1 + np.exp(-x))) / (1 / (1 + np.exp(-x[0]))),
                               rtol=1e-12)


def test_one_tls_velocity_shift_low_frequency_limit():
    eps, delta, gamma = 0.3, 0.4, 1.0
    spectrum, t_mn = one_tls(eps, delta, gamma)
    energy = math.hypot(eps, delta)
    temps = np.array([0.05, 0.3, 2.0])
    dv = velocity_shift(spectrum, t_mn, [1e-4], temps, Broadening(kind="lorentzian", width=1e-5),
                        method="exact")[:, 0]
    expected = -(gamma**2) * (delta / energy) ** 2 * np.tanh(energy / (2 * temps)) / energy
    np.testing.assert_allclose(dv, expected, rtol=1e-6)


def test_specific_heat_is_schottky_sum(rng):
    n = 7
    eps, delta = rng.uniform(-1, 1, n), rng.uniform(0.01, 1, n)
    spectrum, _ = solve(Realisation.from_arrays(asymmetry=eps, tunnelling=delta))
    temps = np.geomspace(0.01, 10, 30)
    np.testing.assert_allclose(specific_heat(spectrum.energies, temps),
                               schottky(np.hypot(eps, delta), temps), rtol=1e-10, atol=1e-14)
    # single-TLS Schottky maximum 0.4392 at x = 2.399
    t = np.linspace(0.3, 0.6, 30001)
    c = schottky(np.array([1.0]), t)
    assert c.max() == pytest.approx(0.43923, abs=1e-4)
    assert 1 / t[np.argmax(c)] == pytest.approx(2.3994, abs=1e-3)
    # entropy: ln 2 per TLS at high T, 0 at low T
    s = entropy(spectrum.energies, [1e4, 1e-3])
    assert s[0] == pytest.approx(n * math.log(2), rel=1e-6)
    assert s[1] == pytest.approx(0.0, abs=1e-10)


def test_flat_random_block_follows_one_minus_exp_and_is_width_independent():
    from manybody.laws.analysis import analyse_shape
    params = ModelParams(n_tls=9, tls=None,
                         random_matrix=RandomMatrixParams(kind="flat", weight=10.0),
                         stress=StressParams(distribution="none", random_matrix=1.0))
    w = np.array([0.5])
    x = np.geomspace(0.3, 8, 10)
    systems = [solve(draw_realisation(params, realisation_rng(11, r))) for r in range(24)]
    q, q_half = (np.array([absorption(s, t, w, w[0] / x, Broadening(width=eta))[:, 0]
                           for s, t in systems]) for eta in (0.08, 0.04))
    shape = analyse_shape(x, q)
    # consistent with 0 at the 0.1 level and far from the TLS value 1 (96 realisations resolve a
    # small finite-size residual, a = -0.04 +- 0.012, see the issue note)
    assert abs(shape.index) < 0.1
    assert shape.index_error < 0.05
    assert abs(shape.index - 1) > 10 * shape.index_error
    assert shape.verdict != "TLS (tanh)"
    # the disorder-averaged spectrum is smooth on the kernel width (0.08 K = 4 level spacings):
    # halving the width changes Q^-1 by less than its statistical error
    err = np.hypot(q.std(0, ddof=1), q_half.std(0, ddof=1)) / math.sqrt(len(q))
    assert np.all(np.abs(q.mean(0) - q_half.mean(0)) < 2 * err)


def test_goe_block_at_its_lower_edge_is_neither_law():
    from manybody.laws.analysis import analyse_shape
    params = ModelParams(n_tls=9, tls=None, random_matrix=RandomMatrixParams(kind="goe", weight=1.0),
                         stress=StressParams(distribution="none", random_matrix=1.0))
    w = np.array([0.05])
    x = np.geomspace(0.3, 8, 10)
    qs = []
    for r in range(8):
        s, t = solve(draw_realisation(params, realisation_rng(3, r)))
        qs.append(absorption(s, t, w, w[0] / x, Broadening(width=0.01))[:, 0])
    shape = analyse_shape(x, np.array(qs))
    assert shape.verdict not in ("TLS (tanh)", "generic block (1 - e^-x)"), shape


@pytest.mark.parametrize("call,match", [
    (lambda s, t: absorption(s, t, [0.1], [0.0]), "temperatures must be > 0"),
    (lambda s, t: absorption(s, t, [0.1], [-1.0]), "temperatures must be > 0"),
    (lambda s, t: absorption(s, t, [np.nan], [0.1]), "frequencies must contain only finite"),
    (lambda s, t: absorption(s, t, [0.1], [0.1], Broadening(width=0.01), method="fast"),
     "method must be one of"),
    (lambda s, t: absorption(s, t[:1, :1], [0.1], [0.1]), "stress_elements must have shape"),
    (lambda s, t: Broadening(width=0.0), "broadening.width must be > 0"),
    (lambda s, t: Broadening(width=-1), "broadening.width must be > 0"),
    (lambda s, t: Broadening(width=1e10), "broadening.width must be below 1000 K"),
    (lambda s, t: emission_stripped(np.ones((2, 3)), [0.1], [0.1]), "q must end in shape"),
])
def test_bad_input_is_named(call, match):
    s, t = one_tls()
    with pytest.raises((ValueError, TypeError), match=match):
        call(s, t)


@pytest.mark.parametrize("method", ["exact", "binned"])
@pytest.mark.parametrize("width", [0.003, 0.001])
def test_frequency_above_the_band_absorbs_nothing_and_shifts_the_velocity(method, width):
    """A probe above a spectrum's largest transition (refused until session 28, which stopped a
    sweep at the first realisation whose band lay below it): Q = 0 for a Gaussian kernel, and the
    velocity shift is the off-resonant sum of PHYSICS.md section 3, for one TLS
    -(gamma Delta / E)^2 tanh(E / 2T) [1/(E - w) + 1/(E + w)] / 2, up to the kernel's (eta / (w - E))^2
    (the binned grid is 10 % geometric away from the probe: 1 % there)."""
    eps, delta, gamma, temperature = 0.06, 0.08, 1.0, 0.05
    spectrum, t_mn = one_tls(eps, delta, gamma)
    energy = math.hypot(eps, delta)
    kernel = Broadening(kind="gaussian", width=width)
    w = np.array([0.5, 1.0])
    expected = (-0.5 * (gamma * delta / energy) ** 2 * np.tanh(energy / (2 * temperature))
                * (1 / (energy - w) + 1 / (energy + w)))
    got = velocity_shift(spectrum, t_mn, w, [temperature], kernel, method=method)[0]
    tolerance = 5 * (width / (w - energy)) ** 2 if method == "exact" else 0.01
    assert np.all(np.abs(got / expected - 1) <= tolerance), (got, expected)
    assert np.all(absorption(spectrum, t_mn, w, [temperature], kernel, method=method) == 0.0)


def test_sweep_with_realisations_below_the_probe_runs_to_the_end():
    """N = 1 canonical TLS, probe 0.25 K: realisations whose line lies more than 12 widths below
    the probe give Q = 0 and a finite velocity shift; the sweep no longer stops at the first."""
    from manybody.runs.spec import RunSpec
    from manybody.runs.sweep import run_sweep

    spec = RunSpec.from_dict({
        "name": "n1", "seed": 3, "realisations": 12,
        "model": {"n_tls": 1, "tls": {"asymmetry_max": 0.3, "tunnelling_min": 1e-3,
                                      "tunnelling_max": 0.3}},
        "probe": {"frequencies": [0.25], "temperatures": [0.05, 0.25],
                  "observables": ["absorption", "velocity_shift"],
                  "broadening": {"kind": "gaussian", "width": 0.01}}})
    data = run_sweep(spec, n_jobs=1)
    q = data["absorption"].values
    assert np.all(np.isfinite(q)) and np.all(np.isfinite(data["velocity_shift"].values))
    assert np.any(q == 0.0) and np.any(q > 0.0)  # some lines below the probe, some at it


def test_hand_built_inputs_are_checked_for_consistency():
    """A tester (session 28): T_mn with one triangle gave the full answer (triu) or exactly 0
    (tril), and an unsorted Spectrum a 'largest transition energy -0.15 K'. Both are refused by
    name; a symmetric T with float32 round-off is accepted."""

    params = ModelParams(n_tls=3, coupling=CouplingParams(kind="gaussian", strength=0.05))
    spectrum, t_mn = solve(draw_realisation(params, realisation_rng(1, 0)))
    w, temps = [0.1], [0.05]
    for half in (np.triu(t_mn), np.tril(t_mn)):
        for function in (absorption, velocity_shift, transition_lines):
            args = ((spectrum, half, 0.05) if function is transition_lines
                    else (spectrum, half, w, temps))
            with pytest.raises(ValueError, match=r"stress_elements must be real symmetric .*T\["):
                function(*args)
    noisy = (t_mn + 1e-6 * np.abs(t_mn).max() * np.triu(np.ones_like(t_mn), 1)).astype(np.float32)
    absorption(spectrum, noisy, w, temps)  # float32 round-off level: accepted
    with pytest.raises(ValueError, match="symmetric"):
        absorption(spectrum, noisy.astype(np.float64), w, temps)  # not in float64
    order = np.random.default_rng(0).permutation(spectrum.dimension)
    with pytest.raises(ValueError, match=r"spectrum.energies must be ascending .*E\[\d+\] = "):
        Spectrum(energies=spectrum.energies[order])  # refused by the Spectrum itself


@pytest.mark.parametrize(("energies", "vectors", "error", "words"), [
    ([np.nan, 1.0], None, ValueError, r"spectrum\.energies must contain only finite"),
    ([], None, ValueError, r"spectrum\.energies must be a non-empty 1-d"),
    ([[0.0, 1.0]], None, ValueError, r"spectrum\.energies must be a non-empty 1-d"),
    ([0.0, 1.0], np.eye(3), ValueError, r"spectrum\.vectors must have shape \(2, 2\)"),
    ([0.0, 1.0], np.full((2, 2), np.nan), ValueError, r"spectrum\.vectors must contain only "
                                                       r"finite"),
    ([0.0, 1.0], np.eye(2) * (1 + 1j), TypeError, r"spectrum\.vectors must be an array of real"),
    (["a", "b"], None, TypeError, r"spectrum\.energies"),
    (1.0, None, ValueError, r"spectrum\.energies must be a 1-d array of eigenvalues \(K\), got "
                            r"the number 1\.0"),
    ([1.0, np.nextafter(1.0, 0.0)], None, ValueError, r"E\[0\] = 1 K > E\[1\] = "
                                                       r"0\.99999999999999989 K"),
])
def test_a_spectrum_checks_its_energies_and_vectors(energies, vectors, error, words):
    """Spectrum took NaN or descending energies and vectors of any shape: bad vectors failed
    deep inside the relaxation code (IndexError, LinAlgError) where it rotates degenerate levels
    (a helper, session 36)."""
    with pytest.raises(error, match=words):
        Spectrum(energies=energies, vectors=vectors)


def test_a_spectrum_from_a_list_is_a_float64_array():
    spectrum = Spectrum(energies=[0, 1, 1, 2], vectors=np.eye(4, dtype=np.float32))
    assert spectrum.energies.dtype == np.float64 and spectrum.vectors.dtype == np.float32


def test_a_kernel_as_wide_as_the_frequency_warns_through_the_api():
    """The README: a kernel at least half the lowest frequency warns (a run at its preflight;
    absorption and velocity_shift of the API said nothing: a tester, session 28)."""
    spectrum, t_mn = one_tls(0.06, 0.08, 1.0)
    for function in (absorption, velocity_shift):
        with pytest.warns(UserWarning, match=r"broadening.width = 1 K .* lowest frequency 0.1 K"):
            function(spectrum, t_mn, [0.1, 0.3], [0.05], Broadening(width=1.0))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            function(spectrum, t_mn, [0.1, 0.3], [0.05], Broadening(width=0.01))


def test_pair_spectrum_reused_for_any_temperature():
    _, _, spectrum, t_mn = interacting_goe_system()
    w = np.array([0.2, 0.4])
    b = Broadening(width=0.02)
    pairs = pair_spectrum(spectrum, t_mn, w, b)
    temps = np.array([0.1, 0.5])
    np.testing.assert_allclose(pairs.absorption(w, temps),
                               np.vstack([absorption(spectrum, t_mn, w, [t], b) for t in temps]))


@pytest.mark.parametrize("bad", [0, -5, 2.5, "many"])
def test_pair_spectrum_refuses_a_chunk_that_is_not_a_positive_integer(bad):
    """chunk_pairs = 0 or -5 were taken silently (a helper, session 36)."""
    _, _, spectrum, t_mn = interacting_goe_system()
    with pytest.raises((ValueError, TypeError), match="chunk_pairs"):
        pair_spectrum(spectrum, t_mn, [0.2], Broadening(width=0.02), chunk_pairs=bad,
                      method="binned")


def test_level_statistics_goe_and_poisson():
    from manybody.simulation.observables.statistics import R_GOE, mean_spacing_ratio
    goe = ModelParams(n_tls=10, tls=None, random_matrix=RandomMatrixParams(kind="goe", weight=1.0))
    r_goe = np.mean([mean_spacing_ratio(solve(draw_realisation(goe, realisation_rng(1, r)))[0]
                                        .energies) for r in range(4)])
    assert abs(r_goe - R_GOE) < 0.01
    # Poisson (K = 0): tests/test_invariants.py, tolerance from the sampling error, 16 seeds


def test_all_permutations_of_k0_levels_are_products():
    """K = 0: each eigenvector is a product state (participation in the TLS eigenbasis is 1)."""
    eps, delta = np.array([0.3, -0.17, 0.53]), np.array([0.0, 0.0, 0.0]) + 1e-12
    spectrum, _ = solve(Realisation.from_arrays(asymmetry=eps, tunnelling=delta))
    from manybody.simulation.observables.statistics import participation_ratio
    np.testing.assert_allclose(participation_ratio(spectrum.vectors), 1.0, atol=1e-9)
    sums = sorted(np.dot(s, np.hypot(eps, delta)) / 2 for s in itertools.product([-1, 1], repeat=3))
    np.testing.assert_allclose(spectrum.energies, sums, atol=1e-12)
