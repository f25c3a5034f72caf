"""Parameters whose values change nothing, given the others, are warned about once per sweep
(manybody.config.unused; testers of sessions 24-25 set them and believed something changed)."""

from __future__ import annotations

import copy
import tomllib
import warnings
from pathlib import Path

import numpy as np
import pytest

from manybody.config.model import (
    CouplingParams,
    ModelParams,
    RandomMatrixParams,
    StressParams,
)
from manybody.config.probe import Probe, SaturationDrive
from manybody.config.solver import ChebyshevParams, SolverParams
from manybody.config.unused import unused_parameters
from manybody.runs.spec import RunSpec, preflight
from manybody.runs.sweep import run_sweep

ROOT = Path(__file__).resolve().parents[1]
PROBE = Probe(frequencies=(0.1,), temperatures=(0.05, 0.1))


def keys(model, probe=None, solver=None) -> list[str]:
    return [key for key, _, _ in unused_parameters(model, probe, solver)]


def test_dipolar_options_with_gaussian_couplings_are_unused_and_used_with_dipolar():
    given = dict(strength=0.01, min_distance=0.5, orientation="gaussian")
    gaussian = ModelParams(n_tls=4, coupling=CouplingParams(kind="gaussian", **given))
    dipolar = ModelParams(n_tls=4, coupling=CouplingParams(kind="dipolar", **given))
    assert keys(gaussian) == ["model.coupling.min_distance", "model.coupling.orientation"]
    assert keys(dipolar) == []
    # the defaults were not given: nothing to say
    assert keys(ModelParams(n_tls=4, coupling=CouplingParams(kind="gaussian"))) == []


@pytest.mark.parametrize(("kind", "expected"), [
    ("goe", ["model.random_matrix.growth_temperature", "model.random_matrix.level_statistics"]),
    ("flat", ["model.random_matrix.growth_temperature"]),
    ("exponential", []),
])
def test_random_matrix_options_unused_by_its_kind(kind, expected):
    block = RandomMatrixParams(kind=kind, weight=1.0, growth_temperature=0.3,
                               level_statistics="poisson")
    assert keys(ModelParams(n_tls=3, random_matrix=block)) == expected


def test_random_matrix_stress_options_without_that_stress():
    none = StressParams(random_matrix_kind="eth", eth_energy_scale=0.5)
    assert keys(ModelParams(n_tls=3, stress=none)) == ["model.stress.random_matrix_kind",
                                                       "model.stress.eth_energy_scale"]
    goe = StressParams(random_matrix=1.0, eth_energy_scale=0.5)
    assert keys(ModelParams(n_tls=3, stress=goe)) == ["model.stress.eth_energy_scale"]
    eth = StressParams(random_matrix=1.0, random_matrix_kind="eth", eth_energy_scale=0.5)
    block = RandomMatrixParams(kind="flat")
    assert keys(ModelParams(n_tls=3, random_matrix=block, stress=eth)) == []


def test_phonon_bath_without_an_observable_that_uses_it():
    model = ModelParams(n_tls=3)
    bath = dict(frequencies=(0.1,), temperatures=(0.05,), phonon_rate_prefactor="a-SiO2")
    assert keys(model, Probe(**bath)) == ["probe.phonon_rate_prefactor"]
    assert keys(model, Probe(**bath, observables=("relaxation_absorption",))) == []
    drive = SaturationDrive(amplitudes=(0.0, 1e-6), dephasing_rate=1e9)
    assert keys(model, Probe(**bath, observables=("saturation",), saturation=drive)) == []


def test_chebyshev_options_unused_by_the_method_or_by_each_other():
    # D = 256: a stochastic trace (at D = 8 the solver takes the exact trace, where every vector
    # option is unused: tests/test_run_faults_s56.py)
    model = ModelParams(n_tls=8)
    dense = SolverParams(method="dense", chebyshev={"n_vectors": 16, "dtype": "float32"})
    # n_vectors differs from its default; dtype = float32 equals the stochastic trace's default
    # but was given (its default is None, so a given value can be told; bt217 F7): reported
    assert keys(model, PROBE, dense) == ["solver.chebyshev.n_vectors", "solver.chebyshev.dtype"]
    assert keys(model, PROBE, SolverParams(method="dense", chebyshev={"n_vectors": 16})) == [
        "solver.chebyshev.n_vectors"]
    fixed = SolverParams(method="chebyshev", chebyshev={"n_moments": 256, "max_moments": 512})
    assert keys(model, PROBE, fixed) == ["solver.chebyshev.max_moments"]
    capped = SolverParams(method="chebyshev", chebyshev={"max_vectors": 100})
    assert keys(model, PROBE, capped) == ["solver.chebyshev.max_vectors"]
    targeted = SolverParams(method="chebyshev",
                            chebyshev={"max_vectors": 100, "target_error": 0.05})
    assert keys(model, PROBE, targeted) == []
    exact = SolverParams(method="chebyshev", chebyshev={"trace": "exact", "n_vectors": 4})
    assert keys(model, PROBE, exact) == ["solver.chebyshev.n_vectors"]
    # max_rungs caps the automatic ladder only; ladder_ratio still bounds an explicit one
    explicit = SolverParams(method="chebyshev", chebyshev={"ladder": [0.2, 0.1], "max_rungs": 3,
                                                           "ladder_ratio": 3.0})
    assert keys(model, PROBE, explicit) == ["solver.chebyshev.max_rungs"]
    automatic = SolverParams(method="chebyshev", chebyshev={"max_rungs": 3})
    assert keys(model, PROBE, automatic) == []
    # a ChebyshevParams object: max_vectors computed from n_vectors was not given
    derived = SolverParams(method="chebyshev", chebyshev=ChebyshevParams(n_vectors=32))
    assert derived.chebyshev.max_vectors == 128
    assert keys(model, PROBE, derived) == []


SWEEP = """\
name = "unused"
seed = 1
realisations = 1
[model]
n_tls = 3
[model.coupling]
kind = "gaussian"
strength = 0.01
[sweep]
"model.coupling.min_distance" = [0.5, 1.0]
"model.coupling.strength" = [0.01, 0.02]
[probe]
frequencies = [0.1]
temperatures = [0.05, 0.1]
phonon_rate_prefactor = 30.0
"""


def test_preflight_warns_once_per_parameter_with_its_values_over_the_sweep():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        preflight(RunSpec.from_dict(tomllib.loads(SWEEP)))
    messages = [str(w.message) for w in caught if "has no effect" in str(w.message)]
    assert messages == [
        "model.coupling.min_distance = 0.5, 1.0 has no effect: only dipolar couplings have distances "
        "and orientation factors (model.coupling.kind = 'gaussian' draws K_ij ~ N(0, J0^2))",
        "probe.phonon_rate_prefactor = 30.0 has no effect: only the observables relaxation_absorption, "
        "relaxation_velocity_shift, saturation use the phonon bath, and probe.observables names "
        "none of them"]


def test_a_refused_point_is_reported_without_unused_parameter_warnings():
    data = tomllib.loads(SWEEP)
    data["model"]["n_tls"] = 1  # no level spacings at N = 1: refused at every point
    data["probe"]["observables"] = ["spacing_ratio"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="spacing_ratio"):
            preflight(RunSpec.from_dict(data))
    assert not [w for w in caught if "has no effect" in str(w.message)]


@pytest.mark.parametrize("path", sorted(
    [*(ROOT / "manybody" / "study" / "specs").glob("*.toml"), *(ROOT / "examples").glob("*.toml")]),
    ids=lambda p: p.name)
def test_shipped_specs_give_no_value_that_changes_nothing(path):
    spec = RunSpec.from_toml(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        preflight(spec)
    unused = [str(w.message) for w in caught if "has no effect" in str(w.message)]
    assert not unused, f"{path.name}: {unused}"


@pytest.mark.parametrize(("sweep", "base", "warned"), [
    # used at one point of the sweep: no warning (a reviewer, session 26)
    ({"model.random_matrix.kind": ["exponential", "flat"]},
     {"random_matrix": {"kind": "flat", "weight": 1.0, "growth_temperature": 2.0}}, []),
    ({"model.coupling.kind": ["gaussian", "dipolar"]},
     {"coupling": {"kind": "gaussian", "strength": 0.01, "min_distance": 0.5}}, []),
    ({"model.coupling.strength": [0.0, 0.01]},
     {"coupling": {"kind": "dipolar", "strength": 0.0, "min_distance": 0.5}}, []),
    # unused at every point: warned (also when one point has the default value)
    ({"model.coupling.min_distance": [0.0, 0.5, 1.0]},
     {"coupling": {"kind": "gaussian", "strength": 0.01}}, ["model.coupling.min_distance"]),
    ({"model.coupling.strength": [0.01, 0.02]},
     {"coupling": {"kind": "gaussian", "strength": 0.01, "min_distance": 0.5}},
     ["model.coupling.min_distance"]),
    # at J0 = 0 the kind and orientation still decide the random stream of later draws (here
    # the random signs of the deformation potentials) ...
    ({"model.n_tls": [2, 3]},
     {"coupling": {"kind": "dipolar", "strength": 0.0, "orientation": "gaussian"},
      "stress": {"distribution": "random_sign"}}, []),
    # ... and without later draws they change nothing (session 37)
    ({"model.n_tls": [2, 3]},
     {"coupling": {"kind": "dipolar", "strength": 0.0, "orientation": "gaussian"},
      "stress": {"distribution": "fixed"}}, ["model.coupling.kind", "model.coupling.orientation"]),
])
def test_a_value_is_warned_about_only_where_it_changes_nothing_at_every_point(sweep, base,
                                                                              warned):
    data = tomllib.loads(SWEEP)
    data["model"] = {"n_tls": 3, **base}
    data["sweep"] = sweep
    data["probe"].pop("phonon_rate_prefactor")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        preflight(RunSpec.from_dict(data))
    keys = [str(w.message).split(" = ")[0] for w in caught if "has no effect" in str(w.message)]
    assert keys == warned


def test_kernel_and_stress_options_no_observable_uses_and_the_resolution_under_dense_ed():
    model = ModelParams(n_tls=3, stress=StressParams(deformation_potential=2.0))
    heat = Probe(frequencies=(0.1,), temperatures=(0.05,), observables=("specific_heat",),
                 broadening=__import__("manybody.config.probe", fromlist=["Broadening"])
                 .Broadening(width=0.02, resolution=20))
    assert keys(model, heat) == ["probe.broadening.width", "probe.broadening.resolution",
                                 "model.stress.deformation_potential"]
    absorbing = Probe(frequencies=(0.1,), temperatures=(0.05,), observables=("absorption",),
                      broadening=heat.broadening)
    # gamma only scales T, and absorption is normalised by gamma^2 (under dense ED; the
    # Chebyshev solver's truncation is not scale-free); the resolution is unused by both solvers
    assert keys(model, absorbing, SolverParams(method="dense")) == [
        "probe.broadening.resolution", "model.stress.deformation_potential"]
    assert keys(model, absorbing, SolverParams(method="chebyshev")) == [
        "probe.broadening.resolution"]
    # "auto" resolved to dense: the Chebyshev options are unused there
    auto = SolverParams(method="auto", chebyshev={"n_vectors": 16})
    assert keys(model, absorbing, auto) == []
    assert "solver.chebyshev.n_vectors" in [
        k for k, _, _ in unused_parameters(model, absorbing, auto, "dense")]


# -- every warning is true: computed with both values, the results are the same (session 27) --

BASE = {"n_tls": 4, "tls": {"asymmetry_max": 0.3, "tunnelling_min": 1e-3, "tunnelling_max": 0.3}}


def _spec(model: dict, observables: list[str], solver: dict | None = None,
          probe: dict | None = None) -> RunSpec:
    data = {"name": "unused", "seed": 3, "realisations": 2, "model": {**BASE, **model},
            "probe": {"frequencies": [0.1], "temperatures": [0.05, 0.1],
                      "observables": observables, **(probe or {})}}
    if solver is not None:
        data["solver"] = solver
    return RunSpec.from_dict(data)


def _warned(spec: RunSpec) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        preflight(spec)
    return [str(w.message).split(" = ")[0] for w in caught if "has no effect" in str(w.message)]


def _computed(spec: RunSpec) -> dict[str, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = run_sweep(spec)
    return {name: ds[name].values for name in ds.data_vars}


def _set(tree: dict, key: str, value) -> dict:
    """A copy of ``tree`` with the dotted ``key`` set to ``value``."""
    out = copy.deepcopy(tree)
    *path, last = key.split(".")
    node = out
    for part in path:
        node = node.setdefault(part, {})
    node[last] = value
    return out


GOE = {"random_matrix": {"kind": "goe", "weight": 0.1}}
ZERO_BLOCK = {"random_matrix": {"kind": "exponential", "weight": 0.0, "growth_temperature": 0.05,
                                "level_statistics": "poisson"}}
ETH = {"random_matrix": {"kind": "flat", "weight": 0.0, "level_statistics": "poisson"},
       "stress": {"random_matrix": 0.5, "random_matrix_kind": "eth"}}
ABSORB = ["absorption", "velocity_shift"]
HEAT = ["spacing_ratio", "specific_heat"]

#: (model, observables, solver, probe, warned key, the other value (model./probe. keys))
WARNED = {
    "dipolar options, gaussian couplings": (
        {"coupling": {"kind": "gaussian", "strength": 0.02, "min_distance": 0.5}}, ABSORB, None,
        None, "model.coupling.min_distance", "model.coupling.min_distance", 0.0),
    "growth temperature of a GOE block": (
        {"random_matrix": {"kind": "goe", "weight": 0.1, "growth_temperature": 0.3}}, ABSORB,
        None, None, "model.random_matrix.growth_temperature", "model.random_matrix.growth_temperature",
        1.0),
    "kernel width, no kernel observable": (
        {}, HEAT, None, {"broadening": {"width": 0.03}}, "probe.broadening.width",
        "probe.broadening.width", 0.01),
    "resolution under dense ED": (
        {}, ABSORB, {"method": "dense"}, {"broadening": {"resolution": 40}},
        "probe.broadening.resolution", "probe.broadening.resolution", 4),
    "resolution under the Chebyshev solver": (
        {}, ["absorption"], {"method": "chebyshev"}, {"broadening": {"resolution": 40}},
        "probe.broadening.resolution", "probe.broadening.resolution", 4),
    "stress distribution without a random block": (
        {"stress": {"distribution": "random_sign"}}, HEAT, None, None, "model.stress.distribution",
        "model.stress.distribution", "fixed"),
    "stress random matrix, drawn after the block": (
        {**GOE, "stress": {"random_matrix": 0.5}}, HEAT, None, None, "model.stress.random_matrix",
        "model.stress.random_matrix", 0.0),
    "kind of a block of weight 0": (
        ZERO_BLOCK, [*ABSORB, *HEAT], None, None, "model.random_matrix.kind",
        "model.random_matrix.kind", "goe"),
    "growth temperature of a block of weight 0": (
        ZERO_BLOCK, [*ABSORB, *HEAT], None, None, "model.random_matrix.growth_temperature",
        "model.random_matrix.growth_temperature", 3.0),
    "level statistics of a block of weight 0": (
        ZERO_BLOCK, [*ABSORB, *HEAT], None, None, "model.random_matrix.level_statistics",
        "model.random_matrix.level_statistics", "goe"),
    "kind of a block of weight 0 under an eth stress": (
        ETH, ABSORB, None, None, "model.random_matrix.kind", "model.random_matrix.kind",
        "exponential"),
    "gamma, fixed distribution, absorption and velocity": (
        {"stress": {"deformation_potential": 7.0}}, ABSORB, None, None,
        "model.stress.deformation_potential", "model.stress.deformation_potential", 1.0),
    "gamma, gaussian distribution, absorption": (
        {"stress": {"deformation_potential": 0.01, "distribution": "gaussian"}}, ["absorption"],
        {"method": "dense"}, None, "model.stress.deformation_potential",
        "model.stress.deformation_potential", 30.0),
    # session 56 (helper-185): the relaxation and decomposition observables are normalised too
    "gamma, relaxation observables": (
        {"stress": {"deformation_potential": 2.0}},
        ["relaxation_absorption", "relaxation_velocity_shift"], {"method": "dense"},
        {"phonon_rate_prefactor": "a-SiO2"}, "model.stress.deformation_potential",
        "model.stress.deformation_potential", 1.0),
    "gamma, decomposition observables": (
        {"stress": {"deformation_potential": 2.0}},
        ["configuration_bath_absorption", "configuration_bath_absorption_infinite",
         "single_tls_fraction"], {"method": "dense"}, None,
        "model.stress.deformation_potential", "model.stress.deformation_potential", 1.0),
    "two-body stress of one TLS": (
        {"n_tls": 1, "stress": {"two_body": 0.5}}, ABSORB, None, None, "model.stress.two_body",
        "model.stress.two_body", 0.0),
    # session 57 (bt190): what is drawn after the couplings must reach an observable
    "kind of couplings at strength 0 beside a block of weight 0": (
        {"coupling": {"kind": "dipolar", "strength": 0.0}, **ZERO_BLOCK}, ABSORB, None, None,
        "model.coupling.kind", "model.coupling.kind", "gaussian"),
    "kind of couplings at strength 0 beside a random-matrix stress, heat capacity only": (
        {"coupling": {"kind": "dipolar", "strength": 0.0}, "stress": {"random_matrix": 0.1}},
        HEAT, None, None, "model.coupling.kind", "model.coupling.kind", "gaussian"),
    "kind of couplings at strength 0 beside random deformation potentials, heat capacity only": (
        {"coupling": {"kind": "dipolar", "strength": 0.0}, "stress": {"distribution": "gaussian"}},
        HEAT, None, None, "model.coupling.kind", "model.coupling.kind", "gaussian"),
    "gamma, random signs, with the heat capacity": (
        {"stress": {"deformation_potential": 7.0, "distribution": "random_sign"}},
        [*ABSORB, "specific_heat"], None, None, "model.stress.deformation_potential",
        "model.stress.deformation_potential", 1.0),
}


@pytest.mark.parametrize("case", sorted(WARNED))
def test_a_warned_value_changes_nothing_when_computed(case):
    model, observables, solver, probe, key, where, other = WARNED[case]
    spec = _spec(model, observables, solver, probe)
    assert key in _warned(spec)
    section, rest = where.split(".", 1)
    changed = _spec(*((_set(model, rest, other), observables, solver, probe) if section == "model"
                      else (model, observables, solver, _set(probe or {}, rest, other))))
    first, second = _computed(spec), _computed(changed)
    assert first.keys() == second.keys()
    for name in first:  # gamma scales T: the same to rounding
        np.testing.assert_allclose(second[name], first[name], rtol=1e-9, atol=1e-12,
                                   err_msg=f"{case}: {name}")


#: (model, observables, key not warned, the other value): each changes the results.
USED = {
    # the stress draws come before the block's seed: they change H (a reviewer, session 27)
    "stress distribution beside a GOE block": (
        {**GOE, "stress": {"distribution": "random_sign"}}, HEAT, "model.stress.distribution",
        "stress.distribution", "fixed"),
    "gaussian stress distribution beside a GOE block": (
        {**GOE, "stress": {"distribution": "gaussian"}}, HEAT, "model.stress.distribution",
        "stress.distribution", "random_sign"),
    "two-body stress beside a GOE block": (
        {**GOE, "stress": {"two_body": 0.5}}, HEAT, "model.stress.two_body", "stress.two_body", 0.0),
    "level statistics of a block of weight 0 under an eth stress": (
        ETH, ABSORB, "model.random_matrix.level_statistics", "random_matrix.level_statistics", "goe"),
    "gamma beside a two-body stress": (
        {"stress": {"deformation_potential": 7.0, "two_body": 0.5}}, ABSORB,
        "model.stress.deformation_potential", "stress.deformation_potential", 1.0),
    "gamma with no linear stress (normalisation only)": (
        {"stress": {"deformation_potential": 7.0, "distribution": "none", "two_body": 0.5}},
        ABSORB, "model.stress.deformation_potential", "stress.deformation_potential", 1.0),
    # N = 5: at N = 4 the solver takes an exact trace, in float64 since session 53, where gamma
    # changes Q only at 2e-15 (the float32 stochastic trace here: 2.6e-5)
    "gamma under the Chebyshev solver (its truncation is not scale-free)": (
        {"n_tls": 5, "stress": {"deformation_potential": 0.01, "distribution": "gaussian"}},
        ["absorption"],
        "model.stress.deformation_potential", "stress.deformation_potential", 30.0,
        {"method": "chebyshev"}),
    # session 57: the draws after the couplings reach the absorption (random stress)
    "kind of couplings at strength 0 beside random deformation potentials": (
        {"coupling": {"kind": "dipolar", "strength": 0.0}, "stress": {"distribution": "gaussian"}},
        ABSORB, "model.coupling.kind", "coupling.kind", "gaussian"),
    "a block of weight 0.1": (
        {"random_matrix": {"kind": "exponential", "weight": 0.1, "growth_temperature": 0.05}},
        HEAT, "model.random_matrix.kind", "random_matrix.kind", "flat"),
}


@pytest.mark.parametrize("case", sorted(USED))
def test_a_value_not_warned_about_changes_the_results(case):
    model, observables, key, where, other, *solver = USED[case]
    solver = solver[0] if solver else None
    spec = _spec(model, observables, solver)
    assert key not in _warned(spec)
    first = _computed(spec)
    second = _computed(_spec(_set(model, where, other), observables, solver))
    assert any(not np.allclose(first[name], second[name], rtol=1e-9, atol=1e-12, equal_nan=True)
               for name in first), case


def test_coupling_shape_at_zero_strength_is_unused_unless_something_is_drawn_after_it():
    """A sweep of coupling.kind or coupling.orientation at strength 0 gave bit-identical points
    without a word (a tester, session 37). Unused then, unless random numbers are drawn after
    the couplings (their count changes those draws, hence the disorder): random deformation
    potentials, two-body stress, a random-matrix term or stress."""
    shape = dict(kind="dipolar", orientation="gaussian", min_distance=0.2)
    bare = ModelParams(n_tls=4, coupling=CouplingParams(strength=0.0, **shape))
    assert keys(bare) == ["model.coupling.kind", "model.coupling.orientation", "model.coupling.min_distance"]
    assert keys(ModelParams(n_tls=4, coupling=CouplingParams(strength=0.01, **shape))) == []
    for later in (dict(stress=StressParams(distribution="random_sign")),
                  dict(stress=StressParams(two_body=0.1)),
                  dict(stress=StressParams(random_matrix=0.1)),
                  dict(random_matrix=RandomMatrixParams(kind="goe", weight=0.1))):
        model = ModelParams(n_tls=4, coupling=CouplingParams(strength=0.0, **shape), **later)
        assert not [k for k in keys(model) if k.startswith("model.coupling.")], later


def test_the_unused_rule_at_zero_strength_holds_by_computing():
    """The rule checked against the draw itself: with nothing drawn after the couplings, every
    coupling shape at strength 0 gives the same realisation; with random signs after them it
    does not."""
    from manybody.simulation.ensembles import draw_realisation, realisation_rng

    def asymmetries_and_gamma(**stress):
        out = []
        for kind, orientation in (("gaussian", "uniform"), ("dipolar", "gaussian")):
            model = ModelParams(n_tls=4, coupling=CouplingParams(
                kind=kind, orientation=orientation, strength=0.0), stress=StressParams(**stress))
            real = draw_realisation(model, realisation_rng(3, 0))
            out.append(np.concatenate([real.asymmetry, real.deformation_potential]))
        return out

    same = asymmetries_and_gamma(distribution="fixed")
    np.testing.assert_array_equal(same[0], same[1])
    differ = asymmetries_and_gamma(distribution="random_sign")
    assert not np.array_equal(differ[0], differ[1])


@pytest.mark.parametrize(("edit", "expected"), [
    (("probe", "broadening", "width", 5000.0), "probe.broadening.width must be below 1000 K"),
    (("probe", "broadening", "kind", "gauss"), "probe.broadening.kind must be one of"),
    (("model", "tls", "tunnelling_min", 0.5),
     "model.tls.tunnelling_min must be < model.tls.tunnelling_max"),
    (("solver", "chebyshev", "n_vectors", 0), "solver.chebyshev.n_vectors must be"),
    (("model", None, "n_tls", 0), "model.n_tls must be an integer"),
])
def test_a_spec_error_names_the_key_of_the_file(edit, expected):
    """Spec errors dropped the section: 'broadening.width must be below 1000 K' for the file's
    probe.broadening.width, 'tls.tunnelling_max' for model.tls.tunnelling_max (session 37's
    note). Every name in the message is the key a spec writes, also at a sweep point."""
    section, table, key, value = edit
    data = {"seed": 1, "realisations": 2,
            "model": {"n_tls": 3, "tls": {"asymmetry_max": 0.3, "tunnelling_max": 0.3}},
            "probe": {"frequencies": [0.1], "temperatures": [0.05],
                      "broadening": {"width": 0.02}},
            "solver": {"method": "chebyshev", "chebyshev": {}}}
    target = data[section] if table is None else data[section][table]
    target[key] = value
    with pytest.raises((ValueError, TypeError)) as exc:
        RunSpec.from_dict(data)
    assert str(exc.value).startswith(expected), str(exc.value)


def test_a_sweep_point_error_names_the_key_of_the_file():
    data = tomllib.loads(SWEEP)
    data["sweep"] = {"probe.broadening.width": [0.02, 5000.0]}
    data["probe"]["broadening"] = {"width": 0.02}
    with pytest.raises(ValueError, match=r"^sweep point probe\.broadening\.width=5000(\.0)?: "
                                         r"probe\.broadening\.width must be below 1000 K"):
        RunSpec.from_dict(data)


def test_spec_keys_qualifies_class_names_only():
    from manybody.config.keys import spec_keys
    assert spec_keys("tls.asymmetry_max must be < tls.tunnelling_max (like the frequencies)") \
        == "model.tls.asymmetry_max must be < model.tls.tunnelling_max (like the frequencies)"
    assert spec_keys("frequencies must be > 0") == "probe.frequencies must be > 0"
    assert spec_keys("model.tls.x and probe.broadening.width, file independent_tls.toml") \
        == "model.tls.x and probe.broadening.width, file independent_tls.toml"
    assert spec_keys("the saturation. Then frequencies") == "the saturation. Then frequencies"
    # names with an underscore are qualified wherever they stand alone ("need
    # phonon_rate_prefactor" was left bare; a tester, session 38), not inside other names
    assert spec_keys("the saturation. Then n_tls") == "the saturation. Then model.n_tls"
    assert spec_keys("observables need phonon_rate_prefactor (K_ph)") \
        == "probe.observables need probe.phonon_rate_prefactor (K_ph)"
    assert spec_keys("equilibration (measurement_time) and matrix_element_bins.energy") \
        == ("equilibration (model.equilibration.measurement_time) and "
            "probe.matrix_element_bins.energy")
    assert spec_keys("n_tls_max, x.n_tls, 'n_tls', /tmp/n_tls.toml") \
        == "n_tls_max, x.n_tls, 'n_tls', /tmp/n_tls.toml"
    # the user's values and paths are kept as given (a tester, session 38)
    assert spec_keys("broadening.kind must be one of 'gaussian', got 'saturation.gaussian'") \
        == "probe.broadening.kind must be one of 'gaussian', got 'saturation.gaussian'"
    assert spec_keys('no file "data/tls.csv" nor /tmp/tls.toml') \
        == 'no file "data/tls.csv" nor /tmp/tls.toml'
