"""The ``saturation`` observable in run specs: the probe's drive table, refusals up front, the dense
solver's values against the physics module, the results file, and the Chebyshev refusal."""

from __future__ import annotations

import copy
import dataclasses
import math

import numpy as np
import pytest

from manybody.config.probe import OBSERVABLE_DIMS, Probe, SaturationDrive
from manybody.config.solver import SolverParams
from manybody.runs.spec import RunSpec
from manybody.runs.sweep import run_sweep
from manybody.simulation import observe as pipeline
from manybody.simulation.ensembles import absorption_normalisation, draw_realisation, realisation_rng
from manybody.simulation.observables.saturation import saturated_absorption
from manybody.simulation.solvers.dense import solve

AMPLITUDES = [0.0, 1e-4, 1e-3]


def spec_dict() -> dict:
    return {
        "name": "sat",
        "seed": 3,
        "realisations": 2,
        "model": {"n_tls": 3, "tls": {"asymmetry_max": 1.0, "tunnelling_min": 1e-3,
                                      "tunnelling_max": 1.0},
                  "coupling": {"strength": 0.05}},
        "probe": {"frequencies": [0.5, 0.8], "temperatures": [0.2, 0.6],
                  "observables": ["saturation"], "phonon_rate_prefactor": 1e7,
                  "saturation": {"amplitudes": list(AMPLITUDES), "dephasing_rate": 3e9}},
    }


def test_drive_table_parses_and_round_trips():
    spec = RunSpec.from_dict(spec_dict())
    drive = spec.probe.saturation
    assert drive == SaturationDrive(amplitudes=tuple(AMPLITUDES), dephasing_rate=3e9)
    assert drive.line == "lorentzian"
    again = RunSpec.from_dict(spec.to_dict())
    assert again == spec and again.digest() == spec.digest()
    assert OBSERVABLE_DIMS["saturation"] == (("temperature", "frequency", "amplitude"), "pi*C0")


def test_specs_without_the_drive_keep_their_dict():
    d = spec_dict()
    del d["probe"]["saturation"]
    d["probe"]["observables"] = ["absorption"]
    assert "saturation" not in RunSpec.from_dict(d).to_dict()["probe"]


@pytest.mark.parametrize(("change", "words"), [
    ({"amplitudes": [1e-4, -1e-5]}, r"probe\.saturation\.amplitudes must be >= 0"),
    ({"amplitudes": [1e-4, math.nan]}, r"probe\.saturation\.amplitudes"),
    ({"amplitudes": [math.inf]}, r"probe\.saturation\.amplitudes"),
    ({"amplitudes": []}, r"probe\.saturation\.amplitudes"),
    ({"amplitudes": [1e-6, 1e-6]}, r"probe\.saturation\.amplitudes has repeated values"),
    ({"dephasing_rate": 0.0}, r"probe\.saturation\.dephasing_rate must be > 0.*Lorentzian"),
    ({"dephasing_rate": -1.0}, r"probe\.saturation\.dephasing_rate"),
    ({"line": "voigt"}, r"probe\.saturation\.line"),
    ({"power": 1.0}, r"unknown key\(s\) 'power' in probe\.saturation"),
])
def test_bad_drive_is_refused_with_the_parameter_named(change, words):
    d = copy.deepcopy(spec_dict())
    d["probe"]["saturation"].update(change)
    with pytest.raises((ValueError, TypeError), match=words):
        RunSpec.from_dict(d)


def test_gaussian_line_may_have_no_pure_dephasing():
    d = copy.deepcopy(spec_dict())
    d["probe"]["saturation"].update(dephasing_rate=0.0, line="gaussian")
    assert RunSpec.from_dict(d).probe.saturation.line == "gaussian"


def test_drive_without_phonon_bath_or_table_is_refused():
    d = copy.deepcopy(spec_dict())
    del d["probe"]["phonon_rate_prefactor"]
    with pytest.raises(ValueError, match="'saturation'.*phonon_rate_prefactor"):
        RunSpec.from_dict(d)
    d = copy.deepcopy(spec_dict())
    del d["probe"]["saturation"]
    with pytest.raises(ValueError, match=r"needs probe\.saturation"):
        RunSpec.from_dict(d)
    with pytest.raises(ValueError, match=r"probe\.saturation is only used"):
        Probe(frequencies=(0.5,), temperatures=(0.2,), observables=("absorption",),
              saturation=SaturationDrive(amplitudes=(1e-4,), dephasing_rate=1e9))


def test_chebyshev_refuses_the_observable_by_name(tmp_path):
    spec = dataclasses.replace(RunSpec.from_dict(spec_dict()),
                               solver=SolverParams(method="chebyshev"))
    with pytest.raises(ValueError, match=r"'saturation'.*need eigenstates"):
        spec.check()
    with pytest.raises(ValueError, match="saturation"):
        run_sweep(spec, tmp_path / "x.nc")
    assert not (tmp_path / "x.nc").exists()


def test_dense_pipeline_gives_the_physics_module_in_units_of_pi_c0():
    spec = RunSpec.from_dict(spec_dict())
    out = pipeline.observe(spec.model, spec.seed, 1, spec.probe, spec.solver)
    q = out["saturation"]
    assert q.shape == (2, 2, 3)
    spectrum, elements = solve(draw_realisation(spec.model, realisation_rng(spec.seed, 1)))
    norm = absorption_normalisation(spec.model)
    direct = saturated_absorption(spectrum.energies, elements, 0.8, 0.6, AMPLITUDES, 1e7,
                                  dephasing_rate=3e9, normalisation=norm,
                                  stress_scale=spec.model.stress.deformation_potential)
    np.testing.assert_allclose(q[1, 1], direct["absorption"], rtol=1e-12)
    assert np.all(q[..., 0] > 0)
    # the drive saturates: Q^-1 falls with the amplitude at every temperature and frequency
    assert np.all(np.diff(q, axis=-1) < 0) and np.all(q[..., -1] < 0.9 * q[..., 0])


def test_results_file_has_the_amplitude_axis(tmp_path):
    spec = RunSpec.from_dict(spec_dict())
    ds = run_sweep(spec, tmp_path / "sat.nc", n_jobs=1)
    assert ds["saturation"].dims == ("realisation", "temperature", "frequency", "amplitude")
    assert ds["saturation"].attrs["units"] == "pi*C0"
    np.testing.assert_array_equal(ds["amplitude"].values, AMPLITUDES)
    assert ds["amplitude"].attrs["units"] == "1"
    assert np.all(np.isfinite(ds["saturation"].values))


def test_equilibration_models_refuse_the_observable():
    d = copy.deepcopy(spec_dict())
    d["model"]["stress"] = {"distribution": "random_sign"}
    d["model"]["equilibration"] = {"measurement_time": 1e-3}
    spec = RunSpec.from_dict(d)
    with pytest.raises(ValueError, match=r"\['saturation'\] are not defined with model\.equilib"):
        spec.check()


def test_dephasing_rate_is_a_sweep_axis_and_each_point_is_validated():
    d = copy.deepcopy(spec_dict())
    d["sweep"] = {"probe.saturation.dephasing_rate": [1e9, 4e9]}
    spec = RunSpec.from_dict(d)
    assert spec.dims == ("saturation_dephasing_rate",)
    assert [spec.point((i,))[1].saturation.dephasing_rate for i in range(2)] == [1e9, 4e9]
    d["sweep"] = {"probe.saturation.dephasing_rate": [1e9, 0.0]}
    with pytest.raises(ValueError, match=r"dephasing_rate must be > 0"):
        RunSpec.from_dict(d)


def test_a_saturation_table_without_amplitudes_names_the_key():
    """[probe.saturation] without amplitudes gave Python's 'SaturationDrive.__init__() missing 1
    required keyword-only argument' (a tester, session 38): every table read with
    from_mapping names the required keys it lacks."""
    from manybody.runs.spec import probe_from_dict
    with pytest.raises(ValueError, match=r"^probe\.saturation\.amplitudes is required \(the keys "
                                         r"of probe\.saturation are amplitudes, dephasing_rate, "
                                         r"line\)$"):
        probe_from_dict({"frequencies": [0.1], "temperatures": [0.1],
                         "observables": ["saturation"], "phonon_rate_prefactor": "a-SiO2",
                         "saturation": {"dephasing_rate": 3e9}})
