"""Equilibration on a measurement time (issue 16 item 5; docs/PHYSICS.md section 7.5): frozen slow
TLS as static fields. Limits (nothing frozen = the equilibrium model bit for bit; K = 0 = the sum
of independent active TLS), the reduction against exact ED in a conserved sector, the freezing
temperature against the relaxation observables' Jackle rate, the frozen populations, a constructed
case with a temperature-independent resonant density, reproducibility and bad input."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from manybody.config.model import EquilibrationParams, ModelParams
from manybody.config.probe import MatrixElementBins, Probe
from manybody.config.solver import SolverParams
from manybody.runs.spec import RunSpec, check_point
from manybody.runs.sweep import run_sweep
from manybody.simulation import equilibration as eq
from manybody.simulation.ensembles import (
    Realisation,
    absorption_normalisation,
    draw_realisation,
    realisation_rng,
)
from manybody.simulation.materials import AMORPHOUS_SIO2
from manybody.simulation.observables.absorption import absorption
from manybody.simulation.observables.relaxation import jackle_rate
from manybody.simulation.observe import observe
from manybody.simulation.operators import build_operators, pauli_sum_dense
from manybody.simulation.solvers import dense

K_PH = AMORPHOUS_SIO2.rate_prefactor
BASE = {"n_tls": 6, "tls": {"asymmetry_max": 0.3, "tunnelling_min": 0.001, "tunnelling_max": 0.3},
        "stress": {"distribution": "random_sign"}}
TEMPERATURES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5)


def model(measurement_time=None, coupling=0.01, **extra) -> ModelParams:
    d = {**BASE, "coupling": {"kind": "dipolar", "strength": coupling}, **extra}
    if measurement_time is not None:
        d["equilibration"] = {"measurement_time": measurement_time}
    return ModelParams.from_dict(d)


def probe(**changes) -> Probe:
    return Probe(**{"frequencies": (0.1, 0.05), "temperatures": TEMPERATURES, **changes})


# --- limits: nothing frozen ------------------------------------------------------------------


def test_nothing_frozen_is_the_equilibrium_model_bit_for_bit():
    bins = MatrixElementBins(energy=(0.0, 0.5, 2.0), frequency=(0.01, 0.1, 1.0))
    p = probe(observables=("absorption", "velocity_shift", "specific_heat", "spacing_ratio",
                           "stress_squared_sum", "pair_count"), matrix_element_bins=bins)
    for r in range(3):
        reference = observe(model(), 5, r, p)
        slow = observe(model(1e30), 5, r, p)
        assert list(slow) == list(reference)
        for name, value in reference.items():
            assert np.array_equal(slow[name], value), name
            assert slow[name].dtype == value.dtype


def test_measurement_time_sweep_with_no_freezing_equals_the_equilibrium_run():
    """Through a spec: the sweep key, a measurement time so long that nothing freezes."""
    base = {"name": "t", "seed": 3, "realisations": 2, "probe": {
        "frequencies": [0.1], "temperatures": list(TEMPERATURES),
        "observables": ["absorption", "velocity_shift", "specific_heat", "spacing_ratio"]}}
    plain = run_sweep(RunSpec.from_dict({**base, "model": {
        **BASE, "coupling": {"kind": "dipolar", "strength": 0.01}}}))
    swept = run_sweep(RunSpec.from_dict({**base, "model": {
        **BASE, "coupling": {"kind": "dipolar", "strength": 0.01}, "equilibration": {}},
        "sweep": {"model.equilibration.measurement_time": [1e30, 1e-4]}}))
    assert swept["equilibration_measurement_time"].attrs.get("units") == "s"
    for name in plain.data_vars:
        long = swept[name].sel(equilibration_measurement_time=1e30).values
        assert np.array_equal(long, plain[name].values), name
    short = swept["absorption"].sel(equilibration_measurement_time=1e-4).values
    assert not np.array_equal(short, plain["absorption"].values)


# --- the freezing protocol -------------------------------------------------------------------


@pytest.mark.parametrize("measurement_time", [1e-6, 1e-4, 1e-2, 1.0, 1e4])
def test_freezing_temperature_is_where_the_jackle_time_equals_the_measurement_time(
        measurement_time):
    real = draw_realisation(model(measurement_time, n_tls=12),
                            realisation_rng(1, 0))
    params = EquilibrationParams(measurement_time=measurement_time)
    t_f = eq.freezing_temperatures(real, params, 1.0)
    slow = t_f > 0
    for i in np.flatnonzero(slow):  # tau(T_f) = t_m with the relaxation observables' rate
        rate = jackle_rate(real.asymmetry[i:i + 1], real.tunnelling[i:i + 1], t_f[i], K_PH)[0]
        assert rate * measurement_time == pytest.approx(1.0, rel=1e-9)
    for i in np.flatnonzero(~slow):  # never frozen: faster than 1/t_m at T -> 0 already
        rate = jackle_rate(real.asymmetry[i:i + 1], real.tunnelling[i:i + 1], 1e-6, K_PH)[0]
        assert rate * measurement_time >= 1.0
    temperatures = np.geomspace(1e-3, 10.0, 40)
    masks = eq.frozen_masks(t_f, temperatures)
    rates = np.array([jackle_rate(real.asymmetry, real.tunnelling, t, K_PH) for t in temperatures])
    assert np.array_equal(masks, rates * measurement_time < 1.0)
    assert np.all(np.diff(masks.sum(axis=1)) <= 0)  # the frozen set shrinks on warming


def test_deformation_potential_scales_the_rate_as_in_the_relaxation_observables():
    real = Realisation.from_arrays(asymmetry=[0.1, 0.1], tunnelling=[0.01, 0.01],
                                   deformation_potential=[1.0, 2.0])
    t_f = eq.freezing_temperatures(real, EquilibrationParams(measurement_time=1e-4), 1.0)
    rate = jackle_rate([0.1], [0.01], t_f[1], 4.0 * K_PH)[0]  # (gamma_i / gamma)^2 = 4
    assert rate * 1e-4 == pytest.approx(1.0, rel=1e-9)
    assert t_f[1] < t_f[0]


def test_frozen_populations_are_the_single_tls_thermal_ones_at_freezing():
    eps, delta = np.array([0.2, -0.05, 0.0]), np.array([0.01, 0.02, 0.03])
    real = Realisation.from_arrays(asymmetry=eps, tunnelling=delta)
    t_f = np.array([0.1, 0.3, 0.2])
    rng = np.random.default_rng(0)
    n = 8000
    mean = np.mean([eq.frozen_configuration(real, t_f, rng) for _ in range(n)], axis=0)
    e = np.hypot(eps, delta)
    expected = -(eps / e) * np.tanh(e / (2 * t_f))
    assert np.all(np.abs(mean - expected) < 5 * np.sqrt((1 - expected**2) / n))


# --- the reduction: exact in a conserved sector ----------------------------------------------


def test_reduced_realisation_is_the_exact_sector_of_frozen_tls_without_tunnelling():
    """Frozen TLS with Delta = 0 and couplings that touch them only through s^z: s^z_j is
    conserved, and the sector s_j of the full H and T equals the reduced operators (+ const)."""
    rng = np.random.default_rng(4)
    n, frozen = 5, np.array([False, True, False, True, False])
    zz = rng.normal(0, 0.05, (n, n))
    zz = np.triu(zz, 1) + np.triu(zz, 1).T
    xx = np.triu(rng.normal(0, 0.05, (n, n)), 1) * np.outer(~frozen, ~frozen)
    xz = rng.normal(0, 0.05, (n, n)) * np.outer(~frozen, np.ones(n, bool))  # x on active only
    np.fill_diagonal(xz, 0.0)
    kt = np.triu(rng.normal(0, 0.3, (n, n)), 1)
    real = Realisation.from_arrays(
        asymmetry=rng.uniform(-0.3, 0.3, n), tunnelling=np.where(frozen, 0.0, 0.1),
        couplings={"zz": zz, "xx": xx + xx.T, "xz": xz, "zx": xz.T.copy()},
        deformation_potential=rng.choice([-1.0, 1.0], n), stress_coupling=kt + kt.T)
    configuration = np.array([1.0, -1.0, 1.0, 1.0, -1.0])
    reduced = eq.reduce_realisation(real, frozen, configuration)
    h_full, t_full = build_operators(real, np.float64, dense=True)
    h_red, t_red = build_operators(reduced, np.float64, dense=True)
    sector = np.ones(2**n, bool)
    for j in np.flatnonzero(frozen):
        sz = np.diag(pauli_sum_dense(n, [("z", [[1.0, j]])]))
        sector &= sz == configuration[j]
    for full, red in ((h_full, h_red), (t_full.toarray(), t_red.toarray())):
        block = full[np.ix_(sector, sector)]
        shift = np.trace(block - red) / red.shape[0]
        np.testing.assert_allclose(block - shift * np.eye(red.shape[0]), red, atol=1e-13)


# --- limits: few active TLS ------------------------------------------------------------------


def test_uncoupled_absorption_is_the_sum_of_the_active_independent_tls():
    params = model(3e-5, coupling=0.0)
    p = probe(temperatures=np.geomspace(0.01, 1.0, 12))
    norm = absorption_normalisation(params)
    checked = 0
    for r in range(4):
        real = draw_realisation(params, realisation_rng(7, r))
        t_f = eq.freezing_temperatures(real, params.equilibration, 1.0)
        masks = eq.frozen_masks(t_f, p.temperatures)
        got = observe(params, 7, r, p)["absorption"]
        expected = np.zeros_like(got)
        for i in range(real.n_tls):
            one = Realisation.from_arrays(asymmetry=real.asymmetry[i:i + 1],
                                          tunnelling=real.tunnelling[i:i + 1],
                                          deformation_potential=real.deformation_potential[i:i + 1])
            spectrum, elements = dense.solve(one)
            q = absorption(spectrum, elements, p.frequencies, p.temperatures, p.broadening, norm)
            expected += np.where(masks[:, i:i + 1], 0.0, q)
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-14)
        checked += masks.any() and not masks.all()
    assert checked  # some realisation has a temperature-dependent mixture of frozen and active TLS


def test_one_resonant_active_tls_in_static_fields_has_a_temperature_independent_density():
    """Dipolar-like couplings; the slow TLS frozen over the whole range and the one fast TLS
    tuned to resonance in their static field: Q / tanh(w/2T) is constant to round-off, while the
    equilibrium model of the same realisation is not."""
    w, n = 0.1, 5
    rng = np.random.default_rng(2)
    zz = np.triu(rng.uniform(-0.02, 0.02, (n, n)), 1)
    tunnelling = np.array([0.08, 1e-3, 2e-3, 1e-3, 3e-3])
    asymmetry = np.array([0.0, 0.1, -0.2, 0.25, 0.15])
    params = EquilibrationParams(measurement_time=1e-4)
    draft = Realisation.from_arrays(asymmetry=asymmetry.copy(), tunnelling=tunnelling,
                                    couplings={"zz": zz + zz.T})
    t_f = eq.freezing_temperatures(draft, params, 1.0)
    temperatures = np.geomspace(0.02, 0.5, 9)
    assert t_f[0] == 0.0 and np.all(t_f[1:] > temperatures[-1])  # the active set is fixed
    s = eq.frozen_configuration(draft, t_f, np.random.default_rng(9))
    field = 2.0 * (zz + zz.T)[0] @ np.where(np.arange(n) > 0, s, 0.0)
    asymmetry[0] = np.sqrt(w**2 - tunnelling[0] ** 2) - field  # E'_0 = w in the static field
    real = Realisation.from_arrays(asymmetry=asymmetry, tunnelling=tunnelling,
                                   couplings={"zz": zz + zz.T})
    p = Probe(frequencies=(w,), temperatures=tuple(temperatures), observables=("absorption",))
    masks = eq.frozen_masks(eq.freezing_temperatures(real, params, 1.0), temperatures)
    calls = []

    def solve(part, what):
        calls.append(part.n_tls)
        spectrum, elements = dense.solve(part)
        return {"absorption": absorption(spectrum, elements, what.frequencies, what.temperatures,
                                         what.broadening, 1.0)}

    q = eq.observe_frozen(solve, real, p, masks, s, errors=False)["absorption"][:, 0]
    assert calls == [1]  # one group, one active TLS
    rho = q / np.tanh(w / (2 * temperatures))
    np.testing.assert_allclose(rho, rho[0], rtol=1e-12)
    q_eq = solve(real, p)["absorption"][:, 0]
    assert np.ptp(q_eq / np.tanh(w / (2 * temperatures))) > 1e-3 * rho[0]


# --- grouping and assembly -------------------------------------------------------------------


def test_one_solve_per_frozen_set_and_the_original_temperature_order():
    params = model(1e-3)
    real = draw_realisation(params, realisation_rng(2, 1))
    t_f = eq.freezing_temperatures(real, params.equilibration, 1.0)
    temperatures = np.sort(np.concatenate([t_f[t_f > 0] * 0.9, t_f[t_f > 0] * 1.1, [2.0]]))
    s = eq.frozen_configuration(real, t_f, eq.frozen_rng(2, 1))
    calls = []

    def solve(part, what):
        calls.append(part.n_tls)
        spectrum, elements = dense.solve(part)
        return {"absorption": absorption(spectrum, elements, what.frequencies, what.temperatures,
                                         what.broadening, 1.0),
                "spacing_ratio": np.asarray(float(part.n_tls))}

    p = Probe(frequencies=(0.1,), temperatures=tuple(temperatures),
              observables=("absorption", "spacing_ratio"))
    masks = eq.frozen_masks(t_f, temperatures)
    out = eq.observe_frozen(solve, real, p, masks, s, errors=False)
    groups = np.unique(masks, axis=0).shape[0]
    assert len(calls) == groups <= real.n_tls + 1
    assert out["spacing_ratio"] == real.n_tls  # from the full Hamiltonian (a group without freezing)
    shuffled = np.random.default_rng(0).permutation(temperatures.size)
    p2 = dataclasses.replace(p, temperatures=tuple(temperatures[shuffled]))
    out2 = eq.observe_frozen(solve, real, p2, masks[shuffled], s, errors=False)
    np.testing.assert_array_equal(out2["absorption"], out["absorption"][shuffled])


def test_everything_frozen_absorbs_nothing_and_keeps_the_hamiltonian_statistics():
    params = model(1e-9)
    p = probe()
    out = observe(params, 1, 0, p)
    assert not np.any(out["absorption"]) and not np.any(out["specific_heat"])
    assert out["spacing_ratio"] == observe(model(), 1, 0, p)["spacing_ratio"]


def _frozen_spec() -> RunSpec:
    return RunSpec.from_dict({"name": "t", "seed": 8, "realisations": 4, "model": {
        **BASE, "n_tls": 5, "coupling": {"kind": "dipolar", "strength": 0.01},
        "equilibration": {"measurement_time": 1e-3}},
        "probe": {"frequencies": [0.1], "temperatures": [0.02, 0.1, 0.3],
                  "observables": ["absorption", "specific_heat"]}})


def test_frozen_draws_depend_on_the_seed_and_realisation_only():
    """Each entry of a sweep is observe(seed, r) alone, whatever ran before it or the chunking;
    the frozen configuration comes from the realisation's own stream. (That a sweep of such
    tasks gives the same numbers for any worker count is tests/test_sweep.py's.)"""
    spec = _frozen_spec()
    whole = run_sweep(spec, n_jobs=1, chunk_size=4)
    for r in (3, 1):
        alone = observe(spec.model, 8, r, spec.probe)
        for name, value in alone.items():
            assert np.array_equal(whole[name].isel(realisation=r).values, value), name
    frac = eq.frozen_fraction(spec.model, 8, 4, [0.02, 0.1, 0.3])
    assert 0 < frac.mean() < 1
    assert np.array_equal(eq.frozen_fraction(spec.model, 8, 4, [0.02, 0.1, 0.3]), frac)


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "error"), [(-1.0, ValueError), (0.0, ValueError),
                                              ("1 ms", TypeError), (float("nan"), ValueError),
                                              (True, TypeError)])
def test_bad_measurement_time_names_the_parameter(value, error):
    with pytest.raises(error, match="measurement_time"):
        EquilibrationParams(measurement_time=value)


@pytest.mark.parametrize("value", ["glass", -3.0, 0.0])
def test_bad_bath_names_the_parameter(value):
    with pytest.raises(ValueError, match="equilibration.bath"):
        EquilibrationParams(bath=value)


def test_bath_as_a_rate_prefactor_and_unknown_keys():
    assert EquilibrationParams(bath=1e8).bath == 1e8
    with pytest.raises(ValueError, match="measurment_time"):
        ModelParams.from_dict({**BASE, "equilibration": {"measurment_time": 1.0}})


def test_refusals_random_matrix_no_linear_stress_relaxation_observables():
    with pytest.raises(ValueError, match="random-matrix"):
        ModelParams.from_dict({**BASE, "random_matrix": {"kind": "goe", "weight": 0.1},
                               "equilibration": {}})
    with pytest.raises(ValueError, match="random-matrix"):
        ModelParams.from_dict({**BASE, "stress": {"random_matrix": 0.1}, "equilibration": {}})
    with pytest.raises(ValueError, match="stress.distribution"):
        ModelParams.from_dict({**BASE, "stress": {"distribution": "none"}, "equilibration": {}})
    relax = probe(observables=("absorption", "relaxation_absorption"),
                  phonon_rate_prefactor="a-SiO2")
    with pytest.raises(ValueError, match="relaxation_absorption"):
        check_point(model(1.0), relax, SolverParams(method="dense"))
    with pytest.raises(ValueError, match="relaxation_absorption"):
        observe(model(1.0), 1, 0, relax)


def test_single_tls_fraction_is_undefined_where_every_tls_is_frozen():
    """A temperature group with every TLS frozen absorbs nothing: Q = 0 and the single-TLS
    fraction is NaN there (not 0, which would read as 'no single-TLS weight')."""
    from manybody.config.model import CouplingParams, EquilibrationParams, ModelParams
    from manybody.config.probe import Broadening, Probe
    from manybody.simulation.observe import observe

    params = ModelParams(n_tls=3, coupling=CouplingParams(kind="gaussian", strength=0.05),
                         equilibration=EquilibrationParams(measurement_time=1e-300))
    probe = Probe(frequencies=(0.1,), temperatures=(0.05, 0.1),
                  broadening=Broadening(width=0.02),
                  observables=("absorption", "single_tls_fraction"))
    out = observe(params, 1, 0, probe)
    assert np.all(out["absorption"] == 0.0)
    assert np.all(np.isnan(out["single_tls_fraction"]))
