"""Ensembles, reproducibility and input validation."""

import math

import numpy as np
import pytest

from manybody.config.model import CouplingParams, ModelParams, RandomMatrixParams, StressParams, TLSParams
from manybody.simulation.ensembles import (
    Realisation,
    absorption_normalisation,
    draw_realisation,
    periodic_distances,
    realisation_rng,
)


def test_same_seed_bit_identical_and_indices_independent():
    params = ModelParams(n_tls=8, coupling=CouplingParams(kind="dipolar", strength=0.1),
                         random_matrix=RandomMatrixParams(weight=0.2),
                         stress=StressParams(distribution="gaussian", two_body=0.1))
    a = draw_realisation(params, realisation_rng(7, 3))
    b = draw_realisation(params, realisation_rng(7, 3))
    c = draw_realisation(params, realisation_rng(7, 4))
    for name in ("asymmetry", "tunnelling", "deformation_potential", "stress_coupling", "positions"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        assert not np.array_equal(getattr(a, name), getattr(c, name))
    np.testing.assert_array_equal(a.couplings["zz"], b.couplings["zz"])
    assert a.random_matrix.seed == b.random_matrix.seed != c.random_matrix.seed


def test_canonical_distribution_is_uniform_in_eps_and_log_delta(rng):
    from manybody.simulation.ensembles import draw_tls
    p = TLSParams(asymmetry_max=2.0, tunnelling_min=1e-4, tunnelling_max=1.0)
    eps, delta = draw_tls(p, 200000, rng)
    assert abs(eps.mean()) < 0.01 and abs(eps.var() - 4 / 3) < 0.01
    log_d = np.log(delta)
    assert abs(log_d.mean() - 0.5 * math.log(1e-4)) < 0.02
    assert delta.min() >= 1e-4 and delta.max() <= 1.0


def test_gaussian_couplings_statistics(rng):
    from manybody.simulation.ensembles import draw_couplings
    k, _ = draw_couplings(CouplingParams(kind="gaussian", strength=0.3), 200, rng)
    zz = k["zz"]
    np.testing.assert_array_equal(zz, zz.T)
    assert np.all(np.diag(zz) == 0)
    assert abs(zz[np.triu_indices(200, 1)].std() - 0.3) < 0.01


def test_dipolar_couplings_follow_inverse_cube(rng):
    from manybody.simulation.ensembles import draw_couplings
    k, pos = draw_couplings(CouplingParams(kind="dipolar", strength=1.0), 300, rng)
    r = periodic_distances(pos)
    iu = np.triu_indices(300, 1)
    c = k["zz"][iu] * r[iu] ** 3
    assert np.all(np.abs(c) <= math.sqrt(3) + 1e-12)
    assert abs(np.sqrt(np.mean(c**2)) - 1.0) < 0.02
    side = 300 ** (1 / 3)
    assert r[iu].max() <= math.sqrt(3) * side / 2 + 1e-12  # minimum image


def test_normalisation_factor():
    params = ModelParams(n_tls=4, tls=TLSParams(asymmetry_max=2.0, tunnelling_min=1e-3,
                                                tunnelling_max=1.0),
                         stress=StressParams(deformation_potential=0.5))
    assert absorption_normalisation(params) == pytest.approx(2.0 * math.log(1e3) / (4 * 0.25))


@pytest.mark.parametrize("kwargs,match", [
    (dict(n_tls=0), "n_tls must be an integer between 1 and 30, got 0"),
    (dict(n_tls=31), "n_tls must be an integer between 1 and 30, got 31"),
    (dict(n_tls=2.5), "n_tls must be an integer"),
    (dict(n_tls=3, tls=None), "model has no Hamiltonian"),
])
def test_bad_model_params(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        ModelParams(**kwargs)


@pytest.mark.parametrize("cls,kwargs,match", [
    (TLSParams, dict(asymmetry_max=-1), "tls.asymmetry_max must be > 0, got -1"),
    (TLSParams, dict(asymmetry_max=float("nan")), "tls.asymmetry_max must be a finite"),
    (TLSParams, dict(tunnelling_min=1.0, tunnelling_max=0.5), "tunnelling_min must be < "),
    (CouplingParams, dict(strength=-0.1), "coupling.strength must be >= 0"),
    (CouplingParams, dict(kind="yukawa"), "coupling.kind must be one of 'gaussian', 'dipolar'"),
    (RandomMatrixParams, dict(kind="gue"), "random_matrix.kind must be one of"),
    (StressParams, dict(deformation_potential=0), "stress.deformation_potential must be > 0"),
])
def test_bad_component_params(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


def test_from_dict_rejects_unknown_keys_listing_valid_ones():
    with pytest.raises(ValueError, match=r"unknown key\(s\) 'asymetry_max' in model.tls; valid keys"
                                         r" are asymmetry_max, tunnelling_min, tunnelling_max"):
        ModelParams.from_dict({"n_tls": 3, "tls": {"asymetry_max": 1.0}})
    with pytest.raises(ValueError, match="unknown key"):
        ModelParams.from_dict({"n_tls": 3, "bath": {}})
    p = ModelParams.from_dict({"n_tls": 3, "coupling": {"kind": "dipolar", "strength": 0.1}})
    assert p.coupling.kind == "dipolar"


def test_from_arrays_validation():
    with pytest.raises(ValueError, match=r"tunnelling must have shape \(2,\), got shape \(3,\)"):
        Realisation.from_arrays(asymmetry=[0.1, 0.2], tunnelling=[1, 2, 3])
    with pytest.raises(ValueError, match="must be symmetric"):
        Realisation.from_arrays(asymmetry=[0.1, 0.2], tunnelling=[1, 2],
                                couplings={"zz": [[0, 1.0], [0.5, 0]]})
    with pytest.raises(ValueError, match="zero diagonal"):
        Realisation.from_arrays(asymmetry=[0.1, 0.2], tunnelling=[1, 2],
                                couplings={"zz": [[1.0, 1.0], [1.0, 0]]})
    with pytest.raises(ValueError, match="couplings key must be one of"):
        Realisation.from_arrays(asymmetry=[0.1], tunnelling=[1], couplings={"yy": [[0.0]]})
    with pytest.raises(ValueError, match="finite"):
        Realisation.from_arrays(asymmetry=[np.nan], tunnelling=[1])
    with pytest.raises(ValueError, match="n_tls is required"):
        Realisation.from_arrays()
    r = Realisation.from_arrays(asymmetry=[0.1], tunnelling=[1.0])
    with pytest.raises(ValueError):
        r.asymmetry[0] = 3.0  # arrays are read-only


def test_eth_stress_needs_a_prescribed_block():
    with pytest.raises(ValueError, match="'eth' needs random_matrix.kind"):
        ModelParams(n_tls=3, stress=StressParams(random_matrix=0.1, random_matrix_kind="eth"))


def test_min_distance_changes_only_the_pairs_closer_than_it():
    """The same seed draws the same TLS and positions at every coupling.min_distance, and only the
    couplings of pairs closer than it change (held at |K| = J0 |c| / d^3): a sweep over the hard
    core is paired realisation by realisation (scripts/min_distance_effect.py relies on it)."""
    from manybody.simulation.ensembles import draw_realisation, periodic_distances, realisation_rng

    base = ModelParams(n_tls=12, coupling=CouplingParams(kind="dipolar", strength=0.01))
    cored = ModelParams(n_tls=12, coupling=CouplingParams(kind="dipolar", strength=0.01,
                                                          min_distance=0.6))
    changed = 0
    for r in range(5):
        a = draw_realisation(base, realisation_rng(7, r))
        b = draw_realisation(cored, realisation_rng(7, r))
        np.testing.assert_array_equal(a.positions, b.positions)
        np.testing.assert_array_equal(a.asymmetry, b.asymmetry)
        np.testing.assert_array_equal(a.tunnelling, b.tunnelling)
        np.testing.assert_array_equal(a.deformation_potential, b.deformation_potential)
        dist = periodic_distances(a.positions)
        np.fill_diagonal(dist, np.inf)
        close = dist < 0.6
        ka, kb = a.couplings["zz"], b.couplings["zz"]
        np.testing.assert_array_equal(ka[~close], kb[~close])
        np.testing.assert_allclose(kb[close], ka[close] * dist[close] ** 3 / 0.6**3, rtol=1e-12)
        assert np.abs(kb).max() <= 0.01 * math.sqrt(3) / 0.6**3 * (1 + 1e-12)
        changed += int(close.any())
    assert changed >= 1  # the test sees at least one realisation with a cored pair


def test_eth_stress_variance_falls_as_exp_of_mean_energy_over_its_scale():
    """|M_mn|^2 = g_mn^2 exp(-(Ebar_mn - E0)/T_E) (StressParams, PHYSICS.md section 1): it fell
    as exp(-2 (Ebar - E0)/T_E), so rho(E + w)|M|^2 was not flat for rho ~ exp(E/T_E)."""
    from manybody.simulation.random_matrices import eth_matrix, goe
    levels = np.sort(np.random.default_rng(3).uniform(0.0, 2.0, 40))
    scale = 0.5
    matrix = eth_matrix(levels, scale, np.random.default_rng(7))
    g = goe(40, np.random.default_rng(7))
    mean = (levels[:, None] + levels[None, :]) / 2 - levels[0]
    np.testing.assert_allclose(matrix**2, g**2 * np.exp(-mean / scale), rtol=1e-12, atol=0)


def test_eth_stress_through_the_model_gives_the_documented_variance():
    """Through ModelParams and solve: the mean |T_mn|^2 4D against exp(-(Ebar - E0)/T_E) in bins
    of the mean energy (a GOE off-diagonal variance 1/(4D))."""
    import manybody as mb
    scale = 0.5
    params = mb.ModelParams(n_tls=8, tls=None, random_matrix=mb.RandomMatrixParams(
        kind="exponential", weight=2.0, growth_temperature=scale),
        stress=mb.StressParams(distribution="none", random_matrix=1.0, random_matrix_kind="eth",
                               eth_energy_scale=scale))
    spectrum, stress = mb.solve(mb.draw_realisation(params, mb.realisation_rng(2, 0)))
    energies = spectrum.energies
    upper = np.triu_indices(energies.size, 1)
    mean = ((energies[:, None] + energies[None, :]) / 2 - energies[0])[upper]
    variance = stress[upper] ** 2 * 4 * energies.size
    for low in (0.8, 1.2, 1.6):   # >= 1000 pairs each: a relative error <= 0.05
        inside = (mean >= low) & (mean < low + 0.2)
        expected = np.mean(np.exp(-mean[inside] / scale))
        assert inside.sum() > 1000
        assert abs(variance[inside].mean() / expected - 1) < 0.15


def test_a_hard_core_beyond_the_box_is_refused_and_a_large_one_warned_about():
    """min_distance = 5 r0 at N = 8 (farthest pair 1.73 r0) held every pair: the dipolar model
    became uniform all-to-all couplings without a word (a new user, session 35)."""
    import warnings

    from manybody.config.model import CouplingParams, ModelParams

    def model(n, d):
        return ModelParams(n_tls=n, coupling=CouplingParams(kind="dipolar", strength=0.01,
                                                            min_distance=d))

    with pytest.raises(ValueError, match=r"coupling.min_distance = 5 r0 reaches the largest "
                                         r"distance two of 8 TLS can have"):
        model(8, 5.0)
    with pytest.warns(UserWarning, match=r"holds about \d+% of the pairs of 8 TLS"):
        model(8, 0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model(8, 0.2)
        model(16, 0.2)
