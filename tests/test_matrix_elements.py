"""|T_mn|^2 statistics as observables of a run: the probe's bins, the dense solver's sums, the
results file and the Chebyshev refusal."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from manybody.config.probe import MatrixElementBins, Probe
from manybody.config.solver import SolverParams
from manybody.runs.spec import RunSpec
from manybody.runs.sweep import run_sweep
from manybody.simulation import observe as pipeline
from manybody.simulation.ensembles import draw_realisation, realisation_rng
from manybody.simulation.observables.statistics import matrix_element_statistics
from manybody.simulation.solvers.dense import solve

OBSERVABLES = ["stress_squared_sum", "pair_count"]
ENERGY = [0.0, 0.1, 0.2, 0.4, 0.8]


def spec_dict() -> dict:
    return {
        "name": "me",
        "seed": 5,
        "realisations": 2,
        "model": {"n_tls": 3, "tls": {"asymmetry_max": 0.3, "tunnelling_min": 1e-3,
                                      "tunnelling_max": 0.3},
                  "stress": {"distribution": "random_sign"}},
        "probe": {"frequencies": [0.1], "temperatures": [0.1], "observables": list(OBSERVABLES),
                  "matrix_element_bins": {"energy": list(ENERGY),
                                          "frequency": {"min": 1e-3, "max": 1.0, "count": 6}}},
    }


def test_bins_parse_log_spaced_and_round_trip():
    spec = RunSpec.from_dict(spec_dict())
    bins = spec.probe.matrix_element_bins
    assert bins.energy == tuple(ENERGY)
    assert np.array_equal(bins.frequency, np.geomspace(1e-3, 1.0, 7))  # count = bins
    again = RunSpec.from_dict(spec.to_dict())
    assert again == spec and again.digest() == spec.digest()


def test_specs_without_bins_keep_their_dict():
    d = spec_dict()
    d["probe"] = {"frequencies": [0.1], "temperatures": [0.1]}
    assert "matrix_element_bins" not in RunSpec.from_dict(d).to_dict()["probe"]


@pytest.mark.parametrize(
    ("bins", "exc", "words"),
    [
        ({"energy": [0.0, 0.2, 0.1], "frequency": [0.01, 0.1]}, ValueError,
         ["matrix_element_bins.energy", "increasing"]),
        ({"energy": [-0.1, 0.2], "frequency": [0.01, 0.1]}, ValueError,
         ["matrix_element_bins.energy", ">= 0"]),
        ({"energy": [0.0, 0.2], "frequency": [-0.01, 0.1]}, ValueError,
         ["matrix_element_bins.frequency", "> 0"]),
        ({"energy": [0.0], "frequency": [0.01, 0.1]}, ValueError,
         ["matrix_element_bins.energy", "at least 2"]),
        ({"energy": [0.0, 0.2], "frequency": [0.01]}, ValueError,
         ["matrix_element_bins.frequency", "at least 2"]),
        ({"energy": "0 0.2", "frequency": [0.01, 0.1]}, TypeError, ["matrix_element_bins.energy"]),
        ({"energy": [0.0, "a"], "frequency": [0.01, 0.1]}, TypeError,
         ["matrix_element_bins.energy", "real numbers"]),
        ({"energy": [0.0, 0.2], "frequency": 0.1}, TypeError, ["matrix_element_bins.frequency"]),
        ({"energy": [0.0, 0.2], "frequency": {"min": 0.1, "max": 0.01, "count": 3}}, ValueError,
         ["matrix_element_bins.frequency", "min < max"]),
        ({"energy": [0.0, 0.2], "frequency": {"min": 0.01, "max": 0.1}}, ValueError,
         ["matrix_element_bins.frequency", "count"]),
        ({"energy": [0.0, 0.2]}, ValueError, ["matrix_element_bins", "frequency"]),
        ({"energy": [0.0, 0.2], "frequency": [0.01, 0.1], "omega": [1]}, ValueError,
         ["matrix_element_bins", "'omega'"]),
        ([0.0, 0.2], TypeError, ["matrix_element_bins"]),
    ],
)
def test_bad_bins_are_refused_by_name(bins, exc, words):
    d = spec_dict()
    d["probe"]["matrix_element_bins"] = bins
    with pytest.raises(exc) as info:
        RunSpec.from_dict(d)
    for word in words:
        assert word in str(info.value), str(info.value)


def test_bins_are_required_by_the_observables_and_refused_without_them():
    with pytest.raises(ValueError, match="need matrix_element_bins"):
        Probe(frequencies=(0.1,), temperatures=(0.1,), observables=("pair_count",))
    bins = MatrixElementBins(energy=(0.0, 1.0), frequency=(0.01, 1.0))
    with pytest.raises(ValueError, match="matrix_element_bins is only used by"):
        Probe(frequencies=(0.1,), temperatures=(0.1,), matrix_element_bins=bins)
    with pytest.raises(TypeError, match="matrix_element_bins must be a MatrixElementBins"):
        Probe(frequencies=(0.1,), temperatures=(0.1,), observables=("pair_count",),
              matrix_element_bins={"energy": [0, 1], "frequency": [0.01, 1]})


@pytest.mark.parametrize("method", ["chebyshev"])
def test_chebyshev_refuses_the_observables_up_front(method, tmp_path):
    spec = dataclasses.replace(RunSpec.from_dict(spec_dict()), solver=SolverParams(method=method))
    with pytest.raises(ValueError, match=r"stress_squared_sum.*need eigenstates.*'chebyshev'"):
        spec.check()
    with pytest.raises(ValueError, match="stress_squared_sum"):
        run_sweep(spec, tmp_path / "x.nc")
    assert not (tmp_path / "x.nc").exists()


def test_dense_sums_give_the_binned_mean():
    spec = RunSpec.from_dict(spec_dict())
    out = pipeline.observe(spec.model, spec.seed, 1, spec.probe, spec.solver)
    assert set(out) == set(OBSERVABLES)
    spectrum, elements = solve(draw_realisation(spec.model, realisation_rng(spec.seed, 1)))
    bins = spec.probe.matrix_element_bins
    stats = matrix_element_statistics(spectrum.energies, elements, np.asarray(bins.energy),
                                      np.asarray(bins.frequency))
    assert np.array_equal(out["pair_count"], stats["count"])
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(out["stress_squared_sum"] / out["pair_count"], stats["mean"],
                                   rtol=1e-14)
    assert 0 < out["pair_count"].sum() <= 2**3 * (2**3 - 1) // 2  # pairs with E_m > E_n in the bins


def test_results_file_has_the_variables_with_dims_units_and_bin_coordinates(tmp_path):
    spec = RunSpec.from_dict(spec_dict())
    ds = run_sweep(spec, tmp_path / "me.nc", n_jobs=1)
    assert ds["stress_squared_sum"].dims == ("realisation", "energy_bin", "frequency_bin")
    assert ds["pair_count"].dims == ("realisation", "energy_bin", "frequency_bin")
    assert ds["stress_squared_sum"].attrs["units"] == "K^2"
    assert ds["pair_count"].attrs["units"] == "1"
    assert ds["energy_bin"].attrs["units"] == "K" and ds["frequency_bin"].attrs["units"] == "K"
    np.testing.assert_allclose(ds["energy_bin"], [0.05, 0.15, 0.3, 0.6])
    edges = np.geomspace(1e-3, 1.0, 7)
    np.testing.assert_allclose(ds["frequency_bin"], np.sqrt(edges[1:] * edges[:-1]))
    assert np.array_equal(ds["frequency_bin_bounds"].values, np.stack([edges[:-1], edges[1:]], 1))
    assert np.array_equal(ds["energy_bin_bounds"].values[:, 1], ENERGY[1:])
    assert ds.attrs["spec_sha256"] == spec.digest()  # provenance like any run
