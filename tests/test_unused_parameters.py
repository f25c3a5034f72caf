"""Parameters whose values change nothing, given the others, are warned about once per sweep
(manybody.config.unused; testers of sessions 24-25 set them and believed something changed)."""

from __future__ import annotations

import tomllib
import warnings
from pathlib import Path

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

ROOT = Path(__file__).resolve().parents[1]
PROBE = Probe(frequencies=(0.1,), temperatures=(0.05, 0.1))


def keys(model, probe=None, solver=None) -> list[str]:
    return [key for key, _, _ in unused_parameters(model, probe, solver)]


def test_dipolar_options_with_gaussian_couplings_are_unused_and_used_with_dipolar():
    given = dict(strength=0.01, min_distance=0.5, orientation="gaussian")
    gaussian = ModelParams(n_tls=4, coupling=CouplingParams(kind="gaussian", **given))
    dipolar = ModelParams(n_tls=4, coupling=CouplingParams(kind="dipolar", **given))
    assert keys(gaussian) == ["coupling.min_distance", "coupling.orientation"]
    assert keys(dipolar) == []
    # the defaults were not given: nothing to say
    assert keys(ModelParams(n_tls=4, coupling=CouplingParams(kind="gaussian"))) == []


@pytest.mark.parametrize(("kind", "expected"), [
    ("goe", ["random_matrix.growth_temperature", "random_matrix.level_statistics"]),
    ("flat", ["random_matrix.growth_temperature"]),
    ("exponential", []),
])
def test_random_matrix_options_unused_by_its_kind(kind, expected):
    block = RandomMatrixParams(kind=kind, weight=1.0, growth_temperature=0.3,
                               level_statistics="poisson")
    assert keys(ModelParams(n_tls=3, random_matrix=block)) == expected


def test_random_matrix_stress_options_without_that_stress():
    none = StressParams(random_matrix_kind="eth", eth_energy_scale=0.5)
    assert keys(ModelParams(n_tls=3, stress=none)) == ["stress.random_matrix_kind",
                                                       "stress.eth_energy_scale"]
    goe = StressParams(random_matrix=1.0, eth_energy_scale=0.5)
    assert keys(ModelParams(n_tls=3, stress=goe)) == ["stress.eth_energy_scale"]
    eth = StressParams(random_matrix=1.0, random_matrix_kind="eth", eth_energy_scale=0.5)
    block = RandomMatrixParams(kind="flat")
    assert keys(ModelParams(n_tls=3, random_matrix=block, stress=eth)) == []


def test_phonon_bath_without_an_observable_that_uses_it():
    model = ModelParams(n_tls=3)
    bath = dict(frequencies=(0.1,), temperatures=(0.05,), phonon_rate_prefactor="a-SiO2")
    assert keys(model, Probe(**bath)) == ["phonon_rate_prefactor"]
    assert keys(model, Probe(**bath, observables=("relaxation_absorption",))) == []
    drive = SaturationDrive(amplitudes=(0.0, 1e-6), dephasing_rate=1e9)
    assert keys(model, Probe(**bath, observables=("saturation",), saturation=drive)) == []


def test_chebyshev_options_unused_by_the_method_or_by_each_other():
    model = ModelParams(n_tls=3)
    dense = SolverParams(method="dense", chebyshev={"n_vectors": 16, "dtype": "float32"})
    # n_vectors differs from its default; dtype = float32 is the default: not reported
    assert keys(model, PROBE, dense) == ["solver.chebyshev.n_vectors"]
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
        "coupling.min_distance = 0.5, 1.0 has no effect: only dipolar couplings have distances "
        "and orientation factors (coupling.kind = 'gaussian' draws K_ij ~ N(0, J0^2))",
        "phonon_rate_prefactor = 30.0 has no effect: only the observables relaxation_absorption, "
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
     {"coupling": {"kind": "gaussian", "strength": 0.01}}, ["coupling.min_distance"]),
    ({"model.coupling.strength": [0.01, 0.02]},
     {"coupling": {"kind": "gaussian", "strength": 0.01, "min_distance": 0.5}},
     ["coupling.min_distance"]),
    # at J0 = 0 the kind and orientation still decide the random stream of later draws
    ({"model.n_tls": [2, 3]},
     {"coupling": {"kind": "dipolar", "strength": 0.0, "orientation": "gaussian"}}, []),
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
                                 "stress.deformation_potential"]
    absorbing = Probe(frequencies=(0.1,), temperatures=(0.05,), observables=("absorption",),
                      broadening=heat.broadening)
    assert keys(model, absorbing, SolverParams(method="dense")) == [
        "probe.broadening.resolution"]
    assert keys(model, absorbing, SolverParams(method="chebyshev")) == []
    # "auto" resolved to dense: the Chebyshev options are unused there
    auto = SolverParams(method="auto", chebyshev={"n_vectors": 16})
    assert keys(model, absorbing, auto) == []
    assert "solver.chebyshev.n_vectors" in [
        k for k, _, _ in unused_parameters(model, absorbing, auto, "dense")]
